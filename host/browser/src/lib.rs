//! Browser bindings for Tollgate: the built-in SOX, HIPAA and PCI DSS policies, linked natively
//! (the same crates the components are built from, not a re-implementation), exported with
//! wasm-bindgen for the preview page in `web/`.
//!
//! JavaScript API (TypeScript declarations are generated into `tollgate_browser.d.ts`):
//!
//! - `evaluate(manifestText, options?)` → [`Evaluation`]: `{status: "decided", decision}`,
//!   `{status: "invalid", error}` (manifest, settings or options, with field path and line) or
//!   `{status: "failed", policy, error}`;
//! - `evaluateWithPacks(manifestText, options, packs)` → [`Evaluation`]: the same, with
//!   third-party packs (components transpiled by jco, see `web/build.sh --pack`) beside the
//!   built-in ones, through the same pipeline (see [`foreign`] for a pack's shape);
//! - `policies()` → the policies' metadata and control catalogues;
//! - `examples()` → the bundled example manifests; `examplesNow()` → the time they are evaluated at;
//! - `manifestSchema()` → the manifest JSON Schema.
//!
//! Results are plain JavaScript objects with the same shape and field names as the CLI's JSON.
//! The JSON Schemas policies declare are checked by the page's script `tollgate_schemas.js`
//! (`web/schemas.mjs`), which must be loaded too (see the `schemas` module).

mod evaluate;
mod examples;
pub mod foreign;
mod schemas;

use serde::Serialize;
use tollgate_decision::PolicyMetadata;
use tollgate_manifest::{Manifest, Timestamp};
use wasm_bindgen::prelude::*;

pub use evaluate::{
    DocumentFormat, EvaluateOptions, Evaluation, FailureDetail, InputError, InputSource, builtin,
    evaluate, evaluate_including, evaluate_with, policies,
};
pub use examples::{EXAMPLES, EXAMPLES_NOW, Example, ExampleManifest};

/// Evaluates a change manifest (YAML or JSON text) with the built-in policies.
///
/// Never throws for bad input: an invalid manifest, settings document or option is an
/// `invalid` result naming the field path and line.
#[wasm_bindgen(js_name = evaluate, unchecked_return_type = "Evaluation")]
pub fn evaluate_js(
    #[wasm_bindgen(js_name = manifestText)] manifest_text: &str,
    #[wasm_bindgen(unchecked_param_type = "EvaluateOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsError> {
    to_js(&evaluate_options(manifest_text, options, Vec::new()))
}

/// Evaluates a change manifest with the built-in policies and the given third-party packs
/// (objects `{metadata, digest, validateSettings, evaluate}`, see the `foreign` module), all
/// through the same pipeline; `options.policies` selects among both.
///
/// Never throws for bad input; a pack object of the wrong shape is an `invalid` result.
#[wasm_bindgen(js_name = evaluateWithPacks, unchecked_return_type = "Evaluation")]
pub fn evaluate_with_packs_js(
    #[wasm_bindgen(js_name = manifestText)] manifest_text: &str,
    #[wasm_bindgen(unchecked_param_type = "EvaluateOptions | undefined")] options: JsValue,
    packs: &js_sys::Array,
) -> Result<JsValue, JsError> {
    let registered = match foreign::register(packs) {
        Ok(registered) => registered,
        Err(error) => {
            return to_js(&Evaluation::Invalid {
                error: InputError {
                    path: Some("packs".into()),
                    ..InputError::new(InputSource::Options, error.to_string())
                },
            });
        }
    };
    let packs = registered
        .policies
        .iter()
        .map(|p| Box::new(p.clone()) as Box<dyn tollgate_pipeline::Evaluator>)
        .collect();
    let evaluation = evaluate_options(manifest_text, options, packs);
    drop(registered);
    to_js(&evaluation)
}

fn evaluate_options(
    manifest_text: &str,
    options: JsValue,
    packs: Vec<Box<dyn tollgate_pipeline::Evaluator>>,
) -> Evaluation {
    if options.is_undefined() || options.is_null() {
        return evaluate_including(
            packs,
            manifest_text,
            &EvaluateOptions::default(),
            current_time(),
        );
    }
    match serde_wasm_bindgen::from_value::<EvaluateOptions>(options) {
        Ok(options) => evaluate_including(packs, manifest_text, &options, current_time()),
        Err(error) => Evaluation::Invalid {
            error: InputError {
                source: InputSource::Options,
                policy: None,
                message: format!("invalid options: {error}"),
                path: None,
                line: None,
                column: None,
            },
        },
    }
}

/// The metadata and control catalogue of every built-in policy.
#[wasm_bindgen(js_name = policies, unchecked_return_type = "PolicyMetadata[]")]
pub fn policies_js() -> Result<JsValue, JsError> {
    let all: Vec<PolicyMetadata> = policies();
    to_js(&all)
}

/// The bundled example manifests.
#[wasm_bindgen(js_name = examples, unchecked_return_type = "ExampleManifest[]")]
pub fn examples_js() -> Result<JsValue, JsError> {
    let all: Vec<ExampleManifest> = EXAMPLES.iter().map(ExampleManifest::from).collect();
    to_js(&all)
}

/// The evaluation time (RFC 3339) at which the examples reach their recorded outcome.
#[wasm_bindgen(js_name = examplesNow)]
pub fn examples_now() -> String {
    EXAMPLES_NOW.to_owned()
}

/// The JSON Schema of the change manifest, as pretty-printed JSON.
#[wasm_bindgen(js_name = manifestSchema)]
pub fn manifest_schema() -> String {
    Manifest::json_schema()
}

/// The version of the bindings (the workspace version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Plain objects, `null` for absent values, numbers as numbers: the same shape as the CLI's JSON.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("could not convert the result: {e}")))
}

/// The browser's clock, to the second (as the CLI does).
fn current_time() -> Timestamp {
    let seconds = (js_sys::Date::now() / 1000.0).floor();
    // `Date.now()` is milliseconds since the epoch; whole seconds always fit an i64.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a finite f64 of whole seconds since 1970"
    )]
    let seconds = seconds as i64;
    Timestamp::from_parts(seconds, 0).unwrap_or(Timestamp {
        seconds: 0,
        nanoseconds: 0,
    })
}
