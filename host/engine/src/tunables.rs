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

/// The longest deadline a policy can be given ([`PolicyLimits`]).
pub const MAX_DEADLINE: Duration = Duration::from_secs(10);

/// The largest linear memory a policy can be given ([`PolicyLimits`]); also the pool's memory
/// slot size, so that any policy's limit up to it fits a slot.
pub const MAX_MEMORY_BYTES: usize = 1 << 30;

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

/// Epoch ticks from the start of a call to `deadline`: whole ticks, rounded up, plus one.
pub(crate) fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    let ticks = deadline.as_nanos().div_ceil(tick) + 1;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Limits of one policy's calls that override the engine's [`Limits`]: a slow or large pack (a
/// JavaScript or Python one) can be given more time or memory than the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyLimits {
    /// Deadline of one call, 1 ms to [`MAX_DEADLINE`]; `None` keeps the engine's.
    pub deadline: Option<Duration>,
    /// Largest linear memory, 1 MiB to [`MAX_MEMORY_BYTES`]; `None` keeps the engine's.
    pub memory_bytes: Option<usize>,
}

impl PolicyLimits {
    /// Whether both limits are within their bounds; the message names the one that is not.
    pub fn check(&self) -> Result<(), String> {
        if let Some(deadline) = self.deadline
            && !(Duration::from_millis(1)..=MAX_DEADLINE).contains(&deadline)
        {
            return Err(format!(
                "a deadline of {} ms is outside 1 to {} ms",
                deadline.as_millis(),
                MAX_DEADLINE.as_millis()
            ));
        }
        if let Some(bytes) = self.memory_bytes
            && !(1 << 20..=MAX_MEMORY_BYTES).contains(&bytes)
        {
            return Err(format!(
                "a memory limit of {bytes} bytes is outside 1 MiB to {} MiB",
                MAX_MEMORY_BYTES >> 20
            ));
        }
        Ok(())
    }

    /// The larger of each limit, for a call made before the policy is known.
    pub(crate) fn max(self, other: Self) -> Self {
        Self {
            deadline: self.deadline.max(other.deadline),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
        }
    }
}

/// Core instances the pool counts per component instance (see [`pooling`]).
const CORE_INSTANCES_PER_COMPONENT: u32 = 64;

/// The engine configuration for `limits` with the instance pool `pool` (see [`pooling`]): epoch
/// deadlines, bounded stack.
pub(crate) fn config(limits: &Limits, pool: PoolingAllocationConfig) -> Config {
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

/// The instance pool for `limits`.
pub(crate) fn pooling(limits: &Limits) -> PoolingAllocationConfig {
    let page = 1usize << 16;
    let memory_bytes = limits.memory_bytes.div_ceil(page).saturating_mul(page);
    // Each store's limiter enforces the policy's own memory limit; the pool only bounds it.
    let slot_bytes = memory_bytes.max(MAX_MEMORY_BYTES);
    let instances = limits.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A component instance holds one core instance per core module it instantiates: a Rust pack
    // a few, a componentize-py pack 38 (its interpreter and libraries). Core instances cost only
    // their count here (their state is allocated when they are created), so the pool counts
    // enough of them for every component instance to be such a pack.
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(2))
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(slot_bytes)
        .linear_memory_keep_resident(KEEP_RESIDENT.min(memory_bytes))
        .table_keep_resident(KEEP_RESIDENT)
        // Where the kernel can tell (Linux 6.7+), only the pages an instance wrote are reset when
        // it is dropped, instead of all it could reach up to `KEEP_RESIDENT`.
        .pagemap_scan(Enabled::Auto);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks_plus_one() {
        assert_eq!(deadline_ticks(Limits::default().deadline), 101);
        assert_eq!(deadline_ticks(Duration::from_micros(1500)), 3);
    }

    #[test]
    fn policy_limits_are_bounded() {
        let ok = PolicyLimits {
            deadline: Some(Duration::from_millis(400)),
            memory_bytes: Some(256 << 20),
        };
        assert_eq!(ok.check(), Ok(()));
        let slow = PolicyLimits {
            deadline: Some(Duration::from_secs(11)),
            ..PolicyLimits::default()
        };
        assert!(slow.check().unwrap_err().contains("11000 ms"));
        let big = PolicyLimits {
            memory_bytes: Some(2 << 30),
            ..PolicyLimits::default()
        };
        assert!(big.check().unwrap_err().contains("1024 MiB"));
    }
}
