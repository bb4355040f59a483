//! Conversions between the Rust manifest and decision types and the records generated from the WIT
//! contract. Enums map variant by variant (by name); the compiler checks both sides are exhaustive.
//!
//! A manifest is lowered by [`lower_v0_4`] for a 0.4.0 component and by [`lower_v0_3`] for the
//! earlier ones (0.3.0, 0.2.0 and 0.1.0 share one `manifest` interface), which share
//! `convert/to_wit.rs`: the earlier contracts cannot express the `gxp` data class or an approval's
//! signature meaning, so those are left out of what their components receive (and the provenance
//! of the meanings, a fact their guests would refuse as unknown).
//!
//! Results are lifted by [`v0_4`] (0.4.0 and 0.3.0, one `decision` interface), [`v0_2`] or
//! [`v0_1`], which share `convert/from_wit.rs` and differ in the hooks each defines (control
//! statuses, optional risk and routing, finding references, declared schemas).

use tollgate_manifest as m;

/// The extension facts a policy receives: the manifest's objects of the namespaces its metadata
/// declares, as JSON text, in namespace order.
pub(crate) struct Extensions<'a> {
    facts: Vec<(&'a str, String)>,
}

impl<'a> Extensions<'a> {
    /// The namespaces of `manifest` that `metadata` declares.
    pub(crate) fn new(
        manifest: &'a m::Manifest,
        metadata: &tollgate_decision::PolicyMetadata,
    ) -> Self {
        if metadata.extensions.is_empty() || manifest.extensions.is_empty() {
            return Self { facts: Vec::new() };
        }
        Self {
            facts: manifest
                .extensions
                .iter()
                .filter(|(namespace, _)| {
                    metadata
                        .extensions
                        .iter()
                        .any(|declared| &declared.namespace == *namespace)
                })
                .map(|(namespace, facts)| {
                    (
                        namespace.as_str(),
                        serde_json::Value::Object(facts.clone()).to_string(),
                    )
                })
                .collect(),
        }
    }

    /// The context's `extension` records of one contract version, made by `record` from each
    /// namespace and its facts (borrowed).
    pub(crate) fn records<'s, T>(&'s self, record: impl Fn(&'s str, &'s str) -> T) -> Vec<T> {
        self.facts
            .iter()
            .map(|(namespace, facts)| record(namespace, facts))
            .collect()
    }
}

/// Manifests for a `tollgate:policy@0.4.0` component: every fact.
pub(crate) mod lower_v0_4 {
    use crate::bindings::v0_4::tollgate::policy::manifest as wm;
    use tollgate_manifest as m;

    include!("convert/to_wit.rs");

    fn approval(a: &m::Approval) -> wm::Approval<'_> {
        wm::Approval {
            by: &a.by,
            role: &a.role,
            at: timestamp(a.at),
            meaning: a.meaning.map(|meaning| match meaning {
                m::SignatureMeaning::Review => wm::SignatureMeaning::Review,
                m::SignatureMeaning::Approval => wm::SignatureMeaning::Approval,
                m::SignatureMeaning::Responsibility => wm::SignatureMeaning::Responsibility,
                m::SignatureMeaning::Authorship => wm::SignatureMeaning::Authorship,
            }),
        }
    }

    fn data_class(class: m::DataClass) -> Option<wm::DataClass> {
        Some(match class {
            m::DataClass::Phi => wm::DataClass::Phi,
            m::DataClass::CardholderData => wm::DataClass::CardholderData,
            m::DataClass::FinancialReporting => wm::DataClass::FinancialReporting,
            m::DataClass::Pii => wm::DataClass::Pii,
            m::DataClass::Gxp => wm::DataClass::Gxp,
        })
    }

    fn carries_fact(_field: &str) -> bool {
        true
    }
}

/// Manifests for a component of `tollgate:policy@0.3.0`, `0.2.0` or `0.1.0`: without the `gxp`
/// data class, approvals' signature meanings, and the provenance of those meanings.
pub(crate) mod lower_v0_3 {
    use crate::bindings::v0_3::tollgate::policy::manifest as wm;
    use tollgate_manifest as m;

    include!("convert/to_wit.rs");

    /// Provenance facts added after 0.3.0, which its guests refuse as unknown.
    const FACTS_SINCE_0_4: &[&str] = &["change.approvals[*].meaning"];

    fn approval(a: &m::Approval) -> wm::Approval<'_> {
        wm::Approval {
            by: &a.by,
            role: &a.role,
            at: timestamp(a.at),
        }
    }

    fn data_class(class: m::DataClass) -> Option<wm::DataClass> {
        match class {
            m::DataClass::Phi => Some(wm::DataClass::Phi),
            m::DataClass::CardholderData => Some(wm::DataClass::CardholderData),
            m::DataClass::FinancialReporting => Some(wm::DataClass::FinancialReporting),
            m::DataClass::Pii => Some(wm::DataClass::Pii),
            m::DataClass::Gxp => None,
        }
    }

    fn carries_fact(field: &str) -> bool {
        !FACTS_SINCE_0_4.contains(&field)
    }
}

/// Results of a `tollgate:policy@0.4.0` or `0.3.0` component (one `decision` interface): findings
/// without references (filled from the catalogue), optional risk and routing, declared schemas.
pub(crate) mod v0_4 {
    use crate::bindings::v0_4::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
            wd::ControlStatus::NotAssessed => d::ControlStatus::NotAssessed,
            wd::ControlStatus::Pending => d::ControlStatus::Pending,
        }
    }

    fn present<T>(value: Option<T>) -> Option<T> {
        value
    }

    /// The references of the finding's control in the catalogue (none for a control the catalogue
    /// lacks, which the decision contract refuses).
    fn finding_references(
        finding: &wd::Finding,
        catalogue: &d::PolicyMetadata,
    ) -> Vec<d::RegulatoryReference> {
        catalogue
            .control(&finding.control_id)
            .map(|control| control.references.clone())
            .unwrap_or_default()
    }

    fn schemas(meta: &wd::PolicyMetadata) -> (Option<String>, Vec<d::ExtensionSchema>) {
        (
            meta.settings_schema.clone(),
            meta.extensions
                .iter()
                .map(|e| d::ExtensionSchema {
                    namespace: e.namespace.clone(),
                    description: e.description.clone(),
                    schema: e.schema.clone(),
                })
                .collect(),
        )
    }
}

/// Results of a `tollgate:policy@0.2.0` component: risk, routing and each finding's references
/// always present, no declared schemas.
pub(crate) mod v0_2 {
    use crate::bindings::v0_2::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");
    include!("convert/before_0_3.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
            wd::ControlStatus::NotAssessed => d::ControlStatus::NotAssessed,
            wd::ControlStatus::Pending => d::ControlStatus::Pending,
        }
    }
}

/// Results of a `tollgate:policy@0.1.0` component: as 0.2.0's, with control statuses a subset of
/// 0.2.0's that map to the same names.
pub(crate) mod v0_1 {
    use crate::bindings::v0_1::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");
    include!("convert/before_0_3.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
        }
    }
}
