//! OPA Wasm ABI 1.3 glue for Tollgate policies.
//!
//! A policy crate implements [`tollgate_rules::Policy`]; a thin crate calls [`export_opa!`] and is
//! built for `wasm32-unknown-unknown` (the engine's build script does it, links it with
//! `--import-memory` into two initial pages and adds the `opa_wasm_abi_version` globals). The result
//! is a `policy.wasm` that Open Policy Agent and its Wasm SDKs load like one compiled from Rego.
//!
//! For a framework `fw` the module has three entrypoints:
//!
//! | id | entrypoint | result |
//! |---|---|---|
//! | 0 | `tollgate/<fw>/decision` | the [`Decision`] as JSON (the serde form every other target gives) |
//! | 1 | `tollgate/<fw>/allow` | `true` only when the outcome is `approved` |
//! | 2 | `tollgate/<fw>/deny` | the messages of the denying findings (Conftest style), `[]` when none |
//!
//! `input` is the change manifest (JSON). `data.tollgate.<fw>.settings` holds the policy's
//! settings (absent or `null`: the defaults) and `data.tollgate.now` the evaluation time (RFC 3339);
//! without it the module asks the host's clock through OPA's `time.now_ns` built-in. Anything that
//! prevents an evaluation (no input, an invalid manifest, invalid settings, no time) aborts the
//! evaluation through `opa_abort` with a message naming the field; it never yields a result.
//!
//! The pure parts ([`evaluate`], [`value`]) are plain Rust, tested natively; the ABI exports
//! (allocator, raw memory) exist only on `wasm32`.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use tollgate_decision::{Decision, EvalError, Outcome, write_json_string};
use tollgate_manifest::Timestamp;
use tollgate_rules::Policy;

pub mod value;

use value::Json;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod abi;

/// The OPA Wasm ABI version the module implements (major, minor).
pub const ABI_VERSION: (i32, i32) = (1, 3);

/// The OPA built-in the module calls for the evaluation time when `data.tollgate.now` is absent.
pub const NOW_BUILTIN: &str = "time.now_ns";

/// One of a module's entrypoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entrypoint {
    /// `tollgate/<fw>/decision`: the full decision.
    Decision,
    /// `tollgate/<fw>/allow`: whether the outcome is approved.
    Allow,
    /// `tollgate/<fw>/deny`: messages of the denying findings.
    Deny,
}

impl Entrypoint {
    /// Every entrypoint, in id order.
    pub const ALL: [Self; 3] = [Self::Decision, Self::Allow, Self::Deny];

    /// The entrypoint of an OPA entrypoint id.
    pub fn from_id(id: i32) -> Option<Self> {
        usize::try_from(id)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .copied()
    }

    /// The last path segment (`decision`, `allow`, `deny`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Decision => "decision",
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }

    /// The OPA entrypoint name of this entrypoint for a framework: `tollgate/<fw>/<name>`.
    pub fn path(self, framework: &str) -> String {
        format!("tollgate/{framework}/{}", self.name())
    }
}

/// The value the `entrypoints` export returns: `{"tollgate/<fw>/decision": 0, ...}`.
pub fn entrypoints(framework: &str) -> Json {
    Json::Object(
        Entrypoint::ALL
            .iter()
            .zip(0..)
            .map(|(entrypoint, id)| (entrypoint.path(framework), number(id)))
            .collect(),
    )
}

/// The value the `builtins` export returns: the clock built-in, id 0.
pub fn builtins() -> Json {
    Json::Object([(NOW_BUILTIN.to_string(), number(0))].into_iter().collect())
}

fn number(n: u64) -> Json {
    Json::Number(tollgate_manifest::JsonNumber::Unsigned(n))
}

/// Evaluates one entrypoint and returns its result as JSON text.
///
/// `input` is the manifest's JSON text (`None`: undefined), `data` OPA's `data` document and `clock`
/// the host's time in nanoseconds since the Unix epoch, asked only when `data.tollgate.now` is
/// absent.
pub fn evaluate<P: Policy>(
    policy: &P,
    framework: &str,
    entrypoint: Entrypoint,
    input: Option<&str>,
    data: Option<&Json>,
    clock: impl FnOnce() -> Option<i64>,
) -> Result<String, EvalError> {
    let decision = decide(policy, framework, input, data, clock)?;
    render(&decision, entrypoint)
}

/// The decision of a policy for an OPA request (see [`evaluate`]).
pub fn decide<P: Policy>(
    policy: &P,
    framework: &str,
    input: Option<&str>,
    data: Option<&Json>,
    clock: impl FnOnce() -> Option<i64>,
) -> Result<Decision, EvalError> {
    let tollgate = tollgate_data(data)?;
    let settings = settings(tollgate, framework)?;
    let now = now(tollgate, clock)?;
    let text = input.ok_or_else(|| {
        EvalError::InvalidManifest(
            "`input` is undefined: the input must be the change manifest (JSON)".to_string(),
        )
    })?;
    let settings = match settings {
        None | Some(Json::Null) => String::new(),
        Some(value) => value.to_text(),
    };
    tollgate_bindings_json::decide_manifest_text(policy, text, "`input`", &settings, now)
}

/// The result of an entrypoint for a decision, as JSON text: the serde form of the same
/// [`Decision`] the other targets return (written by [`Decision::to_json`]), or a projection of it.
pub fn render(decision: &Decision, entrypoint: Entrypoint) -> Result<String, EvalError> {
    Ok(match entrypoint {
        Entrypoint::Decision => decision.to_json(),
        Entrypoint::Allow => String::from(if decision.outcome == Outcome::Approved {
            "true"
        } else {
            "false"
        }),
        Entrypoint::Deny => {
            let mut out = String::from("[");
            for (index, message) in deny_messages(decision).iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, message);
            }
            out.push(']');
            out
        }
    })
}

/// Conftest-style messages of the findings that deny the change: `<control>: <message>
/// (<rule>)`.
pub fn deny_messages(decision: &Decision) -> Vec<String> {
    decision
        .findings
        .iter()
        .filter(|finding| finding.severity.denies())
        .map(|finding| {
            format!(
                "{}: {} ({})",
                finding.control_id, finding.message, finding.rule_id
            )
        })
        .collect()
}

/// The message `opa_abort` carries for an evaluation error: `tollgate: <kind>: <message>`.
pub fn abort_message(error: &EvalError) -> String {
    format!("tollgate: {error}")
}

/// The result set text `opa_eval` returns for a result: format 0 is JSON (`[{"result": v}]`),
/// any other format Rego value text (`{{"result": v}}`), as OPA itself asks with format 1.
pub fn result_set(result_json: &str, format: i32) -> String {
    if format == 0 {
        format!("[{{\"result\":{result_json}}}]")
    } else {
        format!("{{{{\"result\":{result_json}}}}}")
    }
}

/// `data.tollgate`, if present; an error when `data` or `data.tollgate` is not an object.
fn tollgate_data(data: Option<&Json>) -> Result<Option<&Json>, EvalError> {
    let Some(data) = data else { return Ok(None) };
    match data {
        Json::Object(map) => match map.get("tollgate") {
            None | Some(Json::Null) => Ok(None),
            Some(tollgate @ Json::Object(_)) => Ok(Some(tollgate)),
            Some(_) => Err(EvalError::InvalidSettings(
                "`data.tollgate` must be an object".to_string(),
            )),
        },
        Json::Null => Ok(None),
        _ => Err(EvalError::InvalidSettings(
            "`data` must be an object".to_string(),
        )),
    }
}

/// The settings object at `data.tollgate.<fw>.settings` (absent: the defaults).
fn settings<'a>(
    tollgate: Option<&'a Json>,
    framework: &str,
) -> Result<Option<&'a Json>, EvalError> {
    let Some(policy) = tollgate.and_then(|t| t.get(framework)) else {
        return Ok(None);
    };
    match policy {
        Json::Null => Ok(None),
        Json::Object(map) => Ok(map.get("settings")),
        _ => Err(EvalError::InvalidSettings(format!(
            "`data.tollgate.{framework}` must be an object with a `settings` object"
        ))),
    }
}

/// The evaluation time: `data.tollgate.now`, else the host's clock.
fn now(
    tollgate: Option<&Json>,
    clock: impl FnOnce() -> Option<i64>,
) -> Result<Timestamp, EvalError> {
    match tollgate.and_then(|t| t.get("now")) {
        None | Some(Json::Null) => {
            let nanos = clock().ok_or_else(|| {
                EvalError::Internal(format!(
                    "no evaluation time: set `data.tollgate.now` (RFC 3339) or provide the `{NOW_BUILTIN}` built-in"
                ))
            })?;
            let seconds = nanos.div_euclid(1_000_000_000);
            let nanoseconds = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
            Timestamp::from_parts(seconds, nanoseconds).ok_or_else(|| {
                EvalError::Internal(format!(
                    "`{NOW_BUILTIN}` returned an impossible time {nanos}"
                ))
            })
        }
        Some(Json::String(text)) => Timestamp::parse(text)
            .map_err(|e| EvalError::InvalidSettings(format!("`data.tollgate.now`: {e}"))),
        Some(other) => Err(EvalError::InvalidSettings(format!(
            "`data.tollgate.now`: expected an RFC 3339 string such as `2026-05-20T09:12:00Z`, got {other}"
        ))),
    }
}

/// Exports a policy as an OPA Wasm ABI 1.3 module: every ABI function, for the framework name given
/// (the middle segment of the entrypoints). Does nothing outside `wasm32`.
///
/// ```ignore
/// tollgate_bindings_opa::export_opa!("sox", tollgate_policy_sox::SoxPolicy);
/// ```
#[macro_export]
macro_rules! export_opa {
    ($framework:literal, $policy:expr) => {
        /// The module's OPA ABI exports.
        #[cfg(target_arch = "wasm32")]
        #[allow(
            unsafe_code,
            missing_docs,
            reason = "the OPA ABI exports unmangled `extern \"C\"` functions"
        )]
        pub mod opa_exports {
            use $crate::abi;

            #[unsafe(no_mangle)]
            pub extern "C" fn entrypoints() -> u32 {
                abi::entrypoints($framework)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn eval(ctx: u32) -> u32 {
                abi::eval(&$policy, $framework, ctx)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval(
                reserved: u32,
                entrypoint: i32,
                data: u32,
                input: u32,
                input_len: u32,
                heap_ptr: u32,
                format: i32,
            ) -> u32 {
                abi::opa_eval(
                    &$policy, $framework, reserved, entrypoint, data, input, input_len, heap_ptr,
                    format,
                )
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval_ctx_set_entrypoint(ctx: u32, entrypoint: i32) {
                abi::ctx_set_entrypoint(ctx, entrypoint)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn builtins() -> u32 {
                abi::builtins()
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval_ctx_new() -> u32 {
                abi::ctx_new()
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval_ctx_set_input(ctx: u32, value: u32) {
                abi::ctx_set_input(ctx, value)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval_ctx_set_data(ctx: u32, value: u32) {
                abi::ctx_set_data(ctx, value)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_eval_ctx_get_result(ctx: u32) -> u32 {
                abi::ctx_get_result(ctx)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_malloc(size: u32) -> u32 {
                abi::malloc(size)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_free(_addr: u32) {}

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_json_parse(addr: u32, len: u32) -> u32 {
                abi::json_parse(addr, len)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_value_parse(addr: u32, len: u32) -> u32 {
                abi::value_parse(addr, len)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_json_dump(value: u32) -> u32 {
                abi::dump(value)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_value_dump(value: u32) -> u32 {
                abi::dump(value)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_heap_ptr_get() -> u32 {
                abi::heap_ptr_get()
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_heap_ptr_set(addr: u32) {
                abi::heap_ptr_set(addr)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_value_add_path(base: u32, path: u32, value: u32) -> i32 {
                abi::value_add_path(base, path, value)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_value_remove_path(base: u32, path: u32) -> i32 {
                abi::value_remove_path(base, path)
            }

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_value_free(_value: u32) {}

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_heap_blocks_stash() {}

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_heap_blocks_restore() {}

            #[unsafe(no_mangle)]
            pub extern "C" fn opa_heap_stash_clear() {}
        }
    };
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::ToString;

    use tollgate_manifest::Manifest;
    use tollgate_rules::{Catalogue, ControlEntry, DecisionBuilder, EvaluationContext, Settings};

    /// A policy that is not applicable to anything (approved): enough to exercise the glue.
    struct Approve;

    impl Policy for Approve {
        type Settings = Settings;

        fn catalogue(&self) -> &'static Catalogue {
            &Catalogue {
                id: "approve",
                framework: "TEST",
                version: "0.0.0",
                description: "approves",
                controls: &[ControlEntry {
                    id: "T-1",
                    title: "t",
                    description: "d",
                    references: &[],
                    rules: &[],
                    relies_on: &[],
                }],
                settings_schema: None,
                extensions: &[],
            }
        }

        fn evaluate(
            &self,
            manifest: &Manifest,
            settings: &Settings,
            context: &EvaluationContext,
        ) -> Decision {
            let assessment = tollgate_rules::Assessment::new(manifest, settings, context);
            DecisionBuilder::not_applicable(self.catalogue(), &assessment, "test")
        }
    }

    const MANIFEST: &str = r#"{"version": 1, "change": {"id": "CHG-1", "title": "t",
        "ticket_status": "approved", "author": "alice", "deployer": "bob",
        "environment": "staging"}}"#;

    /// The document of a JSON text.
    fn json(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    fn data() -> Json {
        json(r#"{"tollgate": {"now": "2026-06-01T00:00:00Z"}}"#)
    }

    fn no_clock() -> Option<i64> {
        None
    }

    #[test]
    fn the_three_entrypoints_answer_from_one_decision() {
        let decision = evaluate(
            &Approve,
            "t",
            Entrypoint::Decision,
            Some(MANIFEST),
            Some(&data()),
            no_clock,
        )
        .unwrap();
        let decision: Decision = serde_json::from_str(&decision).unwrap();
        assert_eq!(decision.outcome, Outcome::Approved);
        let allow = evaluate(
            &Approve,
            "t",
            Entrypoint::Allow,
            Some(MANIFEST),
            Some(&data()),
            no_clock,
        )
        .unwrap();
        assert_eq!(allow, "true");
        let deny = evaluate(
            &Approve,
            "t",
            Entrypoint::Deny,
            Some(MANIFEST),
            Some(&data()),
            no_clock,
        )
        .unwrap();
        assert_eq!(deny, "[]");
    }

    #[test]
    fn entrypoint_ids_and_names() {
        assert_eq!(
            entrypoints("sox"),
            json(
                r#"{"tollgate/sox/decision": 0, "tollgate/sox/allow": 1, "tollgate/sox/deny": 2}"#
            )
        );
        assert_eq!(Entrypoint::from_id(2), Some(Entrypoint::Deny));
        assert_eq!(Entrypoint::from_id(3), None);
        assert_eq!(Entrypoint::from_id(-1), None);
    }

    #[test]
    fn the_clock_is_asked_only_without_data_now() {
        let at = |nanos: i64| {
            let d = decide(&Approve, "t", Some(MANIFEST), None, || Some(nanos)).unwrap();
            serde_json::to_value(d).unwrap()
        };
        // 2026-06-01T00:00:00Z
        at(1_780_272_000_000_000_000);
        let error = decide(&Approve, "t", Some(MANIFEST), Some(&json("{}")), no_clock).unwrap_err();
        assert!(error.to_string().contains("data.tollgate.now"), "{error}");
    }

    #[test]
    fn invalid_settings_are_an_error_naming_the_field() {
        let data = json(
            r#"{"tollgate": {"now": "2026-06-01T00:00:00Z", "t": {"settings": {"nope": 1}}}}"#,
        );
        let error = decide(&Approve, "t", Some(MANIFEST), Some(&data), no_clock).unwrap_err();
        assert!(
            matches!(&error, EvalError::InvalidSettings(m) if m.contains("nope")),
            "{error}"
        );
        let data = json(r#"{"tollgate": {"now": "yesterday"}}"#);
        let error = decide(&Approve, "t", Some(MANIFEST), Some(&data), no_clock).unwrap_err();
        assert!(error.to_string().contains("`data.tollgate.now`"), "{error}");
        let data = json(r#"{"tollgate": {"now": "2026-06-01T00:00:00Z", "t": 3}}"#);
        let error = decide(&Approve, "t", Some(MANIFEST), Some(&data), no_clock).unwrap_err();
        assert!(error.to_string().contains("`data.tollgate.t`"), "{error}");
    }

    #[test]
    fn an_invalid_or_missing_manifest_is_an_error_with_the_field_path() {
        let input = MANIFEST.replace("ticket_status", "ticket_stauts");
        let error = decide(&Approve, "t", Some(&input), Some(&data()), no_clock).unwrap_err();
        let message = abort_message(&error);
        assert!(
            message.starts_with("tollgate: invalid manifest: `input`"),
            "{message}"
        );
        assert!(
            message.contains("change.ticket_stauts") && message.contains("line 2"),
            "{message}"
        );
        let error = decide(&Approve, "t", None, Some(&data()), no_clock).unwrap_err();
        assert!(
            error.to_string().contains("`input` is undefined"),
            "{error}"
        );
    }

    #[test]
    fn result_sets_in_json_and_rego_text() {
        assert_eq!(result_set("true", 0), r#"[{"result":true}]"#);
        assert_eq!(result_set("true", 1), r#"{{"result":true}}"#);
    }
}
