#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenure_store::fuzz::store_files(data));
