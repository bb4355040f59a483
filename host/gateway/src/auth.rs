//! Bearer-token authentication and role authorisation (`--authentication token`).
//!
//! The tokens file holds SHA-256 digests of the tokens, never the tokens:
//!
//! ```yaml
//! tokens:
//!   - subject: deploy-pipeline
//!     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//!     roles: [evaluate]
//! ```
//!
//! SHA-256, not a password hash (argon2): tokens are random secrets of at least 128 bits that
//! nobody chooses or remembers, so no dictionary applies and a preimage search is hopeless
//! however fast the hash; a deliberately slow hash would only cost every request tens of
//! milliseconds of CPU. Tokens shorter than 32 characters are refused at the door.

use std::collections::HashMap;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// The shortest token accepted (32 characters, 128+ bits when random hex or base64).
pub const MIN_TOKEN_LEN: usize = 32;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Decide: `/v1/data`, `/v0/data`, `POST /`, `/v1/evaluate`, `/v1/marks`.
    Evaluate,
    /// Read: `/v1/policies`, `/v1/schema`, `/metrics`.
    Read,
    /// Administer: `/v1/admin/reload`, and everything `read` may (an operator reads the metrics
    /// of what they administer); never `evaluate`.
    Admin,
}

impl Role {
    /// Whether holding `self` grants `needed`: each role itself, and `admin` grants `read`.
    pub fn grants(self, needed: Role) -> bool {
        self == needed || (self == Self::Admin && needed == Self::Read)
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evaluate => "evaluate",
            Self::Read => "read",
            Self::Admin => "admin",
        }
    }
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub subject: String,
    /// What they may do.
    pub roles: Vec<Role>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    subject: String,
    sha256: String,
    roles: Vec<Role>,
}

/// Why a tokens file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// Not YAML/JSON of the expected shape.
    #[error("invalid tokens file: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
    /// An entry is wrong.
    #[error("invalid tokens file: `tokens[{index}]`: {message}")]
    Entry {
        /// Index of the entry.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

/// The accepted tokens, by digest.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Principal>,
}

/// The outcome of checking a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Allowed: the token's subject.
    Allowed(String),
    /// 401: no token, or an unknown one.
    Unauthenticated(&'static str),
    /// 403: a valid token without the role.
    Forbidden {
        /// The token's subject.
        subject: String,
        /// The role that is missing.
        role: Role,
    },
}

impl Tokens {
    /// Parses a tokens file (YAML or JSON).
    pub fn parse(text: &str) -> Result<Self, TokensError> {
        let file: TokensFile = serde_yaml_ng::from_str(text)?;
        let mut by_digest = HashMap::new();
        for (index, entry) in file.tokens.into_iter().enumerate() {
            let entry_error = |message: String| TokensError::Entry { index, message };
            let digest: [u8; 32] = hex::decode(entry.sha256.trim())
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| entry_error("`sha256` is not 64 hex digits".into()))?;
            if entry.subject.trim().is_empty() {
                return Err(entry_error("`subject` is empty".into()));
            }
            if entry.roles.is_empty() {
                return Err(entry_error("`roles` is empty".into()));
            }
            let principal = Principal {
                subject: entry.subject,
                roles: entry.roles,
            };
            if by_digest.insert(digest, principal).is_some() {
                return Err(entry_error("the same token is listed twice".into()));
            }
        }
        Ok(Self { by_digest })
    }

    /// The digest of a token, as the file lists it.
    pub fn digest_hex(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    /// Checks an `Authorization` header value for `role`. The scheme is matched without regard
    /// to case (RFC 9110, 11.1): `Bearer`, `bearer` and `BEARER` are one scheme.
    pub fn check(&self, authorization: Option<&str>, role: Role) -> Check {
        let Some(value) = authorization else {
            return Check::Unauthenticated("no bearer token");
        };
        let Some(token) = value
            .trim_start()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
        else {
            return Check::Unauthenticated("the authorization is not a bearer token");
        };
        let token = token.trim();
        if token.len() < MIN_TOKEN_LEN {
            return Check::Unauthenticated("unknown token");
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        match self.by_digest.get(&digest) {
            None => Check::Unauthenticated("unknown token"),
            Some(principal) if principal.roles.iter().any(|held| held.grants(role)) => {
                Check::Allowed(principal.subject.clone())
            }
            Some(principal) => Check::Forbidden {
                subject: principal.subject.clone(),
                role,
            },
        }
    }
}

/// The role a handler needs; `None` for the open ones (`/health`, unknown routes).
pub fn role_of(handler: &str) -> Option<Role> {
    match handler {
        "v1/data" | "v0/data" | "index" | "v1/evaluate" | "v1/marks" => Some(Role::Evaluate),
        "v1/policies" | "v1/schema" | "metrics" => Some(Role::Read),
        "v1/admin" => Some(Role::Admin),
        _ => None,
    }
}

/// Refused requests of one source, status and reason over an interval, as the access log
/// records them (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The token's subject, for a 403.
    pub subject: Option<String>,
    /// Method of the first request.
    pub method: String,
    /// Path of the first request.
    pub path: String,
    /// Client address (an IPv6 client by its /64), as the budget counts it.
    pub source: Option<String>,
    /// 401, 403, or 429 past the source's budget.
    pub status: u16,
    /// Why.
    pub reason: String,
    /// How many requests were refused so.
    pub count: u64,
    /// When the first was refused.
    pub first_at: tollgate_manifest::Timestamp,
    /// When the last was refused.
    pub last_at: tollgate_manifest::Timestamp,
}

/// Records refusals durably (the decision log's access records).
pub trait AccessLog: Send + Sync {
    /// Appends one access record per refusal, durably, before returning.
    fn refused(&self, refusals: &[Refusal]) -> Result<(), crate::HostFailure>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> (Tokens, String) {
        let token = "t".repeat(40);
        let file = format!(
            "tokens:\n  - subject: ops\n    sha256: {}\n    roles: [admin]\n",
            Tokens::digest_hex(&token)
        );
        (Tokens::parse(&file).unwrap(), token)
    }

    #[test]
    fn the_scheme_is_matched_without_regard_to_case() {
        let (tokens, token) = tokens();
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let header = format!("{scheme} {token}");
            assert_eq!(
                tokens.check(Some(&header), Role::Admin),
                Check::Allowed("ops".into()),
                "{scheme}"
            );
        }
        assert!(matches!(
            tokens.check(Some(&format!("Basic {token}")), Role::Admin),
            Check::Unauthenticated(_)
        ));
        assert!(matches!(
            tokens.check(Some(&format!("Bearer{token}")), Role::Admin),
            Check::Unauthenticated(_)
        ));
    }

    #[test]
    fn admin_grants_read_but_not_evaluate() {
        let (tokens, token) = tokens();
        let header = format!("Bearer {token}");
        assert_eq!(
            tokens.check(Some(&header), Role::Read),
            Check::Allowed("ops".into())
        );
        assert!(matches!(
            tokens.check(Some(&header), Role::Evaluate),
            Check::Forbidden { .. }
        ));
    }
}
