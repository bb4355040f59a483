//! Fuzz target `sarif`: see `tollgate_fuzz_harness::sarif`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::sarif(data));
