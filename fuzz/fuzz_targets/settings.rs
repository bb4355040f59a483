//! Fuzz target `settings`: see `tollgate_fuzz_harness::settings`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::settings(data));
