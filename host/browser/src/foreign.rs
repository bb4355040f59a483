//! Packs that are not linked into this module: third-party components transpiled to JavaScript
//! (jco) and handed to `evaluateWithPacks` by the page. Each one is an
//! [`Evaluator`] like the built-in packs, so its decision goes through the same pipeline: the
//! settings and extension schemas it declares, the decision contract, the combination.
//!
//! A pack is a JavaScript object:
//!
//! ```text
//! { metadata:         PolicyMetadata (the host's JSON form),
//!   digest:           "sha256:<hex>" of the component,
//!   validateSettings: (settingsJson) => undefined | {kind, message},
//!   evaluate:         (manifestJson, settingsJson, now) => {decision} | {error: {kind, message}} }
//! ```
//!
//! A function that throws is a trap; a result of another shape is a malformed result naming the
//! field. JavaScript values are not `Send`, so the functions wait in a registry of this (only)
//! thread while an evaluation runs, and the evaluators hold their slot number.

use std::cell::RefCell;

use serde::Deserialize;
use tollgate_decision::{Decision, EvalError, PolicyMetadata};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_pipeline::{Evaluator, PolicyFailure};
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// The functions of the packs of the evaluation in progress, by slot.
    static REGISTRY: RefCell<Vec<PackFunctions>> = const { RefCell::new(Vec::new()) };
}

/// Why a pack object cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A member is missing or of the wrong type.
    #[error("pack {index}: `{member}` {problem}")]
    Member {
        /// Position of the pack in the list.
        index: usize,
        /// The member.
        member: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

struct PackFunctions {
    validate_settings: js_sys::Function,
    evaluate: js_sys::Function,
}

/// A pack given by the page.
#[derive(Clone)]
pub struct ForeignPolicy {
    slot: usize,
    metadata: PolicyMetadata,
    digest: String,
}

/// Holds the registered packs for one evaluation, and forgets them when dropped.
pub struct Registered {
    /// The packs, as evaluators.
    pub policies: Vec<ForeignPolicy>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        REGISTRY.with(|registry| registry.borrow_mut().clear());
    }
}

/// Reads and registers the page's pack objects.
pub fn register(packs: &js_sys::Array) -> Result<Registered, PackError> {
    let mut functions = Vec::new();
    let mut policies = Vec::new();
    for (index, pack) in packs.iter().enumerate() {
        let member = |member: &'static str| {
            js_sys::Reflect::get(&pack, &JsValue::from_str(member)).map_err(|_| PackError::Member {
                index,
                member,
                problem: "cannot be read".into(),
            })
        };
        let function = |member: &'static str| {
            js_sys::Reflect::get(&pack, &JsValue::from_str(member))
                .ok()
                .and_then(|value| value.dyn_into::<js_sys::Function>().ok())
                .ok_or(PackError::Member {
                    index,
                    member,
                    problem: "is not a function".into(),
                })
        };
        let metadata: PolicyMetadata = serde_wasm_bindgen::from_value(member("metadata")?)
            .map_err(|e| PackError::Member {
                index,
                member: "metadata",
                problem: format!("is not policy metadata: {e}"),
            })?;
        let digest = member("digest")?.as_string().ok_or(PackError::Member {
            index,
            member: "digest",
            problem: "is not a string".into(),
        })?;
        functions.push(PackFunctions {
            validate_settings: function("validateSettings")?,
            evaluate: function("evaluate")?,
        });
        policies.push(ForeignPolicy {
            slot: index,
            metadata,
            digest,
        });
    }
    REGISTRY.with(|registry| *registry.borrow_mut() = functions);
    Ok(Registered { policies })
}

/// What a pack's `evaluate` returns.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Returned {
    #[serde(default)]
    decision: Option<Box<Decision>>,
    #[serde(default)]
    error: Option<EvalError>,
}

impl ForeignPolicy {
    fn call(
        &self,
        pick: impl Fn(&PackFunctions) -> &js_sys::Function,
        args: &[JsValue],
    ) -> Result<JsValue, PolicyFailure> {
        let function =
            REGISTRY.with(|registry| registry.borrow().get(self.slot).map(|f| pick(f).clone()));
        let Some(function) = function else {
            return Err(PolicyFailure::Trap {
                message: "the pack was called outside the evaluation it was given to".into(),
            });
        };
        function
            .apply(&JsValue::NULL, &args.iter().collect())
            .map_err(|thrown| PolicyFailure::Trap {
                message: describe_thrown(&thrown),
            })
    }
}

/// What a thrown JavaScript value says: an `Error`'s name and message, or the value as text.
pub(crate) fn describe_thrown(thrown: &JsValue) -> String {
    if let Some(error) = thrown.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        );
    }
    thrown
        .as_string()
        .or_else(|| {
            js_sys::JSON::stringify(thrown)
                .ok()
                .and_then(|s| s.as_string())
        })
        .unwrap_or_else(|| "a value that is not an Error".into())
}

/// Reads a returned JavaScript value as `T`, naming the field that does not fit.
fn returned<T: for<'de> Deserialize<'de>>(value: &JsValue) -> Result<T, PolicyFailure> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| PolicyFailure::Malformed {
            reason: "the result is not a JSON value".into(),
        })?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| PolicyFailure::Malformed {
        reason: format!("at `{}`: {}", e.path(), e.inner()),
    })
}

impl Evaluator for ForeignPolicy {
    fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }

    fn digest(&self) -> &str {
        &self.digest
    }

    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        let value = self.call(
            |f| &f.validate_settings,
            &[JsValue::from_str(settings_json)],
        )?;
        if value.is_undefined() || value.is_null() {
            return Ok(());
        }
        Err(PolicyFailure::Eval(returned::<EvalError>(&value)?))
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        let manifest_json = serde_json::to_string(manifest).map_err(|e| PolicyFailure::Trap {
            message: format!("the manifest could not be handed to the pack: {e}"),
        })?;
        let args = [
            JsValue::from_str(&manifest_json),
            JsValue::from_str(settings_json),
            JsValue::from_str(&now.to_string()),
        ];
        match returned::<Returned>(&self.call(|f| &f.evaluate, &args)?)? {
            Returned {
                decision: Some(decision),
                error: None,
            } => Ok(*decision),
            Returned {
                decision: None,
                error: Some(error),
            } => Err(PolicyFailure::Eval(error)),
            _ => Err(PolicyFailure::Malformed {
                reason: "the result must have exactly one of `decision` and `error`".into(),
            }),
        }
    }
}
