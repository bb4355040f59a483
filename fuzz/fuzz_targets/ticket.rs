//! Fuzz target `ticket`: see `tollgate_fuzz_harness::ticket`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::ticket(data));
