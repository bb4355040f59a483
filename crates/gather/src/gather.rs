//! Assembling the manifest: facts from git, CI, evidence files and detectors; flags; then the
//! hand-written partial manifest on top. Precedence, highest first: hand-written manifest, flags,
//! ticket file, CI environment, git and evidence files, built-in defaults.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use tollgate_manifest::{DataClass, Format, MANIFEST_VERSION, Manifest, SensitiveDataKind, decode};

use crate::GatherError;
use crate::ci::{CiContext, Sourced};
use crate::config::{AuthorIdentity, Config};
use crate::detect::{Detection, Detectors};
use crate::git::{Commit, Repository};
use crate::junit::{JunitSummary, SuiteKinds, parse_report};
use crate::paths::{PathRules, category_name};
use crate::sarif::{ScanSummary, parse_log};
use crate::ticket::Ticket;

/// A JUnit report given on the command line: `FILE`, or `KIND=FILE` to force the suite kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitInput {
    /// The suite kind, if forced.
    pub kind: Option<String>,
    /// The report file.
    pub path: PathBuf,
}

impl JunitInput {
    /// Reads `FILE` or `KIND=FILE`. A prefix counts as a kind only if it is a lowercase identifier
    /// (`unit`, `full_regression`) and the argument is not an existing file.
    pub fn parse_arg(arg: &str) -> Self {
        if let Some((kind, path)) = arg.split_once('=') {
            let identifier = !kind.is_empty()
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if identifier && !Path::new(arg).exists() {
                return Self {
                    kind: Some(kind.to_owned()),
                    path: PathBuf::from(path),
                };
            }
        }
        Self {
            kind: None,
            path: PathBuf::from(arg),
        }
    }
}

/// Values given explicitly on the command line; each overrides what git and CI say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `change.id`.
    pub change_id: Option<String>,
    /// `change.title`.
    pub title: Option<String>,
    /// `change.author`.
    pub author: Option<String>,
    /// `change.deployer`.
    pub deployer: Option<String>,
    /// `change.deployer_groups`.
    pub deployer_groups: Vec<String>,
    /// `change.environment`.
    pub environment: Option<String>,
    /// `change.pipeline_id`.
    pub pipeline_id: Option<String>,
    /// Added to `change.data_classes`.
    pub data_classes: Vec<DataClass>,
    /// `change.emergency`, when set.
    pub emergency: Option<bool>,
}

/// Everything [`gather`] needs.
#[derive(Debug, Clone, Default)]
pub struct GatherRequest {
    /// The git repository.
    pub repo: PathBuf,
    /// Base revision; default: the CI system's (merge-request target or previous commit).
    pub base: Option<String>,
    /// Head revision; default: the CI system's commit, else `HEAD`.
    pub head: Option<String>,
    /// The project configuration.
    pub config: Config,
    /// The CI context.
    pub ci: CiContext,
    /// JUnit reports.
    pub junit: Vec<JunitInput>,
    /// SARIF logs.
    pub sarif: Vec<PathBuf>,
    /// The change-ticket file.
    pub ticket: Option<PathBuf>,
    /// A partial hand-written manifest merged on top.
    pub partial: Option<PathBuf>,
    /// Explicit values.
    pub overrides: Overrides,
}

/// Where one manifest field came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldSource {
    /// Field path, for example `change.author`.
    pub field: String,
    /// Source, for example `git`, `ci:GITLAB_USER_LOGIN`, `junit:reports/unit.xml`, `hand-written`.
    pub source: String,
}

/// The gathered manifest, where each field came from, the (masked) detections and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// The manifest, validated.
    pub manifest: Manifest,
    /// Sources of the fields that were set, in field order.
    pub provenance: Vec<FieldSource>,
    /// Sensitive-data detections, with masked values.
    pub detections: Vec<Detection>,
    /// Things a reviewer should know (for example several authors in the change).
    pub notes: Vec<String>,
}

/// Output syntax of [`Gathered::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// YAML, with the provenance as leading comments.
    Yaml,
    /// JSON (the provenance is available separately with [`Gathered::provenance_json`]).
    Json,
}

impl Gathered {
    /// Renders the manifest and checks that the text parses back to the same manifest.
    pub fn render(&self, format: OutputFormat) -> Result<String, GatherError> {
        let internal = |e: &dyn std::fmt::Display| GatherError::Internal(e.to_string());
        let text = match format {
            OutputFormat::Yaml => {
                let body = serde_yaml_ng::to_string(&self.manifest).map_err(|e| internal(&e))?;
                let mut text = String::from(
                    "# Change manifest gathered by `tollgate manifest`.\n# Field sources (hand-written = from the merged manifest):\n",
                );
                for source in &self.provenance {
                    text.push_str(&format!("#   {}: {}\n", source.field, source.source));
                }
                for note in &self.notes {
                    text.push_str(&format!("# note: {}\n", note.replace('\n', " ")));
                }
                text + &body
            }
            OutputFormat::Json => {
                serde_json::to_string_pretty(&self.manifest).map_err(|e| internal(&e))? + "\n"
            }
        };
        let format_back = match format {
            OutputFormat::Yaml => Format::Yaml,
            OutputFormat::Json => Format::Json,
        };
        let parsed =
            Manifest::from_text(&text, format_back).map_err(|source| GatherError::Invalid {
                partial: None,
                source,
            })?;
        if parsed != self.manifest {
            return Err(GatherError::Internal(
                "the rendered manifest does not parse back to the gathered one".to_owned(),
            ));
        }
        Ok(text)
    }

    /// The provenance, detections (masked) and notes as a JSON document.
    pub fn provenance_json(&self) -> String {
        let detections: Vec<Value> = self
            .detections
            .iter()
            .map(|d| {
                json!({
                    "kind": d.kind,
                    "location": d.location(),
                    "masked": d.masked,
                })
            })
            .collect();
        let document = json!({
            "fields": self.provenance,
            "sensitive_data": detections,
            "notes": self.notes,
        });
        serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
    }
}

/// Collects fields into a JSON tree and records their sources.
struct Facts {
    root: Value,
    provenance: Vec<FieldSource>,
}

impl Facts {
    fn new() -> Self {
        Self {
            root: json!({ "version": MANIFEST_VERSION, "change": {}, "evidence": {} }),
            provenance: vec![FieldSource {
                field: "version".to_owned(),
                source: "tollgate".to_owned(),
            }],
        }
    }

    /// Sets `section.key` (one level deep) and records the source.
    fn set(&mut self, section: &str, key: &str, value: Value, source: impl Into<String>) {
        if let Some(Value::Object(map)) = self.root.get_mut(section) {
            map.insert(key.to_owned(), value);
        }
        let field = format!("{section}.{key}");
        let source = source.into();
        match self.provenance.iter_mut().find(|s| s.field == field) {
            Some(existing) => existing.source = source,
            None => self.provenance.push(FieldSource { field, source }),
        }
    }

    fn has(&self, section: &str, key: &str) -> bool {
        self.root.get(section).and_then(|s| s.get(key)).is_some()
    }

    fn get(&self, section: &str, key: &str) -> Option<&Value> {
        self.root.get(section).and_then(|s| s.get(key))
    }
}

fn ci_source(sourced: &Sourced, system: Option<crate::CiSystem>) -> String {
    match system {
        Some(system) => format!("ci:{system}:{}", sourced.variable),
        None => format!("ci:{}", sourced.variable),
    }
}

/// Gathers a manifest.
pub fn gather(request: &GatherRequest) -> Result<Gathered, GatherError> {
    let config = &request.config;
    let ci = &request.ci;
    let overrides = &request.overrides;
    let mut facts = Facts::new();
    let mut notes = Vec::new();

    // Git: the change between the merge base of base and head, and head.
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
    let detectors = Detectors::new(&config.sensitive_data)?;
    let detections = detectors.scan(&repo.added_lines(&diff)?);

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
        json!(classification.has(tollgate_manifest::ChangeCategory::DatabaseSchema)),
        "path rules (database_schema)",
    );
    facts.set(
        "change",
        "touches_security_components",
        json!(classification.has(tollgate_manifest::ChangeCategory::SecurityChanges)),
        "path rules (security_changes)",
    );
    if diff.authors.len() > 1 {
        let names: Vec<&str> = diff.authors.iter().map(|(_, e)| e.as_str()).collect();
        notes.push(format!(
            "the change has {} commit authors ({}); `change.author` is the head commit's",
            diff.authors.len(),
            names.join(", ")
        ));
    }

    // Evidence files.
    let kinds = SuiteKinds::new(&config.junit)?;
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
        facts.set(
            "evidence",
            "tests",
            Value::Array(suites),
            format!("junit:{}", junit_sources.join(",")),
        );
        let skipped: u32 = tests.kinds.iter().map(|(_, c)| c.skipped).sum();
        if skipped > 0 {
            notes.push(format!(
                "{skipped} skipped test(s) in the JUnit reports are not counted as passed"
            ));
        }
    }
    if !request.sarif.is_empty() {
        let mut scan = ScanSummary::default();
        let mut origins = Vec::new();
        for (index, path) in request.sarif.iter().enumerate() {
            let origin = path.display().to_string();
            let text = read(path, "SARIF log")?;
            scan.merge(&parse_log(&text, &origin)?, index == 0);
            origins.push(origin);
        }
        facts.set(
            "evidence",
            "security_scan",
            serde_json::to_value(scan.to_manifest())
                .map_err(|e| GatherError::Internal(e.to_string()))?,
            format!("sarif:{}", origins.join(",")),
        );
        if scan.ignored > 0 {
            notes.push(format!(
                "{} SARIF result(s) not counted: suppressed, fixed, passing or level `none`",
                scan.ignored
            ));
        }
    }
    let findings: Vec<Value> = detections
        .iter()
        .map(|d| json!({ "kind": d.kind, "location": d.location() }))
        .collect();
    if !config.sensitive_data.disabled {
        facts.set(
            "evidence",
            "sensitive_data_findings",
            Value::Array(findings),
            "detectors:added lines",
        );
    }
    // Detected data brings its framework into scope (fail-closed).
    let mut data_classes: Vec<DataClass> = Vec::new();
    let mut data_sources: Vec<String> = Vec::new();
    for detection in &detections {
        let class = if detection.kind == SensitiveDataKind::Pan {
            DataClass::CardholderData
        } else {
            DataClass::Phi
        };
        if !data_classes.contains(&class) {
            data_classes.push(class);
            data_sources.push("detectors".to_owned());
        }
    }

    // CI environment.
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

    // Ticket file.
    if let Some(path) = &request.ticket {
        let origin = path.display().to_string();
        let ticket = Ticket::parse(&read(path, "ticket file")?, &origin)?;
        let source = format!("ticket:{origin}");
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
    }

    // Flags.
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
        if !data_classes.contains(class) {
            data_classes.push(*class);
            data_sources.push(flag("data-class"));
        }
    }
    if !data_classes.is_empty() {
        data_sources.dedup();
        facts.set(
            "change",
            "data_classes",
            json!(data_classes),
            data_sources.join(","),
        );
    }

    // Defaults for what nothing said, fail-closed.
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

    // The hand-written manifest wins.
    let mut partial_origin = None;
    if let Some(path) = &request.partial {
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
        merge_hand_written(&mut facts, &written, &mut notes)?;
        partial_origin = Some(origin);
    }

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
        if !facts.has("change", field) {
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
    if let (Some(Value::String(author)), Some(Value::String(deployer))) = (
        facts.get("change", "author"),
        facts.get("change", "deployer"),
    ) && author.contains('@') != deployer.contains('@')
    {
        notes.push(format!(
            "`change.author` ({author}) and `change.deployer` ({deployer}) look like identities of different systems; map git emails to logins in `[identity]` of tollgate.toml so that separation of duties compares like with like"
        ));
    }

    let json_text =
        serde_json::to_string(&facts.root).map_err(|e| GatherError::Internal(e.to_string()))?;
    let manifest =
        Manifest::from_text(&json_text, Format::Json).map_err(|source| GatherError::Invalid {
            partial: partial_origin,
            source,
        })?;
    let mut provenance = facts.provenance;
    provenance.sort_by_key(|s| field_rank(&s.field));
    Ok(Gathered {
        manifest,
        provenance,
        detections,
        notes,
    })
}

/// Orders provenance like the manifest's fields.
fn field_rank(field: &str) -> (usize, usize) {
    const ORDER: &[&str] = &[
        "version",
        "change.id",
        "change.title",
        "change.reason",
        "change.security_impact",
        "change.ticket_status",
        "change.emergency",
        "change.commit",
        "change.pipeline_id",
        "change.author",
        "change.deployer",
        "change.deployer_groups",
        "change.approvals",
        "change.environment",
        "change.data_classes",
        "change.categories",
        "change.includes_schema_changes",
        "change.touches_security_components",
        "change.lines_changed",
        "change.historical_failure_rate",
        "evidence.tests",
        "evidence.security_scan",
        "evidence.compliance_checks_passed",
        "evidence.backup_verified",
        "evidence.rollback_plan",
        "evidence.encryption",
        "evidence.audit_logging",
        "evidence.sensitive_data_findings",
        "evidence.test_data_removed",
        "evidence.breach_notification_procedure",
    ];
    let top = ORDER
        .iter()
        .position(|f| field == *f || field.starts_with(&format!("{f}.")))
        .unwrap_or(ORDER.len());
    (top, field.len())
}

/// Merges the hand-written manifest over the gathered facts. Mappings merge key by key; any other
/// value (including lists) replaces the gathered one.
fn merge_hand_written(
    facts: &mut Facts,
    written: &Map<String, Value>,
    notes: &mut Vec<String>,
) -> Result<(), GatherError> {
    for (key, value) in written {
        match (key.as_str(), value) {
            ("change" | "evidence", Value::Object(fields)) => {
                for (field, value) in fields {
                    let path = format!("{key}.{field}");
                    if let Some(gathered) = facts.get(key, field)
                        && gathered != value
                    {
                        let source = facts
                            .provenance
                            .iter()
                            .find(|s| s.field == path)
                            .map(|s| s.source.clone())
                            .unwrap_or_default();
                        notes.push(format!(
                            "hand-written `{path}` replaces the value gathered from {source}"
                        ));
                    }
                    let merged = match (facts.get(key, field), value) {
                        (Some(Value::Object(gathered)), Value::Object(written)) => {
                            let mut merged = gathered.clone();
                            for (k, v) in written {
                                merged.insert(k.clone(), v.clone());
                            }
                            Value::Object(merged)
                        }
                        _ => value.clone(),
                    };
                    facts.set(key, field, merged, "hand-written");
                }
            }
            ("version", value) => {
                facts.root["version"] = value.clone();
                facts.set_version_source();
            }
            // Anything else (a misspelt section, a non-mapping section) is left to the manifest
            // validation, which names the field.
            (_, value) => {
                if let Value::Object(root) = &mut facts.root {
                    root.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Ok(())
}

impl Facts {
    fn set_version_source(&mut self) {
        if let Some(source) = self.provenance.iter_mut().find(|s| s.field == "version") {
            source.source = "hand-written".to_owned();
        }
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
    fn junit_argument_forms() {
        assert_eq!(
            JunitInput::parse_arg("unit=reports/u.xml"),
            JunitInput {
                kind: Some("unit".into()),
                path: "reports/u.xml".into()
            }
        );
        assert_eq!(JunitInput::parse_arg("reports/u.xml").kind, None);
        assert_eq!(JunitInput::parse_arg("a/b=c.xml").kind, None);
    }

    #[test]
    fn hand_written_values_win_and_are_noted() {
        let mut facts = Facts::new();
        facts.set("change", "title", json!("from git"), "git");
        facts.set(
            "evidence",
            "security_scan",
            json!({"completed": true, "high": 2}),
            "sarif:s",
        );
        let written: Map<String, Value> = serde_json::from_str(
            r#"{"change": {"title": "by hand"}, "evidence": {"security_scan": {"high": 0}}}"#,
        )
        .unwrap();
        let mut notes = Vec::new();
        merge_hand_written(&mut facts, &written, &mut notes).unwrap();
        assert_eq!(facts.get("change", "title"), Some(&json!("by hand")));
        assert_eq!(
            facts.get("evidence", "security_scan"),
            Some(&json!({"completed": true, "high": 0}))
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("change.title") && n.contains("git"))
        );
        assert!(
            facts
                .provenance
                .iter()
                .any(|s| s.field == "change.title" && s.source == "hand-written")
        );
    }

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
