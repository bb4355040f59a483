//! Serving a [`Gateway`] over TCP ([`serve`]; TLS in [`crate::tls`]): the router, the periodic
//! write of aggregated refusals, and the last write when serving stops.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::gateway::Gateway;
use crate::routes::router;

/// Serves `gateway` on `listener` until `shutdown` resolves, then finishes the requests in flight
/// and writes the refusals not yet recorded.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flusher = tokio::spawn(flush_every(Arc::clone(&gateway)));
    let served = axum::serve(
        listener,
        router(Arc::clone(&gateway)).into_make_service_with_connect_info::<SocketAddr>(),
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

/// Writes the aggregated refusals every interval until the gateway stops serving.
pub(crate) async fn flush_every(gateway: Arc<Gateway>) {
    let mut tick = tokio::time::interval(gateway.refusals.limits().interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let gw = Arc::clone(&gateway);
        let _ = tokio::task::spawn_blocking(move || gw.flush_refusals()).await;
    }
}
