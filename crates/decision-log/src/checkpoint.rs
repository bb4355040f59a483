//! Signed checkpoints in the C2SP `tlog-checkpoint` format, signed as C2SP `signed-note`s with
//! Ed25519 keys in the note key format (compatible with `golang.org/x/mod/sumdb/note`).
//!
//! A checkpoint is the text
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>
//! ```
//!
//! where the signature is over the first three lines, newlines included. Keys are written as
//! `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>` (signer) and
//! `<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte public key)>` (verifier); the key id is the first
//! four bytes of SHA-256(name ‖ `\n` ‖ 0x01 ‖ public key).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, Verifier};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The Ed25519 algorithm byte of the note key format.
const ALG_ED25519: u8 = 0x01;

/// The signature line prefix: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a key or checkpoint could not be read, made or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A key name is not usable.
    #[error("invalid key name `{0}`: it must be non-empty and contain no `+` or whitespace")]
    KeyName(String),
    /// A key text is malformed.
    #[error("invalid {what} key: {reason}")]
    Key {
        /// `signing` or `verifier`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No randomness for a new key.
    #[error("cannot generate a key: the system random source failed: {0}")]
    Random(String),
    /// The checkpoint text is malformed.
    #[error("invalid checkpoint: {0}")]
    Format(String),
    /// No signature by the expected key.
    #[error("the checkpoint is not signed by key `{0}`")]
    NotSigned(String),
    /// A signature by the expected key does not verify.
    #[error(
        "the checkpoint's signature by key `{0}` does not verify: the checkpoint was altered or signed by another key"
    )]
    BadSignature(String),
    /// The checkpoint is of another log.
    #[error("the checkpoint is of log `{found}`, not `{expected}`")]
    Origin {
        /// Expected origin.
        expected: String,
        /// Origin in the checkpoint.
        found: String,
    },
}

/// The unsigned content of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (its unique name).
    pub origin: String,
    /// Number of records covered.
    pub size: u64,
    /// Merkle root of those records.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: origin, size and base64 root, each followed by a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.0)
        )
    }

    /// Parses a note body (extension lines after the root are allowed and ignored).
    pub fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        let format = |reason: &str| CheckpointError::Format(reason.to_owned());
        let Some(body) = body.strip_suffix('\n') else {
            return Err(format("the body does not end with a newline"));
        };
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| format("the origin line is empty"))?;
        let size_text = lines
            .next()
            .ok_or_else(|| format("the tree size line is missing"))?;
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(format(&format!(
                "tree size `{size_text}` is not a decimal number"
            )));
        }
        let size = size_text
            .parse()
            .map_err(|_| format(&format!("tree size `{size_text}` is too large")))?;
        let root_text = lines
            .next()
            .ok_or_else(|| format("the root hash line is missing"))?;
        let root: [u8; 32] = BASE64
            .decode(root_text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format(&format!(
                    "root hash `{root_text}` is not 32 bytes of base64"
                ))
            })?;
        if lines.any(str::is_empty) {
            return Err(format("an extension line is empty"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root: Hash(root),
        })
    }
}

fn check_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(CheckpointError::KeyName(name.to_owned()));
    }
    Ok(())
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ALG_ED25519]);
    hasher.update(public);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn decode_key(what: &'static str, text: &str) -> Result<[u8; 32], CheckpointError> {
    let bytes = BASE64.decode(text).map_err(|e| CheckpointError::Key {
        what,
        reason: format!("the key is not base64: {e}"),
    })?;
    match bytes.split_first() {
        Some((&ALG_ED25519, key)) => key.try_into().map_err(|_| CheckpointError::Key {
            what,
            reason: format!("the key is {} bytes, not 32", key.len()),
        }),
        _ => Err(CheckpointError::Key {
            what,
            reason: "the key is not an Ed25519 key (algorithm byte 0x01)".to_owned(),
        }),
    }
}

/// An Ed25519 signing key with its name.
pub struct SigningKey {
    name: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a key from the system random source.
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| CheckpointError::Random(e.to_string()))?;
        Self::from_seed(name, seed)
    }

    /// A key from a 32-byte seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, CheckpointError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64>`.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let error = |reason: &str| CheckpointError::Key {
            what: "signing",
            reason: reason.to_owned(),
        };
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| error("it does not start with `PRIVATE+KEY+`"))?;
        let [name, id, key] = rest.splitn(3, '+').collect::<Vec<_>>()[..] else {
            return Err(error("expected `PRIVATE+KEY+<name>+<id>+<key>`"));
        };
        let seed = decode_key("signing", key)?;
        let signing = Self::from_seed(name, seed)?;
        if format!("{:08x}", signing.id()) != id {
            return Err(error("the key id does not match the name and key"));
        }
        Ok(signing)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        key_id(&self.name, self.key.verifying_key().as_bytes())
    }

    /// The signing key text (keep it secret).
    pub fn encode(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id(),
            BASE64.encode(bytes)
        )
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs any message (a seal's signed text), returning the 64-byte Ed25519 signature.
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Signs a checkpoint, returning the signed note text.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let mut blob = self.id().to_be_bytes().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        )
    }
}

/// An Ed25519 verifier key with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key: ed25519_dalek::VerifyingKey,
}

impl VerifierKey {
    /// Parses `<name>+<id>+<base64>`.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let error = |reason: &str| CheckpointError::Key {
            what: "verifier",
            reason: reason.to_owned(),
        };
        let [name, id, key] = text.trim().splitn(3, '+').collect::<Vec<_>>()[..] else {
            return Err(error("expected `<name>+<id>+<key>`"));
        };
        check_name(name)?;
        let bytes = decode_key("verifier", key)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| error("the key is not a valid Ed25519 public key"))?;
        let verifier = Self {
            name: name.to_owned(),
            key,
        };
        if format!("{:08x}", verifier.id()) != id {
            return Err(error("the key id does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        key_id(&self.name, self.key.as_bytes())
    }

    /// The verifier key text.
    pub fn encode(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id(), BASE64.encode(bytes))
    }

    /// Whether `signature` (64 bytes) is this key's Ed25519 signature of `message`.
    pub fn verify_message(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature).is_ok_and(|s| self.key.verify(message, &s).is_ok())
    }

    /// Verifies a signed checkpoint and returns its content.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| CheckpointError::Format("no blank line before the signatures".into()))?;
        let body = &note[..=split];
        let signatures = &note[split + 2..];
        let checkpoint = Checkpoint::parse_body(body)?;
        let mut found = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
                return Err(CheckpointError::Format(format!(
                    "`{line}` is not a signature line"
                )));
            };
            let Some((name, blob)) = rest.split_once(' ') else {
                return Err(CheckpointError::Format(format!(
                    "`{line}` is not a signature line"
                )));
            };
            let blob = BASE64.decode(blob).map_err(|_| {
                CheckpointError::Format(format!("signature of `{name}` is not base64"))
            })?;
            if name != self.name || blob.len() < 4 || blob[..4] != self.id().to_be_bytes() {
                continue;
            }
            found = true;
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            self.key
                .verify(body.as_bytes(), &signature)
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
        }
        if found {
            Ok(checkpoint)
        } else {
            Err(CheckpointError::NotSigned(self.name.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_seed("tollgate-test", [7; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "example.com/audit".into(),
            size: 42,
            root: Hash::digest(b"root"),
        }
    }

    #[test]
    fn keys_round_trip_through_text() {
        let signing = key();
        let parsed = SigningKey::parse(&signing.encode()).unwrap();
        assert_eq!(parsed.encode(), signing.encode());
        let verifier = VerifierKey::parse(&signing.verifier().encode()).unwrap();
        assert_eq!(verifier, signing.verifier());
        assert!(signing.encode().starts_with("PRIVATE+KEY+tollgate-test+"));
        // Base64 keys contain `+` often: every seed must round-trip.
        for seed in 0..=255u8 {
            let signing = SigningKey::from_seed("k", [seed; 32]).unwrap();
            assert_eq!(
                SigningKey::parse(&signing.encode()).unwrap().id(),
                signing.id()
            );
            let verifier = signing.verifier();
            assert_eq!(VerifierKey::parse(&verifier.encode()).unwrap(), verifier);
        }
    }

    #[test]
    fn signed_checkpoints_verify_and_tampering_is_caught() {
        let signing = key();
        let note = signing.sign(&checkpoint());
        assert!(note.starts_with("example.com/audit\n42\n"));
        assert!(note.contains("\n\n\u{2014} tollgate-test "));
        assert_eq!(signing.verifier().verify(&note).unwrap(), checkpoint());

        let altered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            signing.verifier().verify(&altered).unwrap_err(),
            CheckpointError::BadSignature("tollgate-test".into())
        );
        let other = SigningKey::from_seed("other", [9; 32]).unwrap();
        assert_eq!(
            other.verifier().verify(&note).unwrap_err(),
            CheckpointError::NotSigned("other".into())
        );
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        for body in [
            "origin\n42\n",
            "origin\n042\nAAAA\n",
            "\n1\nAAAA\n",
            "origin\nx\nAAAA\n",
            "origin\n1\nAAAA",
        ] {
            assert!(Checkpoint::parse_body(body).is_err(), "{body:?}");
        }
        assert!(SigningKey::from_seed("has space", [1; 32]).is_err());
        assert!(VerifierKey::parse("name+00000000+AQ==").is_err());
    }
}
