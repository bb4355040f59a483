//! The facts only this policy reads, from the manifest's extension namespace `fda`
//! (`extensions.fda`): the GAMP 5 category, requirement traceability, the record the signatures
//! are bound to, and the training records of the people involved. The host checks them against
//! the catalogue's JSON Schema before any policy runs; [`FdaFacts::from_manifest`] reads them again
//! with the checks a schema cannot express, so that every runner refuses the same facts with the
//! same field path.

use tollgate_policy_sdk::decision::EvalError;
use tollgate_policy_sdk::manifest::{Manifest, Timestamp, decode_json};
use tollgate_policy_sdk::serde::Deserialize;
use tollgate_policy_sdk::serde_json;

use crate::catalogue::NAMESPACE;

/// The `fda` extension facts; every field is optional (an absent fact is a finding of the control
/// that needs it, never an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "tollgate_policy_sdk::serde", deny_unknown_fields)]
pub struct FdaFacts {
    /// GAMP 5 software category of the changed system.
    #[serde(default)]
    pub gamp_category: Option<GampCategory>,
    /// Traceability of the affected user requirements to tests.
    #[serde(default)]
    pub requirements: Option<Requirements>,
    /// The record the approvals' electronic signatures are bound to.
    #[serde(default)]
    pub signature_link: Option<SignatureLink>,
    /// Training records of the people involved.
    #[serde(default)]
    pub training: Vec<TrainingRecord>,
}

/// A GAMP 5 software category (category 2, firmware, was retired in GAMP 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GampCategory {
    /// Category 1: infrastructure software (operating systems, databases, middleware).
    Infrastructure,
    /// Category 3: non-configured products.
    NonConfigured,
    /// Category 4: configured products.
    Configured,
    /// Category 5: custom (bespoke) applications.
    Custom,
}

impl GampCategory {
    /// The category's number.
    pub fn number(self) -> u8 {
        match self {
            Self::Infrastructure => 1,
            Self::NonConfigured => 3,
            Self::Configured => 4,
            Self::Custom => 5,
        }
    }

    /// The category's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Infrastructure => "infrastructure software",
            Self::NonConfigured => "non-configured product",
            Self::Configured => "configured product",
            Self::Custom => "custom application",
        }
    }
}

impl<'de> Deserialize<'de> for GampCategory {
    fn deserialize<D: tollgate_policy_sdk::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Self, D::Error> {
        deserializer.deserialize_u64(CategoryVisitor)
    }
}

/// Reads a category number; refused inside the visitor, so that the error carries its place.
struct CategoryVisitor;

impl tollgate_policy_sdk::serde::de::Visitor<'_> for CategoryVisitor {
    type Value = GampCategory;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a GAMP 5 category: 1, 3, 4 or 5")
    }

    fn visit_u64<E: tollgate_policy_sdk::serde::de::Error>(
        self,
        value: u64,
    ) -> Result<Self::Value, E> {
        match value {
            1 => Ok(GampCategory::Infrastructure),
            3 => Ok(GampCategory::NonConfigured),
            4 => Ok(GampCategory::Configured),
            5 => Ok(GampCategory::Custom),
            other => Err(E::invalid_value(
                tollgate_policy_sdk::serde::de::Unexpected::Unsigned(other),
                &self,
            )),
        }
    }
}

/// How many of the user requirements the change affects are traced to a test.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(crate = "tollgate_policy_sdk::serde", deny_unknown_fields)]
pub struct Requirements {
    /// Requirements the change affects.
    pub total: u32,
    /// Of those, requirements traced to a passed test.
    pub traced: u32,
    /// Reference of the traceability matrix.
    pub trace_matrix: String,
}

/// The electronic record the approvals' signatures are bound to in the signing system.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(crate = "tollgate_policy_sdk::serde", deny_unknown_fields)]
pub struct SignatureLink {
    /// Id of the signed record.
    pub record: String,
    /// The content the signatures apply to.
    pub commit: String,
}

/// One training record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(crate = "tollgate_policy_sdk::serde", deny_unknown_fields)]
pub struct TrainingRecord {
    /// Identity of the trained person.
    pub person: String,
    /// Curriculum or SOP trained on.
    pub curriculum: String,
    /// When the training was completed.
    pub completed: Timestamp,
    /// When the training expires; `None`: it does not.
    #[serde(default)]
    pub expires: Option<Timestamp>,
}

impl FdaFacts {
    /// The manifest's `fda` facts (all absent without the namespace), or an `invalid_manifest`
    /// error naming the field (`extensions.fda.training[0].completed: ...`).
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, EvalError> {
        let Some(object) = manifest.extensions.get(NAMESPACE) else {
            return Ok(Self::default());
        };
        let prefix = format!("extensions.{NAMESPACE}");
        let invalid = |path: Option<&str>, message: String| {
            let field = path.map_or_else(|| prefix.clone(), |p| format!("{prefix}.{p}"));
            EvalError::InvalidManifest(format!("`{field}`: {message}"))
        };
        let text = serde_json::to_string(object).map_err(|e| invalid(None, e.to_string()))?;
        let facts: Self = decode_json(&text).map_err(|e| {
            let message = match &e {
                tollgate_policy_sdk::manifest::DocumentError::Invalid { message, .. } => {
                    message.clone()
                }
                other => other.to_string(),
            };
            invalid(e.path(), message)
        })?;
        facts
            .check()
            .map_err(|(path, message)| invalid(Some(&path), message))?;
        Ok(facts)
    }

    /// The checks a JSON Schema cannot express: (field path, message) of the first violation.
    fn check(&self) -> Result<(), (String, String)> {
        if let Some(requirements) = &self.requirements {
            if requirements.traced > requirements.total {
                return Err((
                    "requirements.traced".into(),
                    format!(
                        "{} traced requirements exceed the {} affected",
                        requirements.traced, requirements.total
                    ),
                ));
            }
            if requirements.trace_matrix.trim().is_empty() {
                return Err((
                    "requirements.trace_matrix".into(),
                    "must not be empty".into(),
                ));
            }
        }
        if let Some(link) = &self.signature_link {
            for (field, value) in [("record", &link.record), ("commit", &link.commit)] {
                if value.trim().is_empty() {
                    return Err((
                        format!("signature_link.{field}"),
                        "must not be empty".into(),
                    ));
                }
            }
        }
        for (index, record) in self.training.iter().enumerate() {
            for (field, value) in [
                ("person", &record.person),
                ("curriculum", &record.curriculum),
            ] {
                if value.trim().is_empty() {
                    return Err((
                        format!("training[{index}].{field}"),
                        "must not be empty".into(),
                    ));
                }
            }
            if record
                .expires
                .is_some_and(|expires| expires <= record.completed)
            {
                return Err((
                    format!("training[{index}].expires"),
                    "expires before the training was completed".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::Format;

    use super::*;

    fn manifest(facts: &str) -> Manifest {
        let text = format!(
            "version: 1\nchange: {{id: C, title: t, ticket_status: approved, author: a, deployer: b, \
             environment: production}}\nextensions: {{fda: {facts}}}\n"
        );
        Manifest::from_text(&text, Format::Yaml).unwrap()
    }

    fn error(facts: &str) -> String {
        match FdaFacts::from_manifest(&manifest(facts)) {
            Err(EvalError::InvalidManifest(message)) => message,
            other => panic!("expected an invalid manifest, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_fact() {
        let facts = FdaFacts::from_manifest(&manifest(
            "{gamp_category: 4, requirements: {total: 3, traced: 3, trace_matrix: TM-1}, \
             signature_link: {record: C, commit: abc}, training: [{person: a, curriculum: GxP, \
             completed: '2026-01-01T00:00:00Z', expires: '2027-01-01T00:00:00Z'}]}",
        ))
        .unwrap();
        assert_eq!(facts.gamp_category, Some(GampCategory::Configured));
        assert_eq!(facts.requirements.unwrap().traced, 3);
        assert_eq!(facts.signature_link.unwrap().record, "C");
        assert!(facts.training[0].expires.is_some());
    }

    #[test]
    fn absent_namespace_means_no_facts() {
        let text = "version: 1\nchange: {id: C, title: t, ticket_status: approved, author: a, \
                    deployer: b, environment: production}\n";
        let m = Manifest::from_text(text, Format::Yaml).unwrap();
        assert_eq!(FdaFacts::from_manifest(&m).unwrap(), FdaFacts::default());
    }

    #[test]
    fn invalid_facts_name_their_field() {
        for (facts, field) in [
            ("{gamp_category: 2}", "`extensions.fda.gamp_category`"),
            (
                "{training: [{person: a, curriculum: c, completed: yesterday}]}",
                "`extensions.fda.training[0].completed`",
            ),
            (
                "{requirements: {total: 2, traced: 3, trace_matrix: TM}}",
                "`extensions.fda.requirements.traced`",
            ),
            (
                "{training: [{person: a, curriculum: c, completed: '2026-02-01T00:00:00Z', \
                 expires: '2026-01-01T00:00:00Z'}]}",
                "`extensions.fda.training[0].expires`",
            ),
            (
                "{signature_link: {record: ' ', commit: x}}",
                "`extensions.fda.signature_link.record`",
            ),
            ("{gamp: 4}", "`extensions.fda"),
        ] {
            let message = error(facts);
            assert!(message.starts_with(field), "{facts}: {message}");
        }
    }
}
