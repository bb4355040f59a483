//! Fuzz target `audit_log`: see `tollgate_fuzz_harness::audit_log`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tollgate_fuzz_harness::audit_log(data));
