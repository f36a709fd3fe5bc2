//! The neural models recover what the synthetic data hides, through the
//! whole pipeline (snapshots, folds, target encoding), scored against
//! `truth.parquet`.

use std::collections::HashMap;
use std::path::Path;

use tenure_core::Target;
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::data::{format_date, parse_date};
use tenure_runner::{Experiment, RunOptions, RunOutcome};

/// Synthetic customers with the truth evaluated at `truth_cutoff`.
fn synth_data(dir: &Path, truth_cutoff: &str) -> SynthConfig {
    let cfg = SynthConfig {
        customers: 20_000,
        seed: 42,
        truth_cutoff: parse_date(truth_cutoff).unwrap(),
        truth_horizon_days: 90,
        ..SynthConfig::default()
    };
    synth::write(&cfg, &dir.join("synth")).unwrap();
    cfg
}

fn run(dir: &Path, body: &str) -> RunOutcome {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let text = format!(
        "extends = [\"{}\", \"{}\"]\nname = \"neural\"\nseed = 7\n\
         [data.transactions]\npath = \"synth/transactions.parquet\"\n\
         [data.customers]\npath = \"synth/customers.parquet\"\n{body}",
        data.join("data/synth.toml")
            .canonicalize()
            .unwrap()
            .display(),
        data.join("features/default.toml")
            .canonicalize()
            .unwrap()
            .display(),
    );
    let path = dir.join("exp.toml");
    std::fs::write(&path, text).unwrap();
    let exp = Experiment::load(&path).unwrap();
    tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.join("store")),
            ..RunOptions::default()
        },
    )
    .unwrap()
}

/// A float column of truth.parquet by customer id.
fn truth_column(dir: &Path, column: &str) -> HashMap<String, Option<f64>> {
    let df = tenure_runner::data::io::read_table(&dir.join("synth/truth.parquet")).unwrap();
    let ids = df.column("customer_id").unwrap().str().unwrap().clone();
    let v = df.column(column).unwrap().f64().unwrap().clone();
    ids.iter()
        .zip(v.iter())
        .map(|(id, v)| (id.unwrap().to_string(), v))
        .collect()
}

fn fold_at(out: &RunOutcome, cutoff: i64) -> usize {
    out.split
        .iter()
        .position(|f| f.valid_cutoff == format_date(cutoff))
        .expect("a validation fold at the truth cutoff")
}

#[test]
fn mlp_churn_auc_is_within_002_of_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = synth_data(dir.path(), "2023-07-01");
    let out = run(
        dir.path(),
        r#"
[labels]
task = "churn"
horizon_days = 90
churn = "cancel"
[cv]
cutoffs = ["2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01"]
folds = 1
[[models]]
kind = "mlp"
params = { hidden = [32, 16], epochs = 40, batch_size = 512, learning_rate = 0.003, dropout = 0.1 }
"#,
    );
    let fold = fold_at(&out, cfg.truth_cutoff);
    let pred = &out.models[0].predictions[fold];
    let Target::Binary(y) = &pred.target else {
        panic!("churn target expected")
    };
    let truth = truth_column(dir.path(), "p_churn");
    let p_true: Vec<f64> = pred
        .customer_ids
        .iter()
        .map(|id| truth[id].unwrap())
        .collect();
    let auc = tenure_metrics::roc_auc(y, &pred.prediction).unwrap();
    let auc_truth = tenure_metrics::roc_auc(y, &p_true).unwrap();
    eprintln!("mlp AUC {auc:.4}, truth {auc_truth:.4} on {} rows", y.len());
    assert!(
        (auc - auc_truth).abs() <= 0.02,
        "mlp AUC {auc:.4} vs truth AUC {auc_truth:.4}"
    );
}

#[test]
fn deepsurv_c_index_is_within_002_of_the_true_hazard_ratio() {
    let dir = tempfile::tempdir().unwrap();
    synth_data(dir.path(), "2023-07-01");
    // The validation window [2022-04-01, 2022-06-30) ends before the
    // campaign (2022-07-01): the true log hazard ratio is then exactly the
    // truth's `log_hazard_ratio`.
    let out = run(
        dir.path(),
        r#"
[labels]
task = "survival"
horizon_days = 90
survival_event = "cancel"
[cv]
cutoffs = ["2021-10-01", "2022-01-01", "2022-04-01"]
folds = 1
[[models]]
kind = "deepsurv"
params = { hidden = [32, 16], epochs = 40, batch_size = 512, learning_rate = 0.003, ties = "efron" }
"#,
    );
    let fold = fold_at(&out, parse_date("2022-04-01").unwrap());
    let pred = &out.models[0].predictions[fold];
    let Target::Survival { time, event } = &pred.target else {
        panic!("survival target expected")
    };
    let truth = truth_column(dir.path(), "log_hazard_ratio");
    let eta: Vec<f64> = pred
        .customer_ids
        .iter()
        .map(|id| truth[id].unwrap())
        .collect();
    let c = tenure_metrics::concordance_index(time, event, &pred.prediction).unwrap();
    let c_truth = tenure_metrics::concordance_index(time, event, &eta).unwrap();
    eprintln!(
        "deepsurv C {c:.4}, truth {c_truth:.4} on {} rows",
        time.len()
    );
    assert!(
        (c - c_truth).abs() <= 0.02,
        "deepsurv C-index {c:.4} vs truth {c_truth:.4}"
    );
}

#[test]
fn ziln_beats_the_historical_average() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = synth_data(dir.path(), "2023-07-01");
    let out = run(
        dir.path(),
        r#"
[labels]
task = "clv"
horizon_days = 90
[cv]
cutoffs = ["2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01"]
folds = 1
[[models]]
kind = "historical_average"
[[models]]
kind = "ziln"
params = { hidden = [32, 16], epochs = 40, batch_size = 512, learning_rate = 0.003 }
"#,
    );
    let fold = fold_at(&out, cfg.truth_cutoff);
    let truth = truth_column(dir.path(), "expected_spend");
    let score = |m: usize| {
        let pred = &out.models[m].predictions[fold];
        let Target::Continuous(y) = &pred.target else {
            panic!("clv target expected")
        };
        let expected: Vec<f64> = pred
            .customer_ids
            .iter()
            .map(|id| truth[id].unwrap())
            .collect();
        (
            tenure_metrics::rmse(&expected, &pred.prediction).unwrap(),
            tenure_metrics::rmse(y, &pred.prediction).unwrap(),
            tenure_metrics::normalized_gini(y, &pred.prediction).unwrap(),
        )
    };
    let (hist_truth, hist_rmse, hist_gini) = score(0);
    let (ziln_truth, ziln_rmse, ziln_gini) = score(1);
    eprintln!(
        "RMSE to truth: ziln {ziln_truth:.3} vs history {hist_truth:.3}; \
         RMSE {ziln_rmse:.3} vs {hist_rmse:.3}; Gini {ziln_gini:.3} vs {hist_gini:.3}"
    );
    assert!(ziln_truth < hist_truth, "{ziln_truth} vs {hist_truth}");
    assert!(ziln_rmse < hist_rmse, "{ziln_rmse} vs {hist_rmse}");
    assert!(ziln_gini > hist_gini, "{ziln_gini} vs {hist_gini}");
}
