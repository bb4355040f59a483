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
mod marks;
pub mod metrics;
mod operations;
mod policy_api;
pub mod requester;
mod routes;
mod serving;
pub mod tls;
mod watch;

pub use error::ApiError;
pub use gateway::{
    AccessLogError, DynRecorder, Gateway, HostFailure, ReloadError, Reloaded, Reloader,
    WaitingLimits,
};
pub use marks::{MarkAnswer, MarkError, MarkRequest, Marker};
pub use metrics::Metrics;
pub use routes::router;
pub use serving::serve;
pub use watch::{WATCH_INTERVAL, watch};
