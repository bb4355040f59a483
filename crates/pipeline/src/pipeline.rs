//! Policies with validated settings and waivers, ready to decide any number of manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tollgate_decision::{CombinedDecision, EvalError, PolicyMetadata};
use tollgate_manifest::{IdentityAliases, Manifest};
use tollgate_report_formats::FieldMap;
use tollgate_waivers::{Applied, WaiverContext, WaiverRules, WaiverSet};

use crate::report::{Evaluated, PolicyError, Report};
use crate::schemas::PolicySchemas;
use crate::{DecideError, Evaluator, InputError, InputSource, PolicyFailure, Submission, contract};

/// A settings document: policy id → that policy's settings object, plus an optional `defaults`
/// object shared by every policy (a policy's own section wins, field by field). A policy that
/// declares a settings schema receives only the `defaults` keys the schema declares as
/// properties; one without a schema receives them all.
pub type SettingsDocument = BTreeMap<String, serde_json::Value>;

/// The key of the settings shared by every policy.
pub const DEFAULTS_KEY: &str = "defaults";

/// A policy offered to the pipeline: loaded, or one that failed to load (a failure of every
/// decision, so that nothing is approved without it).
pub enum Candidate {
    /// A policy ready to validate its settings and evaluate.
    Loaded(Box<dyn Evaluator>),
    /// A policy that could not be loaded.
    Failed(PolicyError),
}

/// What a pipeline is configured with besides its policies.
#[derive(Debug, Default)]
pub struct PipelineOptions {
    /// The settings document, if one was given (its digest is recorded).
    pub settings: Option<SettingsDocument>,
    /// Waivers, applied after the policies decide.
    pub waivers: Option<WaiverSet>,
    /// Where the waivers came from, for reports.
    pub waivers_file: Option<String>,
    /// The service being deployed, unless a submission names one.
    pub service: Option<String>,
}

/// A policy whose settings are valid, with those settings as JSON.
struct Ready {
    policy: Box<dyn Evaluator>,
    /// The policy's metadata, shared by every report that names it.
    metadata: Arc<PolicyMetadata>,
    /// What exactly runs, and who vouches for it, shared likewise.
    digest: Arc<str>,
    signer: Option<Arc<str>>,
    settings_json: String,
    /// How waivers apply to this policy's findings (`waivers.non_waivable`, `identities`).
    waiver_rules: WaiverRules,
    /// The schemas it declares, compiled.
    schemas: PolicySchemas,
}

/// Policies loaded and their settings validated, once: every decision evaluates each policy,
/// checks its decision against the contract, combines and applies the waivers. Decisions leave
/// the crate only through [`crate::Gate`], recorded.
pub struct Pipeline {
    ready: Vec<Ready>,
    failures: Vec<PolicyError>,
    settings_digest: Option<String>,
    waivers: Option<WaiverSet>,
    waivers_file: Option<String>,
    service: Option<String>,
    /// Every policy's identity aliases together, to tell a waiver's approver from the author and
    /// the deployer.
    identities: IdentityAliases,
    /// Rules for decisions of a policy not in `ready` (never used: every decision has its policy).
    default_rules: WaiverRules,
}

impl Pipeline {
    /// Validates every policy's settings before any evaluation. A policy given twice, settings
    /// naming a policy that is not loaded, or settings a policy rejects are invalid input (a
    /// policy failure when another policy failed too); a policy that fails otherwise is kept as a
    /// failure of every decision.
    pub fn new(candidates: Vec<Candidate>, options: PipelineOptions) -> Result<Self, DecideError> {
        let mut failures = Vec::new();
        let mut loaded: Vec<Box<dyn Evaluator>> = Vec::new();
        for candidate in candidates {
            match candidate {
                Candidate::Failed(error) => failures.push(error),
                Candidate::Loaded(policy) => {
                    if let Some(other) = loaded
                        .iter()
                        .find(|p| p.metadata().id == policy.metadata().id)
                    {
                        return Err(InputError::new(
                            InputSource::Options,
                            format!(
                                "policy `{}` is given twice ({} and {})",
                                policy.metadata().id,
                                other.digest(),
                                policy.digest()
                            ),
                        )
                        .into());
                    }
                    loaded.push(policy);
                }
            }
        }

        let settings_digest = options
            .settings
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| DecideError::Internal(e.to_string()))?
            .map(|json| crate::sha256_digest(json.as_bytes()));
        let mut settings = options.settings.unwrap_or_default();
        let defaults = match settings.remove(DEFAULTS_KEY) {
            None | Some(serde_json::Value::Null) => None,
            Some(value @ serde_json::Value::Object(_)) => Some(value),
            Some(_) => {
                return Err(InputError::new(
                    InputSource::Settings,
                    format!(
                        "`{DEFAULTS_KEY}` must be a mapping of settings shared by every policy"
                    ),
                )
                .at(DEFAULTS_KEY)
                .into());
            }
        };
        let known: BTreeSet<&str> = loaded
            .iter()
            .map(|p| p.metadata().id.as_str())
            .chain(failures.iter().map(|f| f.policy.as_str()))
            .collect();
        if let Some(key) = settings.keys().find(|k| !known.contains(k.as_str())) {
            return Err(InputError::new(
                InputSource::Settings,
                format!(
                    "settings name policy `{key}`, which is not loaded (loaded: {})",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            )
            .at(key.clone())
            .into());
        }

        let mut rejected = Vec::new();
        let mut ready = Vec::new();
        for policy in loaded {
            let id = policy.metadata().id.clone();
            let schemas = match PolicySchemas::compile(policy.metadata()) {
                Ok(schemas) => schemas,
                Err(reason) => {
                    failures.push(PolicyError::new(
                        &id,
                        &PolicyFailure::Malformed {
                            reason: format!("its metadata declares an unusable schema: {reason}"),
                        },
                    ));
                    continue;
                }
            };
            let shared = defaults
                .as_ref()
                .map(|defaults| match schemas.declared_settings() {
                    None => defaults.clone(),
                    Some(declared) => only_keys(defaults, declared),
                });
            let own = settings.get(&id).filter(|value| !value.is_null());
            let settings_value = match (shared, own) {
                (None, None) => None,
                (None, Some(own)) => Some(own.clone()),
                (Some(mut merged), own) => {
                    if let Some(own) = own {
                        merge(&mut merged, own);
                    }
                    Some(merged)
                }
            }
            .filter(|value| value.as_object().is_none_or(|o| !o.is_empty()));
            let settings_json = settings_value
                .as_ref()
                .map(serde_json::Value::to_string)
                .unwrap_or_default();
            // The declared schema first, so that the policy only ever sees settings of the shape
            // it declared; then the policy's own checks (consistency across fields).
            let validated = settings_value
                .as_ref()
                .map_or(Ok(()), |value| schemas.check_settings(value))
                .map_err(|message| PolicyFailure::Eval(EvalError::InvalidSettings(message)))
                .and_then(|()| policy.validate_settings(&settings_json));
            match validated {
                Ok(()) => match WaiverRules::from_settings(&settings_json) {
                    Ok(waiver_rules) => ready.push(Ready {
                        metadata: Arc::new(policy.metadata().clone()),
                        digest: Arc::from(policy.digest()),
                        signer: policy.signer().map(Arc::from),
                        policy,
                        settings_json,
                        waiver_rules,
                        schemas,
                    }),
                    Err(error) => {
                        rejected.push(InputError::policy_settings(&id, error.to_string()))
                    }
                },
                Err(PolicyFailure::Eval(EvalError::InvalidSettings(message))) => {
                    rejected.push(InputError::policy_settings(&id, message));
                }
                Err(failure) => failures.push(PolicyError::new(&id, &failure)),
            }
        }
        if !rejected.is_empty() {
            return Err(if failures.is_empty() {
                DecideError::Invalid(rejected)
            } else {
                DecideError::Policies {
                    failures,
                    rejected_settings: rejected,
                }
            });
        }
        let identities = ready
            .iter()
            .flat_map(|r| r.waiver_rules.identities().clone())
            .collect();
        Ok(Self {
            ready,
            identities,
            default_rules: WaiverRules::default(),
            failures,
            settings_digest,
            waivers: options.waivers,
            waivers_file: options.waivers_file,
            service: options.service,
        })
    }

    /// Policies that failed before any evaluation; each is a failure of every decision.
    pub fn failures(&self) -> &[PolicyError] {
        &self.failures
    }

    /// The policies that evaluate manifests.
    pub fn policies(&self) -> impl Iterator<Item = &dyn Evaluator> {
        self.ready.iter().map(|ready| ready.policy.as_ref())
    }

    /// Evaluates a submission with every policy, combines and applies the waivers. Not public:
    /// a report leaves the crate only through [`crate::Gate::decide`], once recorded.
    pub(crate) fn evaluate(&self, submission: Submission) -> Result<Report, DecideError> {
        let Submission {
            manifest_path,
            manifest_text,
            manifest,
            now,
            service,
            actor,
        } = submission;
        self.check_extensions(&manifest, &manifest_text)?;
        let mut failures = self.failures.clone();
        let mut evaluated = Vec::new();
        let mut decisions = Vec::new();
        for ready in &self.ready {
            let metadata = &*ready.metadata;
            let decision = ready
                .policy
                .evaluate(&manifest, &ready.settings_json, now)
                .and_then(|decision| {
                    contract::check_decision(metadata, &decision).map(|()| decision)
                });
            match decision {
                Ok(decision) => {
                    evaluated.push(Evaluated {
                        metadata: Arc::clone(&ready.metadata),
                        digest: Arc::clone(&ready.digest),
                        signer: ready.signer.clone(),
                    });
                    decisions.push(decision);
                }
                Err(PolicyFailure::Eval(EvalError::InvalidSettings(message))) => {
                    return Err(InputError::policy_settings(&metadata.id, message).into());
                }
                Err(failure) => failures.push(PolicyError::new(&metadata.id, &failure)),
            }
        }

        let combined = CombinedDecision::combine(decisions);
        let waivers = match &self.waivers {
            None => Applied::none(&combined.decisions),
            Some(set) => {
                let context = WaiverContext {
                    now,
                    author: &manifest.change.author,
                    deployer: &manifest.change.deployer,
                    identities: &self.identities,
                    environment: &manifest.change.environment,
                    service: service.as_deref().or(self.service.as_deref()),
                };
                let rules = |policy_id: &str| {
                    self.ready
                        .iter()
                        .find(|r| r.policy.metadata().id == policy_id)
                        .map_or(&self.default_rules, |r| &r.waiver_rules)
                };
                tollgate_waivers::apply_with(set, &context, &combined.decisions, &rules)
            }
        };
        Ok(Report {
            manifest_digest: crate::sha256_digest(manifest_text.as_bytes()),
            manifest_path,
            manifest,
            manifest_text,
            now,
            evaluated,
            failures,
            combined,
            waivers_file: self.waivers_file.clone(),
            waivers,
            settings_digest: self.settings_digest.clone(),
            actor,
        })
    }
}

impl Pipeline {
    /// Checks the manifest's `extensions` before any policy runs: every namespace must be one a
    /// loaded policy declares, and its object must satisfy the schema of every policy declaring
    /// it. Errors name the field path and the line, as the manifest's own errors do.
    fn check_extensions(&self, manifest: &Manifest, text: &str) -> Result<(), DecideError> {
        if manifest.extensions.is_empty() {
            return Ok(());
        }
        let fields = FieldMap::new(text);
        let located = |error: InputError, path: String| {
            let mut error = error.at(path.clone());
            if let Some(position) = fields.locate(&path) {
                error.line = u32::try_from(position.line).ok();
                error.column = u32::try_from(position.column).ok();
            }
            error
        };
        let mut errors = Vec::new();
        for (namespace, facts) in &manifest.extensions {
            let base = format!("extensions.{namespace}");
            let readers: Vec<&Ready> = self
                .ready
                .iter()
                .filter(|r| r.schemas.extensions.contains_key(namespace))
                .collect();
            if readers.is_empty() {
                let declared: BTreeSet<&str> = self
                    .ready
                    .iter()
                    .flat_map(|r| r.schemas.extensions.keys().map(String::as_str))
                    .collect();
                let declared = if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.into_iter().collect::<Vec<_>>().join(", ")
                };
                errors.push(located(
                    InputError::new(
                        InputSource::Manifest,
                        format!(
                            "`{base}`: no loaded policy reads the extension namespace `{namespace}` (namespaces the loaded policies declare: {declared})"
                        ),
                    ),
                    base.clone(),
                ));
                continue;
            }
            let facts = serde_json::Value::Object(facts.clone());
            for ready in readers {
                let Some(schema) = ready.schemas.extensions.get(namespace) else {
                    continue;
                };
                for violation in schema.violations(&facts) {
                    let path = if violation.path.is_empty() {
                        base.clone()
                    } else if violation.path.starts_with('[') {
                        format!("{base}{}", violation.path)
                    } else {
                        format!("{base}.{}", violation.path)
                    };
                    errors.push(located(
                        InputError::new(
                            InputSource::Manifest,
                            format!(
                                "`{path}`: {} (the schema policy `{}` declares for `{namespace}`)",
                                violation.message,
                                ready.policy.metadata().id
                            ),
                        ),
                        path,
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DecideError::Invalid(errors))
        }
    }
}

/// The members of the object `value` whose keys are in `keys`.
fn only_keys(value: &serde_json::Value, keys: &[String]) -> serde_json::Value {
    match value {
        serde_json::Value::Object(object) => serde_json::Value::Object(
            object
                .iter()
                .filter(|(key, _)| keys.contains(key))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Merges `over` into `base`: objects field by field (recursively), anything else replaced.
fn merge(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}
