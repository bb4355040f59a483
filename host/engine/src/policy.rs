//! Loading policy components and evaluating manifests with them.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tollgate_decision::{Decision, PolicyMetadata};
use tollgate_manifest::{Manifest, Timestamp};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap};

use crate::bindings::{v0_1, v0_2, v0_3, v0_4};
use crate::convert;
use crate::engine::{Limiter, PolicyEngine, Runtime, StoreState};
use crate::error::HostError;
use crate::trace;
use crate::trap::{self, Language};
use crate::tunables::PolicyLimits;
use tollgate_pipeline::ErrorChain;
use tollgate_pipeline::{Evaluator, PolicyFailure, Resource, contract};

/// A policy component embedded in the binary.
#[derive(Debug)]
pub struct BuiltinPack {
    /// Policy name (`sox`, `hipaa`, `pci`).
    pub name: &'static str,
    /// The component's bytes.
    pub bytes: &'static [u8],
    /// The SHA-256 of `bytes`, in hex, computed by the build.
    pub sha256: &'static str,
    /// The component compiled by the build for the build's machine and the engine's default
    /// configuration; empty when the build cross-compiled.
    pub precompiled: &'static [u8],
}

mod builtin {
    use super::BuiltinPack;
    use crate::code_memory::PageAligned;
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// The built-in policy packs: SOX, HIPAA and PCI DSS, compiled from `policies/` by the build.
pub fn builtin_packs() -> &'static [BuiltinPack] {
    builtin::BUILTIN_PACKS
}

/// Looks up a built-in pack by name.
pub fn builtin_pack(name: &str) -> Option<&'static BuiltinPack> {
    builtin_packs().iter().find(|p| p.name == name)
}

/// Where a policy component comes from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// A built-in pack.
    Builtin(&'static BuiltinPack),
    /// A component file.
    File(PathBuf),
    /// Component bytes, with a name for messages.
    Bytes {
        /// Name used in messages.
        name: String,
        /// The component's bytes.
        bytes: Vec<u8>,
    },
}

impl PolicySource {
    /// The name used in messages: the built-in name, the file path or the given name.
    pub fn name(&self) -> String {
        match self {
            Self::Builtin(pack) => pack.name.to_owned(),
            Self::File(path) => path.display().to_string(),
            Self::Bytes { name, .. } => name.clone(),
        }
    }
}

/// One import or export of a component.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemInfo {
    /// Name of the item, for example `evaluate` or `tollgate:policy/manifest@0.2.0`.
    pub name: String,
    /// Kind of the item: `function`, `instance`, `type`, `resource`, `module` or `component`.
    pub kind: &'static str,
    /// Items of an instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemInfo>,
}

impl fmt::Display for ItemInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)?;
        if is_types_only(self) {
            write!(f, " (types only: {} types)", self.items.len())?;
        } else if !self.items.is_empty() {
            let names: Vec<&str> = self.items.iter().map(|i| i.name.as_str()).collect();
            write!(f, " {{ {} }}", names.join(", "))?;
        }
        Ok(())
    }
}

/// How the instances that run a policy's calls are isolated from each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// Every call runs in a fresh store and instance: nothing a call leaves in the policy's memory
    /// is seen by the next. The default.
    #[default]
    Fresh,
    /// An instance is kept between calls (one per concurrent caller) and reset before each: a new
    /// deadline, cleared limit records, and an instance whose call failed is never used again. What
    /// a call leaves in the policy's linear memory is seen by the next call, so this is only for
    /// policies trusted to be pure functions of their input (the built-in packs, benchmarks).
    Reused,
}

/// The contract a component implements: the current `tollgate:policy@0.4.0`, or an earlier one
/// whose results the host maps into the current types (and whose manifests leave out what it cannot
/// express).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `tollgate:policy@0.1.0`: control statuses `compliant`, `non-compliant`, `not-applicable`.
    V0_1,
    /// `tollgate:policy@0.2.0`: adds the `not-assessed` and `pending` control statuses.
    V0_2,
    /// `tollgate:policy@0.3.0`: declared settings and extension schemas, extension facts in the
    /// context, findings without references, optional risk and routing.
    V0_3,
    /// `tollgate:policy@0.4.0`: the `gxp` data class and approvals' signature meanings.
    V0_4,
}

impl Contract {
    /// The contract components are built for today.
    pub const CURRENT: Self = Self::V0_4;

    /// Every contract this host loads, oldest first.
    pub const ALL: [Self; 4] = [Self::V0_1, Self::V0_2, Self::V0_3, Self::V0_4];

    /// The WIT package name and version, for example `tollgate:policy@0.2.0`.
    pub fn abi(self) -> &'static str {
        match self {
            Self::V0_1 => "tollgate:policy@0.1.0",
            Self::V0_2 => "tollgate:policy@0.2.0",
            Self::V0_3 => "tollgate:policy@0.3.0",
            Self::V0_4 => "tollgate:policy@0.4.0",
        }
    }

    /// The contract named by `abi` (`tollgate:policy@X.Y.Z`), if this host loads it.
    pub fn from_abi(abi: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.abi() == abi)
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abi())
    }
}

/// A compiled, pre-instantiated policy with its metadata. By default every call runs in a fresh
/// store ([`Isolation::Fresh`]).
pub struct LoadedPolicy {
    runner: Runner,
    metadata: PolicyMetadata,
    digest: String,
    size: usize,
    from_cache: bool,
    /// Whether the component was the build's precompiled code embedded in the binary.
    precompiled: bool,
    imports: Vec<ItemInfo>,
    exports: Vec<ItemInfo>,
}

impl fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("id", &self.metadata.id)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    /// Compiles (or loads from the cache) and pre-instantiates a policy, then reads its metadata.
    ///
    /// Fails if the bytes are not a component, if the component imports anything, if it does not
    /// export the `tollgate:policy/policy` world, or if reading its metadata fails.
    pub fn load(&self, source: PolicySource) -> Result<LoadedPolicy, HostError> {
        let name = source.name();
        let owned;
        let bytes: &[u8] = match &source {
            PolicySource::Builtin(pack) => pack.bytes,
            PolicySource::Bytes { bytes, .. } => bytes,
            PolicySource::File(path) => {
                owned = std::fs::read(path).map_err(|error| HostError::Read {
                    path: path.clone(),
                    error,
                })?;
                &owned
            }
        };
        check_header(&name, bytes)?;
        let engine = &self.runtime.engine;
        // A built-in pack's digest was computed by the build; other bytes are hashed here.
        let digest_hex = match &source {
            PolicySource::Builtin(pack) => pack.sha256.to_owned(),
            PolicySource::File(_) | PolicySource::Bytes { .. } => {
                hex::encode(Sha256::digest(bytes))
            }
        };
        let embedded = match &source {
            PolicySource::Builtin(pack) => {
                crate::cache::embedded(engine, pack.precompiled, self.runtime.code_alignment)
            }
            PolicySource::File(_) | PolicySource::Bytes { .. } => None,
        };
        let precompiled = embedded.is_some();
        let cached = embedded.or_else(|| {
            self.cache
                .as_ref()
                .and_then(|cache| cache.load(engine, &digest_hex))
        });
        let from_cache = cached.is_some() && !precompiled;
        let component = match cached {
            Some(component) => component,
            None => {
                let component =
                    Component::new(engine, bytes).map_err(|error| HostError::Compile {
                        name: name.clone(),
                        error,
                    })?;
                if let Some(cache) = &self.cache {
                    cache.store(&component, &digest_hex);
                }
                component
            }
        };

        let imports = imports(engine, &component);
        let exports = exports(engine, &component);
        let linker = linker(engine, &name, &imports, self.trace)?;
        let pre = bind(&linker, &component).map_err(|error| HostError::World {
            name: name.clone(),
            error,
        })?;

        // The policy's id is known once its metadata is read: until then, the largest configured
        // limits apply.
        let before_id = self
            .policy_limits
            .values()
            .fold(PolicyLimits::default(), |a, b| a.max(*b));
        let mut runner = Runner {
            deadline: before_id.deadline.unwrap_or(self.runtime.limits.deadline),
            memory_bytes: before_id
                .memory_bytes
                .unwrap_or(self.runtime.limits.memory_bytes),
            runtime: Arc::clone(&self.runtime),
            pre,
            isolation: Isolation::Fresh,
            idle: Mutex::new(Vec::new()),
            language: trap::language(bytes),
            trace: self.trace.then(|| Mutex::new(String::new())),
        };
        let metadata = runner
            .call("metadata", |store, exports| match exports {
                Exports::V0_4(p) => p.call_metadata(store).map(convert::v0_4::metadata),
                Exports::V0_3(p) => p.call_metadata(store).map(convert::v0_4::metadata),
                Exports::V0_2(p) => p.call_metadata(store).map(convert::v0_2::metadata),
                Exports::V0_1(p) => p.call_metadata(store).map(convert::v0_1::metadata),
            })
            .and_then(|m| contract::check_metadata(&m).map(|()| m))
            .map_err(|failure| HostError::Metadata { name, failure })?;
        runner.apply(self.policy_limits(&metadata.id));
        Ok(LoadedPolicy {
            runner,
            metadata,
            digest: format!("sha256:{digest_hex}"),
            size: bytes.len(),
            from_cache,
            precompiled,
            imports,
            exports,
        })
    }
}

/// Binds a component to the newest contract world it implements: 0.4.0, else 0.3.0, else 0.2.0,
/// else 0.1.0. The error is 0.4.0's when none fits.
fn bind(linker: &Linker<StoreState>, component: &Component) -> wasmtime::Result<Pre> {
    let instance = linker.instantiate_pre(component)?;
    let current = match v0_4::PolicyPre::new(instance.clone()) {
        Ok(pre) => return Ok(Pre::V0_4(pre)),
        Err(current) => current,
    };
    if let Ok(pre) = v0_3::PolicyPre::new(instance.clone()) {
        return Ok(Pre::V0_3(pre));
    }
    if let Ok(pre) = v0_2::PolicyPre::new(instance.clone()) {
        return Ok(Pre::V0_2(pre));
    }
    v0_1::PolicyPre::new(instance)
        .map(Pre::V0_1)
        .map_err(|_| current)
}

/// Refuses bytes that are not a component before compiling them, with a message in plain words
/// (the compiler's own error for such input is a debug dump of byte arrays).
fn check_header(name: &str, bytes: &[u8]) -> Result<(), HostError> {
    let refuse = |reason| {
        Err(HostError::NotComponent {
            name: name.to_owned(),
            reason,
        })
    };
    match bytes.get(..8) {
        Some([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) => refuse(
            "it is a core WebAssembly module; make a component of it with `wasm-tools component new` (wit-component)",
        ),
        Some([0x00, 0x61, 0x73, 0x6d, ..]) => {
            refuse("it is WebAssembly of a version this host does not read")
        }
        _ => refuse("the file does not start with the WebAssembly magic bytes `\\0asm`"),
    }
}

/// Builds the linker: empty, except that imports of interfaces that only carry types (such as the
/// contract's `manifest` and `decision` interfaces) are satisfied by empty instances, and that a
/// tracing engine links the closed WASI of [`trace`]. Anything else imported is refused.
fn linker(
    engine: &Engine,
    name: &str,
    imports: &[ItemInfo],
    trace: bool,
) -> Result<Linker<StoreState>, HostError> {
    let wasi = |i: &ItemInfo| trace && trace::is_wasi(i);
    let refused: Vec<String> = imports
        .iter()
        .filter(|i| !is_types_only(i) && !wasi(i))
        .map(|i| i.name.clone())
        .collect();
    if !refused.is_empty() {
        return Err(HostError::Imports {
            name: name.to_owned(),
            imports: refused,
        });
    }
    let world = |error| HostError::World {
        name: name.to_owned(),
        error,
    };
    let mut linker = Linker::new(engine);
    if imports.iter().any(wasi) {
        trace::link(&mut linker).map_err(world)?;
    }
    for import in imports.iter().filter(|i| !wasi(i)) {
        linker.instance(&import.name).map_err(world)?;
    }
    Ok(linker)
}

fn is_types_only(item: &ItemInfo) -> bool {
    item.kind == "instance" && item.items.iter().all(|i| i.kind == "type")
}

fn imports(engine: &Engine, component: &Component) -> Vec<ItemInfo> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, item)| describe(engine, name, &item.ty))
        .collect()
}

fn exports(engine: &Engine, component: &Component) -> Vec<ItemInfo> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, item)| describe(engine, name, &item.ty))
        .collect()
}

fn describe(engine: &Engine, name: &str, item: &ComponentItem) -> ItemInfo {
    let (kind, items) = match item {
        ComponentItem::ComponentFunc(_) | ComponentItem::CoreFunc(_) => ("function", Vec::new()),
        ComponentItem::Module(_) => ("module", Vec::new()),
        ComponentItem::Component(_) => ("component", Vec::new()),
        ComponentItem::ComponentInstance(instance) => (
            "instance",
            instance
                .exports(engine)
                .map(|(n, i)| describe(engine, n, &i.ty))
                .collect(),
        ),
        ComponentItem::Type(_) => ("type", Vec::new()),
        ComponentItem::Resource(_) => ("resource", Vec::new()),
    };
    ItemInfo {
        name: name.to_owned(),
        kind,
        items,
    }
}

impl LoadedPolicy {
    /// The policy's identity and control catalogue, read once at load.
    pub fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }

    /// `sha256:<hex>` of the component's bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Size of the component, in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How calls are isolated from each other.
    pub fn isolation(&self) -> Isolation {
        self.runner.isolation
    }

    /// What the policy wrote to stdout and stderr since the last call of this, when it was loaded
    /// by a tracing engine ([`PolicyEngine::set_trace`](crate::PolicyEngine::set_trace)); `None`
    /// otherwise.
    pub fn take_trace(&self) -> Option<String> {
        self.runner
            .trace
            .as_ref()
            .map(|kept| std::mem::take(&mut *kept.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    /// Sets how calls are isolated from each other; instances kept for reuse are dropped.
    pub fn set_isolation(&mut self, isolation: Isolation) {
        self.runner.isolation = isolation;
        self.runner.idle_instances().clear();
    }

    /// Sets this policy's own deadline and memory limit (`None`: the engine's); instances kept
    /// for reuse are dropped. Fails if a limit is out of bounds.
    pub fn set_limits(&mut self, limits: PolicyLimits) -> Result<(), HostError> {
        limits.check().map_err(|reason| HostError::Limits {
            policy: self.metadata.id.clone(),
            reason,
        })?;
        self.runner.apply(limits);
        Ok(())
    }

    /// The deadline of one call of this policy.
    pub fn deadline(&self) -> Duration {
        self.runner.deadline
    }

    /// The largest linear memory of this policy's instances, in bytes.
    pub fn memory_limit(&self) -> usize {
        self.runner.memory_bytes
    }

    /// Whether the compiled component came from the disk cache.
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    /// Whether the built-in pack's code precompiled by the build was used (nothing compiled, no
    /// cache read).
    pub fn loaded_precompiled(&self) -> bool {
        self.precompiled
    }

    /// The contract the component implements.
    pub fn contract(&self) -> Contract {
        match self.runner.pre {
            Pre::V0_4(_) => Contract::V0_4,
            Pre::V0_3(_) => Contract::V0_3,
            Pre::V0_2(_) => Contract::V0_2,
            Pre::V0_1(_) => Contract::V0_1,
        }
    }

    /// The component's imports (only type-carrying interfaces, since anything else is refused).
    pub fn imports(&self) -> &[ItemInfo] {
        &self.imports
    }

    /// The component's exports.
    pub fn exports(&self) -> &[ItemInfo] {
        &self.exports
    }

    /// Asks the policy to check its settings (JSON text; empty means defaults).
    pub fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        let result = self
            .runner
            .call("validate-settings", |store, exports| match exports {
                Exports::V0_4(p) => p
                    .call_validate_settings(store, settings_json)
                    .map(|r| r.map_err(convert::v0_4::eval_error)),
                Exports::V0_3(p) => p
                    .call_validate_settings(store, settings_json)
                    .map(|r| r.map_err(convert::v0_4::eval_error)),
                Exports::V0_2(p) => p
                    .call_validate_settings(store, settings_json)
                    .map(|r| r.map_err(convert::v0_2::eval_error)),
                Exports::V0_1(p) => p
                    .call_validate_settings(store, settings_json)
                    .map(|r| r.map_err(convert::v0_1::eval_error)),
            })?;
        result.map_err(PolicyFailure::Eval)
    }

    /// Evaluates a manifest with the given settings (JSON text; empty means defaults) at time `now`.
    /// The decision is returned as the component made it: the pipeline checks it against the
    /// policy contract ([`tollgate_pipeline::contract`]).
    pub fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        let extensions = convert::Extensions::new(manifest, &self.metadata);
        let catalogue = &self.metadata;
        let result = self
            .runner
            .call("evaluate", |store, exports| match exports {
                Exports::V0_4(p) => {
                    use convert::lower_v0_4 as lower;
                    let lists = lower::ManifestLists::new(manifest);
                    let context = v0_4::EvaluationContext {
                        now: lower::timestamp(now),
                        extensions: &extensions
                            .records(|namespace, facts| v0_4::Extension { namespace, facts }),
                    };
                    p.call_evaluate(store, lists.record(), settings_json, context)
                        .map(|r| {
                            r.map(|d| convert::v0_4::decision(d, catalogue))
                                .map_err(convert::v0_4::eval_error)
                        })
                }
                Exports::V0_3(p) => {
                    use convert::lower_v0_3 as lower;
                    let lists = lower::ManifestLists::new(manifest);
                    let context = v0_3::EvaluationContext {
                        now: lower::timestamp(now),
                        extensions: &extensions
                            .records(|namespace, facts| v0_3::Extension { namespace, facts }),
                    };
                    p.call_evaluate(store, lists.record(), settings_json, context)
                        .map(|r| {
                            r.map(|d| convert::v0_4::decision(d, catalogue))
                                .map_err(convert::v0_4::eval_error)
                        })
                }
                Exports::V0_2(p) => {
                    use convert::lower_v0_3 as lower;
                    let lists = lower::ManifestLists::new(manifest);
                    let context = v0_2::EvaluationContext {
                        now: lower::timestamp(now),
                    };
                    p.call_evaluate(store, lists.record(), settings_json, context)
                        .map(|r| {
                            r.map(|d| convert::v0_2::decision(d, catalogue))
                                .map_err(convert::v0_2::eval_error)
                        })
                }
                Exports::V0_1(p) => {
                    use convert::lower_v0_3 as lower;
                    let lists = lower::ManifestLists::new(manifest);
                    let context = v0_1::EvaluationContext {
                        now: lower::timestamp(now),
                    };
                    p.call_evaluate(store, lists.record(), settings_json, context)
                        .map(|r| {
                            r.map(|d| convert::v0_1::decision(d, catalogue))
                                .map_err(convert::v0_1::eval_error)
                        })
                }
            })?;
        result.map_err(PolicyFailure::Eval)
    }
}

/// A component pre-instantiated for the contract it implements.
enum Pre {
    V0_4(v0_4::PolicyPre<StoreState>),
    V0_3(v0_3::PolicyPre<StoreState>),
    V0_2(v0_2::PolicyPre<StoreState>),
    V0_1(v0_1::PolicyPre<StoreState>),
}

/// An instance's typed exports, by contract.
enum Exports {
    V0_4(v0_4::Policy),
    V0_3(v0_3::Policy),
    V0_2(v0_2::Policy),
    V0_1(v0_1::Policy),
}

/// Runs calls of one pre-instantiated component, each in a fresh store unless instances are
/// reused.
struct Runner {
    runtime: Arc<Runtime>,
    /// Deadline of one call: the policy's own, else the engine's.
    deadline: Duration,
    /// Largest linear memory: the policy's own, else the engine's.
    memory_bytes: usize,
    /// The language the component was written in, when its producers say so.
    language: Option<Language>,
    pre: Pre,
    isolation: Isolation,
    /// Instances kept for [`Isolation::Reused`], each in its own store.
    idle: Mutex<Vec<Instance>>,
    /// With tracing on: what the policy wrote to stdout and stderr since it was last taken.
    trace: Option<Mutex<String>>,
}

/// An instance and its store.
struct Instance {
    store: Store<StoreState>,
    policy: Exports,
}

impl Runner {
    /// Sets the policy's own limits (`None`: the engine's); kept instances are dropped.
    fn apply(&mut self, limits: PolicyLimits) {
        self.deadline = limits.deadline.unwrap_or(self.runtime.limits.deadline);
        self.memory_bytes = limits
            .memory_bytes
            .unwrap_or(self.runtime.limits.memory_bytes);
        self.idle_instances().clear();
    }

    /// Runs `f` (a call of the export `export`) under the policy's limits, on a fresh instance in
    /// a fresh store, or on a kept one after resetting it ([`Isolation::Reused`]).
    fn call<R>(
        &self,
        export: &'static str,
        f: impl FnOnce(&mut Store<StoreState>, &Exports) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyFailure> {
        let kept = match self.isolation {
            Isolation::Fresh => None,
            Isolation::Reused => self.idle_instances().pop(),
        };
        let mut instance = match kept {
            Some(mut instance) => {
                self.reset(&mut instance.store);
                instance
            }
            None => {
                let mut store = self.new_store();
                let policy = match &self.pre {
                    Pre::V0_4(pre) => pre.instantiate_checked(&mut store).map(Exports::V0_4),
                    Pre::V0_3(pre) => pre.instantiate_checked(&mut store).map(Exports::V0_3),
                    Pre::V0_2(pre) => pre.instantiate_checked(&mut store).map(Exports::V0_2),
                    Pre::V0_1(pre) => pre.instantiate_checked(&mut store).map(Exports::V0_1),
                };
                match policy {
                    Ok(policy) => Instance { store, policy },
                    Err(error) => return Err(self.classify(&store, &error, export, false)),
                }
            }
        };
        let result = f(&mut instance.store, &instance.policy);
        self.keep_trace(&mut instance.store);
        match result {
            Ok(result) => {
                if self.isolation == Isolation::Reused {
                    self.idle_instances().push(instance);
                }
                Ok(result)
            }
            Err(error) => Err(self.classify(&instance.store, &error, export, true)),
        }
    }

    /// With tracing on, moves what the call wrote out of the store, to [`LoadedPolicy::take_trace`].
    fn keep_trace(&self, store: &mut Store<StoreState>) {
        if let (Some(kept), Some(stdio)) = (&self.trace, store.data_mut().trace.take()) {
            kept.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(&stdio.output());
        }
    }

    fn new_store(&self) -> Store<StoreState> {
        let mut store = Store::new(
            &self.runtime.engine,
            StoreState {
                limiter: Limiter::new(self.memory_bytes),
                trace: None,
            },
        );
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        self.reset(&mut store);
        store
    }

    /// What every call starts with: a whole deadline and no limit recorded as hit.
    fn reset(&self, store: &mut Store<StoreState>) {
        let limiter = &mut store.data_mut().limiter;
        limiter.exceeded = None;
        limiter.memory_bytes = self.memory_bytes;
        store.set_epoch_deadline(crate::tunables::deadline_ticks(self.deadline));
    }

    fn idle_instances(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        // A panic while the lock was held cannot leave the list inconsistent: it is only pushed
        // to and popped from.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The failure a call's error is; the failure is recorded as text, so this is where the error
    /// becomes text, with its sources. `export` is the function called; `called` says whether the
    /// error came from the call rather than from instantiation.
    fn classify(
        &self,
        store: &Store<StoreState>,
        error: &wasmtime::Error,
        export: &str,
        called: bool,
    ) -> PolicyFailure {
        if let Some((resource, detail)) = &store.data().limiter.exceeded {
            return PolicyFailure::ResourceLimit {
                resource: *resource,
                detail: detail.clone(),
            };
        }
        if let Some(trap) = error.downcast_ref::<Trap>() {
            return match trap {
                Trap::Interrupt => PolicyFailure::Timeout {
                    deadline: self.deadline,
                },
                Trap::StackOverflow => PolicyFailure::ResourceLimit {
                    resource: Resource::Stack,
                    detail: format!(
                        "wasm stack overflow (limit {} bytes)",
                        self.runtime.limits.max_wasm_stack
                    ),
                },
                other => PolicyFailure::Trap {
                    message: trap::message(export, *other, error, self.language),
                },
            };
        }
        if error
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return PolicyFailure::ResourceLimit {
                resource: Resource::Instances,
                detail: ErrorChain(&**error).to_string(),
            };
        }
        if called {
            // Not a trap: wasmtime could not lift what the export returned (an invalid
            // discriminant, invalid UTF-8, a bad `option` or `result` tag, a pointer out of
            // bounds).
            return PolicyFailure::Malformed {
                reason: format!(
                    "`{export}` returned a value the host cannot read: {}",
                    ErrorChain(&**error)
                ),
            };
        }
        PolicyFailure::Trap {
            message: format!(
                "while instantiating for `{export}`: {}",
                ErrorChain(&**error)
            ),
        }
    }
}

impl Evaluator for LoadedPolicy {
    fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }

    fn digest(&self) -> &str {
        &self.digest
    }

    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        LoadedPolicy::validate_settings(self, settings_json)
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        LoadedPolicy::evaluate(self, manifest, settings_json, now)
    }
}
