//! [`DecisionBuilder`]: binds checks to a policy's controls and assembles the [`Decision`].

use tollgate_decision::{
    ControlResult, ControlStatus, Decision, Finding, Obligation, Outcome, RegulatoryReference,
    RiskAssessment, Routing,
};
use tollgate_manifest::Manifest;

use crate::{AppliesTo, Assessment, Catalogue, Check, ControlEntry, Scope, Settings};

/// Assembles a [`Decision`] from checks bound to the policy's controls.
#[derive(Debug)]
pub struct DecisionBuilder {
    catalogue: &'static Catalogue,
    applicable: bool,
    /// The risk assessment and routing, for a policy with a risk model.
    risk: Option<(RiskAssessment, Routing)>,
    findings: Vec<Finding>,
    controls: Vec<ControlResult>,
    obligations: Vec<Obligation>,
    scope_note: String,
    /// Controls that apply only to production deployments.
    production_only: &'static [&'static str],
    /// The change's environment when it is not a production environment.
    non_production: Option<String>,
}

impl DecisionBuilder {
    /// Starts a decision for a framework that applies to the change.
    pub fn applicable(catalogue: &'static Catalogue, assessment: &Assessment) -> Self {
        Self {
            catalogue,
            applicable: true,
            risk: Some((assessment.risk.clone(), assessment.routing.routing.clone())),
            findings: Vec::new(),
            controls: Vec::new(),
            obligations: Vec::new(),
            scope_note: String::new(),
            production_only: &[],
            non_production: None,
        }
    }

    /// Starts a decision of a policy without a risk model (contract 0.3.0): no risk assessment and
    /// no approval routing, so the outcome is approved or, for a denying finding, denied.
    pub fn without_risk_model(catalogue: &'static Catalogue) -> Self {
        Self {
            catalogue,
            applicable: true,
            risk: None,
            findings: Vec::new(),
            controls: Vec::new(),
            obligations: Vec::new(),
            scope_note: String::new(),
            production_only: &[],
            non_production: None,
        }
    }

    /// A decision for a framework that does not apply: every control is not applicable, nothing
    /// is required, and the outcome is approved as far as this framework is concerned.
    pub fn not_applicable(
        catalogue: &'static Catalogue,
        assessment: &Assessment,
        reason: &str,
    ) -> Decision {
        let controls = catalogue
            .controls
            .iter()
            .map(|c| ControlResult {
                control_id: c.id.to_owned(),
                status: ControlStatus::NotApplicable,
                evidence: vec![reason.to_owned()],
            })
            .collect();
        Decision {
            policy_id: catalogue.id.to_owned(),
            framework: catalogue.framework.to_owned(),
            applicable: false,
            outcome: Outcome::Approved,
            risk: Some(assessment.risk.clone()),
            routing: Some(Routing {
                route: "none".into(),
                rationale: format!("{} does not apply: {reason}", catalogue.framework),
                required: Vec::new(),
                discounted: Vec::new(),
                automated_checks: assessment.routing.routing.automated_checks.clone(),
            }),
            findings: Vec::new(),
            controls,
            obligations: Vec::new(),
            summary: format!("Not applicable: {reason}."),
        }
    }

    /// Starts a decision under the policy's [`Scope`]: `Ok` when the framework applies to the
    /// change (with the scope's note in the summary), otherwise `Err` with the finished
    /// [`DecisionBuilder::not_applicable`] decision. The scope's production-only controls are
    /// recorded as not applicable outside the production environments.
    pub fn for_scope(
        catalogue: &'static Catalogue,
        scope: &Scope,
        assessment: &Assessment,
        manifest: &Manifest,
        settings: &Settings,
    ) -> Result<Self, Box<Decision>> {
        let mut builder = match scope.applies_to {
            AppliesTo::EveryChange => Self::applicable(catalogue, assessment),
            AppliesTo::DataClass {
                class,
                in_scope,
                out_of_scope,
            } => {
                if !manifest.has_data_class(class) {
                    return Err(Box::new(Self::not_applicable(
                        catalogue,
                        assessment,
                        out_of_scope,
                    )));
                }
                let mut builder = Self::applicable(catalogue, assessment);
                builder.scope(in_scope);
                builder
            }
        };
        builder.production_only = scope.production_only;
        let environment = &manifest.change.environment;
        if !settings.is_production(environment) {
            builder.non_production = Some(environment.clone());
        }
        Ok(builder)
    }

    /// Adds a note on why the framework applies, used in the summary.
    pub fn scope(&mut self, note: impl Into<String>) {
        self.scope_note = note.into();
    }

    fn references(&self, control_id: &str) -> Vec<RegulatoryReference> {
        self.catalogue
            .control(control_id)
            .map(ControlEntry::regulatory_references)
            .unwrap_or_default()
    }

    /// Records a control's result: non-compliant if the check found any issue, else not assessed
    /// if its evidence is absent, else pending while approvals are missing, else compliant. A
    /// production-only
    /// control (see [`Scope::production_only`]) is not applicable outside production, whatever
    /// the check found.
    pub fn control(&mut self, control_id: &str, check: Check) {
        if let Some(environment) = &self.non_production
            && self.production_only.contains(&control_id)
        {
            let reason = format!("`{environment}` is not a production environment");
            self.control_not_applicable(control_id, reason);
            return;
        }
        let status = if !check.issues.is_empty() {
            ControlStatus::NonCompliant
        } else if check.evidence_absent {
            ControlStatus::NotAssessed
        } else if check.awaiting_approvals {
            ControlStatus::Pending
        } else {
            ControlStatus::Compliant
        };
        let references = self.references(control_id);
        for issue in check.issues {
            self.findings
                .push(issue.into_finding(control_id, references.clone()));
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
        let missing: Vec<&str> = self
            .risk
            .iter()
            .flat_map(|(_, routing)| routing.missing_roles())
            .collect();
        let outcome = if !blocking.is_empty() {
            Outcome::Denied
        } else if !missing.is_empty() {
            Outcome::NeedsApproval
        } else {
            Outcome::Approved
        };
        let (risk, route) = match &self.risk {
            Some((risk, routing)) => (
                format!("{} risk (score {})", risk.class, risk.score),
                format!(", route {}", routing.route),
            ),
            None => ("no risk model".to_owned(), String::new()),
        };
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
                let count = |status| self.controls.iter().filter(|c| c.status == status).count();
                let compliant = count(ControlStatus::Compliant);
                let not_assessed = count(ControlStatus::NotAssessed);
                let assessed = compliant + count(ControlStatus::NonCompliant);
                let mut summary = format!(
                    "Approved: {risk}{route}; {compliant} of {assessed} assessed controls compliant"
                );
                if not_assessed > 0 {
                    summary.push_str(&format!(", {not_assessed} not assessed"));
                }
                summary.push('.');
                summary
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
        let (risk, routing) = match self.risk {
            Some((risk, routing)) => (Some(risk), Some(routing)),
            None => (None, None),
        };
        Decision {
            policy_id: self.catalogue.id.to_owned(),
            framework: self.catalogue.framework.to_owned(),
            applicable: self.applicable,
            outcome,
            risk,
            routing,
            findings: self.findings,
            controls: self.controls,
            obligations: self.obligations,
            summary,
        }
    }
}
