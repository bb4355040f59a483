//! A policy crate run natively, in the same process: the browser preview and the conformance
//! tests use it; its decisions are identical to the same crate's component.

use tollgate_decision::{Decision, EvalError, PolicyMetadata};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_rules::{BuiltinPolicy, EvaluationContext, Policy};

use crate::{Evaluator, PolicyFailure};

/// A native policy crate as an [`Evaluator`].
pub struct NativePolicy {
    policy: Box<dyn Decide>,
    metadata: PolicyMetadata,
    digest: String,
}

/// A policy with its settings type erased, so that packs with different settings types can be
/// held alike.
trait Decide: Send + Sync {
    fn metadata(&self) -> PolicyMetadata;
    fn validate(&self, settings_json: &str) -> Result<(), EvalError>;
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError>;
}

impl<P: Policy + Send + Sync + ?Sized> Decide for P {
    fn metadata(&self) -> PolicyMetadata {
        Policy::metadata(self)
    }
    fn validate(&self, settings_json: &str) -> Result<(), EvalError> {
        self.validate_settings(settings_json).map(drop)
    }
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError> {
        Policy::decide(self, manifest, settings_json, context)
    }
}

/// A boxed built-in pack.
struct Boxed(Box<BuiltinPolicy>);

impl Decide for Boxed {
    fn metadata(&self) -> PolicyMetadata {
        self.0.as_ref().metadata()
    }
    fn validate(&self, settings_json: &str) -> Result<(), EvalError> {
        Decide::validate(self.0.as_ref(), settings_json)
    }
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError> {
        Decide::decide(self.0.as_ref(), manifest, settings_json, context)
    }
}

impl NativePolicy {
    /// Wraps a policy; its metadata is read once.
    pub fn new(policy: impl Policy + Send + Sync + 'static) -> Self {
        Self::erased(Box::new(policy))
    }

    /// Wraps a boxed built-in pack; its metadata is read once.
    pub fn from_boxed(policy: Box<BuiltinPolicy>) -> Self {
        Self::erased(Box::new(Boxed(policy)))
    }

    fn erased(policy: Box<dyn Decide>) -> Self {
        let metadata = policy.metadata();
        let digest = format!("native:{}@{}", metadata.id, metadata.version);
        Self {
            policy,
            metadata,
            digest,
        }
    }
}

impl std::fmt::Debug for NativePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativePolicy")
            .field("id", &self.metadata.id)
            .finish_non_exhaustive()
    }
}

impl Evaluator for NativePolicy {
    fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }

    fn digest(&self) -> &str {
        &self.digest
    }

    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        self.policy
            .validate(settings_json)
            .map_err(PolicyFailure::Eval)
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        self.policy
            .decide(manifest, settings_json, &EvaluationContext { now })
            .map_err(PolicyFailure::Eval)
    }
}
