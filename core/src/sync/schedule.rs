//! When a phone syncs in the background: the one retry policy every shell follows. Local
//! changes go up as soon as there is a network; with nothing to send, the phone checks for
//! others' changes every [`SyncPolicy::interval`]; after failures it backs off (doubling from
//! [`SyncPolicy::first_backoff`] up to [`SyncPolicy::max_backoff`]) so a weak link is not
//! drained; a revoked or unknown phone stops until it enrolls again.

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::store::SyncStatus;

/// What the background sync should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SyncDecision {
    /// Sync now.
    Now,
    /// Wait until the network returns.
    WaitForNetwork,
    /// Ask again after `after_seconds`; `why` says why in Chinese.
    Later {
        /// How long to wait.
        after_seconds: u64,
        /// Why, for the sync screen.
        why: String,
    },
    /// Do not sync until the phone enrolls again.
    Stopped {
        /// The server's reason.
        why: String,
    },
}

/// The intervals of the background sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncPolicy {
    /// How often a phone with nothing to send checks for others' changes.
    pub interval: Duration,
    /// The wait after the first failure; it doubles with each further failure.
    pub first_backoff: Duration,
    /// The longest wait after failures.
    pub max_backoff: Duration,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            interval: Duration::from_secs(30 * 60),
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
        }
    }
}

impl SyncPolicy {
    /// Decides from the store's sync status, whether the phone has a network, and the time.
    pub fn decide(&self, status: &SyncStatus, connected: bool, now: DateTime<Utc>) -> SyncDecision {
        if let Some(why) = &status.blocked {
            return SyncDecision::Stopped { why: why.clone() };
        }
        if !connected {
            return SyncDecision::WaitForNetwork;
        }
        let wait_until = |since: DateTime<Utc>, wait: Duration, why: &str| {
            let due = since + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            match (due - now).to_std() {
                // Never longer than the wait itself: a clock set back must not hold sync off.
                Ok(left) if !left.is_zero() => SyncDecision::Later {
                    after_seconds: left.min(wait).as_secs().max(1),
                    why: why.to_string(),
                },
                _ => SyncDecision::Now,
            }
        };
        if let (1.., Some(failed_at)) = (status.failures_in_a_row, status.last_failure) {
            let wait = self.backoff(status.failures_in_a_row);
            return wait_until(failed_at, wait, "上次同步失败，稍后重试");
        }
        match status.last_success {
            Some(last) if status.pending_changes == 0 => {
                wait_until(last, self.interval, "没有待上传的修改，到时再取别人的修改")
            }
            _ => SyncDecision::Now,
        }
    }

    /// The wait after `failures` failed attempts in a row.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        (self.first_backoff * (1 << doublings)).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
    }

    fn status() -> SyncStatus {
        SyncStatus {
            last_success: Some(now() - chrono::Duration::minutes(5)),
            pending_changes: 0,
            pending_households: 0,
            rejected_households: 0,
            set_aside_households: 0,
            last_error: None,
            blocked: None,
            failures_in_a_row: 0,
            last_failure: None,
        }
    }

    fn later(seconds: u64, why: &str) -> SyncDecision {
        SyncDecision::Later {
            after_seconds: seconds,
            why: why.into(),
        }
    }

    #[test]
    fn local_changes_go_up_as_soon_as_there_is_a_network() {
        let policy = SyncPolicy::default();
        let pending = SyncStatus {
            pending_changes: 3,
            ..status()
        };
        assert_eq!(policy.decide(&pending, true, now()), SyncDecision::Now);
        assert_eq!(
            policy.decide(&pending, false, now()),
            SyncDecision::WaitForNetwork
        );
    }

    #[test]
    fn with_nothing_to_send_the_phone_checks_in_every_interval() {
        let policy = SyncPolicy::default();
        assert_eq!(
            policy.decide(&status(), true, now()),
            later(25 * 60, "没有待上传的修改，到时再取别人的修改")
        );
        let stale = SyncStatus {
            last_success: Some(now() - chrono::Duration::hours(1)),
            ..status()
        };
        assert_eq!(policy.decide(&stale, true, now()), SyncDecision::Now);
        let never = SyncStatus {
            last_success: None,
            ..status()
        };
        assert_eq!(policy.decide(&never, true, now()), SyncDecision::Now);
    }

    #[test]
    fn failures_back_off_doubling_up_to_the_limit() {
        let policy = SyncPolicy::default();
        let waits: Vec<u64> = (1..=8).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(policy.backoff(u32::MAX).as_secs(), 1800);
        let failed = SyncStatus {
            pending_changes: 2,
            failures_in_a_row: 2,
            last_failure: Some(now() - chrono::Duration::seconds(20)),
            ..status()
        };
        assert_eq!(
            policy.decide(&failed, true, now()),
            later(40, "上次同步失败，稍后重试")
        );
        let long_ago = SyncStatus {
            last_failure: Some(now() - chrono::Duration::minutes(5)),
            ..failed
        };
        assert_eq!(policy.decide(&long_ago, true, now()), SyncDecision::Now);
    }

    #[test]
    fn a_clock_set_back_does_not_hold_sync_off() {
        let policy = SyncPolicy::default();
        let from_the_future = SyncStatus {
            last_success: Some(now() + chrono::Duration::days(2)),
            failures_in_a_row: 1,
            last_failure: Some(now() + chrono::Duration::days(2)),
            ..status()
        };
        assert_eq!(
            policy.decide(&from_the_future, true, now()),
            later(30, "上次同步失败，稍后重试")
        );
        let succeeded_later = SyncStatus {
            failures_in_a_row: 0,
            last_failure: None,
            ..from_the_future
        };
        assert_eq!(
            policy.decide(&succeeded_later, true, now()),
            later(30 * 60, "没有待上传的修改，到时再取别人的修改")
        );
    }

    #[test]
    fn a_blocked_phone_stops_even_offline() {
        let policy = SyncPolicy::default();
        let blocked = SyncStatus {
            blocked: Some("本设备已被注销".into()),
            failures_in_a_row: 3,
            last_failure: Some(now()),
            ..status()
        };
        let stopped = SyncDecision::Stopped {
            why: "本设备已被注销".into(),
        };
        assert_eq!(policy.decide(&blocked, true, now()), stopped);
        assert_eq!(policy.decide(&blocked, false, now()), stopped);
    }
}
