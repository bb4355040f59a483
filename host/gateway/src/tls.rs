//! HTTPS with rustls: [`TlsFiles`] names the PEM files of the server certificate chain, its key
//! and, for mutual TLS, the CA whose client certificates are accepted. The certificate and key are
//! read again when either file changes (checked at each handshake) and on [`Certificates::reload`]
//! (SIGHUP, `POST /v1/admin/reload`), so a renewed certificate is served without a restart; a pair
//! that cannot be read or does not match is refused and the previous one keeps serving.
//! [`serve_tls`] serves the router over it and drains connections on shutdown.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::Extension;
use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::gateway::Gateway;
use crate::requester::ClientCertificate;
use crate::routes::router;

pub use rustls::server::ServerConfig;

/// A TLS handshake that has not completed in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections still open this long after shutdown began are closed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a TLS configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file is not the PEM it should be.
    #[error("`{path}` is not a PEM {expected}: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        expected: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The key does not belong to the certificate, or is of an unsupported kind.
    #[error("the key `{key}` cannot sign for the certificate `{cert}`: {source}")]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
    /// The client CA cannot verify client certificates.
    #[error("the client CA `{path}` cannot be used: {message}")]
    ClientCa {
        /// The CA file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Config(#[from] rustls::Error),
}

/// The PEM files of a TLS configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate chain, leaf first.
    pub cert: PathBuf,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// When given, clients must present a certificate issued by one of these CAs.
    pub client_ca: Option<PathBuf>,
}

/// When a file was last modified, and its length: a change in either means it was rewritten.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// The certificate being served and the file stamps it was read at.
struct Served {
    key: Arc<CertifiedKey>,
    stamps: (Stamp, Stamp),
}

/// The server certificate and key, read again when their files change.
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    served: RwLock<Served>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Certificates {
    /// Reads the certificate chain and key; fails when they cannot be read or do not match.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let served = read_pair(&files, &provider)?;
        Ok(Self {
            files,
            provider,
            served: RwLock::new(served),
        })
    }

    /// The files.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reads the certificate and key again now; on failure the previous pair keeps serving.
    pub fn reload(&self) -> Result<(), TlsError> {
        let served = read_pair(&self.files, &self.provider)?;
        match self.served.write() {
            Ok(mut current) => *current = served,
            Err(poisoned) => *poisoned.into_inner() = served,
        }
        Ok(())
    }

    /// The pair to serve: read again first when either file changed since it was read.
    fn current(&self) -> Arc<CertifiedKey> {
        let now = (stamp(&self.files.cert), stamp(&self.files.key));
        let (key, changed) = match self.served.read() {
            Ok(served) => (Arc::clone(&served.key), served.stamps != now),
            Err(poisoned) => {
                let served = poisoned.into_inner();
                (Arc::clone(&served.key), served.stamps != now)
            }
        };
        if !changed {
            return key;
        }
        // A pair caught half-written fails to match and is tried again at the next handshake.
        match self.reload() {
            Ok(()) => match self.served.read() {
                Ok(served) => Arc::clone(&served.key),
                Err(poisoned) => Arc::clone(&poisoned.into_inner().key),
            },
            Err(_) => key,
        }
    }

    /// The rustls server configuration: HTTP/1.1, this certificate, and client certificates
    /// verified against `client_ca` when it is given.
    pub fn server_config(self: &Arc<Self>) -> Result<ServerConfig, TlsError> {
        let builder = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?;
        let builder = match &self.files.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for certificate in read_certificates(path, "CA certificate")? {
                    roots.add(certificate).map_err(|e| TlsError::ClientCa {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&self.provider),
                )
                .build()
                .map_err(|e| TlsError::ClientCa {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(Arc::new(Resolver(Arc::clone(self))));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Hands rustls the current certificate at every handshake.
#[derive(Debug)]
struct Resolver(Arc<Certificates>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_certificates(
    path: &Path,
    expected: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |message: String| TlsError::Pem {
        path: path.to_path_buf(),
        expected,
        message,
    };
    let bytes = read_file(path)?;
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if certificates.is_empty() {
        return Err(pem_error("no `CERTIFICATE` block".to_owned()));
    }
    Ok(certificates)
}

fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<Served, TlsError> {
    let stamps = (stamp(&files.cert), stamp(&files.key));
    let chain = read_certificates(&files.cert, "certificate chain")?;
    let key_bytes = read_file(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| TlsError::Pem {
        path: files.key.clone(),
        expected: "private key",
        message: e.to_string(),
    })?;
    let certified =
        CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::KeyMismatch {
            cert: files.cert.clone(),
            key: files.key.clone(),
            source,
        })?;
    Ok(Served {
        key: Arc::new(certified),
        stamps,
    })
}

/// The subject of a client certificate (its distinguished name, as `CN=runner, O=Acme`), if it
/// can be read.
fn subject_of(certificate: &CertificateDer<'_>) -> Option<ClientCertificate> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let subject = parsed.subject().to_string();
    (!subject.is_empty()).then_some(ClientCertificate(subject))
}

/// Serves `gateway` over TLS on `listener` until `shutdown` resolves, then lets the connections
/// in flight finish (at most 30 seconds) and writes the refusals not yet recorded. With mutual
/// TLS, the verified client certificate's subject names the requester of each request on the
/// connection. Handshakes run beside the accept loop, so a slow or
/// failing client delays no one else; a failed handshake (no or an untrusted client
/// certificate) is counted in `tollgate_tls_handshake_failures_total`.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let flusher = tokio::spawn(crate::serving::flush_every(Arc::clone(&gateway)));
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let app = router(Arc::clone(&gateway));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone().layer(Extension(ConnectInfo(peer)));
        let watcher = graceful.watcher();
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            let stream =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(_)) | Err(_) => {
                        gateway.metrics().tls_handshake_failures.inc();
                        return;
                    }
                };
            // Only a certificate the client CA verified is ever presented here.
            let client = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(subject_of);
            let service = TowerToHyperService::new(match client {
                Some(client) => app.layer(Extension(client)),
                None => app,
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            // A connection closed by the client mid-request is the client's affair.
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    // Past the drain deadline the remaining connections are dropped with the runtime.
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    crate::serving::stopped(&gateway, flusher).await;
    Ok(())
}
