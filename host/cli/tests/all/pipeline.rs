//! End to end, as a pipeline runs Tollgate: a temporary git repository with a migration, an auth
//! change and a live card number in a fixture; JUnit and SARIF reports; `tollgate manifest`, then
//! `tollgate eval` in every format. The JUnit report is validated against the Jenkins/Surefire
//! schema (libxml2) and the SARIF log against the OASIS SARIF 2.1.0 schema (`jsonschema`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::shared_cache_dir;
use serde_json::Value;
use tollgate_manifest::{ChangeCategory, DataClass, Format, Manifest, SensitiveDataKind};

/// A Luhn-valid Visa number that is not a published test card: it must never appear in an output.
const LIVE_PAN: &str = "4539578763621486";
const NOW: &str = "2026-05-21T00:00:00Z";

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Alice",
            "-c",
            "user.email=alice@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/report-formats/schemas")
        .join(name)
}

/// The repository, the CI evidence files and the compliance inputs.
struct Pipeline {
    dir: tempfile::TempDir,
}

impl Pipeline {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, "src/payments.rs", "pub fn capture() {}\n");
        write(
            root,
            "tollgate.toml",
            "[identity]\nauthor = \"email_local_part\"\n",
        );
        git(root, &["add", "."]);
        git(root, &["commit", "-q", "-m", "base"]);
        git(root, &["checkout", "-q", "-b", "feature"]);
        write(
            root,
            "migrations/0042_capture_retries.sql",
            "ALTER TABLE captures ADD COLUMN retries INT NOT NULL DEFAULT 0;\n",
        );
        write(
            root,
            "auth/session.rs",
            "pub const SESSION_MINUTES: u32 = 15;\n",
        );
        write(
            root,
            "fixtures/cards.csv",
            &format!("holder,pan\nsandbox,4111 1111 1111 1111\nleaked,{LIVE_PAN}\n"),
        );
        write(
            root,
            "src/payments.rs",
            "pub fn capture() {\n    retry();\n}\n",
        );
        git(root, &["add", "."]);
        git(
            root,
            &["commit", "-q", "-m", "Retry payment capture on timeout"],
        );

        // What earlier pipeline stages left behind (outside the repository's history).
        let suites = [
            "full_regression",
            "security",
            "compliance",
            "performance",
            "unit",
        ];
        for suite in suites {
            write(
                root,
                &format!("reports/{suite}.xml"),
                &format!(
                    r#"<?xml version="1.0"?><testsuites><testsuite name="{suite}" tests="3" failures="0" errors="0" skipped="1"><testcase name="a"/><testcase name="b"/><testcase name="c"><skipped/></testcase></testsuite></testsuites>"#
                ),
            );
        }
        write(
            root,
            "reports/scan.sarif",
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"scanner"}},"invocations":[{"executionSuccessful":true}],"results":[{"ruleId":"weak-hash","level":"warning","message":{"text":"md5"}}]}]}"#,
        );
        write(
            root,
            "compliance/ticket.json",
            r#"{"id":"CHG-2041","status":"approved","title":"Retry payment capture on timeout",
               "approvals":[{"by":"bob","role":"TECHNICAL_LEAD","at":"2026-05-20T09:00:00Z"},
                            {"by":"sam","role":"SECURITY_OFFICER","at":"2026-05-20T10:00:00Z"},
                            {"by":"cora","role":"COMPLIANCE_OFFICER","at":"2026-05-20T11:00:00Z"}]}"#,
        );
        write(
            root,
            "compliance/change-evidence.yaml",
            "change:\n  reason: failed captures during network blips\n  security_impact: session lifetime shortened\nevidence:\n  compliance_checks_passed: true\n  rollback_plan: { documented: true, strategy: blue_green, tested: true }\n  encryption: { at_rest: true, in_transit: true, key_rotated_days_ago: 30 }\n  audit_logging: true\n  test_data_removed: true\n  breach_notification_procedure: true\n",
        );
        Self { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    fn tollgate(&self, args: &[&str]) -> Output {
        self.tollgate_with(args, &[])
    }

    /// Runs `tollgate` with extra environment variables (the CI system's).
    fn tollgate_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .current_dir(self.root())
            .args(args)
            .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITLAB_CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("JENKINS_URL")
            .env_remove("JENKINS_HOME")
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs `tollgate manifest` and returns the manifest file.
    fn manifest(&self) -> PathBuf {
        let mut args = vec![
            "manifest",
            "--base",
            "main",
            "--head",
            "feature",
            "--ci",
            "gitlab",
            "--deployer",
            "carol",
        ];
        let junit: Vec<String> = [
            "full_regression",
            "security",
            "compliance",
            "performance",
            "unit",
        ]
        .iter()
        .map(|s| format!("{s}=reports/{s}.xml"))
        .collect();
        for report in &junit {
            args.extend(["--junit", report]);
        }
        args.extend([
            "--sarif",
            "reports/scan.sarif",
            "--ticket",
            "compliance/ticket.json",
            "--merge",
            "compliance/change-evidence.yaml",
            "--output",
            "out/manifest.yaml",
            "--provenance",
            "out/manifest.sources.json",
        ]);
        std::fs::create_dir_all(self.path("out")).unwrap();
        // The deployer's groups come from the protected deployment environment's CI variable.
        let output = self.tollgate_with(
            &args,
            &[("TOLLGATE_DEPLOYER_GROUPS", "production-deployers")],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_no_pan(&output);
        self.path("out/manifest.yaml")
    }
}

fn assert_no_pan(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(LIVE_PAN),
            "an output carries the card number"
        );
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn manifest_gathers_the_change_and_validates() {
    let pipeline = Pipeline::new();
    let path = pipeline.manifest();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(LIVE_PAN));
    let manifest = Manifest::from_text(&text, Format::Yaml).unwrap();
    let change = &manifest.change;
    assert_eq!(change.id, "CHG-2041");
    assert_eq!(change.author, "alice");
    assert_eq!(change.deployer, "carol");
    assert!(change.categories.contains(&ChangeCategory::DatabaseSchema));
    assert!(change.categories.contains(&ChangeCategory::SecurityChanges));
    assert!(change.includes_schema_changes && change.touches_security_components);
    assert_eq!(change.data_classes, [DataClass::CardholderData]);
    assert_eq!(change.approvals.len(), 3);
    let findings = &manifest.evidence.sensitive_data_findings;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, SensitiveDataKind::Pan);
    assert_eq!(findings[0].location, "fixtures/cards.csv:3");
    assert!(manifest.evidence.rollback_plan.documented);
    let unit = manifest
        .evidence
        .tests
        .iter()
        .find(|t| t.suite == "unit")
        .unwrap();
    assert_eq!((unit.passed, unit.failed), (2, 0));
    let scan = manifest.evidence.security_scan.as_ref().unwrap();
    assert_eq!((scan.completed, scan.medium), (true, 1));
    // The provenance says which fields were gathered and which were hand-written.
    assert!(text.contains("  change.author:\n    kind: git\n    detail: head commit author\n"));
    assert!(text.contains(
        "  evidence.rollback_plan:\n    kind: hand_written\n    detail: compliance/change-evidence.yaml\n"
    ));
    let sources: Value = serde_json::from_str(
        &std::fs::read_to_string(pipeline.path("out/manifest.sources.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sources["sensitive_data"][0]["masked"], "************1486");
}

/// `manifest --output -` (and `-o -`) is standard output, not a file named `-`.
#[test]
fn self_asserted_facts_in_a_hand_written_file_are_disregarded() {
    let pipeline = Pipeline::new();
    let manifest = pipeline.manifest();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let gathered = Manifest::from_text(&text, Format::Yaml).unwrap();
    let groups = gathered.provenance.get("change.deployer_groups").unwrap();
    assert_eq!(groups.to_string(), "ci (gitlab TOLLGATE_DEPLOYER_GROUPS)");
    assert_eq!(
        gathered.provenance.kind_of("evidence.rollback_plan"),
        tollgate_manifest::SourceKind::HandWritten
    );

    // The author writes the groups into the committed evidence file: they win the merge, are
    // recorded as hand-written, and the policies disregard them.
    write(
        pipeline.root(),
        "compliance/self-asserted.yaml",
        "change:\n  deployer_groups: [production-deployers]\n",
    );
    let output = pipeline.tollgate(&[
        "manifest",
        "--base",
        "main",
        "--ticket",
        "compliance/ticket.json",
        "--deployer",
        "carol",
        "--merge",
        "compliance/self-asserted.yaml",
        "--output",
        "out/self-asserted.yaml",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = pipeline.tollgate(&[
        "eval",
        "out/self-asserted.yaml",
        "--now",
        NOW,
        "--policy",
        "sox",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let decision = &json["policies"][0]["decision"];
    let findings: Vec<String> = decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control_id"] == "SOX-AC-02")
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        findings,
        ["deployer-not-authorised", "evidence-untrusted-source"]
    );
    let evidence = decision["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control_id"] == "SOX-AC-02")
        .unwrap()["evidence"]
        .to_string();
    assert!(
        evidence.contains("`change.deployer_groups` from hand_written (compliance/self-asserted.yaml): not trusted, disregarded"),
        "{evidence}"
    );
}

#[test]
fn manifest_output_dash_is_standard_output() {
    let pipeline = Pipeline::new();
    for flag in ["--output", "-o"] {
        let output = pipeline.tollgate(&[
            "manifest",
            "--base",
            "main",
            "--head",
            "feature",
            "--ci",
            "none",
            "--deployer",
            "carol",
            "--ticket",
            "compliance/ticket.json",
            flag,
            "-",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let manifest = Manifest::from_text(&stdout(&output), Format::Yaml).unwrap();
        assert_eq!(manifest.change.id, "CHG-2041");
        assert!(
            !pipeline.path("-").exists(),
            "{flag} - wrote a file named `-`"
        );
    }
}

#[test]
fn manifest_errors_are_invalid_input() {
    let pipeline = Pipeline::new();
    let output = pipeline.tollgate(&[
        "manifest",
        "--base",
        "nope",
        "--ci",
        "none",
        "--change-id",
        "C",
        "--deployer",
        "d",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown revision `nope`"));
    let output = pipeline.tollgate(&[
        "manifest",
        "--base",
        "main",
        "--head",
        "feature",
        "--ci",
        "none",
        "--deployer",
        "d",
        "--junit",
        "unit=reports/missing.xml",
        "--change-id",
        "C",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("reports/missing.xml"));
}

/// The live PAN denies (PCI DSS 6.5.5); every format says so, each in its own way.
#[test]
fn eval_writes_every_format_and_they_follow_their_specs() {
    let pipeline = Pipeline::new();
    let manifest = pipeline.manifest();
    let manifest = manifest.to_str().unwrap();
    let formats = ["json", "junit", "sarif", "github", "gitlab", "markdown"];

    // Each format on standard output.
    let mut stdouts = Vec::new();
    for format in formats {
        let output = pipeline.tollgate(&["eval", manifest, "--now", NOW, "--format", format]);
        assert_eq!(
            output.status.code(),
            Some(4),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_no_pan(&output);
        stdouts.push(stdout(&output));
    }

    // All of them as files in one run, with text on the terminal.
    let mut args = vec!["eval", manifest, "--now", NOW];
    let targets: Vec<String> = formats
        .iter()
        .map(|f| format!("{f}=out/report.{f}"))
        .collect();
    for target in &targets {
        args.extend(["--output", target]);
    }
    let output = pipeline.tollgate(&args);
    assert_eq!(output.status.code(), Some(4));
    assert!(stdout(&output).contains("== Combined =="));
    for (format, from_stdout) in formats.iter().zip(&stdouts) {
        let file = std::fs::read_to_string(pipeline.path(&format!("out/report.{format}"))).unwrap();
        assert!(!file.contains(LIVE_PAN), "{format}");
        assert_eq!(
            &file, from_stdout,
            "{format}: file and standard output differ"
        );
    }

    let read = |format: &str| {
        std::fs::read_to_string(pipeline.path(&format!("out/report.{format}"))).unwrap()
    };

    // JSON: the documented shape.
    let json: Value = serde_json::from_str(&read("json")).unwrap();
    assert_eq!(json["outcome"], "denied");
    assert_eq!(json["exit_code"], 4);
    assert_eq!(json["waivers"]["waived"], serde_json::json!([]));

    // JUnit: valid against the Jenkins/Surefire schema.
    validate_junit(&read("junit"));
    assert!(read("junit").contains("PCI-6.5.5"));

    // SARIF: valid against the OASIS schema; the PAN finding points at the fixture's line.
    let sarif: Value = serde_json::from_str(&read("sarif")).unwrap();
    validate_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let pan = results
        .iter()
        .find(|r| r["ruleId"] == "PCI-6.5.5/live-pan-in-pre-production")
        .unwrap();
    let location = &pan["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "fixtures/cards.csv");
    assert_eq!(location["region"]["startLine"], 3);

    // GitHub: one workflow command per line.
    let github = read("github");
    assert!(github.lines().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    assert!(github.contains("::error file=fixtures/cards.csv,line=3,"));

    // GitLab Code Quality: the required fields.
    let issues: Value = serde_json::from_str(&read("gitlab")).unwrap();
    let pan = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "PCI-6.5.5/live-pan-in-pre-production")
        .unwrap();
    assert_eq!(pan["severity"], "blocker");
    assert_eq!(pan["location"]["path"], "fixtures/cards.csv");
    assert_eq!(pan["location"]["lines"]["begin"], 3);
    assert_eq!(pan["fingerprint"].as_str().unwrap().len(), 64);

    // Markdown: the outcome first.
    assert!(read("markdown").starts_with("## Tollgate: ⛔ Denied"));
}

/// An independent, active waiver lets the change through and is shown with its justification; a
/// waiver approved by the author or the deployer, an expired, a future-dated and a malformed one
/// never apply.
#[test]
fn waivers_turn_findings_into_waived_ones() {
    let pipeline = Pipeline::new();
    let manifest = pipeline.manifest();
    let manifest = manifest.to_str().unwrap();
    write(
        pipeline.root(),
        "compliance/waivers.yaml",
        "version: 1
waivers:
  - id: WVR-1
    rule: live-pan-in-pre-production
    scope: { framework: pci, service: payments }
    justification: acquirer sandbox number, confirmed not live
    ticket: CHG-2101
    approved_by: dave
    expires: 2026-06-30
  - id: WVR-2
    rule: live-pan-in-pre-production
    justification: self-approved
    ticket: CHG-2102
    approved_by: alice
    expires: 2026-06-30
  - id: WVR-3
    rule: live-pan-in-pre-production
    justification: expired
    ticket: CHG-2103
    approved_by: dave
    expires: 2026-05-01
  - id: WVR-4
    rule: live-pan-in-pre-production
    justification: no expiry
    ticket: CHG-2104
    approved_by: dave
  - id: WVR-5
    rule: live-pan-in-pre-production
    justification: approved by the deployer
    ticket: CHG-2105
    approved_by: Carol
    expires: 2026-06-30
  - id: WVR-6
    rule: live-pan-in-pre-production
    justification: dated after the evaluation
    ticket: CHG-2106
    approved_by: dave
    approved_on: 2026-05-22
    expires: 2026-06-30
",
    );
    let run = |service: &str| {
        pipeline.tollgate(&[
            "eval",
            manifest,
            "--now",
            NOW,
            "--waivers",
            "compliance/waivers.yaml",
            "--service",
            service,
            "--format",
            "json",
            "--output",
            "sarif=out/waived.sarif",
            "--output",
            "junit=out/waived.junit",
            "--output",
            "text=out/waived.txt",
        ])
    };
    // The service does not match WVR-1: the PAN still denies.
    let output = run("billing");
    assert_eq!(output.status.code(), Some(4));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<&str> = json["waivers"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "approved_by_author",
            "expired",
            "malformed",
            "approved_by_deployer",
            "future_dated"
        ]
    );

    // It matches: the finding is waived, and the high-risk change has its three approvals.
    let output = run("payments");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["outcome"], "approved");
    assert_eq!(json["outcome_before_waivers"], "denied");
    let waived = &json["waivers"]["waived"][0];
    assert_eq!(waived["rule_id"], "live-pan-in-pre-production");
    assert_eq!(
        waived["waiver"]["justification"],
        "acquirer sandbox number, confirmed not live"
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(pipeline.path("out/waived.sarif")).unwrap())
            .unwrap();
    validate_sarif(&sarif);
    let junit = std::fs::read_to_string(pipeline.path("out/waived.junit")).unwrap();
    validate_junit(&junit);
    assert!(junit.contains("waived by WVR-1"));
    let text = std::fs::read_to_string(pipeline.path("out/waived.txt")).unwrap();
    assert!(text.contains("== Waivers (compliance/waivers.yaml) =="));
    assert!(text.contains("acquirer sandbox number"));
}

#[test]
fn an_unreadable_waivers_file_is_invalid_input() {
    let pipeline = Pipeline::new();
    let manifest = pipeline.manifest();
    write(pipeline.root(), "bad.yaml", "waivers: [\n");
    let output = pipeline.tollgate(&["eval", manifest.to_str().unwrap(), "--waivers", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.yaml"));
    let output = pipeline.tollgate(&["eval", manifest.to_str().unwrap(), "--output", "xml=out/x"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn github_format_appends_the_job_summary() {
    let pipeline = Pipeline::new();
    let manifest = pipeline.manifest();
    let summary = pipeline.path("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(pipeline.root())
        .args([
            "eval",
            manifest.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "github",
        ])
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step\n## Tollgate: ⛔ Denied"));
}

fn validate_sarif(log: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema("sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
}

fn validate_junit(xml: &str) {
    use libxml::parser::Parser;
    use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
    let document = Parser::default()
        .parse_string(xml)
        .expect("well-formed XML");
    let mut parser = SchemaParserContext::from_file(schema("junit-10.xsd").to_str().unwrap());
    let mut validator = SchemaValidationContext::from_parser(&mut parser).expect("schema loads");
    if let Err(errors) = validator.validate_document(&document) {
        let messages: Vec<String> = errors
            .iter()
            .map(|e| format!("{:?}: {:?}", e.line, e.message))
            .collect();
        panic!("JUnit schema errors: {messages:#?}");
    }
    // The schema is not vacuous: a test case without a name fails it.
    let bad = Parser::default()
        .parse_string(
            "<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase/></testsuite>",
        )
        .unwrap();
    assert!(validator.validate_document(&bad).is_err());
}

#[test]
fn a_terraform_plan_is_gathered_and_gated() {
    let pipeline = Pipeline::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/terraform");
    let gather = |plan: &str, out: &str| {
        let plan = examples.join(plan).display().to_string();
        let output = pipeline.tollgate(&[
            "manifest",
            "--base",
            "main",
            "--head",
            "feature",
            "--change-id",
            "CHG-4120",
            "--deployer",
            "carol",
            "--terraform-plan",
            &plan,
            "--output",
            out,
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    std::fs::create_dir_all(pipeline.path("out")).unwrap();
    let notes = gather("untagged-public-bucket/plan.json", "out/untagged.yaml");
    assert!(notes.contains("aws_s3_bucket: 1 created"), "{notes}");
    let text = std::fs::read_to_string(pipeline.path("out/untagged.yaml")).unwrap();
    let gathered = Manifest::from_text(&text, Format::Yaml).unwrap();
    assert_eq!(
        gathered.provenance.kind_of("evidence.infrastructure"),
        tollgate_manifest::SourceKind::TerraformPlan
    );
    let output = pipeline.tollgate(&[
        "eval",
        "out/untagged.yaml",
        "--now",
        NOW,
        "--policy",
        "sox",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(4), "{}", stdout(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules: Vec<&str> = json["policies"][0]["decision"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control_id"] == "SOX-CC-06")
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["infra-tags-missing", "infra-tags-mismatched"]);

    // Text output names the control, its title and references.
    let output = pipeline.tollgate(&[
        "eval",
        "out/untagged.yaml",
        "--now",
        NOW,
        "--policy",
        "sox",
        "--dry-run",
    ]);
    let text = stdout(&output);
    assert!(
        text.contains("SOX-CC-06        Infrastructure change tracking"),
        "{text}"
    );
    assert!(
        text.contains("references: COBIT 2019 BAI06.01; COBIT 2019 BAI06.03"),
        "{text}"
    );
}

/// `tollgate manifest --ticket servicenow:NUMBER` against a local ServiceNow answering as the Table
/// API documents: the ticket's status, approvals and submission time land in the manifest, with
/// the system and URL as their source and no credential anywhere.
#[test]
fn manifest_reads_a_live_servicenow_ticket() {
    use tollgate_tickets::test_server::{Reply, TestServer};
    const TOKEN: &str = "snow-token-5f2e9b";
    let server = TestServer::start(vec![
        (
            "/api/now/table/change_request",
            vec![Reply::json(
                r#"{"result":[{"sys_id":"c83c5e5347c12200e0ef563dbb9a7190","number":"CHG0030001","short_description":"Retry payment capture on timeout","state":"-2","approval":"approved","type":"emergency","opened_at":"2026-05-19 16:40:00","justification":"failed captures during network blips","risk_impact_analysis":"none identified"}]}"#,
            )],
        ),
        (
            "/api/now/table/sysapproval_approver",
            vec![Reply::json(
                r#"{"result":[{"sys_id":"d1","state":"approved","approver.user_name":"bob","approver.email":"bob@example.com","group.assignment_group.name":"Application Development","sys_updated_on":"2026-05-20 09:12:00"},{"sys_id":"d2","state":"approved","approver.user_name":"erin","approver.email":"erin@example.com","group.assignment_group.name":"Emergency CAB","sys_updated_on":"2026-05-20 10:00:00"}]}"#,
            )],
        ),
    ])
    .unwrap();
    let pipeline = Pipeline::new();
    std::fs::create_dir_all(pipeline.path("out")).unwrap();
    std::fs::write(
        pipeline.path("out/tollgate.toml"),
        "[tickets.servicenow.group_roles]\n\"Application Development\" = \"TECHNICAL_LEAD\"\n\"Emergency CAB\" = \"EMERGENCY_CHANGE_MANAGER\"\n",
    )
    .unwrap();
    let args = [
        "manifest",
        "--base",
        "main",
        "--head",
        "feature",
        "--ci",
        "none",
        "--deployer",
        "carol",
        "--config",
        "out/tollgate.toml",
        "--ticket",
        "servicenow:CHG0030001",
        "--format",
        "json",
        "--output",
        "out/manifest.json",
        "--provenance",
        "out/sources.json",
    ];
    let output = pipeline.tollgate_with(
        &args,
        &[
            ("TOLLGATE_SERVICENOW_URL", server.url.as_str()),
            ("TOLLGATE_SERVICENOW_TOKEN", TOKEN),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(pipeline.path("out/manifest.json")).unwrap();
    let manifest = Manifest::from_text(&text, Format::Json).unwrap();
    let change = &manifest.change;
    assert_eq!(change.id, "CHG0030001");
    assert_eq!(change.title, "Retry payment capture on timeout");
    assert_eq!(
        change.ticket_status,
        tollgate_manifest::TicketStatus::Approved
    );
    assert!(change.emergency);
    assert_eq!(
        change.submitted_at.unwrap().to_string(),
        "2026-05-19T16:40:00Z"
    );
    let approvals: Vec<(&str, &str, String)> = change
        .approvals
        .iter()
        .map(|a| (a.by.as_str(), a.role.as_str(), a.at.to_string()))
        .collect();
    assert_eq!(
        approvals,
        [
            ("bob", "TECHNICAL_LEAD", "2026-05-20T09:12:00Z".to_owned()),
            (
                "erin",
                "EMERGENCY_CHANGE_MANAGER",
                "2026-05-20T10:00:00Z".to_owned()
            )
        ]
    );
    let source = manifest.provenance.get("change.approvals").unwrap();
    assert_eq!(source.kind, tollgate_manifest::SourceKind::Ticket);
    assert_eq!(
        source.detail.as_deref(),
        Some(&*format!("servicenow:CHG0030001 ({})", server.url))
    );
    let sources = std::fs::read_to_string(pipeline.path("out/sources.json")).unwrap();
    assert!(sources.contains("servicenow:CHG0030001"), "{sources}");
    for written in [&text, &sources, &stderr.to_string()] {
        assert!(!written.contains(TOKEN), "the token leaked: {written}");
    }
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some(&*format!("Bearer {TOKEN}")))
    );

    // Refused credentials: invalid input (exit 2) naming the system, URL and status.
    let refusing = TestServer::start(vec![(
        "/api/now/table/",
        vec![Reply::status(
            401,
            r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#,
        )],
    )])
    .unwrap();
    let output = pipeline.tollgate_with(
        &args,
        &[
            ("TOLLGATE_SERVICENOW_URL", refusing.url.as_str()),
            ("TOLLGATE_SERVICENOW_TOKEN", TOKEN),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ServiceNow refused"), "{stderr}");
    assert!(
        stderr.contains(&refusing.url) && stderr.contains("401"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");
}
