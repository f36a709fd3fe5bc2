//! `tenure registry …` and `tenure runs …` on the local store and on a real
//! MLflow server: the same commands, the same answers.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tenure_mlflow::testing::MlflowServer;
use tenure_runner::store::registry::sha256_hex;
use tenure_runner::store::{LocalStore, RunStatus, TrackingStore};

use crate::common::{run_ok, tenure};

/// Where the commands point.
pub enum At {
    Local(PathBuf),
    Mlflow(&'static MlflowServer),
}

impl At {
    pub fn args(&self) -> Vec<String> {
        match self {
            At::Local(dir) => vec!["--store".into(), dir.display().to_string()],
            At::Mlflow(s) => vec!["--tracking-uri".into(), s.url.clone()],
        }
    }

    pub fn store(&self) -> Box<dyn TrackingStore> {
        match self {
            At::Local(dir) => Box::new(LocalStore::open(dir).unwrap()),
            At::Mlflow(s) => Box::new(tenure_mlflow::MlflowStore::connect(&s.url).unwrap()),
        }
    }
}

/// A finished run holding one model's artifacts the way `tenure run`
/// writes them.
fn model_run(store: &dyn TrackingStore, experiment: &str, onnx: &[u8], auc: f64) -> String {
    let exp = store.get_or_create_experiment(experiment).unwrap();
    let run = store.create_run(&exp, "train", &[]).unwrap();
    store.log_param(&run, "logreg.kind", "logistic").unwrap();
    store.log_metric(&run, "logreg.test.auc", auc, 0).unwrap();
    store
        .log_artifact_bytes(&run, "config.toml", b"name = 'x'\n")
        .unwrap();
    store
        .log_artifact_bytes(&run, "report.html", b"<html>r</html>")
        .unwrap();
    store
        .log_artifact_bytes(&run, "models/logreg/model.onnx", onnx)
        .unwrap();
    store
        .log_artifact_bytes(
            &run,
            "models/logreg/model_card.json",
            b"{\"kind\":\"logistic\"}",
        )
        .unwrap();
    store.end_run(&run, RunStatus::Finished).unwrap();
    run
}

fn cli(at: &At, args: &[&str]) -> std::process::Output {
    tenure()
        .arg("registry")
        .args(args)
        .args(at.args())
        .output()
        .unwrap()
}

fn cli_ok(at: &At, args: &[&str]) -> String {
    let mut cmd = tenure();
    cmd.arg("registry").args(args).args(at.args());
    String::from_utf8(run_ok(&mut cmd).stdout).unwrap()
}

/// The store-independent part of `registry show NAME --json`.
fn normalized_show(json: &str) -> Value {
    let v: Value = serde_json::from_str(json).unwrap();
    let versions: Vec<Value> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            serde_json::json!({
                "version": x["version"],
                "aliases": x["aliases"],
                "files": x["files"],
                "tags": x["tags"],
                "test_metrics": x["lineage"]["test_metrics"],
                "model": x["lineage"]["model"],
                "config_sha256": x["lineage"]["config_sha256"],
            })
        })
        .collect();
    let promotions: Vec<Value> = v["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| serde_json::json!([p["alias"], p["version"], p["previous"], p["reason"]]))
        .collect();
    serde_json::json!({
        "aliases": v["model"]["aliases"],
        "tags": v["model"]["tags"],
        "latest": v["model"]["latest_version"],
        "versions": versions,
        "promotions": promotions,
    })
}

/// Registers, promotes, shows and pulls on one store; returns what a user
/// would compare across stores.
fn walk_through(at: &At, out: &Path) -> (Value, Vec<u8>) {
    let model = format!("churn-{}", std::process::id());
    let store = at.store();
    let r1 = model_run(store.as_ref(), &format!("{model}-exp"), b"onnx v1", 0.70);
    let r2 = model_run(store.as_ref(), &format!("{model}-exp"), b"onnx v2", 0.74);

    let text = cli_ok(
        at,
        &[
            "register", "--run", &r1, "--model", &model, "--alias", "champion", "--reason", "first",
        ],
    );
    assert!(
        text.contains(&format!("registered {model} version 1")),
        "{text}"
    );
    cli_ok(at, &["register", "--run", &r2, "--model", &model]);
    let text = cli_ok(
        at,
        &[
            "promote",
            &format!("{model}/2"),
            "--alias",
            "champion",
            "--reason",
            "auc +0.04",
        ],
    );
    assert!(text.contains("version 1 → version 2"), "{text}");

    // Tags on the model and, through the alias, on version 2.
    let text = cli_ok(at, &["tag", &model, "owner=growth team"]);
    assert_eq!(text.trim(), format!("{model}: tag owner = growth team"));
    let tagged: Value = serde_json::from_str(&cli_ok(
        at,
        &[
            "tag",
            &format!("{model}@champion"),
            "approved_by=ana",
            "ticket=CHURN-12",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(tagged["target"], format!("{model}/2"));
    let bad = [
        (format!("{model}/1"), "tenure.files=x", "reserved"),
        (format!("{model}/1"), "no-value", "is not KEY=VALUE"),
        (format!("{model}/9"), "a=b", "has no version 9"),
    ];
    for (target, pair, says) in bad {
        let o = cli(at, &["tag", &target, pair]);
        assert!(!o.status.success(), "tag {target} {pair} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "tag {target} {pair}: {err}");
    }

    let list: Value = serde_json::from_str(&cli_ok(at, &["list", "--json"])).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == model.as_str())
        .unwrap();
    assert_eq!(entry["latest_version"], 2);
    assert_eq!(entry["aliases"]["champion"], 2);

    let one: Value = serde_json::from_str(&cli_ok(
        at,
        &["show", &format!("{model}@champion"), "--json"],
    ))
    .unwrap();
    assert_eq!(one["version"], 2);
    assert_eq!(one["lineage"]["run_id"], r2.as_str());
    assert_eq!(
        one["tags"],
        serde_json::json!({"approved_by": "ana", "ticket": "CHURN-12"})
    );
    let human = cli_ok(at, &["show", &model]);
    assert!(
        human.contains("auc +0.04")
            && human.contains("test auc")
            && human.contains("tag owner = growth team"),
        "{human}"
    );
    let v1: Value =
        serde_json::from_str(&cli_ok(at, &["show", &format!("{model}/1"), "--json"])).unwrap();
    assert_eq!(
        v1["tags"],
        serde_json::json!({}),
        "refused tags wrote nothing"
    );

    let shown = normalized_show(&cli_ok(at, &["show", &model, "--json"]));

    run_ok(
        tenure()
            .args(["registry", "pull", &format!("{model}@champion"), "--out"])
            .arg(out)
            .args(at.args()),
    );
    let pulled = std::fs::read(out.join("model.onnx")).unwrap();
    assert_eq!(pulled, b"onnx v2");
    assert_eq!(
        std::fs::read(out.join("model_card.json")).unwrap(),
        b"{\"kind\":\"logistic\"}"
    );

    // Missing alias, missing model: non-zero exits that say what is missing.
    let miss = cli(
        at,
        &["pull", &format!("{model}@staging"), "--out", "unused"],
    );
    assert!(!miss.status.success());
    assert!(String::from_utf8_lossy(&miss.stderr).contains("no alias 'staging'"));
    let miss = cli(at, &["show", "no-such-model"]);
    assert!(!miss.status.success());
    assert!(String::from_utf8_lossy(&miss.stderr).contains("not found"));
    (shown, pulled)
}

#[test]
fn registry_verbs_behave_the_same_on_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let local = At::Local(dir.path().join("store"));
    let remote = At::Mlflow(MlflowServer::shared());
    let (shown_local, bytes_local) = walk_through(&local, &dir.path().join("out-local"));
    let (shown_remote, bytes_remote) = walk_through(&remote, &dir.path().join("out-mlflow"));
    assert_eq!(shown_local, shown_remote);
    assert_eq!(sha256_hex(&bytes_local), sha256_hex(&bytes_remote));
}

#[test]
fn pull_refuses_a_corrupt_model_on_either_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = MlflowServer::shared();
    for at in [At::Local(dir.path().join("store")), At::Mlflow(server)] {
        let model = format!("corrupt-{}", std::process::id());
        let store = at.store();
        let run = model_run(store.as_ref(), &format!("{model}-exp"), b"good bytes", 0.7);
        cli_ok(
            &at,
            &[
                "register", "--run", &run, "--model", &model, "--alias", "champion",
            ],
        );
        // Damage the stored model where each store keeps it.
        let stored = match &at {
            At::Local(d) => d
                .join("registry/blobs/sha256")
                .join(sha256_hex(b"good bytes")),
            At::Mlflow(s) => {
                let exp = store
                    .experiment_by_name(&format!("{model}-exp"))
                    .unwrap()
                    .unwrap()
                    .experiment_id;
                s.artifacts_dir()
                    .join(exp)
                    .join(&run)
                    .join("artifacts/models/logreg/model.onnx")
            }
        };
        std::fs::write(&stored, b"evil bytes").unwrap();
        let out = dir
            .path()
            .join(format!("out-{}", matches!(at, At::Local(_))));
        let o = tenure()
            .args(["registry", "pull", &format!("{model}@champion"), "--out"])
            .arg(&out)
            .args(at.args())
            .output()
            .unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("corrupt") && err.contains("model.onnx"),
            "{err}"
        );
        assert!(!out.join("model.onnx").exists() && !out.join("model_card.json").exists());
        // Deleted outright: missing.
        std::fs::remove_file(&stored).unwrap();
        let o = tenure()
            .args(["registry", "pull", &format!("{model}@champion"), "--out"])
            .arg(&out)
            .args(at.args())
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("missing"));
    }
}

/// `tenure run` with `[registry]` on both stores, then the deployment
/// pipeline of the README: pull `@champion` and score it in onnxruntime.
#[test]
fn tenure_run_registers_gates_and_deploys_on_both_stores() {
    let server = MlflowServer::shared();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("e2e-{}", std::process::id());
    let config = crate::common::write_experiment(dir.path(), &name);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[registry]\nname = \"{name}\"\nmetric = \"auc\"\nalias = \"champion\"\nmargin = 0.0\n"
    ));
    std::fs::write(&config, text).unwrap();
    let mut pulled = Vec::new();
    for at in [At::Local(dir.path().join("store")), At::Mlflow(server)] {
        let uri = match &at {
            At::Local(d) => d.display().to_string(),
            At::Mlflow(s) => s.url.clone(),
        };
        let run = || -> Value {
            let out = run_ok(tenure().arg("run").arg(&config).args([
                "--json",
                "--quiet",
                "--tracking-uri",
                &uri,
            ]));
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let first = run();
        assert_eq!(first["registration"]["version"], 1);
        assert_eq!(first["registration"]["promoted"], true);
        // Same data, same seed: the same test AUC, which does not beat the
        // champion by more than a zero margin.
        let second = run();
        assert_eq!(second["registration"]["version"], 2);
        assert_eq!(second["registration"]["promoted"], false);

        let out = dir.path().join(format!("model-{}", pulled.len()));
        run_ok(
            tenure()
                .args(["registry", "pull", &format!("{name}@champion"), "--out"])
                .arg(&out)
                .args(at.args()),
        );
        let onnx = std::fs::read(out.join("model.onnx")).unwrap();
        let store = at.store();
        let run_id = first["run_id"].as_str().unwrap();
        assert_eq!(
            store
                .read_artifact(run_id, "models/logreg/model.onnx")
                .unwrap(),
            onnx,
            "the champion is the first run's model, byte for byte"
        );
        // The version carries the run's evaluation and calibration reports.
        let shown: Value =
            serde_json::from_str(&cli_ok(&at, &["show", &format!("{name}/1"), "--json"])).unwrap();
        for file in ["calibration.json", "metrics.json", "report.html"] {
            assert_eq!(
                shown["files"][file]["sha256"],
                sha256_hex(&store.read_artifact(run_id, file).unwrap()).as_str(),
                "{file} of version 1"
            );
        }
        // Score it as a deployment would.
        let python = tenure_mlflow::testing::test_python();
        let score = std::process::Command::new(python)
            .arg("-c")
            .arg(
                "import sys, numpy as np, onnxruntime as ort\n\
                 s = ort.InferenceSession(sys.argv[1])\n\
                 feed = {i.name: np.full((3, i.shape[1]), 'basic', dtype=object) if 'string' in i.type\n\
                         else np.zeros((3, i.shape[1]), dtype=np.float32) for i in s.get_inputs()}\n\
                 print(len(s.run(None, feed)[0]))\n",
            )
            .arg(out.join("model.onnx"))
            .output()
            .unwrap();
        assert!(
            score.status.success(),
            "{}",
            String::from_utf8_lossy(&score.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&score.stdout).trim(), "3");
        pulled.push(onnx);
    }
    assert_eq!(
        sha256_hex(&pulled[0]),
        sha256_hex(&pulled[1]),
        "pull from MLflow gives the bytes pull from the local registry gives"
    );
}
