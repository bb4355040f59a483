//! Fuzz target `junit`: see `tollgate_fuzz_harness::junit`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::junit(data));
