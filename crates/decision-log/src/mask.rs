//! Masking of the manifest copy stored in the log.
//!
//! Configured field paths, and the location of every sensitive-data finding, are replaced by
//! [`MASKED`] in the stored copy; the original values are then removed from every free-text field
//! of the stored decisions as well (a finding message can quote an approver). The digest in the
//! record is of the original text, so a holder of the original can prove it matches.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use tollgate_decision::Decision;
use tollgate_manifest::Manifest;

/// What a masked value is replaced with (the same text as a masked secret in an error message).
pub const MASKED: &str = tollgate_manifest::MASKED;

/// Masks secrets in text that can quote input: an error message, a free-text field. The one
/// masker of the project ([`tollgate_manifest::mask_secrets`]), re-exported for the log's writers.
pub use tollgate_manifest::mask_secrets;

/// Paths masked whatever the configuration says: where sensitive data was found.
pub const ALWAYS_MASKED: &[&str] = &["evidence.sensitive_data_findings[*].location"];

/// Masked values shorter than this are replaced in the manifest copy but not searched for in free
/// text, where they would match inside unrelated words.
pub const MIN_SCRUB_LEN: usize = 3;

/// Why masking failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// A configured path is malformed.
    #[error("invalid mask path `{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The manifest or a decision could not be converted to JSON and back.
    #[error("could not mask the record: {0}")]
    Convert(String),
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A named field.
    Field(String),
    /// Every field of an object.
    AnyField,
    /// One list item.
    Index(usize),
    /// Every list item.
    AnyIndex,
}

/// A field path such as `change.approvals[*].by`, `change.deployer` or `evidence.*`: fields
/// separated by dots, `[N]` for one list item, `[*]` for every item, `*` for every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for FieldPath {
    type Err = MaskError;

    fn from_str(text: &str) -> Result<Self, MaskError> {
        let error = |reason: &str| MaskError::InvalidPath {
            path: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.trim().is_empty() {
            return Err(error("the path is empty"));
        }
        let mut steps = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = part.find('[').map_or((part, ""), |i| part.split_at(i));
            match name {
                "" if rest.is_empty() => return Err(error("a field name is empty")),
                "" => {}
                "*" => steps.push(Step::AnyField),
                _ if name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    steps.push(Step::Field(name.to_owned()));
                }
                _ => return Err(error(&format!("`{name}` is not a field name"))),
            }
            while !rest.is_empty() {
                let Some(end) = rest.find(']') else {
                    return Err(error("a `[` is not closed"));
                };
                let inner = &rest[1..end];
                steps.push(if inner == "*" {
                    Step::AnyIndex
                } else {
                    Step::Index(
                        inner.parse().map_err(|_| {
                            error(&format!("`[{inner}]` is not `[*]` or a list index"))
                        })?,
                    )
                });
                rest = &rest[end + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(error("text follows a `]`"));
                }
            }
        }
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }
}

/// The masking configuration: the paths to mask, besides [`ALWAYS_MASKED`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Masking {
    paths: Vec<FieldPath>,
}

/// A masked manifest copy, with what was masked.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedManifest {
    /// The manifest as JSON with masked values replaced.
    pub value: Value,
    /// Concrete paths masked, in document order.
    pub paths: Vec<String>,
    /// Original string values masked (at least [`MIN_SCRUB_LEN`] long), longest first.
    secrets: Vec<String>,
}

impl Masking {
    /// A configuration masking the given paths (and [`ALWAYS_MASKED`]).
    pub fn new<I, S>(paths: I) -> Result<Self, MaskError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let paths = paths
            .into_iter()
            .map(|p| p.as_ref().parse())
            .collect::<Result<Vec<FieldPath>, _>>()?;
        Ok(Self { paths })
    }

    /// The configured paths followed by [`ALWAYS_MASKED`].
    pub fn paths(&self) -> Result<Vec<FieldPath>, MaskError> {
        let mut all = self.paths.clone();
        for path in ALWAYS_MASKED {
            all.push(path.parse()?);
        }
        Ok(all)
    }

    /// Masks a manifest.
    pub fn mask_manifest(&self, manifest: &Manifest) -> Result<MaskedManifest, MaskError> {
        let value =
            serde_json::to_value(manifest).map_err(|e| MaskError::Convert(e.to_string()))?;
        self.mask_value(value)
    }

    /// Masks any JSON value.
    pub fn mask_value(&self, mut value: Value) -> Result<MaskedManifest, MaskError> {
        let mut paths = BTreeSet::new();
        let mut secrets = BTreeSet::new();
        for path in self.paths()? {
            mask_at(
                &mut value,
                &path.steps,
                String::new(),
                &mut paths,
                &mut secrets,
            );
        }
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SCRUB_LEN && s != MASKED)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Ok(MaskedManifest {
            value,
            paths: paths.into_iter().collect(),
            secrets,
        })
    }
}

/// Masks the secrets of a stored copy: every string value and key passes through
/// [`mask_secrets`], and a value under a secret-like key (`password`, `api_token`, ...) is
/// replaced whole. Returns the concrete paths replaced whole.
pub fn mask_secret_values(value: &mut Value) -> Vec<String> {
    let mut paths = Vec::new();
    secret_values_at(value, String::new(), &mut paths);
    paths.sort();
    paths
}

fn secret_values_at(value: &mut Value, here: String, paths: &mut Vec<String>) {
    match value {
        Value::String(text) => *text = mask_secrets(text),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                secret_values_at(item, format!("{here}[{i}]"), paths);
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut child) in entries {
                let key = mask_secrets(&key);
                let path = if here.is_empty() {
                    key.clone()
                } else {
                    format!("{here}.{key}")
                };
                // A scalar under a secret-like key is replaced whole.
                let secret_key = !matches!(child, Value::Object(_) | Value::Array(_) | Value::Null)
                    && tollgate_manifest::is_secret_name(&key);
                if secret_key && child.as_str() != Some(MASKED) {
                    child = Value::String(MASKED.to_owned());
                    paths.push(path);
                } else {
                    secret_values_at(&mut child, path, paths);
                }
                map.insert(key, child);
            }
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => {}
    }
}

/// Replaces in `message` every line of `text` (trimmed, at least 8 characters) that it quotes:
/// for an input that is not a document, nothing of it may reach the log through its error.
pub fn scrub_quoted_lines(message: &str, text: &str) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.chars().count() >= 8)
        .collect();
    lines.sort_by_key(|line| std::cmp::Reverse(line.len()));
    let mut message = message.to_owned();
    for line in lines {
        if message.contains(line) {
            message = message.replace(line, MASKED);
        }
    }
    message
}

fn mask_at(
    value: &mut Value,
    steps: &[Step],
    here: String,
    paths: &mut BTreeSet<String>,
    secrets: &mut BTreeSet<String>,
) {
    let Some((step, rest)) = steps.split_first() else {
        if !value.is_null() {
            collect_strings(value, secrets);
            *value = Value::String(MASKED.to_owned());
            paths.insert(here);
        }
        return;
    };
    let join = |name: &str| {
        if here.is_empty() {
            name.to_owned()
        } else {
            format!("{here}.{name}")
        }
    };
    match (step, value) {
        (Step::Field(name), Value::Object(map)) => {
            if let Some(child) = map.get_mut(name) {
                mask_at(child, rest, join(name), paths, secrets);
            }
        }
        (Step::AnyField, Value::Object(map)) => {
            for (name, child) in map.iter_mut() {
                mask_at(child, rest, join(name), paths, secrets);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(child) = items.get_mut(*i) {
                mask_at(child, rest, format!("{here}[{i}]"), paths, secrets);
            }
        }
        (Step::AnyIndex, Value::Array(items)) => {
            for (i, child) in items.iter_mut().enumerate() {
                mask_at(child, rest, format!("{here}[{i}]"), paths, secrets);
            }
        }
        _ => {}
    }
}

fn collect_strings(value: &Value, secrets: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            secrets.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, secrets)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, secrets)),
        Value::Number(n) => {
            secrets.insert(n.to_string());
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Keys of decision objects whose values are identifiers or enumerations, never free text.
const STRUCTURAL_KEYS: &[&str] = &[
    "policy_id",
    "framework",
    "applicable",
    "outcome",
    "class",
    "score_class",
    "category_class",
    "severity",
    "status",
    "control_id",
    "rule_id",
    "route",
    "role",
    "id",
    "source",
    "section",
    "field_path",
    "score",
    "points",
    "passed",
    "due_within_days",
];

impl MaskedManifest {
    /// Replaces every masked value in a free text.
    pub fn scrub_text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASKED);
            }
        }
        text
    }

    /// Replaces every masked value in the free-text fields of decisions.
    pub fn scrub_decisions(&self, decisions: &[Decision]) -> Result<Vec<Decision>, MaskError> {
        if self.secrets.is_empty() {
            return Ok(decisions.to_vec());
        }
        let mut value =
            serde_json::to_value(decisions).map_err(|e| MaskError::Convert(e.to_string()))?;
        self.scrub_value(&mut value);
        serde_json::from_value(value).map_err(|e| MaskError::Convert(e.to_string()))
    }

    fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.scrub_text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if !STRUCTURAL_KEYS.contains(&key.as_str()) {
                        self.scrub_value(child);
                    }
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "change": {
                "id": "CHG-1",
                "author": "alice",
                "approvals": [{"by": "bob", "role": "TECHNICAL_LEAD"}, {"by": "carol", "role": "SECURITY_OFFICER"}]
            },
            "evidence": {
                "sensitive_data_findings": [{"kind": "pan", "location": "fixtures/cards.csv:12"}]
            }
        })
    }

    #[test]
    fn masks_configured_paths_and_every_sensitive_finding() {
        let masking = Masking::new(["change.approvals[*].by", "change.author"]).unwrap();
        let masked = masking.mask_value(sample()).unwrap();
        assert_eq!(masked.value["change"]["author"], MASKED);
        assert_eq!(masked.value["change"]["approvals"][0]["by"], MASKED);
        assert_eq!(masked.value["change"]["approvals"][1]["by"], MASKED);
        assert_eq!(
            masked.value["change"]["approvals"][1]["role"],
            "SECURITY_OFFICER"
        );
        assert_eq!(
            masked.value["evidence"]["sensitive_data_findings"][0]["location"],
            MASKED
        );
        assert_eq!(
            masked.value["evidence"]["sensitive_data_findings"][0]["kind"],
            "pan"
        );
        assert_eq!(
            masked.paths,
            [
                "change.approvals[0].by",
                "change.approvals[1].by",
                "change.author",
                "evidence.sensitive_data_findings[0].location"
            ]
        );
        assert_eq!(
            masked.scrub_text("approval by `alice` for bob, not bobby's cards.csv:12"),
            "approval by `[masked]` for [masked], not [masked]by's cards.csv:12"
        );
    }

    #[test]
    fn sensitive_findings_are_masked_without_configuration() {
        let masked = Masking::default().mask_value(sample()).unwrap();
        assert_eq!(
            masked.value["evidence"]["sensitive_data_findings"][0]["location"],
            MASKED
        );
        assert_eq!(masked.value["change"]["author"], "alice");
        assert_eq!(
            masked.scrub_text("found at fixtures/cards.csv:12"),
            "found at [masked]"
        );
    }

    #[test]
    fn index_and_wildcard_fields() {
        let masking = Masking::new(["change.approvals[1]", "evidence.*"]).unwrap();
        let masked = masking.mask_value(sample()).unwrap();
        assert_eq!(masked.value["change"]["approvals"][1], MASKED);
        assert_eq!(masked.value["change"]["approvals"][0]["by"], "bob");
        assert_eq!(masked.value["evidence"]["sensitive_data_findings"], MASKED);
    }

    #[test]
    fn secret_values_of_a_copy_are_masked() {
        let mut value = json!({
            "change": {"id": "CHG-1", "notes": "db at postgres://app:s3cr3t@db/app"},
            "db_password": "hunter2",
            "api": {"token": 12345, "url": "https://example.com"},
            "AKIAIOSFODNN7EXAMPLE": "key as a key"
        });
        let paths = mask_secret_values(&mut value);
        assert_eq!(paths, ["api.token", "db_password"]);
        assert_eq!(value["db_password"], MASKED);
        assert_eq!(value["api"]["token"], MASKED);
        assert_eq!(value["api"]["url"], "https://example.com");
        assert_eq!(value["change"]["id"], "CHG-1");
        assert_eq!(
            value["change"]["notes"],
            "db at postgres://app:[masked]@db/app"
        );
        assert_eq!(value[MASKED], "key as a key");
    }

    #[test]
    fn quoted_lines_of_a_text_are_scrubbed() {
        let text = "root:x:0:0:root:/root:/bin/bash\nab\n";
        assert_eq!(
            scrub_quoted_lines("bad `root:x:0:0:root:/root:/bin/bash` ab", text),
            "bad `[masked]` ab"
        );
    }

    #[test]
    fn malformed_paths_are_errors_naming_the_path() {
        for bad in [
            "",
            "change..id",
            "change.approvals[",
            "change.approvals[x]",
            "a b",
        ] {
            let error = Masking::new([bad]).unwrap_err();
            assert!(error.to_string().contains(&format!("`{bad}`")), "{error}");
        }
    }
}
