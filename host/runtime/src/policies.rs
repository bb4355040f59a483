//! Policy sources (built-in names or component paths) and their loading, in parallel and under a
//! [`Trust`], into a pipeline.

use std::path::PathBuf;

use tollgate_engine::{LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_pipeline::{Candidate, Pipeline, PipelineOptions, PolicyError};

use crate::{RuntimeError, Trust};

/// Resolves `--policy` text: a built-in name (any case), or the path of an existing component file.
pub fn policy_source(text: &str) -> Result<PolicySource, RuntimeError> {
    if let Some(pack) = tollgate_engine::builtin_pack(&text.trim().to_ascii_lowercase()) {
        return Ok(PolicySource::Builtin(pack));
    }
    let path = PathBuf::from(text);
    if path.is_file() {
        return Ok(PolicySource::File(path));
    }
    let names: Vec<&str> = tollgate_engine::builtin_packs()
        .iter()
        .map(|p| p.name)
        .collect();
    Err(RuntimeError::UnknownPolicy {
        name: text.to_owned(),
        builtin: names.join(", "),
    })
}

/// The policies to run: the given names or paths, or the built-in packs without any.
pub fn policy_sources(policies: &[String]) -> Result<Vec<PolicySource>, RuntimeError> {
    if policies.is_empty() {
        Ok(tollgate_engine::builtin_packs()
            .iter()
            .map(PolicySource::Builtin)
            .collect())
    } else {
        policies.iter().map(|p| policy_source(p)).collect()
    }
}

/// Loads one policy, without trust checks (inspection, tests, benchmarks, signing).
pub fn load(engine: &PolicyEngine, source: PolicySource) -> Result<LoadedPolicy, RuntimeError> {
    let name = source.name();
    engine
        .load(source)
        .map_err(|source| RuntimeError::Load { name, source })
}

/// The candidates of a pipeline, under `trust`: a policy that cannot be loaded or is refused is a
/// failure of every decision. Loads in parallel, one thread each, in the order given.
pub fn candidates(
    engine: &PolicyEngine,
    sources: Vec<PolicySource>,
    trust: &Trust,
) -> Vec<Candidate> {
    if sources.len() < 2 {
        return sources
            .into_iter()
            .map(|source| trust.load(engine, source))
            .collect();
    }
    std::thread::scope(|scope| {
        let loading: Vec<_> = sources
            .into_iter()
            .map(|source| {
                let name = source.name();
                let handle = scope.spawn(move || trust.load(engine, source));
                (name, handle)
            })
            .collect();
        loading
            .into_iter()
            .map(|(name, handle)| {
                handle.join().unwrap_or_else(|_| {
                    Candidate::Failed(PolicyError::load(&name, "loading the policy panicked"))
                })
            })
            .collect()
    })
}

/// Loads the policies into a pipeline; settings are validated once.
pub fn load_pipeline(
    engine: &PolicyEngine,
    sources: Vec<PolicySource>,
    options: PipelineOptions,
    trust: &Trust,
) -> Result<Pipeline, RuntimeError> {
    Ok(Pipeline::new(candidates(engine, sources, trust), options)?)
}

/// The metadata of the built-in packs (control titles and references for reports).
pub fn builtin_catalogues(
    engine: &PolicyEngine,
) -> Result<Vec<tollgate_decision::PolicyMetadata>, RuntimeError> {
    tollgate_engine::builtin_packs()
        .iter()
        .map(|pack| {
            Ok(load(engine, PolicySource::Builtin(pack))?
                .metadata()
                .clone())
        })
        .collect()
}
