//! The seal record: a writer's Ed25519 signature over the records of one append, naming each by id
//! and by the SHA-256 of its JSON bytes as framed. Sealing appends and checking seals is
//! [`crate::seal`]'s job; this module is only the record and its signed text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use tollgate_manifest::Timestamp;

use crate::checkpoint::VerifierKey;

/// The domain separation prefix of a seal's signed text.
const SIGNED_PREFIX: &[u8] = b"tollgate-seal/v1\n";

/// One record a seal covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cover {
    /// The record's id.
    pub id: String,
    /// Hex SHA-256 of the record's JSON bytes as framed.
    pub sha256: String,
}

/// A writer's signature over the records appended just before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealRecord {
    /// Seal id (a UUID).
    pub id: String,
    /// UTC time of the seal.
    pub recorded_at: Timestamp,
    /// The writer's key name.
    pub writer: String,
    /// The writer's key id (8 hex digits, as in its verifier key).
    pub key_id: String,
    /// The records covered, in the order they were appended.
    pub covers: Vec<Cover>,
    /// Base64 Ed25519 signature of [`SealRecord::signed_text`].
    pub signature: String,
}

impl SealRecord {
    /// The text the signature is over: a fixed prefix and the JSON array of every field but the
    /// signature (JSON escaping keeps it unambiguous).
    pub fn signed_text(&self) -> Vec<u8> {
        let fields = serde_json::json!([
            self.id,
            self.recorded_at,
            self.writer,
            self.key_id,
            self.covers
                .iter()
                .map(|c| [c.id.as_str(), c.sha256.as_str()])
                .collect::<Vec<_>>(),
        ]);
        let mut text = SIGNED_PREFIX.to_vec();
        text.extend_from_slice(fields.to_string().as_bytes());
        text
    }

    /// Whether `key` is the seal's writer and its signature verifies.
    pub fn verifies_with(&self, key: &VerifierKey) -> bool {
        key.name() == self.writer
            && format!("{:08x}", key.id()) == self.key_id
            && BASE64
                .decode(&self.signature)
                .is_ok_and(|signature| key.verify_message(&self.signed_text(), &signature))
    }
}
