//! `tollgate validate FILE…`: checks manifests, settings, waivers and configuration files without
//! deciding anything. The kind of each file is detected from its content (or given with `--kind`);
//! every problem names the field and line.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tollgate_pipeline::{PipelineOptions, SettingsDocument, exit};
use tollgate_runtime::{FileKind, kind_name};

use crate::common::{CacheArgs, Failure, OutputFormat, emit, pretty};

/// Arguments of `tollgate validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Files to check.
    #[arg(value_name = "FILE", required_unless_present = "merge")]
    files: Vec<PathBuf>,
    /// A partial, hand-written manifest, checked the way `tollgate manifest --merge` uses it: a
    /// mapping without `provenance` whose every field is a valid manifest field (the fields it
    /// leaves out are gathered); repeatable.
    #[arg(long = "merge", value_name = "PARTIAL")]
    merge: Vec<PathBuf>,
    /// The kind of every file [default: detected from each file's content].
    #[arg(long, value_enum, ignore_case = true)]
    kind: Option<KindArg>,
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

/// Runs `tollgate validate`: exit 0 when every file is valid, 2 otherwise.
pub(crate) fn run(args: &ValidateArgs) -> Result<u8, Failure> {
    let kind = args.kind.map(FileKind::from);
    let settings = |origin: &str, document| settings_problems(args, origin, document);
    let mut results = Vec::new();
    for path in &args.files {
        results.push(tollgate_runtime::check(path, kind, &settings));
    }
    for path in &args.merge {
        results.push(tollgate_runtime::check_partial(path));
    }
    match args.format {
        OutputFormat::Json => {
            emit(&pretty(&results)?);
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
            emit(&text);
        }
    }
    Ok(if results.iter().all(|r| r.valid) {
        exit::APPROVED
    } else {
        exit::INVALID_INPUT
    })
}

/// Settings are checked by the policies themselves, as `tollgate eval` would before deciding.
fn settings_problems(args: &ValidateArgs, origin: &str, settings: SettingsDocument) -> Vec<String> {
    let checked = tollgate_runtime::policy_sources(&args.policies)
        .map_err(Failure::from)
        .and_then(|sources| Ok((sources, args.cache.engine()?)))
        .and_then(|(sources, engine)| {
            let options = PipelineOptions {
                settings: Some(settings),
                ..PipelineOptions::default()
            };
            Ok(tollgate_runtime::load_pipeline(
                &engine,
                sources,
                options,
                &tollgate_runtime::Trust::default(),
            )?)
        });
    match checked {
        Ok(pipeline) => pipeline
            .failures()
            .iter()
            .map(|f| format!("cannot be checked: {f}"))
            .collect(),
        Err(failure) => {
            vec![failure.text().replace('\n', &format!("\n{origin}: "))]
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArg {
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
    /// A partial manifest for `tollgate manifest --merge` (`tollgate validate --merge FILE`).
    Partial,
}

impl From<KindArg> for FileKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Manifest => Self::Manifest,
            KindArg::Settings => Self::Settings,
            KindArg::Waivers => Self::Waivers,
            KindArg::Config => Self::Config,
            KindArg::PathRules => Self::PathRules,
            KindArg::Ticket => Self::Ticket,
            KindArg::Partial => Self::Partial,
        }
    }
}
