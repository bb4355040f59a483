//! Attempts refused before any decision (an invalid manifest, invalid settings, a refused policy):
//! they decide nothing, but the gate's recorder keeps them, so repeated attempts to push a
//! malformed or tampered manifest are visible in the decision log.

use tollgate_manifest::Timestamp;

use crate::{Actor, DecideError, InputError, InputSource};

/// Which input made an attempt fail before any decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// One of the inputs (manifest, settings, options, waivers).
    Input(InputSource),
    /// A policy refused before it ran, or failing while settings were rejected.
    Policy,
}

/// An attempt refused before any decision, as the edge that refused it knows it.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// What was refused.
    pub refused: Refused,
    /// Where the refused input came from (a path, `-`, `<request>`, a policy name).
    pub input_path: String,
    /// The refused input's exact text, if it was read.
    pub input_text: Option<String>,
    /// The attempt's manifest (path and text, if read) when the refused input is another one.
    pub manifest: Option<(String, Option<String>)>,
    /// Why it was refused, as the edge reports it.
    pub error: String,
    /// The field at fault, if known.
    pub field: Option<String>,
    /// Line of the fault, if known.
    pub line: Option<u32>,
    /// Evaluation time asked for.
    pub now: Timestamp,
    /// The exit code the edge reports (2 invalid input, 5 policy failure).
    pub exit_code: u8,
    /// Who made the attempt, when the edge authenticated them.
    pub actor: Option<Actor>,
}

impl Rejection {
    /// A rejected input: `error`'s first input error names the field and line.
    pub fn of_input(
        error: &InputError,
        input_path: impl Into<String>,
        input_text: Option<String>,
        now: Timestamp,
        exit_code: u8,
    ) -> Self {
        Self {
            refused: Refused::Input(error.source),
            input_path: input_path.into(),
            input_text,
            manifest: None,
            error: error.to_string(),
            field: error.path.clone(),
            line: error.line,
            now,
            exit_code,
            actor: None,
        }
    }

    /// An attempt a [`DecideError`] refused; `input_path` and `input_text` are the input it is
    /// about, as far as the edge knows.
    pub fn of_error(
        error: &DecideError,
        input_path: impl Into<String>,
        input_text: Option<String>,
        now: Timestamp,
        exit_code: u8,
    ) -> Self {
        let first = match error {
            DecideError::Invalid(errors) => errors.first(),
            DecideError::Policies {
                rejected_settings, ..
            } => rejected_settings.first(),
            DecideError::Unrecorded(_) | DecideError::Internal(_) => None,
        };
        let refused = match (error, first) {
            (DecideError::Policies { .. }, _) | (_, None) => Refused::Policy,
            (_, Some(first)) => Refused::Input(first.source),
        };
        Self {
            refused,
            input_path: input_path.into(),
            input_text,
            manifest: None,
            error: error.to_string(),
            field: first.and_then(|e| e.path.clone()),
            line: first.and_then(|e| e.line),
            now,
            exit_code,
            actor: None,
        }
    }

    /// The same rejection, made by `actor`.
    #[must_use]
    pub fn with_actor(mut self, actor: Option<Actor>) -> Self {
        self.actor = actor;
        self
    }

    /// The same rejection, with the attempt's manifest.
    pub fn with_manifest(mut self, path: impl Into<String>, text: Option<String>) -> Self {
        self.manifest = Some((path.into(), text));
        self
    }
}
