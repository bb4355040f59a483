//! Machine code made executable where it lies: the built-in packs' precompiled code is run from
//! the bytes embedded in the binary instead of being copied to fresh memory at every start (about
//! 3 MiB and 800 page faults for the three packs).
//!
//! Only on x86-64 Linux, whose instruction cache is coherent with data writes, so publishing code
//! is one `mprotect`; elsewhere the embedded code is copied as before.
//!
//! Code published in place is never writable: read+execute while published, read-only (as the
//! binary maps it) once unpublished. Code wasmtime copied to its own memory returns to read+write
//! when unpublished, as wasmtime expects of memory it owns.

use std::ops::Range;
use std::sync::{Mutex, MutexGuard, PoisonError};

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
    /// Unpublished, the binary's embedded code becomes read-only again and wasmtime's own mapping
    /// read+write.
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
            let flags = if super::published_in_place(ptr) {
                MprotectFlags::READ
            } else {
                MprotectFlags::READ | MprotectFlags::WRITE
            };
            protect(ptr, len, flags)
        }
    }

    /// Sets the protection of the pages of a code image wasmtime hands over.
    #[expect(
        unsafe_code,
        reason = "`mprotect` of the pages of a code image wasmtime publishes or unpublishes"
    )]
    fn protect(ptr: *const u8, len: usize, flags: MprotectFlags) -> wasmtime::Result<()> {
        // SAFETY: wasmtime passes the page-aligned text section of a code image: its own mapping,
        // or the binary's embedded code it was given for the life of the module. No code runs from
        // it while it is unpublished. Only wasmtime's own mapping is ever made writable; the
        // embedded code goes from read-only to read+execute and back, so it stays immutable.
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

/// The embedded code images claimed to be published in place, as address ranges. Only pushed to:
/// a panic elsewhere cannot leave the list inconsistent.
fn in_place_images() -> MutexGuard<'static, Vec<Range<usize>>> {
    static IN_PLACE: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());
    IN_PLACE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether code at `bytes` is to be published in place by an engine whose code memory requires
/// `alignment` (`None`: wasmtime's default code memory, which copies): it must be aligned, and
/// only its first load in the process runs in place. wasmtime registers every code image by
/// address for the whole process, so the same bytes cannot back two live modules (another engine,
/// a reload); later loads copy them, as without this module.
pub(crate) fn claim_in_place(alignment: Option<usize>, bytes: &'static [u8]) -> bool {
    let Some(alignment) = alignment else {
        return false;
    };
    let image = bytes.as_ptr_range();
    let image = image.start as usize..image.end as usize;
    if !image.start.is_multiple_of(alignment) {
        return false;
    }
    let mut claimed = in_place_images();
    if claimed.iter().any(|c| c.start == image.start) {
        return false;
    }
    claimed.push(image);
    true
}

/// Whether code at `ptr` lies in an embedded image claimed to be published in place (rather than
/// in memory wasmtime copied it to).
#[cfg_attr(
    not(all(target_os = "linux", target_arch = "x86_64")),
    expect(dead_code, reason = "code is only published in place on x86-64 Linux")
)]
fn published_in_place(ptr: *const u8) -> bool {
    let address = ptr as usize;
    in_place_images()
        .iter()
        .any(|image| image.contains(&address))
}

#[cfg(all(test, target_os = "linux", target_arch = "x86_64"))]
mod tests;
