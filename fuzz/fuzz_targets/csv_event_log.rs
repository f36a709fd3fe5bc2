#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenure_data::fuzz::csv_event_log(data));
