//! Tollgate's one decision path, shared by the CLI, the HTTP gateway and the browser preview.
//!
//! - [`Evaluator`]: what the pipeline needs of a policy; a native policy crate
//!   ([`NativePolicy`]) and a loaded WebAssembly component implement it alike;
//! - [`Pipeline`]: policies with validated settings and waivers, ready to evaluate any number of
//!   manifests; every decision is checked against the policy contract ([`contract`]) and the
//!   decisions are combined into one [`Report`] (strictest outcome, union of approver roles,
//!   findings, policy failures, the control-to-evidence map);
//! - [`Gate`]: a pipeline paired with a [`Recorder`]. [`Gate::decide`] is the only way to obtain a
//!   [`Decided`] result, and it returns one only after the recorder made its record durable;
//! - [`Rejection`]: an attempt refused before any decision, which the recorder keeps too
//!   ([`Recorder::record_rejected`], [`Gate::reject`]);
//! - [`DecideError`]: every way a decision can fail to be made, mapped once by each edge (exit
//!   codes, HTTP status, browser messages). An error is never an approval.

pub mod contract;
mod error;
pub mod exit;
mod gate;
mod input;
mod native;
mod pipeline;
mod policy;
mod rejection;
mod report;
mod schemas;

pub use error::{DecideError, ErrorChain};
pub use gate::{Decided, Gate, NoRecord, Receipt, RecordError, Recorder, Timings};
pub use input::{Actor, InputError, InputSource, Submission, parse_settings};
pub use native::NativePolicy;
pub use pipeline::{Candidate, DEFAULTS_KEY, Pipeline, PipelineOptions, SettingsDocument};
pub use policy::{Evaluator, PolicyFailure, Resource};
pub use rejection::{Refused, Rejection};
pub use report::{Evaluated, PolicyError, Report};
pub use schemas::{
    AlreadyInstalled, CompiledSchema, SchemaValidator, SchemaViolation, install_schema_validator,
};

/// `sha256:<hex>` of some bytes: the digest format of manifests, settings and components.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}
