//! Fuzz target `policy`: see `tollgate_fuzz_harness::policy`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::policy(data));
