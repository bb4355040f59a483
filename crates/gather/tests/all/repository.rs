//! `gather` against a real temporary git repository: a migration, an auth change and a live card
//! number in a fixture, with JUnit, SARIF, ticket and partial-manifest inputs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;
use std::process::Command;

use tollgate_gather::{
    CiContext, CiSystem, Config, GatherRequest, JunitInput, OutputFormat, Overrides, gather,
};
use tollgate_manifest::{
    ChangeCategory, DataClass, Format, Manifest, SensitiveDataKind, SourceKind, TicketStatus,
};

/// A Luhn-valid Visa number that is not a published test card.
const LIVE_PAN: &str = "4539578763621486";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Alice Liddell",
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
    String::from_utf8(output.stdout).unwrap()
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository with a base commit on `main` and a change on `feature`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "src/payments.rs", "pub fn capture() {}\n");
    write(root, "README.md", "# shop\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    write(
        root,
        "migrations/0042_add_capture_retries.sql",
        "ALTER TABLE captures ADD COLUMN retries INT;\n",
    );
    write(
        root,
        "auth/session.rs",
        "pub fn expiry() -> u32 {\n    30\n}\n",
    );
    write(
        root,
        "fixtures/cards.csv",
        &format!("name,pan\nsandbox,4111111111111111\nleak,{LIVE_PAN}\n"),
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
    dir
}

fn evidence(dir: &Path) {
    write(
        dir,
        "reports/unit-tests.xml",
        r#"<testsuites><testsuite name="payments" tests="3" failures="0" errors="0">
<testcase name="a"/><testcase name="b"/><testcase name="c"><skipped/></testcase>
</testsuite></testsuites>"#,
    );
    write(
        dir,
        "reports/all.xml",
        r#"<testsuite name="checkout integration" tests="1" failures="1" errors="0">
<testcase name="x"><failure message="boom"/></testcase></testsuite>"#,
    );
    write(
        dir,
        "reports/scan.sarif",
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"s"}},"results":[
{"ruleId":"a","level":"error","message":{"text":"x"}},
{"ruleId":"b","level":"warning","message":{"text":"x"}}]}]}"#,
    );
    write(
        dir,
        "ticket.json",
        r#"{"id":"CHG-2041","status":"approved","title":"Retry capture",
"approvals":[{"by":"bob","role":"TECHNICAL_LEAD","at":"2026-05-20T09:12:00Z"}]}"#,
    );
}

fn request(root: &Path) -> GatherRequest {
    GatherRequest {
        repo: root.to_path_buf(),
        base: Some("main".into()),
        head: Some("feature".into()),
        config: Config::from_toml("[identity]\nauthor = \"email_local_part\"\n", "t").unwrap(),
        junit: vec![
            JunitInput::parse_arg(&root.join("reports/unit-tests.xml").display().to_string()),
            JunitInput::parse_arg(&format!(
                "integration={}",
                root.join("reports/all.xml").display()
            )),
        ],
        sarif: vec![root.join("reports/scan.sarif")],
        ticket: Some(root.join("ticket.json")),
        overrides: Overrides {
            deployer: Some("carol".into()),
            ..Overrides::default()
        },
        ..GatherRequest::default()
    }
}

#[test]
fn gathers_facts_from_git_evidence_and_detectors() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    let gathered = gather(&request(root)).unwrap();
    let change = &gathered.manifest.change;
    assert_eq!(change.id, "CHG-2041");
    assert_eq!(change.title, "Retry capture");
    assert_eq!(change.ticket_status, TicketStatus::Approved);
    assert_eq!(change.author, "alice");
    assert_eq!(change.deployer, "carol");
    assert_eq!(change.environment, "production");
    assert_eq!(
        change.commit.as_deref(),
        Some(git(root, &["rev-parse", "feature"]).trim())
    );
    // 1 + 3 + 3 added lines, 1 removed (src/payments.rs rewritten).
    assert_eq!(change.lines_changed, 1 + 3 + 3 + 3 + 1);
    assert_eq!(
        change.categories,
        [
            ChangeCategory::BusinessLogic,
            ChangeCategory::DatabaseSchema,
            ChangeCategory::SecurityChanges
        ]
    );
    assert!(change.includes_schema_changes);
    assert!(change.touches_security_components);
    assert_eq!(change.data_classes, [DataClass::CardholderData]);
    assert_eq!(change.approvals[0].by, "bob");

    let evidence = &gathered.manifest.evidence;
    let tests: Vec<(&str, u32, u32)> = evidence
        .tests
        .iter()
        .map(|t| (t.suite.as_str(), t.passed, t.failed))
        .collect();
    assert_eq!(tests, [("unit", 2, 0), ("integration", 0, 1)]);
    let scan = evidence.security_scan.as_ref().unwrap();
    assert_eq!((scan.completed, scan.high, scan.medium), (true, 1, 1));
    // The test card is allowed; the live one is found, with its line.
    assert_eq!(evidence.sensitive_data_findings.len(), 1);
    assert_eq!(
        evidence.sensitive_data_findings[0].kind,
        SensitiveDataKind::Pan
    );
    assert_eq!(
        evidence.sensitive_data_findings[0].location,
        "fixtures/cards.csv:3"
    );

    let source = |field: &str| {
        let listed = gathered.provenance.iter().find(|s| s.field == field);
        let recorded = gathered.manifest.provenance.get(field);
        assert_eq!(listed.map(|s| &s.source), recorded, "{field}");
        recorded.map(ToString::to_string).unwrap_or_default()
    };
    assert_eq!(source("change.author"), "git (head commit author)");
    assert!(source("change.id").starts_with("ticket ("));
    assert!(source("evidence.tests").starts_with("test_report ("));
    assert_eq!(source("change.deployer"), "command_line (--deployer)");
    assert!(source("change.categories").contains("database_schema<-migrations/"));
    assert_eq!(
        source("change.environment"),
        "default (no CI environment: the strictest)"
    );
    assert!(gathered.notes.iter().any(|n| n.contains("skipped")));

    // Every output parses back, and no output carries the card number.
    for format in [OutputFormat::Yaml, OutputFormat::Json] {
        let text = gathered.render(format).unwrap();
        let syntax = if format == OutputFormat::Yaml {
            Format::Yaml
        } else {
            Format::Json
        };
        assert_eq!(
            Manifest::from_text(&text, syntax).unwrap(),
            gathered.manifest
        );
        assert!(!text.contains(LIVE_PAN));
    }
    let yaml = gathered.render(OutputFormat::Yaml).unwrap();
    assert!(
        yaml.contains("\n  change.author:\n    kind: git\n    detail: head commit author\n"),
        "{yaml}"
    );
    let provenance = gathered.provenance_json();
    assert!(!provenance.contains(LIVE_PAN));
    assert!(provenance.contains("************1486"));
}

#[test]
fn hand_written_manifest_wins_and_is_marked() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    write(
        root,
        "partial.yaml",
        "change:\n  environment: staging\n  historical_failure_rate: 0.1\nevidence:\n  rollback_plan: { documented: true, strategy: blue_green }\n",
    );
    let mut request = request(root);
    request.partial = vec![root.join("partial.yaml")];
    let gathered = gather(&request).unwrap();
    assert_eq!(gathered.manifest.change.environment, "staging");
    assert!(gathered.manifest.evidence.rollback_plan.documented);
    assert!((gathered.manifest.change.historical_failure_rate - 0.1).abs() < f64::EPSILON);
    let hand_written: Vec<&str> = gathered
        .provenance
        .iter()
        .filter(|s| s.source.kind == SourceKind::HandWritten)
        .map(|s| s.field.as_str())
        .collect();
    assert_eq!(
        hand_written,
        [
            "change.environment",
            "change.historical_failure_rate",
            "evidence.rollback_plan"
        ]
    );
    assert!(
        gathered
            .notes
            .iter()
            .any(|n| n.contains("`change.environment` replaces"))
    );
}

#[test]
fn merge_files_apply_in_order_and_extension_namespaces_merge_key_by_key() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    write(
        root,
        "validation.yaml",
        "change:\n  environment: staging\nextensions:\n  fda:\n    gamp_category: 4\n    training: []\n",
    );
    write(
        root,
        "training.json",
        r#"{"change": {"environment": "production"}, "extensions": {"fda": {"training": [{"person": "bob", "curriculum": "SOP-014", "completed": "2026-01-15T10:00:00Z"}]}}}"#,
    );
    let mut request = request(root);
    request.partial = vec![root.join("validation.yaml"), root.join("training.json")];
    let gathered = gather(&request).unwrap();
    assert_eq!(gathered.manifest.change.environment, "production");
    let fda = &gathered.manifest.extensions["fda"];
    assert_eq!(fda["gamp_category"], 4);
    assert_eq!(fda["training"][0]["person"], "bob");
    let environment = gathered
        .provenance
        .iter()
        .find(|s| s.field == "change.environment")
        .unwrap();
    assert_eq!(environment.source.kind, SourceKind::HandWritten);
    assert!(
        environment
            .source
            .detail
            .as_deref()
            .unwrap()
            .ends_with("training.json")
    );
}

#[test]
fn data_class_path_rules_bring_their_class_into_scope_with_the_file_that_matched() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    let mut request = request(root);
    request.config = Config::from_toml(
        "[identity]\nauthor = \"email_local_part\"\n[data_classes]\ngxp = [\"src/**\"]\npii = [\"lims/**\"]\n",
        "t",
    )
    .unwrap();
    let gathered = gather(&request).unwrap();
    // The detectors found a card number; the path rule adds `gxp`; no file matches `pii`'s rule.
    assert_eq!(
        gathered.manifest.change.data_classes,
        [DataClass::Gxp, DataClass::CardholderData]
    );
    let source = gathered
        .provenance
        .iter()
        .find(|s| s.field == "change.data_classes")
        .unwrap();
    assert_eq!(source.source.kind, SourceKind::Detector);
    let detail = source.source.detail.as_deref().unwrap();
    assert!(detail.contains("data_classes.gxp<-src/"), "{detail}");

    // Without the card number, the path rule is the source.
    request.config = Config::from_toml(
        "[identity]\nauthor = \"email_local_part\"\n[sensitive_data]\ndisabled = true\n[data_classes]\ngxp = [\"src/**\"]\n",
        "t",
    )
    .unwrap();
    let gathered = gather(&request).unwrap();
    let source = gathered
        .provenance
        .iter()
        .find(|s| s.field == "change.data_classes")
        .unwrap();
    assert_eq!(source.source.kind, SourceKind::Configuration);

    // A bad glob names its rule; an unknown class is a configuration error.
    request.config = Config::from_toml("[data_classes]\ngxp = [\"lims/[\"]\n", "t").unwrap();
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("data_classes.gxp"), "{error}");
    let error = Config::from_toml("[data_classes]\ngpx = [\"lims/**\"]\n", "tollgate.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("gpx"), "{error}");
}

#[test]
fn invalid_merged_manifest_is_an_error_naming_the_field() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    write(root, "partial.yaml", "change:\n  enviroment: staging\n");
    let mut request = request(root);
    request.partial = vec![root.join("partial.yaml")];
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("enviroment"), "{error}");
    assert!(error.contains("partial.yaml"), "{error}");
}

#[test]
fn missing_sources_are_errors_not_guesses() {
    let repo = repository();
    let root = repo.path();
    let mut request = GatherRequest {
        repo: root.to_path_buf(),
        head: Some("feature".into()),
        ..GatherRequest::default()
    };
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("--base"), "{error}");
    request.base = Some("main".into());
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("change.deployer"), "{error}");
    request.overrides.change_id = Some("CHG-1".into());
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("change.deployer"), "{error}");
    request.base = Some("no-such-branch".into());
    let error = gather(&request).unwrap_err().to_string();
    assert!(
        error.contains("unknown revision `no-such-branch`"),
        "{error}"
    );
}

#[test]
fn ci_context_supplies_head_base_deployer_and_pipeline() {
    let repo = repository();
    let root = repo.path();
    let head = git(root, &["rev-parse", "feature"]).trim().to_owned();
    let vars = [
        ("GITLAB_CI", "true".to_owned()),
        ("CI_PIPELINE_ID", "48213".to_owned()),
        ("CI_COMMIT_SHA", head.clone()),
        ("GITLAB_USER_LOGIN", "carol".to_owned()),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "main".to_owned()),
        ("CI_ENVIRONMENT_NAME", "staging".to_owned()),
    ];
    let env = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let request = GatherRequest {
        repo: root.to_path_buf(),
        ci: CiContext::read(None, &env),
        overrides: Overrides {
            change_id: Some("CHG-7".into()),
            ..Overrides::default()
        },
        ..GatherRequest::default()
    };
    assert_eq!(request.ci.system, Some(CiSystem::Gitlab));
    let gathered = gather(&request).unwrap();
    let change = &gathered.manifest.change;
    assert_eq!(change.commit.as_deref(), Some(head.as_str()));
    assert_eq!(change.pipeline_id.as_deref(), Some("48213"));
    assert_eq!(change.deployer, "carol");
    assert_eq!(change.environment, "staging");
    assert_eq!(change.author, "alice@example.com");
    // An email author and a login deployer are flagged.
    assert!(gathered.notes.iter().any(|n| n.contains("[identity]")));
}

#[test]
fn without_a_ticket_the_merge_request_or_the_commit_names_a_draft_change() {
    let repo = repository();
    let root = repo.path();
    let head = git(root, &["rev-parse", "feature"]).trim().to_owned();
    let gathered_with = |vars: Vec<(&'static str, String)>| {
        let env = move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let request = GatherRequest {
            repo: root.to_path_buf(),
            base: Some("main".into()),
            head: Some("feature".into()),
            ci: CiContext::read(None, &env),
            ..GatherRequest::default()
        };
        gather(&request).unwrap()
    };
    let gitlab = |extra: &[(&'static str, &str)]| {
        let mut vars = vec![
            ("GITLAB_CI", "true".to_owned()),
            ("GITLAB_USER_LOGIN", "carol".to_owned()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        vars
    };

    let merge_request = gathered_with(gitlab(&[("CI_MERGE_REQUEST_IID", "42")]));
    let change = &merge_request.manifest.change;
    assert_eq!(change.id, "MR-42");
    assert_eq!(change.ticket_status, TicketStatus::Draft);
    let source = merge_request.manifest.provenance.get("change.id").unwrap();
    assert_eq!(source.kind, SourceKind::Ci);
    assert!(
        source
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("CI_MERGE_REQUEST_IID"),
        "{source}"
    );
    assert!(
        merge_request.notes.iter().any(|n| n.contains("MR-42")),
        "{:?}",
        merge_request.notes
    );

    let push = gathered_with(gitlab(&[]));
    let change = &push.manifest.change;
    assert_eq!(change.id, head);
    assert_eq!(change.ticket_status, TicketStatus::Draft);
    let source = push.manifest.provenance.get("change.id").unwrap();
    assert_eq!(source.kind, SourceKind::Git);
    assert!(
        source
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("head commit SHA"),
        "{source}"
    );
}

#[test]
fn the_example_config_and_ticket_are_valid() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ci/compliance");
    let text = std::fs::read_to_string(examples.join("tollgate.toml")).unwrap();
    let config = Config::from_toml(&text, "tollgate.toml").unwrap();
    assert_eq!(config.identity.aliases.len(), 1);
    let text = std::fs::read_to_string(examples.join("change-ticket.json")).unwrap();
    let ticket = tollgate_gather::Ticket::parse(&text, "change-ticket.json").unwrap();
    assert_eq!(ticket.status, TicketStatus::Approved);
}

#[test]
fn evidence_files_committed_to_the_change_are_hand_written() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    git(root, &["add", "ticket.json", "reports/all.xml"]);
    git(root, &["commit", "-q", "-m", "commit the evidence"]);
    let gathered = gather(&request(root)).unwrap();
    let provenance = &gathered.manifest.provenance;
    for field in ["change.approvals", "change.ticket_status", "evidence.tests"] {
        let source = provenance.get(field).unwrap();
        assert_eq!(source.kind, SourceKind::HandWritten, "{field}: {source}");
        assert!(
            source
                .detail
                .as_deref()
                .unwrap()
                .contains("is committed to the repository under change"),
            "{source}"
        );
    }
    assert_eq!(
        provenance.kind_of("evidence.security_scan"),
        SourceKind::Scanner
    );
}

#[test]
fn a_passing_backup_suite_verifies_the_backup() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    write(
        root,
        "reports/restore.xml",
        r#"<testsuite name="restore drill" tests="1" failures="0" errors="0"><testcase name="restore"/></testsuite>"#,
    );
    let mut request = request(root);
    request.junit.push(JunitInput::parse_arg(&format!(
        "backup={}",
        root.join("reports/restore.xml").display()
    )));
    let gathered = gather(&request).unwrap();
    assert!(gathered.manifest.evidence.backup_verified);
    assert_eq!(
        gathered
            .manifest
            .provenance
            .kind_of("evidence.backup_verified"),
        SourceKind::TestReport
    );
    // Without a backup suite nothing is said about the backup (the fail-closed default).
    let gathered = gather(&self::request(root)).unwrap();
    assert!(!gathered.manifest.evidence.backup_verified);
    assert_eq!(
        gathered
            .manifest
            .provenance
            .kind_of("evidence.backup_verified"),
        SourceKind::Unrecorded
    );
}

#[test]
fn a_terraform_plan_adds_the_infrastructure_it_changes() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/terraform");
    let mut request = request(root);
    request.terraform_plans = vec![
        examples.join("compliant/plan.json"),
        examples.join("audit-trail-weakened/plan.json"),
    ];
    let gathered = gather(&request).unwrap();
    let infrastructure = gathered.manifest.evidence.infrastructure.as_ref().unwrap();
    assert_eq!(infrastructure.resources.len(), 7);
    let source = gathered
        .manifest
        .provenance
        .get("evidence.infrastructure")
        .unwrap();
    assert_eq!(source.kind, SourceKind::TerraformPlan);
    assert!(
        source
            .detail
            .as_deref()
            .unwrap()
            .contains("compliant/plan.json"),
        "{source}"
    );
    assert!(
        gathered
            .notes
            .iter()
            .any(|n| n.contains("aws_cloudtrail: 1 updated, 1 deleted")),
        "{:?}",
        gathered.notes
    );

    // A plan committed to the repository under change is hand-written; a bad plan names its field.
    write(root, "plan.json", r#"{"format_version": "1.2"}"#);
    git(root, &["add", "plan.json"]);
    request.terraform_plans = vec![root.join("plan.json")];
    let gathered = gather(&request).unwrap();
    assert_eq!(
        gathered
            .manifest
            .provenance
            .kind_of("evidence.infrastructure"),
        SourceKind::HandWritten
    );
    write(
        root,
        "bad.json",
        r#"{"format_version": "1.2", "resource_changes": 3}"#,
    );
    request.terraform_plans = vec![root.join("bad.json")];
    let error = gather(&request).unwrap_err().to_string();
    assert!(
        error.contains("invalid Terraform plan")
            && error.contains("`resource_changes`: must be a list"),
        "{error}"
    );
}

/// A ServiceNow answering for CHG0030001: approved by bob (Change Advisory Board).
fn servicenow() -> tollgate_tickets::test_server::TestServer {
    use tollgate_tickets::test_server::{Reply, TestServer};
    TestServer::start(vec![
        (
            "/api/now/table/change_request",
            vec![Reply::json(
                r#"{"result":[{"sys_id":"c83c5e5347c12200e0ef563dbb9a7190","number":"CHG0030001","short_description":"Retry payment capture on timeout","state":"-2","approval":"approved","type":"normal","opened_at":"2026-05-19 16:40:00","justification":"failed captures","risk_impact_analysis":"none identified"}]}"#,
            )],
        ),
        (
            "/api/now/table/sysapproval_approver",
            vec![Reply::json(
                r#"{"result":[{"sys_id":"a1","state":"approved","approver.user_name":"bob","approver.email":"bob@example.com","group.assignment_group.name":"Change Advisory Board","sys_updated_on":"2026-05-20 09:12:00"}]}"#,
            )],
        ),
    ])
    .unwrap()
}

#[test]
fn a_live_ticket_gives_status_approvals_and_its_system_as_source() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    let server = servicenow();
    let url = server.url.clone();
    let mut request = request(root);
    request.ticket = None;
    request.live_ticket = Some(
        tollgate_gather::TicketRef::parse("servicenow:CHG0030001")
            .unwrap()
            .unwrap(),
    );
    request.ticket_environment = tollgate_gather::TicketEnvironment::read(|name| match name {
        "TOLLGATE_SERVICENOW_URL" => Some(url.clone()),
        "TOLLGATE_SERVICENOW_TOKEN" => Some("secret-token-123".into()),
        _ => None,
    });
    request.config.tickets.servicenow.group_roles.insert(
        "Change Advisory Board".into(),
        "CHANGE_ADVISORY_BOARD".into(),
    );
    let gathered = gather(&request).unwrap();
    let change = &gathered.manifest.change;
    assert_eq!(change.id, "CHG0030001");
    assert_eq!(change.ticket_status, TicketStatus::Approved);
    assert_eq!(change.approvals.len(), 1);
    assert_eq!(change.approvals[0].role, "CHANGE_ADVISORY_BOARD");
    assert_eq!(
        change.submitted_at.unwrap().to_string(),
        "2026-05-19T16:40:00Z"
    );
    let source = gathered
        .provenance
        .iter()
        .find(|s| s.field == "change.approvals")
        .unwrap();
    assert_eq!(source.source.kind, SourceKind::Ticket);
    assert_eq!(
        source.source.detail.as_deref(),
        Some(&*format!("servicenow:CHG0030001 ({})", server.url))
    );
    assert!(!gathered.provenance_json().contains("secret-token-123"));
}

#[test]
fn a_ticket_url_from_a_committed_config_is_hand_written_and_failures_are_errors() {
    let repo = repository();
    let root = repo.path();
    let server = servicenow();
    let config_text = format!(
        "[tickets.servicenow]\nurl = \"{}\"\ndefault_role = \"TECHNICAL_LEAD\"\n",
        server.url
    );
    write(root, "tollgate.toml", &config_text);
    git(root, &["add", "tollgate.toml"]);
    git(root, &["commit", "-q", "-m", "ticket system"]);
    let mut request = GatherRequest {
        repo: root.to_path_buf(),
        base: Some("main".into()),
        head: Some("feature".into()),
        config: Config::from_toml(&config_text, "tollgate.toml").unwrap(),
        config_path: Some(root.join("tollgate.toml")),
        live_ticket: Some(
            tollgate_gather::TicketRef::parse("servicenow:CHG0030001")
                .unwrap()
                .unwrap(),
        ),
        ticket_environment: tollgate_gather::TicketEnvironment::read(|name| {
            (name == "TOLLGATE_SERVICENOW_TOKEN").then(|| "t".to_owned())
        }),
        overrides: Overrides {
            deployer: Some("carol".into()),
            ..Overrides::default()
        },
        ..GatherRequest::default()
    };
    let gathered = gather(&request).unwrap();
    let source = gathered
        .provenance
        .iter()
        .find(|s| s.field == "change.ticket_status")
        .unwrap();
    assert_eq!(source.source.kind, SourceKind::HandWritten);
    assert!(
        source
            .source
            .detail
            .as_deref()
            .unwrap()
            .contains("committed"),
        "{source:?}"
    );

    // No credentials: an error, never a ticket-less manifest.
    request.ticket_environment = tollgate_gather::TicketEnvironment::default();
    let error = gather(&request).unwrap_err().to_string();
    assert!(error.contains("TOLLGATE_SERVICENOW_TOKEN"), "{error}");
}

#[test]
fn the_readme_tickets_configuration_is_valid() {
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/pipelines.md"),
    )
    .unwrap();
    let start = readme.find("```toml\n[tickets]\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let config = Config::from_toml(&readme[start..end], "docs/pipelines.md").unwrap();
    let tickets = &config.tickets;
    let defaults = tollgate_gather::TicketsConfig::default();
    assert_eq!(tickets.timeout_seconds, defaults.timeout_seconds);
    assert_eq!(tickets.retries, defaults.retries);
    assert_eq!(
        tickets.jira.approved_statuses,
        defaults.jira.approved_statuses
    );
    assert_eq!(tickets.jira.draft_statuses, defaults.jira.draft_statuses);
    assert_eq!(
        tickets.jira.submitted_statuses,
        defaults.jira.submitted_statuses
    );
    assert_eq!(
        tickets.jira.rejected_statuses,
        defaults.jira.rejected_statuses
    );
    assert_eq!(
        tickets.jira.emergency_values,
        defaults.jira.emergency_values
    );
    assert_eq!(
        tickets.servicenow.security_impact_field,
        defaults.servicenow.security_impact_field
    );
    assert_eq!(
        tickets.servicenow.group_roles["Change Advisory Board"],
        "CHANGE_ADVISORY_BOARD"
    );
    assert_eq!(
        tickets.servicenow.group_meanings["Quality Assurance"],
        tollgate_manifest::SignatureMeaning::Review
    );
    assert_eq!(
        tickets.servicenow.meaning_field.as_deref(),
        Some("u_signature_meaning")
    );
    assert_eq!(
        tickets.jira.approval_meanings["CAB approval"],
        tollgate_manifest::SignatureMeaning::Approval
    );
}

#[test]
fn validation_suites_and_signature_meanings_are_gathered_with_their_sources() {
    let repo = repository();
    let root = repo.path();
    evidence(root);
    write(
        root,
        "ticket.json",
        r#"{"id":"CHG-2041","status":"approved","title":"Retry capture",
"approvals":[{"by":"bob","role":"QA","at":"2026-05-20T09:12:00Z","meaning":"review"},
{"by":"erin","role":"QUALITY_ASSURANCE","at":"2026-05-21T14:30:00Z","meaning":"approval"}]}"#,
    );
    let mut request = request(root);
    for (kind, passed) in [("iq", 4), ("oq", 12), ("pq", 3)] {
        let cases = "<testcase name=\"c\"/>".repeat(passed);
        write(
            root,
            &format!("reports/{kind}.xml"),
            &format!(r#"<testsuite name="{kind} protocol" tests="{passed}">{cases}</testsuite>"#),
        );
        request.junit.push(JunitInput::parse_arg(&format!(
            "{kind}={}",
            root.join(format!("reports/{kind}.xml")).display()
        )));
    }
    let gathered = gather(&request).unwrap();
    let manifest = &gathered.manifest;
    let suites: Vec<(&str, u32, u32)> = manifest
        .evidence
        .tests
        .iter()
        .map(|t| (t.suite.as_str(), t.passed, t.failed))
        .collect();
    assert_eq!(
        suites,
        [
            ("unit", 2, 0),
            ("integration", 0, 1),
            ("iq", 4, 0),
            ("oq", 12, 0),
            ("pq", 3, 0)
        ]
    );
    let meanings: Vec<_> = manifest
        .change
        .approvals
        .iter()
        .map(|a| a.meaning)
        .collect();
    assert_eq!(
        meanings,
        [
            Some(tollgate_manifest::SignatureMeaning::Review),
            Some(tollgate_manifest::SignatureMeaning::Approval)
        ]
    );
    let meaning = manifest
        .provenance
        .get("change.approvals[*].meaning")
        .unwrap();
    assert_eq!(
        meaning,
        manifest.provenance.get("change.approvals").unwrap()
    );
    assert_eq!(meaning.kind, SourceKind::Ticket);
    // Approvals that state no meaning record no source for one.
    evidence(root);
    let gathered = gather(&self::request(root)).unwrap();
    assert!(gathered.manifest.change.approvals[0].meaning.is_none());
    assert!(
        gathered
            .manifest
            .provenance
            .get("change.approvals[*].meaning")
            .is_none()
    );
}
