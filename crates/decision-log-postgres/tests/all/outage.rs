//! A database that is away costs a bounded number of connection attempts: requests share one
//! reconnection at a time after a backoff, and the others fail at once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::mark;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tollgate_decision_log::{AuditError, AuditLog};
use tollgate_decision_log_postgres::PostgresLog;

/// A "database" that accepts connections, counts them and closes them at once.
struct Closing {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Closing {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopping) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        Self {
            port,
            accepted,
            stop,
        }
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn an_outage_costs_a_bounded_number_of_connection_attempts_and_every_append_fails() {
    const THREADS: usize = 8;
    /// At most one attempt per thread when the outage is met, then one at a time after a
    /// backoff from 100 ms doubling (about 6 in 2 s).
    const BOUND: usize = THREADS + 16;
    /// One connection per append (the behaviour this replaces) would exceed the bound 10 times.
    const APPENDS: usize = 10 * BOUND;

    let closing = Closing::start();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/log?sslmode=disable",
        closing.port
    );
    let log = AuditLog::from_store(Arc::new(PostgresLog::open(&url).unwrap()));
    let appends = Arc::new(AtomicUsize::new(0));
    let unreachable = Arc::new(AtomicUsize::new(0));
    // Appends for about two seconds, and at least APPENDS of them.
    let until = Instant::now() + Duration::from_secs(2);
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (log, appends, unreachable) =
                (log.clone(), Arc::clone(&appends), Arc::clone(&unreachable));
            std::thread::spawn(move || {
                let mut n = 0;
                while Instant::now() < until || appends.load(Ordering::SeqCst) < APPENDS {
                    let error = log.append(&mark(&format!("{thread}-{n}"))).unwrap_err();
                    assert!(matches!(error, AuditError::Database { .. }), "{error}");
                    if error.to_string().contains("unreachable") {
                        unreachable.fetch_add(1, Ordering::SeqCst);
                    }
                    appends.fetch_add(1, Ordering::SeqCst);
                    n += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let attempts = closing.accepted.load(Ordering::SeqCst);
    let appends = appends.load(Ordering::SeqCst);
    eprintln!("{appends} appends failed, {attempts} connection attempts");
    assert!(appends >= APPENDS);
    assert!(
        (1..=BOUND).contains(&attempts),
        "{attempts} connection attempts for {appends} appends"
    );
    assert!(
        unreachable.load(Ordering::SeqCst) >= appends - attempts,
        "the appends that did not try say the log is unreachable"
    );
}
