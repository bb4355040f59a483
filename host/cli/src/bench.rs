//! `tollgate bench`: times policies on a manifest, like `kwctl bench`: each policy's load (compiled,
//! or read from the cache), then many evaluations in the sandboxed engine, with statistics per call.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use serde::Serialize;
use tollgate_engine::{Isolation, LoadedPolicy};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_pipeline::exit;

use crate::{CacheArgs, Failure, OutputFormat, policy_source, render};

/// Arguments of `tollgate bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The change manifest (YAML or JSON) to evaluate.
    #[arg(value_name = "MANIFEST")]
    manifest: PathBuf,
    /// Policies to time: built-in names or paths of policy components; repeatable or
    /// comma-separated [default: the three built-in policies].
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Timed evaluations per policy, after as many untimed warm-up ones as a tenth of it.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// How evaluations are isolated: `fresh` (a new instance each, as `eval` does) or `reused`
    /// (one instance kept and reset between evaluations).
    #[arg(long, value_enum, ignore_case = true, default_value_t = IsolationArg::Fresh)]
    isolation: IsolationArg,
    /// Evaluation time (`YYYY-MM-DD` or RFC 3339) [default: now].
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    cache: CacheArgs,
}

/// `--isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IsolationArg {
    /// A fresh instance per evaluation.
    Fresh,
    /// One instance per policy, reset between evaluations.
    Reused,
}

/// The timings of one policy, in microseconds except the load.
#[derive(Debug, Serialize)]
struct Timing {
    policy: String,
    load_ms: f64,
    loaded_from_cache: bool,
    outcome: String,
    iterations: u32,
    mean_us: f64,
    min_us: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// Runs `tollgate bench`: exit 0 once every policy was timed, 2 for invalid input, 5 when a
/// policy cannot be loaded or fails to evaluate.
pub(crate) fn run(args: &BenchArgs) -> Result<u8, Failure> {
    let now = match &args.now {
        Some(text) => crate::parse_instant(text, "--now")?,
        None => Timestamp::now(),
    };
    let manifest = read_manifest(&args.manifest)?;
    let settings = read_settings(args.settings.as_deref())?;
    let names = if args.policies.is_empty() {
        tollgate_engine::builtin_packs()
            .iter()
            .map(|p| p.name.to_owned())
            .collect()
    } else {
        args.policies.clone()
    };
    let isolation = match args.isolation {
        IsolationArg::Fresh => Isolation::Fresh,
        IsolationArg::Reused => Isolation::Reused,
    };
    let engine = args.cache.engine()?;
    let mut timings = Vec::new();
    for name in &names {
        let source = policy_source(name)?;
        let start = Instant::now();
        let mut policy = engine
            .load(source)
            .map_err(|e| Failure::Policy(anyhow!("policy `{name}` could not be loaded: {e}")))?;
        let load = start.elapsed();
        policy.set_isolation(isolation);
        let id = policy.metadata().id.clone();
        let settings_json = settings
            .get(&id)
            .filter(|value| !value.is_null())
            .map(ToString::to_string)
            .unwrap_or_default();
        policy
            .validate_settings(&settings_json)
            .map_err(|e| Failure::Invalid(anyhow!("settings of policy `{id}`: {e}")))?;
        timings.push(time(
            &policy,
            &manifest,
            &settings_json,
            now,
            args.iterations,
            load,
        )?);
    }
    let text = match args.format {
        OutputFormat::Json => serde_json::to_string_pretty(&timings)
            .map(|json| json + "\n")
            .map_err(|e| Failure::Internal(e.into()))?,
        OutputFormat::Text => text(&timings, args.isolation),
    };
    render::emit(&text);
    Ok(exit::APPROVED)
}

fn read_manifest(path: &Path) -> Result<Manifest, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Invalid(anyhow!("cannot read `{}`: {e}", path.display())))?;
    Manifest::from_text(&text, Format::detect(Some(path), &text))
        .map_err(|e| Failure::Invalid(anyhow!("invalid manifest `{}`: {e}", path.display())))
}

fn read_settings(
    path: Option<&Path>,
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, Failure> {
    let Some(path) = path else {
        return Ok(std::collections::BTreeMap::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Invalid(anyhow!("cannot read `{}`: {e}", path.display())))?;
    let subject = format!("`{}`", path.display());
    tollgate_pipeline::parse_settings(&text, &subject, Format::detect(Some(path), &text))
        .map_err(|e| Failure::Invalid(anyhow!("{e}")))
}

/// Evaluates `iterations / 10` times untimed, then `iterations` times timed.
fn time(
    policy: &LoadedPolicy,
    manifest: &Manifest,
    settings_json: &str,
    now: Timestamp,
    iterations: u32,
    load: Duration,
) -> Result<Timing, Failure> {
    let id = &policy.metadata().id;
    let evaluate = || {
        policy
            .evaluate(manifest, settings_json, now)
            .map_err(|e| Failure::Policy(anyhow!("policy `{id}` {e}")))
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

fn text(timings: &[Timing], isolation: IsolationArg) -> String {
    let isolation = match isolation {
        IsolationArg::Fresh => "fresh instance per evaluation",
        IsolationArg::Reused => "instance reused between evaluations",
    };
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
