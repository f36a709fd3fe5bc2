//! `tenure tune` and `tenure bench hpo`: searches that log child runs,
//! resume after a kill, share a study between processes, and reject bad
//! spaces by key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{run_ok, tenure, write_experiment};

/// The shared churn experiment with a `[tune]` table appended.
fn tune_experiment(dir: &Path, name: &str, tune: &str) -> PathBuf {
    let path = write_experiment(dir, name);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(tune);
    std::fs::write(&path, text).unwrap();
    path
}

const TUNE_L2: &str = r#"
[tune]
model = "logreg"
metric = "auc"
trials = 6
[tune.space]
l2 = { type = "float", low = 1e-3, high = 1e3, log = true }
max_iter = { type = "int", low = 20, high = 60, step = 20 }
"#;

/// `(number, state, value, params)` of every trial in a study database.
fn db_trials(db: &Path) -> Vec<(i64, String, Option<f64>, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(60)).unwrap();
    let mut stmt = conn
        .prepare("SELECT number, state, value, params FROM trials ORDER BY number")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn tune_json(args: &mut Command) -> Value {
    let out = run_ok(args);
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn tune_finds_a_configuration_and_logs_every_trial_as_a_child_run() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tune_experiment(dir.path(), "tune-json", TUNE_L2);
    let v = tune_json(tenure().arg("tune").arg(&exp).arg("--json"));
    assert_eq!(v["study"], "tune-json");
    assert_eq!(v["metric"], "auc");
    assert_eq!(v["direction"], "maximize");
    assert_eq!(v["sampler"], "auto");
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 6);
    assert!(
        trials.iter().all(|t| t["state"] == "complete"),
        "{trials:?}"
    );
    let best = &v["best"];
    let l2 = best["params"]["l2"].as_f64().unwrap();
    assert!((1e-3..=1e3).contains(&l2));
    assert!([20, 40, 60].contains(&best["params"]["max_iter"].as_i64().unwrap()));
    let best_value = best["value"].as_f64().unwrap();
    for t in trials {
        assert!(t["value"].as_f64().unwrap() <= best_value + 1e-12);
        // Two CV folds: a running mean after each.
        assert_eq!(t["intermediate"].as_array().unwrap().len(), 2);
    }
    assert!(best_value > 0.6, "CV AUC {best_value}");
    assert!(
        v["test"]["auc"].as_f64().unwrap() > 0.6,
        "refit scored on the test cutoff"
    );
    assert!(v["best_config"].as_str().unwrap().contains("l2 ="));
    let importance = v["importance"].as_array().unwrap();
    assert_eq!(importance.len(), 2);

    let html = std::fs::read_to_string(v["report"].as_str().unwrap()).unwrap();
    for needle in [
        "<svg",
        "Trial history",
        "Parameter importance",
        "Best configuration",
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }

    // Every trial is a child run of the study's run.
    let parent = v["run_id"].as_str().unwrap();
    let store = dir.path().join("store");
    for t in trials {
        let child = t["run_id"].as_str().unwrap();
        let run: Value = serde_json::from_slice(
            &run_ok(
                tenure()
                    .args(["runs", "show", child, "--json", "--store"])
                    .arg(&store),
            )
            .stdout,
        )
        .unwrap();
        assert_eq!(run["tags"]["mlflow.parentRunId"], parent);
        assert_eq!(run["status"], "finished");
        assert_eq!(run["metrics"]["auc.fold"].as_array().unwrap().len(), 2);
        assert!(run["params"]["l2"].is_string());
    }
    let run: Value = serde_json::from_slice(
        &run_ok(
            tenure()
                .args(["runs", "show", parent, "--json", "--store"])
                .arg(&store),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(run["params"]["tune.model"], "logreg");
    assert!(run["metrics"]["best.auc"].is_array());
    let artifacts: Vec<&str> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "report.html",
        "trials.json",
        "best_config.toml",
        "config.toml",
    ] {
        assert!(artifacts.contains(&a), "{a} not in {artifacts:?}");
    }

    // Running again resumes the finished study: nothing new to do.
    let again = tune_json(tenure().arg("tune").arg(&exp).arg("--json"));
    assert_eq!(again["trials"].as_array().unwrap().len(), 6);
    assert_eq!(again["best"], v["best"]);
    assert_eq!(again["run_id"], v["run_id"]);
}

#[test]
fn a_killed_search_resumes_without_losing_or_repeating_a_trial() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tune_experiment(dir.path(), "tune-kill", TUNE_L2);
    let db = dir.path().join("study.db");
    let mut child = tenure()
        .arg("tune")
        .arg(&exp)
        .args(["--trials", "500", "--quiet", "--storage"])
        .arg(&db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a few trials are done (a safety deadline, not a timing
    // assertion), then kill the search in the middle of its work.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        // The file exists a moment before its tables do.
        let done: i64 = rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM trials WHERE state = 'complete'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0);
        if done >= 3 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "tune exited early");
        assert!(Instant::now() < deadline, "no trial completed");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let before = db_trials(&db);
    let complete_before: BTreeMap<i64, (Option<f64>, String)> = before
        .iter()
        .filter(|t| t.1 == "complete")
        .map(|t| (t.0, (t.2, t.3.clone())))
        .collect();
    let claimed = before.len() as i64;
    let total = claimed + 2;
    let v = tune_json(
        tenure()
            .arg("tune")
            .arg(&exp)
            .args(["--json", "--trials", &total.to_string(), "--storage"])
            .arg(&db),
    );
    let after = db_trials(&db);
    let numbers: Vec<i64> = after.iter().map(|t| t.0).collect();
    assert_eq!(
        numbers,
        (0..total).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert!(after.iter().all(|t| t.1 == "complete"), "{after:?}");
    for (n, (value, params)) in &complete_before {
        let t = &after[*n as usize];
        assert_eq!((&t.2, &t.3), (value, params), "trial {n} changed on resume");
    }
    // A trial that was running at the kill was finished by the resumed
    // search, under its number and with its parameters.
    for t in &before {
        if t.1 == "running" {
            assert_eq!(after[t.0 as usize].3, t.3);
            let summary = &v["trials"][t.0 as usize];
            assert_eq!(summary["attempts"], 2, "{summary}");
        }
    }
    let runs: Vec<&Value> = v["trials"].as_array().unwrap().iter().collect();
    assert_eq!(runs.len() as i64, total);
}

#[test]
fn two_worker_processes_share_one_study() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tune_experiment(dir.path(), "tune-workers", TUNE_L2);
    let db = dir.path().join("shared.db");
    let spawn = || {
        tenure()
            .arg("tune")
            .arg(&exp)
            .args(["--trials", "16", "--json", "--storage"])
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let trials = db_trials(&db);
    let numbers: Vec<i64> = trials.iter().map(|t| t.0).collect();
    assert_eq!(
        numbers,
        (0..16).collect::<Vec<_>>(),
        "each trial claimed once"
    );
    assert!(trials.iter().all(|t| t.1 == "complete"));

    // --workers starts helpers itself; the study grows to the new total.
    let v = tune_json(
        tenure()
            .arg("tune")
            .arg(&exp)
            .args(["--json", "--workers", "2", "--trials", "24", "--storage"])
            .arg(&db),
    );
    let trials = db_trials(&db);
    assert_eq!(
        trials.iter().map(|t| t.0).collect::<Vec<_>>(),
        (0..24).collect::<Vec<_>>()
    );
    assert!(trials.iter().all(|t| t.1 == "complete"));
    assert_eq!(v["trials"].as_array().unwrap().len(), 24);
}

#[test]
fn bad_tune_tables_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\n[tune.space]\nl2 = { type = \"float\", low = 10.0, high = 1.0 }\n",
            "tune.space.l2.low",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\n[tune.space]\nl2 = { type = \"float\", low = 0.0, high = 1.0, log = true }\n",
            "tune.space.l2.low",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\n[tune.space]\nsolver = { type = \"categorical\", choices = [] }\n",
            "tune.space.solver.choices",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\n[tune.space]\nl3 = { type = \"float\", low = 0.1, high = 1.0 }\n",
            "tune.space.l3",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\n[tune.space]\nl2 = { type = \"float\", low = -5.0, high = 1.0 }\n",
            "tune.space.l2",
        ),
        (
            "[tune]\nmodel = \"gbm\"\nmetric = \"auc\"\n[tune.space]\nl2 = { type = \"float\", low = 0.1, high = 1.0 }\n",
            "tune.model",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"rmse\"\n[tune.space]\nl2 = { type = \"float\", low = 0.1, high = 1.0 }\n",
            "tune.metric",
        ),
        (
            "[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\nsampler = \"cmaes\"\n[tune.space]\nl2 = { type = \"float\", low = 0.1, high = 1.0 }\n",
            "tune.sampler",
        ),
    ];
    for (i, (tune, key)) in cases.iter().enumerate() {
        let exp = tune_experiment(dir.path(), &format!("bad{i}"), tune);
        let out = tenure().arg("tune").arg(&exp).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{tune}: {stderr}");
        assert!(stderr.contains(&format!("`{key}`")), "{tune}: {stderr}");
    }
    // Without a [tune] table, tune says what is missing.
    let exp = write_experiment(dir.path(), "plain");
    let out = tenure().arg("tune").arg(&exp).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[tune]"));
}

#[test]
fn bench_hpo_prints_the_documented_json() {
    let out = run_ok(tenure().args([
        "bench",
        "hpo",
        "--function",
        "branin",
        "--sampler",
        "tpe",
        "--trials",
        "15",
        "--seeds",
        "3",
        "--json",
    ]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["function", "median_best", "sampler", "seeds", "trials"]
    );
    assert_eq!(v["function"], "branin");
    assert_eq!(v["sampler"], "tpe");
    assert_eq!(v["trials"], 15);
    assert_eq!(v["seeds"], 3);
    let mb = v["median_best"].as_object().unwrap();
    let mut checkpoints: Vec<u64> = mb.keys().map(|k| k.parse().unwrap()).collect();
    checkpoints.sort();
    assert_eq!(checkpoints, [5, 10, 15]);
    assert!(mb["15"].as_f64().unwrap() >= 0.397_887);
    assert!(String::from_utf8_lossy(&out.stderr).contains("last 10 trials"));

    let bad = tenure()
        .args(["bench", "hpo", "--function", "rastrigin"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("branin"));
}

#[test]
fn timeout_ends_a_search_whose_budget_is_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tune_experiment(dir.path(), "tune-timeout", TUNE_L2);
    let v = tune_json(tenure().arg("tune").arg(&exp).args([
        "--json",
        "--trials",
        "1000000",
        "--timeout",
        "0.5",
    ]));
    let n = v["trials"].as_array().unwrap().len();
    assert!(n < 1_000_000, "{n} trials");
    // Trials that started finished: none is left running.
    assert!(
        v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] != "running")
    );
}

const TUNE_GBDT: &str = r#"
[[models]]
name = "gbm"
kind = "gbdt"
params = { num_leaves = 7, min_data_in_leaf = 20 }

[tune]
model = "gbm"
metric = "auc"
trials = 6
sampler = "random"
[tune.space]
num_iterations = { type = "int", low = 20, high = 40, step = 10 }
learning_rate = { type = "float", low = 0.01, high = 0.3, log = true }
"#;

/// A boosted model's trials report every round of the first fold; ASHA
/// stops some of them there, with fewer rounds than they asked for.
#[test]
fn tune_prunes_boosted_trials_between_boosting_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tune_experiment(dir.path(), "tune-gbdt", TUNE_GBDT);
    let v = tune_json(
        tenure()
            .arg("tune")
            .arg(&exp)
            .args(["--pruner", "asha", "--json"]),
    );
    assert_eq!(v["pruner"], "asha");
    assert_eq!(v["round_steps"], 40);
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 6);
    let mut pruned = 0;
    for t in trials {
        let asked = t["params"]["num_iterations"].as_u64().unwrap() as usize;
        let rounds = t["rounds"].as_array().unwrap().len();
        let folds = t["intermediate"].as_array().unwrap().len();
        match t["state"].as_str().unwrap() {
            "pruned" => {
                pruned += 1;
                assert!(rounds < asked, "{t}");
                assert_eq!(folds, 0, "{t}");
            }
            "complete" => {
                assert_eq!(rounds, asked, "no early stopping: every round: {t}");
                assert_eq!(folds, 2, "{t}");
            }
            other => panic!("trial {other}: {t}"),
        }
    }
    assert!(pruned > 0, "ASHA pruned nothing: {trials:?}");
}
