//! The engine's configuration and the limits it enforces: the one place both the host and its build
//! script (which precompiles the built-in packs with exactly this configuration) take them from.
//! Depends on wasmtime and std only, so that `build.rs` can include it.

use std::time::Duration;

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Interval between two epoch ticks. A deadline is rounded up to whole ticks, plus one.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Table elements a store may hold in total per table.
pub(crate) const TABLE_ELEMENTS: usize = 20_000;

/// Bytes of a linear memory kept resident (instead of unmapped) between two instantiations.
const KEEP_RESIDENT: usize = 1 << 20;

/// Resource limits applied to every evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock deadline of one call (instantiation included). Default 100 ms.
    pub deadline: Duration,
    /// Largest linear memory of an instance, in bytes. Default 64 MiB.
    pub memory_bytes: usize,
    /// Largest wasm call stack, in bytes. Default 1 MiB.
    pub max_wasm_stack: usize,
    /// Policy instances that can be alive at once (the pool's size). Default 64.
    pub max_instances: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(100),
            memory_bytes: 64 << 20,
            max_wasm_stack: 1 << 20,
            max_instances: 64,
        }
    }
}

impl Limits {
    /// Epoch ticks from the start of a call to its deadline.
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos();
        let ticks = self.deadline.as_nanos().div_ceil(tick) + 1;
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

/// The engine configuration for `limits`: pooling allocator, epoch deadlines, bounded stack.
pub(crate) fn config(limits: &Limits) -> Config {
    let page = 1usize << 16;
    let memory_bytes = limits.memory_bytes.div_ceil(page).saturating_mul(page);
    let instances = limits.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(4))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(2))
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(memory_bytes)
        .linear_memory_keep_resident(KEEP_RESIDENT.min(memory_bytes))
        .table_keep_resident(KEEP_RESIDENT)
        // Where the kernel can tell (Linux 6.7+), only the pages an instance wrote are reset when
        // it is dropped, instead of all it could reach up to `KEEP_RESIDENT`.
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_wasm_stack)
        // No map from machine code back to wasm offsets: traps are still classified (by their
        // trap code), and compiled components shrink by about a third, which a warm start reads
        // and checksums whole.
        .generate_address_map(false)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks_plus_one() {
        assert_eq!(Limits::default().deadline_ticks(), 101);
        let limits = Limits {
            deadline: Duration::from_micros(1500),
            ..Limits::default()
        };
        assert_eq!(limits.deadline_ticks(), 3);
    }
}
