//! Connecting as libpq does, and not storming a database that is away.
//!
//! - TLS follows libpq's `sslmode` and `sslrootcert` (from the URL, else `PGSSLMODE` and
//!   `PGSSLROOTCERT`): `disable` plain; `allow` plain, then TLS if the server refuses; `prefer`
//!   (the default) TLS when the server offers it, plain if it does not or the handshake fails;
//!   `require` TLS; `verify-ca` TLS with the chain verified against `sslrootcert` (default
//!   `~/.postgresql/root.crt`, `system` for the system's roots); `verify-full` also the host name.
//!   As in libpq, a root certificate file that exists makes `allow`, `prefer` and `require`
//!   verify the chain too, and `sslrootcert=system` needs `verify-full` (its default).
//! - New connections wait for the shared [`Backoff`] after a failure (see [`backoff`]).

pub(crate) mod backoff;
mod tls;

use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::RootCertStore;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::OpenError;
pub(crate) use backoff::Backoff;
use tls::Verify;

/// Why a database URL, or the TLS settings it and the environment give, cannot be used
/// ([`OpenError::InvalidUrl`]).
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// A query parameter is not UTF-8 once percent-decoded.
    #[error("`{text}` is not UTF-8 once decoded: {error}")]
    NotUtf8 {
        /// The parameter as written.
        text: String,
        /// The decoding error.
        #[source]
        error: std::str::Utf8Error,
    },
    /// Not one of libpq's `sslmode` values.
    #[error("invalid sslmode value `{0}`")]
    SslMode(String),
    /// The `sslmode` of `PGSSLMODE` is invalid.
    #[error("{0} (from PGSSLMODE)")]
    FromEnvironment(#[source] Box<UrlError>),
    /// `sslrootcert=system` with a mode that does not verify the host name.
    #[error("weak sslmode `{0}` may not be used with sslrootcert=system (use `verify-full`)")]
    WeakMode(&'static str),
    /// tokio-postgres refuses the URL.
    #[error("{}", crate::describe(.0))]
    Config(#[source] tokio_postgres::Error),
}

/// Why the root certificates cannot be used ([`OpenError::Ca`]).
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// No home directory to find `~/.postgresql/root.crt` in.
    #[error("no home directory to find it in: give `sslrootcert`")]
    NoHome,
    /// The file does not exist and the mode verifies.
    #[error(
        "root certificate file does not exist: give it, use sslrootcert=system, or an sslmode that does not verify (`{0}` does)"
    )]
    Missing(&'static str),
    /// The file cannot be read.
    #[error("{0}")]
    Read(#[source] std::io::Error),
    /// The file is not PEM.
    #[error("{0}")]
    Pem(#[source] rustls::pki_types::pem::Error),
    /// A certificate of the file is refused.
    #[error("{0}")]
    Certificate(#[source] rustls::Error),
    /// The file holds no certificate.
    #[error("no certificate in it")]
    Empty,
}

/// Why the connections cannot be prepared ([`OpenError::Setup`]).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The runtime of the connections cannot be started.
    #[error("{0}")]
    Runtime(#[source] std::io::Error),
    /// The TLS client cannot be configured.
    #[error("{0}")]
    Tls(#[source] rustls::Error),
    /// The verifier of server certificates cannot be built.
    #[error("{0}")]
    Verifier(#[source] rustls::client::VerifierBuilderError),
    /// The pool cannot be built.
    #[error("{0}")]
    Pool(#[source] deadpool_postgres::BuildError),
}

/// Why no connection was had; its text is the detail of the log's error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The database is away and another request is reconnecting.
    #[error("the log is unreachable (a reconnection is under way): {last}")]
    Reconnecting {
        /// Why the last attempt failed.
        last: String,
    },
    /// The database is away and the next attempt is not due yet.
    #[error("the log is unreachable (next connection attempt in {} ms): {last}", .wait.as_millis())]
    BackingOff {
        /// Time until the next attempt.
        wait: Duration,
        /// Why the last attempt failed.
        last: String,
    },
    /// Every connection was busy for too long.
    #[error("no database connection free in time")]
    Busy,
    /// Connecting failed.
    #[error("{}", describe_pool(.error, .settings))]
    Pool {
        /// The TLS settings, for the message.
        settings: String,
        /// The pool's error.
        #[source]
        error: deadpool_postgres::PoolError,
    },
}

/// Connections per process.
const POOL_SIZE: usize = 16;

/// Bounds of connecting and of waiting for a pooled connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Any statement running longer is cancelled by the server (waiting for the append lock
/// included), so a stuck database fails a request instead of holding it.
const STATEMENT_TIMEOUT_MS: u32 = 15_000;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plain only.
    Disable,
    /// Plain; TLS if the server refuses a plain connection.
    Allow,
    /// TLS when the server offers it, else plain.
    Prefer,
    /// TLS (the certificate verified only if a root certificate file exists).
    Require,
    /// TLS, the chain verified against the root certificates.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        Ok(match text {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => return Err(UrlError::SslMode(other.to_owned())),
        })
    }
}

impl SslMode {
    fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    fn verifies(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }
}

/// Where the root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RootSource {
    /// A PEM file (`sslrootcert=FILE`, `PGSSLROOTCERT`, or `~/.postgresql/root.crt`).
    File(PathBuf),
    /// The system's trust store (`sslrootcert=system`).
    System,
}

/// The TLS settings of a connection string, resolved as libpq resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    mode: SslMode,
    roots: Option<RootSource>,
}

/// A connection URL split into what tokio-postgres reads and libpq's TLS parameters.
#[derive(Debug, PartialEq, Eq)]
struct Split {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of the URL's query (the last of each wins, as in libpq).
fn split(url: &str) -> Result<Split, UrlError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|error| UrlError::NotUtf8 {
                text: text.to_owned(),
                error,
            })
    };
    let mut split = Split {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(key)?.as_str() {
            "sslmode" => split.sslmode = Some(decode(value)?),
            "sslrootcert" => split.sslrootcert = Some(decode(value)?),
            _ => kept.push(pair),
        }
    }
    split.rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(split)
}

impl TlsSettings {
    /// The settings of the URL's parameters, else of the environment (`env`), else libpq's
    /// defaults; the URL without the parameters tokio-postgres does not know.
    fn resolve(split: &Split, env: impl Fn(&str) -> Option<OsString>) -> Result<Self, UrlError> {
        let env_text = |name: &str| env(name).map(|v| v.to_string_lossy().into_owned());
        let rootcert = split
            .sslrootcert
            .clone()
            .or_else(|| env_text("PGSSLROOTCERT"));
        let system = rootcert.as_deref() == Some("system");
        let mode = match (&split.sslmode, env_text("PGSSLMODE")) {
            (Some(text), _) => text.parse()?,
            (None, Some(text)) => text
                .parse()
                .map_err(|e| UrlError::FromEnvironment(Box::new(e)))?,
            (None, None) if system => SslMode::VerifyFull,
            (None, None) => SslMode::Prefer,
        };
        if system && mode != SslMode::VerifyFull {
            return Err(UrlError::WeakMode(mode.name()));
        }
        let roots = match (mode, rootcert) {
            (SslMode::Disable, _) => None,
            (_, Some(text)) if text == "system" => Some(RootSource::System),
            (_, Some(path)) => Some(RootSource::File(PathBuf::from(path))),
            (_, None) => env("HOME")
                .map(|home| RootSource::File(PathBuf::from(home).join(".postgresql/root.crt"))),
        };
        Ok(Self { mode, roots })
    }

    /// What TLS connections verify: libpq loads the root file when it exists, and then verifies
    /// the chain whatever the mode; `verify-ca` and `verify-full` need it.
    fn verify(&self) -> Result<Verify, OpenError> {
        let roots = match &self.roots {
            None if self.mode.verifies() => {
                return Err(OpenError::Ca {
                    path: "~/.postgresql/root.crt".to_owned(),
                    error: CaError::NoHome,
                });
            }
            None => return Ok(Verify::Nothing),
            Some(RootSource::System) => system_roots()?,
            Some(RootSource::File(path)) => match std::fs::read(path) {
                Ok(bytes) => tls::read_roots(&bytes).map_err(|error| OpenError::Ca {
                    path: path.display().to_string(),
                    error,
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !self.mode.verifies() => {
                    return Ok(Verify::Nothing);
                }
                Err(e) => {
                    return Err(OpenError::Ca {
                        path: path.display().to_string(),
                        error: if e.kind() == std::io::ErrorKind::NotFound {
                            CaError::Missing(self.mode.name())
                        } else {
                            CaError::Read(e)
                        },
                    });
                }
            },
        };
        let roots = Arc::new(roots);
        Ok(match self.mode {
            SslMode::VerifyFull => Verify::ChainAndName(roots),
            _ => Verify::Chain(roots),
        })
    }

    /// How the settings read in messages.
    fn describe(&self) -> String {
        match &self.roots {
            Some(RootSource::File(path)) => {
                format!(
                    "sslmode={}, sslrootcert={}",
                    self.mode.name(),
                    path.display()
                )
            }
            Some(RootSource::System) => format!("sslmode={}, sslrootcert=system", self.mode.name()),
            None => format!("sslmode={}", self.mode.name()),
        }
    }
}

/// The system's trust store, as OpenSSL finds it (`SSL_CERT_FILE`, else the usual bundles);
/// the Mozilla roots where there is none.
fn system_roots() -> Result<RootCertStore, OpenError> {
    const BUNDLES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ];
    let chosen = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .or_else(|| BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file()));
    let Some(path) = chosen else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(roots);
    };
    let error = |error| OpenError::Ca {
        path: path.display().to_string(),
        error,
    };
    let bytes = std::fs::read(&path).map_err(|e| error(CaError::Read(e)))?;
    // A system bundle may hold a certificate rustls cannot parse: skip it, as OpenSSL would.
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = RootCertStore::empty();
    let (added, _skipped) =
        roots.add_parsable_certificates(CertificateDer::pem_slice_iter(&bytes).flatten());
    if added == 0 {
        return Err(error(CaError::Empty));
    }
    Ok(roots)
}

/// The pooled connections of a log and the backoff they share.
pub(crate) struct Connections {
    pool: Pool,
    backoff: Arc<Backoff>,
    settings: String,
}

impl Connections {
    /// Connections to the database of `url` (`location` is the URL without its password);
    /// `env` reads the environment (`PGSSLMODE`, `PGSSLROOTCERT`, `HOME`).
    pub(crate) fn new(
        url: &str,
        location: &str,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, OpenError> {
        let invalid = |error| OpenError::InvalidUrl {
            url: location.to_owned(),
            error,
        };
        let split = split(url).map_err(invalid)?;
        let settings = TlsSettings::resolve(&split, env).map_err(invalid)?;
        let mut config = tokio_postgres::Config::from_str(&split.rest)
            .map_err(|e| invalid(UrlError::Config(e)))?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("tollgate")
            .options(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
        let tls = tls::client_config(&settings.verify()?).map_err(OpenError::Setup)?;
        let connect = Libpq {
            mode: settings.mode,
            tls: MakeRustlsConnect::new(tls),
        };
        let manager = Manager::from_connect(
            config,
            connect,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| OpenError::Setup(SetupError::Pool(e)))?;
        Ok(Self {
            pool,
            backoff: Arc::new(Backoff::default()),
            settings: settings.describe(),
        })
    }

    /// A pooled connection; while the database cannot be reached, an error at once for all but
    /// one request at a time, which tries again after the backoff.
    pub(crate) fn get(
        &self,
    ) -> impl Future<Output = Result<deadpool_postgres::Object, ConnectError>> + Send + 'static
    {
        let pool = self.pool.clone();
        let backoff = Arc::clone(&self.backoff);
        let settings = self.settings.clone();
        async move {
            let attempt = backoff.admit()?;
            match pool.get().await {
                Ok(client) => {
                    attempt.succeeded();
                    Ok(client)
                }
                // Every connection busy: the database answers, this request waited too long.
                Err(deadpool_postgres::PoolError::Timeout(
                    deadpool_postgres::TimeoutType::Wait,
                )) => Err(ConnectError::Busy),
                Err(error) => {
                    let error = ConnectError::Pool { settings, error };
                    attempt.failed(&error.to_string());
                    Err(error)
                }
            }
        }
    }
}

fn describe_pool(error: &deadpool_postgres::PoolError, settings: &str) -> String {
    match error {
        deadpool_postgres::PoolError::Backend(e) => {
            format!("cannot connect ({settings}): {}", crate::describe(e))
        }
        other => format!("cannot connect ({settings}): {other}"),
    }
}

type Connected = (tokio_postgres::Client, tokio::task::JoinHandle<()>);

/// Opens connections with libpq's `sslmode` fallbacks, which tokio-postgres lacks.
struct Libpq {
    mode: SslMode,
    tls: MakeRustlsConnect,
}

impl Libpq {
    async fn attempt(
        &self,
        config: &tokio_postgres::Config,
        ssl: tokio_postgres::config::SslMode,
    ) -> Result<Connected, tokio_postgres::Error> {
        let mut config = config.clone();
        config.ssl_mode(ssl);
        let (client, connection) = config.connect(self.tls.clone()).await?;
        let task = tokio::spawn(async move {
            // The client sees a lost connection as closed; the pool then drops it.
            let _ = connection.await;
        });
        Ok((client, task))
    }
}

/// Whether a connection failed in its TLS handshake (tokio-postgres has no accessor for it).
fn is_tls_failure(error: &tokio_postgres::Error) -> bool {
    error.to_string() == "error performing TLS handshake"
}

impl deadpool_postgres::Connect for Libpq {
    fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> Pin<Box<dyn Future<Output = Result<Connected, tokio_postgres::Error>> + Send + '_>> {
        use tokio_postgres::config::SslMode as Wire;
        let config = config.clone();
        Box::pin(async move {
            match self.mode {
                SslMode::Disable => self.attempt(&config, Wire::Disable).await,
                // The server refused the plain connection (pg_hba.conf `hostssl`): TLS.
                SslMode::Allow => match self.attempt(&config, Wire::Disable).await {
                    Err(e) if e.as_db_error().is_some() => {
                        self.attempt(&config, Wire::Require).await
                    }
                    other => other,
                },
                // The handshake failed (a root file that does not verify the server): plain.
                SslMode::Prefer => match self.attempt(&config, Wire::Prefer).await {
                    Err(e) if is_tls_failure(&e) => self.attempt(&config, Wire::Disable).await,
                    other => other,
                },
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                    self.attempt(&config, Wire::Require).await
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn resolve(url: &str, env: &[(&str, &str)]) -> Result<TlsSettings, UrlError> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        };
        TlsSettings::resolve(&split(url)?, lookup)
    }

    fn file(path: &str) -> Option<RootSource> {
        Some(RootSource::File(PathBuf::from(path)))
    }

    #[test]
    fn libpq_parameters_leave_the_url_and_the_rest_stays() {
        let split = split(
            "postgres://u:p@db/log?application_name=x&sslmode=verify-full&sslrootcert=%2Fca%20dir%2Froot.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(
            split,
            Split {
                rest: "postgres://u:p@db/log?application_name=x&connect_timeout=3".into(),
                sslmode: Some("verify-full".into()),
                sslrootcert: Some("/ca dir/root.pem".into()),
            }
        );
        assert_eq!(
            self::split("postgres://db/log?sslmode=require")
                .unwrap()
                .rest,
            "postgres://db/log"
        );
    }

    #[test]
    fn modes_and_roots_resolve_as_in_libpq() {
        let home = [("HOME", "/home/t")];
        let default = resolve("postgres://db/log", &home).unwrap();
        assert_eq!(default.mode, SslMode::Prefer);
        assert_eq!(default.roots, file("/home/t/.postgresql/root.crt"));
        for mode in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            let settings = resolve(&format!("postgres://db/log?sslmode={mode}"), &home).unwrap();
            assert_eq!(settings.mode.name(), mode);
        }
        assert_eq!(
            resolve("postgres://db/log?sslmode=disable", &home)
                .unwrap()
                .roots,
            None,
            "disable reads no root file"
        );

        // The environment when the URL says nothing; the URL first.
        let env = [("PGSSLMODE", "verify-ca"), ("PGSSLROOTCERT", "/etc/ca.pem")];
        let from_env = resolve("postgres://db/log", &env).unwrap();
        assert_eq!(
            (from_env.mode, from_env.roots),
            (SslMode::VerifyCa, file("/etc/ca.pem"))
        );
        let url_first =
            resolve("postgres://db/log?sslmode=require&sslrootcert=/x.pem", &env).unwrap();
        assert_eq!(
            (url_first.mode, url_first.roots),
            (SslMode::Require, file("/x.pem"))
        );

        // sslrootcert=system: verify-full by default, and nothing weaker.
        let system = resolve("postgres://db/log?sslrootcert=system", &[]).unwrap();
        assert_eq!(
            (system.mode, system.roots),
            (SslMode::VerifyFull, Some(RootSource::System))
        );
        let weak =
            resolve("postgres://db/log?sslrootcert=system&sslmode=require", &[]).unwrap_err();
        assert!(
            weak.to_string().contains("weak sslmode `require`"),
            "{weak}"
        );
    }

    #[test]
    fn an_invalid_mode_is_an_error_naming_it_and_where_it_came_from() {
        let error = resolve("postgres://db/log?sslmode=verify_full", &[]).unwrap_err();
        assert_eq!(error.to_string(), "invalid sslmode value `verify_full`");
        let error = resolve("postgres://db/log", &[("PGSSLMODE", "on")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid sslmode value `on` (from PGSSLMODE)"
        );
    }

    #[test]
    fn a_missing_root_file_is_an_error_only_for_the_modes_that_verify() {
        let missing = "/nonexistent/root.crt";
        for (mode, refused) in [
            ("allow", false),
            ("prefer", false),
            ("require", false),
            ("verify-ca", true),
            ("verify-full", true),
        ] {
            let settings = resolve(
                &format!("postgres://db/log?sslmode={mode}&sslrootcert={missing}"),
                &[],
            )
            .unwrap();
            match settings.verify() {
                Ok(verify) => {
                    assert!(!refused, "{mode}");
                    assert!(matches!(verify, Verify::Nothing), "{mode}: {verify:?}");
                }
                Err(error) => {
                    assert!(refused, "{mode}: {error}");
                    let text = error.to_string();
                    assert!(
                        text.contains(missing) && text.contains("does not exist"),
                        "{text}"
                    );
                }
            }
        }
    }
}
