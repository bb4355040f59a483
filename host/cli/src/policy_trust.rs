//! `tollgate policy keygen | sign | verify`, and the trust that `eval` and `serve` apply before a
//! policy component runs: with `--require-signed` (or trusted keys given), a component file must
//! carry a DSSE signature (`POLICY.wasm.sig`) by a trusted Ed25519 key over its digest and metadata,
//! or it is refused (a policy failure: exit 5, HTTP 500 `policy_failure`). Built-in packs are
//! trusted by their embedded digests. See `tollgate_signing` for the format.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use tollgate_engine::{LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_pipeline::{Candidate, Evaluator, PolicyError, PolicyFailure, exit};
use tollgate_signing::{KeyPair, PublicKey, SigningError, Subject};

use crate::{CacheArgs, Failure};

/// `tollgate policy`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyAction {
    /// Generates an Ed25519 key pair for signing policies: `NAME.key` (secret, mode 0600) and
    /// `NAME.pub` (give it to whoever runs the policies, as `--trusted-key`).
    Keygen {
        /// File name of the keys, without extension.
        #[arg(long, default_value = "policy-signing")]
        name: String,
        /// Directory to write them to.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Signs a policy component: writes a detached DSSE signature over its digest, policy id,
    /// version and ABI to `POLICY.wasm.sig`.
    Sign {
        /// The policy component.
        policy: PathBuf,
        /// The secret key (`tollgate policy keygen`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Where to write the signature [default: POLICY.wasm.sig].
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Verifies a policy component's signature against trusted keys: exit 0 and the signer's key
    /// id when trusted, exit 5 with the reason (unsigned, altered, untrusted, ...) otherwise.
    Verify {
        /// The policy component.
        policy: PathBuf,
        /// A trusted public key (repeatable).
        #[arg(long = "trusted-key", value_name = "FILE", required = true)]
        trusted_keys: Vec<PathBuf>,
        /// The signature [default: POLICY.wasm.sig].
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
    },
}

/// Trust options of `eval` and `serve`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TrustArgs {
    /// A public key trusted to sign policy components (repeatable); with it, a component file runs
    /// only with a valid signature by one of the trusted keys.
    #[arg(long = "trusted-key", value_name = "FILE")]
    pub(crate) trusted_keys: Vec<PathBuf>,
    /// Refuses any policy component file without a valid signature by a trusted key (built-in
    /// packs are trusted by their embedded digests).
    #[arg(long)]
    pub(crate) require_signed: bool,
}

/// The trust applied to policy components, read before any policy loads.
#[derive(Debug, Default)]
pub(crate) struct Trust {
    keys: Vec<PublicKey>,
    required: bool,
}

/// The `policies` section of `.tollgate/config.yaml`.
#[derive(Debug, Default, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    policies: PoliciesConfig,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliciesConfig {
    #[serde(default)]
    trust: TrustConfig,
}

/// `policies.trust`: `keys` (public key files, relative to the project directory) and
/// `require_signed`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustConfig {
    #[serde(default)]
    keys: Vec<PathBuf>,
    #[serde(default)]
    require_signed: bool,
}

impl TrustArgs {
    /// Reads the trusted keys: `--trusted-key` and `policies.trust.keys` of `.tollgate/config.yaml`;
    /// signatures are required with `--require-signed`, `policies.trust.require_signed`, or any
    /// trusted key.
    pub(crate) fn trust(&self) -> Result<Trust, Failure> {
        let cwd = std::env::current_dir()
            .context("cannot read the current directory")
            .map_err(Failure::Internal)?;
        let project = tollgate_decision_log::project_dir(&cwd);
        let config_path = project
            .join(tollgate_decision_log::config::STATE_DIR)
            .join(tollgate_decision_log::config::CONFIG_FILE);
        let config = match std::fs::read_to_string(&config_path) {
            Err(_) => TrustConfig::default(),
            Ok(text) => {
                tollgate_manifest::decode::<Option<ConfigFile>>(
                    &text,
                    tollgate_manifest::Format::Yaml,
                )
                .map_err(|e| {
                    Failure::Invalid(anyhow!(
                        "invalid configuration `{}`: {e}",
                        config_path.display()
                    ))
                })?
                .unwrap_or_default()
                .policies
                .trust
            }
        };
        let keys = self
            .trusted_keys
            .iter()
            .cloned()
            .chain(config.keys.iter().map(|k| project.join(k)))
            .map(|path| read_public_key(&path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Trust {
            required: self.require_signed || config.require_signed || !keys.is_empty(),
            keys,
        })
    }
}

fn read_public_key(path: &Path) -> Result<PublicKey, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read trusted key `{}`", path.display()))
        .map_err(Failure::Invalid)?;
    PublicKey::parse(&text)
        .map_err(|e| Failure::Invalid(anyhow!("trusted key `{}`: {e}", path.display())))
}

/// The signature file of a component: `POLICY.wasm.sig`.
/// A policy component's bytes, and the policy they load as (its metadata names what is signed).
fn read_policy(cache: &CacheArgs, policy: &Path) -> Result<(Vec<u8>, LoadedPolicy), Failure> {
    let bytes = std::fs::read(policy)
        .with_context(|| format!("failed to read policy `{}`", policy.display()))
        .map_err(Failure::Invalid)?;
    let loaded = cache
        .engine()?
        .load(PolicySource::Bytes {
            name: policy.display().to_string(),
            bytes: bytes.clone(),
        })
        .map_err(|e| Failure::Policy(anyhow!("{e}")))?;
    Ok((bytes, loaded))
}

fn signature_path(policy: &Path) -> PathBuf {
    let mut name = policy.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn subject(policy: &LoadedPolicy) -> Subject {
    let metadata = policy.metadata();
    Subject {
        id: metadata.id.clone(),
        version: metadata.version.clone(),
        // The contract this component implements (`tollgate:policy@0.2.0` or `@0.1.0`): a
        // signature names it, so one over a 0.1.0 component verifies only against that component.
        abi: policy.contract().abi().to_owned(),
    }
}

/// A loaded policy and who vouches for it.
struct Vouched {
    policy: LoadedPolicy,
    signer: String,
}

impl Evaluator for Vouched {
    fn metadata(&self) -> &tollgate_decision::PolicyMetadata {
        self.policy.metadata()
    }
    fn digest(&self) -> &str {
        self.policy.digest()
    }
    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        Evaluator::validate_settings(&self.policy, settings_json)
    }
    fn evaluate(
        &self,
        manifest: &tollgate_manifest::Manifest,
        settings_json: &str,
        now: tollgate_manifest::Timestamp,
    ) -> Result<tollgate_decision::Decision, PolicyFailure> {
        Evaluator::evaluate(&self.policy, manifest, settings_json, now)
    }
    fn signer(&self) -> Option<&str> {
        Some(&self.signer)
    }
}

/// A refused policy: a failure of every decision, never an approval.
fn refused(name: &str, error: &SigningError) -> Candidate {
    Candidate::Failed(PolicyError {
        policy: name.to_owned(),
        kind: "untrusted",
        message: format!("refused before it ran: {error}"),
        failure: None,
    })
}

impl Trust {
    /// Loads a policy under this trust: a component file is verified against its signature before
    /// it is compiled (refused when unsigned, altered, of other metadata or not signed by a trusted
    /// key); built-in packs are vouched for by their embedded digests.
    pub(crate) fn load(&self, engine: &PolicyEngine, source: PolicySource) -> Candidate {
        let name = source.name();
        let path = match &source {
            PolicySource::File(path) => Some(path.clone()),
            PolicySource::Builtin(_) | PolicySource::Bytes { .. } => None,
        };
        if matches!(source, PolicySource::Builtin(_)) {
            return match engine.load(source) {
                Ok(policy) => Candidate::Loaded(Box::new(Vouched {
                    policy,
                    signer: "builtin".to_owned(),
                })),
                Err(error) => Candidate::Failed(PolicyError::load(&name, error)),
            };
        }
        let Some(path) = path.filter(|_| self.required) else {
            return match engine.load(source) {
                Ok(policy) => Candidate::Loaded(Box::new(policy)),
                Err(error) => Candidate::Failed(PolicyError::load(&name, error)),
            };
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Candidate::Failed(PolicyError::load(
                    &name,
                    format!("cannot read `{}`: {e}", path.display()),
                ));
            }
        };
        // The signature is checked before the component is compiled, on the very bytes compiled.
        let Ok(signature) = std::fs::read_to_string(signature_path(&path)) else {
            return refused(&name, &SigningError::Unsigned(name.clone()));
        };
        let (signer, statement) =
            match tollgate_signing::open(&bytes, &name, &signature, &self.keys) {
                Ok(opened) => opened,
                Err(error) => return refused(&name, &error),
            };
        let policy = match engine.load(PolicySource::Bytes {
            name: name.clone(),
            bytes,
        }) {
            Ok(policy) => policy,
            Err(error) => return Candidate::Failed(PolicyError::load(&name, error)),
        };
        match tollgate_signing::check_subject(&statement, &subject(&policy)) {
            Ok(()) => Candidate::Loaded(Box::new(Vouched { policy, signer })),
            Err(error) => refused(&name, &error),
        }
    }
}

/// Runs `tollgate policy`.
pub(crate) fn run(action: &PolicyAction) -> Result<u8, Failure> {
    match action {
        PolicyAction::Keygen { name, dir } => keygen(name, dir),
        PolicyAction::Sign {
            policy,
            key,
            output,
            cache,
        } => {
            let text = std::fs::read_to_string(key)
                .with_context(|| format!("failed to read key `{}`", key.display()))
                .map_err(Failure::Invalid)?;
            let pair = KeyPair::parse(&text)
                .map_err(|e| Failure::Invalid(anyhow!("key `{}`: {e}", key.display())))?;
            let (bytes, loaded) = read_policy(cache, policy)?;
            let subject = subject(&loaded);
            let envelope = pair.sign(&bytes, &subject);
            let out = output.clone().unwrap_or_else(|| signature_path(policy));
            std::fs::write(&out, envelope.encode())
                .with_context(|| format!("failed to write `{}`", out.display()))
                .map_err(Failure::Invalid)?;
            crate::render::emit(&format!(
                "signed `{}` {} (policy `{}` {}, {}) with `{}`: {}\n",
                policy.display(),
                tollgate_signing::digest(&bytes),
                subject.id,
                subject.version,
                subject.abi,
                pair.public().id(),
                out.display()
            ));
            Ok(exit::APPROVED)
        }
        PolicyAction::Verify {
            policy,
            trusted_keys,
            signature,
            cache,
        } => {
            let keys = trusted_keys
                .iter()
                .map(|p| read_public_key(p))
                .collect::<Result<Vec<_>, _>>()?;
            let (bytes, loaded) = read_policy(cache, policy)?;
            let path = signature.clone().unwrap_or_else(|| signature_path(policy));
            let verified = std::fs::read_to_string(&path)
                .map_err(|_| SigningError::Unsigned(loaded.metadata().id.clone()))
                .and_then(|text| tollgate_signing::verify(&bytes, &subject(&loaded), &text, &keys));
            match verified {
                Ok(signer) => {
                    crate::render::emit(&format!(
                        "trusted: `{}` (policy `{}` {}) is signed by `{signer}`\n",
                        policy.display(),
                        loaded.metadata().id,
                        loaded.metadata().version
                    ));
                    Ok(exit::APPROVED)
                }
                Err(error) => Err(Failure::Policy(anyhow!("{error}"))),
            }
        }
    }
}

fn keygen(name: &str, dir: &Path) -> Result<u8, Failure> {
    let pair = KeyPair::generate().map_err(|e| Failure::Internal(e.into()))?;
    let secret = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    if secret.exists() {
        return Err(Failure::Invalid(anyhow!(
            "`{}` exists: keys are never overwritten",
            secret.display()
        )));
    }
    write_secret(&secret, &pair.encode())?;
    std::fs::write(&public, pair.public().encode())
        .with_context(|| format!("failed to write `{}`", public.display()))
        .map_err(Failure::Invalid)?;
    crate::render::emit(&format!(
        "key `{}`: secret {} (keep it private), public {}\n",
        pair.public().id(),
        secret.display(),
        public.display()
    ));
    Ok(exit::APPROVED)
}

fn write_secret(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .with_context(|| format!("failed to write `{}`", path.display()))
        .map_err(Failure::Invalid)
}
