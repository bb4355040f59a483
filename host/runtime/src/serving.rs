//! The decision log behind a served gateway: `POST /v1/marks`, the direct production changes and
//! the probe ([`tollgate_gateway::Marker`]), and refused requests as access records
//! ([`tollgate_gateway::auth::AccessLog`]); and the server's run until a signal ends it.

use std::net::SocketAddr;
use std::sync::Arc;

use tollgate_decision_log::{AccessRecord, MarkStatus, Project, Record};
use tollgate_gateway::Gateway;
use tollgate_gateway::auth::{AccessLog, Refusal};
use tollgate_gateway::{HostFailure, MarkAnswer, MarkError, MarkRequest, Marker};

use crate::{RuntimeError, Written};

/// `POST /v1/marks` on the served decision log, as `tollgate audit mark` appends them.
pub struct LogMarker {
    /// The project whose log is marked.
    pub project: Project,
    /// How appends are sealed and counted.
    pub written: Written,
}

/// A decision log error for the gateway: shown with its causes.
#[derive(Debug, thiserror::Error)]
#[error("{}", crate::error_chain(.0))]
struct LogFailure(#[source] RuntimeError);

fn log_error(error: RuntimeError) -> MarkError {
    MarkError::Log(Box::new(LogFailure(error)))
}

impl Marker for LogMarker {
    fn direct_production_changes(&self) -> Result<u64, MarkError> {
        crate::direct_changes(&self.project).map_err(log_error)
    }

    fn probe(&self) -> Result<(), MarkError> {
        crate::probe(&self.project).map_err(log_error)
    }

    fn mark(&self, request: &MarkRequest) -> Result<MarkAnswer, MarkError> {
        let status = MarkStatus::parse(&request.status).ok_or_else(|| {
            MarkError::Invalid(format!(
                "invalid `status` `{}`: expected `deployed`, `failed` or `rolled_back`",
                request.status
            ))
        })?;
        let at = request
            .at
            .as_deref()
            .map(|text| {
                tollgate_manifest::Timestamp::parse(text)
                    .map_err(|e| MarkError::Invalid(format!("invalid `at`: {e}")))
            })
            .transpose()?;
        let marked = crate::sealer(&self.project, None)
            .and_then(|sealer| {
                crate::append_mark(
                    &self.project,
                    sealer.as_deref(),
                    &request.change,
                    status,
                    at,
                    request.note.clone(),
                )
            })
            .map_err(|error| MarkError::Invalid(crate::error_chain(&error)))?;
        self.written.appended(1);
        Ok(MarkAnswer {
            id: marked.id,
            decision_id: marked.decision_id,
            direct_production_change: marked.direct_production_change,
        })
    }
}

/// Refused requests as access records of the served decision log.
pub struct LogAccess {
    /// The project whose log takes the records.
    pub project: Project,
    /// How appends are sealed and counted.
    pub written: Written,
}

impl AccessLog for LogAccess {
    fn refused(&self, refusals: &[Refusal]) -> Result<(), HostFailure> {
        let records: Vec<Record> = refusals
            .iter()
            .map(|refusal| {
                Record::Access(AccessRecord {
                    id: tollgate_decision_log::new_id(),
                    recorded_at: tollgate_decision_log::now(),
                    subject: refusal.subject.clone(),
                    method: refusal.method.clone(),
                    path: refusal.path.clone(),
                    source: refusal.source.clone(),
                    status: refusal.status,
                    reason: refusal.reason.clone(),
                    count: refusal.count,
                    first_at: Some(refusal.first_at),
                    last_at: Some(refusal.last_at),
                })
            })
            .collect();
        crate::append(&self.project, self.written.sealer.as_deref(), &records)
            .map_err(HostFailure::from)?;
        self.written.appended(records.len());
        Ok(())
    }
}

/// Reloads the policy set on every SIGHUP; a refused set is reported and the old one keeps serving.
#[cfg(unix)]
fn reload_on_hangup(gateway: &Arc<Gateway>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        eprintln!("tollgate serve: cannot watch SIGHUP; reload with POST /v1/admin/reload");
        return;
    };
    let gateway = Arc::clone(gateway);
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let gw = Arc::clone(&gateway);
            match tokio::task::spawn_blocking(move || gw.reload()).await {
                Ok(Ok(ids)) => eprintln!("tollgate serve: reloaded: {}", ids.join(", ")),
                Ok(Err(error)) => eprintln!(
                    "tollgate serve: reload refused, the old policy set keeps serving: {}",
                    tollgate_pipeline::ErrorChain(&error)
                ),
                Err(join) => eprintln!("tollgate serve: the reload did not complete: {join}"),
            }
        }
    });
}

/// Serves `gateway` on `listen` (HTTPS with `tls`) until SIGINT or SIGTERM: prints the bound
/// address on standard output, reloads on SIGHUP, and watches the decision log.
pub async fn serve(
    gateway: Arc<Gateway>,
    listen: SocketAddr,
    tls: Option<tollgate_gateway::tls::ServerConfig>,
) -> Result<(), RuntimeError> {
    #[cfg(unix)]
    reload_on_hangup(&gateway);
    tokio::spawn(tollgate_gateway::watch(
        Arc::clone(&gateway),
        tollgate_gateway::WATCH_INTERVAL,
    ));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| RuntimeError::Listen { listen, source })?;
    let address = listener.local_addr().map_err(RuntimeError::Serve)?;
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let scheme = if tls.is_some() { "https" } else { "http" };
        writeln!(stdout, "listening on {scheme}://{address}")
            .and_then(|()| stdout.flush())
            .map_err(RuntimeError::Serve)?;
    }
    let served = match tls {
        Some(config) => {
            tollgate_gateway::tls::serve_tls(listener, gateway, config, shutdown()).await
        }
        None => tollgate_gateway::serve(listener, gateway, shutdown()).await,
    };
    served.map_err(RuntimeError::Serve)?;
    eprintln!("tollgate serve: shut down");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Reads a tokens file (YAML or JSON): `tokens: [{subject, sha256, roles}]`.
pub fn read_tokens(path: &std::path::Path) -> Result<tollgate_gateway::auth::Tokens, RuntimeError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuntimeError::TokensFile {
        path: path.to_path_buf(),
        source,
    })?;
    tollgate_gateway::auth::Tokens::parse(&text).map_err(|source| RuntimeError::Tokens {
        path: path.to_path_buf(),
        source,
    })
}
