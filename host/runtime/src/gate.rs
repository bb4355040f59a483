//! A served policy set: policies, settings, waivers and the recorder, loaded into a gate at start
//! and again on every reload.

use std::sync::{Arc, OnceLock};

use tollgate_decision_log::Project;
use tollgate_engine::PolicyEngine;
use tollgate_pipeline::{Gate, Recorder};
use tollgate_recorder::AppendObserver;

use crate::{OptionFiles, RecorderOptions, RuntimeError, Trust};

/// Everything a gate is loaded from.
pub struct GateLoader {
    /// Built-in names or component paths [default: the built-in packs].
    pub policies: Vec<String>,
    /// Settings, waivers and the default service.
    pub files: OptionFiles,
    /// The decision log and how records are written.
    pub recorder: RecorderOptions,
    /// Told of every append of the recorder (set once, before the first load).
    pub observer: OnceLock<Arc<dyn AppendObserver>>,
    /// The trust of policy components.
    pub trust: Trust,
    /// The engine that compiles and runs them.
    pub engine: Arc<PolicyEngine>,
}

impl std::fmt::Debug for GateLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateLoader")
            .field("policies", &self.policies)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl GateLoader {
    /// Loads the policy set into a gate whose recorder commits in groups; a set with a failed
    /// policy is refused. Returns the gate and the project whose log it writes.
    pub fn load(&self) -> Result<(Gate<Box<dyn Recorder>>, Project), RuntimeError> {
        let (options, _) = self
            .files
            .read(tollgate_manifest::Timestamp::now())
            .map_err(|refusal| refusal.error)?;
        let recorder = self.recorder.recorder()?;
        let recorder = match self.observer.get() {
            Some(observer) => recorder.with_observer(Arc::clone(observer)),
            None => recorder,
        }
        .with_group_commit();
        let sources = crate::policy_sources(&self.policies)?;
        let pipeline = crate::load_pipeline(&self.engine, sources, options, &self.trust)?;
        if !pipeline.failures().is_empty() {
            let failed: Vec<String> = pipeline
                .failures()
                .iter()
                .map(ToString::to_string)
                .collect();
            return Err(RuntimeError::NotServing(failed.join("; ")));
        }
        let project = recorder.project().clone();
        Ok((Gate::new(pipeline, Box::new(recorder)), project))
    }
}
