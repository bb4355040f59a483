//! `tollgate serve`: the HTTP gateway (`tollgate-gateway`). Policies are loaded and their settings
//! validated once, at start; every request is decided through the same gate as `tollgate eval`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use tollgate_gateway::access::RefusalLimits;
use tollgate_gateway::tls::{Certificates, TlsFiles};
use tollgate_gateway::{Gateway, Reloaded, WaitingLimits};
use tollgate_pipeline::exit;
use tollgate_recorder::AppendObserver;
use tollgate_runtime::{
    Checkpointer, GateLoader, Job, LogAccess, LogMarker, OptionFiles, RecorderOptions, Schedule,
    Written,
};

use crate::common::{CacheArgs, Failure, TrustArgs};

/// Arguments of `tollgate serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// A policy to run: a built-in name (`sox`, `hipaa`, `pci`, `fda`) or the path of a policy component
    /// (`.wasm`). Repeatable; without it the built-in policies run.
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Waivers file (YAML or JSON), read once at start.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// The service being deployed, matched against a waiver's `scope.service`, for every request
    /// that names none with `?service=NAME`.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Decision log every evaluation is appended to before it is answered [default:
    /// $TOLLGATE_AUDIT_LOG, `audit.log` in `.tollgate/config.yaml`, else `.tollgate/audit.log` in
    /// the project directory]. If a record cannot be written the request fails with 503.
    #[arg(long, value_name = "FILE", env = tollgate_decision_log::config::LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// A manifest field path to mask in the stored copy (repeatable).
    #[arg(long = "mask", value_name = "PATH")]
    mask: Vec<String>,
    /// This gateway's seal key (a signing key file): every group commit is sealed with it
    /// [default: $TOLLGATE_WRITER_KEY, else `audit.writer_key` in the configuration].
    #[arg(long, value_name = "FILE", env = tollgate_runtime::WRITER_KEY_ENV)]
    writer_key: Option<PathBuf>,
    /// Write signed checkpoints of the log with this key [default: `audit.signing_key` when it
    /// or `audit.checkpoints` is configured; without a key no checkpoint is written].
    #[arg(long, value_name = "FILE")]
    checkpoint_key: Option<PathBuf>,
    /// Where checkpoints go: a file, replaced atomically, or an existing directory (one file per
    /// checkpoint and `latest`) [default: `audit.checkpoints.output`, else `.tollgate/checkpoint`].
    #[arg(long, value_name = "PATH")]
    checkpoint_output: Option<PathBuf>,
    /// A checkpoint after this many appended lines [default: `audit.checkpoints.every`, else 1000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: Option<u64>,
    /// A checkpoint after this many seconds when lines were appended [default:
    /// `audit.checkpoints.interval`, else 300].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_interval: Option<u64>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Evaluations running at once [default: the engine's instance pool size, 64]; further
    /// requests wait for a free slot.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: Option<u32>,
    /// Requests that may wait for an evaluation slot at once; further ones are answered 503
    /// `overloaded` at once.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    max_waiting: u32,
    /// Mebibytes of manifest the waiting requests may hold between them; a request beyond them is
    /// answered 503 `overloaded` at once.
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    max_waiting_mib: u32,
    /// Seconds a request may take, waiting for a slot included, before it is answered with 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    #[command(flatten)]
    trust: TrustArgs,
    /// Require a bearer token (`token`: the SHA-256 digests of `--tokens`, with roles
    /// `evaluate`, `read`, `admin`) on every route but `/health`.
    #[arg(long, value_enum, requires = "tokens")]
    authentication: Option<Authentication>,
    /// Tokens file (YAML or JSON): `tokens: [{subject, sha256, roles}]`.
    #[arg(long, value_name = "FILE", requires = "authentication")]
    tokens: Option<PathBuf>,
    /// Refused requests (401/403) a client address may have at once before further refusals are
    /// answered 429 with `Retry-After` (an IPv6 client counts by its /64).
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    refusal_burst: u32,
    /// Refused requests a client address may have per minute, once its burst is spent.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    refusals_per_minute: u32,
    /// Seconds between writes of the access records: the refusals of each address, status and
    /// reason are written as one record per interval with their count (and at shutdown).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    access_interval: u64,
    /// Listen on a non-loopback address without authentication (anyone who reaches the port can
    /// submit decisions).
    #[arg(long, conflicts_with = "authentication")]
    insecure_no_auth: bool,
    /// Serve HTTPS with this PEM certificate chain (leaf first); read again when it changes and
    /// on reload.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Accept only clients presenting a certificate issued by a CA of this PEM file (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
}

impl ServeArgs {
    /// The certificate files when HTTPS is asked for, read and checked.
    fn certificates(&self) -> Result<Option<Arc<Certificates>>, Failure> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: self.tls_client_ca.clone(),
        };
        Certificates::load(files)
            .map(|certificates| Some(Arc::new(certificates)))
            .context("cannot serve HTTPS")
            .map_err(Failure::Invalid)
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Authentication {
    /// Bearer tokens listed by SHA-256 digest in `--tokens`.
    Token,
}

pub(crate) fn run(args: &ServeArgs) -> Result<u8, Failure> {
    if args.authentication.is_none() && !args.listen.ip().is_loopback() && !args.insecure_no_auth {
        return Err(Failure::Invalid(anyhow!(
            "refusing to listen on {} without authentication: give `--authentication token --tokens FILE`, or `--insecure-no-auth` to accept anyone who reaches the port",
            args.listen
        )));
    }
    let certificates = args.certificates()?;
    let tls = certificates
        .as_ref()
        .map(|certificates| certificates.server_config())
        .transpose()
        .context("cannot serve HTTPS")
        .map_err(Failure::Invalid)?;
    let engine = Arc::new(args.cache.engine()?);
    let loader = GateLoader {
        policies: args.policies.clone(),
        files: OptionFiles {
            settings: args.settings.clone(),
            waivers: args.waivers.clone(),
            service: args.service.clone(),
        },
        recorder: RecorderOptions {
            audit_log: args.audit_log.clone(),
            mask: args.mask.clone(),
            change_started_at: None,
            writer_key: args.writer_key.clone(),
        },
        observer: std::sync::OnceLock::new(),
        trust: args.trust.trust()?,
        engine: Arc::clone(&engine),
    };
    let project = tollgate_runtime::discover(args.audit_log.as_deref())?;
    let sealer = tollgate_runtime::sealer(&project, args.writer_key.as_deref())?;
    let schedule = Schedule {
        key: args.checkpoint_key.clone(),
        output: args.checkpoint_output.clone(),
        every: args.checkpoint_every,
        interval: args.checkpoint_interval,
    };
    let checkpointer = Job::of_project(&project, &schedule)?.map(Checkpointer::start);
    if let Some(checkpointer) = &checkpointer {
        let observer: Arc<dyn AppendObserver> = checkpointer.clone();
        let _ = loader.observer.set(observer);
    }
    let tokens_file = args.tokens.clone();
    let load = move || -> Result<_, Failure> {
        let tokens = tokens_file
            .as_deref()
            .map(tollgate_runtime::read_tokens)
            .transpose()?;
        let (gate, project) = loader.load()?;
        Ok((gate, tokens, project))
    };
    let (gate, tokens, project) = load()?;
    let pool = engine.limits().max_instances.max(1);
    let slots = args.max_concurrent.unwrap_or(pool).min(pool);
    let written = Written {
        sealer,
        observer: checkpointer
            .clone()
            .map(|c| -> Arc<dyn AppendObserver> { c }),
    };
    let gateway = Gateway::new(
        gate,
        usize::try_from(slots).unwrap_or(64),
        Duration::from_secs(args.timeout),
    )
    .with_marker(Box::new(LogMarker {
        project: project.clone(),
        written: written.clone(),
    }))
    .with_access_log(Box::new(LogAccess { project, written }))
    .with_waiting_limits(WaitingLimits {
        requests: usize::try_from(args.max_waiting).unwrap_or(usize::MAX),
        bytes: usize::try_from(args.max_waiting_mib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1 << 20),
    })
    .with_refusal_limits(RefusalLimits {
        burst: args.refusal_burst,
        refill: Duration::from_secs(60) / args.refusals_per_minute,
        interval: Duration::from_secs(args.access_interval),
        ..RefusalLimits::default()
    })
    .with_reloader(Box::new(move || {
        if let Some(certificates) = &certificates {
            certificates.reload()?;
        }
        load()
            .map(|(gate, tokens, _)| Reloaded { gate, tokens })
            .map_err(Failure::into_error)
    }));
    let gateway = match tokens {
        Some(tokens) => gateway.with_tokens(tokens),
        None => gateway,
    };
    // The direct production changes already in the log, and whether it takes records.
    gateway.refresh();
    let gateway = Arc::new(gateway);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::Internal)?;
    let served = runtime.block_on(tollgate_runtime::serve(gateway, args.listen, tls));
    if let Some(checkpointer) = &checkpointer {
        checkpointer.stop();
    }
    served?;
    Ok(exit::APPROVED)
}
