//! `bench::run_suite` measures what `tenure run` measures on the test
//! cutoff, for every family (early-stopping rounds and survival curves
//! included), and suites fail on bad keys with the key named.

use std::path::Path;

use tenure_runner::bench::{self, BenchOptions, Suite};
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::{Experiment, RunOptions};

fn write_data(dir: &Path) {
    synth::write(
        &SynthConfig {
            customers: 1_500,
            seed: 5,
            ..SynthConfig::default()
        },
        &dir.join("data"),
    )
    .unwrap();
}

fn write_experiment(dir: &Path, file: &str, labels: &str, models: &str) {
    let text = format!(
        r#"
name = "{name}"
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
first = "2022-07-01"
every_days = 91
folds = 2
{models}
"#,
        name = file.trim_end_matches(".toml")
    );
    std::fs::write(dir.join(file), text).unwrap();
}

fn write_suite(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bench_quality_is_the_runs_test_metrics_for_every_family() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_data(d);
    write_experiment(
        d,
        "churn.toml",
        "[labels]\ntask = \"churn\"\nhorizon_days = 90",
        "[[models]]\nkind = \"logistic\"\n[[models]]\nkind = \"gbdt\"\n\
         params = { num_iterations = 30, num_leaves = 7, early_stopping_round = 3, metric = \"auc\" }",
    );
    write_experiment(
        d,
        "survival.toml",
        "[labels]\ntask = \"survival\"\nhorizon_days = 180\n[evaluation]\nsurvival_times_days = [90, 180]",
        "[[models]]\nkind = \"kaplan_meier\"\n[[models]]\nkind = \"cox\"",
    );
    write_experiment(
        d,
        "clv.toml",
        "[labels]\ntask = \"clv\"\nhorizon_days = 90",
        "[[models]]\nkind = \"historical_average\"\n[[models]]\nkind = \"ridge\"",
    );
    // BG/NBD, whose fit and prediction are one step, on the log it is
    // made for.
    let cdnow = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow/cdnow_master.csv");
    std::fs::write(
        d.join("cdnow.toml"),
        format!(
            "name = \"cdnow\"\n[data.transactions]\npath = \"{}\"\ntimestamp = \"date\"\n\
             amount = \"dollar_value\"\n[labels]\ntask = \"clv\"\nhorizon_days = 90\n\
             [cv]\nfirst = \"1997-04-01\"\nevery_days = 30\nfolds = 2\n\
             [[models]]\nkind = \"bgnbd\"\n",
            cdnow.display()
        ),
    )
    .unwrap();
    let suite = write_suite(
        d,
        "name = \"parity\"\nrepeat = 2\n[[experiments]]\npath = \"churn.toml\"\n\
         [[experiments]]\npath = \"survival.toml\"\n[[experiments]]\npath = \"clv.toml\"\n\
         [[experiments]]\npath = \"cdnow.toml\"\n",
    );
    let suite = Suite::load(&suite).unwrap();
    let results = bench::run_suite(&suite, &BenchOptions::default()).unwrap();
    assert_eq!(results.entries.len(), 7);
    for name in ["churn", "survival", "clv", "cdnow"] {
        let exp = Experiment::load(&d.join(format!("{name}.toml"))).unwrap();
        let run = tenure_runner::run(
            &exp,
            &RunOptions {
                tracking_dir: Some(d.join("runs")),
                ..RunOptions::default()
            },
        )
        .unwrap();
        for m in &run.models {
            let record = results
                .entries
                .iter()
                .find(|e| e.id == format!("{name}/{}", m.name))
                .unwrap();
            let finite: Vec<_> = m
                .metrics
                .iter()
                .filter(|(_, s)| s.test.is_finite())
                .collect();
            assert!(!finite.is_empty());
            assert_eq!(
                record.quality.len(),
                finite.len(),
                "{}: {:?}",
                record.id,
                record.quality
            );
            for (metric, s) in finite {
                assert_eq!(record.quality[metric], s.test, "{} {metric}", record.id);
            }
            assert_eq!(record.train_seconds.samples.len(), 2);
            // Every family but BG/NBD predicts as a separate, timed step.
            assert_eq!(
                record.predict_rows_per_second.is_some(),
                m.kind != "bgnbd",
                "{}",
                record.id
            );
            assert_eq!(record.test_cutoff, run.split.last().unwrap().valid_cutoff);
        }
    }
    // The results file reads back as a baseline equal to itself.
    let path = d.join("results.json");
    std::fs::write(&path, serde_json::to_string(&results).unwrap()).unwrap();
    let baseline = bench::Baseline::from_file(&path).unwrap();
    let c = bench::compare(&results, &baseline, &suite);
    assert!(
        c.checks.iter().all(|k| k.status == bench::Status::Ok),
        "{c:?}"
    );
    assert!(c.checks.iter().any(|k| k.metric == "uno_c"));
}

#[test]
fn suite_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_experiment(
        d,
        "churn.toml",
        "[labels]\ntask = \"churn\"\nhorizon_days = 90",
        "[[models]]\nkind = \"logistic\"",
    );
    let cases = [
        (
            "name = \"s\"\nrepeat = 0\n[[experiments]]\npath = \"churn.toml\"",
            "`repeat`",
        ),
        ("name = \"s\"", "`experiments`"),
        (
            "name = \"s\"\n[[experiments]]\npath = \"nope.toml\"",
            "`experiments[0].path`",
        ),
        (
            "name = \"s\"\n[[experiments]]\npath = \"churn.toml\"\n[[experiments]]\npath = \"churn.toml\"",
            "`experiments[1].name`",
        ),
        (
            "name = \"s\"\n[tolerances]\nspeed = 1\n[[experiments]]\npath = \"churn.toml\"",
            "`tolerances.speed`",
        ),
        (
            "name = \"s\"\n[datasets.x]\nkind = \"files\"\ntransactions = \"missing.csv\"\n\
             [[experiments]]\npath = \"churn.toml\"",
            "`datasets.x.transactions`",
        ),
        (
            "name = \"s\"\n[datasets.x]\nkind = \"cdnow\"\ndir = \"nowhere\"\n\
             [[experiments]]\npath = \"churn.toml\"",
            "`datasets.x.dir`",
        ),
        (
            "name = \"s\"\n[datasets.x]\nkind = \"parquet\"\n[[experiments]]\npath = \"churn.toml\"",
            "`datasets.x",
        ),
        (
            "name = \"s\"\n[[experiments]]\npath = \"churn.toml\"\nmodel = \"logistic\"",
            "`experiments[0].model`",
        ),
    ];
    for (text, key) in cases {
        let err = Suite::load(&write_suite(d, text)).unwrap_err().to_string();
        assert!(err.contains(key), "{key} not named in: {err}");
        assert!(err.contains("suite.toml"), "{err}");
    }
    // The CDNOW-like log has no customers table; an experiment that reads
    // one cannot run on it.
    std::fs::write(
        d.join("tx.csv"),
        "customer_id,timestamp,amount\n1,2022-01-01,3\n",
    )
    .unwrap();
    let err = Suite::load(&write_suite(
        d,
        "name = \"s\"\n[datasets.x]\nkind = \"files\"\ntransactions = \"tx.csv\"\n\
         [[experiments]]\npath = \"churn.toml\"\ndataset = \"x\"",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`experiments[0].dataset`") && err.contains("customers"),
        "{err}"
    );
}

#[test]
fn bench_gbdt_measures_the_booster() {
    let r = bench::gbdt::run(&bench::gbdt::GbdtBench {
        rows: 2_000,
        features: 13,
        rounds: 8,
        num_leaves: 7,
        threads: 1,
        test_rows: 1_000,
        repeat: 3,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(r.num_trees, 8);
    assert_eq!(r.train_seconds.samples.len(), 3);
    let auc = r.test_auc.unwrap();
    assert!(auc > 0.6, "{auc}");
    assert!(r.test_cindex.is_none());
    let err = bench::gbdt::run(&bench::gbdt::GbdtBench {
        rows: 1,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("rows (1)"), "{err}");
}
