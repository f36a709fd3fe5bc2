//! The ONNX protobuf schema (`onnx-ml.proto`, the variant onnxruntime and
//! the `onnx` Python package use), generated once by prost-build and checked
//! in: `proto/regenerate.sh` redoes it, so builds need no `protoc`.

// Generated code: its style is prost-build's, not ours.
#![allow(clippy::all, clippy::pedantic)]

include!("onnx.rs");
