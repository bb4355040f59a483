//! One reconnect attempt at a time, after an exponential backoff with full jitter, shared by every
//! request of a log: while the database is down, requests fail fast with the last connection
//! error instead of each opening a connection, so an outage costs a few attempts per second.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::ConnectError;

/// The backoff after the first failure; it doubles at each further failure.
const FIRST: Duration = Duration::from_millis(100);

/// The longest backoff.
const CAP: Duration = Duration::from_secs(10);

/// Whether new connections may be made, shared by all requests of one log.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Failed connection attempts in a row (0: healthy).
    failures: u32,
    /// No attempt before this instant.
    retry_at: Option<Instant>,
    /// A request is trying to connect on behalf of all.
    probing: bool,
    /// Why the last attempt failed.
    last_error: String,
}

/// The right to go to the pool; the outcome must be reported with [`Attempt::succeeded`] or
/// [`Attempt::failed`] (an attempt dropped without either lets the next request try).
#[derive(Debug)]
pub(crate) struct Attempt {
    backoff: Arc<Backoff>,
    probe: bool,
    settled: bool,
}

impl Backoff {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a request to the pool, or says why not: while connections fail, only one request
    /// at a time may try, and only once the backoff has passed.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Attempt, ConnectError> {
        let mut state = self.state();
        if state.failures == 0 {
            return Ok(Attempt {
                backoff: Arc::clone(self),
                probe: false,
                settled: false,
            });
        }
        if state.probing {
            return Err(ConnectError::Reconnecting {
                last: state.last_error.clone(),
            });
        }
        let now = Instant::now();
        if let Some(at) = state.retry_at.filter(|at| now < *at) {
            return Err(ConnectError::BackingOff {
                wait: at.duration_since(now),
                last: state.last_error.clone(),
            });
        }
        state.probing = true;
        Ok(Attempt {
            backoff: Arc::clone(self),
            probe: true,
            settled: false,
        })
    }
}

impl Attempt {
    /// A connection was had: the backoff is over.
    pub(crate) fn succeeded(mut self) {
        self.settled = true;
        let mut state = self.backoff.state();
        state.failures = 0;
        state.retry_at = None;
        state.probing = false;
    }

    /// Connecting failed: the next attempt waits a random time up to a bound that doubles at
    /// each failed reconnection (the requests that were connecting when the database went away
    /// count as one failure).
    pub(crate) fn failed(mut self, error: &str) {
        self.settled = true;
        let mut state = self.backoff.state();
        state.last_error = error.to_owned();
        if self.probe || state.failures == 0 {
            state.failures = state.failures.saturating_add(1);
            state.retry_at = Some(Instant::now() + jittered(state.failures));
            state.probing = false;
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            self.backoff.state().probing = false;
        }
    }
}

/// The bound after `failures` failures in a row: 100 ms, 200 ms, … up to 10 s.
fn bound(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST.saturating_mul(1 << doublings).min(CAP)
}

/// Full jitter: uniform in `[0, bound]`, so that processes that lost the database together do
/// not come back together. Without randomness, the bound itself.
fn jittered(failures: u32) -> Duration {
    let bound = bound(failures);
    let Ok(random) = getrandom::u64() else {
        return bound;
    };
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(random % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn the_bound_doubles_from_100_ms_to_10_s() {
        let bounds: Vec<u128> = (1..=9).map(|f| bound(f).as_millis()).collect();
        assert_eq!(
            bounds,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]
        );
        assert_eq!(bound(u32::MAX), CAP);
        assert!((1..100).all(|f| jittered(f) <= bound(f)));
    }

    #[test]
    fn while_one_request_reconnects_the_others_fail_fast_with_the_last_error() {
        let backoff = Arc::new(Backoff::default());
        let healthy = [backoff.admit().unwrap(), backoff.admit().unwrap()];
        let [first, second] = healthy;
        first.failed("connection refused");
        // An attempt that began before the failure still reports.
        second.failed("connection refused again");
        {
            let mut state = backoff.state();
            assert_eq!(state.failures, 1, "concurrent failures count once");
            state.retry_at = Some(Instant::now());
        }
        let probe = backoff.admit().unwrap();
        let refused = backoff.admit().unwrap_err().to_string();
        assert!(refused.contains("unreachable"), "{refused}");
        assert!(refused.contains("connection refused again"), "{refused}");
        // A probe dropped without an outcome lets the next request try.
        drop(probe);
        let probe = backoff.admit().unwrap();
        probe.failed("still refused");
        let waiting = backoff.admit().unwrap_err().to_string();
        assert!(
            waiting.contains("next connection attempt in") || waiting.contains("still refused"),
            "{waiting}"
        );
        backoff.state().retry_at = Some(Instant::now());
        backoff.admit().unwrap().succeeded();
        assert!(
            backoff.admit().is_ok() && backoff.admit().is_ok(),
            "healthy again"
        );
    }
}
