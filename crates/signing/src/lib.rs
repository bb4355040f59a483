//! Signed policies: a detached Ed25519 signature over a policy component's digest and metadata
//! (policy id, version, ABI), so that an unsigned, altered or untrusted component is refused before
//! it runs.
//!
//! The signature file is a **DSSE envelope** (Dead Simple Signing Envelope, the envelope of in-toto
//! attestations and of Sigstore bundles' `dsseEnvelope`): `payloadType`
//! [`PAYLOAD_TYPE`], the base64 JSON [`Statement`] as `payload`, and one signature per key over
//! DSSE's pre-authentication encoding, each with its `keyid`. Keys are Ed25519; a key id is
//! `ed25519:` and the first 16 hex digits of the SHA-256 of the raw public key.
//!
//! ```text
//! {"payloadType": "application/vnd.tollgate.policy-statement+json",
//!  "payload": "<base64 of {\"digest\":\"sha256:…\",\"policy\":{\"id\":\"acme\",\"version\":\"1.2.0\",\"abi\":\"tollgate:policy@0.2.0\"}}>",
//!  "signatures": [{"keyid": "ed25519:0123456789abcdef", "sig": "<base64>"}]}
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The DSSE payload type of a policy statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.tollgate.policy-statement+json";

/// What a signature says of a policy component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// `sha256:<hex>` of the component's bytes.
    pub digest: String,
    /// The policy's identity.
    pub policy: Subject,
}

/// A policy's identity as its metadata states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Policy id.
    pub id: String,
    /// Policy version.
    pub version: String,
    /// The contract the component implements (its WIT package: `tollgate:policy@0.2.0`, or
    /// `tollgate:policy@0.1.0` for a component built before 0.2.0). A signature verifies only
    /// against a component implementing the contract it names.
    pub abi: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Base64 of the statement's JSON.
    pub payload: String,
    /// [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// One signature per key.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Key id of the signer.
    pub keyid: String,
    /// Base64 of the Ed25519 signature.
    pub sig: String,
}

/// Why a key, a signature or a policy is refused. Messages name what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// A key file that cannot be read.
    #[error("invalid key: {0}")]
    Key(String),
    /// No randomness for a new key.
    #[error("cannot generate a key: {0}")]
    Random(String),
    /// The policy has no signature.
    #[error("policy `{0}` is unsigned (no signature file)")]
    Unsigned(String),
    /// The signature file is not a DSSE envelope of a policy statement.
    #[error("the signature of policy `{policy}` is malformed: {reason}")]
    Malformed {
        /// The policy.
        policy: String,
        /// What is wrong.
        reason: String,
    },
    /// The component is not the one that was signed.
    #[error("policy `{policy}` was altered: its digest is {found}, the signature is for {signed}")]
    Altered {
        /// The policy.
        policy: String,
        /// Digest signed.
        signed: String,
        /// Digest of the component.
        found: String,
    },
    /// The component's metadata is not the one that was signed.
    #[error("policy `{policy}` does not match its signature: signed {signed}, found {found}")]
    Metadata {
        /// The policy.
        policy: String,
        /// What was signed (`id version abi`).
        signed: String,
        /// What the component states.
        found: String,
    },
    /// No signature by a trusted key.
    #[error("policy `{policy}` is not signed by a trusted key (signed by {}; trusted: {})", join(.signers), join(.trusted))]
    Untrusted {
        /// The policy.
        policy: String,
        /// Key ids that signed it.
        signers: Vec<String>,
        /// Key ids trusted.
        trusted: Vec<String>,
    },
    /// A trusted key's signature does not verify.
    #[error("the signature of policy `{policy}` by `{keyid}` does not verify")]
    BadSignature {
        /// The policy.
        policy: String,
        /// The key.
        keyid: String,
    },
}

fn join(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl SigningError {
    /// The stable kind: `unsigned`, `malformed`, `altered`, `metadata`, `untrusted`,
    /// `bad_signature`, `key`, `random`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Key(_) => "key",
            Self::Random(_) => "random",
            Self::Unsigned(_) => "unsigned",
            Self::Malformed { .. } => "malformed",
            Self::Altered { .. } => "altered",
            Self::Metadata { .. } => "metadata",
            Self::Untrusted { .. } => "untrusted",
            Self::BadSignature { .. } => "bad_signature",
        }
    }
}

/// `sha256:<hex>` of bytes.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A public key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

/// The serialised form of a key file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    keyid: String,
    algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    let hash = sha2::Sha256::digest(key.as_bytes());
    format!("ed25519:{}", &hex::encode(hash)[..16])
}

impl PublicKey {
    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key file: JSON with `keyid`, `algorithm` and the base64 `public` key.
    pub fn encode(&self) -> String {
        let file = KeyFile {
            keyid: self.id.clone(),
            algorithm: "ed25519".into(),
            public: Some(B64.encode(self.key.as_bytes())),
            secret: None,
        };
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }

    /// Parses a public key file (or a secret key file, taking its public half).
    pub fn parse(text: &str) -> Result<Self, SigningError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| SigningError::Key(e.to_string()))?;
        if file.algorithm != "ed25519" {
            return Err(SigningError::Key(format!(
                "unsupported algorithm `{}`, expected `ed25519`",
                file.algorithm
            )));
        }
        let key = match (&file.public, &file.secret) {
            (Some(public), _) => {
                let bytes: [u8; 32] = B64
                    .decode(public)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| SigningError::Key("`public` is not 32 base64 bytes".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map_err(|e| SigningError::Key(e.to_string()))?
            }
            (None, Some(_)) => KeyPair::parse(text)?.secret.verifying_key(),
            (None, None) => return Err(SigningError::Key("neither `public` nor `secret`".into())),
        };
        let id = key_id(&key);
        if file.keyid != id {
            return Err(SigningError::Key(format!(
                "the key id `{}` is not the key's (`{id}`)",
                file.keyid
            )));
        }
        Ok(Self { key, id })
    }
}

/// A signing key.
pub struct KeyPair {
    secret: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.public().id)
    }
}

impl KeyPair {
    /// A new random key.
    pub fn generate() -> Result<Self, SigningError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SigningError::Random(e.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// A key from a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            secret: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let key = self.secret.verifying_key();
        PublicKey {
            id: key_id(&key),
            key,
        }
    }

    /// The secret key file: JSON with `keyid`, `algorithm` and the base64 `secret` seed.
    pub fn encode(&self) -> String {
        let file = KeyFile {
            keyid: self.public().id,
            algorithm: "ed25519".into(),
            public: None,
            secret: Some(B64.encode(self.secret.to_bytes())),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }

    /// Parses a secret key file.
    pub fn parse(text: &str) -> Result<Self, SigningError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| SigningError::Key(e.to_string()))?;
        let seed: [u8; 32] = file
            .secret
            .as_deref()
            .and_then(|s| B64.decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SigningError::Key("`secret` is not 32 base64 bytes".into()))?;
        let pair = Self::from_seed(seed);
        if pair.public().id != file.keyid {
            return Err(SigningError::Key(format!(
                "the key id `{}` is not the key's (`{}`)",
                file.keyid,
                pair.public().id
            )));
        }
        Ok(pair)
    }

    /// Signs a component: the envelope of its statement, signed by this key.
    pub fn sign(&self, component: &[u8], subject: &Subject) -> Envelope {
        let statement = Statement {
            digest: digest(component),
            policy: subject.clone(),
        };
        let payload = serde_json::to_vec(&statement).unwrap_or_default();
        let signature = self.secret.sign(&pae(PAYLOAD_TYPE, &payload));
        Envelope {
            payload: B64.encode(&payload),
            payload_type: PAYLOAD_TYPE.to_owned(),
            signatures: vec![EnvelopeSignature {
                keyid: self.public().id,
                sig: B64.encode(signature.to_bytes()),
            }],
        }
    }
}

impl Envelope {
    /// The envelope as JSON text.
    pub fn encode(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Verifies a component against its signature file and the trusted keys: the envelope must be a
/// policy statement of this component's digest and metadata, signed by at least one trusted key
/// whose signature verifies. Returns the trusted signer's key id.
pub fn verify(
    component: &[u8],
    subject: &Subject,
    signature_text: &str,
    trusted: &[PublicKey],
) -> Result<String, SigningError> {
    let (signer, statement) = open(component, &subject.id, signature_text, trusted)?;
    check_subject(&statement, subject)?;
    Ok(signer)
}

/// The first half of [`verify`], before the component is even compiled: the envelope is a policy
/// statement of exactly these bytes, signed by a trusted key. `name` names the policy in errors.
/// Returns the signer's key id and the statement, whose metadata [`check_subject`] then compares
/// with the component's.
pub fn open(
    component: &[u8],
    name: &str,
    signature_text: &str,
    trusted: &[PublicKey],
) -> Result<(String, Statement), SigningError> {
    let policy = name.to_owned();
    let malformed = |reason: String| SigningError::Malformed {
        policy: policy.clone(),
        reason,
    };
    let envelope: Envelope =
        serde_json::from_str(signature_text).map_err(|e| malformed(e.to_string()))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(malformed(format!(
            "payload type `{}`, expected `{PAYLOAD_TYPE}`",
            envelope.payload_type
        )));
    }
    let payload = B64
        .decode(&envelope.payload)
        .map_err(|e| malformed(format!("payload: {e}")))?;
    let statement: Statement =
        serde_json::from_slice(&payload).map_err(|e| malformed(format!("statement: {e}")))?;
    let found = digest(component);
    if statement.digest != found {
        return Err(SigningError::Altered {
            policy,
            signed: statement.digest,
            found,
        });
    }
    let message = pae(&envelope.payload_type, &payload);
    for signature in &envelope.signatures {
        let Some(key) = trusted.iter().find(|k| k.id == signature.keyid) else {
            continue;
        };
        let bytes: Option<[u8; 64]> = B64
            .decode(&signature.sig)
            .ok()
            .and_then(|b| b.try_into().ok());
        let verified = bytes
            .map(|b| ed25519_dalek::Signature::from_bytes(&b))
            .is_some_and(|s| key.key.verify(&message, &s).is_ok());
        if verified {
            return Ok((key.id.clone(), statement));
        }
        return Err(SigningError::BadSignature {
            policy,
            keyid: key.id.clone(),
        });
    }
    Err(SigningError::Untrusted {
        policy,
        signers: envelope
            .signatures
            .iter()
            .map(|s| s.keyid.clone())
            .collect(),
        trusted: trusted.iter().map(|k| k.id.clone()).collect(),
    })
}

/// The second half of [`verify`]: the signed metadata is the component's own.
pub fn check_subject(statement: &Statement, subject: &Subject) -> Result<(), SigningError> {
    if statement.policy == *subject {
        return Ok(());
    }
    let show = |s: &Subject| format!("`{} {} {}`", s.id, s.version, s.abi);
    Err(SigningError::Metadata {
        policy: subject.id.clone(),
        signed: show(&statement.policy),
        found: show(subject),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            id: "acme".into(),
            version: "1.2.0".into(),
            abi: "tollgate:policy@0.1.0".into(),
        }
    }

    const WASM: &[u8] = b"\0asm component bytes";

    #[test]
    fn a_signed_component_verifies_with_the_signers_key_id() {
        let key = KeyPair::from_seed([1; 32]);
        let envelope = key.sign(WASM, &subject()).encode();
        let signer = verify(WASM, &subject(), &envelope, &[key.public()]).unwrap();
        assert_eq!(signer, key.public().id());
        assert!(signer.starts_with("ed25519:"));
        assert_eq!(signer.len(), "ed25519:".len() + 16);
    }

    #[test]
    fn a_signature_names_the_contract_the_component_implements() {
        let key = KeyPair::from_seed([1; 32]);
        let old = subject();
        let current = Subject {
            abi: "tollgate:policy@0.2.0".into(),
            ..subject()
        };
        for subject in [&old, &current] {
            let envelope = key.sign(WASM, subject).encode();
            assert!(verify(WASM, subject, &envelope, &[key.public()]).is_ok());
        }
        let signed_for_old = key.sign(WASM, &old).encode();
        let error = verify(WASM, &current, &signed_for_old, &[key.public()]).unwrap_err();
        assert_eq!(error.kind(), "metadata");
        assert!(
            error.to_string().contains("tollgate:policy@0.1.0"),
            "{error}"
        );
    }

    #[test]
    fn each_refusal_reason_is_named() {
        let key = KeyPair::from_seed([1; 32]);
        let other = KeyPair::from_seed([2; 32]);
        let envelope = key.sign(WASM, &subject()).encode();
        let kind = |component: &[u8], subject: &Subject, text: &str, trusted: &[PublicKey]| {
            verify(component, subject, text, trusted)
                .unwrap_err()
                .kind()
        };
        assert_eq!(
            kind(b"\0asm altered", &subject(), &envelope, &[key.public()]),
            "altered"
        );
        let newer = Subject {
            version: "1.3.0".into(),
            ..subject()
        };
        assert_eq!(kind(WASM, &newer, &envelope, &[key.public()]), "metadata");
        assert_eq!(
            kind(WASM, &subject(), &envelope, &[other.public()]),
            "untrusted"
        );
        assert_eq!(kind(WASM, &subject(), "{}", &[key.public()]), "malformed");
        // A signature of the right key id that does not verify.
        let mut forged = key.sign(WASM, &subject());
        forged.signatures[0].sig = other.sign(WASM, &subject()).signatures[0].sig.clone();
        assert_eq!(
            kind(WASM, &subject(), &forged.encode(), &[key.public()]),
            "bad_signature"
        );
        let message = verify(WASM, &subject(), &envelope, &[other.public()])
            .unwrap_err()
            .to_string();
        assert!(message.contains(key.public().id()), "{message}");
    }

    #[test]
    fn keys_round_trip_and_ids_are_checked() {
        let key = KeyPair::generate().unwrap();
        let secret = key.encode();
        let public = key.public().encode();
        assert_eq!(KeyPair::parse(&secret).unwrap().public(), key.public());
        assert_eq!(PublicKey::parse(&public).unwrap(), key.public());
        assert_eq!(PublicKey::parse(&secret).unwrap(), key.public());
        assert!(!public.contains("secret"));
        let wrong = public.replace(key.public().id(), "ed25519:0000000000000000");
        assert_eq!(PublicKey::parse(&wrong).unwrap_err().kind(), "key");
    }

    #[test]
    fn the_envelope_is_dsse() {
        let key = KeyPair::from_seed([3; 32]);
        let envelope: serde_json::Value =
            serde_json::from_str(&key.sign(WASM, &subject()).encode()).unwrap();
        assert_eq!(envelope["payloadType"], PAYLOAD_TYPE);
        assert!(envelope["signatures"][0]["keyid"].is_string());
        let payload = B64.decode(envelope["payload"].as_str().unwrap()).unwrap();
        let statement: Statement = serde_json::from_slice(&payload).unwrap();
        assert_eq!(statement.digest, digest(WASM));
        assert!(pae("t", b"ab").starts_with(b"DSSEv1 1 t 2 ab"));
    }
}
