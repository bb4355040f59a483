//! Rule logic shared by the Tollgate policies: settings, risk scoring, approval routing, separation
//! of duties and testing evidence, and a builder that turns checks into a [`Decision`].
//!
//! A policy is a [`Policy`]: plain Rust, natively testable. The WIT, Extism and browser exports are
//! thin glue over [`Policy::decide`].

mod builder;
pub mod catalogue;
pub mod checks;
pub mod infrastructure;
mod risk;
pub mod routing;
mod scope;
mod settings;
mod settings_error;
mod settings_json;
pub mod trust;
pub mod windows;

use tollgate_decision::{
    Decision, EvalError, PolicyMetadata, RegulatoryReference, RiskAssessment, RiskClass, Severity,
};
use tollgate_manifest::{MANIFEST_VERSION, Manifest, Timestamp};

pub use builder::DecisionBuilder;
pub use catalogue::{Catalogue, ControlEntry, ExtensionEntry, ReferenceEntry};
pub use risk::assess_risk;
pub use routing::{RoutingResult, automated_checks, route};
pub use scope::{AppliesTo, Scope};
pub use settings::{
    ApproverSettings, CategoryClasses, EmergencySettings, RequiredTests, RiskSettings, Settings,
    SettingsError, WaiverSettings,
};
pub use trust::{TrustedFacts, TrustedSources};
pub use windows::{DeploymentWindows, WindowStatus};

/// Context of one evaluation, supplied by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationContext {
    /// The evaluation time; approvals dated after it do not count.
    pub now: Timestamp,
}

/// The settings a policy takes: the built-in packs' shared [`Settings`], or a pack's own type.
pub trait PolicySettings: Sized {
    /// Parses and validates settings (JSON text; blank means defaults). A pack's own serde type
    /// can implement this with [`settings_from_json`].
    fn from_settings_json(text: &str) -> Result<Self, EvalError>;

    /// The sources trusted for the facts a change's author could assert themselves (see
    /// [`trust`]): facts from other sources are disregarded, with a finding on each control that
    /// relies on them. `None` (the default): the policy takes the manifest's facts as given.
    fn trusted_sources(&self) -> Option<&TrustedSources> {
        None
    }
}

impl PolicySettings for Settings {
    fn from_settings_json(text: &str) -> Result<Self, EvalError> {
        Self::from_json(text).map_err(|e| EvalError::InvalidSettings(e.to_string()))
    }

    fn trusted_sources(&self) -> Option<&TrustedSources> {
        Some(&self.trusted_sources)
    }
}

/// Settings of a pack's own type from JSON text: blank means `T::default()`; an error names the
/// field (`production_environments[1]: invalid type ...`), as the built-in packs' errors do.
pub fn settings_from_json<T: serde::de::DeserializeOwned + Default>(
    text: &str,
) -> Result<T, EvalError> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    tollgate_manifest::decode_json(text).map_err(|error| {
        EvalError::InvalidSettings(match error.path() {
            Some(path) => format!("`{path}`: {error}"),
            None => error.to_string(),
        })
    })
}

/// A pack that takes the built-in packs' shared [`Settings`], as a trait object.
pub type BuiltinPolicy = dyn Policy<Settings = Settings> + Send + Sync;

/// A compliance policy: metadata plus a pure evaluation.
pub trait Policy {
    /// The settings the policy takes: [`Settings`] for packs sharing the built-in packs' settings,
    /// or the pack's own type.
    type Settings: PolicySettings;

    /// The policy's identity and controls, as a static table.
    fn catalogue(&self) -> &'static Catalogue;

    /// The policy's identity and control catalogue, as hosts receive it.
    fn metadata(&self) -> PolicyMetadata {
        self.catalogue().metadata()
    }

    /// Evaluates a validated manifest with validated settings.
    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &Self::Settings,
        context: &EvaluationContext,
    ) -> Decision;

    /// Parses and validates settings (JSON text; blank means defaults).
    fn validate_settings(&self, settings_json: &str) -> Result<Self::Settings, EvalError> {
        Self::Settings::from_settings_json(settings_json)
    }

    /// The entry point every export calls: validates settings and manifest, disregards facts from
    /// sources the settings do not trust (see [`trust`]), then evaluates.
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError> {
        let settings = self.validate_settings(settings_json)?;
        check_manifest(manifest)?;
        let Some(trusted) = settings.trusted_sources() else {
            return Ok(self.evaluate(manifest, &settings, context));
        };
        let facts = TrustedFacts::weigh(manifest, trusted);
        let mut decision = self.evaluate(facts.manifest(), &settings, context);
        trust::annotate(&mut decision, self.catalogue(), manifest, &facts);
        Ok(decision)
    }
}

/// Re-checks invariants the manifest parser enforces, for manifests that arrive as typed records
/// from hosts that did not parse them with this crate.
pub fn check_manifest(manifest: &Manifest) -> Result<(), EvalError> {
    let change = &manifest.change;
    if manifest.version != MANIFEST_VERSION {
        return Err(EvalError::InvalidManifest(format!(
            "`version`: unsupported manifest version {}, expected {MANIFEST_VERSION}",
            manifest.version
        )));
    }
    if !(0.0..=1.0).contains(&change.historical_failure_rate) {
        return Err(EvalError::InvalidManifest(format!(
            "`change.historical_failure_rate`: {} is outside 0..=1",
            change.historical_failure_rate
        )));
    }
    for (field, value) in [
        ("change.id", &change.id),
        ("change.title", &change.title),
        ("change.author", &change.author),
        ("change.deployer", &change.deployer),
        ("change.environment", &change.environment),
    ] {
        if value.trim().is_empty() {
            return Err(EvalError::InvalidManifest(format!(
                "`{field}`: must not be empty"
            )));
        }
    }
    let resources = manifest
        .evidence
        .infrastructure
        .iter()
        .flat_map(|i| i.resources.iter());
    for (index, resource) in resources.enumerate() {
        for (field, value) in [
            ("address", &resource.address),
            ("resource_type", &resource.resource_type),
        ] {
            if value.trim().is_empty() {
                return Err(EvalError::InvalidManifest(format!(
                    "`evidence.infrastructure.resources[{index}].{field}`: must not be empty"
                )));
            }
        }
    }
    Ok(())
}

/// Comparing identities: [`compare_identities`] answers same, different or unknown (a login and an
/// email that nothing maps to each other); unknown never counts as a different person. See
/// [`tollgate_manifest::compare_identities`] for the rule, and the `identities` settings.
pub use tollgate_manifest::{IdentityMatch, compare_identities, same_identity};

/// A problem found by a check, not yet bound to a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Rule id, for example `sod-self-approval`.
    pub rule_id: String,
    /// Severity; `high` and above deny.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub remediation: String,
    /// Manifest field path.
    pub field_path: String,
}

impl Issue {
    /// The finding this issue is under `control_id`, carrying the control's references.
    pub(crate) fn into_finding(
        self,
        control_id: &str,
        references: Vec<RegulatoryReference>,
    ) -> tollgate_decision::Finding {
        tollgate_decision::Finding {
            rule_id: self.rule_id,
            control_id: control_id.to_owned(),
            references,
            severity: self.severity,
            message: self.message,
            remediation: self.remediation,
            field_path: self.field_path,
        }
    }

    /// Builds an issue.
    pub fn new(
        rule_id: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        remediation: impl Into<String>,
        field_path: impl Into<String>,
    ) -> Self {
        Self {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            remediation: remediation.into(),
            field_path: field_path.into(),
        }
    }
}

/// The result of checking evidence for one control: what was seen, what is wrong, and whether the
/// control could be exercised at all.
///
/// The control's status follows (see [`DecisionBuilder::control`]): non-compliant with any issue,
/// else not assessed if its evidence is absent, else pending while required approvals are
/// missing, else compliant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Evidence statements.
    pub evidence: Vec<String>,
    /// Issues found.
    pub issues: Vec<Issue>,
    /// The evidence the control rests on is absent, so it could not be exercised.
    pub evidence_absent: bool,
    /// Required approver roles have not approved yet.
    pub awaiting_approvals: bool,
}

impl Check {
    /// Records an evidence statement.
    pub fn evidence(&mut self, statement: impl Into<String>) {
        self.evidence.push(statement.into());
    }

    /// Records an issue.
    pub fn issue(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// Records that the control could not be exercised, and why (an evidence statement). Never
    /// use it where the absence itself is a finding: an issue keeps the control non-compliant.
    pub fn not_assessed(&mut self, why: impl Into<String>) {
        self.evidence.push(why.into());
        self.evidence_absent = true;
    }

    /// Records the required roles that have not approved yet (an evidence statement).
    pub fn awaiting(&mut self, roles: &[&str]) {
        if roles.is_empty() {
            return;
        }
        self.evidence
            .push(format!("awaiting approval from {}", roles.join(", ")));
        self.awaiting_approvals = true;
    }

    /// Combines two checks of the same control.
    #[must_use]
    pub fn and(mut self, other: Check) -> Self {
        self.evidence.extend(other.evidence);
        self.issues.extend(other.issues);
        self.evidence_absent |= other.evidence_absent;
        self.awaiting_approvals |= other.awaiting_approvals;
        self
    }
}

/// Where [`Assessment::approval_separation`] reports approvals given by shared accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedAccountApprovals {
    /// With the other separation-of-duties issues (SOX-CC-05, PCI DSS v4.0 6.5.4).
    WithSeparation,
    /// Not there: the framework reports them through [`Assessment::shared_account_approvals`] under
    /// its authentication control (HIPAA 45 CFR 164.312(d)).
    Separately,
}

fn is_shared_account_approval(issue: &Issue) -> bool {
    issue.rule_id == routing::APPROVAL_BY_SHARED_ACCOUNT
}

/// The framework-independent assessment of a change: risk and approval routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Risk score and class.
    pub risk: RiskAssessment,
    /// Routing and the separation-of-duties issues found while counting approvals.
    pub routing: RoutingResult,
    /// The evaluation time, which is also the deployment time.
    pub now: Timestamp,
}

impl Assessment {
    /// Assesses a change.
    pub fn new(manifest: &Manifest, settings: &Settings, context: &EvaluationContext) -> Self {
        let risk = assess_risk(manifest, settings);
        let routing = route(manifest, settings, &risk, context.now);
        Self {
            risk,
            routing,
            now: context.now,
        }
    }

    /// Separation-of-duties check over the recorded approvals, for the framework's SoD control;
    /// `shared` says whether approvals by shared accounts are reported here.
    pub fn approval_separation(
        &self,
        manifest: &Manifest,
        shared: SharedAccountApprovals,
    ) -> Check {
        let mut check = Check::default();
        for issue in &self.routing.issues {
            if shared == SharedAccountApprovals::Separately && is_shared_account_approval(issue) {
                continue;
            }
            check.issue(issue.clone());
        }
        let counted = self
            .routing
            .routing
            .required
            .iter()
            .filter_map(|r| {
                r.satisfied_by
                    .as_ref()
                    .map(|by| format!("{} approved as {}", by, r.role))
            })
            .collect::<Vec<_>>();
        let missing: Vec<&str> = self.routing.routing.missing_roles().collect();
        if counted.is_empty() && self.routing.issues.is_empty() {
            check.evidence(format!(
                "no approver conflicts with author `{}` or deployer `{}`",
                manifest.change.author, manifest.change.deployer
            ));
        } else {
            for statement in counted {
                check.evidence(format!("{statement}, independent of author and deployer"));
            }
        }
        check.awaiting(&missing);
        check
    }

    /// Approvals given by shared accounts, for a framework that reports them under person or entity
    /// authentication (with [`SharedAccountApprovals::Separately`] in
    /// [`Assessment::approval_separation`]).
    pub fn shared_account_approvals(&self) -> Check {
        let mut check = Check::default();
        let shared: Vec<&Issue> = self
            .routing
            .issues
            .iter()
            .filter(|issue| is_shared_account_approval(issue))
            .collect();
        if shared.is_empty() {
            check.evidence("no approval was given by a shared account");
        }
        for issue in shared {
            check.issue(issue.clone());
        }
        check
    }

    /// The roles the change's risk class needs outside the emergency route, for the retrospective
    /// approval obligation.
    pub fn normal_route_roles<'s>(&self, settings: &'s Settings) -> &'s [String] {
        match self.risk.class {
            RiskClass::Low => &settings.approvers.low_fallback,
            RiskClass::Medium => &settings.approvers.medium,
            RiskClass::High => &settings.approvers.high,
        }
    }
}

/// Builds a regulatory reference.
pub fn reference(source: &str, section: &str) -> RegulatoryReference {
    RegulatoryReference::new(source, section)
}
