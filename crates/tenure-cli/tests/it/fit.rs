//! `tenure fit` reproduces the reference libraries on their own inputs: the
//! golden files of scripts/reference/ are turned into tables and fitted from
//! the command line.

use std::path::Path;

use serde_json::Value;

use crate::common::{run_ok, tenure};

fn golden(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/reference")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn logistic_matches_scikit_learn() {
    let g = golden("sklearn_logistic.json");
    let names = strings(&g["feature_names"]);
    let mut csv = format!("{},churned\n", names.join(","));
    for (row, y) in g["x"].as_array().unwrap().iter().zip(floats(&g["y"])) {
        let cells: Vec<String> = floats(row)
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    v.to_string()
                }
            })
            .collect();
        csv.push_str(&format!("{},{y}\n", cells.join(",")));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.csv");
    std::fs::write(&path, csv).unwrap();

    let case = g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "l2_1")
        .unwrap();
    let out = run_ok(
        tenure()
            .args([
                "fit", "--model", "logistic", "--target", "churned", "--l2", "1", "--json",
            ])
            .arg(&path),
    );
    let fitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, expect) in names.iter().zip(floats(&case["coefficients"])) {
        let got = fitted["coef"][name].as_f64().unwrap();
        assert!((got - expect).abs() < 1e-6, "{name}: {got} vs {expect}");
    }
    let b0 = fitted["intercept"].as_f64().unwrap();
    assert!((b0 - case["intercept"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let g = golden("lifelines_kaplan_meier.json");
    let case = &g["cases"][0];
    let mut csv = String::from("days,cancelled\n");
    for (t, e) in floats(&case["time"])
        .iter()
        .zip(case["event"].as_array().unwrap())
    {
        let e = e
            .as_bool()
            .map_or_else(|| e.as_f64().unwrap(), |b| f64::from(u8::from(b)));
        csv.push_str(&format!("{t},{e}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durations.csv");
    std::fs::write(&path, csv).unwrap();
    let out = run_ok(
        tenure()
            .args([
                "fit",
                "--model",
                "kaplan_meier",
                "--duration",
                "days",
                "--event",
                "cancelled",
                "--json",
            ])
            .arg(&path),
    );
    let fitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(floats(&fitted["times"]), floats(&case["event_times"]));
    assert_eq!(fitted["median"].as_f64(), case["median"].as_f64());
    assert_eq!(floats(&fitted["at_risk"]), floats(&case["at_risk"]));
}

#[test]
fn fit_errors_name_the_flag_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "days,event,x\n3,1,0.5\n-2,0,1.5\n").unwrap();
    for (args, needles) in [
        (
            vec!["--model", "kaplan_meier", "--event", "event"],
            vec!["--duration"],
        ),
        (
            vec![
                "--model",
                "kaplan_meier",
                "--duration",
                "days",
                "--event",
                "event",
            ],
            vec!["`days`", "row 2", "non-negative"],
        ),
        (
            vec![
                "--model",
                "kaplan_meier",
                "--duration",
                "dayz",
                "--event",
                "event",
            ],
            vec!["`dayz`", "t.csv"],
        ),
        (
            vec![
                "--model",
                "logistic",
                "--target",
                "event",
                "--features",
                "days,x",
            ],
            vec![],
        ),
        (
            vec!["--model", "logistic", "--target", "x"],
            vec!["`x`", "row 1", "0 or 1"],
        ),
        (vec!["--model", "forest"], vec!["forest", "logistic"]),
    ] {
        let out = tenure().arg("fit").args(&args).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if needles.is_empty() {
            assert!(out.status.success(), "{args:?}: {stderr}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{args:?}: `{n}` not in {stderr}");
        }
    }
}

/// Errors found by the models themselves (tenure-stats) count rows as the
/// data errors do: data row 1 is the first line after the header.
#[test]
fn model_errors_name_the_row_a_user_sees_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rfm = dir.path().join("rfm.csv");
    // Data row 2 has recency 11 > T 10.
    std::fs::write(&rfm, "frequency,recency,T\n1,5,10\n2,11,10\n0,0,8\n").unwrap();
    let out = tenure()
        .args([
            "fit",
            "--model",
            "bgnbd",
            "--frequency",
            "frequency",
            "--recency",
            "recency",
            "--t",
            "T",
        ])
        .arg(&rfm)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("recency 11 > T 10 at row 2"), "{stderr}");

    let spend = dir.path().join("spend.csv");
    // Data row 3 is a repeat customer with a zero mean spend.
    std::fs::write(&spend, "frequency,m\n1,10\n2,12\n3,0\n").unwrap();
    let out = tenure()
        .args([
            "fit",
            "--model",
            "gamma_gamma",
            "--frequency",
            "frequency",
            "--monetary",
            "m",
        ])
        .arg(&spend)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("monetary_value 0 at row 3"), "{stderr}");

    let cox = dir.path().join("cox.csv");
    // Data row 4 has no value for `x` (an empty cell).
    std::fs::write(
        &cox,
        "days,event,x\n3,1,0.5\n5,0,1.5\n2,1,2.5\n7,1,\n4,0,0.1\n",
    )
    .unwrap();
    let out = tenure()
        .args([
            "fit",
            "--model",
            "cox",
            "--duration",
            "days",
            "--event",
            "event",
        ])
        .arg(&cox)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`x`") && stderr.contains("at row 4"),
        "{stderr}"
    );
}

/// The Rossi recidivism data of the lifelines golden as a CSV file.
/// `tenure fit` of Cox PH on the Rossi table [`rossi_csv`] writes.
const COX_ROSSI: [&str; 7] = [
    "fit",
    "--model",
    "cox",
    "--duration",
    "week",
    "--event",
    "arrest",
];

fn rossi_csv(g: &Value, dir: &Path) -> std::path::PathBuf {
    let names = strings(&g["feature_names"]);
    let mut csv = format!("{},week,arrest\n", names.join(","));
    let events = g["event"].as_array().unwrap();
    for ((row, t), e) in g["x"]
        .as_array()
        .unwrap()
        .iter()
        .zip(floats(&g["time"]))
        .zip(events)
    {
        let cells: Vec<String> = floats(row).iter().map(f64::to_string).collect();
        let e = u8::from(e.as_bool().unwrap());
        csv.push_str(&format!("{},{t},{e}\n", cells.join(",")));
    }
    let path = dir.join("rossi.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn cox_matches_lifelines_on_rossi() {
    let g = golden("lifelines_cox.json");
    let dir = tempfile::tempdir().unwrap();
    let path = rossi_csv(&g, dir.path());
    let case = g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["ties"] == "efron"
                && c["l2"].as_f64() == Some(0.0)
                && c["strata"].as_array().is_none_or(|s| s.is_empty())
        })
        .expect("an unpenalised, unstratified Efron case");
    let out = run_ok(tenure().args(COX_ROSSI).arg("--json").arg(&path));
    let fitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let case_names = strings(&case["feature_names"]);
    for ((name, coef), se) in case_names
        .iter()
        .zip(floats(&case["coefficients"]))
        .zip(floats(&case["standard_errors"]))
    {
        let got = fitted["coef"][name].as_f64().unwrap();
        let got_se = fitted["se"][name].as_f64().unwrap();
        assert!(
            (got - coef).abs() <= 1e-5 * coef.abs().max(1e-3),
            "{name}: {got} vs {coef}"
        );
        assert!(
            (got_se - se).abs() <= 1e-5 * se,
            "{name} se: {got_se} vs {se}"
        );
    }
    let ll = fitted["log_likelihood"].as_f64().unwrap();
    assert!((ll - case["log_likelihood"].as_f64().unwrap()).abs() < 1e-6);
    let c = fitted["concordance"].as_f64().unwrap();
    assert!((c - case["concordance"].as_f64().unwrap()).abs() < 1e-6);
}

/// `tenure fit --model cox --save-onnx --survival-days`: onnxruntime's
/// `survival` output is lifelines' `predict_survival_function` on Rossi.
/// Days fall between the weekly event times (lifelines reads `H₀` at the
/// times themselves, tenure just before each day, as `tenure run` does).
#[test]
fn cox_exports_survival_probabilities_like_lifelines() {
    let g = golden("lifelines_cox.json");
    let case = g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "efron")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = rossi_csv(&g, dir.path());
    let onnx = dir.path().join("cox.onnx");
    let times = floats(&case["baseline_times"]);
    let days: Vec<String> = times.iter().map(|t| (t + 0.5).to_string()).collect();
    let out = run_ok(
        tenure()
            .args(COX_ROSSI)
            .args(["--json", "--survival-days", &days.join(",")])
            .arg("--save-onnx")
            .arg(&onnx)
            .arg(&path),
    );
    let fitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(floats(&fitted["onnx"]["survival_days"]).len(), times.len());
    let rows: Vec<usize> = case["survival_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap() as usize)
        .collect();
    let x: Vec<Vec<f64>> = rows.iter().map(|&r| floats(&g["x"][r])).collect();
    let python = tenure_mlflow::testing::test_python();
    let scored = std::process::Command::new(python)
        .arg("-c")
        .arg(
            "import json, sys, numpy as np, onnxruntime as ort\n\
             s = ort.InferenceSession(sys.argv[1])\n\
             x = np.array(json.loads(sys.argv[2]), dtype=np.float32)\n\
             print(json.dumps(s.run(['survival'], {'features': x})[0].tolist()))\n",
        )
        .arg(&onnx)
        .arg(serde_json::to_string(&x).unwrap())
        .output()
        .unwrap();
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let got: Vec<Vec<f64>> = serde_json::from_slice(&scored.stdout).unwrap();
    let want = case["survival"].as_array().unwrap();
    for (k, (g_row, w_row)) in got.iter().zip(want).enumerate() {
        for (j, (a, b)) in g_row.iter().zip(floats(w_row)).enumerate() {
            assert!(
                (a - b).abs() <= 2e-5,
                "row {} day {}: onnx {a} vs lifelines {b}",
                rows[k],
                days[j]
            );
        }
    }
    // The flag describes the file: without one, or on a model without
    // hazards, it is an error.
    let e = tenure()
        .args(COX_ROSSI)
        .args(["--survival-days", "30"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--save-onnx"));
    let e = tenure()
        .args([
            "fit",
            "--model",
            "logistic",
            "--target",
            "arrest",
            "--survival-days",
            "30",
        ])
        .arg("--save-onnx")
        .arg(dir.path().join("lr.onnx"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("needs a survival model"));
    assert!(!dir.path().join("lr.onnx").exists());
}

fn cdnow(file: &str) -> std::path::PathBuf {
    // CI clones the project with shared/ beside it.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow")
        .join(file)
}

fn param(v: &Value, name: &str) -> f64 {
    v["params"][name].as_f64().unwrap()
}

/// Fader, Hardie & Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4.
fn assert_published_bgnbd(v: &Value) {
    assert_eq!(v["customers"], 2357);
    for (name, published) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        assert!(
            (param(v, name) - published).abs() < 5e-4,
            "{name}: {}",
            param(v, name)
        );
        assert!(v["se"][name].as_f64().unwrap() > 0.0);
    }
    assert!((v["log_likelihood"].as_f64().unwrap() + 9582.4).abs() < 0.05);
}

#[test]
fn bgnbd_reproduces_the_published_cdnow_fit_from_a_summary_and_from_transactions() {
    let summary = cdnow("cdnow_summary.csv");
    let out = run_ok(tenure().arg("fit").arg(&summary).args([
        "--model",
        "bgnbd",
        "--frequency",
        "frequency",
        "--recency",
        "recency",
        "--t",
        "T",
        "--json",
    ]));
    assert_published_bgnbd(&serde_json::from_slice(&out.stdout).unwrap());

    let out = run_ok(tenure().arg("fit").arg(cdnow("cdnow_sample.csv")).args([
        "--model",
        "bgnbd",
        "--customer-id",
        "sample_id",
        "--timestamp",
        "date",
        "--amount",
        "dollar_value",
        "--calibration-end",
        "1997-10-01",
        "--time-unit",
        "weeks",
        "--json",
    ]));
    assert_published_bgnbd(&serde_json::from_slice(&out.stdout).unwrap());
}

#[test]
fn gamma_gamma_reproduces_the_published_cdnow_fit() {
    let out = run_ok(tenure().arg("fit").arg(cdnow("cdnow_summary.csv")).args([
        "--model",
        "gamma_gamma",
        "--frequency",
        "frequency",
        "--monetary",
        "monetary_value",
        "--json",
    ]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Published p 6.25, q 3.74, gamma 15.44 (truncated: the maximum is 15.4477).
    assert_eq!(v["customers"], 946);
    assert!((param(&v, "p") - 6.25).abs() < 5e-3);
    assert!((param(&v, "q") - 3.74).abs() < 5e-3);
    assert!((param(&v, "gamma") - 15.44).abs() < 1e-2);
}

#[test]
fn rfm_inputs_are_checked() {
    let summary = cdnow("cdnow_summary.csv");
    let out = tenure()
        .arg("fit")
        .arg(&summary)
        .args(["--model", "bgnbd", "--frequency", "frequency"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--recency"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("rfm.csv");
    std::fs::write(&bad, "frequency,recency,T\n1,2,5\n2,9,4\n").unwrap();
    let out = tenure()
        .arg("fit")
        .arg(&bad)
        .args([
            "--model",
            "bgnbd",
            "--frequency",
            "frequency",
            "--recency",
            "recency",
            "--t",
            "T",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("recency 9 > T 4"), "{stderr}");
}

#[test]
fn kaplan_meier_groups_and_log_rank_match_lifelines() {
    let g = golden("lifelines_kaplan_meier.json");
    let case = &g["log_rank"][0];
    let mut csv = String::from("days,died,arm\n");
    let events = case["event"].as_array().unwrap();
    let groups = case["groups"].as_array().unwrap();
    for ((t, e), grp) in floats(&case["time"]).iter().zip(events).zip(groups) {
        let e = u8::from(e.as_bool().unwrap());
        csv.push_str(&format!("{t},{e},arm{}\n", grp.as_u64().unwrap()));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("waltons.csv");
    std::fs::write(&path, csv).unwrap();
    let out = run_ok(tenure().arg("fit").arg(&path).args([
        "--model",
        "kaplan_meier",
        "--duration",
        "days",
        "--event",
        "died",
        "--group",
        "arm",
        "--json",
    ]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stat = v["log_rank"]["statistic"].as_f64().unwrap();
    let expect = case["statistic"].as_f64().unwrap();
    assert!((stat - expect).abs() < 1e-6 * expect, "{stat} vs {expect}");
    assert_eq!(v["log_rank"]["df"], case["df"]);
    assert_eq!(v["groups"].as_object().unwrap().len(), 2);
    let rows: u64 = v["groups"]
        .as_object()
        .unwrap()
        .values()
        .map(|g| g["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 163);
    assert_eq!(
        v["ci95_lower"].as_array().unwrap().len(),
        v["times"].as_array().unwrap().len()
    );
}
