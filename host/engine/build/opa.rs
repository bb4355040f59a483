//! The OPA Wasm ABI 1.3 modules: how they are linked and the globals added after linking.
//!
//! OPA's hosts read the ABI version from two exported immutable `i32` globals,
//! `opa_wasm_abi_version` and `opa_wasm_abi_minor_version`. Rust cannot define a wasm global (a
//! `static` exports its address), so they are added to the linked module here with `wasm-encoder`;
//! every other section is copied unchanged.

use std::ops::Range;

use wasm_encoder::{
    ConstExpr, ExportKind, ExportSection, GlobalSection, GlobalType, RawSection, ValType,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, Validator};

/// Environment of the nested OPA build: the memory is imported (`env.memory`) with a minimum of
/// two pages and no maximum, as every OPA host can supply; a 64 KiB stack and the static data fit
/// in those pages (the policies need a few KiB of stack); the
/// module is optimised for size and its symbol names stripped.
pub const BUILD_ENV: &[(&str, &str)] = &[
    (
        super::GUEST_RUSTFLAGS_VAR,
        "-Clink-arg=--import-memory -Clink-arg=--export-memory -Clink-arg=--initial-memory=131072 -Clink-arg=-zstack-size=65536",
    ),
    ("CARGO_PROFILE_POLICY_OPT_LEVEL", "z"),
    ("CARGO_PROFILE_POLICY_STRIP", "symbols"),
];

/// The ABI version the globals carry.
const ABI_GLOBALS: [(&str, i32); 2] = [
    ("opa_wasm_abi_version", 1),
    ("opa_wasm_abi_minor_version", 3),
];

/// Returns the module with the ABI version globals defined and exported, validated.
pub fn add_abi_globals(module: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = wasm_encoder::Module::new();
    let mut imported_globals = 0u32;
    let mut defined_globals = None;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| format!("not a wasm module: {e}"))?;
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    if matches!(import.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                copy(&mut out, module, 2, reader.range())?;
            }
            Payload::GlobalSection(reader) => {
                let end = reader.range().end;
                let count = reader.count();
                let mut starts = Vec::new();
                for item in reader.into_iter_with_offsets() {
                    let (offset, _) = item.map_err(|e| e.to_string())?;
                    starts.push(offset);
                }
                let mut globals = GlobalSection::new();
                for (i, start) in starts.iter().enumerate() {
                    let stop = starts.get(i + 1).copied().unwrap_or(end);
                    globals.raw(slice(module, *start..stop)?);
                }
                for (_, version) in ABI_GLOBALS {
                    globals.global(
                        GlobalType {
                            val_type: ValType::I32,
                            mutable: false,
                            shared: false,
                        },
                        &ConstExpr::i32_const(version),
                    );
                }
                defined_globals = Some(count);
                out.section(&globals);
            }
            Payload::ExportSection(reader) => {
                let first = imported_globals
                    + defined_globals
                        .ok_or("the module has no global section before its exports")?;
                let mut exports = ExportSection::new();
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    if ABI_GLOBALS.iter().any(|(name, _)| *name == export.name) {
                        return Err(format!("the module already exports `{}`", export.name));
                    }
                    exports.export(export.name, export_kind(export.kind)?, export.index);
                }
                for ((name, _), index) in ABI_GLOBALS.iter().zip(first..) {
                    exports.export(name, ExportKind::Global, index);
                }
                out.section(&exports);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    copy(&mut out, module, id, range)?;
                }
            }
        }
    }
    let bytes = out.finish();
    Validator::new()
        .validate_all(&bytes)
        .map_err(|e| format!("the module with the ABI globals does not validate: {e}"))?;
    Ok(bytes)
}

fn copy(
    out: &mut wasm_encoder::Module,
    module: &[u8],
    id: u8,
    range: Range<u64>,
) -> Result<(), String> {
    out.section(&RawSection {
        id,
        data: slice(module, range)?,
    });
    Ok(())
}

fn slice(module: &[u8], range: Range<u64>) -> Result<&[u8], String> {
    usize::try_from(range.start)
        .ok()
        .zip(usize::try_from(range.end).ok())
        .and_then(|(start, end)| module.get(start..end))
        .ok_or_else(|| "a section lies outside the module".to_owned())
}

fn export_kind(kind: ExternalKind) -> Result<ExportKind, String> {
    Ok(match kind {
        ExternalKind::Func => ExportKind::Func,
        ExternalKind::Table => ExportKind::Table,
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Tag => ExportKind::Tag,
        other => return Err(format!("unexpected export kind {other:?}")),
    })
}
