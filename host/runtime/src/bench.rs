//! Timing policies on a manifest, like `kwctl bench`: each policy's load (compiled, or read from
//! the cache), then many evaluations in the sandboxed engine, with statistics per call.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use tollgate_engine::{Isolation, LoadedPolicy, PolicyEngine};
use tollgate_manifest::{Format, Manifest, Timestamp};

use crate::RuntimeError;

/// The timings of one policy, in microseconds except the load.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// `policy`.
    pub policy: String,
    /// `load_ms`.
    pub load_ms: f64,
    /// `loaded_from_cache`.
    pub loaded_from_cache: bool,
    /// `outcome`.
    pub outcome: String,
    /// `iterations`.
    pub iterations: u32,
    /// `mean_us`.
    pub mean_us: f64,
    /// `min_us`.
    pub min_us: f64,
    /// `p50_us`.
    pub p50_us: f64,
    /// `p99_us`.
    pub p99_us: f64,
    /// `max_us`.
    pub max_us: f64,
}

/// What to time: the manifest, the settings by policy id, the evaluation time, timed
/// evaluations per policy and their isolation.
#[derive(Debug)]
pub struct Bench<'a> {
    /// The manifest evaluated.
    pub manifest: &'a Manifest,
    /// Settings by policy id.
    pub settings: &'a BTreeMap<String, serde_json::Value>,
    /// The evaluation time.
    pub now: Timestamp,
    /// Timed evaluations per policy (after a tenth as many untimed ones).
    pub iterations: u32,
    /// How evaluations are isolated.
    pub isolation: Isolation,
}

impl Bench<'_> {
    /// Loads and times each policy (built-in names or component paths) in turn.
    pub fn run(
        &self,
        engine: &PolicyEngine,
        names: &[String],
    ) -> Result<Vec<Timing>, RuntimeError> {
        let mut timings = Vec::new();
        for name in names {
            let source = crate::policy_source(name)?;
            let start = Instant::now();
            let mut policy = crate::load(engine, source)?;
            let load = start.elapsed();
            policy.set_isolation(self.isolation);
            let id = policy.metadata().id.clone();
            let settings_json = self
                .settings
                .get(&id)
                .filter(|value| !value.is_null())
                .map(ToString::to_string)
                .unwrap_or_default();
            policy
                .validate_settings(&settings_json)
                .map_err(|source| RuntimeError::Settings { id, source })?;
            timings.push(time(
                &policy,
                self.manifest,
                &settings_json,
                self.now,
                self.iterations,
                load,
            )?);
        }
        Ok(timings)
    }
}

/// Reads a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest, RuntimeError> {
    let text = read_file(path)?;
    Manifest::from_text(&text, Format::detect(Some(path), &text)).map_err(|source| {
        RuntimeError::InvalidManifest {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Reads a settings file: policy id to settings.
pub fn read_settings(
    path: Option<&Path>,
) -> Result<BTreeMap<String, serde_json::Value>, RuntimeError> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let text = read_file(path)?;
    let subject = format!("`{}`", path.display());
    Ok(tollgate_pipeline::parse_settings(
        &text,
        &subject,
        Format::detect(Some(path), &text),
    )?)
}

fn read_file(path: &Path) -> Result<String, RuntimeError> {
    std::fs::read_to_string(path).map_err(|source| RuntimeError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Evaluates `iterations / 10` times untimed, then `iterations` times timed.
fn time(
    policy: &LoadedPolicy,
    manifest: &Manifest,
    settings_json: &str,
    now: Timestamp,
    iterations: u32,
    load: Duration,
) -> Result<Timing, RuntimeError> {
    let id = &policy.metadata().id;
    let evaluate = || {
        policy
            .evaluate(manifest, settings_json, now)
            .map_err(|source| RuntimeError::Evaluate {
                id: id.clone(),
                source,
            })
    };
    let decision = evaluate()?;
    for _ in 0..iterations / 10 {
        evaluate()?;
    }
    let mut calls = Vec::with_capacity(usize::try_from(iterations).unwrap_or(0));
    for _ in 0..iterations {
        let start = Instant::now();
        evaluate()?;
        calls.push(start.elapsed().as_secs_f64() * 1e6);
    }
    calls.sort_by(f64::total_cmp);
    let at = |fraction: f64| {
        let last = calls.len().saturating_sub(1);
        // An index within the sample, rounded.
        let index = ((last as f64) * fraction).round() as usize;
        calls.get(index.min(last)).copied().unwrap_or(f64::NAN)
    };
    Ok(Timing {
        policy: id.clone(),
        load_ms: load.as_secs_f64() * 1e3,
        loaded_from_cache: policy.loaded_from_cache(),
        outcome: decision.outcome.as_str().to_owned(),
        iterations,
        mean_us: calls.iter().sum::<f64>() / f64::from(iterations),
        min_us: at(0.0),
        p50_us: at(0.5),
        p99_us: at(0.99),
        max_us: at(1.0),
    })
}

/// The timings as a table, with a total line naming the `isolation` in words.
pub fn timings_text(timings: &[Timing], isolation: &str) -> String {
    let mut out = format!(
        "{:<10} {:>10} {:>15} {:>10} {:>10} {:>10} {:>10}  outcome\n",
        "policy", "load ms", "", "mean µs", "p50 µs", "p99 µs", "max µs"
    );
    for t in timings {
        let loaded = if t.loaded_from_cache {
            "(cache)"
        } else {
            "(compiled)"
        };
        out += &format!(
            "{:<10} {:>10.1} {:>15} {:>10.1} {:>10.1} {:>10.1} {:>10.1}  {}\n",
            t.policy, t.load_ms, loaded, t.mean_us, t.p50_us, t.p99_us, t.max_us, t.outcome
        );
    }
    let total: f64 = timings.iter().map(|t| t.mean_us).sum();
    out += &format!(
        "all {} policies: {total:.1} µs per manifest ({isolation}, {} evaluations each)\n",
        timings.len(),
        timings.first().map_or(0, |t| t.iterations)
    );
    out
}
