#!/usr/bin/env bash
# Regenerates src/proto/onnx.rs from onnx-ml.proto (copied verbatim from the
# onnx repository, see README.md here). The generated file is checked in, so
# ordinary builds need neither protoc nor this tool.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cargo run --quiet --locked --manifest-path "$here/../protogen/Cargo.toml"
rustfmt --edition 2024 "$here/../src/proto/onnx.rs"
