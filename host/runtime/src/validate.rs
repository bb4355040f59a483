//! Checking manifests, settings, waivers, configuration, path rules, tickets and partial
//! manifests without deciding anything: the kind of each file from its content (or given), every
//! problem with its field and line.

use std::path::Path;

use serde::Serialize;
use tollgate_manifest::{Format, Manifest};
use tollgate_pipeline::SettingsDocument;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
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

/// The verdict on one file.
#[derive(Debug, Serialize)]
pub struct Checked {
    /// The file.
    pub file: String,
    /// Its kind, when known.
    pub kind: Option<FileKind>,
    /// Whether it has no problem.
    pub valid: bool,
    /// Its problems.
    pub problems: Vec<String>,
}

/// The kind in words.
pub fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Manifest => "manifest",
        FileKind::Settings => "settings",
        FileKind::Waivers => "waivers",
        FileKind::Config => "configuration",
        FileKind::PathRules => "path rules",
        FileKind::Ticket => "ticket",
        FileKind::Partial => "partial manifest",
    }
}

/// Checks a `--merge` partial manifest.
pub fn check_partial(path: &Path) -> Checked {
    let problems = match std::fs::read_to_string(path) {
        Ok(text) => partial_problems(path, &text),
        Err(e) => vec![format!("cannot be read: {e}")],
    };
    Checked {
        file: path.display().to_string(),
        kind: Some(FileKind::Partial),
        valid: problems.is_empty(),
        problems,
    }
}

/// Checks one file of `kind` (detected without it); `settings` checks a settings document (of
/// the file it names) with the policies, as `tollgate eval` would before deciding.
pub fn check(
    path: &Path,
    kind: Option<FileKind>,
    settings: &dyn Fn(&str, SettingsDocument) -> Vec<String>,
) -> Checked {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return Checked {
                file,
                kind,
                valid: false,
                problems: vec![format!("cannot be read: {e}")],
            };
        }
    };
    let kind = kind.or_else(|| detect(path, &text));
    let problems = match kind {
        None => vec![
            "not recognised: a manifest has `change`, waivers have `waivers`, a configuration has `audit`, a ticket has `id` and `status`; pass `--kind`".to_owned(),
        ],
        Some(kind) => problems(kind, path, &text, settings),
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

fn problems(
    kind: FileKind,
    path: &Path,
    text: &str,
    settings: &dyn Fn(&str, SettingsDocument) -> Vec<String>,
) -> Vec<String> {
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
        FileKind::Config => {
            tollgate_manifest::decode::<tollgate_decision_log::ConfigFile>(text, format)
                .err()
                .map(|e| e.to_string())
                .into_iter()
                .collect()
        }
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
        FileKind::Settings => match tollgate_pipeline::parse_settings(text, "settings", format) {
            Ok(document) => settings(&origin, document),
            Err(e) => vec![e.to_string()],
        },
        FileKind::Partial => partial_problems(path, text),
    }
}

/// A manifest's required fields, standing in for the facts `tollgate manifest` gathers, so that a
/// partial manifest is checked field by field as it will be merged.
const GATHERED: &str = r#"{"version": 1, "change": {"id": "CHG-0", "title": "gathered",
  "ticket_status": "approved", "author": "gathered-author", "deployer": "gathered-deployer",
  "environment": "gathered"}}"#;

/// The problems of a partial manifest, merged as `tollgate manifest --merge` merges it: a mapping,
/// without `provenance`; `change` and `evidence` merged field by field over the gathered facts (a
/// mapping field key by key), anything else replacing them; the result a valid manifest.
fn partial_problems(path: &Path, text: &str) -> Vec<String> {
    use serde_json::Value;
    let written: Value = match tollgate_manifest::decode(text, Format::detect(Some(path), text)) {
        Ok(value) => value,
        Err(e) => return vec![e.to_string()],
    };
    let Value::Object(written) = written else {
        return vec!["must be a mapping of manifest sections (`change`, `evidence`)".to_owned()];
    };
    if written.contains_key("provenance") {
        return vec![
            "`provenance` is recorded by `tollgate manifest` and cannot be merged in; remove it"
                .to_owned(),
        ];
    }
    let Ok(mut merged) = serde_json::from_str::<Value>(GATHERED) else {
        return vec!["internal error: the gathered stand-in is not JSON".to_owned()];
    };
    for (key, value) in written {
        match (merged.get_mut(&key), value) {
            (Some(Value::Object(section)), Value::Object(fields))
                if key == "change" || key == "evidence" =>
            {
                for (field, value) in fields {
                    match (section.get_mut(&field), value) {
                        (Some(Value::Object(gathered)), Value::Object(written)) => {
                            gathered.extend(written);
                        }
                        (_, value) => {
                            section.insert(field, value);
                        }
                    }
                }
            }
            (_, value) => {
                if let Value::Object(root) = &mut merged {
                    root.insert(key, value);
                }
            }
        }
    }
    // The line of an error would be the stand-in's: the field path names the place.
    match tollgate_manifest::decode_json::<Manifest>(&merged.to_string()) {
        Ok(_) => Vec::new(),
        Err(tollgate_manifest::DocumentError::Invalid {
            path: Some(path),
            message,
            ..
        }) => vec![format!("`{path}`: {message}")],
        Err(tollgate_manifest::DocumentError::Invalid { message, .. }) => vec![message],
        Err(other) => vec![other.to_string()],
    }
}
