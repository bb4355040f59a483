//! Every way a decision can fail to be made. Each edge maps it once: exit codes (CLI), HTTP status
//! and error kinds (gateway), messages (browser). None of them is an approval.

use std::fmt;

use crate::{InputError, PolicyError, RecordError};

/// Why no decision was made.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// The manifest, the settings, the waivers or the options are invalid: nothing was evaluated.
    #[error("{}", join(.0))]
    Invalid(Vec<InputError>),
    /// Settings were rejected while other policies failed outright: a policy failure.
    #[error("{}", join(.rejected_settings))]
    Policies {
        /// The policies that failed.
        failures: Vec<PolicyError>,
        /// The settings that were rejected.
        rejected_settings: Vec<InputError>,
    },
    /// The decision could not be made durable, so it is not reported.
    #[error("{0}; the decision was not recorded, so it is not reported")]
    Unrecorded(#[source] RecordError),
    /// An unexpected error of the host.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<InputError> for DecideError {
    fn from(error: InputError) -> Self {
        Self::Invalid(vec![error])
    }
}

fn join(errors: &[InputError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes an error followed by each of its sources, separated by `: ` (as `anyhow`'s `{:#}`): the
/// one way an error becomes text, where text must be kept (a message, a log).
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
