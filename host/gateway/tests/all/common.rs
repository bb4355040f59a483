//! What the gateway's tests share.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tollgate_gateway::Gateway;
use tollgate_pipeline::{Receipt, RecordError, Recorder, Report};
use tower::ServiceExt as _;

/// Keeps no record but counts and numbers the records it was asked for (`record-1`, ...): an
/// answer still waits for it.
#[derive(Default)]
pub struct Counting(pub Arc<AtomicUsize>);

impl Recorder for Counting {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Receipt::Recorded {
            id: format!("record-{n}"),
            log: "memory".into(),
            warnings: Vec::new(),
        })
    }
}

/// Sends one request through the gateway's router in-process; its status and body.
pub async fn send(gateway: Arc<Gateway>, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = tollgate_gateway::router(gateway)
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}
