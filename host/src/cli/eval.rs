//! `tollgate eval`: parse the manifest and settings, load the policies, validate settings, evaluate,
//! combine, report, and map the result to an exit code (fail-closed).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;
use sha2::{Digest, Sha256};
use tollgate::exit;
use tollgate::{LoadedPolicy, PolicyEngine, PolicyFailure, PolicySource};
use tollgate_decision::{CombinedDecision, EvalError, PolicyMetadata};
use tollgate_manifest::{Format, Manifest, Timestamp, decode};
use tollgate_waivers::WaiverSet;

use super::reporting::{self, EvalFormat, ReportArgs};
use super::{CacheArgs, Failure, policy_source};

/// Arguments of `tollgate eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The change manifest (YAML or JSON), or `-` for standard input.
    manifest: String,
    /// A policy to run: a built-in name (`sox`, `hipaa`, `pci`) or the path of a policy component
    /// (`.wasm`). Repeatable; without it the three built-in policies run.
    #[arg(long = "policy", value_name = "NAME|PATH")]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    format: EvalFormat,
    #[command(flatten)]
    reports: ReportArgs,
    /// Evaluation time (RFC 3339) [default: now]. Approvals dated after it do not count.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    audit: super::audit::EvalAuditArgs,
}

/// A policy that produced a decision: its identity (the decision itself is in the combination).
pub(crate) struct Evaluated {
    pub(crate) metadata: PolicyMetadata,
    pub(crate) digest: String,
}

/// A policy that produced no decision.
#[derive(Debug, Clone)]
pub(crate) struct PolicyError {
    /// Policy id, or the name it was given by when it could not be loaded.
    pub(crate) policy: String,
    /// Stable kind, for example `timeout` or `load`.
    pub(crate) kind: &'static str,
    /// What happened.
    pub(crate) message: String,
}

impl PolicyError {
    fn new(policy: &str, failure: &PolicyFailure) -> Self {
        Self {
            policy: policy.to_owned(),
            kind: failure.kind(),
            message: failure.to_string(),
        }
    }
}

/// Everything `eval` reports.
pub(crate) struct Report {
    pub(crate) manifest_path: String,
    pub(crate) manifest_digest: String,
    pub(crate) manifest: Manifest,
    pub(crate) now: Timestamp,
    /// Policies with a decision, in the order of `combined.decisions`.
    pub(crate) evaluated: Vec<Evaluated>,
    pub(crate) failures: Vec<PolicyError>,
    pub(crate) combined: CombinedDecision,
    /// The manifest's text, to locate fields in reports.
    pub(crate) manifest_text: String,
    /// The waivers file, if one was given.
    pub(crate) waivers_file: Option<String>,
    /// Waivers applied to `combined.decisions` (the decisions themselves are unchanged).
    pub(crate) waivers: tollgate_waivers::Applied,
}

impl Report {
    /// Fail-closed: any policy failure exits 5, whatever the others decided.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.failures.is_empty() {
            exit::for_outcome(self.outcome_after_waivers())
        } else {
            exit::POLICY_FAILURE
        }
    }

    /// The combined outcome once waived findings stop blocking (as decided without waivers).
    pub(crate) fn outcome_after_waivers(&self) -> tollgate_decision::Outcome {
        if self.combined.decisions.is_empty() {
            self.combined.outcome
        } else {
            self.waivers.combined_outcome()
        }
    }
}

pub(crate) fn run(args: &EvalArgs) -> Result<u8, Failure> {
    // Everything the user gave is checked before any policy runs.
    let (manifest_path, text) = read_manifest(&args.manifest)?;
    let format = Format::detect(manifest_path.as_deref(), &text);
    let manifest = Manifest::from_text(&text, format)
        .map_err(|e| invalid(anyhow!("invalid manifest {}: {e}", label(&args.manifest))))?;
    let setup = Setup::read(args.settings.as_deref(), &args.reports, &args.audit)?;
    let now = match &args.now {
        Some(text) => {
            Timestamp::parse(text).map_err(|e| invalid(anyhow!("invalid `--now`: {e}")))?
        }
        None => current_time(),
    };
    let sources = policy_sources(&args.policies)?;
    let engine = args.cache.engine()?;
    let pipeline = Pipeline::load(&engine, sources, setup, args.reports.clone())?;
    let report = pipeline.decide(args.manifest.clone(), text, manifest, now)?;
    reporting::emit(&report, args.format, &args.reports)?;
    Ok(report.exit_code())
}

/// The current time, to the second.
pub(crate) fn current_time() -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    Timestamp::from_offset_date_time(now.replace_nanosecond(0).unwrap_or(now))
}

/// The policies to run: the `--policy` values, or the built-in packs without any.
pub(crate) fn policy_sources(policies: &[String]) -> Result<Vec<PolicySource>, Failure> {
    if policies.is_empty() {
        Ok(tollgate::builtin_packs()
            .iter()
            .map(PolicySource::Builtin)
            .collect())
    } else {
        policies.iter().map(|p| policy_source(p)).collect()
    }
}

/// The inputs of an evaluation other than the manifest and the policies, read and checked before
/// any policy runs.
pub(crate) struct Setup {
    /// The settings file, if one was given.
    settings: Option<BTreeMap<String, serde_json::Value>>,
    waivers: Option<WaiverSet>,
    recorder: super::audit::Recorder,
}

impl Setup {
    /// Reads the settings and waivers files and checks the decision-log options.
    pub(crate) fn read(
        settings: Option<&Path>,
        reports: &ReportArgs,
        audit: &super::audit::EvalAuditArgs,
    ) -> Result<Self, Failure> {
        let settings = settings.map(read_settings).transpose()?;
        let waivers = reports.load_waivers()?;
        let recorder = super::audit::Recorder::prepare(audit)?;
        Ok(Self {
            settings,
            waivers,
            recorder,
        })
    }
}

/// Policies loaded and their settings validated, once, ready to decide any number of manifests:
/// the pipeline shared by `tollgate eval` and `tollgate serve`. Every decision evaluates each
/// policy in a fresh sandboxed instance, combines, applies the waivers and is recorded in the
/// decision log before it is returned.
pub(crate) struct Pipeline {
    /// Policies whose settings are valid, with those settings as JSON.
    ready: Vec<(LoadedPolicy, String)>,
    /// Policies that failed before any evaluation (load or settings validation).
    failures: Vec<PolicyError>,
    settings: BTreeMap<String, serde_json::Value>,
    /// Whether a settings file was given (its digest is then recorded).
    settings_given: bool,
    waivers: Option<WaiverSet>,
    reports: ReportArgs,
    recorder: super::audit::Recorder,
}

impl Pipeline {
    /// Loads the policies and validates every policy's settings. A policy that cannot be loaded,
    /// or whose validation fails other than by rejecting its settings, is kept as a failure of
    /// every decision; settings a policy rejects are an error.
    pub(crate) fn load(
        engine: &PolicyEngine,
        sources: Vec<PolicySource>,
        setup: Setup,
        reports: ReportArgs,
    ) -> Result<Self, Failure> {
        let mut failures = Vec::new();
        let mut loaded: Vec<LoadedPolicy> = Vec::new();
        for source in sources {
            let name = source.name();
            match engine.load(source) {
                Ok(policy) => {
                    if let Some(other) = loaded
                        .iter()
                        .find(|p| p.metadata().id == policy.metadata().id)
                    {
                        return Err(invalid(anyhow!(
                            "policy `{}` is given twice ({} and {})",
                            policy.metadata().id,
                            other.digest(),
                            policy.digest()
                        )));
                    }
                    loaded.push(policy);
                }
                Err(error) => failures.push(PolicyError {
                    policy: name,
                    kind: "load",
                    message: format!("could not be loaded: {error}"),
                }),
            }
        }

        let settings_given = setup.settings.is_some();
        let settings = setup.settings.unwrap_or_default();
        let known: BTreeSet<&str> = loaded
            .iter()
            .map(|p| p.metadata().id.as_str())
            .chain(failures.iter().map(|f| f.policy.as_str()))
            .collect();
        if let Some(key) = settings.keys().find(|k| !known.contains(k.as_str())) {
            return Err(invalid(anyhow!(
                "settings name policy `{key}`, which is not loaded (loaded: {})",
                known.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
        let settings_json = |id: &str| -> Result<String, Failure> {
            settings
                .get(id)
                .filter(|value| !value.is_null())
                .map(serde_json::to_string)
                .transpose()
                .map(Option::unwrap_or_default)
                .map_err(|e| Failure::Internal(e.into()))
        };

        // Settings are validated for every policy before any evaluation.
        let mut invalid_settings = Vec::new();
        let mut ready = Vec::new();
        for policy in loaded {
            let id = policy.metadata().id.clone();
            let json = settings_json(&id)?;
            match policy.validate_settings(&json) {
                Ok(()) => ready.push((policy, json)),
                Err(PolicyFailure::Eval(EvalError::InvalidSettings(message))) => {
                    invalid_settings.push(format!("invalid settings for policy `{id}`: {message}"));
                }
                Err(failure) => failures.push(PolicyError::new(&id, &failure)),
            }
        }
        if !invalid_settings.is_empty() {
            report_failures(&failures);
            let error = anyhow!(invalid_settings.join("\n"));
            return Err(if failures.is_empty() {
                invalid(error)
            } else {
                Failure::Policy(error)
            });
        }
        Ok(Self {
            ready,
            failures,
            settings,
            settings_given,
            waivers: setup.waivers,
            reports,
            recorder: setup.recorder,
        })
    }

    /// Policies that failed before any evaluation; each is a failure of every decision.
    pub(crate) fn failures(&self) -> &[PolicyError] {
        &self.failures
    }

    /// The policies that evaluate manifests.
    pub(crate) fn policies(&self) -> impl Iterator<Item = &LoadedPolicy> {
        self.ready.iter().map(|(policy, _)| policy)
    }

    /// Decides a parsed manifest: evaluates it with every policy, combines, applies the waivers,
    /// and appends the decision record. The report is returned only once its record is durable.
    pub(crate) fn decide(
        &self,
        manifest_path: String,
        text: String,
        manifest: Manifest,
        now: Timestamp,
    ) -> Result<Report, Failure> {
        let mut failures = self.failures.clone();
        let mut evaluated = Vec::new();
        let mut decisions = Vec::new();
        for (policy, json) in &self.ready {
            let id = &policy.metadata().id;
            match policy.evaluate(&manifest, json, now) {
                Ok(decision) => {
                    evaluated.push(Evaluated {
                        metadata: policy.metadata().clone(),
                        digest: policy.digest().to_owned(),
                    });
                    decisions.push(decision);
                }
                Err(PolicyFailure::Eval(EvalError::InvalidSettings(message))) => {
                    return Err(invalid(anyhow!(
                        "invalid settings for policy `{id}`: {message}"
                    )));
                }
                Err(failure) => failures.push(PolicyError::new(id, &failure)),
            }
        }

        let mut report = Report {
            manifest_path,
            manifest_digest: format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))),
            manifest,
            now,
            evaluated,
            failures,
            combined: CombinedDecision::combine(decisions),
            manifest_text: text,
            waivers_file: self
                .reports
                .waivers
                .as_ref()
                .map(|p| p.display().to_string()),
            waivers: tollgate_waivers::Applied::default(),
        };
        report.waivers = self.reports.apply(self.waivers.as_ref(), &report);
        report_failures(&report.failures);
        // No decision is reported without its durable record in the decision log (else exit 6).
        self.recorder
            .record(&report, self.settings_given.then_some(&self.settings))?;
        Ok(report)
    }
}

/// How the manifest argument is named in messages.
fn label(manifest: &str) -> String {
    if manifest == "-" {
        "on standard input".to_owned()
    } else {
        format!("`{manifest}`")
    }
}

fn invalid(error: anyhow::Error) -> Failure {
    Failure::Invalid(error)
}

fn report_failures(failures: &[PolicyError]) {
    for failure in failures {
        eprintln!(
            "error: policy `{}` failed: {}",
            failure.policy, failure.message
        );
    }
}

/// Reads the manifest text; the path is `None` for standard input.
fn read_manifest(arg: &str) -> Result<(Option<PathBuf>, String), Failure> {
    if arg == "-" {
        let text = read_bounded(std::io::stdin().lock(), "the manifest on standard input")?;
        return Ok((None, text));
    }
    let path = PathBuf::from(arg);
    let text = read_text(&path, "manifest")?;
    Ok((Some(path), text))
}

fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("failed to read {what} `{}`", path.display()))
        .map_err(invalid)?;
    read_bounded(file, &format!("{what} `{}`", path.display()))
}

/// Reads at most [`tollgate_manifest::MAX_DOCUMENT_BYTES`] of UTF-8 text: a larger input is
/// rejected without being held in memory.
fn read_bounded(reader: impl Read, what: &str) -> Result<String, Failure> {
    let limit = tollgate_manifest::MAX_DOCUMENT_BYTES;
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read {what}"))
        .map_err(invalid)?;
    if bytes.len() > limit {
        return Err(invalid(anyhow!(
            "{what} is larger than the {limit}-byte limit"
        )));
    }
    String::from_utf8(bytes).map_err(|e| invalid(anyhow!("{what} is not UTF-8 text: {e}")))
}

/// Reads a settings file: a mapping from policy id to that policy's settings.
fn read_settings(path: &Path) -> Result<BTreeMap<String, serde_json::Value>, Failure> {
    let text = read_text(path, "settings")?;
    decode::<BTreeMap<String, serde_json::Value>>(&text, Format::detect(Some(path), &text))
        .map_err(|e| invalid(anyhow!("invalid settings file `{}`: {e}", path.display())))
}
