//! Compiles `proto/onnx-ml.proto` (the official ONNX schema, ML variant) with
//! protox, a protobuf compiler in Rust, and hands the descriptors to
//! prost-build, so regenerating needs no `protoc` binary either.

use std::error::Error;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let proto_dir = crate_dir.join("proto");
    let out_dir = crate_dir.join("src").join("proto");
    let descriptors = protox::compile(["onnx-ml.proto"], [&proto_dir])?;
    prost_build::Config::new()
        .out_dir(&out_dir)
        // The schema's comments hold indented examples that rustdoc would
        // run as doctests; the .proto beside the crate keeps them.
        .disable_comments(["."])
        .compile_fds(descriptors)?;
    println!("wrote {}", out_dir.join("onnx.rs").display());
    Ok(())
}
