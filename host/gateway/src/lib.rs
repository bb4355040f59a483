//! Tollgate's HTTP gateway: [`router`] serves a [`Gateway`] (a gate with its recorder, an
//! evaluation-slot bound and a request deadline). Every decision — `POST /v1/evaluate`, OPA's
//! REST Data API (`/v1/data/{path}`, `/v0/data/{path}`, `POST /`) — is made through the same
//! pipeline as `tollgate eval` and answered only once its record is durable. Failures map once,
//! through [`ApiError`] (rendered in Tollgate's shape or in OPA's): invalid input 400, a policy
//! failure 500, overload or an unwritable decision log 503. No error is an approval.
//! `GET /metrics` exports the Prometheus series of [`metrics`].

pub mod access;
mod admission;
pub mod auth;
mod authorisation;
mod data_api;
mod deadline;
mod deciding;
mod error;
mod evaluate;
mod gateway;
mod handler_names;
mod http_metrics;
mod json_errors;
pub mod metrics;
mod operations;
mod policy_api;
pub mod requester;
mod routes;
mod serving;
pub mod tls;
mod watch;

pub use error::ApiError;
pub use gateway::{AccessLogError, DynRecorder, Gateway, Reloaded, Reloader, WAITING_PER_SLOT};
pub use metrics::Metrics;
pub use routes::router;
pub use serving::serve;
pub use watch::{WATCH_INTERVAL, watch};

/// Appends a deployment mark for a change (`POST /v1/marks`) and says whether it was a direct
/// production change (deployed to production while its latest decision is not approved, or
/// without any decision); counts the direct production changes of the log and probes it
/// ([`watch`]).
pub trait Marker: Send + Sync {
    /// Records the mark durably; returns the mark's record.
    fn mark(&self, request: &MarkRequest) -> Result<MarkAnswer, MarkError>;

    /// How many direct production changes the decision log records, whoever marked them: the
    /// gateway's counter follows this total, so a mark counts once wherever it was made.
    fn direct_production_changes(&self) -> Result<u64, MarkError>;

    /// Whether the decision log can take a record now, found without writing one (a file log's
    /// directory takes a synced write; a database answers).
    fn probe(&self) -> Result<(), MarkError>;
}

/// Why a [`Marker`] could not mark, count or probe.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    /// The mark cannot be made as asked (an invalid status or time, an unknown change).
    #[error("{0}")]
    Invalid(String),
    /// The decision log could not be read, written or probed.
    #[error("{0}")]
    Log(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<String> for MarkError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

impl From<&str> for MarkError {
    fn from(message: &str) -> Self {
        Self::Invalid(message.to_owned())
    }
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
