//! The local model registry: versions, content-addressed blobs, aliases,
//! the promotion log, verified pulls, and crash safety under `kill -9`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tenure_store::registry::{
    Candidate, CandidateFile, Lineage, ModelRef, ModelRegistry, sha256_hex,
};
use tenure_store::{LocalRegistry, LocalStore, RunStatus, StoreError};

use crate::all_files;

/// A finished run with the artifacts `tenure run` writes for each model.
pub fn finished_run(store: &LocalStore, models: &[(&str, &[u8])]) -> String {
    let exp = store.get_or_create_experiment("churn").unwrap();
    let run = store.create_run(&exp, "", &[]).unwrap();
    store
        .set_tag(&run, "mlflow.source.git.commit", "0123456789abcdef")
        .unwrap();
    store
        .set_tag(&run, "tenure.data.fingerprint", "feedbeef")
        .unwrap();
    store
        .log_artifact_bytes(&run, "config.toml", b"name = \"churn\"\n")
        .unwrap();
    store
        .log_artifact_bytes(&run, "report.html", b"<html>report</html>")
        .unwrap();
    store
        .log_artifact_bytes(&run, "metrics.json", b"{\"auc\": 0.8}")
        .unwrap();
    store
        .log_artifact_bytes(&run, "calibration.json", b"{\"method\": \"platt\"}")
        .unwrap();
    for (name, onnx) in models {
        store
            .log_artifact_bytes(&run, &format!("models/{name}/model.onnx"), onnx)
            .unwrap();
        store
            .log_artifact_bytes(
                &run,
                &format!("models/{name}/model_card.json"),
                format!("{{\"model\": \"{name}\"}}").as_bytes(),
            )
            .unwrap();
        LocalStore::log_metric(store, &run, &format!("{name}.test.auc"), 0.75, 0).unwrap();
        LocalStore::log_metric(store, &run, &format!("{name}.auc"), 0.7, 1).unwrap();
    }
    LocalStore::end_run(store, &run, RunStatus::Finished).unwrap();
    run
}

fn setup() -> (tempfile::TempDir, LocalStore, LocalRegistry) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("runs")).unwrap();
    let reg = LocalRegistry::in_store(store.root()).unwrap();
    (dir, store, reg)
}

#[test]
fn register_records_files_and_lineage() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"onnx-bytes-1")]);
    let cand = Candidate::from_run(&store, &run, None).unwrap();
    let v = reg.register("churn", &cand).unwrap();
    assert_eq!(v.version, 1);
    assert_eq!(v.files["model.onnx"].sha256, sha256_hex(b"onnx-bytes-1"));
    assert_eq!(v.files["model.onnx"].size, 12);
    let names: BTreeSet<&str> = v.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "calibration.json",
            "metrics.json",
            "model.onnx",
            "model_card.json",
            "report.html"
        ])
    );
    assert_eq!(v.lineage.run_id, run);
    assert_eq!(v.lineage.model, "gbdt");
    assert_eq!(v.lineage.git_commit.as_deref(), Some("0123456789abcdef"));
    assert_eq!(v.lineage.data_fingerprint.as_deref(), Some("feedbeef"));
    assert_eq!(
        v.lineage.config_sha256.as_deref(),
        Some(sha256_hex(b"name = \"churn\"\n").as_str())
    );
    assert_eq!(v.lineage.test_metrics["auc"], 0.75);
    assert!(!v.lineage.test_metrics.contains_key("test.auc"));
    assert_eq!(reg.get_version("churn", 1).unwrap(), v);
    assert!(v.source.ends_with("models/gbdt"), "{}", v.source);
}

#[test]
fn identical_files_are_stored_once() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"same model")]);
    let cand = Candidate::from_run(&store, &run, None).unwrap();
    let v1 = reg.register("churn", &cand).unwrap();
    let v2 = reg.register("churn", &cand).unwrap();
    let v3 = reg.register("churn-copy", &cand).unwrap();
    assert_eq!((v1.version, v2.version, v3.version), (1, 2, 1));
    assert_eq!(v1.files, v2.files);
    let blobs = all_files(&reg.root().join("blobs"));
    assert_eq!(blobs.len(), v1.files.len(), "{blobs:?}");
    for b in &blobs {
        let bytes = std::fs::read(b).unwrap();
        assert_eq!(sha256_hex(&bytes), b.file_name().unwrap().to_str().unwrap());
    }
}

#[test]
fn several_models_in_a_run_need_a_choice() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"a"), ("logistic", b"b")]);
    let err = Candidate::from_run(&store, &run, None).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotRegistrable { reason, .. } if reason.contains("gbdt, logistic")),
        "{err}"
    );
    let err = Candidate::from_run(&store, &run, Some("mlp")).unwrap_err();
    assert!(err.to_string().contains("models/mlp/model.onnx"), "{err}");
    let cand = Candidate::from_run(&store, &run, Some("logistic")).unwrap();
    let v = reg.register("churn", &cand).unwrap();
    assert_eq!(v.files["model.onnx"].sha256, sha256_hex(b"b"));
}

#[test]
fn unfinished_runs_and_runs_without_models_are_refused() {
    let (_dir, store, _reg) = setup();
    let exp = store.get_or_create_experiment("x").unwrap();
    let running = store.create_run(&exp, "r", &[]).unwrap();
    let err = Candidate::from_run(&store, &running, None).unwrap_err();
    assert!(err.to_string().contains("RUNNING"), "{err}");
    LocalStore::end_run(&store, &running, RunStatus::Finished).unwrap();
    let err = Candidate::from_run(&store, &running, None).unwrap_err();
    assert!(err.to_string().contains("model.onnx"), "{err}");
}

#[test]
fn aliases_move_and_the_log_only_grows() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"m")]);
    let cand = Candidate::from_run(&store, &run, None).unwrap();
    for _ in 0..3 {
        reg.register("churn", &cand).unwrap();
    }
    let p1 = reg
        .set_alias("churn", "champion", 1, "alice", "first")
        .unwrap();
    assert_eq!(p1.previous, None);
    let log_after_one = std::fs::read(reg.root().join("models/churn/promotions.jsonl")).unwrap();
    reg.set_alias("churn", "challenger", 3, "bob", "try")
        .unwrap();
    let p3 = reg
        .set_alias("churn", "champion", 2, "carol", "better auc")
        .unwrap();
    assert_eq!(p3.previous, Some(1));
    let log_after_three = std::fs::read(reg.root().join("models/churn/promotions.jsonl")).unwrap();
    assert!(log_after_three.starts_with(&log_after_one));

    let log = reg.promotions("churn").unwrap();
    let summary: Vec<(&str, u64, &str, &str)> = log
        .iter()
        .map(|p| {
            (
                p.alias.as_str(),
                p.version,
                p.who.as_str(),
                p.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("champion", 1, "alice", "first"),
            ("challenger", 3, "bob", "try"),
            ("champion", 2, "carol", "better auc")
        ]
    );
    assert!(log.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let model = reg.get_model("churn").unwrap();
    assert_eq!(model.aliases["champion"], 2);
    assert_eq!(model.aliases["challenger"], 3);
    assert_eq!(model.latest_version, Some(3));
    assert_eq!(reg.alias_version("churn", "champion").unwrap().version, 2);
    assert_eq!(reg.get_version("churn", 2).unwrap().aliases, ["champion"]);
    assert!(reg.get_version("churn", 1).unwrap().aliases.is_empty());

    assert!(matches!(
        reg.set_alias("churn", "champion", 9, "x", "").unwrap_err(),
        StoreError::VersionNotFound { version: 9, .. }
    ));
    assert!(matches!(
        reg.alias_version("churn", "staging").unwrap_err(),
        StoreError::AliasNotFound { .. }
    ));
    assert!(matches!(
        reg.set_alias("churn", "latest", 1, "x", "").unwrap_err(),
        StoreError::InvalidId { kind: "alias", .. }
    ));
}

#[test]
fn tags_on_models_and_versions() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"m")]);
    let cand = Candidate::from_run(&store, &run, None).unwrap();
    reg.register("churn", &cand).unwrap();
    reg.set_model_tag("churn", "team", "retention").unwrap();
    reg.set_version_tag("churn", 1, "validated", "yes").unwrap();
    assert_eq!(reg.get_model("churn").unwrap().tags["team"], "retention");
    assert_eq!(
        reg.get_version("churn", 1).unwrap().tags["validated"],
        "yes"
    );
    assert!(matches!(
        reg.set_model_tag("nope", "a", "b").unwrap_err(),
        StoreError::ModelNotFound { .. }
    ));
}

#[test]
fn pull_verifies_every_file_before_writing() {
    let (dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"the onnx model")]);
    let v = reg
        .register("churn", &Candidate::from_run(&store, &run, None).unwrap())
        .unwrap();
    reg.set_alias("churn", "champion", 1, "me", "").unwrap();
    let out = dir.path().join("deploy");
    let r: ModelRef = "churn@champion".parse().unwrap();
    let (pulled_v, files) = reg.pull(&r, &out).unwrap();
    assert_eq!(pulled_v.version, 1);
    assert_eq!(files.len(), 2);
    assert_eq!(
        std::fs::read(out.join("model.onnx")).unwrap(),
        b"the onnx model"
    );
    assert_eq!(
        std::fs::read(out.join("model_card.json")).unwrap(),
        b"{\"model\": \"gbdt\"}"
    );

    // Corrupt the stored model: the pull fails and writes nothing.
    let blob = reg.blob_path(&v.files["model.onnx"].sha256);
    std::fs::write(&blob, b"tampered").unwrap();
    let out2 = dir.path().join("deploy2");
    let err = reg.pull(&r, &out2).unwrap_err();
    assert!(
        matches!(err, StoreError::ChecksumMismatch { ref file, .. } if file == "model.onnx"),
        "{err}"
    );
    assert!(!out2.join("model_card.json").exists());

    // A missing blob is reported as missing.
    std::fs::remove_file(&blob).unwrap();
    let err = reg.pull(&r, &out2).unwrap_err();
    assert!(
        matches!(err, StoreError::MissingFile { ref what, .. } if what == "model.onnx"),
        "{err}"
    );

    // Registering the same bytes again heals the blob.
    let run2 = finished_run(&store, &[("gbdt", b"the onnx model")]);
    reg.register("churn", &Candidate::from_run(&store, &run2, None).unwrap())
        .unwrap();
    reg.pull(&r, &out2).unwrap();
}

#[test]
fn concurrent_registrations_get_distinct_versions() {
    let (_dir, store, reg) = setup();
    let run = finished_run(&store, &[("gbdt", b"m")]);
    let cand = Candidate::from_run(&store, &run, None).unwrap();
    let versions: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let reg = LocalRegistry::open(reg.root()).unwrap();
                let cand = cand.clone();
                s.spawn(move || {
                    (0..4)
                        .map(|_| reg.register("churn", &cand).unwrap().version)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let unique: BTreeSet<u64> = versions.iter().copied().collect();
    assert_eq!(unique, (1..=24).collect());
}

const ENV_CRASH_ROOT: &str = "TENURE_REGISTRY_CRASH_ROOT";

/// In child mode, registers and promotes versions with fresh multi-megabyte
/// files until killed. Run normally, it checks one round of that workload.
#[test]
fn crash_child() {
    let scratch = tempfile::tempdir().unwrap();
    let (root, rounds) = match std::env::var(ENV_CRASH_ROOT) {
        Ok(root) => (std::path::PathBuf::from(root), u64::MAX),
        Err(_) => (scratch.path().to_path_buf(), 2),
    };
    let reg = LocalRegistry::open(&root).unwrap();
    let mut seed = std::process::id() as u64;
    for round in 0..rounds {
        let size = 1_000_000 + (next(&mut seed) % 3_000_000) as usize;
        let onnx: Vec<u8> = (0..size).map(|_| next(&mut seed) as u8).collect();
        let cand = Candidate {
            source: "test".into(),
            files: vec![
                file("model.onnx", onnx),
                file(
                    "model_card.json",
                    format!("{{\"round\": {round}}}").into_bytes(),
                ),
            ],
            lineage: Lineage {
                run_id: format!("run{round}"),
                ..Lineage::default()
            },
        };
        let model = ["churn", "clv"][(round % 2) as usize];
        let v = reg.register(model, &cand).unwrap();
        reg.set_alias(model, "champion", v.version, "crash-test", "round")
            .unwrap();
        reg.set_version_tag(model, v.version, "round", &round.to_string())
            .unwrap();
    }
}

fn file(name: &str, bytes: Vec<u8>) -> CandidateFile {
    CandidateFile {
        name: name.into(),
        run_path: name.into(),
        bytes,
    }
}

/// xorshift64: enough randomness for kill times and file contents without
/// a dependency.
fn next(state: &mut u64) -> u64 {
    let mut x = (*state).max(1);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// Everything a reader can reach must be complete and verifiable.
fn check_readable(root: &Path) -> usize {
    let reg = LocalRegistry::open(root).unwrap();
    let mut versions = 0;
    for m in reg.list_models().unwrap() {
        for v in reg.list_versions(&m.name).unwrap() {
            for file in v.files.keys() {
                reg.read_verified(&v, file)
                    .unwrap_or_else(|e| panic!("{} v{}: {e}", m.name, v.version));
            }
            versions += 1;
        }
        for (alias, version) in &m.aliases {
            assert_eq!(reg.alias_version(&m.name, alias).unwrap().version, *version);
        }
        for p in reg.promotions(&m.name).unwrap() {
            reg.get_version(&m.name, p.version).unwrap();
        }
    }
    // Temporary files only ever live in tmp/.
    for f in all_files(root) {
        let rel = f.strip_prefix(root).unwrap();
        if !rel.starts_with("tmp") {
            let name = rel.file_name().unwrap().to_string_lossy();
            assert!(
                !name.starts_with(".tmp"),
                "stray temp file {}",
                rel.display()
            );
        }
    }
    versions
}

#[test]
fn a_writer_killed_at_random_points_leaves_the_registry_readable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("registry");
    LocalRegistry::open(&root).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed = 0x5eed_u64;
    let mut seen = Vec::new();
    for _ in 0..12 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "registry::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_CRASH_ROOT, &root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(150 + next(&mut seed) % 900));
        child.kill().unwrap();
        child.wait().unwrap();
        seen.push(check_readable(&root));
    }
    // The writer made progress between kills (so kills hit it mid-work),
    // and a fresh writer still works after all of them.
    assert!(
        *seen.last().unwrap() > 0,
        "no version was ever completed: {seen:?}"
    );
    // A completed version never disappears, whatever a later kill hits.
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let reg = LocalRegistry::open(&root).unwrap();
    let before = reg.list_versions("churn").map(|v| v.len()).unwrap_or(0);
    let cand = Candidate {
        source: "after".into(),
        files: vec![
            file("model.onnx", b"x".to_vec()),
            file("model_card.json", b"{}".to_vec()),
        ],
        lineage: Lineage::default(),
    };
    let v = reg.register("churn", &cand).unwrap();
    assert_eq!(v.version as usize, before + 1);
    check_readable(&root);
}
