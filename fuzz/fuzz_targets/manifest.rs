//! Fuzz target `manifest`: see `tollgate_fuzz_harness::manifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::manifest(data));
