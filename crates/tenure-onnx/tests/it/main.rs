mod bundle;
mod common;
mod errors;
mod golden;
mod onnxruntime;
mod parity;
