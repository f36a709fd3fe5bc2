use std::path::{Path, PathBuf};

use tenure_runner::{Experiment, RunnerError};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const MINIMAL: &str = r#"
name = "t"
[data.transactions]
path = "tx.csv"
[labels]
task = "churn"
horizon_days = 30
[cv]
first = "2023-01-01"
every_days = 30
[[models]]
kind = "logistic"
"#;

#[test]
fn every_shipped_experiment_loads() {
    for entry in std::fs::read_dir(repo().join("experiments")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let exp = Experiment::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!exp.models.is_empty());
            assert!(
                exp.file.data.transactions.path.is_absolute()
                    || exp.file.data.transactions.path.starts_with(repo())
            );
        }
    }
}

#[test]
fn defaults_and_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let exp = Experiment::load(&write(dir.path(), "e.toml", MINIMAL)).unwrap();
    assert_eq!(exp.file.seed, 42);
    assert_eq!(exp.file.data.transactions.path, dir.path().join("tx.csv"));
    assert_eq!(exp.file.data.transactions.customer_id, "customer_id");
    assert_eq!(exp.file.features.windows_days, vec![30, 90, 365]);
    assert_eq!(exp.models[0].name, "logistic");
    assert_eq!(exp.tracking_dir(), PathBuf::from("tenure-runs"));
}

#[test]
fn extends_merges_tables_and_the_experiment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pieces")).unwrap();
    write(
        &dir.path().join("pieces"),
        "base.toml",
        "seed = 7\n[features]\nwindows_days = [7, 28]\ncategory_top_k = 3\n",
    );
    let text =
        format!("extends = [\"pieces/base.toml\"]\n{MINIMAL}\n[features]\nwindows_days = [14]\n");
    let exp = Experiment::load(&write(dir.path(), "e.toml", &text)).unwrap();
    assert_eq!(exp.file.seed, 7);
    assert_eq!(exp.file.features.windows_days, vec![14]);
    assert_eq!(exp.file.features.category_top_k, 3);
    assert!(exp.resolved_toml.contains("category_top_k = 3"));
}

#[test]
fn extends_cycles_and_missing_pieces_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", "extends = [\"b.toml\"]\n");
    write(dir.path(), "b.toml", "extends = [\"a.toml\"]\n");
    let err = Experiment::load(&dir.path().join("a.toml")).unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
    let text = format!("extends = [\"nope.toml\"]\n{MINIMAL}");
    let err = Experiment::load(&write(dir.path(), "e.toml", &text)).unwrap_err();
    assert!(matches!(err, RunnerError::ReadConfig { .. }));
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn unknown_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, key) in [
        ("\n[tracking]\nurl = \"x\"\n", "url"),
        ("\nseeed = 1\n", "seeed"),
    ] {
        let p = write(dir.path(), "e.toml", &format!("{MINIMAL}{extra}"));
        let err = Experiment::load(&p).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains("e.toml"), "{err}");
    }
    let p = write(
        dir.path(),
        "e.toml",
        &MINIMAL.replace("horizon_days = 30", "horizon_days = 30\nhorizon = 2"),
    );
    let err = Experiment::load(&p).unwrap_err().to_string();
    assert!(err.contains("horizon"), "{err}");
}

#[test]
fn syntax_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "broken.toml", "name = \n");
    let err = Experiment::load(&p).unwrap_err().to_string();
    assert!(err.contains("broken.toml"), "{err}");
}

#[test]
fn model_errors_name_the_model_key() {
    let dir = tempfile::tempdir().unwrap();
    let two = format!("{MINIMAL}\n[[models]]\nkind = \"logistic\"\n");
    let err = Experiment::load(&write(dir.path(), "e.toml", &two))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("models[1].name") && err.contains("duplicate"),
        "{err}"
    );
    let none = MINIMAL.replace("[[models]]\nkind = \"logistic\"\n", "models = []\n");
    let err = Experiment::load(&write(dir.path(), "e.toml", &none))
        .unwrap_err()
        .to_string();
    assert!(err.contains("models"), "{err}");
    let bad = MINIMAL.replace(
        "kind = \"logistic\"",
        "kind = \"logistic\"\nparams = { max_iter = 0 }",
    );
    let err = Experiment::load(&write(dir.path(), "e.toml", &bad))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("models[0].params") && err.contains("max_iter"),
        "{err}"
    );
}

#[test]
fn registry_table_is_checked_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let ok = format!(
        "{MINIMAL}[registry]\nname = \"churn\"\nmetric = \"auc\"\nalias = \"champion\"\nmargin = 0.01\n"
    );
    let exp = Experiment::load(&write(dir.path(), "ok.toml", &ok)).unwrap();
    let reg = exp.file.registry.unwrap();
    assert_eq!((reg.name.as_str(), reg.margin), ("churn", 0.01));
    for (snippet, key) in [
        ("name = \"a b\"\nmetric = \"auc\"", "registry.name"),
        ("name = \"churn\"\nmetric = \"accuracy\"", "registry.metric"),
        (
            "name = \"churn\"\nmetric = \"auc\"\nalias = \"latest\"",
            "registry.alias",
        ),
        (
            "name = \"churn\"\nmetric = \"auc\"\nmargin = -1.0",
            "registry.margin",
        ),
        (
            "name = \"churn\"\nmetric = \"auc\"\nmodel = \"gbdt\"",
            "registry.model",
        ),
    ] {
        let text = format!("{MINIMAL}[registry]\n{snippet}\n");
        let err = Experiment::load(&write(dir.path(), "bad.toml", &text)).unwrap_err();
        assert!(
            matches!(&err, RunnerError::Config { key: k, .. } if k == key),
            "{snippet}: {err}"
        );
    }
}

#[test]
fn calibration_and_evaluation_defaults_and_settings() {
    use tenure_runner::settings::CalibrationSpec;
    let dir = tempfile::tempdir().unwrap();
    let exp = Experiment::load(&write(dir.path(), "e.toml", MINIMAL)).unwrap();
    assert_eq!(exp.calibration, CalibrationSpec::default());
    assert_eq!(exp.calibration.method.as_str(), "platt");
    assert!(exp.survival_times_days.is_empty());

    let survival = MINIMAL
        .replace("task = \"churn\"", "task = \"survival\"")
        .replace("horizon_days = 30", "horizon_days = 120")
        .replace("kind = \"logistic\"", "kind = \"cox\"");
    let exp = Experiment::load(&write(dir.path(), "s.toml", &survival)).unwrap();
    assert_eq!(exp.survival_times_days, [30.0, 60.0, 90.0, 120.0]);

    let text = format!(
        "{survival}\n[evaluation]\nsurvival_times_days = [7, 28.5]\n\
         [calibration]\nmethod = \"temperature\"\nbins = 20\ncost_fp = 1\nvalue_tp = 9.5\ntop_k_percent = [1, 50]\n"
    );
    let exp = Experiment::load(&write(dir.path(), "s2.toml", &text)).unwrap();
    assert_eq!(exp.survival_times_days, [7.0, 28.5]);
    let c = &exp.calibration;
    assert_eq!((c.method.as_str(), c.bins), ("temperature", 20));
    let costs = c.costs.unwrap();
    assert_eq!((costs.cost_fp, costs.value_tp), (1.0, 9.5));
    assert_eq!(c.top_k_percent, [1.0, 50.0]);

    for (tail, key, needle) in [
        (
            "[evaluation]\nsurvival_times_days = [60, 30]\n",
            "evaluation.survival_times_days",
            "increase",
        ),
        (
            "[evaluation]\nsurvival_times_days = [200]\n",
            "evaluation.survival_times_days",
            "(0, 120]",
        ),
        (
            "[evaluation]\nsurvival_times_days = []\n",
            "evaluation.survival_times_days",
            "at least one",
        ),
        (
            "[evaluation]\ntimes = [1]\n",
            "evaluation.times",
            "unknown key",
        ),
        (
            "[calibration]\nvalue_tp = 0\ncost_fp = 1\n",
            "calibration.value_tp",
            "> 0",
        ),
    ] {
        let err = Experiment::load(&write(
            dir.path(),
            "bad.toml",
            &format!("{survival}\n{tail}"),
        ))
        .unwrap_err();
        match &err {
            RunnerError::Config { key: k, reason, .. } => {
                assert_eq!(k, key, "{err}");
                assert!(reason.contains(needle), "{err}");
            }
            other => panic!("expected a config error, got {other}"),
        }
    }
}
