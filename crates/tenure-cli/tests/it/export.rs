//! ONNX files from the command line: the models a run exported, `tenure
//! export` redoing one, `tenure fit --save-onnx`.

use std::path::Path;

use serde_json::Value;

use crate::common::{run_ok, tenure, write_experiment};

fn fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("tenure runs");
    assert_eq!(out.status.code(), Some(2), "expected a usage error");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn card(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn run_exports_and_export_redoes_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "onnx-run");
    let out = run_ok(tenure().arg("run").arg(&exp).arg("--json"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run_id = v["run_id"].as_str().unwrap();
    let artifact = Path::new(v["models"][0]["onnx"].as_str().unwrap());
    assert!(artifact.ends_with("artifacts/models/logreg/model.onnx"));
    let models_dir = artifact.parent().unwrap();
    for f in ["model_card.json", "spec.json"] {
        assert!(models_dir.join(f).is_file(), "{f} missing");
    }
    let run_card = card(&models_dir.join("model_card.json"));
    assert_eq!(run_card["model"]["run_id"], run_id);
    assert_eq!(run_card["model"]["task"], "churn");

    let store = dir.path().join("store");
    let target = dir.path().join("deploy/churn.onnx");
    let done = run_ok(
        tenure()
            .args(["export", "--run", run_id, "--model", "logreg", "--out"])
            .arg(&target)
            .arg("--store")
            .arg(&store),
    );
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(
        text.contains("churn.onnx") && text.contains("churn_card.json"),
        "{text}"
    );
    // The same specification exports to the same bytes.
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(artifact).unwrap()
    );
    let exported_card = card(&dir.path().join("deploy/churn_card.json"));
    assert_eq!(exported_card["file"]["name"], "churn.onnx");
    assert_eq!(exported_card["file"]["sha256"], run_card["file"]["sha256"]);

    let e = fails(
        tenure()
            .args(["export", "--run", run_id, "--model", "gbm", "--out"])
            .arg(&target)
            .arg("--store")
            .arg(&store),
    );
    assert!(
        e.contains("`gbm`") && e.contains("exported models: logreg"),
        "{e}"
    );
    let e = fails(
        tenure()
            .args([
                "export",
                "--run",
                "0123456789abcdef0123456789abcdef",
                "--model",
                "logreg",
            ])
            .arg("--out")
            .arg(&target)
            .arg("--store")
            .arg(&store),
    );
    assert!(e.contains("0123456789abcdef0123456789abcdef"), "{e}");
}

fn table(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("recency,orders,churned\n");
    for i in 0..200 {
        let recency = (i * 37 % 120) as f64;
        let orders = if i % 11 == 0 {
            String::new()
        } else {
            (i % 9).to_string()
        };
        let churned = u8::from(recency > 60.0 && i % 3 != 0);
        csv.push_str(&format!("{recency},{orders},{churned}\n"));
    }
    let path = dir.join("table.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn fit_saves_onnx_with_its_card() {
    let dir = tempfile::tempdir().unwrap();
    let data = table(dir.path());
    let onnx = dir.path().join("out/model.onnx");
    let out = run_ok(
        tenure()
            .arg("fit")
            .arg(&data)
            .args([
                "--model",
                "logistic",
                "--target",
                "churned",
                "--json",
                "--save-onnx",
            ])
            .arg(&onnx),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["onnx"]["path"], onnx.display().to_string());
    assert!(onnx.is_file());
    let c = card(&dir.path().join("out/model_card.json"));
    assert_eq!(
        v["onnx"]["model_card"],
        dir.path().join("out/model_card.json").display().to_string()
    );
    assert_eq!(c["model"]["kind"], "logistic");
    assert_eq!(c["model"]["training_rows"], 200);
    assert_eq!(c["input"]["columns"][1]["name"], "orders");
    assert_eq!(c["file"]["bytes"], std::fs::metadata(&onnx).unwrap().len());

    let e = fails(
        tenure()
            .arg("fit")
            .arg(&data)
            .args([
                "--model",
                "kaplan_meier",
                "--duration",
                "recency",
                "--event",
                "churned",
            ])
            .arg("--save-onnx")
            .arg(dir.path().join("km.onnx")),
    );
    assert!(
        e.contains("does not export to ONNX") && e.contains("logistic, cox"),
        "{e}"
    );
    assert!(!dir.path().join("km.onnx").exists());
}
