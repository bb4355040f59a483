//! The [`Gateway`]: what every request shares — the current policy set (swapped whole by a
//! reload), the evaluation slots and the overload bound, the request deadline, the metrics, the
//! tokens, the refusals not yet written, the marker — and how it is built.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tollgate_pipeline::{ErrorChain, Gate, Recorder};

use crate::access::{RefusalLimits, Refusals};
use crate::auth::{AccessLog, Tokens};
use crate::marks::Marker;
use crate::metrics::{self, Metrics};

/// The recorder of a gateway's gate.
pub type DynRecorder = Box<dyn Recorder>;

/// A freshly loaded policy set (and tokens, when authentication is on), from `--policy`,
/// `--settings`, `--waivers` and `--tokens` read again.
pub struct Reloaded {
    /// The gate of the new set.
    pub gate: Gate<DynRecorder>,
    /// The new tokens, if authentication is on.
    pub tokens: Option<Tokens>,
}

/// A failure of the host behind the gateway (loading a policy set, recording refusals), with its
/// causes; the gateway writes it whole ([`ErrorChain`]) into answers and logs.
pub type HostFailure = Box<dyn std::error::Error + Send + Sync>;

/// Loads the policy set afresh; an error says why the new set is refused.
pub type Reloader = Box<dyn Fn() -> Result<Reloaded, HostFailure> + Send + Sync>;

/// Why a reload did not swap in a new policy set (the old one keeps serving).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The gateway was built without a reloader.
    #[error("this gateway cannot reload")]
    Unavailable,
    /// The new set failed to load or validate.
    #[error(transparent)]
    Refused(HostFailure),
}

/// One loaded policy set: the gate and what the read-only routes show of it.
pub(crate) struct PolicySet {
    pub(crate) gate: Gate<DynRecorder>,
    /// Policy ids, in order.
    pub(crate) ids: Vec<String>,
    /// `GET /v1/policies` in Tollgate's own terms (kept inside OPA's answer).
    pub(crate) policies: Value,
    /// The policies and controls whose series `GET /metrics` exports from the start.
    pub(crate) declared: Vec<metrics::DeclaredPolicy>,
}

impl PolicySet {
    fn new(gate: Gate<DynRecorder>) -> Self {
        let policies = Value::Array(
            gate.pipeline()
                .policies()
                .map(|p| {
                    let m = p.metadata();
                    json!({
                        "id": m.id,
                        "framework": m.framework,
                        "version": m.version,
                        "description": m.description,
                        "digest": p.digest(),
                        "controls": m.controls,
                    })
                })
                .collect(),
        );
        let ids = gate
            .pipeline()
            .policies()
            .map(|p| p.metadata().id.clone())
            .collect();
        let declared = gate
            .pipeline()
            .policies()
            .map(|p| metrics::DeclaredPolicy {
                id: p.metadata().id.clone(),
                controls: p.metadata().controls.iter().map(|c| c.id.clone()).collect(),
            })
            .collect();
        Self {
            gate,
            ids,
            policies,
            declared,
        }
    }
}

/// How many admitted requests may wait for an evaluation slot, and how many bytes of manifest
/// they may hold between them; a request beyond either bound is answered 503 `overloaded` at once.
///
/// Slots are handed out first come, first served, so a waiting request's latency is the queue ahead
/// of it: room for every connection a busy pipeline fleet keeps open lets a burst be served at the
/// gateway's full rate instead of being refused and resent. The byte bound keeps the memory that
/// waiting requests hold bounded whatever their size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingLimits {
    /// Requests waiting at once.
    pub requests: usize,
    /// Bytes of manifest text held by the waiting requests.
    pub bytes: usize,
}

impl Default for WaitingLimits {
    /// 4096 requests and 256 MiB.
    fn default() -> Self {
        Self {
            requests: 4096,
            bytes: 256 << 20,
        }
    }
}

/// What every request shares: the current policy set, the evaluation slots, the request deadline
/// and the metrics.
pub struct Gateway {
    set: RwLock<Arc<PolicySet>>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) timeout: Duration,
    metrics: Metrics,
    audit_up: AtomicBool,
    pub(crate) marker: Option<Box<dyn Marker>>,
    tokens: Option<RwLock<Arc<Tokens>>>,
    pub(crate) access_log: Option<Box<dyn AccessLog>>,
    pub(crate) refusals: Refusals,
    reloader: Option<Reloader>,
    reloading: Mutex<()>,
    /// Requests waiting for an evaluation slot and the bytes of manifest they hold, and how many
    /// may wait.
    pub(crate) waiting: AtomicUsize,
    pub(crate) waiting_bytes: AtomicUsize,
    pub(crate) waiting_limits: WaitingLimits,
}

impl Gateway {
    /// A gateway over `gate`, evaluating at most `max_concurrent` requests at once (others wait for
    /// a slot within [`WaitingLimits`]; beyond them a request is answered 503 `overloaded` at once)
    /// and answering 503 to a request not answered within `timeout`.
    pub fn new(gate: Gate<DynRecorder>, max_concurrent: usize, timeout: Duration) -> Self {
        Self {
            set: RwLock::new(Arc::new(PolicySet::new(gate))),
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            timeout,
            metrics: Metrics::new(),
            audit_up: AtomicBool::new(true),
            marker: None,
            tokens: None,
            access_log: None,
            refusals: Refusals::new(RefusalLimits::default()),
            reloader: None,
            reloading: Mutex::new(()),
            waiting: AtomicUsize::new(0),
            waiting_bytes: AtomicUsize::new(0),
            waiting_limits: WaitingLimits::default(),
        }
    }

    /// Serves reloads (`POST /v1/admin/reload`, and [`Gateway::reload`] on SIGHUP) with `reloader`.
    #[must_use]
    pub fn with_reloader(mut self, reloader: Reloader) -> Self {
        self.reloader = Some(reloader);
        self
    }

    /// Loads the policy set (and tokens) afresh and swaps it in: requests in flight finish on the
    /// set they started with, new ones take the new set. A set that fails to load or validate is
    /// refused and counted, and the old set keeps serving. Blocking: loading compiles components.
    pub fn reload(&self) -> Result<Vec<String>, ReloadError> {
        let Some(reloader) = &self.reloader else {
            return Err(ReloadError::Unavailable);
        };
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        match reloader() {
            Ok(Reloaded { gate, tokens }) => {
                let set = Arc::new(PolicySet::new(gate));
                let ids = set.ids.clone();
                match self.set.write() {
                    Ok(mut current) => *current = set,
                    Err(poisoned) => *poisoned.into_inner() = set,
                }
                if let Some(tokens) = tokens {
                    self.replace_tokens(tokens);
                }
                self.metrics
                    .reloads
                    .get_or_create(&metrics::ReloadLabels { result: "success" })
                    .inc();
                Ok(ids)
            }
            Err(error) => {
                self.metrics
                    .reloads
                    .get_or_create(&metrics::ReloadLabels { result: "failure" })
                    .inc();
                Err(ReloadError::Refused(error))
            }
        }
    }

    /// Requires a bearer token with the route's role on every route but `/health`.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = Some(RwLock::new(Arc::new(tokens)));
        self
    }

    /// Records refused requests in `log`, aggregated ([`crate::access`]).
    #[must_use]
    pub fn with_access_log(mut self, log: Box<dyn AccessLog>) -> Self {
        self.access_log = Some(log);
        self
    }

    /// Bounds the requests waiting for an evaluation slot ([`WaitingLimits::default`] otherwise).
    #[must_use]
    pub fn with_waiting_limits(mut self, limits: WaitingLimits) -> Self {
        self.waiting_limits = limits;
        self
    }

    /// Bounds refused requests per source and sets how often they are written ([`crate::access`]).
    #[must_use]
    pub fn with_refusal_limits(mut self, limits: RefusalLimits) -> Self {
        self.refusals = Refusals::new(limits);
        self
    }

    /// Writes the refusals aggregated since the last flush as access records (every interval
    /// while serving, and when serving stops); returns how many records were written. Records
    /// that cannot be written are kept for the next flush and the log is marked down. Blocking.
    pub fn flush_refusals(&self) -> Result<usize, AccessLogError> {
        let refusals = self.refusals.take();
        let Some(log) = &self.access_log else {
            return Ok(0);
        };
        if refusals.is_empty() {
            return Ok(0);
        }
        match log.refused(&refusals) {
            Ok(()) => Ok(refusals.len()),
            Err(error) => {
                self.refusals.restore(refusals);
                self.set_audit_up(false);
                eprintln!(
                    "warning: refused requests could not be recorded: {}",
                    ErrorChain(&*error)
                );
                Err(AccessLogError(error))
            }
        }
    }

    /// Replaces the accepted tokens (a reload); no effect without `--authentication`.
    pub fn replace_tokens(&self, tokens: Tokens) {
        if let Some(lock) = &self.tokens {
            match lock.write() {
                Ok(mut current) => *current = Arc::new(tokens),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(tokens),
            }
        }
    }

    pub(crate) fn tokens(&self) -> Option<Arc<Tokens>> {
        self.tokens.as_ref().map(|lock| match lock.read() {
            Ok(tokens) => Arc::clone(&tokens),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        })
    }

    /// Serves `POST /v1/marks` with `marker`.
    #[must_use]
    pub fn with_marker(mut self, marker: Box<dyn Marker>) -> Self {
        self.marker = Some(marker);
        self
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The set requests start with now; a request keeps the set it started with to its end.
    pub(crate) fn current(&self) -> Arc<PolicySet> {
        match self.set.read() {
            Ok(set) => Arc::clone(&set),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Whether the last append to the decision log succeeded.
    pub fn audit_up(&self) -> bool {
        self.audit_up.load(Ordering::Relaxed)
    }

    pub(crate) fn set_audit_up(&self, up: bool) {
        self.audit_up.store(up, Ordering::Relaxed);
        self.metrics.audit_up.set(i64::from(up));
    }
}

/// The access log could not take the refusals (they are kept for the next flush).
#[derive(Debug, thiserror::Error)]
#[error("refused requests could not be recorded")]
pub struct AccessLogError(#[source] pub HostFailure);
