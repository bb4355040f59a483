//! A policy crate run natively, in the same process: the browser preview and the conformance
//! tests use it; its decisions are identical to the same crate's component.

use tollgate_decision::{Decision, PolicyMetadata};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_rules::{EvaluationContext, Policy};

use crate::{Evaluator, PolicyFailure};

/// A native policy crate as an [`Evaluator`].
pub struct NativePolicy {
    policy: Box<dyn Policy + Send + Sync>,
    metadata: PolicyMetadata,
    digest: String,
}

impl NativePolicy {
    /// Wraps a policy; its metadata is read once.
    pub fn new(policy: impl Policy + Send + Sync + 'static) -> Self {
        Self::from_boxed(Box::new(policy))
    }

    /// Wraps a boxed policy; its metadata is read once.
    pub fn from_boxed(policy: Box<dyn Policy + Send + Sync>) -> Self {
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
            .validate_settings(settings_json)
            .map(drop)
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
