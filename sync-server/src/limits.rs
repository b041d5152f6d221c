//! The server's limits on what one client may cost it: time to send a request, requests in
//! progress at once, and enrollment attempts that fail.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a client may take to send a request's headers (and how long a kept-alive
/// connection may stay idle before its next request).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections open at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;
/// Sync exchanges being read or worked on at once; more wait their turn (this bounds the memory
/// requests take: each is at most `MAX_BODY_BYTES` on the wire and `MAX_MESSAGE_BYTES`
/// inflated).
pub const MAX_EXCHANGES: usize = 16;
/// Exports one server process makes at once (each reads every household of its villages).
pub const MAX_EXPORTS: usize = 2;
/// Failed enrollment attempts counted per client address, and in all, over this window.
pub const ENROLL_WINDOW: Duration = Duration::from_secs(600);
/// Failed enrollment attempts one client address may make in the window.
pub const ENROLL_FAILURES_PER_ADDRESS: usize = 20;
/// Failed enrollment attempts all clients together may make in the window.
pub const ENROLL_FAILURES_TOTAL: usize = 600;

/// How long failed console sign-ins are remembered.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed console sign-ins allowed per address in the window.
pub const SIGN_IN_FAILURES_PER_ADDRESS: usize = 10;
/// Failed console sign-ins allowed in all in the window (a town has few staff).
pub const SIGN_IN_FAILURES_TOTAL: usize = 100;

/// Counts failures per client address and in all over a sliding window, and says when a
/// client (or everyone) has had too many. Kept in each process's memory.
pub struct FailureLimiter {
    window: Duration,
    per_address: usize,
    total: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

fn forget_before(times: &mut VecDeque<Instant>, since: Instant) {
    while times.front().is_some_and(|t| *t < since) {
        times.pop_front();
    }
}

impl FailureLimiter {
    /// A limiter of `per_address` failures per address and `total` in all per `window`.
    pub fn new(window: Duration, per_address: usize, total: usize) -> FailureLimiter {
        FailureLimiter {
            window,
            per_address,
            total,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The limiter for enrollment attempts.
    pub fn enrollments() -> FailureLimiter {
        FailureLimiter::new(
            ENROLL_WINDOW,
            ENROLL_FAILURES_PER_ADDRESS,
            ENROLL_FAILURES_TOTAL,
        )
    }

    /// The limiter for console sign-ins.
    pub fn sign_ins() -> FailureLimiter {
        FailureLimiter::new(
            SIGN_IN_WINDOW,
            SIGN_IN_FAILURES_PER_ADDRESS,
            SIGN_IN_FAILURES_TOTAL,
        )
    }

    /// Whether `address` may try now (it, and everyone together, are under the limits).
    pub fn allows(&self, address: IpAddr, now: Instant) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let since = now.checked_sub(self.window).unwrap_or(now);
        forget_before(&mut seen.all, since);
        let mine = seen
            .by_address
            .get_mut(&address)
            .map(|times| {
                forget_before(times, since);
                times.len()
            })
            .unwrap_or(0);
        mine < self.per_address && seen.all.len() < self.total
    }

    /// Counts a failure of `address`.
    pub fn failed(&self, address: IpAddr, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let since = now.checked_sub(self.window).unwrap_or(now);
        if seen.by_address.len() > 100_000 {
            // Many addresses: keep only those still counting.
            seen.by_address.retain(|_, times| {
                forget_before(times, since);
                !times.is_empty()
            });
        }
        seen.by_address.entry(address).or_default().push_back(now);
        seen.all.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_address_and_in_all_over_the_window() {
        let limiter = FailureLimiter::new(Duration::from_secs(60), 3, 5);
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.allows(a, start));
            limiter.failed(a, start);
        }
        assert!(!limiter.allows(a, start), "a has had three failures");
        assert!(limiter.allows(b, start));
        limiter.failed(b, start);
        limiter.failed(b, start);
        assert!(!limiter.allows(c, start), "five failures in all");
        let later = start + Duration::from_secs(61);
        assert!(limiter.allows(a, later) && limiter.allows(c, later));
    }
}
