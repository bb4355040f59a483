//! What a decision is made from: manifests (files, directories, standard input), the settings file
//! and the waivers, read bounded and checked before any policy runs. A refused input comes with
//! the rejection to put on record.

use std::io::Read;
use std::path::{Path, PathBuf};

use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{InputError, InputSource, PipelineOptions, Rejection, Submission};
use tollgate_waivers::WaiverSet;

use crate::RuntimeError;

/// An input refused before any decision: the rejection to put on record, and why.
#[derive(Debug)]
pub struct Refusal {
    /// The rejection (its exit code is set by the caller).
    pub rejection: Rejection,
    /// The error.
    pub error: RuntimeError,
}

impl Refusal {
    fn of(
        source: InputSource,
        path: &str,
        text: Option<String>,
        now: Timestamp,
        error: RuntimeError,
    ) -> Box<Self> {
        let input = InputError::new(source, error_chain(&error));
        let rejection = Rejection::of_input(&input, path, text, now, 0);
        Box::new(Self { rejection, error })
    }
}

/// An error and its sources, `: `-separated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The manifest files named by the arguments: files as given, directories searched recursively
/// for `*.yaml`, `*.yml` and `*.json` (sorted, hidden entries skipped), `-` for standard input.
/// A directory's document without a top-level `change` is skipped with a note on standard error.
pub fn manifest_paths(arguments: &[String]) -> Result<Vec<String>, RuntimeError> {
    let mut paths = Vec::new();
    for argument in arguments {
        let path = Path::new(argument);
        if argument != "-" && path.is_dir() {
            let before = paths.len();
            collect_manifests(path, &mut paths)?;
            if paths.len() == before {
                return Err(RuntimeError::NoManifests(argument.clone()));
            }
        } else {
            paths.push(argument.clone());
        }
    }
    if paths.iter().filter(|p| *p == "-").count() > 1 {
        return Err(RuntimeError::StdinTwice);
    }
    Ok(paths)
}

fn collect_manifests(dir: &Path, paths: &mut Vec<String>) -> Result<(), RuntimeError> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|source| RuntimeError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_manifests(&path, paths)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "json"].contains(&e.to_ascii_lowercase().as_str()))
        {
            if is_change_manifest(&path) {
                paths.push(path.display().to_string());
            } else {
                eprintln!(
                    "note: skipped `{}`: not a change manifest (no top-level `change`)",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// False only for a document that reads as YAML or JSON and is not a mapping with `change`: a
/// file that cannot be read or parsed is refused later as invalid, never silently left out.
fn is_change_manifest(path: &Path) -> bool {
    let Ok(text) = read_text(path, "manifest") else {
        return true;
    };
    match tollgate_manifest::decode::<serde_json::Value>(&text, Format::detect(Some(path), &text)) {
        Ok(value) => value.get("change").is_some(),
        Err(_) => true,
    }
}

/// Reads and parses one manifest (`-`: standard input); a refusal comes with its rejection.
pub fn submission(argument: &str, now: Timestamp) -> Result<Submission, Box<Refusal>> {
    let (manifest_path, text) = read_manifest(argument)
        .map_err(|error| Refusal::of(InputSource::Manifest, argument, None, now, error))?;
    let format = Format::detect(manifest_path.as_deref(), &text);
    let label = if argument == "-" {
        "on standard input".to_owned()
    } else {
        format!("`{argument}`")
    };
    Submission::parse(
        argument,
        &format!("manifest {label}"),
        text.clone(),
        format,
        now,
    )
    .map_err(|e| {
        let rejection = Rejection::of_input(&e, argument, Some(text), now, 0);
        Box::new(Refusal {
            rejection,
            error: e.into(),
        })
    })
}

/// Reads the manifest text; the path is `None` for standard input.
fn read_manifest(arg: &str) -> Result<(Option<PathBuf>, String), RuntimeError> {
    if arg == "-" {
        let text = read_bounded(std::io::stdin().lock(), "the manifest on standard input")?;
        return Ok((None, text));
    }
    let path = PathBuf::from(arg);
    let text = read_text(&path, "manifest")?;
    Ok((Some(path), text))
}

/// Reads a text file of at most [`tollgate_manifest::MAX_DOCUMENT_BYTES`]; `what` names it.
pub fn read_text(path: &Path, what: &str) -> Result<String, RuntimeError> {
    let what = format!("{what} `{}`", path.display());
    let file = std::fs::File::open(path).map_err(|source| RuntimeError::Read {
        what: what.clone(),
        source,
    })?;
    read_bounded(file, &what)
}

/// Reads at most [`tollgate_manifest::MAX_DOCUMENT_BYTES`] of UTF-8 text: a larger input is
/// rejected without being held in memory.
fn read_bounded(reader: impl Read, what: &str) -> Result<String, RuntimeError> {
    let limit = tollgate_manifest::MAX_DOCUMENT_BYTES;
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| RuntimeError::Read {
            what: what.to_owned(),
            source,
        })?;
    if bytes.len() > limit {
        return Err(RuntimeError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|source| RuntimeError::NotUtf8 {
        what: what.to_owned(),
        source,
    })
}

/// Reads the waivers file, if any. An unreadable or unparsable file is an error; single
/// malformed waivers are not (they are reported and never apply).
pub fn load_waivers(path: Option<&Path>) -> Result<Option<WaiverSet>, RuntimeError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|source| RuntimeError::Read {
        what: format!("waivers `{}`", path.display()),
        source,
    })?;
    Ok(Some(WaiverSet::parse(&text, &path.display().to_string())?))
}

/// Where the options of a pipeline come from.
#[derive(Debug, Clone, Default)]
pub struct OptionFiles {
    /// The settings file: a mapping from policy id to that policy's settings.
    pub settings: Option<PathBuf>,
    /// The waivers file.
    pub waivers: Option<PathBuf>,
    /// The service being deployed, matched against a waiver's `scope.service`.
    pub service: Option<String>,
}

/// Pipeline options and the settings input (path and text) they came from.
pub type Options = (PipelineOptions, Option<(String, String)>);

impl OptionFiles {
    /// Reads and checks the settings and the waivers before any policy runs, with the path and
    /// text of the settings (to put a later rejection of them on record).
    pub fn read(&self, now: Timestamp) -> Result<Options, Box<Refusal>> {
        let (settings, settings_input) = match &self.settings {
            None => (None, None),
            Some(path) => {
                let shown = path.display().to_string();
                let text = read_text(path, "settings").map_err(|error| {
                    Refusal::of(InputSource::Settings, &shown, None, now, error)
                })?;
                let document = tollgate_pipeline::parse_settings(
                    &text,
                    &format!("settings file `{shown}`"),
                    Format::detect(Some(path), &text),
                )
                .map_err(|e| {
                    let rejection =
                        Rejection::of_input(&e, shown.clone(), Some(text.clone()), now, 0);
                    Box::new(Refusal {
                        rejection,
                        error: e.into(),
                    })
                })?;
                (Some(document), Some((shown, text)))
            }
        };
        let waivers = load_waivers(self.waivers.as_deref()).map_err(|error| {
            let path = self.waivers.clone().unwrap_or_default();
            let text = std::fs::read_to_string(&path).ok();
            Refusal::of(
                InputSource::Waivers,
                &path.display().to_string(),
                text,
                now,
                error,
            )
        })?;
        let options = PipelineOptions {
            settings,
            waivers,
            waivers_file: self.waivers.as_ref().map(|p| p.display().to_string()),
            service: self.service.clone(),
        };
        Ok((options, settings_input))
    }
}

/// The rejection of a policy set refused before any decision: of its failed policies, else of
/// the settings it was given, else of the options.
pub fn refused_set(
    error: &tollgate_pipeline::DecideError,
    settings_input: Option<(String, String)>,
    now: Timestamp,
) -> Rejection {
    let (path, text) = match (error, settings_input) {
        (tollgate_pipeline::DecideError::Policies { failures, .. }, _) => (
            failures
                .iter()
                .map(|f| f.policy.as_str())
                .collect::<Vec<_>>()
                .join(","),
            None,
        ),
        (_, Some((path, text))) => (path, Some(text)),
        (_, None) => ("options".to_owned(), None),
    };
    Rejection::of_error(error, path, text, now, 0)
}

/// Puts attempts refused before any decision on record with `exit_code`; a record that cannot be
/// written is a warning on standard error (the refusal stands either way).
pub fn record_refused(
    recorder: &dyn tollgate_pipeline::Recorder,
    rejections: impl IntoIterator<Item = Rejection>,
    exit_code: u8,
) {
    for mut rejection in rejections {
        rejection.exit_code = exit_code;
        if let Err(error) = recorder.record_rejected(&rejection) {
            eprintln!("warning: the rejected attempt could not be recorded: {error}");
        }
    }
}
