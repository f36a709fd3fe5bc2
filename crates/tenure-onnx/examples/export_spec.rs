//! Exports a `spec.json` (a [`tenure_core::spec::SavedSpec`]) to ONNX, with
//! its model card beside it. Used by `scripts/bench/onnx_vs_onnxmltools.sh`
//! to export a model trained elsewhere with tenure's exporter.
//!
//!     cargo run --release -p tenure-onnx --example export_spec -- spec.json model.onnx

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [spec, out] = args.as_slice() else {
        return Err("usage: export_spec SPEC.json OUT.onnx".into());
    };
    let spec = tenure_onnx::read_spec(&PathBuf::from(spec))?;
    let card = tenure_onnx::write_with_card(&PathBuf::from(out), &spec)?;
    println!("wrote {out} and {}", card.display());
    Ok(())
}
