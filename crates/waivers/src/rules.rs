//! Per-policy waiver rules: the controls no waiver may waive (self-approval, separation of duties,
//! tampered evidence by default), read from the policy's settings (`waivers.non_waivable`), and the
//! identity aliases (`identities`) that tell an approver apart from the author and the deployer.

use serde_json::Value;
use tollgate_decision::Finding;
use tollgate_manifest::IdentityAliases;
use wildmatch::WildMatchPattern;

/// A non-waivable pattern: `*` matches any text, nothing else is special, case is ignored.
type Pattern = WildMatchPattern<'*', '?'>;

/// Characters that other pattern languages treat as wildcards or groups. They are refused rather
/// than matched literally, so that a pattern written for globs never silently means something else.
const RESERVED: &[char] = &['?', '[', ']', '{', '}', '\\'];

/// The non-waivable patterns when a policy's settings name none: every separation-of-duties rule
/// (`sod-self-approval`, `sod-deployer-approval`, `sod-author-deploys`, ...), any self-approval and
/// any tampered evidence.
pub const DEFAULT_NON_WAIVABLE: &[&str] = &["sod-*", "*self-approval*", "*tamper*"];

/// Why a policy's waiver settings are invalid. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct WaiverRulesError {
    /// Dotted path of the offending field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// One policy's waiver rules.
#[derive(Debug, Clone)]
pub struct WaiverRules {
    patterns: Vec<String>,
    matchers: Vec<Pattern>,
    identities: IdentityAliases,
}

impl Default for WaiverRules {
    fn default() -> Self {
        // The default patterns are valid patterns; an empty set (which waives nothing less) is the
        // only fallback, and it is never reached.
        Self::new(
            DEFAULT_NON_WAIVABLE
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
        )
        .unwrap_or_else(|_| Self {
            patterns: Vec::new(),
            matchers: Vec::new(),
            identities: IdentityAliases::new(),
        })
    }
}

impl WaiverRules {
    /// Rules with these non-waivable patterns: rule or control ids, `*` matching any text,
    /// compared without case.
    pub fn new(patterns: Vec<String>) -> Result<Self, WaiverRulesError> {
        let mut matchers = Vec::with_capacity(patterns.len());
        for (index, pattern) in patterns.iter().enumerate() {
            let field = format!("waivers.non_waivable[{index}]");
            let trimmed = pattern.trim();
            if trimmed.is_empty() {
                return Err(WaiverRulesError {
                    field,
                    message: "must not be empty".into(),
                });
            }
            if let Some(reserved) = trimmed.chars().find(|c| RESERVED.contains(c)) {
                return Err(WaiverRulesError {
                    field,
                    message: format!(
                        "`{pattern}` is not a pattern: `{reserved}` is not allowed (a rule or \
                         control id, `*` matching any text)"
                    ),
                });
            }
            matchers.push(Pattern::new_case_insensitive(trimmed));
        }
        Ok(Self {
            patterns,
            matchers,
            identities: IdentityAliases::new(),
        })
    }

    /// Reads a policy's settings (JSON text, blank for defaults): `waivers.non_waivable` (a list
    /// of patterns; absent means [`DEFAULT_NON_WAIVABLE`]) and `identities` (alias → canonical).
    /// Other fields are the policy's own and are ignored here.
    pub fn from_settings(settings_json: &str) -> Result<Self, WaiverRulesError> {
        if settings_json.trim().is_empty() {
            return Ok(Self::default());
        }
        let value: Value = serde_json::from_str(settings_json).map_err(|e| WaiverRulesError {
            field: String::new(),
            message: e.to_string(),
        })?;
        let mut rules = match value.pointer("/waivers/non_waivable") {
            None | Some(Value::Null) => Self::default(),
            Some(Value::Array(items)) => {
                let mut patterns = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(text) => patterns.push(text.to_owned()),
                        None => {
                            return Err(WaiverRulesError {
                                field: format!("waivers.non_waivable[{index}]"),
                                message: "must be a string".into(),
                            });
                        }
                    }
                }
                Self::new(patterns)?
            }
            Some(_) => {
                return Err(WaiverRulesError {
                    field: "waivers.non_waivable".into(),
                    message: "must be a list of rule or control ids".into(),
                });
            }
        };
        if let Some(Value::Object(map)) = value.get("identities") {
            rules.identities = map
                .iter()
                .filter_map(|(alias, canonical)| {
                    canonical.as_str().map(|c| (alias.clone(), c.to_owned()))
                })
                .collect();
        }
        Ok(rules)
    }

    /// The non-waivable patterns.
    pub fn non_waivable(&self) -> &[String] {
        &self.patterns
    }

    /// The identity aliases of the policy's settings.
    pub fn identities(&self) -> &IdentityAliases {
        &self.identities
    }

    /// The pattern that makes a finding non-waivable (by rule id or control id), if any.
    pub fn forbidding(&self, finding: &Finding) -> Option<&str> {
        [finding.rule_id.trim(), finding.control_id.trim()]
            .into_iter()
            .find_map(|id| {
                self.matchers
                    .iter()
                    .zip(&self.patterns)
                    .find(|(matcher, _)| matcher.matches(id))
            })
            .map(|(_, pattern)| pattern.as_str())
    }
}

#[cfg(test)]
mod tests {
    use tollgate_decision::Severity;

    use super::*;
    use crate::test_support::finding;

    #[test]
    fn defaults_forbid_separation_of_duties_self_approval_and_tampering() {
        let rules = WaiverRules::default();
        for rule in [
            "sod-self-approval",
            "sod-deployer-approval",
            "sod-author-deploys",
            "evidence-tampered",
        ] {
            assert!(
                rules
                    .forbidding(&finding(rule, "X-1", Severity::High))
                    .is_some(),
                "{rule}"
            );
        }
        assert!(
            rules
                .forbidding(&finding(
                    "rollback-plan-missing",
                    "SOX-CC-05",
                    Severity::High
                ))
                .is_none()
        );
    }

    #[test]
    fn settings_configure_the_list_by_rule_or_control() {
        let rules =
            WaiverRules::from_settings(r#"{"waivers": {"non_waivable": ["PCI-6.5.*"]}}"#).unwrap();
        assert_eq!(
            rules.forbidding(&finding("anything", "pci-6.5.5", Severity::High)),
            Some("PCI-6.5.*")
        );
        // Replacing the list drops the defaults: the policy chose.
        assert!(
            rules
                .forbidding(&finding("sod-self-approval", "SOX-1", Severity::High))
                .is_none()
        );
        let none = WaiverRules::from_settings(r#"{"risk": {}}"#).unwrap();
        assert_eq!(none.non_waivable().len(), DEFAULT_NON_WAIVABLE.len());
    }

    #[test]
    fn only_the_star_is_a_wildcard_and_case_is_ignored() {
        let rules = WaiverRules::new(vec!["PCI-6.5.*".into(), "*Self-Approval*".into()]).unwrap();
        let forbids = |rule: &str, control: &str| {
            rules
                .forbidding(&finding(rule, control, Severity::High))
                .map(str::to_owned)
        };
        assert_eq!(forbids("x", "pci-6.5.5"), Some("PCI-6.5.*".into()));
        assert_eq!(forbids("x", "PCI-6.5."), Some("PCI-6.5.*".into()));
        assert_eq!(forbids("x", "PCI-6x5.5"), None, "`.` is literal");
        assert_eq!(
            forbids("emergency-self-approval-late", "X-1"),
            Some("*Self-Approval*".into())
        );
        // The rule id is looked at before the control id.
        assert_eq!(
            forbids("self-approval", "PCI-6.5.1"),
            Some("*Self-Approval*".into())
        );
        for pattern in ["sod-?", "sod-[ab]", "{a,b}", "a\\*"] {
            let error = WaiverRules::new(vec![pattern.into()]).unwrap_err();
            assert_eq!(error.field, "waivers.non_waivable[0]", "{pattern}");
            assert!(error.message.contains("is not allowed"), "{error}");
        }
    }

    #[test]
    fn invalid_settings_name_the_field() {
        for (text, field) in [
            (
                r#"{"waivers": {"non_waivable": "sod-*"}}"#,
                "waivers.non_waivable",
            ),
            (
                r#"{"waivers": {"non_waivable": [1]}}"#,
                "waivers.non_waivable[0]",
            ),
            (
                r#"{"waivers": {"non_waivable": [" "]}}"#,
                "waivers.non_waivable[0]",
            ),
            (
                r#"{"waivers": {"non_waivable": ["a[" ]}}"#,
                "waivers.non_waivable[0]",
            ),
        ] {
            assert_eq!(
                WaiverRules::from_settings(text).unwrap_err().field,
                field,
                "{text}"
            );
        }
    }

    #[test]
    fn identities_are_read_from_the_settings() {
        let rules =
            WaiverRules::from_settings(r#"{"identities": {"dave": "dave@bank.example"}}"#).unwrap();
        assert_eq!(rules.identities()["dave"], "dave@bank.example");
    }
}
