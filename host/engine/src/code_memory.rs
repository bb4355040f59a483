//! Machine code made executable where it lies: the built-in packs' precompiled code is run from
//! the bytes embedded in the binary instead of being copied to fresh memory at every start (about
//! 3 MiB and 800 page faults for the three packs).
//!
//! Only on x86-64 Linux, whose instruction cache is coherent with data writes, so publishing code
//! is one `mprotect`; elsewhere the embedded code is copied as before.

use std::sync::{Mutex, PoisonError};

/// Bytes aligned to a page, so that code embedded in the binary can be made executable in place.
/// The build wraps each pack's precompiled code in one.
#[repr(C, align(4096))]
pub(crate) struct PageAligned<T: ?Sized>(pub(crate) T);

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod in_place {
    use std::sync::Arc;

    use rustix::mm::{MprotectFlags, mprotect};
    use wasmtime::CustomCodeMemory;

    /// Publishes code by changing the protection of the pages that hold it: read-only memory
    /// (the binary's embedded code, or wasmtime's own mapping once frozen) becomes read+execute.
    struct InPlaceCodeMemory {
        page_size: usize,
    }

    impl CustomCodeMemory for InPlaceCodeMemory {
        fn required_alignment(&self) -> usize {
            self.page_size
        }

        fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
            protect(ptr, len, MprotectFlags::READ | MprotectFlags::EXEC)
        }

        fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
            protect(ptr, len, MprotectFlags::READ | MprotectFlags::WRITE)
        }
    }

    /// Sets the protection of the pages of a code image wasmtime hands over.
    #[expect(
        unsafe_code,
        reason = "`mprotect` of the pages of a code image wasmtime publishes or unpublishes"
    )]
    fn protect(ptr: *const u8, len: usize, flags: MprotectFlags) -> wasmtime::Result<()> {
        // SAFETY: wasmtime passes the page-aligned text section of a code image it owns, or was
        // given for the life of the module; it is written only while unpublished, when no code
        // runs from it.
        unsafe { mprotect(ptr.cast_mut().cast(), len, flags) }.map_err(|e| {
            wasmtime::format_err!("could not change the protection of policy code: {e}")
        })
    }

    /// The engine's code memory: pages published in place.
    pub(crate) fn code_memory() -> Option<Arc<dyn CustomCodeMemory>> {
        Some(Arc::new(InPlaceCodeMemory {
            page_size: rustix::param::page_size(),
        }))
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(crate) use in_place::code_memory;

/// Elsewhere wasmtime's default code memory: embedded code is copied.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub(crate) fn code_memory() -> Option<std::sync::Arc<dyn wasmtime::CustomCodeMemory>> {
    None
}

/// Whether code at `bytes` is to be published in place by an engine whose code memory requires
/// `alignment` (`None`: wasmtime's default code memory, which copies): it must be aligned, and
/// only its first load in the process runs in place. wasmtime registers every code image by
/// address for the whole process, so the same bytes cannot back two live modules (another engine,
/// a reload); later loads copy them, as without this module.
pub(crate) fn claim_in_place(alignment: Option<usize>, bytes: &'static [u8]) -> bool {
    static CLAIMED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let Some(alignment) = alignment else {
        return false;
    };
    let address = bytes.as_ptr() as usize;
    if !address.is_multiple_of(alignment) {
        return false;
    }
    // The list is only pushed to: a panic elsewhere cannot leave it inconsistent.
    let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
    if claimed.contains(&address) {
        return false;
    }
    claimed.push(address);
    true
}
