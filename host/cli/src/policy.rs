//! `tollgate policy keygen | sign | verify | componentize`: Ed25519 keys, detached DSSE signatures
//! of policy components (`POLICY.wasm.sig`), their verification, and components of core modules
//! (`tollgate_runtime::componentize`). The trust `eval` and `serve` apply is
//! `tollgate_runtime::Trust`; the format is `tollgate_signing`'s.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Subcommand;
use tollgate_engine::{LoadedPolicy, PolicySource};
use tollgate_pipeline::exit;
use tollgate_runtime::{read_public_key, signature_path, subject};
use tollgate_signing::KeyPair;

use crate::common::{CacheArgs, Failure, emit, write_output};

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
    /// Makes a policy component of a core module built for wasm32-unknown-unknown with the policy
    /// SDK, and loads it to check it is a policy.
    Componentize {
        /// The core module (`target/wasm32-unknown-unknown/release/NAME.wasm`).
        module: PathBuf,
        /// Where to write the component.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        cache: CacheArgs,
    },
}

/// A policy component's bytes, and the policy they load as (its metadata names what is signed).
fn read_policy(cache: &CacheArgs, policy: &Path) -> Result<(Vec<u8>, LoadedPolicy), Failure> {
    let bytes = std::fs::read(policy)
        .with_context(|| format!("failed to read policy `{}`", policy.display()))
        .map_err(Failure::Invalid)?;
    let source = PolicySource::Bytes {
        name: policy.display().to_string(),
        bytes: bytes.clone(),
    };
    let loaded = cache
        .engine()?
        .load(source)
        .map_err(|e| Failure::Policy(anyhow::Error::new(e)))?;
    Ok((bytes, loaded))
}

/// Runs `tollgate policy`.
pub(crate) fn run(action: &PolicyAction) -> Result<u8, Failure> {
    match action {
        PolicyAction::Keygen { name, dir } => keygen(name, dir),
        PolicyAction::Componentize {
            module,
            output,
            cache,
        } => {
            let bytes = std::fs::read(module)
                .with_context(|| format!("failed to read module `{}`", module.display()))
                .map_err(Failure::Invalid)?;
            let component = tollgate_runtime::componentize(&bytes)?;
            write_output(output, &component)?;
            let (_, loaded) = read_policy(cache, output)?;
            let meta = loaded.metadata();
            emit(&format!(
                "componentized `{}`: {} ({} bytes, {}), policy `{}` {} ({})\n",
                module.display(),
                output.display(),
                component.len(),
                tollgate_signing::digest(&component),
                meta.id,
                meta.version,
                subject(&loaded).abi
            ));
            Ok(exit::APPROVED)
        }
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
            emit(&format!(
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
            match tollgate_runtime::verify(&bytes, &loaded, &path, &keys) {
                Ok(signer) => {
                    emit(&format!(
                        "trusted: `{}` (policy `{}` {}) is signed by `{signer}`\n",
                        policy.display(),
                        loaded.metadata().id,
                        loaded.metadata().version
                    ));
                    Ok(exit::APPROVED)
                }
                Err(error) => Err(error.into()),
            }
        }
    }
}

fn keygen(name: &str, dir: &Path) -> Result<u8, Failure> {
    let (pair, secret, public) = tollgate_runtime::write_policy_keys(name, dir)?;
    emit(&format!(
        "key `{}`: secret {} (keep it private), public {}\n",
        pair.public().id(),
        secret.display(),
        public.display()
    ));
    Ok(exit::APPROVED)
}
