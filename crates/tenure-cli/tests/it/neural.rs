//! Neural models and devices from the command line.

use serde_json::Value;

use crate::common::{run_ok, tenure, write_experiment};

/// A table whose label and spend follow the first two features.
fn write_table(dir: &std::path::Path) -> std::path::PathBuf {
    let mut csv = String::from("a,b,noise,churned,spend,days,cancelled\n");
    for i in 0..1500u32 {
        let a = f64::from(i % 37) / 18.0 - 1.0;
        let b = f64::from((i * 13) % 29) / 14.0 - 1.0;
        let noise = f64::from((i * 7) % 11);
        let s = 2.0 * a - 1.5 * b;
        let churned = u8::from(s + f64::from((i * 31) % 17) / 8.0 - 1.0 > 0.0);
        let spend = if i % 3 == 0 { 0.0 } else { (3.0 + a).exp() };
        let days = (100.0 * (-s).exp()).ceil();
        let cancelled = u8::from(i % 5 != 0);
        csv.push_str(&format!(
            "{a},{b},{noise},{churned},{spend},{days},{cancelled}\n"
        ));
    }
    let path = dir.join("table.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn devices_lists_the_cpu_wgpu_and_cuda() {
    let out = run_ok(tenure().args(["devices", "--json"]));
    let v = json(&out);
    assert!(v["inventory"]["cpu_cores"].as_u64().unwrap() >= 1);
    // The default build has wgpu and not CUDA.
    assert_eq!(v["inventory"]["wgpu"]["status"], "available", "{v}");
    assert_eq!(v["inventory"]["cuda"]["status"], "not_compiled", "{v}");
    assert!(v["auto"]["reason"].as_str().unwrap().starts_with("auto: "));
    let text = String::from_utf8(run_ok(tenure().arg("devices")).stdout).unwrap();
    assert!(text.contains("cpu: "), "{text}");
    assert!(text.contains("cuda: not in this build"), "{text}");
    assert!(text.contains("--device auto"), "{text}");
}

#[test]
fn fit_trains_each_network_on_the_requested_device() {
    let dir = tempfile::tempdir().unwrap();
    let table = write_table(dir.path());
    let common = [
        "--device",
        "cpu",
        "--param",
        "epochs=15",
        "--param",
        "hidden=[16]",
        "--json",
    ];
    let out = run_ok(
        tenure()
            .arg("fit")
            .arg(&table)
            .args([
                "--model",
                "mlp",
                "--target",
                "churned",
                "--features",
                "a,b,noise",
            ])
            .args(common),
    );
    let v = json(&out);
    assert_eq!(v["device"], "cpu");
    assert_eq!(v["layers"], serde_json::json!([3, 16, 1]));
    assert!(v["train"]["auc"].as_f64().unwrap() > 0.8, "{v}");

    let out = run_ok(
        tenure()
            .arg("fit")
            .arg(&table)
            .args([
                "--model",
                "deepsurv",
                "--duration",
                "days",
                "--event",
                "cancelled",
            ])
            .args(["--features", "a,b", "--param", "ties=breslow"])
            .args(common),
    );
    let v = json(&out);
    assert!(v["train"]["concordance"].as_f64().unwrap() > 0.7, "{v}");

    let out = run_ok(
        tenure()
            .arg("fit")
            .arg(&table)
            .args(["--model", "ziln", "--target", "spend", "--features", "a,b"])
            .args(common),
    );
    let v = json(&out);
    assert_eq!(v["layers"], serde_json::json!([2, 16, 3]));
    assert!(v["train"]["normalized_gini"].as_f64().unwrap() > 0.2, "{v}");
}

#[test]
fn bad_neural_input_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let table = write_table(dir.path());
    let cases: [(&[&str], &str); 4] = [
        (&["--model", "mlp", "--target", "spend"], "`spend`"),
        (
            &[
                "--model", "mlp", "--target", "churned", "--param", "depth=3",
            ],
            "depth",
        ),
        (
            &[
                "--model",
                "mlp",
                "--target",
                "churned",
                "--param",
                "dropout=1.5",
            ],
            "`dropout`",
        ),
        (
            &["--model", "ziln", "--target", "spend", "--device", "cuda"],
            "without the `cuda` feature",
        ),
    ];
    for (args, needle) in cases {
        let out = tenure().arg("fit").arg(&table).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn run_trains_an_mlp_on_wgpu_and_tags_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "neural");
    let text = std::fs::read_to_string(&exp).unwrap().replace(
        "kind = \"logistic\"\nparams = { l2 = 1.0 }",
        "kind = \"mlp\"\nparams = { hidden = [16], epochs = 3 }",
    );
    std::fs::write(&exp, text).unwrap();
    let out = run_ok(
        tenure()
            .arg("run")
            .arg(&exp)
            .args(["--device", "wgpu", "--json"]),
    );
    let v = json(&out);
    assert_eq!(v["device"], "wgpu", "{v}");
    assert_eq!(v["models"][0]["kind"], "mlp");
    // Three epochs only test the plumbing; learning is tested in tenure-neural.
    let auc = v["models"][0]["metrics"]["auc"]["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auc), "{v}");
    let run_id = v["run_id"].as_str().unwrap();
    let store = dir.path().join("store");
    let shown = json(&run_ok(
        tenure()
            .args(["runs", "show", run_id, "--json", "--store"])
            .arg(&store),
    ));
    assert_eq!(shown["tags"]["tenure.device"], "wgpu");
    assert!(
        shown["tags"]["tenure.device_reason"]
            .as_str()
            .unwrap()
            .starts_with("wgpu requested"),
        "{shown}"
    );

    let out = tenure()
        .arg("run")
        .arg(&exp)
        .args(["--device", "cuda"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without the `cuda` feature"));
}
