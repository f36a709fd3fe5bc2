//! Several writers on one store at once, as threads and as real processes.
//!
//! The process test re-runs this test binary with `--exact
//! concurrency::child_worker` and an environment variable that puts
//! `child_worker` into child mode; run normally, `child_worker` checks the
//! same workload single-handed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tenure_store::{LocalStore, RunStatus, StoreError};

use crate::leftover_temp_files;

const ENV_ROOT: &str = "TENURE_STORE_CHILD_ROOT";
const ENV_SHARED_RUN: &str = "TENURE_STORE_CHILD_SHARED_RUN";
const ENV_WORKER: &str = "TENURE_STORE_CHILD_WORKER";
const ENV_GO_FILE: &str = "TENURE_STORE_CHILD_GO";

const SHARED_EXPERIMENTS: [&str; 2] = ["shared-a", "shared-b"];
const RUNS_PER_WORKER: usize = 3;
const POINTS_PER_RUN: usize = 20;
const SHARED_POINTS: usize = 25;
const PARAMS_PER_RUN: usize = 4;

/// What one writer does. Every worker touches the same experiment names and
/// the same shared run, so lost updates would show as missing lines.
fn workload(store: &LocalStore, shared_run: &str, worker: usize) -> Vec<String> {
    let mut exp_ids = Vec::new();
    for name in SHARED_EXPERIMENTS {
        let exp = store.get_or_create_experiment(name).unwrap();
        exp_ids.push(exp.clone());
        for r in 0..RUNS_PER_WORKER {
            let run = store
                .create_run(
                    &exp,
                    &format!("w{worker}-r{r}"),
                    &[("worker", &worker.to_string())],
                )
                .unwrap();
            for p in 0..PARAMS_PER_RUN {
                store
                    .log_param(&run, &format!("p{p}"), &format!("{worker}.{p}"))
                    .unwrap();
            }
            for i in 0..POINTS_PER_RUN {
                store
                    .log_metric(&run, "loss", 1.0 / (i + 1) as f64, i as i64)
                    .unwrap();
            }
            store.end_run(&run, RunStatus::Finished).unwrap();
        }
    }
    for i in 0..SHARED_POINTS {
        let value = (worker * 1000 + i) as f64;
        store
            .log_metric(shared_run, "shared/loss", value, i as i64)
            .unwrap();
        if i % 5 == 0 {
            store
                .set_tag(shared_run, "last_writer", &worker.to_string())
                .unwrap();
        }
    }
    store
        .log_param(shared_run, &format!("worker_{worker}"), "done")
        .unwrap();
    // Every worker logs this one with the same value: allowed, never a
    // spurious "param changed".
    store.log_param(shared_run, "common", "same").unwrap();
    exp_ids
}

/// Checks a store after `workers` ran `workload` on it.
fn verify(store: &LocalStore, shared_run: &str, workers: &[usize]) {
    for name in SHARED_EXPERIMENTS {
        let matching: Vec<_> = store
            .list_experiments()
            .unwrap()
            .into_iter()
            .filter(|e| e.name == name)
            .collect();
        assert_eq!(matching.len(), 1, "experiments named {name}: {matching:?}");
        let runs = store.list_runs(Some(&matching[0].experiment_id)).unwrap();
        assert_eq!(runs.len(), workers.len() * RUNS_PER_WORKER);
        let names: BTreeSet<String> = runs.iter().map(|r| r.run_name.clone()).collect();
        for w in workers {
            for r in 0..RUNS_PER_WORKER {
                assert!(names.contains(&format!("w{w}-r{r}")), "missing w{w}-r{r}");
            }
        }
        for info in runs {
            let run = store.get_run(&info.run_id).unwrap();
            assert_eq!(run.info.status, RunStatus::Finished);
            assert_eq!(run.params.len(), PARAMS_PER_RUN);
            let steps: Vec<i64> = run.metrics["loss"].iter().map(|p| p.step).collect();
            assert_eq!(steps, (0..POINTS_PER_RUN as i64).collect::<Vec<_>>());
        }
    }

    let shared = store.get_run(shared_run).unwrap();
    let got: Vec<(i64, i64)> = shared.metrics["shared/loss"]
        .iter()
        .map(|p| (p.value as i64, p.step))
        .collect();
    assert_eq!(
        got.len(),
        workers.len() * SHARED_POINTS,
        "lines lost or duplicated"
    );
    let want: BTreeSet<(i64, i64)> = workers
        .iter()
        .flat_map(|w| (0..SHARED_POINTS).map(move |i| ((w * 1000 + i) as i64, i as i64)))
        .collect();
    assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), want);
    // Each writer's own lines stay in its logging order.
    for w in workers {
        let mine: Vec<i64> = got
            .iter()
            .filter(|(v, _)| v / 1000 == *w as i64)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(mine, (0..SHARED_POINTS as i64).collect::<Vec<_>>());
    }
    for w in workers {
        assert_eq!(shared.params[&format!("worker_{w}")], "done");
    }
    assert_eq!(shared.params["common"], "same");
    let last: usize = shared.tags["last_writer"].parse().unwrap();
    assert!(workers.contains(&last));
    assert!(leftover_temp_files(store.root()).is_empty());
}

fn wait_for(go: &Path) {
    // The parent creates the file once every child is spawned, so the
    // children start their writes together rather than one after another.
    let give_up = Instant::now() + Duration::from_secs(60);
    while !go.exists() && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn child_worker() {
    match std::env::var_os(ENV_ROOT) {
        Some(root) => {
            let shared_run = std::env::var(ENV_SHARED_RUN).unwrap();
            let worker: usize = std::env::var(ENV_WORKER).unwrap().parse().unwrap();
            wait_for(&PathBuf::from(std::env::var_os(ENV_GO_FILE).unwrap()));
            let store = LocalStore::open(PathBuf::from(root)).unwrap();
            for id in workload(&store, &shared_run, worker) {
                println!("EXP_ID={id}");
            }
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::open(dir.path()).unwrap();
            let shared = store.create_run("0", "shared", &[]).unwrap();
            workload(&store, &shared, 0);
            verify(&store, &shared, &[0]);
        }
    }
}

#[test]
fn processes_writing_at_once_lose_nothing() {
    const WORKERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("store")).unwrap();
    let shared = store.create_run("0", "shared", &[]).unwrap();
    let go = dir.path().join("go");

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WORKERS)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::child_worker",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ENV_ROOT, store.root())
                .env(ENV_SHARED_RUN, &shared)
                .env(ENV_WORKER, w.to_string())
                .env(ENV_GO_FILE, &go)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(&go, "").unwrap();

    let mut exp_ids = BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // Tokens, not lines: the harness prints "test ... " before our output
        // on the same line.
        let ids: Vec<&str> = stdout
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("EXP_ID="))
            .collect();
        // Proof the child ran the workload rather than filtering itself out.
        assert_eq!(ids.len(), SHARED_EXPERIMENTS.len(), "{stdout}");
        exp_ids.extend(ids.iter().map(|s| s.to_string()));
    }
    // Every process got the same id for each shared name.
    assert_eq!(exp_ids.len(), SHARED_EXPERIMENTS.len(), "{exp_ids:?}");
    verify(&store, &shared, &(0..WORKERS).collect::<Vec<_>>());
}

#[test]
fn threads_writing_at_once_lose_nothing() {
    const WORKERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let shared = store.create_run("0", "shared", &[]).unwrap();
    let barrier = Arc::new(Barrier::new(WORKERS));
    std::thread::scope(|s| {
        for w in 0..WORKERS {
            let (store, shared, barrier) = (&store, &shared, Arc::clone(&barrier));
            s.spawn(move || {
                // Each thread opens its own handle, like a separate process.
                let own = LocalStore::open(store.root()).unwrap();
                barrier.wait();
                workload(&own, shared, w);
            });
        }
    });
    verify(&store, &shared, &(0..WORKERS).collect::<Vec<_>>());
}

#[test]
fn racing_params_with_different_values_have_one_winner() {
    const WORKERS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let run = store.create_run("0", "r", &[]).unwrap();
    let barrier = Barrier::new(WORKERS);
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (store, run, barrier) = (&store, &run, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    store.log_param(run, "seed", &w.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::ParamChanged { .. }))
    );
    let stored: usize = store.get_run(&run).unwrap().params["seed"].parse().unwrap();
    assert!(results[stored].is_ok());
}
