//! Rule logic shared by the Tollgate policies: settings, risk scoring, approval routing, separation
//! of duties and testing evidence, and a builder that turns checks into a [`Decision`].
//!
//! A policy is a [`Policy`]: plain Rust, natively testable. The WIT, Extism and browser exports are
//! thin glue over [`Policy::decide`].

pub mod checks;
mod risk;
pub mod routing;
mod settings;

use tollgate_decision::{
    ControlResult, ControlStatus, Decision, EvalError, Finding, Obligation, Outcome,
    PolicyMetadata, RegulatoryReference, RiskAssessment, RiskClass, Routing, Severity,
};
use tollgate_manifest::{DataClass, MANIFEST_VERSION, Manifest, Timestamp};

pub use risk::assess_risk;
pub use routing::{RoutingResult, automated_checks, route};
pub use settings::{
    ApproverSettings, CategoryClasses, EmergencySettings, RequiredTests, RiskSettings, Settings,
    SettingsError, category_name,
};

/// Context of one evaluation, supplied by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationContext {
    /// The evaluation time; approvals dated after it do not count.
    pub now: Timestamp,
}

/// A compliance policy: metadata plus a pure evaluation.
pub trait Policy {
    /// The policy's identity and control catalogue.
    fn metadata(&self) -> PolicyMetadata;

    /// Evaluates a validated manifest with validated settings.
    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &Settings,
        context: &EvaluationContext,
    ) -> Decision;

    /// Parses and validates settings (JSON text; blank means defaults).
    fn validate_settings(&self, settings_json: &str) -> Result<Settings, EvalError> {
        Settings::from_json(settings_json).map_err(|e| EvalError::InvalidSettings(e.to_string()))
    }

    /// The entry point every export calls: validates settings and manifest, then evaluates.
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError> {
        let settings = self.validate_settings(settings_json)?;
        check_manifest(manifest)?;
        Ok(self.evaluate(manifest, &settings, context))
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
    Ok(())
}

/// Whether two identities name the same person (case-insensitive, surrounding blanks ignored).
pub use tollgate_manifest::same_identity;

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

/// The result of checking evidence for one control: what was seen, and what is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Evidence statements.
    pub evidence: Vec<String>,
    /// Issues found.
    pub issues: Vec<Issue>,
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

    /// Combines two checks of the same control.
    #[must_use]
    pub fn and(mut self, other: Check) -> Self {
        self.evidence.extend(other.evidence);
        self.issues.extend(other.issues);
        self
    }
}

/// The framework-independent assessment of a change: risk and approval routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Risk score and class.
    pub risk: RiskAssessment,
    /// Routing and the separation-of-duties issues found while counting approvals.
    pub routing: RoutingResult,
}

impl Assessment {
    /// Assesses a change.
    pub fn new(manifest: &Manifest, settings: &Settings, context: &EvaluationContext) -> Self {
        let risk = assess_risk(manifest, settings);
        let routing = route(manifest, settings, &risk, context.now);
        Self { risk, routing }
    }

    /// Separation-of-duties check over the recorded approvals, for the framework's SoD control.
    pub fn approval_separation(&self, manifest: &Manifest) -> Check {
        let mut check = Check::default();
        for issue in &self.routing.issues {
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
        if counted.is_empty() && check.issues.is_empty() {
            check.evidence(format!(
                "no approver conflicts with author `{}` or deployer `{}`",
                manifest.change.author, manifest.change.deployer
            ));
        } else {
            for statement in counted {
                check.evidence(format!("{statement}, independent of author and deployer"));
            }
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

/// Assembles a [`Decision`] from checks bound to the policy's controls.
#[derive(Debug)]
pub struct DecisionBuilder {
    metadata: PolicyMetadata,
    applicable: bool,
    risk: RiskAssessment,
    routing: Routing,
    findings: Vec<Finding>,
    controls: Vec<ControlResult>,
    obligations: Vec<Obligation>,
    scope_note: String,
}

impl DecisionBuilder {
    /// Starts a decision for a framework that applies to the change.
    pub fn applicable(metadata: PolicyMetadata, assessment: &Assessment) -> Self {
        Self {
            metadata,
            applicable: true,
            risk: assessment.risk.clone(),
            routing: assessment.routing.routing.clone(),
            findings: Vec::new(),
            controls: Vec::new(),
            obligations: Vec::new(),
            scope_note: String::new(),
        }
    }

    /// A decision for a framework that does not apply: every control is not applicable, nothing
    /// is required, and the outcome is approved as far as this framework is concerned.
    pub fn not_applicable(
        metadata: PolicyMetadata,
        assessment: &Assessment,
        reason: &str,
    ) -> Decision {
        let controls = metadata
            .controls
            .iter()
            .map(|c| ControlResult {
                control_id: c.id.clone(),
                status: ControlStatus::NotApplicable,
                evidence: vec![reason.to_owned()],
            })
            .collect();
        Decision {
            policy_id: metadata.id.clone(),
            framework: metadata.framework.clone(),
            applicable: false,
            outcome: Outcome::Approved,
            risk: assessment.risk.clone(),
            routing: Routing {
                route: "none".into(),
                rationale: format!("{} does not apply: {reason}", metadata.framework),
                required: Vec::new(),
                discounted: Vec::new(),
                automated_checks: assessment.routing.routing.automated_checks.clone(),
            },
            findings: Vec::new(),
            controls,
            obligations: Vec::new(),
            summary: format!("Not applicable: {reason}."),
        }
    }

    /// Starts a decision for a framework that applies only to changes affecting `class`: `Ok` with
    /// `scope_note` in the summary when it applies, otherwise `Err` with the finished
    /// [`DecisionBuilder::not_applicable`] decision, explained by `out_of_scope`.
    pub fn for_data_class(
        metadata: PolicyMetadata,
        assessment: &Assessment,
        manifest: &Manifest,
        class: DataClass,
        scope_note: &str,
        out_of_scope: &str,
    ) -> Result<Self, Box<Decision>> {
        if !manifest.has_data_class(class) {
            return Err(Box::new(Self::not_applicable(
                metadata,
                assessment,
                out_of_scope,
            )));
        }
        let mut builder = Self::applicable(metadata, assessment);
        builder.scope(scope_note);
        Ok(builder)
    }

    /// Adds a note on why the framework applies, used in the summary.
    pub fn scope(&mut self, note: impl Into<String>) {
        self.scope_note = note.into();
    }

    fn references(&self, control_id: &str) -> Vec<RegulatoryReference> {
        self.metadata
            .control(control_id)
            .map(|c| c.references.clone())
            .unwrap_or_default()
    }

    /// Records a control's result: non-compliant if the check found any issue.
    pub fn control(&mut self, control_id: &str, check: Check) {
        let status = if check.issues.is_empty() {
            ControlStatus::Compliant
        } else {
            ControlStatus::NonCompliant
        };
        let references = self.references(control_id);
        for issue in check.issues {
            self.findings.push(Finding {
                rule_id: issue.rule_id,
                control_id: control_id.to_owned(),
                references: references.clone(),
                severity: issue.severity,
                message: issue.message,
                remediation: issue.remediation,
                field_path: issue.field_path,
            });
        }
        self.controls.push(ControlResult {
            control_id: control_id.to_owned(),
            status,
            evidence: check.evidence,
        });
    }

    /// Records a control that does not apply to this change, and why.
    pub fn control_not_applicable(&mut self, control_id: &str, reason: impl Into<String>) {
        self.controls.push(ControlResult {
            control_id: control_id.to_owned(),
            status: ControlStatus::NotApplicable,
            evidence: vec![reason.into()],
        });
    }

    /// Records a control that applies only to production deployments: `check` runs for a
    /// production environment; elsewhere the control is not applicable.
    pub fn production_control(
        &mut self,
        control_id: &str,
        manifest: &Manifest,
        settings: &Settings,
        check: impl FnOnce() -> Check,
    ) {
        let environment = &manifest.change.environment;
        if settings.is_production(environment) {
            self.control(control_id, check());
        } else {
            self.control_not_applicable(
                control_id,
                format!("`{environment}` is not a production environment"),
            );
        }
    }

    /// Records an obligation the change carries if it proceeds.
    pub fn obligation(
        &mut self,
        id: &str,
        control_id: &str,
        description: impl Into<String>,
        due_within_days: Option<u32>,
    ) {
        self.obligations.push(Obligation {
            id: id.to_owned(),
            control_id: control_id.to_owned(),
            description: description.into(),
            due_within_days,
        });
    }

    /// Records the retrospective-approval obligation of an emergency change (COBIT BAI06.02).
    pub fn emergency_obligation(
        &mut self,
        control_id: &str,
        manifest: &Manifest,
        settings: &Settings,
        assessment: &Assessment,
    ) {
        if !manifest.change.emergency {
            return;
        }
        let roles = assessment.normal_route_roles(settings).join(", ");
        self.obligation(
            "retrospective-approval",
            control_id,
            format!(
                "emergency change {}: obtain retrospective approval from {roles} and review the change",
                manifest.change.id
            ),
            Some(settings.emergency.retrospective_within_days),
        );
    }

    /// Finishes the decision: denied if any finding denies, needs approval if a required role is
    /// not satisfied, approved otherwise.
    pub fn finish(self) -> Decision {
        let blocking: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.severity.denies())
            .collect();
        let missing: Vec<&str> = self.routing.missing_roles().collect();
        let outcome = if !blocking.is_empty() {
            Outcome::Denied
        } else if !missing.is_empty() {
            Outcome::NeedsApproval
        } else {
            Outcome::Approved
        };
        let risk = format!("{} risk (score {})", self.risk.class, self.risk.score);
        let mut summary = match outcome {
            Outcome::Denied => format!(
                "Denied: {} blocking finding(s): {}.",
                blocking.len(),
                blocking
                    .iter()
                    .map(|f| format!("{} ({})", f.rule_id, f.control_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Outcome::NeedsApproval => {
                format!("Needs approval from {}; {risk}.", missing.join(", "))
            }
            Outcome::Approved => {
                let applicable = self
                    .controls
                    .iter()
                    .filter(|c| c.status != ControlStatus::NotApplicable)
                    .count();
                let compliant = self
                    .controls
                    .iter()
                    .filter(|c| c.status == ControlStatus::Compliant)
                    .count();
                format!(
                    "Approved: {risk}, route {}; {compliant} of {applicable} applicable controls compliant.",
                    self.routing.route
                )
            }
        };
        if !self.scope_note.is_empty() {
            summary = format!("{summary} {}", self.scope_note);
        }
        if !self.obligations.is_empty() {
            summary.push_str(&format!(
                " {} obligation(s) follow.",
                self.obligations.len()
            ));
        }
        Decision {
            policy_id: self.metadata.id.clone(),
            framework: self.metadata.framework.clone(),
            applicable: self.applicable,
            outcome,
            risk: self.risk,
            routing: self.routing,
            findings: self.findings,
            controls: self.controls,
            obligations: self.obligations,
            summary,
        }
    }
}

/// Builds a regulatory reference.
pub fn reference(source: &str, section: &str) -> RegulatoryReference {
    RegulatoryReference::new(source, section)
}
