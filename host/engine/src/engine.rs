//! The wasmtime engine, configured once: pooling allocator, epoch deadline with a background ticker,
//! per-store memory and table limits, and a bounded wasm stack.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;

use wasmtime::Engine;
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::cache::Cache;
use crate::code_memory;
use crate::error::HostError;
use crate::trace::TraceStdio;
use crate::tunables::{EPOCH_TICK, Limits, PolicyLimits, TABLE_ELEMENTS, config, pooling};
use tollgate_pipeline::ErrorChain;
use tollgate_pipeline::Resource;

/// Loads and runs policy components. One wasmtime engine, configured once; cheap to share by
/// reference across threads.
pub struct PolicyEngine {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) cache: Option<Cache>,
    /// Limits of given policies, by policy id, overriding the engine's.
    pub(crate) policy_limits: BTreeMap<String, PolicyLimits>,
    /// Whether policies loaded from now on may import WASI, closed, with their output captured
    /// ([`crate::trace`]): `tollgate test --trace` only.
    pub(crate) trace: bool,
}

/// What every loaded policy of an engine shares: the engine, its limits and the epoch ticker. The
/// ticker runs until the engine and every policy loaded from it are dropped.
pub(crate) struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) limits: Limits,
    /// The alignment code must have to be published where it lies, if the engine publishes code
    /// in place ([`crate::code_memory`]).
    pub(crate) code_alignment: Option<usize>,
    _ticker: Ticker,
}

impl PolicyEngine {
    /// Creates an engine with the given limits. `cache_dir` is where compiled components are cached;
    /// `None` disables the cache.
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, HostError> {
        let code_memory = code_memory::code_memory();
        let code_alignment = code_memory.as_ref().map(|m| m.required_alignment());
        // At most one fiber stack per instance: the stack pool of wasmtime's `async` feature
        // (which WASI brings in) otherwise counts 1,000 stacks of 2 MiB, each behind a guard page
        // that is `mprotect`ed at every engine start, whether or not any call is async. Not in
        // `pooling` (which the build script shares): stacks do not change compiled code.
        let mut pool = pooling(&limits);
        pool.total_stacks(limits.max_instances.max(1));
        let mut config = config(&limits, pool);
        config.with_custom_code_memory(code_memory);
        let engine = Engine::new(&config).map_err(HostError::Engine)?;
        let ticker = Ticker::start(&engine)?;
        let cache = cache_dir.map(|dir| Cache::new(dir, &engine));
        Ok(Self {
            runtime: Arc::new(Runtime {
                engine,
                limits,
                code_alignment,
                _ticker: ticker,
            }),
            cache,
            policy_limits: BTreeMap::new(),
            trace: false,
        })
    }

    /// Sets the limits of given policies, by policy id: a policy loaded afterwards runs under its
    /// own deadline and memory limit where set. Before a policy's id is known (its metadata call
    /// at load) the largest of the configured limits apply. Fails if a limit is out of bounds.
    pub fn set_policy_limits(
        &mut self,
        limits: BTreeMap<String, PolicyLimits>,
    ) -> Result<(), HostError> {
        for (policy, limit) in &limits {
            limit.check().map_err(|reason| HostError::Limits {
                policy: policy.clone(),
                reason,
            })?;
        }
        self.policy_limits = limits;
        Ok(())
    }

    /// Lets policies loaded from now on import WASI, closed (no files, environment, arguments or
    /// network; the host's clocks and random numbers), and captures what they write to stdout
    /// and stderr ([`LoadedPolicy::take_trace`](crate::LoadedPolicy::take_trace)). For a pack's
    /// author debugging it (`tollgate test --trace`); never for a gate.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// The limits set for the policy `id` (none set: the engine's).
    pub fn policy_limits(&self, id: &str) -> PolicyLimits {
        self.policy_limits.get(id).copied().unwrap_or_default()
    }

    /// Caps the compiled-component cache at `bytes` (default
    /// [`DEFAULT_CACHE_MAX_BYTES`](crate::DEFAULT_CACHE_MAX_BYTES)): after each write, the least
    /// recently used entries are removed until the cache fits.
    pub fn set_cache_max_bytes(&mut self, bytes: u64) {
        if let Some(cache) = &mut self.cache {
            cache.set_max_bytes(bytes);
        }
    }

    /// The limits applied to every evaluation.
    pub fn limits(&self) -> &Limits {
        &self.runtime.limits
    }

    /// The directory of the compiled-component cache, if enabled.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache.as_ref().map(Cache::dir)
    }
}

/// A background thread that increments the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: &Engine) -> Result<Self, HostError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let engine = engine.weak();
        let thread = std::thread::Builder::new()
            .name("tollgate-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(HostError::Ticker)?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and ticks; it cannot panic, and a failed join leaves nothing to do.
            let _ = thread.join();
        }
    }
}

/// Data of every store: the resource limiter.
pub(crate) struct StoreState {
    pub(crate) limiter: Limiter,
    /// The closed WASI of a traced policy, made when the policy first calls it.
    pub(crate) trace: Option<Box<TraceStdio>>,
}

/// Only a tracing engine links WASI ([`crate::trace`]), so only a traced policy reaches this.
impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.trace
            .get_or_insert_with(|| Box::new(TraceStdio::closed()))
            .view()
    }
}

/// Enforces the memory and table limits, and records which was hit so that a failure can be
/// reported as a resource limit rather than a bare trap.
pub(crate) struct Limiter {
    pub(crate) memory_bytes: usize,
    pub(crate) exceeded: Option<(Resource, String)>,
}

impl Limiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            memory_bytes,
            exceeded: None,
        }
    }

    fn exceed(&mut self, resource: Resource, detail: String) -> wasmtime::Error {
        let error = wasmtime::Error::msg(format!("{resource} limit exceeded: {detail}"));
        self.exceeded.get_or_insert((resource, detail));
        error
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            let limit = self.memory_bytes;
            return Err(self.exceed(
                Resource::Memory,
                format!("memory of {current} bytes would grow to {desired} bytes, over the {limit}-byte limit"),
            ));
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        let detail = format!("memory growth failed: {}", ErrorChain(&*error));
        Err(self.exceed(Resource::Memory, detail))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > TABLE_ELEMENTS {
            return Err(self.exceed(
                Resource::Table,
                format!("table of {current} elements would grow to {desired}, over the {TABLE_ELEMENTS}-element limit"),
            ));
        }
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        let detail = format!("table growth failed: {}", ErrorChain(&*error));
        Err(self.exceed(Resource::Table, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_and_policies_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<PolicyEngine>();
        shareable::<crate::LoadedPolicy>();
    }
}
