//! `tenure export`: a run's model as an ONNX file, redone from the
//! `spec.json` the run stored, with its model card beside it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Run id (see `tenure runs list`).
    #[arg(long)]
    run: String,
    /// Model name in the experiment (`[[models]] name`, else its kind).
    #[arg(long)]
    model: String,
    /// The ONNX file to write; the model card goes beside it
    /// (`model.onnx` → `model_card.json`).
    #[arg(long)]
    out: PathBuf,
    /// Tracking store directory.
    #[arg(long, default_value = "tenure-runs")]
    store: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn export(args: ExportArgs) -> Result<()> {
    anyhow::ensure!(
        args.store.is_dir(),
        "no tracking store at {} (pass --store DIR)",
        args.store.display()
    );
    let done =
        tenure_runner::export::export_from_run(&args.store, &args.run, &args.model, &args.out)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "onnx": done.onnx.display().to_string(),
                "model_card": done.card.display().to_string(),
                "model": done.spec.info,
            })
        );
    } else {
        let info = &done.spec.info;
        println!(
            "{} ({}, {} task, trained on {} rows) → {}\nmodel card: {}",
            info.name,
            info.kind,
            info.task,
            info.training_rows,
            done.onnx.display(),
            done.card.display()
        );
    }
    Ok(())
}
