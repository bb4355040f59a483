//! What a policy author reads when a guest traps: the export that was called, the trap in words,
//! the innermost guest frames (named where the component has a `name` section), and for
//! JavaScript and Python components why such a guest traps at all.

use std::fmt::Write as _;

use wasmtime::{Trap, WasmBacktrace};

/// Guest frames shown in a trap message; the rest are counted.
const FRAMES: usize = 6;

/// Bytes at the end of a component searched for its producers (the top-level `producers`
/// section is the last thing the componentizers write).
const PRODUCERS_TAIL: usize = 64 << 10;

/// The language of a component whose guest traps on an uncaught exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    /// componentize-js (StarlingMonkey).
    JavaScript,
    /// componentize-py (CPython).
    Python,
}

/// The language the component's producers name, if it is JavaScript or Python.
pub(crate) fn language(component: &[u8]) -> Option<Language> {
    let tail = &component[component.len().saturating_sub(PRODUCERS_TAIL)..];
    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    if has(b"ComponentizeJS") || has(b"\x0aJavaScript") {
        Some(Language::JavaScript)
    } else if has(b"componentize_py") || has(b"componentize-py") {
        Some(Language::Python)
    } else {
        None
    }
}

/// The message of a trap in `export`.
pub(crate) fn message(
    export: &str,
    trap: Trap,
    error: &wasmtime::Error,
    language: Option<Language>,
) -> String {
    // The trap's own text is `wasm trap: <code in words>`.
    let words = trap.to_string();
    let words = words.strip_prefix("wasm trap: ").unwrap_or(&words);
    let mut message = format!("in `{export}`: {words}");
    let frames = error
        .downcast_ref::<WasmBacktrace>()
        .map(|b| b.frames())
        .unwrap_or_default();
    let names: Vec<String> = frames
        .iter()
        .map(|frame| match frame.func_name() {
            Some(name) => demangle(name),
            None => format!("<wasm function {}>", frame.func_index()),
        })
        .collect();
    // The panic machinery a Rust guest traps in says nothing to its author: skipped, counted.
    let skipped = names.iter().take_while(|n| runtime(n)).count();
    let shown = &names[skipped.min(names.len().saturating_sub(1))..];
    if !shown.is_empty() {
        let _ = write!(
            message,
            "; guest frames, innermost first: {}",
            shown
                .iter()
                .take(FRAMES)
                .cloned()
                .collect::<Vec<_>>()
                .join(" <- ")
        );
        if shown.len() > FRAMES {
            let _ = write!(message, " <- ({} more)", shown.len() - FRAMES);
        }
        if skipped > 0 && shown.len() < names.len() {
            let skipped = names.len() - shown.len();
            let _ = write!(message, " (after {skipped} frames of the Rust runtime)");
        }
    }
    let language = language.or_else(|| {
        frames
            .iter()
            .filter_map(|f| f.func_name())
            .any(|n| n.contains("_PyEval_") || n.contains("componentize_py"))
            .then_some(Language::Python)
    });
    if trap == Trap::UnreachableCodeReached {
        let hint = match language {
            Some(Language::JavaScript) => {
                "; a JavaScript policy traps when it throws anything but an `eval-error`"
            }
            Some(Language::Python) => {
                "; a Python policy traps when it raises anything but an `eval-error`"
            }
            None => "; a Rust policy traps when it panics",
        };
        message.push_str(hint);
        message.push_str(", see docs/write-a-policy.md");
    }
    message
}

/// A function name as an author would write it: a Rust symbol (legacy or v0 mangling)
/// demangled without its hash; other names unchanged.
pub(crate) fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// Whether a demangled name is the Rust runtime's (the panic machinery a trap starts in).
fn runtime(name: &str) -> bool {
    [
        "std::",
        "core::",
        "alloc::",
        "__rustc::",
        "<std::",
        "<core::",
        "<alloc::",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_are_demangled_without_their_hash() {
        assert_eq!(
            demangle("_ZN4core9panicking9panic_fmt17h0123456789abcdefE"),
            "core::panicking::panic_fmt"
        );
        assert_eq!(
            demangle("_RNvNtCsebHcaeoSrxy_3std9panicking15panic_with_hook"),
            "std::panicking::panic_with_hook"
        );
        assert_eq!(
            demangle("_PyEval_EvalFrameDefault"),
            "_PyEval_EvalFrameDefault"
        );
        assert!(runtime("std::panicking::panic_with_hook"));
        assert!(!runtime("tollgate_hostile_trap::evaluate"));
    }

    #[test]
    fn the_producers_name_the_language() {
        let mut js = vec![0u8; 100];
        js.extend_from_slice(b"processed-by\x02\x0dwit-component\x070.259.0\x0eComponentizeJS");
        assert_eq!(language(&js), Some(Language::JavaScript));
        assert_eq!(language(b"...componentize_py..."), Some(Language::Python));
        assert_eq!(language(b"\0asm"), None);
    }
}
