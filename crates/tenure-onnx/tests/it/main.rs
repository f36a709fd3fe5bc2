mod bundle;
mod common;
mod errors;
mod fuzz;
mod golden;
mod onnxruntime;
mod parity;
