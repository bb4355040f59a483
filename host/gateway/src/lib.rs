//! Tollgate's HTTP gateway: [`router`] serves a [`Gateway`] (a gate with its recorder, an
//! evaluation-slot bound and a request deadline). Every decision — `POST /v1/evaluate`, OPA's
//! REST Data API (`/v1/data/{path}`, `/v0/data/{path}`, `POST /`) — is made through the same
//! pipeline as `tollgate eval` and answered only once its record is durable. Failures map once,
//! through [`ApiError`] (rendered in Tollgate's shape or in OPA's): invalid input 400, a policy
//! failure 500, overload or an unwritable decision log 503. No error is an approval.
//! `GET /metrics` exports the Prometheus series of [`metrics`].

pub mod access;
pub mod auth;
mod deciding;
mod error;
pub mod metrics;
mod opa;
pub mod requester;
mod routes;
pub mod tls;
mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tollgate_pipeline::{Gate, Recorder};

pub use error::ApiError;
pub use metrics::Metrics;
pub use routes::router;
pub use watch::{WATCH_INTERVAL, watch};

/// The recorder of a gateway's gate.
pub type DynRecorder = Box<dyn Recorder>;

/// Appends a deployment mark for a change (`POST /v1/marks`) and says whether it was a direct
/// production change (deployed to production while its latest decision is not approved, or
/// without any decision); counts the direct production changes of the log and probes it
/// ([`watch`]).
pub trait Marker: Send + Sync {
    /// Records the mark durably; returns the mark's record.
    fn mark(&self, request: &MarkRequest) -> Result<MarkAnswer, String>;

    /// How many direct production changes the decision log records, whoever marked them: the
    /// gateway's counter follows this total, so a mark counts once wherever it was made.
    fn direct_production_changes(&self) -> Result<u64, String>;

    /// Whether the decision log can take a record now, found without writing one (a file log's
    /// directory takes a synced write; a database answers).
    fn probe(&self) -> Result<(), String>;
}

/// The body of `POST /v1/marks`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRequest {
    /// The change id.
    pub change: String,
    /// `deployed`, `failed` or `rolled_back`.
    pub status: String,
    /// When it happened (RFC 3339), if not now.
    #[serde(default)]
    pub at: Option<String>,
    /// Free-text note.
    #[serde(default)]
    pub note: Option<String>,
}

/// What `POST /v1/marks` answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MarkAnswer {
    /// The mark's record id.
    pub id: String,
    /// The decision it refers to, if the change has one.
    pub decision_id: Option<String>,
    /// Whether it was recorded as a direct production change.
    pub direct_production_change: bool,
}

/// A freshly loaded policy set (and tokens, when authentication is on), from `--policy`,
/// `--settings`, `--waivers` and `--tokens` read again.
pub struct Reloaded {
    /// The gate of the new set.
    pub gate: Gate<DynRecorder>,
    /// The new tokens, if authentication is on.
    pub tokens: Option<auth::Tokens>,
}

/// Loads the policy set afresh; an error says why the new set is refused.
pub type Reloader = Box<dyn Fn() -> Result<Reloaded, String> + Send + Sync>;

/// One loaded policy set: the gate and what the read-only routes show of it.
struct PolicySet {
    gate: Gate<DynRecorder>,
    /// Policy ids, in order.
    ids: Vec<String>,
    /// `GET /v1/policies` in Tollgate's own terms (kept inside OPA's answer).
    policies: Value,
    /// The policies and controls whose series `GET /metrics` exports from the start.
    declared: Vec<metrics::DeclaredPolicy>,
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

/// Requests that may wait per evaluation slot before further ones are answered 503 at once.
pub const WAITING_PER_SLOT: usize = 4;

/// What every request shares: the current policy set, the evaluation slots, the request deadline
/// and the metrics.
pub struct Gateway {
    set: RwLock<Arc<PolicySet>>,
    slots: Arc<Semaphore>,
    timeout: Duration,
    metrics: Metrics,
    audit_up: AtomicBool,
    marker: Option<Box<dyn Marker>>,
    tokens: Option<RwLock<Arc<auth::Tokens>>>,
    access_log: Option<Box<dyn auth::AccessLog>>,
    refusals: access::Refusals,
    reloader: Option<Reloader>,
    reloading: std::sync::Mutex<()>,
    /// Requests waiting for an evaluation slot, and how many may wait.
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

impl Gateway {
    /// A gateway over `gate`, evaluating at most `max_concurrent` requests at once (up to
    /// [`WAITING_PER_SLOT`] times as many wait for a slot; beyond that a request is answered 503
    /// `overloaded` at once) and answering 503 to a request not answered within `timeout`.
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
            refusals: access::Refusals::new(access::RefusalLimits::default()),
            reloader: None,
            reloading: std::sync::Mutex::new(()),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting: max_concurrent.max(1) * WAITING_PER_SLOT,
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
    pub fn reload(&self) -> Result<Vec<String>, String> {
        let Some(reloader) = &self.reloader else {
            return Err("this gateway cannot reload".to_owned());
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
                Err(error)
            }
        }
    }

    /// Requires a bearer token with the route's role on every route but `/health`.
    #[must_use]
    pub fn with_tokens(mut self, tokens: auth::Tokens) -> Self {
        self.tokens = Some(RwLock::new(Arc::new(tokens)));
        self
    }

    /// Records refused requests in `log`, aggregated ([`access`]).
    #[must_use]
    pub fn with_access_log(mut self, log: Box<dyn auth::AccessLog>) -> Self {
        self.access_log = Some(log);
        self
    }

    /// Bounds refused requests per source and sets how often they are written ([`access`]).
    #[must_use]
    pub fn with_refusal_limits(mut self, limits: access::RefusalLimits) -> Self {
        self.refusals = access::Refusals::new(limits);
        self
    }

    /// Writes the refusals aggregated since the last flush as access records (every interval
    /// while serving, and when serving stops); returns how many records were written. Records
    /// that cannot be written are kept for the next flush and the log is marked down. Blocking.
    pub fn flush_refusals(&self) -> Result<usize, String> {
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
                eprintln!("warning: refused requests could not be recorded: {error}");
                Err(error)
            }
        }
    }

    /// Replaces the accepted tokens (a reload); no effect without `--authentication`.
    pub fn replace_tokens(&self, tokens: auth::Tokens) {
        if let Some(lock) = &self.tokens {
            match lock.write() {
                Ok(mut current) => *current = Arc::new(tokens),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(tokens),
            }
        }
    }

    fn tokens(&self) -> Option<Arc<auth::Tokens>> {
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
    fn current(&self) -> Arc<PolicySet> {
        match self.set.read() {
            Ok(set) => Arc::clone(&set),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Whether the last append to the decision log succeeded.
    pub fn audit_up(&self) -> bool {
        self.audit_up.load(Ordering::Relaxed)
    }

    fn set_audit_up(&self, up: bool) {
        self.audit_up.store(up, Ordering::Relaxed);
        self.metrics.audit_up.set(i64::from(up));
    }
}

/// Serves `gateway` on `listener` until `shutdown` resolves, then finishes the requests in flight
/// and writes the refusals not yet recorded.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flusher = tokio::spawn(access::flush_every(Arc::clone(&gateway)));
    let served = axum::serve(
        listener,
        router(Arc::clone(&gateway)).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    stopped(&gateway, flusher).await;
    served
}

/// Stops the periodic flush of refusals and writes the last ones.
pub(crate) async fn stopped(gateway: &Arc<Gateway>, flusher: tokio::task::JoinHandle<()>) {
    flusher.abort();
    let gateway = Arc::clone(gateway);
    let _ = tokio::task::spawn_blocking(move || gateway.flush_refusals()).await;
}
