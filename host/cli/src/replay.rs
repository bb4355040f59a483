//! `tollgate replay`: the logged decisions of a period re-decided with another policy set,
//! settings and waivers, from the manifests the log holds, and compared with what was recorded
//! (impact analysis). Read-only: the log is verified first and nothing is appended to it.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use tollgate_decision_log::RangeEnd;
use tollgate_decision_log::config::LOG_ENV;
use tollgate_pipeline::{Pipeline, exit};
use tollgate_runtime::{
    FailOn, LogRead, OptionFiles, ReplayError, ReplayReport, Replayer, Selection,
};

use crate::common::{CacheArgs, Failure, TrustArgs, check_output, emit, parse_date, write_output};

/// Exit code when an outcome changed (with `--fail-on looser`, became looser) or a decision could
/// not be replayed: as `tollgate test`'s failed cases, the gate says no.
pub(crate) const CHANGED: u8 = exit::DENIED;

/// Output of `tollgate replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReplayFormat {
    /// Text: the decisions whose outcome or findings changed, then the summary.
    Text,
    /// Every decision replayed, with the summary (JSON).
    Json,
    /// Markdown, for a merge-request comment.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

/// What makes `tollgate replay` exit 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOnArg {
    /// Any outcome that changed, stricter or looser.
    Any,
    /// Only an outcome that became looser: stricter is acceptable.
    Looser,
}

/// Arguments of `tollgate replay`.
#[derive(Debug, Args)]
#[command(
    after_help = "By default each change's latest decision recorded in the period is \
replayed (`--all-decisions`: every decision). Exit codes: 0 no outcome changed, 4 an outcome \
changed (with `--fail-on looser`: became looser) or a decision could not be replayed, 2 invalid \
input, 5 a policy could not be loaded, 6 the log is missing, unreadable or does not verify, 1 \
internal error."
)]
pub(crate) struct ReplayArgs {
    /// Decision log to read: a file or a `postgres://` URL [default: $TOLLGATE_AUDIT_LOG,
    /// `audit.log` in `.tollgate/config.yaml`, else `.tollgate/audit.log` in the project
    /// directory]. It is verified first and never written.
    #[arg(long, visible_alias = "log", value_name = "FILE|URL", env = LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// Decisions recorded at or after (`recorded_at`; `YYYY-MM-DD` or RFC 3339) [default: the
    /// first record].
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Decisions recorded on or before (`YYYY-MM-DD`: through that day; or an RFC 3339 instant,
    /// exclusive) [default: the last record].
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Only this change (repeatable).
    #[arg(long = "change", value_name = "ID")]
    changes: Vec<String>,
    /// Exactly this decision (by id; repeatable), whatever the period.
    #[arg(long = "decision", value_name = "ID", conflicts_with_all = ["from", "to", "changes", "all_decisions"])]
    decisions: Vec<String>,
    /// Every decision in the period, not only each change's latest.
    #[arg(long)]
    all_decisions: bool,
    /// Policies to decide with: built-in names or paths of policy components (`.wasm`);
    /// repeatable or comma-separated [default: the built-in packs, as `tollgate eval`].
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Settings file to decide with [default: none, every policy's defaults, as `tollgate eval`].
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Waivers file to decide with.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// The service being deployed, matched against a waiver's `scope.service`.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ReplayFormat::Text)]
    format: ReplayFormat,
    /// Where to write the output (`-`: standard output) [default: standard output].
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Which changed outcomes make the replay exit 4.
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailOnArg::Any)]
    fail_on: FailOnArg,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    trust: TrustArgs,
}

/// The one mapping of a replay's errors to the CLI.
impl From<ReplayError> for Failure {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::Runtime(error) => error.into(),
            ReplayError::Unverified { .. } => Self::Audit(error.into()),
            ReplayError::PolicyFailed(_) => Self::Policy(error.into()),
            ReplayError::UnknownDecision { .. } => Self::Invalid(error.into()),
        }
    }
}

/// Runs `tollgate replay`.
pub(crate) fn run(args: &ReplayArgs) -> Result<u8, Failure> {
    let from = args
        .from
        .as_deref()
        .map(|text| parse_date(text, "--from", RangeEnd::Start))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|text| parse_date(text, "--to", RangeEnd::End))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(Failure::Invalid(anyhow!(
            "`--to` ({to}) is not after `--from` ({from})"
        )));
    }
    if let Some(path) = &args.output {
        check_output(path, &format!("`--output {}`", path.display()))?;
    }
    // The policy set and its settings are checked before the log is read.
    let files = OptionFiles {
        settings: args.settings.clone(),
        waivers: args.waivers.clone(),
        service: args.service.clone(),
    };
    let (options, _) = files
        .read(tollgate_manifest::Timestamp::now())
        .map_err(|refusal| Failure::from(refusal.error))?;
    let sources = tollgate_runtime::policy_sources(&args.policies)?;
    let trust = args.trust.trust()?;
    let engine = args.cache.engine()?;
    let candidates = tollgate_runtime::candidates(&engine, sources, &trust);
    let pipeline = Pipeline::new(candidates, options).map_err(Failure::from)?;
    let replayer = Replayer::new(pipeline)?;

    let project = tollgate_runtime::discover(args.audit_log.as_deref())?;
    let verification = tollgate_runtime::read_replayable(&project)?;
    let selection = Selection {
        from,
        to,
        changes: args.changes.clone(),
        decisions: args.decisions.clone(),
        all_decisions: args.all_decisions,
    };
    let selected = tollgate_runtime::select(&verification, &selection, &project.log_location())?;
    if selected.is_empty() {
        eprintln!("note: no decision selected: nothing to replay");
    }
    let entries = replayer.replay(&selected);
    let report = ReplayReport::new(
        LogRead::of(&project, &verification),
        &replayer,
        selection,
        &files,
        entries,
    );
    let text = match args.format {
        ReplayFormat::Text => tollgate_runtime::replay_text(&report),
        ReplayFormat::Json => report.to_json()?,
        ReplayFormat::Markdown => tollgate_runtime::replay_markdown(&report),
        ReplayFormat::Html => tollgate_runtime::replay_html(&report),
    };
    match &args.output {
        Some(path) => write_output(path, text.as_bytes())?,
        None => emit(&text),
    }
    let fail_on = match args.fail_on {
        FailOnArg::Any => FailOn::Any,
        FailOnArg::Looser => FailOn::Looser,
    };
    Ok(if report.fails(fail_on) {
        CHANGED
    } else {
        exit::APPROVED
    })
}
