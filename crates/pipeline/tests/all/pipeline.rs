//! The decision path with native policies and hand-made evaluators: combination, settings
//! validation, the contract, policy failures and the gate's recording guarantee.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::Mutex;

use tollgate_decision::{Decision, Outcome, PolicyMetadata, Verdict};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_pipeline::{
    Candidate, DecideError, Evaluator, Gate, InputSource, NativePolicy, NoRecord, Pipeline,
    PipelineOptions, PolicyError, PolicyFailure, Receipt, RecordError, Recorder, Report,
    Submission, exit,
};

const NOW: &str = "2026-05-21T00:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn submission(name: &str) -> Submission {
    Submission::parse(name, "manifest", example(name), Format::Yaml, now()).unwrap()
}

fn natives() -> Vec<Candidate> {
    vec![
        Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy))),
        Candidate::Loaded(Box::new(NativePolicy::new(
            tollgate_policy_hipaa::HipaaPolicy,
        ))),
        Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_pci::PciPolicy))),
    ]
}

fn gate(candidates: Vec<Candidate>) -> Gate<NoRecord> {
    Gate::new(
        Pipeline::new(candidates, PipelineOptions::default()).unwrap(),
        NoRecord::new("test"),
    )
}

/// What a scripted evaluator answers.
type Answer = Box<dyn Fn(&Manifest) -> Result<Decision, PolicyFailure> + Send + Sync>;

/// An evaluator that answers what it is told to.
struct Scripted {
    metadata: PolicyMetadata,
    answer: Answer,
}

impl Evaluator for Scripted {
    fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }
    fn digest(&self) -> &str {
        "sha256:test"
    }
    fn validate_settings(&self, _settings: &str) -> Result<(), PolicyFailure> {
        Ok(())
    }
    fn evaluate(
        &self,
        manifest: &Manifest,
        _: &str,
        _: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        (self.answer)(manifest)
    }
}

fn sox_decision(manifest: &Manifest) -> Decision {
    use tollgate_rules::{EvaluationContext, Policy as _};
    tollgate_policy_sox::SoxPolicy
        .decide(manifest, "", &EvaluationContext { now: now() })
        .unwrap()
}

#[test]
fn three_native_policies_combine_to_the_strictest_outcome() {
    let decided = gate(natives())
        .decide(submission("self-approval-denied.yaml"))
        .unwrap();
    let report = decided.report();
    assert_eq!(report.combined.decisions.len(), 3);
    assert_eq!(report.verdict(), Verdict::Decided(Outcome::Denied));
    assert_eq!(report.exit_code(), exit::DENIED);
    assert!(report.manifest_digest.starts_with("sha256:"));
    assert!(matches!(decided.receipt(), Receipt::NotRecorded { .. }));
}

#[test]
fn a_failing_policy_is_a_policy_failure_whatever_the_others_decide() {
    let mut candidates = natives();
    candidates.push(Candidate::Loaded(Box::new(Scripted {
        metadata: PolicyMetadata {
            id: "broken".into(),
            ..tollgate_policy_sox::SoxPolicy.metadata_clone()
        },
        answer: Box::new(|_| {
            Err(PolicyFailure::Trap {
                message: "unreachable".into(),
            })
        }),
    })));
    let decided = gate(candidates)
        .decide(submission("business-logic-needs-tech-lead.yaml"))
        .unwrap();
    assert_eq!(decided.report().verdict(), Verdict::PolicyFailure);
    assert_eq!(decided.report().exit_code(), exit::POLICY_FAILURE);
    assert_eq!(decided.report().failures[0].kind, "trap");
}

#[test]
fn a_decision_that_breaks_the_contract_is_never_trusted() {
    // Approves whatever SOX found: an approval despite denying findings.
    let lying = Scripted {
        metadata: tollgate_policy_sox::SoxPolicy.metadata_clone(),
        answer: Box::new(|manifest| {
            let mut decision = sox_decision(manifest);
            decision.outcome = Outcome::Approved;
            Ok(decision)
        }),
    };
    let decided = gate(vec![Candidate::Loaded(Box::new(lying))])
        .decide(submission("self-approval-denied.yaml"))
        .unwrap();
    let failure = &decided.report().failures[0];
    assert_eq!(failure.kind, "malformed_result", "{failure:?}");
    assert_eq!(decided.report().verdict(), Verdict::PolicyFailure);
}

#[test]
fn a_policy_that_failed_to_load_fails_every_decision() {
    let mut candidates = natives();
    candidates.push(Candidate::Failed(PolicyError::load(
        "custom.wasm",
        "not a component",
    )));
    let decided = gate(candidates)
        .decide(submission("business-logic-needs-tech-lead.yaml"))
        .unwrap();
    assert_eq!(decided.report().verdict(), Verdict::PolicyFailure);
    assert_eq!(decided.report().failures[0].kind, "load");
}

#[test]
fn settings_are_validated_once_before_any_evaluation() {
    let options = |text: &str| PipelineOptions {
        settings: Some(tollgate_pipeline::parse_settings(text, "settings", Format::Yaml).unwrap()),
        ..PipelineOptions::default()
    };
    let Err(DecideError::Invalid(errors)) =
        Pipeline::new(natives(), options("sox:\n  key_rotation_max_days: soon\n"))
    else {
        panic!("rejected settings must be invalid input");
    };
    assert_eq!(errors[0].source, InputSource::Settings);
    assert_eq!(errors[0].policy.as_deref(), Some("sox"));
    assert!(
        errors[0]
            .to_string()
            .starts_with("invalid settings for policy `sox`: ")
    );

    let Err(DecideError::Invalid(errors)) = Pipeline::new(natives(), options("gdpr: {}\n")) else {
        panic!("settings of an unknown policy must be invalid input");
    };
    assert_eq!(errors[0].path.as_deref(), Some("gdpr"));
}

#[test]
fn an_invalid_manifest_names_the_field_and_line() {
    let text = example("business-logic-needs-tech-lead.yaml").replacen(
        "ticket_status",
        "ticket_stauts",
        1,
    );
    let error =
        Submission::parse("m.yaml", "manifest `m.yaml`", text, Format::Yaml, now()).unwrap_err();
    assert_eq!(error.source, InputSource::Manifest);
    assert_eq!(error.path.as_deref(), Some("change.ticket_stauts"));
    assert!(error.line.is_some_and(|l| l > 1));
    assert!(error.to_string().starts_with("invalid manifest `m.yaml`: "));
}

/// A recorder that fails, or counts what it recorded.
struct Counting {
    fail: bool,
    recorded: Mutex<usize>,
}

impl Recorder for Counting {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        if self.fail {
            return Err(RecordError::new("disk full"));
        }
        *self.recorded.lock().unwrap() += 1;
        Ok(Receipt::Recorded {
            id: "r1".into(),
            log: "memory".into(),
            warnings: Vec::new(),
        })
    }
}

#[test]
fn no_decision_leaves_the_gate_without_its_record() {
    let pipeline = || Pipeline::new(natives(), PipelineOptions::default()).unwrap();
    let failing = Gate::new(
        pipeline(),
        Counting {
            fail: true,
            recorded: Mutex::new(0),
        },
    );
    let error = failing
        .decide(submission("business-logic-needs-tech-lead.yaml"))
        .unwrap_err();
    assert!(matches!(error, DecideError::Unrecorded(_)), "{error:?}");
    assert!(error.to_string().contains("not reported"));

    let counting = Gate::new(
        pipeline(),
        Counting {
            fail: false,
            recorded: Mutex::new(0),
        },
    );
    let decided = counting
        .decide(submission("business-logic-needs-tech-lead.yaml"))
        .unwrap();
    assert_eq!(decided.record_id(), Some("r1"));
    assert_eq!(*counting.recorder().recorded.lock().unwrap(), 1);
}

/// Metadata of a native policy, by value.
trait MetadataClone {
    fn metadata_clone(&self) -> PolicyMetadata;
}

impl<P: tollgate_rules::Policy> MetadataClone for P {
    fn metadata_clone(&self) -> PolicyMetadata {
        self.metadata()
    }
}

#[test]
fn defaults_are_shared_by_every_policy_and_a_policy_section_wins() {
    let options = |text: &str| PipelineOptions {
        settings: Some(tollgate_pipeline::parse_settings(text, "settings", Format::Yaml).unwrap()),
        ..PipelineOptions::default()
    };
    // A setting every policy rejects, given once under `defaults`, reaches every policy.
    let Err(DecideError::Invalid(errors)) = Pipeline::new(
        natives(),
        options("defaults:\n  key_rotation_max_days: soon\n"),
    ) else {
        panic!("shared settings must be validated by every policy");
    };
    let policies: Vec<_> = errors.iter().filter_map(|e| e.policy.clone()).collect();
    assert_eq!(policies, ["sox", "hipaa", "pci"]);
    // A policy's own section overrides the shared value.
    let Err(DecideError::Invalid(errors)) = Pipeline::new(
        natives(),
        options(
            "defaults:\n  key_rotation_max_days: soon\nsox:\n  key_rotation_max_days: 90\nhipaa:\n  key_rotation_max_days: 90\n",
        ),
    ) else {
        panic!("pci still has the shared invalid value");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].policy.as_deref(), Some("pci"));
    // Defaults that are not a mapping are invalid input at `defaults`.
    let Err(DecideError::Invalid(errors)) = Pipeline::new(natives(), options("defaults: 3\n"))
    else {
        panic!("defaults must be a mapping");
    };
    assert_eq!(errors[0].path.as_deref(), Some("defaults"));
}

/// Separation of duties cannot be waived unless a policy's settings say otherwise, and a waiver's
/// non-waivable list is validated with the settings, naming the field.
#[test]
fn non_waivable_controls_follow_each_policys_settings() {
    let waivers = tollgate_waivers::WaiverSet::parse(
        "waivers:\n  - {id: W, rule: sod-self-approval, justification: j, ticket: T, approved_by: dave, expires: 2026-12-31}\n",
        "w.yaml",
    )
    .unwrap();
    let options = |text: &str| PipelineOptions {
        settings: Some(tollgate_pipeline::parse_settings(text, "settings", Format::Yaml).unwrap()),
        waivers: Some(waivers.clone()),
        ..PipelineOptions::default()
    };
    let manifest = Submission {
        now: Timestamp::parse("2026-05-27T00:00:00Z").unwrap(),
        ..submission("self-approval-denied.yaml")
    };
    let decide = |text: &str| {
        Gate::new(
            Pipeline::new(natives(), options(text)).unwrap(),
            NoRecord::new("test"),
        )
        .decide(manifest.clone())
        .unwrap()
    };
    let strict = decide("{}");
    let report = strict.report();
    assert!(report.waivers.waived.is_empty());
    assert!(
        report
            .waivers
            .problems
            .iter()
            .any(|p| p.kind == tollgate_waivers::ProblemKind::NonWaivable),
        "{:?}",
        report.waivers.problems
    );
    let lenient = decide("defaults:\n  waivers: { non_waivable: [] }\n");
    assert!(
        lenient
            .report()
            .waivers
            .waived
            .iter()
            .all(|w| w.rule_id == "sod-self-approval")
    );
    assert!(!lenient.report().waivers.waived.is_empty());

    let Err(DecideError::Invalid(errors)) = Pipeline::new(
        natives(),
        options("sox:\n  waivers: { non_waivable: ['a['] }\n"),
    ) else {
        panic!("an invalid pattern must be invalid settings");
    };
    assert_eq!(errors[0].policy.as_deref(), Some("sox"));
    assert!(
        errors[0].message.contains("waivers.non_waivable[0]"),
        "{}",
        errors[0]
    );
}
