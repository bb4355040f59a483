//! Tollgate's host library: from policy sources (built-in names or component paths), the trust
//! of policy components, the engine, settings and waivers to a [`tollgate_pipeline::Gate`] with
//! its recorder (a file decision log or PostgreSQL, the writer's seal key, masks), and the
//! decision log's other writers and readers: marks, direct production changes, the probe,
//! automatic checkpoints, verified reads and copies. The CLI, the gateway's server command and
//! embedders call it; it knows nothing of command lines or HTTP.

mod bench;
mod cases;
mod checkpoints;
mod componentize;
mod crosswalk;
mod describe;
mod error;
mod gate;
mod inputs;
mod inspect;
mod limits;
mod log;
mod opa_bundle;
mod outputs;
mod policies;
mod project_policies;
mod replay;
mod scaffold;
mod serving;
mod trust;
mod validate;

pub use bench::{Bench, Timing, read_manifest, read_settings, timings_text};
pub use cases::{CaseResult, CaseRun, run_cases};
pub use checkpoints::{Checkpointer, DEFAULT_EVERY, DEFAULT_INTERVAL, Job, Schedule};
pub use componentize::componentize;
pub use crosswalk::{DEFAULT_CROSSWALK, crosswalk_for, load_crosswalk};
pub use describe::{Described, list, show, sign_checkpoint, verify as verify_log};
pub use error::RuntimeError;
pub use gate::GateLoader;
pub use inputs::{
    OptionFiles, Options, Refusal, error_chain, load_waivers, manifest_paths, read_text,
    record_refused, refused_set, submission,
};
pub use inspect::{Inspection, OpaInspection};
pub use limits::EngineConfig;
pub use log::{
    Copied, Marked, PRODUCTION_ENVIRONMENT, RecorderOptions, WRITER_KEY_ENV, Written, append,
    append_mark, copy_log, direct_changes, discover, open_database, open_location, print_problems,
    probe, read_log, read_verified, sealer,
};
pub use opa_bundle::{ENTRYPOINTS, builtin_bundle, bundle, manifest as bundle_manifest};
pub use outputs::{append_text, json_value, record_line, render, strictest, summary_line};
pub use policies::{
    builtin_catalogues, candidates, load, load_pipeline, policy_source, policy_sources,
};
pub use replay::{
    Classification, FailOn, FailureChange, FindingChange, LogRead, PolicyUsed, ReplayError,
    ReplayReport, Replayed, Replayer, Selected, Selection, Summary, html as replay_html,
    markdown as replay_markdown, read_replayable, select, text as replay_text,
};
pub use scaffold::{Language, SDK_GIT, Scaffolded, Sdk, check_policy_name, new_policy};
pub use serving::{LogAccess, LogMarker, read_tokens, serve};
pub use trust::{Trust, read_public_key, signature_path, subject, verify, write_policy_keys};
pub use validate::{Checked, FileKind, check, check_partial, kind_name};
