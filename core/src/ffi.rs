//! uniffi support (feature `uniffi`): how dates and instants cross the boundary. The API itself is in the `doorstep-ffi` crate.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};

/// A calendar date crosses as `YYYY-MM-DD` (Kotlin maps it to `java.time.LocalDate`; Swift keeps
/// the string). Not named `Date`: in Swift that would hide Foundation's `Date`, which instants use.
pub type CalendarDate = NaiveDate;

uniffi::custom_type!(CalendarDate, String, {
    remote,
    lower: |date| date.format("%Y-%m-%d").to_string(),
    try_lift: |text| Ok(NaiveDate::parse_from_str(&text, "%Y-%m-%d")?),
});

/// An instant crosses as a timestamp (`java.time.Instant` in Kotlin, `Date` in Swift).
pub type Instant = DateTime<Utc>;

uniffi::custom_type!(Instant, SystemTime, {
    remote,
    lower: |at| SystemTime::from(at),
    try_lift: |time| Ok(DateTime::<Utc>::from(time)),
});
