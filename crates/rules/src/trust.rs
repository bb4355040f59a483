//! Trusted sources: facts a change's author could assert about their own change (approvals, the
//! deployer's groups, a verified backup…) count only when they come from a source the policy
//! trusts for them. An untrusted fact is disregarded: the policy decides as if it were absent (its
//! fail-closed default), and every control that relies on it carries an
//! [`UNTRUSTED_SOURCE`] finding naming the source and the setting that would accept it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use tollgate_decision::{ControlStatus, Decision, Severity};
use tollgate_manifest::{
    Encryption, FactSource, Manifest, RollbackPlan, SecurityScan, SourceKind, TicketStatus,
};

use crate::settings_error::SettingsError;
use crate::{Catalogue, Issue};

/// Rule id of the finding for a fact from an untrusted source.
pub const UNTRUSTED_SOURCE: &str = "evidence-untrusted-source";

/// The facts whose sources can be restricted: those with a fail-closed default, so that
/// disregarding them never makes a gate more lenient.
pub const GUARDABLE_FACTS: &[&str] = &[
    "change.ticket_status",
    "change.approvals",
    "change.deployer_groups",
    "evidence.tests",
    "evidence.security_scan",
    "evidence.compliance_checks_passed",
    "evidence.backup_verified",
    "evidence.rollback_plan",
    "evidence.encryption",
    "evidence.audit_logging",
    "evidence.test_data_removed",
    "evidence.breach_notification_procedure",
];

/// Sources trusted per fact. Settings name only the facts they change; the others keep their
/// defaults: approvals from the ticket system, the deployer's groups from CI or a directory, a
/// verified backup from CI or a test report; each also accepts `unrecorded` (a manifest that
/// records no sources), which strict settings remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TrustedSources(BTreeMap<String, Vec<SourceKind>>);

impl Default for TrustedSources {
    fn default() -> Self {
        use SourceKind::{Ci, Directory, TestReport, Ticket, Unrecorded};
        let entries = [
            ("change.approvals", vec![Ticket, Unrecorded]),
            ("change.deployer_groups", vec![Ci, Directory, Unrecorded]),
            ("evidence.backup_verified", vec![Ci, TestReport, Unrecorded]),
        ];
        Self(
            entries
                .into_iter()
                .map(|(field, kinds)| (field.to_owned(), kinds))
                .collect(),
        )
    }
}

#[cfg(feature = "serde-reference")]
impl<'de> serde::Deserialize<'de> for TrustedSources {
    /// The defaults, with the facts the settings name replaced.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, Vec<SourceKind>>::deserialize(deserializer).map(Self::with)
    }
}

impl TrustedSources {
    /// The defaults, with the facts in `given` replaced.
    pub(crate) fn with(given: BTreeMap<String, Vec<SourceKind>>) -> Self {
        let mut sources = Self::default();
        sources.0.extend(given);
        sources
    }

    /// The kinds trusted for `field`, if its sources are restricted.
    pub fn for_fact(&self, field: &str) -> Option<&[SourceKind]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// Rejects facts that cannot be restricted and empty lists.
    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        for (field, kinds) in &self.0 {
            let path = format!("trusted_sources.{field}");
            if !GUARDABLE_FACTS.contains(&field.as_str()) {
                return Err(SettingsError::new(
                    path,
                    format!(
                        "the sources of `{field}` cannot be restricted (disregarding it would not \
                         fail closed); restrictable facts: {}",
                        GUARDABLE_FACTS.join(", ")
                    ),
                ));
            }
            if kinds.is_empty() {
                return Err(SettingsError::new(
                    path,
                    "list at least one trusted source (for example `ci`)",
                ));
            }
        }
        Ok(())
    }
}

/// A fact whose source the policy does not trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedFact {
    /// Field path, for example `evidence.backup_verified`.
    pub field: String,
    /// Where it came from (`None`: unrecorded).
    pub source: Option<FactSource>,
    /// The sources the policy trusts for it.
    pub trusted: Vec<SourceKind>,
}

impl UntrustedFact {
    /// The finding for a control that relies on the fact.
    pub fn issue(&self) -> Issue {
        let source = self
            .source
            .as_ref()
            .map_or_else(|| SourceKind::Unrecorded.to_string(), ToString::to_string);
        let trusted = self
            .trusted
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Issue::new(
            UNTRUSTED_SOURCE,
            Severity::Info,
            format!(
                "`{}` comes from {source}, which is not a trusted source for it (trusted: {trusted}); \
                 it is disregarded",
                self.field
            ),
            format!(
                "take `{}` from a trusted source, or add `{}` to the settings' \
                 `trusted_sources.{}`",
                self.field,
                self.source
                    .as_ref()
                    .map_or(SourceKind::Unrecorded, |s| s.kind),
                self.field
            ),
            self.field.clone(),
        )
    }
}

/// A manifest with its untrusted facts disregarded. It borrows the manifest, and copies it only
/// when a fact is disregarded.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedFacts<'a> {
    manifest: Cow<'a, Manifest>,
    untrusted: Vec<UntrustedFact>,
}

impl<'a> TrustedFacts<'a> {
    /// Weighs every fact whose sources are restricted against the manifest's provenance, and
    /// resets the untrusted ones to their fail-closed defaults.
    pub fn weigh(manifest: &'a Manifest, sources: &TrustedSources) -> Self {
        let mut effective = Cow::Borrowed(manifest);
        let mut untrusted = Vec::new();
        for (field, trusted) in &sources.0 {
            let kind = manifest.provenance.kind_of(field);
            if trusted.contains(&kind) {
                continue;
            }
            disregard(effective.to_mut(), field);
            untrusted.push(UntrustedFact {
                field: field.clone(),
                source: manifest.provenance.get(field).cloned(),
                trusted: trusted.clone(),
            });
        }
        Self {
            manifest: effective,
            untrusted,
        }
    }

    /// The manifest the policy decides on: untrusted facts reset to their defaults.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The disregarded facts, in field order.
    pub fn untrusted(&self) -> &[UntrustedFact] {
        &self.untrusted
    }
}

/// Shows the provenance in a decision: each applicable control that relies on a fact with a
/// recorded source says where it came from, and each one that relies on an untrusted fact carries
/// an [`UNTRUSTED_SOURCE`] finding and is non-compliant.
pub fn annotate(
    decision: &mut Decision,
    catalogue: &Catalogue,
    manifest: &Manifest,
    facts: &TrustedFacts<'_>,
) {
    for result in &mut decision.controls {
        if result.status == ControlStatus::NotApplicable {
            continue;
        }
        let Some(control) = catalogue.control(&result.control_id) else {
            continue;
        };
        for &field in control.relies_on {
            let untrusted = facts.untrusted.iter().find(|u| u.field == field);
            match (manifest.provenance.get(field), untrusted) {
                (Some(source), None) => result.evidence.push(format!("`{field}` from {source}")),
                (source, Some(untrusted)) => {
                    let source = source
                        .map_or_else(|| SourceKind::Unrecorded.to_string(), |s| s.to_string());
                    result
                        .evidence
                        .push(format!("`{field}` from {source}: not trusted, disregarded"));
                    result.status = ControlStatus::NonCompliant;
                    decision.findings.push(
                        untrusted
                            .issue()
                            .into_finding(control.id, control.regulatory_references()),
                    );
                }
                (None, None) => {}
            }
        }
    }
}

/// Resets `field` to its fail-closed default. Only [`GUARDABLE_FACTS`] reach here (validated).
fn disregard(manifest: &mut Manifest, field: &str) {
    let change = &mut manifest.change;
    let evidence = &mut manifest.evidence;
    match field {
        "change.ticket_status" => change.ticket_status = TicketStatus::Draft,
        "change.approvals" => change.approvals.clear(),
        "change.deployer_groups" => change.deployer_groups.clear(),
        "evidence.tests" => evidence.tests.clear(),
        "evidence.security_scan" => evidence.security_scan = None::<SecurityScan>,
        "evidence.compliance_checks_passed" => evidence.compliance_checks_passed = false,
        "evidence.backup_verified" => evidence.backup_verified = false,
        "evidence.rollback_plan" => evidence.rollback_plan = RollbackPlan::default(),
        "evidence.encryption" => evidence.encryption = None::<Encryption>,
        "evidence.audit_logging" => evidence.audit_logging = false,
        "evidence.test_data_removed" => evidence.test_data_removed = false,
        "evidence.breach_notification_procedure" => {
            evidence.breach_notification_procedure = false;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(provenance: &str) -> Manifest {
        Manifest::from_text(
            &format!(
                r#"{{"version": 1,
                "change": {{"id": "CHG-1", "title": "t", "ticket_status": "approved", "author": "a",
                  "deployer": "d", "deployer_groups": ["production-deployers"], "environment": "production",
                  "approvals": [{{"by": "b", "role": "TECHNICAL_LEAD", "at": "2026-01-01T00:00:00Z"}}]}},
                "evidence": {{"backup_verified": true}},
                "provenance": {provenance}}}"#
            ),
            tollgate_manifest::Format::Json,
        )
        .unwrap()
    }

    #[test]
    fn hand_written_facts_are_disregarded_and_trusted_ones_kept() {
        let m = manifest(
            r#"{"evidence.backup_verified": {"kind": "hand_written", "detail": "compliance/e.yaml"},
                "change.approvals": {"kind": "ticket"}}"#,
        );
        let facts = TrustedFacts::weigh(&m, &TrustedSources::default());
        assert!(!facts.manifest().evidence.backup_verified);
        assert_eq!(facts.manifest().change.approvals.len(), 1);
        assert_eq!(
            facts.manifest().change.deployer_groups,
            ["production-deployers"],
            "unrecorded is trusted by default"
        );
        let [untrusted] = facts.untrusted() else {
            panic!("{:?}", facts.untrusted())
        };
        assert_eq!(untrusted.field, "evidence.backup_verified");
        let issue = untrusted.issue();
        assert_eq!(issue.rule_id, UNTRUSTED_SOURCE);
        assert!(
            issue.message.contains("hand_written (compliance/e.yaml)"),
            "{}",
            issue.message
        );
        assert!(
            issue
                .remediation
                .contains("`trusted_sources.evidence.backup_verified`")
        );
    }

    #[test]
    fn settings_replace_only_the_facts_they_name() {
        let sources: TrustedSources = crate::settings_json::decode_trusted_sources(
            r#"{"change.deployer_groups": ["directory"]}"#,
        )
        .unwrap();
        assert_eq!(
            sources.for_fact("change.deployer_groups"),
            Some(&[SourceKind::Directory][..])
        );
        assert!(sources.for_fact("change.approvals").is_some());
        let m = manifest("{}");
        let facts = TrustedFacts::weigh(&m, &sources);
        assert!(facts.manifest().change.deployer_groups.is_empty());
        assert_eq!(facts.untrusted()[0].source, None);
    }

    #[test]
    fn facts_that_would_not_fail_closed_cannot_be_restricted() {
        for (json, field) in [
            (
                r#"{"change.data_classes": ["ci"]}"#,
                "trusted_sources.change.data_classes",
            ),
            (
                r#"{"change.approvals": []}"#,
                "trusted_sources.change.approvals",
            ),
        ] {
            let sources = crate::settings_json::decode_trusted_sources(json).unwrap();
            assert_eq!(sources.validate().unwrap_err().field, field);
        }
    }
}
