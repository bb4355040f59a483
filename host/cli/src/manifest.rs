//! `tollgate manifest`: gathers a change manifest from git, the CI environment, test and scan
//! reports, a change ticket (a file, or Jira or ServiceNow) and a partial hand-written manifest
//! (`tollgate-gather`).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use tollgate_gather::{
    CONFIG_FILE, CiContext, CiSystem, Config, GatherError, GatherRequest, JunitInput,
    OutputFormat as Syntax, Overrides, TicketEnvironment, TicketRef, gather,
};
use tollgate_manifest::DataClass;
use tollgate_pipeline::exit;

use crate::common::{Failure, check_output, emit, write_output};

/// Arguments of `tollgate manifest`.
#[derive(Debug, Args)]
pub(crate) struct ManifestArgs {
    /// The git repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// Base revision; the change runs from the merge base of BASE and HEAD to HEAD [default: the
    /// CI system's merge-request target or previous commit].
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Head revision [default: the CI system's commit, else `HEAD`].
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// Project configuration: path rules, JUnit suite kinds, sensitive-data scan, identities
    /// [default: `tollgate.toml` in the repository, if present, else built-in rules].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// CI system whose environment variables give the pipeline id, commit, deployer, branch and
    /// base.
    #[arg(long, value_enum, ignore_case = true, default_value_t = CiChoice::Auto)]
    ci: CiChoice,
    /// A JUnit XML report; `KIND=FILE` sets the suite kind (`unit`, `integration`, ...), otherwise
    /// it comes from the `[junit.suites]` mapping. Repeatable.
    #[arg(long, value_name = "[KIND=]FILE")]
    junit: Vec<String>,
    /// A SARIF 2.1.0 log of a security scanner. Repeatable.
    #[arg(long, value_name = "FILE")]
    sarif: Vec<PathBuf>,
    /// The change ticket: `jira:KEY` or `servicenow:NUMBER` reads it from the system (URL from
    /// `TOLLGATE_JIRA_URL`/`TOLLGATE_SERVICENOW_URL` or `[tickets]` of tollgate.toml, credentials
    /// from the environment); a path reads a ticket file (JSON or YAML).
    #[arg(long, value_name = "FILE|jira:KEY|servicenow:NUMBER")]
    ticket: Option<String>,
    /// A Terraform plan as `terraform show -json plan.out` writes it: the resources it changes,
    /// their change-tracking tags, audit trails and data stores. Repeatable.
    #[arg(long, value_name = "FILE")]
    terraform_plan: Vec<PathBuf>,
    /// A partial hand-written manifest merged over the gathered facts; its values win. Repeatable:
    /// files merge in order, a later one winning (an extension namespace merges key by key, so
    /// each file may add facts of its own to it).
    #[arg(long = "merge", value_name = "FILE")]
    merge: Vec<PathBuf>,
    /// `change.id` (default: the ticket's, else the merge or pull request `MR-42`/`PR-17`, else the head commit SHA).
    #[arg(long, value_name = "ID")]
    change_id: Option<String>,
    /// `change.title` (default: ticket, merge-request title, or head commit subject).
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// `change.author` (default: the head commit's author, per `[identity]`).
    #[arg(long, value_name = "ID")]
    author: Option<String>,
    /// `change.deployer` (default: the CI actor).
    #[arg(long, value_name = "ID")]
    deployer: Option<String>,
    /// A directory group of the deployer. Repeatable.
    #[arg(long = "deployer-group", value_name = "GROUP")]
    deployer_groups: Vec<String>,
    /// `change.environment` (default: the CI environment, else `production`).
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    /// `change.pipeline_id` (default: the CI pipeline id).
    #[arg(long, value_name = "ID")]
    pipeline_id: Option<String>,
    /// A data class the change affects (`phi`, `cardholder_data`, `financial_reporting`, `pii`,
    /// `gxp`). Repeatable; detected sensitive data and `[data_classes]` path rules add theirs too.
    #[arg(long = "data-class", value_name = "CLASS", value_parser = data_class)]
    data_classes: Vec<DataClass>,
    /// Marks the change as an emergency change.
    #[arg(long)]
    emergency: bool,
    /// Output syntax.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ManifestFormat::Yaml)]
    format: ManifestFormat,
    /// Writes the manifest to FILE (atomically; `-`: standard output; a device or FIFO is written
    /// in place) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Writes where each field came from, the masked sensitive-data detections and notes (JSON).
    #[arg(long, value_name = "FILE")]
    provenance: Option<PathBuf>,
}

/// Which CI system's variables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CiChoice {
    /// Detect GitLab CI, GitHub Actions or Jenkins from the environment.
    Auto,
    /// GitLab CI/CD.
    Gitlab,
    /// GitHub Actions.
    Github,
    /// Jenkins.
    Jenkins,
    /// Read no CI variables.
    None,
}

/// Output syntax of the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ManifestFormat {
    /// YAML, with the field sources as leading comments.
    Yaml,
    /// JSON.
    Json,
}

fn data_class(text: &str) -> anyhow::Result<DataClass> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        anyhow!("`{text}` is not a data class (phi, cardholder_data, financial_reporting, pii)")
    })
}

fn gather_failure(error: GatherError) -> Failure {
    match error {
        GatherError::Internal(_) => Failure::Internal(anyhow!(error)),
        other => Failure::Invalid(anyhow!(other)),
    }
}

pub(crate) fn run(args: &ManifestArgs) -> Result<u8, Failure> {
    for (flag, path) in [
        ("--output", &args.output),
        ("--provenance", &args.provenance),
    ] {
        if let Some(path) = path {
            check_output(path, &format!("`{flag} {}`", path.display()))?;
        }
    }
    let (config, config_path) = load_config(args.config.as_deref(), &args.repo)?;
    let (ticket, live_ticket) = match args.ticket.as_deref() {
        None => (None, None),
        // An existing file wins, so that a file named `jira:x` stays readable.
        Some(text) if Path::new(text).exists() => (Some(PathBuf::from(text)), None),
        Some(text) => match TicketRef::parse(text) {
            Some(reference) => (
                None,
                Some(reference.map_err(|e| gather_failure(GatherError::from(e)))?),
            ),
            None => (Some(PathBuf::from(text)), None),
        },
    };
    let ci = match args.ci {
        CiChoice::Auto => CiContext::from_process_env(None),
        CiChoice::Gitlab => CiContext::from_process_env(Some(CiSystem::Gitlab)),
        CiChoice::Github => CiContext::from_process_env(Some(CiSystem::Github)),
        CiChoice::Jenkins => CiContext::from_process_env(Some(CiSystem::Jenkins)),
        CiChoice::None => CiContext::default(),
    };
    let request = GatherRequest {
        repo: args.repo.clone(),
        base: args.base.clone(),
        head: args.head.clone(),
        config,
        ci,
        junit: args
            .junit
            .iter()
            .map(|a| JunitInput::parse_arg(a))
            .collect(),
        sarif: args.sarif.clone(),
        ticket,
        live_ticket,
        ticket_environment: TicketEnvironment::from_process_env(),
        config_path,
        terraform_plans: args.terraform_plan.clone(),
        partial: args.merge.clone(),
        overrides: Overrides {
            change_id: args.change_id.clone(),
            title: args.title.clone(),
            author: args.author.clone(),
            deployer: args.deployer.clone(),
            deployer_groups: args.deployer_groups.clone(),
            environment: args.environment.clone(),
            pipeline_id: args.pipeline_id.clone(),
            data_classes: args.data_classes.clone(),
            emergency: args.emergency.then_some(true),
        },
    };
    let gathered = gather(&request).map_err(gather_failure)?;
    let syntax = match args.format {
        ManifestFormat::Yaml => Syntax::Yaml,
        ManifestFormat::Json => Syntax::Json,
    };
    let text = gathered.render(syntax).map_err(gather_failure)?;

    for note in &gathered.notes {
        eprintln!("note: {note}");
    }
    const SHOWN: usize = 20;
    for detection in gathered.detections.iter().take(SHOWN) {
        eprintln!(
            "note: sensitive data ({}) at {}: {}",
            serde_json::to_value(detection.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            detection.location(),
            detection.masked
        );
    }
    if gathered.detections.len() > SHOWN {
        eprintln!(
            "note: ... and {} more sensitive-data finding(s) (all are in the manifest)",
            gathered.detections.len() - SHOWN
        );
    }
    if let Some(path) = &args.provenance {
        write_output(path, gathered.provenance_json().as_bytes())?;
    }
    match &args.output {
        Some(path) => write_output(path, text.as_bytes())?,
        None => emit(&text),
    }
    Ok(exit::APPROVED)
}

/// The configuration and its file: `--config`, else `tollgate.toml` in the repository, else
/// built-in rules.
fn load_config(path: Option<&Path>, repo: &Path) -> Result<(Config, Option<PathBuf>), Failure> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => {
            let default = repo.join(CONFIG_FILE);
            if !default.is_file() {
                return Ok((Config::default(), None));
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read config `{}`", path.display()))
        .map_err(Failure::Invalid)?;
    let config = Config::from_toml(&text, &path.display().to_string()).map_err(gather_failure)?;
    Ok((config, Some(path)))
}
