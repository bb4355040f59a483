//! The decision log read for people and scripts: verification, one record with its inclusion
//! proof, listings, and signed checkpoints of a verified log.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tollgate_decision_log::describe;
use tollgate_decision_log::verify::LoggedRecord;
use tollgate_decision_log::{Checkpoint, Filter, Project, Writers};

use crate::{RuntimeError, print_problems, read_log};

/// A description of the log: its JSON document, its text, and whether the log is intact.
#[derive(Debug)]
pub struct Described {
    /// The JSON document.
    pub json: Value,
    /// The text.
    pub text: String,
    /// Whether the log verifies.
    pub intact: bool,
}

/// Verifies the log with its writers' seals (`writers` besides `audit.writers`, `seals_from`
/// overriding `audit.seals_from`) and, when given, that it extends a signed checkpoint.
pub fn verify(
    project: &Project,
    checkpoint: Option<&Path>,
    public_key: Option<&Path>,
    writers: &[PathBuf],
    seals_from: Option<u64>,
) -> Result<Described, RuntimeError> {
    let writers = Writers::of_project(project, writers, seals_from)?;
    let loaded = checkpoint
        .map(|path| project.load_checkpoint(path, public_key))
        .transpose()?;
    let verification =
        crate::read_verified(project, loaded.as_ref().map(|(c, _)| c), writers.as_ref())?;
    let key = loaded.as_ref().map(|(_, k)| k.name());
    Ok(Described {
        json: describe::verification_json(&verification, &project.log_location(), key),
        text: describe::verification_text(&verification, key),
        intact: verification.is_intact(),
    })
}

/// One record (by id, or `#N` for sequence number N) with its Merkle inclusion proof.
pub fn show(project: &Project, id: &str) -> Result<Described, RuntimeError> {
    let verification = read_log(project)?;
    let logged = describe::find(&verification, id).ok_or_else(|| RuntimeError::NoRecord {
        id: id.to_owned(),
        location: project.log_location(),
    })?;
    let (json, text) = describe::show(&verification, logged);
    Ok(Described {
        json,
        text,
        intact: true,
    })
}

/// The records `filter` selects; a log that fails verification is listed with a warning.
pub fn list(project: &Project, filter: &Filter) -> Result<Described, RuntimeError> {
    let verification = read_log(project)?;
    if !verification.is_intact() {
        print_problems(&verification);
        eprintln!(
            "warning: the audit log `{}` fails verification; run `tollgate audit verify`",
            project.log_location()
        );
    }
    let selected: Vec<&LoggedRecord> = verification
        .records
        .iter()
        .filter(|r| filter.matches(&r.record))
        .collect();
    Ok(Described {
        json: describe::list_json(&selected),
        // No record selected: nothing, not even the header.
        text: describe::list_table(&selected),
        intact: verification.is_intact(),
    })
}

/// A signed checkpoint of the verified log, with `key` (else the configured one) and `origin`
/// (else the configured one, else the key's name): the note and the log's size.
pub fn sign_checkpoint(
    project: &Project,
    key: Option<&Path>,
    origin: Option<&str>,
) -> Result<(String, u64), RuntimeError> {
    let key = project.signing_key(key)?;
    let verification = read_log(project)?;
    if !verification.is_intact() {
        print_problems(&verification);
        return Err(RuntimeError::Unverified {
            action: "sign a checkpoint of",
            location: project.log_location(),
        });
    }
    let origin = origin
        .map(str::to_owned)
        .or_else(|| project.config.origin.clone())
        .unwrap_or_else(|| key.name().to_owned());
    let note = key.sign(&Checkpoint {
        origin,
        size: verification.size(),
        root: verification.root,
    });
    Ok((note, verification.size()))
}
