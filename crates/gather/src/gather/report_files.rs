//! The evidence-file steps of a gathering: JUnit reports, SARIF logs and the sensitive-data
//! detectors over the added lines.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use tollgate_manifest::{DataClass, Infrastructure, SensitiveDataKind, SourceKind};
use tollgate_terraform::Plan;

use super::facts::source;

use super::steps::{Gathering, read};
use crate::GatherError;
use crate::detect::{Detection, Detectors};
use crate::git::{Diff, Repository};
use crate::junit::{JunitSummary, SuiteKinds, parse_report};
use crate::sarif::{ScanSummary, parse_log};

/// The JUnit suite kind of restore tests, which evidence `evidence.backup_verified`.
pub const BACKUP_SUITE: &str = "backup";

/// How the detectors are named as the source of the data classes they bring into scope.
pub(super) const DETECTORS: &str = "detectors over the added lines";

impl Gathering<'_> {
    /// Runs the sensitive-data detectors over the lines the change adds.
    pub(super) fn scan_added_lines(
        &self,
        repo: &Repository,
        diff: &Diff,
    ) -> Result<Vec<Detection>, GatherError> {
        let detectors = Detectors::new(&self.request.config.sensitive_data)?;
        Ok(detectors.scan(&repo.added_lines(diff)?))
    }

    /// JUnit reports: passed and failed tests per suite kind.
    pub(super) fn test_reports(&mut self, repo: &Repository) -> Result<(), GatherError> {
        let request = self.request;
        let kinds = SuiteKinds::new(&request.config.junit)?;
        let mut tests = JunitSummary::default();
        let mut junit_sources = Vec::new();
        for input in &request.junit {
            let origin = input.path.display().to_string();
            let text = read(&input.path, "JUnit report")?;
            tests.merge(&parse_report(
                &text,
                &origin,
                input.kind.as_deref(),
                &kinds,
            )?);
            junit_sources.push(origin);
        }
        if !request.junit.is_empty() {
            let paths: Vec<&Path> = request.junit.iter().map(|j| j.path.as_path()).collect();
            let suites: Vec<Value> = tests
                .kinds
                .iter()
                .map(|(kind, c)| json!({ "suite": kind, "passed": c.passed, "failed": c.failed }))
                .collect();
            let source = Self::evidence_file_source(
                repo,
                &paths,
                SourceKind::TestReport,
                junit_sources.join(", "),
            )?;
            // A restore test is the evidence that a backup is restorable: verified when the
            // `backup` suite ran tests and none failed.
            if let Some((_, backup)) = tests.kinds.iter().find(|(kind, _)| kind == BACKUP_SUITE) {
                self.facts.set(
                    "evidence",
                    "backup_verified",
                    json!(backup.passed > 0 && backup.failed == 0),
                    source.clone(),
                );
            }
            self.facts
                .set("evidence", "tests", Value::Array(suites), source);
            let skipped: u32 = tests.kinds.iter().map(|(_, c)| c.skipped).sum();
            if skipped > 0 {
                self.notes.push(format!(
                    "{skipped} skipped test(s) in the JUnit reports are not counted as passed"
                ));
            }
        }
        Ok(())
    }

    /// SARIF logs: the security scan's findings by severity.
    pub(super) fn scan_reports(&mut self, repo: &Repository) -> Result<(), GatherError> {
        let request = self.request;
        if request.sarif.is_empty() {
            return Ok(());
        }
        let mut scan = ScanSummary::default();
        let mut origins = Vec::new();
        for (index, path) in request.sarif.iter().enumerate() {
            let origin = path.display().to_string();
            let text = read(path, "SARIF log")?;
            scan.merge(&parse_log(&text, &origin)?, index == 0);
            origins.push(origin);
        }
        let paths: Vec<&Path> = request.sarif.iter().map(PathBuf::as_path).collect();
        self.facts.set(
            "evidence",
            "security_scan",
            serde_json::to_value(scan.to_manifest())
                .map_err(|e| GatherError::Internal(e.to_string()))?,
            Self::evidence_file_source(repo, &paths, SourceKind::Scanner, origins.join(", "))?,
        );
        if scan.ignored > 0 {
            self.notes.push(format!(
                "{} SARIF result(s) not counted: suppressed, fixed, passing or level `none`",
                scan.ignored
            ));
        }
        Ok(())
    }

    /// Terraform plans: the resources they change, with tags, audit trails and data stores. A
    /// plan committed to the repository under change counts as hand-written.
    pub(super) fn terraform_plans(&mut self, repo: &Repository) -> Result<(), GatherError> {
        let request = self.request;
        if request.terraform_plans.is_empty() {
            return Ok(());
        }
        let mut resources = Vec::new();
        let mut origins = Vec::new();
        for path in &request.terraform_plans {
            let origin = path.display().to_string();
            let text = read(path, "Terraform plan")?;
            let plan = Plan::parse(&text).map_err(|source| GatherError::Plan {
                path: origin.clone(),
                source,
            })?;
            let summary = plan.summary();
            self.notes.push(if summary.is_empty() {
                format!("Terraform plan `{origin}` changes no resource")
            } else {
                format!("Terraform plan `{origin}`: {}", summary.join("; "))
            });
            resources.extend(plan.infrastructure.resources);
            origins.push(origin);
        }
        let paths: Vec<&Path> = request
            .terraform_plans
            .iter()
            .map(PathBuf::as_path)
            .collect();
        let infrastructure = Infrastructure { resources };
        self.facts.set(
            "evidence",
            "infrastructure",
            serde_json::to_value(&infrastructure)
                .map_err(|e| GatherError::Internal(e.to_string()))?,
            Self::evidence_file_source(
                repo,
                &paths,
                SourceKind::TerraformPlan,
                origins.join(", "),
            )?,
        );
        Ok(())
    }

    /// The detectors' findings (masked), and the data classes they bring into scope: detected data
    /// brings its framework into scope (fail-closed).
    pub(super) fn sensitive_data(&mut self, detections: &[Detection]) {
        let findings: Vec<Value> = detections
            .iter()
            .map(|d| json!({ "kind": d.kind, "location": d.location() }))
            .collect();
        if !self.request.config.sensitive_data.disabled {
            self.facts.set(
                "evidence",
                "sensitive_data_findings",
                Value::Array(findings),
                source(SourceKind::Detector, "added lines"),
            );
        }
        for detection in detections {
            let class = if detection.kind == SensitiveDataKind::Pan {
                DataClass::CardholderData
            } else {
                DataClass::Phi
            };
            if !self.data_classes.contains(&class) {
                self.data_classes.push(class);
                self.data_sources.push(DETECTORS.to_owned());
            }
        }
    }
}
