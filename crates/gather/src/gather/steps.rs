//! The steps of a gathering, in the order [`super::gather`] runs them. Each step adds the facts of one
//! source; a later step overrides an earlier one, so the order is the precedence (lowest first).

use std::path::Path;

use serde_json::{Value, json};
use tollgate_manifest::{ChangeCategory, DataClass, Format, Manifest, SensitiveDataKind, decode};

use super::facts::{Facts, field_rank};
use super::merge::merge_hand_written;
use super::output::Gathered;
use super::request::GatherRequest;
use crate::GatherError;
use crate::ci::Sourced;
use crate::config::{AuthorIdentity, Config};
use crate::detect::{Detection, Detectors};
use crate::git::{Commit, Diff, Repository};
use crate::junit::{JunitSummary, SuiteKinds, parse_report};
use crate::paths::{PathRules, category_name};
use crate::sarif::{ScanSummary, parse_log};
use crate::ticket::Ticket;

/// A gathering in progress: the facts so far, the notes for a reviewer, and the data classes
/// brought into scope (with their sources).
pub(super) struct Gathering<'a> {
    request: &'a GatherRequest,
    facts: Facts,
    notes: Vec<String>,
    data_classes: Vec<DataClass>,
    data_sources: Vec<String>,
}

impl<'a> Gathering<'a> {
    pub(super) fn new(request: &'a GatherRequest) -> Self {
        Self {
            request,
            facts: Facts::new(),
            notes: Vec::new(),
            data_classes: Vec::new(),
            data_sources: Vec::new(),
        }
    }

    /// Git: the change between the merge base of base and head, and head (commit, title, author,
    /// size, categories). Returns the repository and the diff for the detectors.
    pub(super) fn git_change(&mut self) -> Result<(Repository, Diff), GatherError> {
        let request = self.request;
        let config = &request.config;
        let ci = &request.ci;
        let repo = Repository::open(&request.repo)?;
        let head = request
            .head
            .clone()
            .or_else(|| ci.commit.as_ref().map(|c| c.value.clone()))
            .unwrap_or_else(|| "HEAD".to_owned());
        let base = request
            .base
            .clone()
            .or_else(|| ci.base.as_ref().map(|b| b.value.clone()))
            .ok_or(GatherError::Missing {
                field: "base revision",
                help: "pass `--base REV` (for example `--base origin/main`); no CI merge-request target or previous commit was found",
            })?;
        let diff = repo.diff(&base, &head)?;
        let commit: Commit = repo.commit(&diff.head)?;
        let rules = PathRules::new(&config.categories)?;
        let classification = rules.classify(diff.paths());

        let facts = &mut self.facts;
        facts.set("change", "commit", json!(commit.id), "git");
        facts.set(
            "change",
            "title",
            json!(commit.subject),
            "git:head commit subject",
        );
        facts.set(
            "change",
            "author",
            json!(author_identity(config, &commit)),
            "git:head commit author",
        );
        facts.set(
            "change",
            "lines_changed",
            json!(diff.lines_changed()),
            "git",
        );
        let categories: Vec<&str> = classification
            .categories
            .iter()
            .map(|c| category_name(*c))
            .collect();
        let why: Vec<String> = classification
            .reasons
            .iter()
            .map(|(c, path)| format!("{}<-{path}", category_name(*c)))
            .collect();
        let rule_source = format!("path rules ({})", why.join(", "));
        facts.set(
            "change",
            "categories",
            json!(categories),
            rule_source.clone(),
        );
        facts.set(
            "change",
            "includes_schema_changes",
            json!(classification.has(ChangeCategory::DatabaseSchema)),
            "path rules (database_schema)",
        );
        facts.set(
            "change",
            "touches_security_components",
            json!(classification.has(ChangeCategory::SecurityChanges)),
            "path rules (security_changes)",
        );
        if diff.authors.len() > 1 {
            let names: Vec<&str> = diff.authors.iter().map(|(_, e)| e.as_str()).collect();
            self.notes.push(format!(
                "the change has {} commit authors ({}); `change.author` is the head commit's",
                diff.authors.len(),
                names.join(", ")
            ));
        }
        Ok((repo, diff))
    }

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
    pub(super) fn test_reports(&mut self) -> Result<(), GatherError> {
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
            let suites: Vec<Value> = tests
                .kinds
                .iter()
                .map(|(kind, c)| json!({ "suite": kind, "passed": c.passed, "failed": c.failed }))
                .collect();
            self.facts.set(
                "evidence",
                "tests",
                Value::Array(suites),
                format!("junit:{}", junit_sources.join(",")),
            );
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
    pub(super) fn scan_reports(&mut self) -> Result<(), GatherError> {
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
        self.facts.set(
            "evidence",
            "security_scan",
            serde_json::to_value(scan.to_manifest())
                .map_err(|e| GatherError::Internal(e.to_string()))?,
            format!("sarif:{}", origins.join(",")),
        );
        if scan.ignored > 0 {
            self.notes.push(format!(
                "{} SARIF result(s) not counted: suppressed, fixed, passing or level `none`",
                scan.ignored
            ));
        }
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
                "detectors:added lines",
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
                self.data_sources.push("detectors".to_owned());
            }
        }
    }

    /// The CI environment: pipeline, deployer (the CI actor), environment and title.
    pub(super) fn ci_context(&mut self) {
        let ci = &self.request.ci;
        let facts = &mut self.facts;
        if let Some(pipeline) = &ci.pipeline_id {
            facts.set(
                "change",
                "pipeline_id",
                json!(pipeline.value),
                ci_source(pipeline, ci.system),
            );
        }
        if let Some(actor) = &ci.actor {
            facts.set(
                "change",
                "deployer",
                json!(actor.value),
                ci_source(actor, ci.system),
            );
        }
        if let Some(environment) = &ci.environment {
            facts.set(
                "change",
                "environment",
                json!(environment.value),
                ci_source(environment, ci.system),
            );
        }
        if let Some(title) = &ci.title {
            facts.set(
                "change",
                "title",
                json!(title.value),
                ci_source(title, ci.system),
            );
        }
    }

    /// The change-ticket file: id, status, approvals and what else it states.
    pub(super) fn ticket(&mut self) -> Result<(), GatherError> {
        let Some(path) = &self.request.ticket else {
            return Ok(());
        };
        let origin = path.display().to_string();
        let ticket = Ticket::parse(&read(path, "ticket file")?, &origin)?;
        let source = format!("ticket:{origin}");
        let facts = &mut self.facts;
        facts.set("change", "id", json!(ticket.id), source.clone());
        facts.set(
            "change",
            "ticket_status",
            json!(ticket.status),
            source.clone(),
        );
        facts.set(
            "change",
            "approvals",
            json!(ticket.approvals),
            source.clone(),
        );
        if let Some(title) = ticket.title {
            facts.set("change", "title", json!(title), source.clone());
        }
        if let Some(emergency) = ticket.emergency {
            facts.set("change", "emergency", json!(emergency), source.clone());
        }
        if let Some(reason) = ticket.reason {
            facts.set("change", "reason", json!(reason), source.clone());
        }
        if let Some(impact) = ticket.security_impact {
            facts.set("change", "security_impact", json!(impact), source);
        }
        Ok(())
    }

    /// Values given on the command line, and the data classes in scope (detected or flagged).
    pub(super) fn flags(&mut self) {
        let overrides = &self.request.overrides;
        let facts = &mut self.facts;
        let flag = |name: &str| format!("flag:--{name}");
        let text_flags = [
            (&overrides.change_id, "id", "change-id"),
            (&overrides.title, "title", "title"),
            (&overrides.author, "author", "author"),
            (&overrides.deployer, "deployer", "deployer"),
            (&overrides.environment, "environment", "environment"),
            (&overrides.pipeline_id, "pipeline_id", "pipeline-id"),
        ];
        for (value, key, name) in text_flags {
            if let Some(value) = value {
                facts.set("change", key, json!(value), flag(name));
            }
        }
        if !overrides.deployer_groups.is_empty() {
            facts.set(
                "change",
                "deployer_groups",
                json!(overrides.deployer_groups),
                flag("deployer-group"),
            );
        }
        if let Some(emergency) = overrides.emergency {
            facts.set("change", "emergency", json!(emergency), flag("emergency"));
        }
        for class in &overrides.data_classes {
            if !self.data_classes.contains(class) {
                self.data_classes.push(*class);
                self.data_sources.push(flag("data-class"));
            }
        }
        if !self.data_classes.is_empty() {
            self.data_sources.dedup();
            facts.set(
                "change",
                "data_classes",
                json!(self.data_classes),
                self.data_sources.join(","),
            );
        }
    }

    /// Defaults for what nothing said, fail-closed: an unapproved ticket, the production
    /// environment.
    pub(super) fn defaults(&mut self) {
        let facts = &mut self.facts;
        if !facts.has("change", "ticket_status") {
            facts.set(
                "change",
                "ticket_status",
                json!("draft"),
                "default (no ticket file: not approved)",
            );
        }
        if !facts.has("change", "environment") {
            facts.set(
                "change",
                "environment",
                json!("production"),
                "default (no CI environment: the strictest)",
            );
        }
    }

    /// The hand-written manifest, merged over everything else. Returns the file merged, if any.
    pub(super) fn hand_written(&mut self) -> Result<Option<String>, GatherError> {
        let Some(path) = &self.request.partial else {
            return Ok(None);
        };
        let origin = path.display().to_string();
        let text = read(path, "partial manifest")?;
        let format = Format::detect(Some(path), &text);
        let written: Value = decode(&text, format).map_err(|source| GatherError::Document {
            what: "partial manifest",
            path: origin.clone(),
            source,
        })?;
        let Value::Object(written) = written else {
            return Err(GatherError::Field {
                what: "partial manifest",
                path: origin,
                field: "(document)",
                message: "must be a mapping".to_owned(),
            });
        };
        merge_hand_written(&mut self.facts, &written, &mut self.notes)?;
        Ok(Some(origin))
    }

    /// The fields no source may leave out: the change id and the deployer.
    pub(super) fn require_id_and_deployer(&self) -> Result<(), GatherError> {
        for (field, help) in [
            (
                "id",
                "pass `--change-id`, a `--ticket` file, or set `change.id` in the `--merge` manifest",
            ),
            (
                "deployer",
                "pass `--deployer`, run in CI (GitLab, GitHub Actions, Jenkins), or set `change.deployer` in the `--merge` manifest",
            ),
        ] {
            if !self.facts.has("change", field) {
                return Err(GatherError::Missing {
                    field: if field == "id" {
                        "change.id"
                    } else {
                        "change.deployer"
                    },
                    help,
                });
            }
        }
        Ok(())
    }

    /// Notes an author and a deployer that look like identities of different systems (an email
    /// and a login), which separation of duties could not compare.
    pub(super) fn note_identity_systems(&mut self) {
        if let (Some(Value::String(author)), Some(Value::String(deployer))) = (
            self.facts.get("change", "author"),
            self.facts.get("change", "deployer"),
        ) && author.contains('@') != deployer.contains('@')
        {
            self.notes.push(format!(
                "`change.author` ({author}) and `change.deployer` ({deployer}) look like identities of different systems; map git emails to logins in `[identity]` of tollgate.toml so that separation of duties compares like with like"
            ));
        }
    }

    /// Validates the facts as a manifest and orders the provenance like the manifest's fields.
    pub(super) fn finish(
        self,
        partial_origin: Option<String>,
        detections: Vec<Detection>,
    ) -> Result<Gathered, GatherError> {
        let json_text = serde_json::to_string(&self.facts.root)
            .map_err(|e| GatherError::Internal(e.to_string()))?;
        let manifest = Manifest::from_text(&json_text, Format::Json).map_err(|source| {
            GatherError::Invalid {
                partial: partial_origin,
                source,
            }
        })?;
        let mut provenance = self.facts.provenance;
        provenance.sort_by_key(|s| field_rank(&s.field));
        Ok(Gathered {
            manifest,
            provenance,
            detections,
            notes: self.notes,
        })
    }
}

fn ci_source(sourced: &Sourced, system: Option<crate::CiSystem>) -> String {
    match system {
        Some(system) => format!("ci:{system}:{}", sourced.variable),
        None => format!("ci:{}", sourced.variable),
    }
}

fn author_identity(config: &Config, commit: &Commit) -> String {
    let identity = &config.identity;
    if let Some(alias) = identity
        .aliases
        .get(&commit.author_email)
        .or_else(|| identity.aliases.get(&commit.author_name))
    {
        return alias.clone();
    }
    match identity.author {
        AuthorIdentity::Email if !commit.author_email.is_empty() => commit.author_email.clone(),
        AuthorIdentity::EmailLocalPart if !commit.author_email.is_empty() => commit
            .author_email
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => commit.author_name.clone(),
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, GatherError> {
    std::fs::read_to_string(path).map_err(|source| GatherError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_identity_follows_config() {
        let commit = Commit {
            id: "x".into(),
            author_name: "Alice Liddell".into(),
            author_email: "alice@example.com".into(),
            subject: "s".into(),
        };
        let mut config = Config::default();
        assert_eq!(author_identity(&config, &commit), "alice@example.com");
        config.identity.author = AuthorIdentity::EmailLocalPart;
        assert_eq!(author_identity(&config, &commit), "alice");
        config.identity.author = AuthorIdentity::Name;
        assert_eq!(author_identity(&config, &commit), "Alice Liddell");
        config
            .identity
            .aliases
            .insert("alice@example.com".into(), "aliddell".into());
        assert_eq!(author_identity(&config, &commit), "aliddell");
    }
}
