//! Calendar helpers. Dates people see are in China Standard Time (Asia/Shanghai, UTC+8, no
//! daylight saving since 1991). Device timestamps are only read by people and used for due
//! dates; nothing orders or merges by them.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// The Asia/Shanghai offset (UTC+8).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar date in Shanghai of a UTC instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&shanghai()).date_naive()
}

/// Milliseconds since the Unix epoch, as stored in documents.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The instant for stored milliseconds; out-of-range values clamp to the epoch.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The date `days` after `date`, saturating at the end of the calendar.
pub fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The first date on or after `from` that falls on `month`/`day` (29 February is kept on
/// 28 February in common years). `None` if month/day is not a calendar day at all.
pub fn next_yearly(from: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2000, month, day)?;
    let on_year = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, day - 1))
    };
    let this_year = on_year(from.year())?;
    if this_year >= from {
        Some(this_year)
    } else {
        on_year(from.year() + 1)
    }
}

/// A source of the current time: the device clock in the app, a fixed one in tests.
pub trait Clock: Send + Sync {
    /// The device's idea of now (may be wrong by years).
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same instant (tests, demo data, a device with a stuck clock).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shanghai_date_crosses_midnight_before_utc() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_date(at), d(2026, 3, 2));
    }

    #[test]
    fn yearly_dates() {
        assert_eq!(next_yearly(d(2026, 5, 1), 5, 1), Some(d(2026, 5, 1)));
        assert_eq!(next_yearly(d(2026, 5, 2), 5, 1), Some(d(2027, 5, 1)));
        assert_eq!(next_yearly(d(2026, 1, 1), 2, 29), Some(d(2026, 2, 28)));
        assert_eq!(next_yearly(d(2027, 12, 1), 2, 29), Some(d(2028, 2, 29)));
        assert_eq!(next_yearly(d(2026, 1, 1), 2, 30), None);
        assert_eq!(next_yearly(d(2026, 1, 1), 13, 1), None);
    }
}
