//! The OPA Wasm ABI on `wasm32`: a bump heap whose cursor is OPA's heap pointer, values behind
//! addresses, the evaluation context, `opa_eval` and the imports `opa_abort` and `opa_builtin0`.
//! [`export_opa!`](crate::export_opa) exports these functions under their ABI names.
//!
//! Nothing here caches the memory size or survives `opa_heap_ptr_set`: the only state is the
//! cursor, and every value lives on the heap above the pointer the host saved before creating it.
#![allow(
    unsafe_code,
    reason = "the ABI passes raw linear-memory addresses; this module is where they become Rust values"
)]

use alloc::boxed::Box;
use alloc::string::String;
use core::arch::wasm32;

use tollgate_bindings_heap::{BumpHeap, ByHost, LinearMemory};
use tollgate_manifest::JsonNumber;
use tollgate_rules::Policy;

use crate::value::{Json, OpaValue};
use crate::{Entrypoint, abort_message, result_set};

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// Aborts the evaluation with a NUL-terminated message; never returns normally.
    fn opa_abort(message: u32);
    /// Calls the host's built-in `id` (only `time.now_ns`, id 0) and returns its value's address.
    fn opa_builtin0(id: u32, ctx: u32) -> u32;
}

/// The module's heap and global allocator: a bump heap whose cursor is OPA's heap pointer. Freeing
/// is a no-op; the host resets the heap between evaluations.
#[global_allocator]
static HEAP: BumpHeap<LinearMemory, ByHost> = BumpHeap::new(LinearMemory);

/// Aborts the evaluation through `opa_abort`.
pub fn abort(message: &str) -> ! {
    let address = c_string(message);
    // SAFETY: the import takes the address of a NUL-terminated string in this memory.
    unsafe { opa_abort(address) };
    wasm32::unreachable()
}

/// Writes a NUL-terminated copy of `text` to the heap and returns its address.
fn c_string(text: &str) -> u32 {
    let mut owned = String::with_capacity(text.len() + 1);
    owned.push_str(text);
    owned.push('\0');
    owned.leak().as_ptr() as u32
}

/// Moves a value to the heap and returns its address.
fn store(value: OpaValue) -> u32 {
    Box::into_raw(Box::new(value)) as u32
}

/// The value at an address the module returned (0: none).
fn value<'a>(address: u32) -> Option<&'a OpaValue> {
    // SAFETY: hosts pass back only addresses this module returned for values, which stay valid
    // until the host resets the heap below them.
    (address != 0).then(|| unsafe { &*(address as *const OpaValue) })
}

fn value_mut<'a>(address: u32) -> Option<&'a mut OpaValue> {
    // SAFETY: as in `value`; the host does not hold another reference into the module's memory.
    (address != 0).then(|| unsafe { &mut *(address as *mut OpaValue) })
}

/// The bytes at `[address, address + len)`.
fn bytes<'a>(address: u32, len: u32) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the host wrote `len` bytes at `address` in this memory before the call.
    unsafe { core::slice::from_raw_parts(address as *const u8, len as usize) }
}

/// `opa_malloc`.
pub fn malloc(size: u32) -> u32 {
    HEAP.bump(size as usize, 8)
        .map_or_else(|| abort("opa_malloc: out of memory"), |at| at as u32)
}

/// `opa_heap_ptr_get`.
pub fn heap_ptr_get() -> u32 {
    HEAP.cursor() as u32
}

/// `opa_heap_ptr_set`.
pub fn heap_ptr_set(address: u32) {
    HEAP.set_cursor(address as usize);
}

/// `opa_json_parse`: 0 when the bytes are not JSON.
pub fn json_parse(address: u32, len: u32) -> u32 {
    OpaValue::parse_json(bytes(address, len)).map_or(0, store)
}

/// `opa_value_parse`: 0 when the bytes are not a value.
pub fn value_parse(address: u32, len: u32) -> u32 {
    OpaValue::parse_value(bytes(address, len)).map_or(0, store)
}

/// `opa_json_dump` and `opa_value_dump`.
pub fn dump(address: u32) -> u32 {
    match value(address) {
        Some(value) => c_string(&value.dump()),
        None => abort("opa_json_dump: no value at address 0"),
    }
}

/// `opa_value_add_path`.
pub fn value_add_path(base: u32, path: u32, addition: u32) -> i32 {
    let (Some(base), Some(path), Some(addition)) = (value_mut(base), value(path), value(addition))
    else {
        return crate::value::code::INTERNAL;
    };
    match addition.to_json() {
        Some(addition) => base.add_path(path, addition),
        None => crate::value::code::INTERNAL,
    }
}

/// `opa_value_remove_path`.
pub fn value_remove_path(base: u32, path: u32) -> i32 {
    match (value_mut(base), value(path)) {
        (Some(base), Some(path)) => base.remove_path(path),
        _ => crate::value::code::INTERNAL,
    }
}

/// `entrypoints`.
pub fn entrypoints(framework: &str) -> u32 {
    store(OpaValue::Json(crate::entrypoints(framework)))
}

/// `builtins`.
pub fn builtins() -> u32 {
    store(OpaValue::Json(crate::builtins()))
}

/// An evaluation context of the (pre-`opa_eval`) context path.
struct Context {
    input: u32,
    data: u32,
    entrypoint: Entrypoint,
    result: u32,
}

fn context<'a>(address: u32) -> &'a mut Context {
    if address == 0 {
        abort("no evaluation context at address 0");
    }
    // SAFETY: hosts pass back the address `opa_eval_ctx_new` returned.
    unsafe { &mut *(address as *mut Context) }
}

/// `opa_eval_ctx_new`.
pub fn ctx_new() -> u32 {
    Box::into_raw(Box::new(Context {
        input: 0,
        data: 0,
        entrypoint: Entrypoint::Decision,
        result: 0,
    })) as u32
}

/// `opa_eval_ctx_set_input`.
pub fn ctx_set_input(ctx: u32, input: u32) {
    context(ctx).input = input;
}

/// `opa_eval_ctx_set_data`.
pub fn ctx_set_data(ctx: u32, data: u32) {
    context(ctx).data = data;
}

/// `opa_eval_ctx_set_entrypoint`: aborts on an unknown id.
pub fn ctx_set_entrypoint(ctx: u32, id: i32) {
    context(ctx).entrypoint = entrypoint(id);
}

/// `opa_eval_ctx_get_result`: the result set.
pub fn ctx_get_result(ctx: u32) -> u32 {
    context(ctx).result
}

fn entrypoint(id: i32) -> Entrypoint {
    Entrypoint::from_id(id).unwrap_or_else(|| {
        abort(&alloc::format!(
            "tollgate: unknown entrypoint id {id} (0 decision, 1 allow, 2 deny)"
        ))
    })
}

/// `eval`: evaluates the context's entrypoint and stores the result set in it.
pub fn eval<P: Policy>(policy: &P, framework: &str, ctx: u32) -> u32 {
    let context = context(ctx);
    let input = value(context.input).map(OpaValue::dump);
    let data = value(context.data).and_then(OpaValue::to_json);
    let result = run(
        policy,
        framework,
        context.entrypoint,
        input.as_deref(),
        data.as_ref(),
    );
    context.result = store(OpaValue::Text(result_set(&result, 0)));
    0
}

/// `opa_eval`: the single-call path. Input is JSON text the host wrote below `heap_ptr`.
#[allow(clippy::too_many_arguments, reason = "the ABI's signature")]
pub fn opa_eval<P: Policy>(
    policy: &P,
    framework: &str,
    _reserved: u32,
    entrypoint_id: i32,
    data: u32,
    input: u32,
    input_len: u32,
    heap_ptr: u32,
    format: i32,
) -> u32 {
    heap_ptr_set(heap_ptr);
    let entrypoint = entrypoint(entrypoint_id);
    let input = match input_len {
        0 => None,
        _ => match core::str::from_utf8(bytes(input, input_len)) {
            Ok(text) => Some(text.trim_end_matches('\0')),
            Err(_) => abort("tollgate: invalid manifest: `input` is not UTF-8 text"),
        },
    };
    let data = match value(data) {
        Some(OpaValue::Json(data)) => Some(data),
        _ => None,
    };
    let result = run(policy, framework, entrypoint, input, data);
    c_string(&result_set(&result, format))
}

/// Evaluates, or aborts with the error.
fn run<P: Policy>(
    policy: &P,
    framework: &str,
    entrypoint: Entrypoint,
    input: Option<&str>,
    data: Option<&Json>,
) -> String {
    crate::evaluate(policy, framework, entrypoint, input, data, now_ns)
        .unwrap_or_else(|error| abort(&abort_message(&error)))
}

/// The host's `time.now_ns`.
fn now_ns() -> Option<i64> {
    // SAFETY: builtin 0 is `time.now_ns` (see `builtins`), which takes no argument.
    let address = unsafe { opa_builtin0(0, 0) };
    match value(address)? {
        // As serde_json's `as_i64`, else `as_f64` (saturating).
        OpaValue::Json(Json::Number(n)) => Some(match n {
            JsonNumber::Unsigned(n) => i64::try_from(*n).unwrap_or(*n as f64 as i64),
            JsonNumber::Negative(n) => *n,
            JsonNumber::Float(f, _) => *f as i64,
        }),
        _ => None,
    }
}
