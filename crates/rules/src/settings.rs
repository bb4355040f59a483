//! Policy settings: the numbers and names a compliance team tunes without recompiling. Settings are
//! JSON; every field has a default (the values documented in the SOX policy README), unknown fields
//! are rejected, and [`Settings::validate`] rejects inconsistent values instead of silently falling
//! back.

use std::collections::BTreeSet;

pub use crate::settings_error::SettingsError;
use crate::trust::TrustedSources;
use crate::windows::DeploymentWindows;
#[cfg(feature = "serde-reference")]
use serde::Deserialize;
use serde::Serialize;
use tollgate_manifest::{ChangeCategory, IdentityAliases, IdentityMatch, compare_identities};

/// All tunable settings of the built-in policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Risk-score weights and class thresholds.
    pub risk: RiskSettings,
    /// Risk class implied by each change category.
    pub category_classes: CategoryClasses,
    /// Approver roles required per risk class.
    pub approvers: ApproverSettings,
    /// Test suites required per risk class.
    pub required_tests: RequiredTests,
    /// Emergency-change handling (COBIT BAI06.02).
    pub emergency: EmergencySettings,
    /// Environments treated as production.
    pub production_environments: Vec<String>,
    /// Directory group whose members may deploy to production.
    pub authorised_deployer_group: String,
    /// Maximum age in days of the data-encryption key.
    pub key_rotation_max_days: u32,
    /// Shared or service accounts that cannot stand for an individual deployer or approver.
    pub shared_accounts: Vec<String>,
    /// Aliases mapped to canonical identities (`alice: alice@bank.example`), so that identities
    /// of different systems (git emails, ticket and CI logins) can be compared; see
    /// [`tollgate_manifest::compare_identities`].
    pub identities: IdentityAliases,
    /// Sources trusted for the facts a change's author could assert themselves, by fact; see
    /// [`TrustedSources`].
    pub trusted_sources: TrustedSources,
    /// How the host applies waivers to this policy's findings.
    pub waivers: WaiverSettings,
    /// Maintenance windows and change freezes per environment; see [`DeploymentWindows`].
    pub deployment_windows: DeploymentWindows,
}

/// How the host applies waivers to a policy's findings. The policy itself only validates these;
/// the pipeline enforces them (`tollgate_waivers::WaiverRules`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct WaiverSettings {
    /// Rule or control ids (`*` matches any text) that no waiver may waive. Absent: every
    /// separation-of-duties rule (`sod-*`), any self-approval and any tampered evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_waivable: Option<Vec<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            risk: RiskSettings::default(),
            category_classes: CategoryClasses::default(),
            approvers: ApproverSettings::default(),
            required_tests: RequiredTests::default(),
            emergency: EmergencySettings::default(),
            production_environments: vec!["production".into()],
            authorised_deployer_group: "production-deployers".into(),
            key_rotation_max_days: 90,
            shared_accounts: [
                "root",
                "admin",
                "administrator",
                "deploy",
                "ci",
                "jenkins",
                "gitlab-ci",
                "github-actions",
            ]
            .map(String::from)
            .to_vec(),
            identities: IdentityAliases::new(),
            trusted_sources: TrustedSources::default(),
            waivers: WaiverSettings::default(),
            deployment_windows: DeploymentWindows::default(),
        }
    }
}

/// Risk-score weights and class thresholds: how much production, schema changes, security
/// components, size and past failures add to a change's risk (COBIT 2019 BAI06.01).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct RiskSettings {
    /// Points for a production deployment.
    pub production: f64,
    /// Points for schema changes.
    pub schema_changes: f64,
    /// Points for touching security components.
    pub security_components: f64,
    /// Points for a change larger than `large_change_lines`.
    pub large_change: f64,
    /// A change with more lines than this is large.
    pub large_change_lines: u32,
    /// Multiplier of the historical failure rate.
    pub historical_failure_rate_weight: f64,
    /// Scores at or above this are at least medium.
    pub medium_threshold: f64,
    /// Scores at or above this are high.
    pub high_threshold: f64,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            production: 3.0,
            schema_changes: 4.0,
            security_components: 5.0,
            large_change: 2.0,
            large_change_lines: 1000,
            historical_failure_rate_weight: 2.0,
            medium_threshold: 3.0,
            high_threshold: 7.0,
        }
    }
}

/// Change categories implying each risk class, whatever the score (COBIT 2019 BAI06.01).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct CategoryClasses {
    /// Categories implying low risk.
    pub low: Vec<ChangeCategory>,
    /// Categories implying medium risk.
    pub medium: Vec<ChangeCategory>,
    /// Categories implying high risk.
    pub high: Vec<ChangeCategory>,
}

impl Default for CategoryClasses {
    fn default() -> Self {
        use ChangeCategory::*;
        Self {
            low: vec![ConfigOnly, FeatureFlags, ContentUpdates],
            medium: vec![BusinessLogic, DatabaseViews, UiChanges],
            high: vec![DatabaseSchema, SecurityChanges, Infrastructure],
        }
    }
}

/// Approver roles per risk class: who authorises a change before deployment (COBIT 2019 BAI06.01).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct ApproverSettings {
    /// Roles for a low-risk change whose automated checks did not all pass.
    pub low_fallback: Vec<String>,
    /// Roles for a medium-risk change.
    pub medium: Vec<String>,
    /// Roles for a high-risk change; each must be a different person.
    pub high: Vec<String>,
}

impl Default for ApproverSettings {
    fn default() -> Self {
        Self {
            low_fallback: vec!["TECHNICAL_LEAD".into()],
            medium: vec!["TECHNICAL_LEAD".into()],
            high: ["TECHNICAL_LEAD", "SECURITY_OFFICER", "COMPLIANCE_OFFICER"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Test suites required per risk class before deployment (COBIT 2019 BAI07, PCI DSS v4.0 6.5.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct RequiredTests {
    /// Suites for low risk.
    pub low: Vec<String>,
    /// Suites for medium risk.
    pub medium: Vec<String>,
    /// Suites for high risk.
    pub high: Vec<String>,
}

impl Default for RequiredTests {
    fn default() -> Self {
        let suites = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect();
        Self {
            low: suites(&["unit", "integration", "smoke"]),
            medium: suites(&["unit", "integration", "e2e", "performance"]),
            high: suites(&["full_regression", "security", "compliance", "performance"]),
        }
    }
}

/// Emergency-change handling (COBIT 2019 BAI06.02).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "serde-reference", derive(Deserialize))]
#[serde(default, deny_unknown_fields)]
pub struct EmergencySettings {
    /// Role whose single approval lets an emergency change proceed.
    pub approver_role: String,
    /// Days within which the retrospective approval must be obtained.
    pub retrospective_within_days: u32,
    /// Role whose approval an emergency change also needs when it is deployed outside its
    /// deployment window or during a change freeze.
    pub outside_window_role: String,
}

impl Default for EmergencySettings {
    fn default() -> Self {
        Self {
            approver_role: "EMERGENCY_CHANGE_MANAGER".into(),
            retrospective_within_days: 3,
            outside_window_role: "CHANGE_ADVISORY_BOARD".into(),
        }
    }
}

impl Settings {
    /// Checks that the settings are consistent.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let r = &self.risk;
        for (field, value) in [
            ("risk.production", r.production),
            ("risk.schema_changes", r.schema_changes),
            ("risk.security_components", r.security_components),
            ("risk.large_change", r.large_change),
            (
                "risk.historical_failure_rate_weight",
                r.historical_failure_rate_weight,
            ),
            ("risk.medium_threshold", r.medium_threshold),
            ("risk.high_threshold", r.high_threshold),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(SettingsError::new(
                    field,
                    format!("must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if r.medium_threshold >= r.high_threshold {
            return Err(SettingsError::new(
                "risk.medium_threshold",
                format!(
                    "must be below `risk.high_threshold` ({} >= {})",
                    r.medium_threshold, r.high_threshold
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (field, list) in [
            ("category_classes.low", &self.category_classes.low),
            ("category_classes.medium", &self.category_classes.medium),
            ("category_classes.high", &self.category_classes.high),
        ] {
            for category in list {
                if !seen.insert(category.as_str()) {
                    return Err(SettingsError::new(
                        field,
                        format!(
                            "category `{}` is assigned to more than one class",
                            category.as_str()
                        ),
                    ));
                }
            }
        }
        names("approvers.low_fallback", &self.approvers.low_fallback)?;
        names("approvers.medium", &self.approvers.medium)?;
        names("approvers.high", &self.approvers.high)?;
        if self.approvers.medium.is_empty() {
            return Err(SettingsError::new(
                "approvers.medium",
                "must name at least one role",
            ));
        }
        if self.approvers.high.is_empty() {
            return Err(SettingsError::new(
                "approvers.high",
                "must name at least one role",
            ));
        }
        if self.approvers.low_fallback.is_empty() {
            return Err(SettingsError::new(
                "approvers.low_fallback",
                "must name at least one role",
            ));
        }
        names("required_tests.low", &self.required_tests.low)?;
        names("required_tests.medium", &self.required_tests.medium)?;
        names("required_tests.high", &self.required_tests.high)?;
        names("production_environments", &self.production_environments)?;
        if self.production_environments.is_empty() {
            return Err(SettingsError::new(
                "production_environments",
                "must name at least one environment",
            ));
        }
        names("shared_accounts", &self.shared_accounts)?;
        if self.authorised_deployer_group.trim().is_empty() {
            return Err(SettingsError::new(
                "authorised_deployer_group",
                "must not be empty",
            ));
        }
        if self.emergency.approver_role.trim().is_empty() {
            return Err(SettingsError::new(
                "emergency.approver_role",
                "must not be empty",
            ));
        }
        identities(&self.identities)?;
        self.trusted_sources.validate()?;
        if let Some(list) = &self.waivers.non_waivable {
            names("waivers.non_waivable", list)?;
        }
        if self.key_rotation_max_days == 0 {
            return Err(SettingsError::new(
                "key_rotation_max_days",
                "must be at least 1",
            ));
        }
        if self.emergency.outside_window_role.trim().is_empty() {
            return Err(SettingsError::new(
                "emergency.outside_window_role",
                "must not be empty",
            ));
        }
        self.deployment_windows.validate()?;
        Ok(())
    }

    /// Compares two identities through the `identities` aliases (see
    /// [`tollgate_manifest::compare_identities`]).
    pub fn compare_identities(&self, a: &str, b: &str) -> IdentityMatch {
        compare_identities(a, b, &self.identities)
    }

    /// Whether the environment is a production environment.
    pub fn is_production(&self, environment: &str) -> bool {
        self.production_environments
            .iter()
            .any(|e| e == environment)
    }
}

fn names(field: &str, list: &[String]) -> Result<(), SettingsError> {
    let mut seen = BTreeSet::new();
    for (index, name) in list.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(SettingsError::new(
                format!("{field}[{index}]"),
                "must not be empty",
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(SettingsError::new(
                format!("{field}[{index}]"),
                format!("`{name}` is listed twice"),
            ));
        }
    }
    Ok(())
}

/// Checks the `identities` aliases: no blank alias or identity, no alias given twice (aliases
/// compare ignoring case), none mapped to itself, and no chain (a canonical identity that is itself
/// an alias).
fn identities(aliases: &IdentityAliases) -> Result<(), SettingsError> {
    let normalise = |s: &str| s.trim().to_ascii_lowercase();
    let mut seen = BTreeSet::new();
    for (alias, canonical) in aliases {
        let field = format!("identities.{alias}");
        if alias.trim().is_empty() {
            return Err(SettingsError::new(field, "the alias must not be empty"));
        }
        if canonical.trim().is_empty() {
            return Err(SettingsError::new(
                field,
                format!("`{alias}` maps to an empty identity"),
            ));
        }
        if !seen.insert(normalise(alias)) {
            return Err(SettingsError::new(
                field,
                format!("`{alias}` is listed twice (aliases compare ignoring case)"),
            ));
        }
        if normalise(alias) == normalise(canonical) {
            return Err(SettingsError::new(
                field,
                format!("`{alias}` maps to itself"),
            ));
        }
        if let Some(other) = aliases
            .keys()
            .find(|k| normalise(k) == normalise(canonical))
        {
            return Err(SettingsError::new(
                field,
                format!(
                    "`{alias}` maps to `{canonical}`, which is itself an alias (of `{}`); map every alias to the canonical identity",
                    aliases.get(other).map_or("", String::as_str)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_means_defaults() {
        assert_eq!(Settings::from_json("  ").unwrap(), Settings::default());
        assert_eq!(Settings::from_json("{}").unwrap(), Settings::default());
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_path() {
        let err = Settings::from_json(r#"{"risk": {"prodution": 3}}"#).unwrap_err();
        assert_eq!(err.field, "risk.prodution");
        assert!(err.message.contains("prodution"), "{err}");
    }

    #[test]
    fn inverted_thresholds_are_rejected() {
        let err = Settings::from_json(r#"{"risk": {"medium_threshold": 8}}"#).unwrap_err();
        assert_eq!(err.field, "risk.medium_threshold");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = Settings::from_json(r#"{"key_rotation_max_days": "ninety"}"#).unwrap_err();
        assert_eq!(err.field, "key_rotation_max_days");
    }

    #[test]
    fn categories_must_not_be_in_two_classes() {
        let err = Settings::from_json(
            r#"{"category_classes": {"low": ["config_only", "infrastructure"]}}"#,
        )
        .unwrap_err();
        assert_eq!(err.field, "category_classes.high");
    }

    #[test]
    fn identities_are_validated_naming_the_alias() {
        let ok = Settings::from_json(r#"{"identities": {"alice": "alice@bank.example"}}"#).unwrap();
        assert_eq!(ok.identities["alice"], "alice@bank.example");
        for (json, field, words) in [
            (r#"{"identities": {"bob": " "}}"#, "identities.bob", "empty"),
            (
                r#"{"identities": {"bob": "BOB"}}"#,
                "identities.bob",
                "itself",
            ),
            (
                r#"{"identities": {"bob": "robert", "robert": "robert@bank.example"}}"#,
                "identities.bob",
                "itself an alias",
            ),
            (
                r#"{"identities": {"Bob": "a@x", "bob": "b@x"}}"#,
                "identities.bob",
                "twice",
            ),
            (r#"{"identities": {"bob": 3}}"#, "identities.bob", "string"),
        ] {
            let err = Settings::from_json(json).unwrap_err();
            assert_eq!(err.field, field, "{json}: {err}");
            assert!(err.message.contains(words), "{json}: {err}");
        }
    }

    #[test]
    fn zero_rotation_days_are_rejected() {
        assert!(Settings::from_json(r#"{"key_rotation_max_days": 0}"#).is_err());
    }
}
