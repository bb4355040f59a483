//! The trust applied before a policy component runs: with signatures required (a flag, the
//! configuration, or any trusted key), a component file must carry a DSSE signature
//! (`POLICY.wasm.sig`) by a trusted Ed25519 key over its digest and metadata, or it is refused (a
//! policy failure). Built-in packs are trusted by their embedded digests.

use std::path::{Path, PathBuf};

use tollgate_engine::{ErrorChain, LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_pipeline::{Candidate, Evaluator, PolicyError, PolicyFailure};
use tollgate_signing::{PublicKey, SigningError, Subject};

use crate::RuntimeError;
use crate::project_policies::project_policies;

/// The trust applied to policy components, read before any policy loads.
#[derive(Debug, Default)]
pub struct Trust {
    keys: Vec<PublicKey>,
    required: bool,
}

impl Trust {
    /// The trust of the working directory's project: `trusted_keys` and `policies.trust.keys`;
    /// signatures are required with `require_signed`, `policies.trust.require_signed`, or any
    /// trusted key.
    pub fn of_project(
        trusted_keys: &[PathBuf],
        require_signed: bool,
    ) -> Result<Self, RuntimeError> {
        let (project, policies) = project_policies()?;
        let config = policies.trust;
        let keys = trusted_keys
            .iter()
            .cloned()
            .chain(config.keys.iter().map(|k| project.join(k)))
            .map(|path| read_public_key(&path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            required: require_signed || config.require_signed || !keys.is_empty(),
            keys,
        })
    }

    /// Loads a policy under this trust: a component file is verified against its signature before
    /// it is compiled (refused when unsigned, altered, of other metadata or not signed by a trusted
    /// key); built-in packs are vouched for by their embedded digests.
    pub fn load(&self, engine: &PolicyEngine, source: PolicySource) -> Candidate {
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
                Err(error) => Candidate::Failed(PolicyError::load(&name, ErrorChain(&error))),
            };
        }
        let Some(path) = path.filter(|_| self.required) else {
            return match engine.load(source) {
                Ok(policy) => Candidate::Loaded(Box::new(policy)),
                Err(error) => Candidate::Failed(PolicyError::load(&name, ErrorChain(&error))),
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
            Err(error) => return Candidate::Failed(PolicyError::load(&name, ErrorChain(&error))),
        };
        match tollgate_signing::check_subject(&statement, &subject(&policy)) {
            Ok(()) => Candidate::Loaded(Box::new(Vouched { policy, signer })),
            Err(error) => refused(&name, &error),
        }
    }
}

/// Reads a trusted public key file.
pub fn read_public_key(path: &Path) -> Result<PublicKey, RuntimeError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuntimeError::Read {
        what: format!("trusted key `{}`", path.display()),
        source,
    })?;
    PublicKey::parse(&text).map_err(|source| RuntimeError::TrustedKey {
        path: path.to_path_buf(),
        source,
    })
}

/// The signature file of a component: `POLICY.wasm.sig`.
pub fn signature_path(policy: &Path) -> PathBuf {
    let mut name = policy.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// What a signature of `policy` names: its id, version and contract.
pub fn subject(policy: &LoadedPolicy) -> Subject {
    let metadata = policy.metadata();
    Subject {
        id: metadata.id.clone(),
        version: metadata.version.clone(),
        // The contract this component implements (`tollgate:policy@0.2.0` or `@0.1.0`): a
        // signature names it, so one over a 0.1.0 component verifies only against that component.
        abi: policy.contract().abi().to_owned(),
    }
}

/// Verifies `bytes` (loaded as `policy`) against the signature at `signature`: the signer's key
/// id when a trusted key signed it.
pub fn verify(
    bytes: &[u8],
    policy: &LoadedPolicy,
    signature: &Path,
    keys: &[PublicKey],
) -> Result<String, RuntimeError> {
    let text = std::fs::read_to_string(signature)
        .map_err(|_| SigningError::Unsigned(policy.metadata().id.clone()))?;
    Ok(tollgate_signing::verify(
        bytes,
        &subject(policy),
        &text,
        keys,
    )?)
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

/// Generates an Ed25519 key pair for signing policies: `DIR/NAME.key` (secret, mode 0600, never
/// overwritten) and `DIR/NAME.pub`.
pub fn write_policy_keys(
    name: &str,
    dir: &Path,
) -> Result<(tollgate_signing::KeyPair, PathBuf, PathBuf), RuntimeError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let pair = tollgate_signing::KeyPair::generate().map_err(RuntimeError::KeyGeneration)?;
    let secret = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    if secret.exists() {
        return Err(RuntimeError::KeyExists(secret));
    }
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RuntimeError::WriteKey { path, source }
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret)
        .and_then(|mut file| file.write_all(pair.encode().as_bytes()))
        .map_err(failed(&secret))?;
    std::fs::write(&public, pair.public().encode()).map_err(failed(&public))?;
    Ok((pair, secret, public))
}
