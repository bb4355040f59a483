//! Tracing a pack while its author debugs it (`tollgate test --trace`): a pack built for debugging
//! (componentize-js with its `stdio` feature, componentize-py without `--stub-wasi`) imports WASI,
//! and only an engine with tracing on links it. That WASI is closed: no directory, no environment
//! variable, no argument, no network, an empty stdin; what the pack writes to stdout and stderr is
//! captured per call (up to [`CAPTURE_BYTES`] each) for the author to read. Clocks and random
//! numbers are the host's, so a traced run is not reproducible, and tracing is never on in `eval`,
//! `serve` or any other command: there, such a component is refused with its WASI imports named.

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::ItemInfo;

/// The most of stdout and of stderr kept per call; a pack writing more gets a write error.
pub const CAPTURE_BYTES: usize = 1 << 20;

/// The closed WASI of one traced store and its captured output.
pub(crate) struct TraceStdio {
    ctx: WasiCtx,
    table: ResourceTable,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl TraceStdio {
    /// A WASI with nothing to reach, its stdout and stderr captured.
    pub(crate) fn closed() -> Self {
        let stdout = MemoryOutputPipe::new(CAPTURE_BYTES);
        let stderr = MemoryOutputPipe::new(CAPTURE_BYTES);
        let ctx = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            ctx,
            table: ResourceTable::new(),
            stdout,
            stderr,
        }
    }

    /// What the pack wrote, stdout then stderr, as text (invalid UTF-8 replaced).
    pub(crate) fn output(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stdout.contents()).into_owned();
        text.push_str(&String::from_utf8_lossy(&self.stderr.contents()));
        text
    }

    /// The view the WASI implementation works on.
    pub(crate) fn view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Whether an import is a WASI interface, which only a tracing engine links.
pub(crate) fn is_wasi(item: &ItemInfo) -> bool {
    item.name.starts_with("wasi:")
}

/// Links the closed WASI into a tracing engine's linker.
pub(crate) fn link<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)
}
