//! Both paths of published code: in place (the binary's embedded pages) and copied.

use std::ops::Range;

use super::*;
use crate::{Limits, PolicyEngine};

/// The protections (`r-x`, `rw-`...) of the mappings that overlap `range`, from
/// `/proc/self/maps`.
fn protections(range: Range<*const u8>) -> Vec<String> {
    let (start, end) = (range.start as usize, range.end as usize);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let found: Vec<String> = maps
        .lines()
        .filter_map(|line| {
            let (addresses, rest) = line.split_once(' ')?;
            let (from, to) = addresses.split_once('-')?;
            let from = usize::from_str_radix(from, 16).ok()?;
            let to = usize::from_str_radix(to, 16).ok()?;
            (from < end && start < to).then(|| rest.get(..3).unwrap_or(rest).to_owned())
        })
        .collect();
    assert!(!found.is_empty(), "{range:?} is not mapped");
    found
}

fn all(protection: &str, found: &[String]) -> bool {
    found.iter().all(|p| p == protection)
}

#[test]
fn embedded_code_published_in_place_is_read_only_again_once_unpublished() {
    let engine = PolicyEngine::new(Limits::default(), None).unwrap();
    let (wasm, alignment) = (&engine.runtime.engine, engine.runtime.code_alignment);
    let pack = crate::builtin_pack("hipaa").unwrap();
    let image = pack.precompiled.as_ptr_range();
    assert!(
        all("r--", &protections(image.clone())),
        "embedded code is read-only data"
    );

    // The first load runs the code where the binary holds it; the second copies it.
    let in_place = crate::cache::embedded(wasm, pack.precompiled, alignment).unwrap();
    let copied = crate::cache::embedded(wasm, pack.precompiled, alignment).unwrap();
    let (text, copied_text) = (in_place.text().as_ptr_range(), copied.text().as_ptr_range());
    assert!(image.contains(&text.start) && text.end <= image.end);
    assert!(!image.contains(&copied_text.start));
    assert!(published_in_place(text.start) && !published_in_place(copied_text.start));
    let published = protections(text.clone());
    assert!(all("r-x", &published), "{published:?}");
    assert!(all("r-x", &protections(copied_text)));

    drop((in_place, copied, engine));
    let unpublished = protections(text);
    assert!(all("r--", &unpublished), "{unpublished:?}");
    assert!(all("r--", &protections(image)));
}

#[test]
fn copied_code_is_read_write_again_once_unpublished() {
    let memory = code_memory().unwrap();
    let mut pages = Box::new(PageAligned([0u8; 8192]));
    let range = pages.0.as_ptr_range();
    assert!(!published_in_place(range.start));
    memory.publish_executable(range.start, 8192).unwrap();
    let published = protections(range.clone());
    memory.unpublish_executable(range.start, 8192).unwrap();
    let unpublished = protections(range);
    assert!(all("r-x", &published), "{published:?}");
    assert!(all("rw-", &unpublished), "{unpublished:?}");
    pages.0[0] = 1;
    assert_eq!(pages.0[0], 1);
}
