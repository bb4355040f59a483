//! The performance table of Tollgate, every row measured in this one run on this machine:
//!
//! - the built-in packs (sox, hipaa, pci, fda) natively, through their components with a fresh instance per call
//!   (the default) and with an instance reused and reset per policy;
//! - the SOX component against regorus evaluating `rego/sox.rego`, the SOX pack written in Rego as
//!   a Rego engineer would write it for speed (all six controls, Terraform plans and deployment
//!   windows included), once both engines are shown to agree on every golden SOX case;
//! - the release `tollgate` binary: `eval` with a warm cache against `--version`, and `eval` with an
//!   empty cache (measured when `target/release/tollgate` exists: `just bench` builds it first);
//! - the sizes of the components, the OPA modules and the browser preview (`web/pkg`, `just web`).
//!
//! Criterion times each per-decision row; the table's ratios come from interleaved rounds of the
//! same run, so that both sides of a ratio share the machine's noise.
//!
//! `just bench` or `cargo bench -p tollgate-conformance --bench evaluate`

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use regorus::{CompiledPolicy, Value};
use serde::Deserialize;
use tollgate_conformance::{Case, POLICIES, case_files, native_policy, workspace_root};
use tollgate_decision::{Decision, EvalError};
use tollgate_engine::{
    Isolation, Limits, LoadedPolicy, PolicyEngine, PolicyFailure, PolicySource, builtin_pack,
    opa_modules,
};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_rules::EvaluationContext;

type BoxError = Box<dyn Error>;

/// A named row of the table: one decision per call.
type Row<'a> = (&'static str, Box<dyn FnMut() + 'a>);

const MANIFEST: &str = "examples/manifests/schema-and-security-three-approvers.yaml";
const NOW: &str = "2026-06-01T00:00:00Z";
const REGO_POLICY: &str = "tests/benches/rego/sox.rego";
const REGO_RULE: &str = "data.tollgate.sox.decision";

fn main() -> Result<(), BoxError> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(MANIFEST))?;
    let manifest = Manifest::from_text(&text, Format::Yaml)?;
    let manifest_json = serde_json::to_string(&manifest)?;
    let now = Timestamp::parse(NOW)?;
    let context = EvaluationContext { now };

    let natives = POLICIES
        .iter()
        .map(|name| native_policy(name).ok_or("unknown policy"))
        .collect::<Result<Vec<_>, _>>()?;
    let engine = PolicyEngine::new(Limits::default(), None)?;
    let fresh = load(&engine, Isolation::Fresh)?;
    let reused = load(&engine, Isolation::Reused)?;
    let rego = compile_rego(&root)?;
    let agreed = check_agreement(&fresh[0], &rego)?;
    println!("regorus and the SOX component agree on all {agreed} golden SOX cases");

    let native_sox = &natives[0];
    let rego_input = || rego_input(&manifest_json, None, NOW);
    let parsed_input = rego_input()?;
    let mut rows: Vec<Row<'_>> = vec![
        (
            "built-in packs native",
            Box::new(|| {
                for policy in &natives {
                    black_box(policy.decide(black_box(&manifest), "", &context).ok());
                }
            }),
        ),
        (
            "built-in packs component, fresh instance",
            Box::new(|| {
                for policy in &fresh {
                    black_box(policy.evaluate(black_box(&manifest), "", now).ok());
                }
            }),
        ),
        (
            "built-in packs component, reused instance",
            Box::new(|| {
                for policy in &reused {
                    black_box(policy.evaluate(black_box(&manifest), "", now).ok());
                }
            }),
        ),
        (
            "SOX native",
            Box::new(|| {
                black_box(native_sox.decide(black_box(&manifest), "", &context).ok());
            }),
        ),
        (
            "SOX component, fresh instance",
            Box::new(|| {
                black_box(fresh[0].evaluate(black_box(&manifest), "", now).ok());
            }),
        ),
        (
            "SOX component, reused instance",
            Box::new(|| {
                black_box(reused[0].evaluate(black_box(&manifest), "", now).ok());
            }),
        ),
        (
            "SOX regorus, parsed input",
            Box::new(|| {
                black_box(rego.eval_with_input(black_box(parsed_input.clone())).ok());
            }),
        ),
        (
            "SOX regorus, JSON input",
            Box::new(|| {
                let input = rego_input().ok();
                black_box(input.and_then(|i| rego.eval_with_input(i).ok()));
            }),
        ),
    ];

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("decide");
        for (name, row) in &mut rows {
            group.bench_function(*name, |b| b.iter(&mut *row));
        }
        group.finish();
    }
    criterion.final_summary();

    let micros = interleaved(&mut rows, 15, Duration::from_millis(60));
    let time = |name: &str| {
        rows.iter()
            .position(|(n, _)| *n == name)
            .map_or(f64::NAN, |i| micros[i])
    };
    println!("\nper decision (median of 15 interleaved rounds):");
    for ((name, _), us) in rows.iter().zip(&micros) {
        println!("  {name:<40} {us:>9.2} µs");
    }

    let mut table = Table::default();
    let native = time("built-in packs native");
    table.ratio(
        "built-in packs, fresh instance each / native",
        time("built-in packs component, fresh instance") / native,
        Goal::AtMost(3.0),
    );
    table.ratio(
        "built-in packs, reused instance / native",
        time("built-in packs component, reused instance") / native,
        Goal::AtMost(1.5),
    );
    table.ratio(
        "regorus (parsed input) / SOX component, fresh instance",
        time("SOX regorus, parsed input") / time("SOX component, fresh instance"),
        Goal::AtLeast(25.0),
    );
    table.ratio(
        "regorus (parsed input) / SOX component, reused instance",
        time("SOX regorus, parsed input") / time("SOX component, reused instance"),
        Goal::AtLeast(10.0),
    );
    cli_rows(&root, &mut table)?;
    size_rows(&root, &mut table);
    println!("\n{table}");
    Ok(())
}

/// Loads the built-in packs.
fn load(engine: &PolicyEngine, isolation: Isolation) -> Result<Vec<LoadedPolicy>, BoxError> {
    POLICIES
        .iter()
        .map(|name| {
            let pack = builtin_pack(name).ok_or("unknown pack")?;
            let mut policy = engine.load(PolicySource::Builtin(pack))?;
            policy.set_isolation(isolation);
            Ok(policy)
        })
        .collect()
}

/// Runs every row for about `per_round` in each of `rounds` rounds, rows interleaved, and returns
/// the median time per call of each row, in µs.
fn interleaved(rows: &mut [Row<'_>], rounds: usize, per_round: Duration) -> Vec<f64> {
    // Calls per round of each row, from a short calibration.
    let calls: Vec<u32> = rows
        .iter_mut()
        .map(|(_, row)| {
            let start = Instant::now();
            let mut n = 0u32;
            while start.elapsed() < per_round / 10 {
                row();
                n += 1;
            }
            (n * 10).max(1)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(rounds); rows.len()];
    for _ in 0..rounds {
        for ((_, row), (n, samples)) in rows.iter_mut().zip(calls.iter().zip(&mut samples)) {
            let start = Instant::now();
            (0..*n).for_each(|_| row());
            samples.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(*n));
        }
    }
    samples.into_iter().map(median).collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

// regorus --------------------------------------------------------------------------------------

/// A regorus engine with the Rego policy, builtin errors undefined as in OPA (the policy detects an
/// unknown time zone as `time.clock` failing).
fn rego_engine(root: &Path) -> Result<regorus::Engine, BoxError> {
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(false);
    engine.add_policy_from_file(root.join(REGO_POLICY))?;
    Ok(engine)
}

fn compile_rego(root: &Path) -> Result<CompiledPolicy, BoxError> {
    let mut engine = rego_engine(root)?;
    Ok(engine.compile_with_entrypoint(&REGO_RULE.into())?)
}

/// The Rego policy's input: the manifest as Tollgate serializes it, the settings and the time.
fn rego_input(manifest_json: &str, settings: Option<&str>, now: &str) -> Result<Value, BoxError> {
    let json = format!(
        r#"{{"manifest": {manifest_json}, "settings": {}, "now": "{now}"}}"#,
        settings.unwrap_or("null")
    );
    Ok(Value::from_json_str(&json)?)
}

/// Every rule of the Rego package that is defined for an input, to see which one is not.
fn rego_package(input: Value) -> String {
    let mut engine = match rego_engine(&workspace_root()) {
        Ok(engine) => engine,
        Err(e) => return e.to_string(),
    };
    engine.set_input(input);
    match engine.eval_query("data.tollgate.sox".to_owned(), false) {
        Ok(results) => serde_json::to_string(&results).unwrap_or_else(|e| e.to_string()),
        Err(e) => e.to_string(),
    }
}

/// What both engines must agree on: the error, or the outcome, risk, route, required and
/// missing roles and findings (`rule@control`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    error: Option<String>,
    outcome: Option<String>,
    risk_score: Option<f64>,
    risk_class: Option<String>,
    route: Option<String>,
    #[serde(default)]
    required_roles: Vec<String>,
    #[serde(default)]
    missing_roles: Vec<String>,
    #[serde(default)]
    findings: Vec<String>,
    /// The settings fields Rego finds invalid (not compared: the component names one).
    #[serde(default, rename = "fields")]
    _fields: Vec<String>,
}

impl Summary {
    fn of(result: &Result<Decision, PolicyFailure>) -> Result<Self, String> {
        let decision = match result {
            Ok(decision) => decision,
            Err(PolicyFailure::Eval(error @ EvalError::InvalidSettings(_))) => {
                return Ok(Self::error(error.kind()));
            }
            Err(failure) => return Err(format!("the component failed: {failure}")),
        };
        let mut findings: Vec<String> = decision
            .findings
            .iter()
            .map(|f| format!("{}@{}", f.rule_id, f.control_id))
            .collect();
        findings.sort();
        findings.dedup();
        Ok(Self {
            error: None,
            outcome: Some(decision.outcome.as_str().to_owned()),
            risk_score: decision.risk.as_ref().map(|risk| risk.score),
            risk_class: decision.risk_class().map(|class| class.as_str().to_owned()),
            route: decision.route().map(str::to_owned),
            required_roles: decision
                .required_approvals()
                .iter()
                .map(|r| r.role.clone())
                .collect(),
            missing_roles: decision.missing_roles().map(str::to_owned).collect(),
            findings,
            _fields: Vec::new(),
        })
    }

    fn error(kind: &str) -> Self {
        Self {
            error: Some(kind.to_owned()),
            outcome: None,
            risk_score: None,
            risk_class: None,
            route: None,
            required_roles: Vec::new(),
            missing_roles: Vec::new(),
            findings: Vec::new(),
            _fields: Vec::new(),
        }
    }

    fn agrees_with(&self, other: &Self) -> bool {
        let score = match (self.risk_score, other.risk_score) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (a, b) => a.is_none() && b.is_none(),
        };
        score
            && self.error == other.error
            && self.outcome == other.outcome
            && self.risk_class == other.risk_class
            && self.route == other.route
            && self.required_roles == other.required_roles
            && self.missing_roles == other.missing_roles
            && self.findings == other.findings
    }
}

/// Evaluates every golden SOX case with the component and with regorus; any difference is an
/// error. Cases of invalid settings are compared too: both must answer `invalid_settings`.
/// Returns the number of cases compared.
fn check_agreement(sox: &LoadedPolicy, rego: &CompiledPolicy) -> Result<usize, BoxError> {
    let files = case_files("sox")?;
    let mut disagreements = Vec::new();
    for file in &files {
        let case = Case::load(file)?;
        let manifest = case.manifest()?;
        let settings = case.settings_json();
        let component = Summary::of(&sox.evaluate(&manifest, &settings, case.now))?;
        let input = rego_input(
            &serde_json::to_string(&manifest)?,
            case.settings.as_ref().map(|_| settings.as_str()),
            &case.now.to_string(),
        )?;
        let output = rego.eval_with_input(input.clone())?.to_json_str()?;
        let rego_summary: Summary = serde_json::from_str(&output).map_err(|e| {
            format!(
                "{}: regorus answered `{output}`: {e}; the package's defined rules: {}",
                file.display(),
                rego_package(input)
            )
        })?;
        if !component.agrees_with(&rego_summary) {
            disagreements.push(format!(
                "{}:\n  component {component:?}\n  regorus   {rego_summary:?}",
                file.display()
            ));
        }
    }
    if !disagreements.is_empty() {
        return Err(format!(
            "regorus and the SOX component disagree on {} of {} golden cases:\n{}",
            disagreements.len(),
            files.len(),
            disagreements.join("\n")
        )
        .into());
    }
    Ok(files.len())
}

// The CLI and the sizes ------------------------------------------------------------------------

/// The release binary next to this bench's directory (`target/release/tollgate`).
fn release_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe.parent()?.parent()?.join("tollgate");
    binary.is_file().then_some(binary)
}

fn cli_rows(root: &Path, table: &mut Table) -> Result<(), BoxError> {
    let Some(binary) = release_binary() else {
        table.missing(
            "`tollgate eval` warm cache / `tollgate --version`",
            "no target/release/tollgate: run `just bench`, or `cargo build --release -p tollgate` first",
        );
        return Ok(());
    };
    let scratch = std::env::temp_dir().join(format!("tollgate-bench-{}", std::process::id()));
    let manifest = root.join(MANIFEST);
    let run = |args: &[&std::ffi::OsStr]| -> Result<Duration, BoxError> {
        let start = Instant::now();
        let output = Command::new(&binary).args(args).output()?;
        let elapsed = start.elapsed();
        // 0 approved, 3 needs approval, 4 denied: a decision was made.
        if !matches!(output.status.code(), Some(0 | 3 | 4)) {
            return Err(format!(
                "`{} {args:?}` failed ({}): {}",
                binary.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(elapsed)
    };
    let eval_with =
        |cache: &Path, policies: Option<&std::ffi::OsStr>| -> Result<Duration, BoxError> {
            let mut args: Vec<&std::ffi::OsStr> = vec![
                "eval".as_ref(),
                manifest.as_os_str(),
                "--dry-run".as_ref(),
                "--quiet".as_ref(),
                "--now".as_ref(),
                NOW.as_ref(),
                "--cache-dir".as_ref(),
                cache.as_os_str(),
            ];
            if let Some(policies) = policies {
                args.extend(["--policy".as_ref(), policies]);
            }
            run(&args)
        };
    let eval = |cache: &Path| eval_with(cache, None);
    let runs = 21;
    let warm_cache = scratch.join("warm");
    eval(&warm_cache)?;
    let mut version = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..runs {
        version.push(run(&["--version".as_ref()])?.as_secs_f64());
        warm.push(eval(&warm_cache)?.as_secs_f64());
    }
    let mut cold = Vec::new();
    for i in 0..5 {
        cold.push(eval(&scratch.join(format!("cold-{i}")))?.as_secs_f64());
    }
    // The same packs as component files: nothing precompiled, so an empty cache compiles them all.
    let components = scratch.join("components");
    run(&[
        "policies".as_ref(),
        "--export".as_ref(),
        components.as_os_str(),
    ])?;
    let files = std::ffi::OsString::from(
        ["sox", "hipaa", "pci", "fda"]
            .iter()
            .map(|name| {
                components
                    .join(format!("{name}.wasm"))
                    .display()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(","),
    );
    let mut compiled = Vec::new();
    for i in 0..5 {
        let cache = scratch.join(format!("compile-{i}"));
        compiled.push(eval_with(&cache, Some(&files))?.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&scratch);
    table.value(
        "release binary `tollgate` (MB)",
        kb(usize::try_from(std::fs::metadata(&binary)?.len()).unwrap_or(usize::MAX)) / 1000.0,
        Goal::AtMost(20.0),
    );
    let (version, warm, cold) = (median(version), median(warm), median(cold));
    let compiled = median(compiled);
    println!(
        "\ntollgate --version {:.1} ms, eval --dry-run warm cache {:.1} ms, empty cache {:.0} ms, \
         empty cache with the packs as component files (compiled) {:.0} ms (medians)",
        version * 1e3,
        warm * 1e3,
        cold * 1e3,
        compiled * 1e3
    );
    table.ratio(
        "`tollgate eval` warm cache / `tollgate --version`",
        warm / version,
        Goal::AtMost(2.0),
    );
    table.value(
        "`tollgate eval` empty cache, built-in packs (s)",
        cold,
        Goal::AtMost(0.5),
    );
    table.value(
        "`tollgate eval` empty cache, the built-in packs as component files compiled in parallel (s)",
        compiled,
        Goal::AtMost(0.5),
    );
    Ok(())
}

fn size_rows(root: &Path, table: &mut Table) {
    for name in POLICIES {
        if let Some(pack) = builtin_pack(name) {
            let row = format!("component `{name}` (KB)");
            table.value(&row, kb(pack.bytes.len()), Goal::AtMost(150.0));
        }
    }
    for module in opa_modules() {
        let row = format!("OPA module `{}` (KB)", module.name);
        table.value(&row, kb(module.bytes.len()), Goal::AtMost(100.0));
    }
    let web = root.join("web/pkg/tollgate_browser_bg.wasm");
    match std::fs::metadata(&web) {
        Ok(meta) => table.value(
            "browser preview wasm (KB)",
            kb(usize::try_from(meta.len()).unwrap_or(usize::MAX)),
            Goal::AtMost(500.0),
        ),
        Err(_) => table.missing(
            "browser preview wasm (KB)",
            "web/pkg not built: run `just web`",
        ),
    }
}

/// Kilobytes (1000 bytes); sizes are far below 2^52, so the conversion is exact.
fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1000.0
}

/// A goal of the table.
#[derive(Clone, Copy)]
enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

/// The printed table: metric, measured value, goal, met.
#[derive(Default)]
struct Table(Vec<[String; 4]>);

impl Table {
    fn ratio(&mut self, metric: &str, value: f64, goal: Goal) {
        self.row(metric, format!("{value:.2}×"), value, goal, "×");
    }

    fn value(&mut self, metric: &str, value: f64, goal: Goal) {
        self.row(metric, format!("{value:.2}"), value, goal, "");
    }

    fn row(&mut self, metric: &str, shown: String, value: f64, goal: Goal, unit: &str) {
        let (goal, met) = match goal {
            Goal::AtMost(limit) => (format!("≤ {limit}{unit}"), value <= limit),
            Goal::AtLeast(limit) => (format!("≥ {limit}{unit}"), value >= limit),
        };
        let met = if met { "yes" } else { "no" };
        self.0
            .push([metric.to_owned(), shown, goal, met.to_owned()]);
    }

    fn missing(&mut self, metric: &str, why: &str) {
        self.0.push([
            metric.to_owned(),
            why.to_owned(),
            String::new(),
            "-".to_owned(),
        ]);
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "| metric | measured | goal | met |")?;
        writeln!(f, "|---|---|---|---|")?;
        for [metric, value, goal, met] in &self.0 {
            writeln!(f, "| {metric} | {value} | {goal} | {met} |")?;
        }
        Ok(())
    }
}
