//! The server's limits on what one client may cost it: time to send a request, connections and
//! requests in progress at once, failures that must wait (back-off per address and per account
//! or device id, never one wall for everyone), and new households per device.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a client may take to send a request's headers (and how long a kept-alive
/// connection may stay idle before its next request).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a sync request's body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take to send an enrollment request's body (at most 4 KiB).
pub const ENROLL_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Enrollment requests checked at once; the next waits up to [`ENROLL_BODY_TIMEOUT`] for its
/// turn, then is refused (`503`).
pub const MAX_ENROLLMENTS: usize = 32;
/// How long a device's sync exchange waits for another exchange of the same device to end
/// before it is refused (`429`).
pub const DEVICE_TURN_WAIT: Duration = Duration::from_secs(10);
/// How long a console request may take in all, its form's body included.
pub const CONSOLE_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest console form body.
pub const MAX_CONSOLE_FORM_BYTES: usize = 64 * 1024;
/// Connections open at once; beyond it, the oldest that has shown no credential (a device's
/// token, a staff member's session) is closed for the next, or the next waits to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections one client address may hold open at once; more are closed as they arrive
/// (a trusted TLS front, which carries everyone's connections, is not counted).
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 32;
/// Sync exchanges being read or worked on at once; more wait their turn (this bounds the memory
/// requests take: each is at most `MAX_BODY_BYTES` on the wire and `MAX_MESSAGE_BYTES`
/// inflated). A device has at most one exchange under way; the next waits for it.
pub const MAX_EXCHANGES: usize = 16;
/// Exports one server process makes at once (each reads every household of its villages).
pub const MAX_EXPORTS: usize = 2;
/// New households one device may create per day (Beijing time); a village agent registers a
/// few a week.
pub const NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY: i64 = 200;

/// How failures of one key (an address, an account, a device id) make it wait: the first
/// `free` cost nothing, then each one doubles the wait from one second up to `max_wait`.
/// A key is forgotten once it has been quiet for `forget_after`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Failures before any wait.
    pub free: u32,
    /// The longest wait.
    pub max_wait: Duration,
    /// Quiet time after which a key's failures are forgotten.
    pub forget_after: Duration,
}

/// Failed enrollments per client address: 20 free, then up to 10 minutes between tries.
pub const ENROLL_PER_ADDRESS: Backoff = Backoff {
    free: 20,
    max_wait: Duration::from_secs(600),
    forget_after: Duration::from_secs(600),
};
/// Failed enrollments per device id: 5 free, then up to 10 minutes between tries.
pub const ENROLL_PER_DEVICE: Backoff = Backoff {
    free: 5,
    max_wait: Duration::from_secs(600),
    forget_after: Duration::from_secs(600),
};
/// Failed console sign-ins per client address: 10 free, then up to 15 minutes between tries.
pub const SIGN_IN_PER_ADDRESS: Backoff = Backoff {
    free: 10,
    max_wait: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(15 * 60),
};
/// Failed console sign-ins per account (whatever the address): 10 free, then up to one minute
/// between tries, so that a guesser gets one try a minute and the staff member waits at most a
/// minute.
pub const SIGN_IN_PER_ACCOUNT: Backoff = Backoff {
    free: 10,
    max_wait: Duration::from_secs(60),
    forget_after: Duration::from_secs(15 * 60),
};

/// Refusals of one unknown or revoked token audited: 10 free, then one at most every doubling
/// wait up to 10 minutes (the rest are answered `401` and only logged).
pub const REFUSED_TOKEN_AUDITS: Backoff = Backoff {
    free: 10,
    max_wait: Duration::from_secs(600),
    forget_after: Duration::from_secs(600),
};

/// Keys remembered per table before those gone quiet are dropped.
const MAX_KEYS: usize = 100_000;

/// One key's failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failures of keys of one kind, each waiting by its [`Backoff`]. Kept in each process's
/// memory.
pub struct FailureLimiter<K> {
    backoff: Backoff,
    seen: Mutex<HashMap<K, Failures>>,
}

impl Backoff {
    /// How long after its last failure a key with `count` failures must wait.
    fn wait(self, count: u32) -> Duration {
        match count.checked_sub(self.free) {
            None => Duration::ZERO,
            Some(over) => Duration::from_secs(1u64 << over.min(20)).min(self.max_wait),
        }
    }
}

impl<K: Eq + Hash + Clone> FailureLimiter<K> {
    /// A limiter with this back-off.
    pub fn new(backoff: Backoff) -> FailureLimiter<K> {
        FailureLimiter {
            backoff,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait before it may try again (`None`: it may try now).
    pub fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let failures = seen.get(key)?;
        let until = failures.last + self.backoff.wait(failures.count);
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Counts a failure of `key`. Memory stays bounded: beyond [`MAX_KEYS`] keys still counting, a new key is not recorded
    /// (the other kind of key, such as the address, still counts the failure).
    pub fn failed(&self, key: &K, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let forget = self.backoff.forget_after;
        if seen.len() >= MAX_KEYS && !seen.contains_key(key) {
            seen.retain(|_, f| now.saturating_duration_since(f.last) < forget);
            if seen.len() >= MAX_KEYS {
                return;
            }
        }
        let entry = seen.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= forget {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    /// Forgets `key`'s failures (after it succeeded).
    pub fn succeeded(&self, key: &K) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Failures counted twice: per client address and per the name tried (an account, a device
/// id). Either may make the client wait; neither makes everyone wait.
pub struct AttemptLimits {
    by_address: FailureLimiter<IpAddr>,
    by_name: FailureLimiter<String>,
}

impl AttemptLimits {
    /// Limits for enrollment: per address and per device id.
    pub fn enrollments() -> AttemptLimits {
        AttemptLimits::new(ENROLL_PER_ADDRESS, ENROLL_PER_DEVICE)
    }

    /// Limits for console sign-ins: per address and per account.
    pub fn sign_ins() -> AttemptLimits {
        AttemptLimits::new(SIGN_IN_PER_ADDRESS, SIGN_IN_PER_ACCOUNT)
    }

    fn new(address: Backoff, name: Backoff) -> AttemptLimits {
        AttemptLimits {
            by_address: FailureLimiter::new(address),
            by_name: FailureLimiter::new(name),
        }
    }

    /// How long `address` trying `name` must still wait (`None`: it may try now).
    pub fn wait(&self, address: IpAddr, name: &str, now: Instant) -> Option<Duration> {
        let by_address = self.by_address.wait(&address, now);
        let by_name = self.by_name.wait(&name.to_string(), now);
        by_address.max(by_name)
    }

    /// Counts a failure of `address` trying `name`.
    pub fn failed(&self, address: IpAddr, name: &str, now: Instant) {
        self.by_address.failed(&address, now);
        self.by_name.failed(&name.to_string(), now);
    }

    /// Forgets the failures of `name` (the right password or code was given).
    pub fn succeeded(&self, name: &str) {
        self.by_name.succeeded(&name.to_string());
    }
}

/// A wait as people read it in a refusal: seconds, or minutes rounded up.
pub fn wait_text(wait: Duration) -> String {
    match wait.as_secs() {
        s if s < 60 => format!("{}秒", s.max(1)),
        s => format!("{}分钟", s.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_per_key_and_are_forgotten() {
        let backoff = Backoff {
            free: 3,
            max_wait: Duration::from_secs(8),
            forget_after: Duration::from_secs(60),
        };
        let limiter = FailureLimiter::new(backoff);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.wait(&"a", start), None);
            limiter.failed(&"a", start);
        }
        assert_eq!(limiter.wait(&"a", start), Some(Duration::from_secs(1)));
        assert_eq!(limiter.wait(&"b", start), None, "others are not held back");
        let mut at = start;
        for _ in 0..10 {
            at += limiter.wait(&"a", at).unwrap_or_default();
            limiter.failed(&"a", at);
        }
        assert_eq!(
            limiter.wait(&"a", at),
            Some(Duration::from_secs(8)),
            "capped"
        );
        limiter.failed(&"a", at + Duration::from_secs(61));
        assert_eq!(
            limiter.wait(&"a", at + Duration::from_secs(61)),
            None,
            "a quiet key starts again"
        );
        limiter.succeeded(&"a");
        assert_eq!(limiter.wait(&"a", at), None);
    }

    #[test]
    fn a_full_table_keeps_counting_its_keys_and_records_no_new_one() {
        let limiter = FailureLimiter::new(SIGN_IN_PER_ACCOUNT);
        let now = Instant::now();
        for key in 0..MAX_KEYS {
            limiter.failed(&key, now);
        }
        limiter.failed(&MAX_KEYS, now);
        assert_eq!(limiter.seen.lock().unwrap().len(), MAX_KEYS);
        for _ in 0..SIGN_IN_PER_ACCOUNT.free {
            limiter.failed(&0, now);
        }
        assert!(limiter.wait(&0, now).is_some(), "a known key still counts");
        let later = now + SIGN_IN_PER_ACCOUNT.forget_after;
        limiter.failed(&MAX_KEYS, later);
        assert_eq!(
            limiter.seen.lock().unwrap().len(),
            1,
            "quiet keys are dropped"
        );
    }
}
