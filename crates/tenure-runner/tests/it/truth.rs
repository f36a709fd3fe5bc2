//! The quickstart experiment recovers what the synthetic data hides: the
//! logistic model's validation AUC comes within 0.02 of the AUC of the true
//! churn probabilities on the same customers.

use std::collections::HashMap;
use std::path::Path;

use tenure_core::Target;
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::data::{format_date, parse_date};
use tenure_runner::{Experiment, RunOptions};

#[test]
fn quickstart_logistic_is_within_002_auc_of_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let cfg = SynthConfig {
        customers: 20_000,
        seed: 42,
        truth_cutoff: parse_date("2023-07-01").unwrap(),
        truth_horizon_days: 90,
        ..SynthConfig::default()
    };
    synth::write(&cfg, &data).unwrap();

    let quickstart =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/quickstart.toml");
    let text = format!(
        "extends = [\"{}\"]\n[data.transactions]\npath = \"synth/transactions.parquet\"\n\
         [data.customers]\npath = \"synth/customers.parquet\"\n",
        quickstart.canonicalize().unwrap().display()
    );
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, text).unwrap();
    let exp = Experiment::load(&path).unwrap();
    assert_eq!(exp.file.labels.horizon_days, cfg.truth_horizon_days);

    let out = tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("store")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let fold = out
        .split
        .iter()
        .position(|f| f.valid_cutoff == format_date(cfg.truth_cutoff))
        .expect("a validation fold at the truth cutoff");
    assert_ne!(out.split[fold].name, "test");
    let model = &out.models[0];
    let pred = &model.predictions[fold];
    let Target::Binary(y) = &pred.target else {
        panic!("churn target expected")
    };

    let truth = read_truth(&data.join("truth.parquet"));
    let p_true: Vec<f64> = pred
        .customer_ids
        .iter()
        .map(|id| truth[id].expect("every snapshot customer is active at the cutoff"))
        .collect();
    let auc_model = tenure_metrics::roc_auc(y, &pred.prediction).unwrap();
    let auc_truth = tenure_metrics::roc_auc(y, &p_true).unwrap();
    assert_eq!(model.metrics["auc"].folds[fold], auc_model);
    eprintln!(
        "rows {} churn rate {:.3}: model AUC {auc_model:.4}, truth AUC {auc_truth:.4}",
        y.len(),
        y.iter().sum::<f64>() / y.len() as f64
    );
    assert!(
        auc_truth > 0.6,
        "the truth should be informative: {auc_truth}"
    );
    assert!(
        (auc_model - auc_truth).abs() <= 0.02,
        "model AUC {auc_model:.4} vs truth AUC {auc_truth:.4}"
    );
}

fn read_truth(path: &Path) -> HashMap<String, Option<f64>> {
    let df = tenure_runner::data::io::read_table(path).unwrap();
    let ids = df.column("customer_id").unwrap().str().unwrap().clone();
    let p = df.column("p_churn").unwrap().f64().unwrap().clone();
    ids.iter()
        .zip(p.iter())
        .map(|(id, p)| (id.unwrap().to_string(), p))
        .collect()
}
