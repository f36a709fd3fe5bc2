//! `tenure bench run`: a suite measured, written as JSON and Markdown, and
//! gated against a baseline (a results file or the registry's champion).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{run_ok, synth_dir, tenure};

/// A churn experiment on the shared synthetic data: a logistic model and a
/// small booster with early stopping (its test rounds come from the CV
/// folds, as in `tenure run`).
fn experiment(dir: &Path, registry: bool) -> PathBuf {
    let data = synth_dir();
    let mut text = format!(
        r#"
name = "bench-churn"
seed = 1

[data.transactions]
path = "{tx}"
category = "category"

[data.customers]
path = "{cu}"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "channel", "region"]

[labels]
task = "churn"
horizon_days = 90
churn = "cancel"

[cv]
cutoffs = ["2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01"]
folds = 2
test_cutoff = "2023-10-01"

[[models]]
name = "logreg"
kind = "logistic"

[[models]]
name = "gbdt"
kind = "gbdt"
params = {{ num_iterations = 20, num_leaves = 7, min_data_in_leaf = 20, early_stopping_round = 5, metric = "auc" }}

[tracking]
uri = "{store}"
"#,
        tx = data.join("transactions.parquet").display(),
        cu = data.join("customers.parquet").display(),
        store = dir.join("store").display(),
    );
    if registry {
        text.push_str(
            "\n[registry]\nname = \"churn\"\nmodel = \"logreg\"\nmetric = \"auc\"\nalias = \"champion\"\n",
        );
    }
    let path = dir.join("churn.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A suite over that experiment; `extra` is appended (datasets, tolerances).
fn suite(dir: &Path, head: &str, entry: &str) -> PathBuf {
    experiment(dir, false);
    let text = format!(
        "name = \"tiny\"\nrepeat = 2\n{head}\n[[experiments]]\npath = \"churn.toml\"\n{entry}\n"
    );
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn bench(args: &[&str], suite: &Path) -> Output {
    tenure()
        .args(["bench", "run"])
        .arg(suite)
        .args(["--quiet"])
        .args(args)
        .output()
        .expect("tenure runs")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_tiny_suite_writes_results_and_a_summary_then_gates_on_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The bench generates its own synthetic customers for this dataset.
    let suite = suite(
        d,
        "[datasets.synth]\nkind = \"synthetic\"\ncustomers = 1500\nseed = 3\n",
        "dataset = \"synth\"",
    );
    let (json, md) = (d.join("results.json"), d.join("summary.md"));
    let out = bench(
        &[
            "--out",
            json.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ],
        &suite,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let r = read_json(&json);
    assert_eq!(r["schema"], "tenure-bench/1");
    assert_eq!(r["suite"], "tiny");
    assert_eq!(r["repeat"], 2);
    assert_eq!(r["tenure_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r["device"], "cpu");
    assert!(r.get("git_commit").is_some() && r["started"].as_str().unwrap().ends_with('Z'));
    let entries = r["entries"].as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["bench-churn/logreg", "bench-churn/gbdt"]);
    for e in entries {
        assert_eq!(e["dataset"], "synth");
        assert_eq!(e["test_cutoff"], "2023-10-01");
        let auc = e["quality"]["auc"].as_f64().unwrap();
        assert!(auc > 0.55 && auc <= 1.0, "{e}");
        for m in ["pr_auc", "log_loss", "brier"] {
            assert!(e["quality"][m].as_f64().is_some(), "{m} missing: {e}");
        }
        for timing in [
            "train_seconds",
            "predict_seconds",
            "predict_rows_per_second",
        ] {
            let t = &e[timing];
            let samples: Vec<f64> = t["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(samples.len(), 2, "{timing}: {t}");
            let (lo, hi) = (t["min"].as_f64().unwrap(), t["max"].as_f64().unwrap());
            let median = t["median"].as_f64().unwrap();
            assert!(lo > 0.0 && lo <= median && median <= hi, "{timing}: {t}");
            assert!((median - (samples[0] + samples[1]) / 2.0).abs() < 1e-9 * median.max(1.0));
        }
        assert_eq!(
            e["train_cpu_seconds"]["samples"].as_array().unwrap().len(),
            2
        );
        assert!(e["peak_rss_mb"].as_f64().unwrap() > 1.0);
        assert!(e["train_rows"].as_u64().unwrap() > e["test_rows"].as_u64().unwrap() / 2);
    }
    assert!(r.get("comparison").is_none());
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.starts_with("### tenure bench `tiny`: measured (no baseline)"),
        "{summary}"
    );
    assert!(summary.contains("| bench-churn/gbdt | gbdt |"), "{summary}");
    assert!(stdout.contains("bench-churn/logreg"), "{stdout}");

    // The same results as baseline: nothing regressed, exit 0; with its
    // history, the summary draws a trend.
    let again = d.join("again.json");
    let out = bench(
        &[
            "--baseline",
            json.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--history",
            json.to_str().unwrap(),
            "--repeat",
            "1",
        ],
        &suite,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let c = &read_json(&again)["comparison"];
    assert_eq!(c["quality_regressions"], 0, "{c}");
    let auc = c["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "bench-churn/gbdt" && k["metric"] == "auc")
        .expect("gbdt auc compared");
    assert_eq!(auc["status"], "ok");
    assert_eq!(
        auc["delta"], 0.0,
        "the same data and seeds give the same model"
    );
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(summary.contains("no quality regression") || summary.contains("no regression"));
    assert!(
        summary.contains("| trend |") && summary.contains('▄'),
        "{summary}"
    );

    // A baseline better than this model can be: exit 1, naming the metric.
    let mut better = read_json(&json);
    better["entries"][0]["quality"]["auc"] = Value::from(0.999);
    let better_path = d.join("better.json");
    std::fs::write(&better_path, better.to_string()).unwrap();
    let out = bench(
        &[
            "--baseline",
            better_path.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--repeat",
            "1",
        ],
        &suite,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| {
            l.split_whitespace()
                .take(2)
                .eq(["bench-churn/logreg", "auc"])
        })
        .unwrap_or_else(|| panic!("no auc line in\n{stdout}"));
    assert!(
        line.contains("REGRESSED") && line.contains("0.9990"),
        "{line}"
    );
    assert!(stderr.contains("auc of bench-churn/logreg"), "{stderr}");
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.contains("❌ 1 regression: `auc` of bench-churn/logreg"),
        "{summary}"
    );
    assert!(
        summary.contains("| bench-churn/logreg | auc | 0.9990 |"),
        "{summary}"
    );
}

#[test]
fn bad_suites_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, &str, &str); 5] = [
        ("repeats = 3", "", "`repeats`"),
        (
            "[datasets.synth]\nkind = \"synthetic\"\ncustomers = \"many\"",
            "dataset = \"synth\"",
            "`datasets.synth.customers`",
        ),
        ("", "dataset = \"nowhere\"", "`experiments[0].dataset`"),
        ("", "models = [\"forest\"]", "`experiments[0].models`"),
        ("[tolerances]\nauc = -1", "", "`tolerances.auc`"),
    ];
    for (head, entry, key) in cases {
        let suite = suite(d, head, entry);
        let out = bench(&[], &suite);
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{head} {entry}: {stdout}\n{stderr}"
        );
        assert!(stderr.contains(key), "{key} not named: {stderr}");
        assert!(stderr.contains("suite.toml"), "{stderr}");
    }
    // A missing baseline file is an error before anything runs.
    let suite = suite(d, "", "");
    let out = bench(&["--baseline", "nothing-here.json"], &suite);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("nothing-here.json"));
}

#[test]
fn the_registry_champion_is_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exp = experiment(d, true);
    run_ok(tenure().args(["run", "--quiet"]).arg(&exp));
    // The suite benches the experiment on its own data: the champion's
    // test metrics are exactly what the bench measures.
    std::fs::write(
        d.join("suite.toml"),
        "name = \"champion\"\nrepeat = 1\n[[experiments]]\npath = \"churn.toml\"\n",
    )
    .unwrap();
    let json = d.join("results.json");
    let out = bench(
        &[
            "--baseline",
            "churn@champion",
            "--store",
            d.join("store").to_str().unwrap(),
            "--out",
            json.to_str().unwrap(),
        ],
        &d.join("suite.toml"),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let c = &read_json(&json)["comparison"];
    assert!(
        c["baseline"]
            .as_str()
            .unwrap()
            .starts_with("registry churn@champion (version 1"),
        "{c}"
    );
    let checks = c["checks"].as_array().unwrap();
    assert!(checks.len() >= 4, "{c}");
    for k in checks {
        assert_eq!(k["id"], "bench-churn/logreg", "{k}");
        assert_eq!(k["status"], "ok", "{k}");
        let delta = k["delta"].as_f64().unwrap();
        assert!(delta.abs() < 1e-12, "bench and run disagree: {k}");
    }
    assert_eq!(c["new_records"], serde_json::json!(["bench-churn/gbdt"]));
    // An alias nobody holds is an error, not a pass.
    let out = bench(
        &[
            "--baseline",
            "churn@staging",
            "--store",
            d.join("store").to_str().unwrap(),
        ],
        &d.join("suite.toml"),
    );
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
}

#[test]
fn bench_gbdt_reports_time_throughput_and_auc() {
    let out = run_ok(tenure().args([
        "bench",
        "gbdt",
        "--rows",
        "3000",
        "--features",
        "15",
        "--rounds",
        "10",
        "--leaves",
        "7",
        "--test-rows",
        "2000",
        "--threads",
        "1",
        "--repeat",
        "2",
        "--json",
    ]));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["rows"].as_u64(), r["features"].as_u64()),
        (Some(3000), Some(15))
    );
    assert_eq!(r["num_trees"], 10);
    assert_eq!(r["train_seconds"]["samples"].as_array().unwrap().len(), 2);
    // The synthetic signal is learnable: well above chance on held-out rows.
    let auc = r["test_auc"].as_f64().unwrap();
    assert!(auc > 0.6 && auc < 1.0, "{auc}");
    let rate = r["predict_rows_per_second"].as_f64().unwrap();
    let per_call = r["predict_seconds"]["median"].as_f64().unwrap();
    assert!((rate * per_call - 2000.0).abs() < 1e-6 * 2000.0, "{r}");
    assert!(r["peak_rss_mb"].as_f64().unwrap() > 1.0);
}

/// `--categorical K` trains the last K features as category codes; on
/// wgpu (lavapipe in CI) the device searches their splits and the model is
/// the quantised CPU's, AUC for AUC. More categorical features than
/// features is refused, naming both.
#[test]
fn bench_gbdt_trains_categorical_features_alike_on_the_gpu_and_the_cpu() {
    let bench = |extra: &[&str]| -> Value {
        let out = run_ok(
            tenure()
                .args(["bench", "gbdt", "--rows", "4000", "--features", "15"])
                .args(["--rounds", "6", "--leaves", "15", "--test-rows", "2000"])
                .args(["--categorical", "3", "--json"])
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let gpu = bench(&["--device", "wgpu"]);
    let cpu = bench(&["--quantized"]);
    assert_eq!(gpu["categorical"], 3, "{gpu}");
    assert_eq!(gpu["device"], "wgpu", "{gpu}");
    assert_eq!(gpu["test_auc"], cpu["test_auc"], "{gpu} {cpu}");
    assert_eq!(gpu["num_trees"], 6);
    let auc = gpu["test_auc"].as_f64().unwrap();
    assert!(auc > 0.6 && auc < 1.0, "{auc}");
    // The device searched: shortlists came back (1.5 KiB a leaf, at most
    // 29 leaves a round), not histograms (about 25 KiB each, 15 a round).
    let traffic = &gpu["device_traffic"];
    let per_round = traffic["read_back"].as_u64().unwrap() / traffic["rounds"].as_u64().unwrap();
    assert!(per_round < 128 * 1024, "{traffic}");

    let out = tenure()
        .args(["bench", "gbdt", "--features", "15", "--categorical", "16"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("categorical features (16)") && err.contains("(15)"),
        "{err}"
    );
}

/// `--objective cox` trains on survival times and reports the held-out
/// C-index (no AUC); on wgpu the device computes the Cox gradients itself,
/// so a round sends no value per row, and the model is the quantised CPU's,
/// C-index for C-index. An objective the benchmark has no table for is
/// refused, naming it.
#[test]
fn bench_gbdt_trains_cox_alike_on_the_gpu_and_the_cpu() {
    let bench = |extra: &[&str]| -> Value {
        let out = run_ok(
            tenure()
                .args(["bench", "gbdt", "--rows", "4000", "--features", "15"])
                .args(["--rounds", "6", "--leaves", "15", "--test-rows", "2000"])
                .args(["--objective", "cox", "--json"])
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let gpu = bench(&["--device", "wgpu"]);
    let cpu = bench(&["--quantized"]);
    assert_eq!(gpu["objective"], "cox", "{gpu}");
    assert!(gpu.get("test_auc").is_none(), "{gpu}");
    assert_eq!(gpu["test_cindex"], cpu["test_cindex"], "{gpu} {cpu}");
    let c = gpu["test_cindex"].as_f64().unwrap();
    assert!(c > 0.65 && c < 1.0, "{c}");
    let traffic = &gpu["device_traffic"];
    let up = traffic["uploaded_in_rounds"].as_u64().unwrap() / traffic["rounds"].as_u64().unwrap();
    assert!(up < 4000, "{traffic}");

    let out = tenure()
        .args(["bench", "gbdt", "--objective", "tweedie"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{:?}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("binary or cox, not tweedie"), "{err}");
}
