#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenure_onnx::fuzz::spec_json(data));
