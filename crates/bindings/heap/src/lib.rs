//! A bump heap over WebAssembly linear memory, the global allocator of Tollgate's policy modules.
//!
//! A policy evaluation allocates many short-lived strings and frees them all before it returns.
//! A general-purpose allocator (the standard library's dlmalloc) spent a third of a reused
//! component's evaluation time keeping free lists for memory that is never reused within a call.
//! A bump heap hands out memory by moving a cursor, and grows the most recent block in place. How
//! memory comes back depends on who owns the heap ([`Reclaim`]):
//!
//! - [`WhenEmpty`] (policy components): freeing the most recent block moves the cursor back, and
//!   the heap counts its live blocks and returns to its base when the count drops to zero, which
//!   happens after every call once the host has freed the call's results (the component model's
//!   post-return). A block that is never freed (a leak, a static cache) keeps the heap from
//!   resetting, so memory only grows until the host's memory limit stops the call: an error,
//!   never a dangling pointer.
//! - [`ByHost`] (OPA Wasm ABI modules): freeing is a no-op, so drop code compiles to almost
//!   nothing; the host saves the cursor and sets it back between evaluations
//!   (`opa_heap_ptr_set`).
//!
//! Memory within one call is not reused except from the top, so a call uses as much memory as it
//! allocates in total: policies are written to allocate in proportion to their input (a test of
//! the engine evaluates the largest manifest the hosts accept under the default memory limit).
//!
//! The heap is single-threaded (`wasm32-unknown-unknown` without atomics); its state is two
//! relaxed atomics only so that it can be a `static`.
#![no_std]
#![allow(
    unsafe_code,
    reason = "a global allocator hands out raw memory; this crate is where that happens"
)]

use core::alloc::{GlobalAlloc, Layout};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Where a heap's memory comes from: its base, and a way to make memory reach an address.
pub trait Memory {
    /// The first address of the heap.
    fn base(&self) -> usize;
    /// Makes memory reach `end` (exclusive), growing it if needed; false when it cannot.
    fn reach(&self, end: usize) -> bool;
}

/// How freed memory comes back to a heap: [`WhenEmpty`] or [`ByHost`]. A type, so that a heap's
/// choice is known at compile time and the other's code is not linked.
pub trait Reclaim {
    /// Whether the heap gives back freed blocks itself (else only the host resets it).
    const BY_HEAP: bool;
}

/// The heap gives back the most recent block when it is freed, and returns to its base when no
/// block is live.
#[derive(Debug)]
pub enum WhenEmpty {}

impl Reclaim for WhenEmpty {
    const BY_HEAP: bool = true;
}

/// Freeing is a no-op; only the host resets the heap ([`BumpHeap::set_cursor`]).
#[derive(Debug)]
pub enum ByHost {}

impl Reclaim for ByHost {
    const BY_HEAP: bool = false;
}

/// A bump heap over `M`, reclaiming memory as `R` says. See the crate documentation.
#[derive(Debug)]
pub struct BumpHeap<M, R> {
    memory: M,
    reclaim: PhantomData<R>,
    /// The next free address; 0 until first used, meaning the memory's base.
    cursor: AtomicUsize,
    /// Blocks allocated and not yet freed (counted for [`WhenEmpty`] only).
    live: AtomicUsize,
}

impl<M: Memory, R: Reclaim> BumpHeap<M, R> {
    /// An empty heap over `memory`.
    pub const fn new(memory: M) -> Self {
        Self {
            memory,
            reclaim: PhantomData,
            cursor: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        }
    }

    /// The next free address.
    pub fn cursor(&self) -> usize {
        match self.cursor.load(Ordering::Relaxed) {
            0 => self.memory.base(),
            at => at,
        }
    }

    /// Moves the cursor (the host resetting the heap of an OPA module). Blocks above `address`
    /// must no longer be used.
    pub fn set_cursor(&self, address: usize) {
        self.cursor.store(address, Ordering::Relaxed);
    }

    /// Blocks allocated and not yet freed ([`WhenEmpty`]; always 0 otherwise).
    pub fn live_blocks(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Takes `size` bytes aligned to `align` (a power of two) from the heap; `None` when memory
    /// cannot grow that far. Not counted as a live block.
    pub fn bump(&self, size: usize, align: usize) -> Option<usize> {
        let start = self.cursor().checked_next_multiple_of(align)?;
        let end = start.checked_add(size)?;
        if !self.memory.reach(end) {
            return None;
        }
        self.cursor.store(end, Ordering::Relaxed);
        Some(start)
    }

    fn count(&self, change: isize) {
        if R::BY_HEAP {
            let live = self.live.load(Ordering::Relaxed);
            self.live
                .store(live.saturating_add_signed(change), Ordering::Relaxed);
        }
    }
}

// SAFETY: blocks are disjoint ranges below the cursor, each aligned as asked and within memory
// that `Memory::reach` made available; a range is handed out again only after it was freed (the
// most recent block) or after every block was freed (`WhenEmpty`), or when the host says so
// (`ByHost`).
unsafe impl<M: Memory, R: Reclaim> GlobalAlloc for BumpHeap<M, R> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout.size(), layout.align()) {
            Some(at) => {
                self.count(1);
                at as *mut u8
            }
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !R::BY_HEAP {
            return;
        }
        let at = ptr as usize;
        self.count(-1);
        if self.live_blocks() == 0 {
            self.cursor.store(0, Ordering::Relaxed);
        } else if at.checked_add(layout.size()) == Some(self.cursor()) {
            self.cursor.store(at, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        if at.checked_add(layout.size()) == Some(self.cursor()) {
            return match at.checked_add(new_size) {
                Some(end) if self.memory.reach(end) => {
                    self.cursor.store(end, Ordering::Relaxed);
                    ptr
                }
                _ => core::ptr::null_mut(),
            };
        }
        if new_size <= layout.size() {
            return ptr;
        }
        let Some(new) = self.bump(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        let new = new as *mut u8;
        // SAFETY: the old block is live and at least `layout.size()` long; the new one starts at
        // or above the cursor, which is above the old block, so they do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        new
    }
}

/// The module's own linear memory (memory 0): the heap starts at the linker's `__heap_base` and
/// grows with `memory.grow`.
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Clone, Copy)]
pub struct LinearMemory;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// Start of the heap, after the stack and the static data (defined by the linker).
    static __heap_base: u8;
}

#[cfg(target_arch = "wasm32")]
impl Memory for LinearMemory {
    fn base(&self) -> usize {
        core::ptr::addr_of!(__heap_base) as usize
    }

    /// Reads the memory's size every time: a host may have grown it too.
    fn reach(&self, end: usize) -> bool {
        const PAGE: u64 = 65_536;
        let have = core::arch::wasm32::memory_size(0) as u64 * PAGE;
        let end = end as u64;
        if end <= have {
            return true;
        }
        let pages = (end - have).div_ceil(PAGE) as usize;
        core::arch::wasm32::memory_grow(0, pages) != usize::MAX
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    extern crate std;

    use std::vec::Vec;

    use super::*;

    /// A memory of `limit` bytes backed by a buffer (aligned to 8).
    struct TestMemory {
        buffer: Vec<u64>,
    }

    impl TestMemory {
        fn base(&self) -> usize {
            self.buffer.as_ptr() as usize
        }
    }

    impl Memory for &TestMemory {
        fn base(&self) -> usize {
            TestMemory::base(self)
        }
        fn reach(&self, end: usize) -> bool {
            end <= TestMemory::base(self) + self.buffer.len() * 8
        }
    }

    fn memory(limit: usize) -> TestMemory {
        TestMemory {
            buffer: std::vec![0; limit / 8],
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_the_heap_resets_when_empty() {
        let memory = memory(1 << 16);
        let base = memory.base();
        let heap = BumpHeap::<_, WhenEmpty>::new(&memory);
        unsafe {
            let a = heap.alloc(layout(3, 1)) as usize;
            let b = heap.alloc(layout(8, 8)) as usize;
            let c = heap.alloc(layout(5, 4)) as usize;
            assert_eq!((a, b, c), (base, base + 8, base + 16));
            assert_eq!(heap.live_blocks(), 3);
            heap.dealloc(b as *mut u8, layout(8, 8));
            assert_eq!(heap.cursor(), base + 21, "a block below the top stays");
            heap.dealloc(c as *mut u8, layout(5, 4));
            assert_eq!(heap.cursor(), base + 16, "the top block is given back");
            heap.dealloc(a as *mut u8, layout(3, 1));
            assert_eq!((heap.live_blocks(), heap.cursor()), (0, base));
        }
    }

    #[test]
    fn the_top_block_grows_in_place_and_others_move() {
        let memory = memory(1 << 16);
        let base = memory.base();
        let heap = BumpHeap::<_, WhenEmpty>::new(&memory);
        unsafe {
            let a = heap.alloc(layout(4, 4));
            a.write_bytes(7, 4);
            let grown = heap.realloc(a, layout(4, 4), 100);
            assert_eq!(grown, a);
            assert_eq!(heap.cursor(), base + 100);
            let b = heap.alloc(layout(4, 4));
            let moved = heap.realloc(a, layout(100, 4), 200);
            assert!(moved as usize >= b as usize + 4);
            assert_eq!(*moved.add(3), 7, "contents are copied");
            assert_eq!(heap.live_blocks(), 2, "a move is not a new block");
            heap.dealloc(b, layout(4, 4));
            heap.dealloc(moved, layout(200, 4));
            assert_eq!((heap.live_blocks(), heap.cursor()), (0, base));
        }
    }

    #[test]
    fn an_exhausted_memory_gives_null_and_keeps_the_heap_usable() {
        let memory = memory(64);
        let heap = BumpHeap::<_, WhenEmpty>::new(&memory);
        unsafe {
            let a = heap.alloc(layout(48, 8));
            assert!(heap.alloc(layout(32, 8)).is_null());
            assert!(heap.realloc(a, layout(48, 8), 80).is_null());
            assert!(heap.bump(usize::MAX, 1).is_none(), "no overflow");
            assert_eq!(heap.live_blocks(), 1);
            heap.dealloc(a, layout(48, 8));
            assert!(!heap.alloc(layout(64, 8)).is_null());
        }
    }

    #[test]
    fn a_leaked_block_keeps_the_heap_from_resetting() {
        let memory = memory(1 << 16);
        let base = memory.base();
        let heap = BumpHeap::<_, WhenEmpty>::new(&memory);
        unsafe {
            let _leaked = heap.alloc(layout(16, 8));
            for _ in 0..10 {
                let block = heap.alloc(layout(16, 8));
                let other = heap.alloc(layout(16, 8));
                heap.dealloc(block, layout(16, 8));
                heap.dealloc(other, layout(16, 8));
            }
            assert!(
                heap.cursor() > base + 16,
                "the leaked block is never handed out again"
            );
            assert_eq!(heap.live_blocks(), 1);
        }
    }

    #[test]
    fn a_host_managed_heap_counts_nothing_and_moves_only_when_told() {
        let memory = memory(1 << 16);
        let heap = BumpHeap::<_, ByHost>::new(&memory);
        unsafe {
            let saved = heap.cursor();
            let a = heap.alloc(layout(16, 8));
            let b = heap.alloc(layout(16, 8));
            heap.dealloc(b, layout(16, 8));
            heap.dealloc(a, layout(16, 8));
            assert_eq!(heap.live_blocks(), 0);
            assert_eq!(heap.cursor(), b as usize + 16, "freeing gives nothing back");
            heap.set_cursor(saved);
            assert_eq!(heap.alloc(layout(16, 8)), a);
        }
    }
}
