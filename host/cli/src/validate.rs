//! `tollgate validate FILE…`: checks manifests, settings, waivers and configuration files without
//! deciding anything. The kind of each file is detected from its content (or given with `--kind`);
//! every problem names the field and line.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use tollgate_manifest::{Format, Manifest};
use tollgate_pipeline::{PipelineOptions, exit};

use crate::{CacheArgs, Failure, OutputFormat, eval, render};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileKind {
    /// A change manifest (top-level `change`).
    Manifest,
    /// A settings file: policy id (or `defaults`) → settings.
    Settings,
    /// A waivers file (top-level `waivers`).
    Waivers,
    /// `.tollgate/config.yaml` (top-level `audit`).
    Config,
    /// `tollgate.toml`: path rules of `tollgate manifest`.
    PathRules,
    /// A change ticket exported from the ticket system (`tollgate manifest --ticket`).
    Ticket,
}

/// Arguments of `tollgate validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Files to check.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The kind of every file [default: detected from each file's content].
    #[arg(long, value_enum, ignore_case = true)]
    kind: Option<FileKind>,
    /// Policies whose settings are checked (settings files): built-in names or component paths
    /// [default: the built-in policies].
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    cache: CacheArgs,
}

/// The verdict on one file.
#[derive(Debug, Serialize)]
struct Checked {
    file: String,
    kind: Option<FileKind>,
    valid: bool,
    problems: Vec<String>,
}

/// Runs `tollgate validate`: exit 0 when every file is valid, 2 otherwise.
pub(crate) fn run(args: &ValidateArgs) -> Result<u8, Failure> {
    let mut results = Vec::new();
    for path in &args.files {
        results.push(check(args, path));
    }
    match args.format {
        OutputFormat::Json => {
            let text =
                serde_json::to_string_pretty(&results).map_err(|e| Failure::Internal(e.into()))?;
            render::emit(&(text + "\n"));
        }
        OutputFormat::Text => {
            let mut text = String::new();
            for result in &results {
                let kind = result.kind.map_or("file", kind_name);
                if result.valid {
                    text.push_str(&format!("{}: valid {kind}\n", result.file));
                } else {
                    for problem in &result.problems {
                        text.push_str(&format!("{}: invalid {kind}: {problem}\n", result.file));
                    }
                }
            }
            render::emit(&text);
        }
    }
    Ok(if results.iter().all(|r| r.valid) {
        exit::APPROVED
    } else {
        exit::INVALID_INPUT
    })
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Manifest => "manifest",
        FileKind::Settings => "settings",
        FileKind::Waivers => "waivers",
        FileKind::Config => "configuration",
        FileKind::PathRules => "path rules",
        FileKind::Ticket => "ticket",
    }
}

fn check(args: &ValidateArgs, path: &Path) -> Checked {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return Checked {
                file,
                kind: args.kind,
                valid: false,
                problems: vec![format!("cannot be read: {e}")],
            };
        }
    };
    let kind = args.kind.or_else(|| detect(path, &text));
    let problems = match kind {
        None => vec![
            "not recognised: a manifest has `change`, waivers have `waivers`, a configuration has `audit`, a ticket has `id` and `status`; pass `--kind`".to_owned(),
        ],
        Some(kind) => problems(args, kind, path, &text),
    };
    Checked {
        file,
        kind,
        valid: problems.is_empty(),
        problems,
    }
}

/// The kind of a file from its name and top-level keys.
fn detect(path: &Path, text: &str) -> Option<FileKind> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        return Some(FileKind::PathRules);
    }
    let value: serde_json::Value =
        tollgate_manifest::decode(text, Format::detect(Some(path), text)).ok()?;
    let object = value.as_object()?;
    if object.contains_key("change") {
        Some(FileKind::Manifest)
    } else if object.contains_key("waivers") {
        Some(FileKind::Waivers)
    } else if object.contains_key("audit") {
        Some(FileKind::Config)
    } else if object.contains_key("status") && object.contains_key("id") {
        Some(FileKind::Ticket)
    } else {
        Some(FileKind::Settings)
    }
}

fn problems(args: &ValidateArgs, kind: FileKind, path: &Path, text: &str) -> Vec<String> {
    let origin = path.display().to_string();
    let format = Format::detect(Some(path), text);
    match kind {
        FileKind::Manifest => Manifest::from_text(text, format)
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect(),
        FileKind::Waivers => match tollgate_waivers::WaiverSet::parse(text, &origin) {
            Err(e) => vec![e.to_string()],
            Ok(set) => set.problems.iter().map(ToString::to_string).collect(),
        },
        FileKind::Config => tollgate_manifest::decode::<tollgate_audit::ConfigFile>(text, format)
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect(),
        FileKind::PathRules => tollgate_gather::Config::from_toml(text, &origin)
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect(),
        FileKind::Ticket => tollgate_gather::Ticket::parse(text, &origin)
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect(),
        FileKind::Settings => settings_problems(args, &origin, text, format),
    }
}

/// Settings are checked by the policies themselves, as `tollgate eval` would before deciding.
fn settings_problems(args: &ValidateArgs, origin: &str, text: &str, format: Format) -> Vec<String> {
    let settings = match tollgate_pipeline::parse_settings(text, "settings", format) {
        Ok(settings) => settings,
        Err(e) => return vec![e.to_string()],
    };
    let checked = eval::policy_sources(&args.policies)
        .and_then(|sources| Ok((sources, args.cache.engine()?)))
        .and_then(|(sources, engine)| {
            let options = PipelineOptions {
                settings: Some(settings),
                ..PipelineOptions::default()
            };
            eval::load_pipeline(
                &engine,
                sources,
                options,
                &crate::policy_trust::Trust::default(),
            )
        });
    match checked {
        Ok(pipeline) => pipeline
            .failures()
            .iter()
            .map(|f| format!("cannot be checked: {f}"))
            .collect(),
        Err(failure) => {
            vec![format!("{:#}", failure.error()).replace('\n', &format!("\n{origin}: "))]
        }
    }
}
