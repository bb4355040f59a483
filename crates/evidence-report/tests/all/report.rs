//! Report tests on a fixed log (`tests/fixtures/audit.log`): golden JSON and OSCAL, OSCAL schema
//! validation, and the HTML rendered by headless Chromium.
//!
//! The fixture log was written by [`regenerate_fixture`] from the example manifests and the native
//! policies; run `TOLLGATE_BLESS=1 cargo test -p tollgate-evidence-report report::` to rewrite the
//! fixture and the golden files after an intended change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tollgate_decision::CombinedDecision;
use tollgate_decision_log::{
    AuditLog, Checkpoint, DecisionRecord, Evaluation, MarkRecord, MarkStatus, Masking, Origin,
    PolicyRef, Record, SigningKey, WaiverRef,
};
use tollgate_evidence_report::{ReportOptions, build, html, oscal, to_json, to_oscal_json};
use tollgate_manifest::{Approval, Format, Manifest, Timestamp};
use tollgate_rules::{EvaluationContext, Policy};

const BLESS: &str = "TOLLGATE_BLESS";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn origin(actor: &str) -> Origin {
    Origin {
        actor: actor.into(),
        actor_source: "GITLAB_USER_LOGIN".into(),
        ci: "gitlab-ci".into(),
        pipeline_id: Some("9912".into()),
        host: "runner-7".into(),
        pid: 4242,
    }
}

fn key() -> SigningKey {
    SigningKey::from_seed("tollgate-fixture", [42; 32]).unwrap()
}

/// Evaluates an example manifest with the native policies and appends its record.
fn decide(
    log: &AuditLog,
    n: &mut u32,
    file: &str,
    edit: impl FnOnce(&mut Manifest),
    at: &str,
    waivers: Vec<WaiverRef>,
) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(file);
    let original = std::fs::read_to_string(&path).unwrap();
    let mut manifest = Manifest::from_text(&original, Format::Yaml).unwrap();
    edit(&mut manifest);
    let text = serde_yaml_text(&manifest, &original);
    let now = ts(at);
    let context = EvaluationContext { now };
    let policies: Vec<Box<dyn Policy<Settings = tollgate_rules::Settings>>> = vec![
        Box::new(tollgate_policy_sox::SoxPolicy),
        Box::new(tollgate_policy_hipaa::HipaaPolicy),
        Box::new(tollgate_policy_pci::PciPolicy),
    ];
    let decisions: Vec<_> = policies
        .iter()
        .map(|p| p.decide(&manifest, "", &context).unwrap())
        .collect();
    let refs = policies
        .iter()
        .map(|p| {
            let m = p.metadata();
            PolicyRef {
                digest: Some(format!("sha256:fixture-{}", m.id)),
                id: m.id,
                framework: Some(m.framework),
                version: Some(m.version),
                signer: None,
            }
        })
        .collect();
    let combined = CombinedDecision::combine(decisions);
    *n += 1;
    let id = format!("00000000-0000-4000-8000-{:012}", *n);
    let exit_code = match combined.outcome {
        tollgate_decision::Outcome::Approved => 0,
        tollgate_decision::Outcome::NeedsApproval => 3,
        tollgate_decision::Outcome::Denied => 4,
    };
    let record = DecisionRecord::build(
        Evaluation {
            manifest_path: &format!("examples/manifests/{file}"),
            manifest_digest: &tollgate_decision_log::sha256_digest(text.as_bytes()),
            manifest: &manifest,
            evaluated_at: now,
            change_started_at: None,
            policies: refs,
            engine_version: "tollgate 0.1.0 (native fixture)".into(),
            settings_digest: None,
            combined: &combined,
            outcome: combined.outcome,
            failures: vec![],
            waivers,
            exit_code,
        },
        origin("dana"),
        &Masking::new(["change.deployer_groups"]).unwrap(),
        id.clone(),
        now,
    )
    .unwrap();
    log.append(&Record::Decision(Box::new(record))).unwrap();
    (id, manifest.change.id)
}

/// The manifest text whose digest is recorded: the original file when unedited.
fn serde_yaml_text(manifest: &Manifest, original: &str) -> String {
    if Manifest::from_text(original, Format::Yaml).unwrap() == *manifest {
        original.to_owned()
    } else {
        serde_json::to_string_pretty(manifest).unwrap()
    }
}

fn mark(log: &AuditLog, n: &mut u32, decision: &(String, String), status: MarkStatus, at: &str) {
    *n += 1;
    log.append(&Record::Mark(MarkRecord {
        id: format!("00000000-0000-4000-9000-{:012}", *n),
        recorded_at: ts(at),
        origin: origin("erin"),
        decision_id: decision.0.clone(),
        change_id: decision.1.clone(),
        status,
        at: None,
        note: Some(format!("{} by the release pipeline", status.as_str())),
        direct_production_change: false,
    }))
    .unwrap();
}

/// Writes the fixture log and its checkpoint (only with `TOLLGATE_BLESS=1`).
#[test]
fn regenerate_fixture() {
    if std::env::var_os(BLESS).is_none() {
        return;
    }
    let path = dir().join("audit.log");
    let _ = std::fs::remove_file(&path);
    let log = AuditLog::new(&path);
    let n = &mut 0;
    decide(
        &log,
        n,
        "business-logic-needs-tech-lead.yaml",
        |_| {},
        "2026-06-01T10:00:00Z",
        vec![],
    );
    let approved = decide(
        &log,
        n,
        "business-logic-needs-tech-lead.yaml",
        |m| {
            m.change.submitted_at = Some(ts("2026-06-01T09:00:00Z"));
            m.change.approvals.push(Approval {
                by: "frank".into(),
                role: "TECHNICAL_LEAD".into(),
                at: ts("2026-06-01T13:30:00Z"),
                meaning: None,
            });
        },
        "2026-06-01T14:00:00Z",
        vec![],
    );
    mark(
        &log,
        n,
        &approved,
        MarkStatus::Deployed,
        "2026-06-01T15:00:00Z",
    );
    decide(
        &log,
        n,
        "low-risk-config-auto-approved.yaml",
        |_| {},
        "2026-06-02T09:00:00Z",
        vec![],
    );
    decide(
        &log,
        n,
        "self-approval-denied.yaml",
        |_| {},
        "2026-06-02T11:00:00Z",
        vec![],
    );
    decide(
        &log,
        n,
        "failing-tests-denied.yaml",
        |_| {},
        "2026-06-03T10:00:00Z",
        vec![],
    );
    decide(
        &log,
        n,
        "cardholder-live-pan-staging-denied.yaml",
        |_| {},
        "2026-06-03T16:00:00Z",
        vec![],
    );
    decide(
        &log,
        n,
        "phi-encryption-off-denied.yaml",
        |_| {},
        "2026-06-04T09:00:00Z",
        vec![WaiverRef {
            id: "WVR-7".into(),
            policy_id: Some("hipaa".into()),
            control_id: Some("HIPAA-164.312(a)(2)(iv)".into()),
            rule_id: None,
            approved_by: Some("grace".into()),
            reason: Some("storage encryption ships with the platform upgrade CHG-2101".into()),
            expires: Some("2026-06-30".into()),
        }],
    );
    let emergency = decide(
        &log,
        n,
        "emergency-change-retrospective.yaml",
        |_| {},
        "2026-06-04T22:00:00Z",
        vec![],
    );
    mark(
        &log,
        n,
        &emergency,
        MarkStatus::Deployed,
        "2026-06-04T22:10:00Z",
    );
    mark(
        &log,
        n,
        &emergency,
        MarkStatus::RolledBack,
        "2026-06-04T23:00:00Z",
    );
    decide(
        &log,
        n,
        "schema-and-security-three-approvers.yaml",
        |_| {},
        "2026-06-05T10:00:00Z",
        vec![],
    );
    let schema = decide(
        &log,
        n,
        "schema-and-security-three-approvers.yaml",
        |m| {
            for (by, role) in [
                ("heidi", "TECHNICAL_LEAD"),
                ("ivan", "SECURITY_OFFICER"),
                ("judy", "COMPLIANCE_OFFICER"),
            ] {
                m.change.submitted_at = Some(ts("2026-06-04T15:00:00Z"));
                m.change.approvals.push(Approval {
                    by: by.into(),
                    role: role.into(),
                    at: ts("2026-06-05T11:00:00Z"),
                    meaning: None,
                });
            }
        },
        "2026-06-05T12:00:00Z",
        vec![],
    );
    mark(
        &log,
        n,
        &schema,
        MarkStatus::Deployed,
        "2026-06-05T13:00:00Z",
    );
    // A change still waiting for its technical lead at the end of the period: pending.
    decide(
        &log,
        n,
        "business-logic-needs-tech-lead.yaml",
        |m| m.change.id = "CHG-2099".into(),
        "2026-06-05T15:00:00Z",
        vec![],
    );
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact());
    let note = key().sign(&Checkpoint {
        origin: "tollgate.example/fixture".into(),
        size: verification.size(),
        root: verification.root,
    });
    std::fs::write(dir().join("audit.checkpoint"), note).unwrap();
    std::fs::write(dir().join("audit.pub"), key().verifier().encode() + "\n").unwrap();
}

/// The metadata of the three built-in policies: the control titles and references of the report.
fn catalogues() -> Vec<tollgate_decision::PolicyMetadata> {
    vec![
        tollgate_policy_sox::SoxPolicy.metadata(),
        tollgate_policy_hipaa::HipaaPolicy.metadata(),
        tollgate_policy_pci::PciPolicy.metadata(),
    ]
}

/// The options of the fixture's report.
pub(crate) fn options() -> ReportOptions {
    ReportOptions {
        from: ts("2026-06-01T00:00:00Z"),
        to: ts("2026-06-06T00:00:00Z"),
        frameworks: vec![],
        generated_at: ts("2026-06-08T00:00:00Z"),
        log_path: "tests/fixtures/audit.log".into(),
        checkpoint_key: Some("tollgate-fixture".into()),
        production_environments: vec!["production".into()],
        generator: "tollgate 0.1.0".into(),
        catalogues: catalogues(),
        crosswalk: None,
    }
}

/// The fixture log, verified against its checkpoint.
pub(crate) fn verification() -> tollgate_decision_log::Verification {
    let log = AuditLog::new(dir().join("audit.log"));
    let note = std::fs::read_to_string(dir().join("audit.checkpoint")).unwrap();
    let checkpoint = key().verifier().verify(&note).unwrap();
    log.verify(Some(&checkpoint)).unwrap()
}

fn report() -> tollgate_evidence_report::Report {
    build(&verification(), &options())
}

fn golden(name: &str, actual: &str) {
    let path = dir().join(name);
    if std::env::var_os(BLESS).is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing golden file {}: {e}", path.display()));
    assert!(
        expected == actual,
        "{} differs from the output; run with {BLESS}=1 to update it after checking the change",
        path.display()
    );
}

#[test]
fn json_report_matches_the_golden_file() {
    let report = report();
    assert!(report.log.intact, "{:?}", report.log.problems);
    assert_eq!(report.summary.decisions, 11);
    assert_eq!(report.metrics.deployments, 3);
    assert_eq!(report.metrics.failed_deployments, 1);
    golden("report.json", &to_json(&report).unwrap());
}

#[test]
fn report_counts_follow_the_log() {
    let report = report();
    let s = &report.summary;
    assert_eq!(s.changes, 9);
    assert_eq!(
        s.approved_decisions + s.needs_approval_decisions + s.denied_decisions + s.error_decisions,
        s.decisions
    );
    // The change evaluated twice counts once per control, by its latest (approved) decision.
    let cc05 = report
        .controls
        .iter()
        .find(|c| c.control_id == "SOX-CC-05")
        .unwrap();
    assert_eq!(cc05.evaluated, 9);
    for c in &report.controls {
        assert_eq!(
            c.compliant
                + c.non_compliant
                + c.pending
                + c.not_assessed
                + c.waived
                + c.not_applicable,
            c.evaluated,
            "{}",
            c.control_id
        );
    }
    // The waiver shows as waived, not non-compliant.
    assert!(report.controls.iter().any(|c| c.waived == 1));
    // The sensitive-data location never reaches the report.
    let json = to_json(&report).unwrap();
    let manifest = std::fs::read_to_string(
        dir().join("../../../../examples/manifests/cardholder-live-pan-staging-denied.yaml"),
    )
    .unwrap();
    let line = manifest.lines().find(|l| l.contains("location:")).unwrap();
    let location = line.split('"').nth(1).unwrap();
    assert!(location.contains(".csv"), "{location}");
    assert!(!json.contains(location), "{location} leaked");
    let log = std::fs::read_to_string(dir().join("audit.log")).unwrap();
    assert!(!log.contains(location), "{location} leaked into the log");
    assert!(log.contains("[masked]"));
    // Three deployments, one rolled back.
    assert_eq!(report.metrics.change_failure_rate, Some(0.333));
}

#[test]
fn pending_and_not_assessed_are_counted_apart_and_left_out_of_effectiveness() {
    let report = report();
    let control = |id: &str| report.controls.iter().find(|c| c.control_id == id).unwrap();
    // CHG-2099 still waits for its technical lead: pending, not compliant.
    let cc05 = control("SOX-CC-05");
    assert_eq!(cc05.pending, 1);
    let pending: Vec<&str> = cc05
        .changes
        .iter()
        .filter(|x| x.status == "pending")
        .map(|x| x.record.change_id.as_str())
        .collect();
    assert_eq!(pending, ["CHG-2099"]);
    // No change gathered an infrastructure plan: change tracking was never exercised.
    let cc06 = control("SOX-CC-06");
    assert_eq!(cc06.not_assessed, cc06.evaluated);
    assert_eq!((cc06.compliant, cc06.non_compliant), (0, 0));
    assert_eq!(cc06.effectiveness, None);
    assert!(control("PCI-10.3.2").not_assessed > 0);
    // Effectiveness is compliant over assessed results only.
    for c in &report.controls {
        let assessed = c.compliant + c.non_compliant;
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let want = (assessed > 0)
            .then(|| (c.compliant as f64 / assessed as f64 * 1000.0).round() / 1000.0);
        assert_eq!(c.effectiveness, want, "{}", c.control_id);
    }
    let compliant: u64 = report.controls.iter().map(|c| c.compliant).sum();
    let assessed: u64 = report
        .controls
        .iter()
        .map(|c| c.compliant + c.non_compliant)
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let want = (compliant as f64 / assessed as f64 * 1000.0).round() / 1000.0;
    assert_eq!(report.metrics.control_effectiveness, Some(want));
    // OSCAL: never satisfied on pending or not assessed results alone.
    let document = oscal::render(&report);
    let findings = document["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap();
    let status = |id: &str| {
        findings
            .iter()
            .find(|f| f["target"]["target-id"] == id)
            .map(|f| f["target"]["status"].clone())
            .unwrap()
    };
    assert_eq!(status("SOX-CC-06")["state"], "not-satisfied");
    assert_eq!(status("SOX-CC-06")["reason"], "not-assessed");
    assert_eq!(status("SOX-CC-05")["reason"], "fail");
}

#[test]
fn html_reads_as_dates_and_words_and_ends_with_a_sign_off() {
    let report = report();
    assert_eq!(
        report.scope.period,
        "2026-06-01 to 2026-06-05, both days included (UTC)"
    );
    let page = html::render(&report);
    assert!(page.contains("Period 2026-06-01 to 2026-06-05, both days included (UTC)"));
    assert!(!page.contains("up to, not including"));
    assert!(
        page.contains("completed: 0 critical, 0 high, 2 medium, 5 low"),
        "scan in words"
    );
    assert!(!page.contains("{&quot;completed&quot;"), "raw scan JSON");
    assert!(page.contains(
        "Effectiveness is compliant ÷ (compliant + non-compliant): assessed results only."
    ));
    let sign_off = &page[page.find("id=\"sign-off\"").unwrap()..];
    for field in ["auditor-name", "role", "date", "signature", "opinion"] {
        assert!(
            sign_off.contains(&format!("id=\"sign-off-{field}\"")),
            "{field}"
        );
    }
    for scope in [
        "SOX (sox)",
        "PCI DSS (pci)",
        "HIPAA (hipaa)",
        "production",
        "Passed.",
    ] {
        assert!(sign_off.contains(scope), "{scope}");
    }
}

#[test]
fn approval_time_runs_from_submission_to_the_last_required_approval() {
    let report = report();
    let mut hours: Vec<f64> = report
        .change_control
        .iter()
        .filter_map(|c| c.approval_hours)
        .collect();
    hours.sort_by(f64::total_cmp);
    // 09:00 → 13:30 (the technical lead), and 15:00 → 11:00 the next day (the last of three).
    assert_eq!(hours, [4.5, 20.0]);
    let m = &report.metrics;
    assert_eq!(m.approval_time_changes, 2);
    assert_eq!(m.approval_time_median_hours, Some(12.25));
    assert_eq!(m.approval_time_p90_hours, Some(20.0));
}

#[test]
fn controls_carry_their_catalogue_title_and_references() {
    let report = report();
    let control = report
        .controls
        .iter()
        .find(|c| c.control_id == "SOX-CC-05")
        .unwrap();
    assert_eq!(control.title.as_deref(), Some("Change control"));
    assert!(
        control
            .references
            .iter()
            .any(|r| r == "COBIT 2019 BAI06.01"),
        "{:?}",
        control.references
    );
    assert!(html::render(&report).contains("SOX-CC-05<br><small>Change control</small>"));
    assert!(
        to_oscal_json(&report)
            .unwrap()
            .contains("SOX SOX-CC-05: Change control")
    );
}

#[test]
fn framework_filter_limits_controls_and_changes() {
    let all = report();
    let log = AuditLog::new(dir().join("audit.log"));
    let verification = log.verify(None).unwrap();
    let pci = build(
        &verification,
        &ReportOptions {
            from: ts("2026-06-01T00:00:00Z"),
            to: ts("2026-06-06T00:00:00Z"),
            frameworks: vec!["pci".into()],
            generated_at: ts("2026-06-08T00:00:00Z"),
            log_path: "tests/fixtures/audit.log".into(),
            checkpoint_key: None,
            production_environments: vec!["production".into()],
            generator: "tollgate 0.1.0".into(),
            catalogues: catalogues(),
            crosswalk: None,
        },
    );
    assert!(pci.controls.iter().all(|c| c.policy_id == "pci"));
    assert!(!pci.controls.is_empty());
    assert!(pci.summary.decisions < all.summary.decisions);
    assert!(pci.log.checkpoint.is_none());
    assert!(pci.log.statement.contains("No checkpoint"));
}

#[test]
fn oscal_output_validates_against_the_vendored_schema_and_matches_the_golden_file() {
    let report = report();
    let document = oscal::render(&report);
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/oscal_complete_schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema can fail: a document missing a required field is rejected.
    let mut broken = document.clone();
    broken["assessment-results"]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("reviewed-controls");
    assert!(!validator.is_valid(&broken));
    let mut bad_uuid = document.clone();
    bad_uuid["assessment-results"]["uuid"] = "not-a-uuid".into();
    assert!(!validator.is_valid(&bad_uuid));
    golden("report.oscal.json", &to_oscal_json(&report).unwrap());
}

#[test]
fn vendored_schema_is_the_published_oscal_1_2_3_complete_schema() {
    use sha2_check::sha256_hex;
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/oscal_complete_schema.json"),
    )
    .unwrap();
    assert_eq!(
        sha256_hex(&bytes),
        "384324105c7a817af0f65b120a963146caa0e0d55d969cf0daf60e063b87a206"
    );
}

mod sha2_check {
    pub fn sha256_hex(bytes: &[u8]) -> String {
        tollgate_decision_log::sha256_digest(bytes)
            .trim_start_matches("sha256:")
            .to_owned()
    }
}

#[test]
fn html_is_self_contained_and_escapes_text() {
    let page = html::render(&report());
    assert!(page.starts_with("<!DOCTYPE html>"));
    for forbidden in ["<script", "http://", "https://", "<link", "@import", "url("] {
        let allowed = forbidden == "http://"
            && page.matches(forbidden).count()
                == page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert!(!page.contains(forbidden) || allowed, "found {forbidden}");
    }
    assert!(page.contains("@media print"));
    assert_eq!(page.matches("<svg").count(), 3);
    assert!(page.contains("id=\"chart-controls\""));
    assert!(page.contains("Log verification: passed"));
    assert_eq!(
        html::escape("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    // Every link points at a record row of the page.
    for target in page.split("href=\"#").skip(1) {
        let id = &target[..target.find('"').unwrap()];
        assert!(
            page.contains(&format!("id=\"{id}\"")),
            "dangling link #{id}"
        );
    }
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let output = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            output
                .status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        })
}

fn headless(browser: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn html_renders_in_headless_chromium_with_charts_and_no_console_errors() {
    let Some(browser) = chromium() else {
        panic!(
            "headless Chromium is required for this test and was not found: install it (`apt-get install -y chromium`; .ci/run does)"
        );
    };
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("report.html");
    std::fs::write(&page, html::render(&report())).unwrap();
    let url = format!("file://{}", page.display());
    let profile = work.path().join("profile");

    // The DOM after rendering: the charts are there, with their bars.
    let dom = headless(&browser, &profile, &["--dump-dom", &url]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    for id in ["chart-outcomes", "chart-controls", "chart-deployments"] {
        assert!(
            dom_text.contains(&format!("id=\"{id}\"")),
            "chart {id} missing"
        );
    }
    assert!(dom_text.matches("class=\"bar").count() > 10);

    // Console messages: none may be an error.
    let console = headless(
        &browser,
        &profile,
        &["--enable-logging=stderr", "--v=0", "--dump-dom", &url],
    );
    let log = String::from_utf8_lossy(&console.stderr);
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("error")))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:#?}");

    // A screenshot: a real PNG of the full width, mostly not blank.
    let shot = work.path().join("report.png");
    let output = headless(
        &browser,
        &profile,
        &[&format!("--screenshot={}", shot.display()), &url],
    );
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 2400));
    assert!(
        png.len() > 50_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
    if let Ok(keep) = std::env::var("TOLLGATE_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
