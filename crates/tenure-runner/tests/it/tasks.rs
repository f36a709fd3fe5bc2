//! Every task runs end to end and reports its metrics.

use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::{Experiment, RunOptions};

fn run_task(labels: &str, models: &str) -> tenure_runner::RunOutcome {
    let dir = tempfile::tempdir().unwrap();
    synth::write(
        &SynthConfig {
            customers: 3_000,
            seed: 3,
            ..SynthConfig::default()
        },
        &dir.path().join("data"),
    )
    .unwrap();
    let text = format!(
        r#"
name = "task"
[data.transactions]
path = "data/transactions.parquet"
category = "category"
[data.customers]
path = "data/customers.parquet"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "region"]
{labels}
[cv]
first = "2022-01-01"
every_days = 91
folds = 2
{models}
"#
    );
    std::fs::write(dir.path().join("e.toml"), text).unwrap();
    let exp = Experiment::load(&dir.path().join("e.toml")).unwrap();
    tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..RunOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn survival_reports_harrell_and_uno_concordance() {
    let out = run_task(
        "[labels]\ntask = \"survival\"\nhorizon_days = 180",
        "[[models]]\nkind = \"kaplan_meier\"\n[[models]]\nkind = \"cox\"",
    );
    let m = &out.models[0].metrics;
    // Kaplan–Meier gives everyone the same risk: it ranks nobody.
    for name in ["c_index", "uno_c"] {
        assert_eq!(m[name].folds.len(), 2, "{name}");
        assert!(
            (m[name].mean - 0.5).abs() < 1e-12,
            "{name}: {}",
            m[name].mean
        );
        assert!((m[name].test - 0.5).abs() < 1e-12, "{name}");
    }
    // Cox on the snapshot features recovers the hazard's covariates.
    let cox = &out.models[1].metrics;
    for name in ["c_index", "uno_c"] {
        assert!(cox[name].mean > 0.58, "cox {name}: {}", cox[name].mean);
    }
}

#[test]
fn clv_reports_errors_and_ranking_metrics() {
    let out = run_task(
        "[labels]\ntask = \"clv\"\nhorizon_days = 90",
        "[[models]]\nkind = \"historical_average\"\nparams = { calibrate = true }",
    );
    let m = &out.models[0].metrics;
    for name in ["rmse", "mae", "gini", "spearman", "top_decile_lift"] {
        assert!(m.contains_key(name), "{name} missing from {:?}", m.keys());
    }
    assert!(
        m["gini"].mean > 0.2,
        "past spend ranks future spend: {}",
        m["gini"].mean
    );
    assert!(m["rmse"].mean >= m["mae"].mean);
}

/// The shipped CDNOW experiment: BG/NBD and Gamma-Gamma on the snapshot RFM
/// features forecast 90-day spend better than the historical average.
#[test]
fn cdnow_buy_till_you_die_beats_the_historical_average() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/clv.toml");
    let exp = Experiment::load(&path).unwrap();
    if !exp.file.data.transactions.path.exists() {
        println!(
            "skipping: CDNOW not found at {}",
            exp.file.data.transactions.path.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let rmse = |name: &str| {
        let m = out.models.iter().find(|m| m.name == name).unwrap();
        m.metrics["rmse"].mean
    };
    assert!(
        rmse("bgnbd") < rmse("history"),
        "{} vs {}",
        rmse("bgnbd"),
        rmse("history")
    );
    assert!(rmse("bgnbd-gg") < rmse("history-calibrated"));
}

/// A monthly discount rate of 0 reproduces the undiscounted forecast; a
/// positive one lowers every forecast.
#[test]
fn discounted_clv_is_the_undiscounted_forecast_at_rate_zero() {
    let clv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/clv.toml");
    let cdnow = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow/cdnow_master.csv");
    if !cdnow.exists() {
        println!("skipping: CDNOW not found at {}", cdnow.display());
        return;
    }
    // Data paths resolve against the experiment file that runs: this one.
    let data = format!(
        "[data.transactions]\npath = \"{}\"\n",
        cdnow.canonicalize().unwrap().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("discounted.toml");
    std::fs::write(
        &path,
        format!(
            "extends = [\"{}\"]\nname = \"discounted\"\n{data}\
             [[models]]\nname = \"plain\"\nkind = \"gamma_gamma\"\n\
             [[models]]\nname = \"zero\"\nkind = \"gamma_gamma\"\nparams = {{ discount_rate_monthly = 0.0 }}\n\
             [[models]]\nname = \"annual\"\nkind = \"gamma_gamma\"\nparams = {{ discount_rate_annual = 0.2 }}\n",
            clv.canonicalize().unwrap().display()
        ),
    )
    .unwrap();
    let exp = Experiment::load(&path).unwrap();
    let out = tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let test = |name: &str| {
        let m = out.models.iter().find(|m| m.name == name).unwrap();
        m.predictions
            .iter()
            .find(|p| p.fold == "test")
            .unwrap()
            .prediction
            .clone()
    };
    let (plain, zero, annual) = (test("plain"), test("zero"), test("annual"));
    for ((p, z), a) in plain.iter().zip(&zero).zip(&annual) {
        assert!((p - z).abs() <= 1e-9 * p.abs().max(1.0), "{p} vs {z}");
        assert!(*a <= z + 1e-12, "discounting raised a forecast: {a} > {z}");
    }
    assert!(annual.iter().sum::<f64>() < zero.iter().sum::<f64>());

    std::fs::write(
        &path,
        format!(
            "extends = [\"{}\"]\n[[models]]\nkind = \"gamma_gamma\"\n\
             params = {{ discount_rate_monthly = 0.01, discount_rate_annual = 0.1 }}\n",
            clv.canonicalize().unwrap().display()
        ),
    )
    .unwrap();
    let err = Experiment::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("models[0].params") && err.contains("not both"),
        "{err}"
    );
}
