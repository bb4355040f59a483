//! What a decision is asked about: the manifest (text and parsed), the evaluation time, and the
//! errors of input that cannot be evaluated, with the field path, line and column.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use tollgate_manifest::{DocumentError, Format, Manifest, Timestamp};

/// Which input an [`InputError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// The change manifest.
    Manifest,
    /// The settings document, or one policy's settings.
    Settings,
    /// The options of the evaluation (policies, evaluation time, format).
    Options,
    /// The waivers file.
    Waivers,
}

/// Why the input cannot be evaluated: nothing was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct InputError {
    /// Which input is wrong.
    pub source: InputSource,
    /// The policy that rejected its settings, for settings errors found by a policy.
    pub policy: Option<String>,
    /// What is wrong: for settings a policy rejects, the policy's own message.
    pub message: String,
    /// Field path where the document is wrong (`change.approvals[0].at`), if known.
    pub path: Option<String>,
    /// Line where the document is wrong (from 1), if known.
    pub line: Option<u32>,
    /// Column where the document is wrong (from 1), if known.
    pub column: Option<u32>,
}

impl InputError {
    /// An error without a location; secrets the message quotes are masked.
    pub fn new(source: InputSource, message: impl Into<String>) -> Self {
        Self {
            source,
            policy: None,
            message: tollgate_manifest::mask_secrets(&message.into()),
            path: None,
            line: None,
            column: None,
        }
    }

    /// The same error, at a field path.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// A document that could not be decoded; `subject` names it (`manifest \`change.yaml\``).
    pub fn document(source: InputSource, subject: &str, error: &DocumentError) -> Self {
        let location = error.location();
        Self {
            source,
            policy: None,
            message: tollgate_manifest::mask_secrets(&format!("invalid {subject}: {error}")),
            path: error.path().map(str::to_owned),
            line: location.and_then(|l| u32::try_from(l.line).ok()),
            column: location.and_then(|l| u32::try_from(l.column).ok()),
        }
    }

    /// Settings that a policy rejected, with its message.
    pub fn policy_settings(policy: &str, message: impl Into<String>) -> Self {
        Self {
            policy: Some(policy.to_owned()),
            path: Some(policy.to_owned()),
            ..Self::new(InputSource::Settings, message)
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.source, &self.policy) {
            (InputSource::Settings, Some(policy)) => {
                write!(
                    f,
                    "invalid settings for policy `{policy}`: {}",
                    tollgate_manifest::mask_secrets(&self.message)
                )
            }
            _ => f.write_str(&tollgate_manifest::mask_secrets(&self.message)),
        }
    }
}

impl std::error::Error for InputError {}

/// One change to decide: the manifest as received and parsed, and the evaluation time.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Where the manifest came from, as recorded (a path, `-`, `<request>`).
    pub manifest_path: String,
    /// The manifest's exact text (its digest is recorded; reports locate fields in it).
    pub manifest_text: String,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The evaluation time given to the policies; approvals dated after it do not count.
    pub now: Timestamp,
    /// The service being deployed, matched against a waiver's `scope.service`.
    pub service: Option<String>,
    /// Who asked, when the edge authenticated them (the gateway's token or client certificate);
    /// `None` lets the recorder name the process's own user.
    pub actor: Option<Actor>,
}

/// An authenticated requester, as the edge that authenticated them names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Who: a token's subject, a client certificate's subject.
    pub name: String,
    /// How they were identified, for example `token` or `tls_client_certificate`.
    pub source: String,
}

impl Actor {
    /// An actor named `name`, identified by `source`.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
        }
    }
}

impl Submission {
    /// Parses manifest text. `subject` names the manifest in messages (`manifest \`change.yaml\``);
    /// every error names the field path, line and column.
    pub fn parse(
        manifest_path: impl Into<String>,
        subject: &str,
        text: String,
        format: Format,
        now: Timestamp,
    ) -> Result<Self, InputError> {
        let manifest = Manifest::from_text(&text, format)
            .map_err(|e| InputError::document(InputSource::Manifest, subject, &e))?;
        Ok(Self {
            manifest_path: manifest_path.into(),
            manifest_text: text,
            manifest,
            now,
            service: None,
            actor: None,
        })
    }
}

/// Parses a settings document (YAML or JSON): a mapping from policy id to that policy's settings
/// object. A blank or `null` document means every policy's defaults. `subject` names it in messages.
pub fn parse_settings(
    text: &str,
    subject: &str,
    format: Format,
) -> Result<BTreeMap<String, serde_json::Value>, InputError> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    tollgate_manifest::decode::<Option<BTreeMap<String, serde_json::Value>>>(text, format)
        .map(Option::unwrap_or_default)
        .map_err(|e| InputError::document(InputSource::Settings, subject, &e))
}
