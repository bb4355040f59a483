//! Fuzz target `gateway`: see `tollgate_fuzz_harness::gateway`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::gateway(data));
