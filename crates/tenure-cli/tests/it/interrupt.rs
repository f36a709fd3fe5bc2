//! Ctrl-C during `tenure run` and `tenure tune`: the run is marked KILLED,
//! nothing half-written stays in the store, and an interrupted study
//! resumes to completion.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{run_ok, tenure, write_experiment};

/// Sends SIGINT as a terminal's Ctrl-C would (through kill(1): no unsafe).
fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for `ready` (a safety deadline, not a timing assertion), failing
/// if the process exits first.
fn wait_until(child: &mut Child, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !ready() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "tenure exited before {what}"
        );
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Run directories (`<store>/<experiment>/<run>/meta.yaml`) in the store.
fn run_metas(store: &Path) -> Vec<PathBuf> {
    let Ok(experiments) = std::fs::read_dir(store) else {
        return Vec::new();
    };
    experiments
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
        .map(|r| r.path().join("meta.yaml"))
        .filter(|m| m.is_file())
        .collect()
}

/// Every file under `dir` whose name marks a temporary or partial write.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".tmp") || name.ends_with(".tmp") || name.ends_with(".partial") {
                out.push(path.clone());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

/// `(run name, status)` of every run in a local store.
fn statuses(store: &Path) -> Vec<(String, String)> {
    let out = run_ok(
        tenure()
            .args(["runs", "list", "--json", "--store"])
            .arg(store),
    );
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    runs.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run_name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn exits_interrupted(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    stderr
}

#[test]
fn ctrl_c_during_a_run_marks_it_killed_and_leaves_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path(), "interrupted-run");
    // Many models: the run has plenty of steps left when the signal comes.
    let mut text = std::fs::read_to_string(&config).unwrap();
    let models: String = (0..60)
        .map(|k| {
            format!(
                "[[models]]\nname = \"logreg{k}\"\nkind = \"logistic\"\nparams = {{ l2 = {} }}\n\n",
                0.01 * f64::from(k + 1)
            )
        })
        .collect();
    text = text.replace("[tracking]", &format!("{models}[tracking]"));
    std::fs::write(&config, text).unwrap();
    let store = dir.path().join("store");

    let mut child = tenure()
        .args(["run", "--quiet"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(&mut child, "the run was created", || {
        !run_metas(&store).is_empty()
    });
    interrupt(&child);
    exits_interrupted(child);

    assert_eq!(
        statuses(&store),
        [("interrupted-run".to_string(), "killed".to_string())]
    );
    assert_eq!(leftovers(&store), Vec::<PathBuf>::new());
    // What was logged before the stop is whole: every JSON artifact parses.
    let run_dir = run_metas(&store)[0].parent().unwrap().to_path_buf();
    let artifacts = run_dir.join("artifacts");
    for e in std::fs::read_dir(&artifacts)
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
        }
    }
}

#[test]
fn ctrl_c_during_tune_marks_runs_killed_and_the_study_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path(), "interrupted-tune");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[tune]\nmodel = \"logreg\"\nmetric = \"auc\"\ntrials = 200\n\
         [tune.space]\nl2 = { type = \"float\", low = 1e-3, high = 1e3, log = true }\n",
    );
    std::fs::write(&config, text).unwrap();
    let store = dir.path().join("store");
    let db = dir.path().join("study.db");

    let mut child = tenure()
        .args(["tune", "--quiet", "--storage"])
        .arg(&db)
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The study's run and two trials' runs exist: the search is under way.
    wait_until(&mut child, "two trials started", || {
        run_metas(&store).len() >= 3
    });
    interrupt(&child);
    exits_interrupted(child);

    let runs = statuses(&store);
    let parent = runs
        .iter()
        .find(|(name, _)| name == "tune-interrupted-tune")
        .unwrap();
    assert_eq!(parent.1, "killed", "{runs:?}");
    // Trials ended before the signal finished; the one it stopped is killed.
    let trials: Vec<&(String, String)> = runs
        .iter()
        .filter(|(n, _)| n.starts_with("trial-"))
        .collect();
    assert!(trials.len() >= 2, "{runs:?}");
    assert!(
        trials.iter().all(|(_, s)| s == "finished" || s == "killed"),
        "{runs:?}"
    );
    assert!(trials.iter().filter(|(_, s)| s == "killed").count() <= 1);
    assert_eq!(leftovers(&store), Vec::<PathBuf>::new());
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());

    // Resume with a budget just past what was claimed: the search completes.
    let claimed = trials.len();
    let total = claimed + 2;
    let out = run_ok(
        tenure()
            .args([
                "tune",
                "--json",
                "--trials",
                &total.to_string(),
                "--storage",
            ])
            .arg(&db)
            .arg(&config),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = v["trials"].as_array().unwrap();
    assert_eq!(summary.len(), total);
    assert!(
        summary
            .iter()
            .all(|t| t["state"] == "complete" || t["state"] == "pruned"),
        "{summary:?}"
    );
    let numbers: Vec<u64> = summary
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (0..total as u64).collect::<Vec<_>>());
    let runs = statuses(&store);
    let parent = runs
        .iter()
        .find(|(name, _)| name == "tune-interrupted-tune")
        .unwrap();
    assert_eq!(parent.1, "finished", "{runs:?}");
    assert_eq!(leftovers(&store), Vec::<PathBuf>::new());
}

/// Waits for `child` to exit. The deadline only keeps a broken build from
/// hanging the suite: a fit that ignored Ctrl-C would run for hours.
fn exits_within_deadline(mut child: Child) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("tenure kept training after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_stops_a_single_long_fit_midway() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_experiment(dir.path(), "long-fit");
    // One booster with a million rounds: hours of training, so the signal
    // lands inside the fit, which must stop at its next round.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "kind = \"logistic\"\nparams = { l2 = 1.0 }",
        "kind = \"gbdt\"\nparams = { num_iterations = 1000000, num_leaves = 4, early_stopping_round = 0 }",
    );
    assert!(text.contains("1000000"));
    std::fs::write(&config, text).unwrap();
    let store = dir.path().join("store");
    let child = {
        let mut child = tenure()
            .args(["run", "--quiet"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until(&mut child, "the run was created", || {
            !run_metas(&store).is_empty()
        });
        // Let the fit start (a scheduling pause, not a timing assertion:
        // a signal that lands earlier is honoured between steps).
        std::thread::sleep(Duration::from_secs(2));
        interrupt(&child);
        child
    };
    let out = exits_within_deadline(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        statuses(&store),
        [("long-fit".to_string(), "killed".to_string())]
    );
    assert_eq!(leftovers(&store), Vec::<PathBuf>::new());
}
