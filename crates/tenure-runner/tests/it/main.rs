mod bench;
mod config;
mod fuzz;
mod neural;
mod onnx;
mod onnx_neural;
// Shared with tenure-onnx's tests: runs exported files in onnxruntime.
#[path = "../../../tenure-onnx/tests/it/onnxruntime.rs"]
mod onnxruntime;
mod tasks;
mod truth;
mod tune;
mod uplift;
