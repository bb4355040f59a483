//! Fuzz target `waivers`: see `tollgate_fuzz_harness::waivers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::waivers(data));
