//! Tollgate's HTTP gateway: [`router`] serves a [`Gateway`] (a gate with its recorder, an
//! evaluation-slot bound and a request deadline). Every `POST /v1/evaluate` is decided through the
//! same pipeline as `tollgate eval` and answered only once its record is durable. Failures map
//! once, through [`ApiError`]: invalid input 400, a policy failure 500 (`policy_failure`), overload
//! or an unwritable decision log 503 (`overloaded`, `audit_unavailable`). No error is an approval.

mod error;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tollgate_pipeline::{Gate, Recorder};

pub use error::ApiError;
pub use routes::router;

/// The recorder of a gateway's gate.
pub type DynRecorder = Box<dyn Recorder>;

/// What every request shares: the gate, the evaluation slots and the request deadline.
pub struct Gateway {
    gate: Gate<DynRecorder>,
    slots: Arc<Semaphore>,
    timeout: Duration,
    /// `GET /v1/policies`, rendered once.
    policies: Value,
    ids: Vec<String>,
}

impl Gateway {
    /// A gateway over `gate`, evaluating at most `max_concurrent` requests at once (others wait
    /// for a slot) and answering 503 to a request not answered within `timeout`.
    pub fn new(gate: Gate<DynRecorder>, max_concurrent: usize, timeout: Duration) -> Self {
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
        Self {
            gate,
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            timeout,
            policies,
            ids,
        }
    }
}

/// Serves `gateway` on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(gateway))
        .with_graceful_shutdown(shutdown)
        .await
}
