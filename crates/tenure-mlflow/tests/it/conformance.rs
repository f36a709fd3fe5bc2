//! One suite, two stores: every test here runs against the embedded local
//! store and registry and against a real MLflow server, so both
//! implementations of `TrackingStore` and `ModelRegistry` keep one meaning.

use std::sync::atomic::{AtomicUsize, Ordering};

use tenure_mlflow::testing::MlflowServer;
use tenure_mlflow::{MlflowRegistry, MlflowStore};
use tenure_store::registry::{Candidate, ModelRef, sha256_hex};
use tenure_store::{
    LocalRegistry, LocalStore, Metric, ModelRegistry, RunStatus, StoreError, TrackingStore,
};

pub struct Backend {
    pub store: Box<dyn TrackingStore>,
    pub registry: Box<dyn ModelRegistry>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub fn local() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path().join("runs")).unwrap();
        let registry = LocalRegistry::in_store(store.root()).unwrap();
        Self {
            store: Box::new(store),
            registry: Box::new(registry),
            _dir: Some(dir),
        }
    }

    pub fn mlflow() -> Self {
        let server = MlflowServer::shared();
        Self {
            store: Box::new(MlflowStore::connect(&server.url).unwrap()),
            registry: Box::new(MlflowRegistry::connect(&server.url).unwrap()),
            _dir: None,
        }
    }
}

/// Names unique within the test process: tests share one MLflow server.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn local() {
                ($body)(&Backend::local());
            }
            #[test]
            fn mlflow() {
                ($body)(&Backend::mlflow());
            }
        }
    };
}

/// A finished run with one model's artifacts, as `tenure run` leaves it.
pub fn model_run(store: &dyn TrackingStore, onnx: &[u8], test_auc: f64) -> String {
    let exp = store.get_or_create_experiment(&unique("reg")).unwrap();
    let run = store.create_run(&exp, "train", &[]).unwrap();
    store
        .set_tag(&run, "mlflow.source.git.commit", "abc123")
        .unwrap();
    store
        .log_artifact_bytes(&run, "config.toml", b"name = 'x'\n")
        .unwrap();
    store
        .log_artifact_bytes(&run, "report.html", b"<html>r</html>")
        .unwrap();
    store
        .log_artifact_bytes(&run, "models/gbdt/model.onnx", onnx)
        .unwrap();
    store
        .log_artifact_bytes(&run, "models/gbdt/model_card.json", b"{\"kind\":\"gbdt\"}")
        .unwrap();
    store
        .log_metric(&run, "gbdt.test.auc", test_auc, 0)
        .unwrap();
    store.end_run(&run, RunStatus::Finished).unwrap();
    run
}

both!(experiments_are_created_once, |b: &Backend| {
    let name = unique("exp");
    let id = b.store.get_or_create_experiment(&name).unwrap();
    assert_eq!(b.store.get_or_create_experiment(&name).unwrap(), id);
    assert_eq!(
        b.store
            .experiment_by_name(&name)
            .unwrap()
            .unwrap()
            .experiment_id,
        id
    );
    assert!(
        b.store
            .experiment_by_name(&unique("missing"))
            .unwrap()
            .is_none()
    );
    assert!(
        b.store
            .list_experiments()
            .unwrap()
            .iter()
            .any(|e| e.name == name)
    );
});

both!(runs_keep_params_metrics_and_tags, |b: &Backend| {
    let s = b.store.as_ref();
    let exp = s.get_or_create_experiment(&unique("runs")).unwrap();
    let run = s.create_run(&exp, "first", &[("team", "growth")]).unwrap();
    s.log_param(&run, "lr", "0.1").unwrap();
    s.log_param(&run, "lr", "0.1").unwrap();
    let err = s.log_param(&run, "lr", "0.2").unwrap_err();
    assert!(
        matches!(&err, StoreError::ParamChanged { old, new, .. } if old == "0.1" && new == "0.2"),
        "{err}"
    );
    let values = [0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.25];
    for (step, v) in values.iter().enumerate() {
        s.log_metric(&run, "loss", *v, step as i64).unwrap();
    }
    s.set_tag(&run, "stage", "dev").unwrap();
    s.end_run(&run, RunStatus::Finished).unwrap();

    let got = s.get_run(&run).unwrap();
    assert_eq!(got.info.status, RunStatus::Finished);
    assert_eq!(got.info.run_name, "first");
    assert!(got.info.end_time_ms.is_some());
    assert_eq!(got.params["lr"], "0.1");
    assert_eq!(got.tags["team"], "growth");
    assert_eq!(got.tags["stage"], "dev");
    let loss = &got.metrics["loss"];
    assert_eq!(
        loss.iter().map(|p| p.step).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(loss[0].value, 0.5);
    assert!(loss[1].value.is_nan());
    assert_eq!(loss[2].value, f64::INFINITY);
    assert_eq!(loss[3].value, f64::NEG_INFINITY);
    assert_eq!(loss[4].value, -0.25);

    let second = s.create_run(&exp, "second", &[]).unwrap();
    s.end_run(&second, RunStatus::Failed).unwrap();
    let listed = s.list_runs(Some(&exp)).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].run_id, second, "newest first");
    assert_eq!(listed[0].status, RunStatus::Failed);
    assert!(s.list_runs(None).unwrap().iter().any(|r| r.run_id == run));
});

both!(
    batches_beyond_the_server_limits_arrive_whole,
    |b: &Backend| {
        let s = b.store.as_ref();
        let exp = s.get_or_create_experiment(&unique("batch")).unwrap();
        let run = s.create_run(&exp, "", &[]).unwrap();
        let metrics: Vec<Metric> = (0..2300)
            .map(|i| Metric::now(format!("m{}", i % 3), i as f64, (i / 3) as i64))
            .collect();
        let keys: Vec<String> = (0..230).map(|i| format!("p{i:03}")).collect();
        let params: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
        let tags: Vec<(&str, &str)> = keys[..150].iter().map(|k| (k.as_str(), "t")).collect();
        s.log_batch(&run, &metrics, &params, &tags).unwrap();
        let got = s.get_run(&run).unwrap();
        assert_eq!(got.params.len(), 230);
        assert!(keys[..150].iter().all(|k| got.tags[k] == "t"));
        let total: usize = got.metrics.values().map(Vec::len).sum();
        assert_eq!(total, 2300);
        let m0: Vec<f64> = got.metrics["m0"].iter().map(|p| p.value).collect();
        assert_eq!(
            m0,
            (0..2300).step_by(3).map(|i| i as f64).collect::<Vec<_>>()
        );
    }
);

both!(artifacts_round_trip_byte_for_byte, |b: &Backend| {
    let s = b.store.as_ref();
    let exp = s.get_or_create_experiment(&unique("art")).unwrap();
    let run = s.create_run(&exp, "", &[]).unwrap();
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    s.log_artifact_bytes(&run, "models/a b/model.onnx", &big)
        .unwrap();
    s.log_artifact_bytes(&run, "report.html", b"<html></html>")
        .unwrap();
    s.log_artifact_bytes(&run, "report.html", b"<html>v2</html>")
        .unwrap();
    assert_eq!(s.read_artifact(&run, "models/a b/model.onnx").unwrap(), big);
    assert_eq!(
        s.read_artifact(&run, "report.html").unwrap(),
        b"<html>v2</html>"
    );
    assert_eq!(
        s.get_run(&run).unwrap().artifacts,
        ["models/a b/model.onnx", "report.html"]
    );
    assert!(s.read_artifact(&run, "nope.txt").is_err());
    assert!(s.log_artifact_bytes(&run, "../escape", b"x").is_err());
});

both!(unknown_runs_are_named, |b: &Backend| {
    let err = b
        .store
        .get_run("0123456789abcdef0123456789abcdef")
        .unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound { .. }), "{err}");
});

both!(registry_round_trip, |b: &Backend| {
    let reg = b.registry.as_ref();
    let name = unique("churn");
    let run1 = model_run(b.store.as_ref(), b"onnx one", 0.7);
    let run2 = model_run(b.store.as_ref(), b"onnx two", 0.8);
    let c1 = Candidate::from_run(b.store.as_ref(), &run1, None).unwrap();
    let v1 = reg.register(&name, &c1).unwrap();
    let v2 = reg
        .register(
            &name,
            &Candidate::from_run(b.store.as_ref(), &run2, None).unwrap(),
        )
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(v1.files["model.onnx"].sha256, sha256_hex(b"onnx one"));
    assert_eq!(v2.lineage.run_id, run2);
    assert_eq!(v2.lineage.test_metrics["auc"], 0.8);
    assert_eq!(v2.lineage.git_commit.as_deref(), Some("abc123"));
    assert_eq!(reg.get_version(&name, 1).unwrap().files, v1.files);

    let p = reg
        .set_alias(&name, "champion", 1, "alice", "first")
        .unwrap();
    assert_eq!(p.previous, None);
    let p = reg
        .set_alias(&name, "champion", 2, "bob", "better")
        .unwrap();
    assert_eq!(p.previous, Some(1));
    let log = reg.promotions(&name).unwrap();
    assert_eq!(
        log.iter()
            .map(|p| (p.version, p.previous, p.who.as_str(), p.reason.as_str()))
            .collect::<Vec<_>>(),
        [(1, None, "alice", "first"), (2, Some(1), "bob", "better")]
    );
    let model = reg.get_model(&name).unwrap();
    assert_eq!(model.latest_version, Some(2));
    assert_eq!(model.aliases["champion"], 2);
    assert!(reg.list_models().unwrap().iter().any(|m| m.name == name));
    let versions = reg.list_versions(&name).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(versions[1].aliases, ["champion"]);
    assert!(versions[0].aliases.is_empty());

    reg.set_model_tag(&name, "team", "retention").unwrap();
    reg.set_version_tag(&name, 2, "checked", "yes").unwrap();
    assert_eq!(reg.get_model(&name).unwrap().tags["team"], "retention");
    assert_eq!(reg.get_version(&name, 2).unwrap().tags["checked"], "yes");

    let out = tempfile::tempdir().unwrap();
    let r: ModelRef = format!("{name}@champion").parse().unwrap();
    let (v, files) = reg.pull(&r, out.path()).unwrap();
    assert_eq!(v.version, 2);
    assert_eq!(files.len(), 2);
    assert_eq!(
        std::fs::read(out.path().join("model.onnx")).unwrap(),
        b"onnx two"
    );
    assert_eq!(
        std::fs::read(out.path().join("model_card.json")).unwrap(),
        b"{\"kind\":\"gbdt\"}"
    );
});

both!(registry_errors_are_typed, |b: &Backend| {
    let reg = b.registry.as_ref();
    let name = unique("errs");
    assert!(matches!(
        reg.get_model(&name).unwrap_err(),
        StoreError::ModelNotFound { .. }
    ));
    let run = model_run(b.store.as_ref(), b"x", 0.5);
    reg.register(
        &name,
        &Candidate::from_run(b.store.as_ref(), &run, None).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        reg.get_version(&name, 7).unwrap_err(),
        StoreError::VersionNotFound { version: 7, .. }
    ));
    assert!(matches!(
        reg.alias_version(&name, "champion").unwrap_err(),
        StoreError::AliasNotFound { .. }
    ));
    assert!(matches!(
        reg.set_alias(&name, "champion", 3, "x", "").unwrap_err(),
        StoreError::VersionNotFound { .. }
    ));
    let out = tempfile::tempdir().unwrap();
    let r: ModelRef = format!("{name}@champion").parse().unwrap();
    assert!(reg.pull(&r, out.path()).is_err());
    assert!(!out.path().join("model.onnx").exists());
    // A running run cannot be registered.
    let exp = b.store.get_or_create_experiment(&unique("e")).unwrap();
    let running = b.store.create_run(&exp, "", &[]).unwrap();
    assert!(matches!(
        Candidate::from_run(b.store.as_ref(), &running, None).unwrap_err(),
        StoreError::NotRegistrable { .. }
    ));
});
