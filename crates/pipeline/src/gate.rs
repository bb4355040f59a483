//! A pipeline paired with a decision recorder: no caller can obtain a decision whose record is
//! not durable, because [`Decided`] can only be made here, after [`Recorder::record`] returned.

use crate::{DecideError, Pipeline, Rejection, Report, Submission};

/// Why a decision could not be recorded (missing directory, full disk, lock held too long,
/// unreachable database, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    /// What happened, with the place of the log.
    pub message: String,
}

impl RecordError {
    /// An error with its message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What a recorder says of the record it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// The record is durable.
    Recorded {
        /// The record's id (the decision id).
        id: String,
        /// Where it is (the log's path or address).
        log: String,
        /// Things the recorder noticed on the way (a torn tail set aside, ...).
        warnings: Vec<String>,
    },
    /// Nothing was recorded, on purpose: a preview or a dry run.
    NotRecorded {
        /// Why, in words for the user.
        reason: String,
    },
}

/// Makes the record of a decision durable.
pub trait Recorder: Send + Sync {
    /// Appends the report's record and returns only once it is durable.
    fn record(&self, report: &Report) -> Result<Receipt, RecordError>;

    /// Appends the record of an attempt refused before any decision and returns only once it is
    /// durable. A recorder that keeps no such records says so in its receipt.
    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        let _ = rejection;
        Ok(Receipt::NotRecorded {
            reason: "this recorder keeps no record of rejected attempts".to_owned(),
        })
    }
}

/// A recorder that records nothing and says so: for the browser preview and dry runs, whose
/// results gate nothing.
#[derive(Debug, Clone)]
pub struct NoRecord {
    reason: String,
}

impl NoRecord {
    /// A recorder whose receipts give `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl Recorder for NoRecord {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        Ok(Receipt::NotRecorded {
            reason: self.reason.clone(),
        })
    }

    fn record_rejected(&self, _rejection: &Rejection) -> Result<Receipt, RecordError> {
        Ok(Receipt::NotRecorded {
            reason: self.reason.clone(),
        })
    }
}

/// A decision and the receipt of its record. Only [`Gate::decide`] makes one.
#[derive(Debug, Clone)]
pub struct Decided {
    report: Report,
    receipt: Receipt,
    timings: Timings,
}

/// The time now, where the platform has a clock: `wasm32-unknown-unknown` (the browser preview)
/// has none, and `Instant::now` would panic there; its timings stay zero.
fn clock() -> Option<std::time::Instant> {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        None
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        Some(std::time::Instant::now())
    }
}

/// How long the two steps of a decision took (zero where there is no clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Evaluating every policy and combining their decisions.
    pub evaluation: std::time::Duration,
    /// Making the record durable.
    pub record: std::time::Duration,
}

impl Decided {
    /// The report.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The receipt of its record.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// How long evaluating and recording took.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// The recorded decision id, if it was recorded.
    pub fn record_id(&self) -> Option<&str> {
        match &self.receipt {
            Receipt::Recorded { id, .. } => Some(id),
            Receipt::NotRecorded { .. } => None,
        }
    }
}

/// The pipeline and its recorder.
pub struct Gate<R> {
    pipeline: Pipeline,
    recorder: R,
}

impl<R: Recorder> Gate<R> {
    /// Pairs a pipeline with a recorder.
    pub fn new(pipeline: Pipeline, recorder: R) -> Self {
        Self { pipeline, recorder }
    }

    /// The pipeline (its policies and load failures).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The recorder.
    pub fn recorder(&self) -> &R {
        &self.recorder
    }

    /// Decides a submission and records it; the result exists only once its record is durable.
    pub fn decide(&self, submission: Submission) -> Result<Decided, DecideError> {
        let start = clock();
        let report = self.pipeline.evaluate(submission)?;
        let evaluated = clock();
        let receipt = self
            .recorder
            .record(&report)
            .map_err(DecideError::Unrecorded)?;
        let timings = match (start, evaluated) {
            (Some(start), Some(evaluated)) => Timings {
                evaluation: evaluated - start,
                record: evaluated.elapsed(),
            },
            _ => Timings::default(),
        };
        Ok(Decided {
            report,
            receipt,
            timings,
        })
    }

    /// Records an attempt refused before any decision (the edge keeps its own error and exit
    /// code; this only puts the attempt on record).
    pub fn reject(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        self.recorder.record_rejected(rejection)
    }
}

impl<R: Recorder + ?Sized> Recorder for Box<R> {
    fn record(&self, report: &Report) -> Result<Receipt, RecordError> {
        (**self).record(report)
    }

    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        (**self).record_rejected(rejection)
    }
}

impl<R: Recorder + ?Sized> Recorder for std::sync::Arc<R> {
    fn record(&self, report: &Report) -> Result<Receipt, RecordError> {
        (**self).record(report)
    }

    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        (**self).record_rejected(rejection)
    }
}
