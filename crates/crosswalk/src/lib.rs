//! A crosswalk: an organisation's own control catalogue (its risk-and-control matrix, ids such as
//! `CC-01`) mapped onto Tollgate's controls and rules, so that reports speak the organisation's
//! language beside Tollgate's.
//!
//! ```yaml
//! version: 1
//! catalogue: ACME risk and control matrix
//! controls:
//!   - id: CC-01
//!     title: All changes must have approval
//!     maps_to:
//!       - control: SOX-CC-05              # every rule of a Tollgate control
//!       - control: PCI-6.5.1
//!         rules: [pci-change-not-approved] # or some of its rules
//! ```
//!
//! A crosswalk is checked against the catalogues of the policies loaded ([`Crosswalk::check`]): a
//! Tollgate control or rule it names that no loaded policy has is an error naming it and where it
//! is, so a renamed control cannot silently drop out of an auditor's view.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tollgate_decision::PolicyMetadata;
use tollgate_manifest::{DocumentError, Format};

/// The crosswalk format version this crate reads.
pub const VERSION: u32 = 1;

/// Why a crosswalk cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CrosswalkError {
    /// The file is not a crosswalk (syntax, unknown field, wrong type), with the field path and line.
    #[error("invalid crosswalk `{file}`: {source}")]
    Invalid {
        /// The file, as named to the user.
        file: String,
        /// The decoding error, with field path and line.
        #[source]
        source: DocumentError,
    },
    /// The file's format version is not one this release reads.
    #[error("crosswalk `{file}` has version {found}; this release reads version {VERSION}")]
    Version {
        /// The file.
        file: String,
        /// The version it states.
        found: u32,
    },
    /// The crosswalk contradicts itself or the loaded catalogues.
    #[error("crosswalk `{file}` at `{path}`: {problem}")]
    Mapping {
        /// The file.
        file: String,
        /// Field path of the faulty entry, for example `controls[2].maps_to[0].control`.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// One control of the organisation's catalogue, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrganisationControl {
    /// The organisation's control id, for example `CC-01`.
    pub id: String,
    /// Its title, for example `All changes must have approval`.
    pub title: String,
}

/// What one organisation control covers of Tollgate's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// A Tollgate control id, for example `SOX-CC-05`.
    pub control: String,
    /// Some of its rule ids; absent means every rule of the control (and the control's own
    /// status).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    title: String,
    maps_to: Vec<Mapping>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    #[serde(default)]
    catalogue: Option<String>,
    controls: Vec<Entry>,
}

/// An organisation's controls mapped onto Tollgate's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crosswalk {
    file: String,
    catalogue: Option<String>,
    entries: Vec<Entry>,
}

impl Crosswalk {
    /// Reads a crosswalk (YAML or JSON) and checks that it is consistent in itself: ids present
    /// and unique, at least one mapping each, rule lists not empty. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, CrosswalkError> {
        let format = Format::detect(Some(std::path::Path::new(file)), text);
        let document: Document =
            tollgate_manifest::decode(text, format).map_err(|source| CrosswalkError::Invalid {
                file: file.to_owned(),
                source,
            })?;
        if document.version != VERSION {
            return Err(CrosswalkError::Version {
                file: file.to_owned(),
                found: document.version,
            });
        }
        let crosswalk = Self {
            file: file.to_owned(),
            catalogue: document.catalogue,
            entries: document.controls,
        };
        crosswalk.check_itself()?;
        Ok(crosswalk)
    }

    /// The name of the organisation's catalogue, if the file gives one.
    pub fn catalogue(&self) -> Option<&str> {
        self.catalogue.as_deref()
    }

    /// The organisation's controls, in the file's order.
    pub fn controls(&self) -> impl Iterator<Item = OrganisationControl> + '_ {
        self.entries.iter().map(Entry::shown)
    }

    fn error(&self, path: String, problem: String) -> CrosswalkError {
        CrosswalkError::Mapping {
            file: self.file.clone(),
            path,
            problem,
        }
    }

    fn check_itself(&self) -> Result<(), CrosswalkError> {
        let mut ids = BTreeSet::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.id.trim().is_empty() {
                return Err(self.error(format!("controls[{i}].id"), "the id is empty".into()));
            }
            if !ids.insert(entry.id.as_str()) {
                return Err(self.error(
                    format!("controls[{i}].id"),
                    format!("control `{}` appears twice", entry.id),
                ));
            }
            if entry.maps_to.is_empty() {
                return Err(self.error(
                    format!("controls[{i}].maps_to"),
                    format!("control `{}` maps to no Tollgate control", entry.id),
                ));
            }
            for (j, mapping) in entry.maps_to.iter().enumerate() {
                if mapping.rules.as_ref().is_some_and(Vec::is_empty) {
                    return Err(self.error(
                        format!("controls[{i}].maps_to[{j}].rules"),
                        "an empty rule list maps nothing: list rules, or leave `rules` out for all of the control's".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks every Tollgate control and rule the crosswalk names against the catalogues of the
    /// loaded policies: an id that none of them has is an error naming it.
    pub fn check(&self, catalogues: &[PolicyMetadata]) -> Result<(), CrosswalkError> {
        for (i, entry) in self.entries.iter().enumerate() {
            for (j, mapping) in entry.maps_to.iter().enumerate() {
                let Some(control) = catalogues.iter().find_map(|m| m.control(&mapping.control))
                else {
                    return Err(self.error(
                        format!("controls[{i}].maps_to[{j}].control"),
                        format!(
                            "`{}` (mapped from `{}`) is not a control of the loaded policies ({})",
                            mapping.control,
                            entry.id,
                            catalogues
                                .iter()
                                .map(|m| m.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                };
                for (k, rule) in mapping.rules.iter().flatten().enumerate() {
                    if !control.rules.contains(rule) {
                        return Err(self.error(
                            format!("controls[{i}].maps_to[{j}].rules[{k}]"),
                            format!(
                                "`{rule}` is not a rule of `{}` (its rules: {})",
                                control.id,
                                control.rules.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The organisation's controls that a finding of `rule` under Tollgate `control` falls under.
    pub fn for_finding(&self, control: &str, rule: &str) -> Vec<OrganisationControl> {
        self.matching(|m| {
            m.control == control
                && m.rules
                    .as_ref()
                    .is_none_or(|rules| rules.iter().any(|r| r == rule))
        })
    }

    /// The organisation's controls that map onto Tollgate `control` (wholly or some of its rules).
    pub fn for_control(&self, control: &str) -> Vec<OrganisationControl> {
        self.matching(|m| m.control == control)
    }

    fn matching(&self, maps: impl Fn(&Mapping) -> bool) -> Vec<OrganisationControl> {
        self.entries
            .iter()
            .filter(|entry| entry.maps_to.iter().any(&maps))
            .map(Entry::shown)
            .collect()
    }

    /// The Tollgate controls an organisation control maps onto, in the file's order.
    pub fn mappings(&self, organisation_control: &str) -> &[Mapping] {
        self.entries
            .iter()
            .find(|entry| entry.id == organisation_control)
            .map_or(&[], |entry| entry.maps_to.as_slice())
    }
}

impl Entry {
    fn shown(&self) -> OrganisationControl {
        OrganisationControl {
            id: self.id.clone(),
            title: self.title.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_decision::{Control, RegulatoryReference};

    const CROSSWALK: &str = "\
version: 1
catalogue: ACME risk and control matrix
controls:
  - id: CC-01
    title: All changes must have approval
    maps_to:
      - control: SOX-CC-05
      - control: PCI-6.5.1
        rules: [pci-change-not-approved]
  - id: CC-02
    title: Deployment Authorization
    maps_to:
      - control: SOX-CC-03
";

    fn catalogue(id: &str, controls: &[(&str, &[&str])]) -> PolicyMetadata {
        PolicyMetadata {
            id: id.into(),
            framework: id.to_uppercase(),
            version: "1.0.0".into(),
            description: "d".into(),
            controls: controls
                .iter()
                .map(|(control, rules)| Control {
                    id: (*control).into(),
                    title: "t".into(),
                    description: "d".into(),
                    references: vec![RegulatoryReference::new("S", "1")],
                    rules: rules.iter().map(|r| (*r).to_owned()).collect(),
                    relies_on: Vec::new(),
                })
                .collect(),
            settings_schema: None,
            extensions: Vec::new(),
        }
    }

    fn loaded() -> Vec<PolicyMetadata> {
        vec![
            catalogue(
                "sox",
                &[
                    ("SOX-CC-05", &["sod-self-approval", "missing-approval"]),
                    ("SOX-CC-03", &["deployer-not-authorised"]),
                ],
            ),
            catalogue(
                "pci",
                &[("PCI-6.5.1", &["pci-change-not-approved", "pci-no-rollback"])],
            ),
        ]
    }

    #[test]
    fn findings_and_controls_find_their_organisation_controls() {
        let crosswalk = Crosswalk::parse(CROSSWALK, "crosswalk.yaml").unwrap();
        crosswalk.check(&loaded()).unwrap();
        assert_eq!(crosswalk.catalogue(), Some("ACME risk and control matrix"));
        let ids =
            |found: Vec<OrganisationControl>| found.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(crosswalk.for_finding("SOX-CC-05", "sod-self-approval")),
            ["CC-01"]
        );
        assert_eq!(
            ids(crosswalk.for_finding("PCI-6.5.1", "pci-change-not-approved")),
            ["CC-01"]
        );
        assert!(
            crosswalk
                .for_finding("PCI-6.5.1", "pci-no-rollback")
                .is_empty()
        );
        assert_eq!(ids(crosswalk.for_control("PCI-6.5.1")), ["CC-01"]);
        assert_eq!(ids(crosswalk.for_control("SOX-CC-03")), ["CC-02"]);
        assert_eq!(crosswalk.mappings("CC-01").len(), 2);
    }

    #[test]
    fn an_unknown_tollgate_control_or_rule_is_named() {
        let text = CROSSWALK.replace("SOX-CC-03", "SOX-CC-99");
        let error = Crosswalk::parse(&text, "crosswalk.yaml")
            .unwrap()
            .check(&loaded())
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("`SOX-CC-99` (mapped from `CC-02`)"),
            "{message}"
        );
        assert!(
            message.contains("controls[1].maps_to[0].control"),
            "{message}"
        );

        let text = CROSSWALK.replace("[pci-change-not-approved]", "[pci-made-up]");
        let message = Crosswalk::parse(&text, "c.yaml")
            .unwrap()
            .check(&loaded())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`pci-made-up` is not a rule of `PCI-6.5.1`"),
            "{message}"
        );
        assert!(
            message.contains("controls[0].maps_to[1].rules[0]"),
            "{message}"
        );
    }

    #[test]
    fn a_malformed_crosswalk_names_the_field_and_line() {
        let text = CROSSWALK.replace(
            "maps_to:\n      - control: SOX-CC-03",
            "map_to:\n      - control: SOX-CC-03",
        );
        let message = Crosswalk::parse(&text, "crosswalk.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("controls[1]") && message.contains("line 12"),
            "{message}"
        );
        assert!(message.contains("map_to"), "{message}");
    }

    #[test]
    fn the_crosswalk_must_be_consistent_in_itself() {
        let twice = CROSSWALK.replace("id: CC-02", "id: CC-01");
        assert!(
            Crosswalk::parse(&twice, "c.yaml")
                .unwrap_err()
                .to_string()
                .contains("`CC-01` appears twice")
        );
        let empty = CROSSWALK.replace("[pci-change-not-approved]", "[]");
        assert!(
            Crosswalk::parse(&empty, "c.yaml")
                .unwrap_err()
                .to_string()
                .contains("empty rule list")
        );
        let version = CROSSWALK.replace("version: 1", "version: 2");
        assert!(matches!(
            Crosswalk::parse(&version, "c.yaml"),
            Err(CrosswalkError::Version { found: 2, .. })
        ));
    }
}
