use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use tenure_core::ParamGuard;
use tenure_tune::bench::TestFunction;
use tenure_tune::{
    Direction, MedianParams, Outcome, ParamDef, Pruner, SamplerKind, SearchSpace, Study,
    TrialState, TuneError,
};

const CHILD_DB: &str = "TENURE_TUNE_TEST_CHILD_DB";

fn branin_study(path: &Path) -> Study {
    let f = TestFunction::Branin;
    Study::open(path, "branin", Direction::Minimize, &f.space(), 5).unwrap()
}

fn run_to(study: &mut Study, total: u64) -> usize {
    let mut sampler = SamplerKind::Tpe.build();
    let mut claimed = 0;
    while let Some(t) = study.ask(sampler.as_mut(), Some(total)).unwrap() {
        let v = TestFunction::Branin.eval(&t.params);
        study.tell(&t, Outcome::Complete(v)).unwrap();
        claimed += 1;
    }
    claimed
}

/// Run in a child process by `an_abandoned_trial_is_resumed_with_its_number_and_params`:
/// claims one trial and exits without finishing it, as a killed worker does.
#[test]
#[ignore = "entry point of a child process"]
fn child_process_claims_a_trial_and_exits() {
    let db = std::env::var(CHILD_DB).expect("run by the parent test");
    let mut study = branin_study(Path::new(&db));
    let t = study
        .ask(SamplerKind::Tpe.build().as_mut(), Some(100))
        .unwrap()
        .unwrap();
    study.set_trial_attr(&t, "run_id", "child-run").unwrap();
    println!("CLAIMED {}", t.number);
    std::process::exit(0);
}

#[test]
fn an_abandoned_trial_is_resumed_with_its_number_and_params() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tune.db");
    let mut study = branin_study(&db);
    assert_eq!(run_to(&mut study, 3), 3);

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "storage::child_process_claims_a_trial_and_exits",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CLAIMED 3"), "child output: {stdout}");
    let abandoned = study.trials().unwrap();
    assert_eq!(abandoned.len(), 4);
    assert_eq!(abandoned[3].state, TrialState::Running);

    let mut sampler = SamplerKind::Tpe.build();
    let t = study.ask(sampler.as_mut(), Some(6)).unwrap().unwrap();
    assert!(t.reclaimed, "the dead worker's trial comes back first");
    assert_eq!(t.number, 3);
    assert_eq!(t.params, abandoned[3].params);
    assert_eq!(t.attrs.get("run_id").map(String::as_str), Some("child-run"));
    study
        .tell(&t, Outcome::Complete(TestFunction::Branin.eval(&t.params)))
        .unwrap();
    run_to(&mut study, 6);
    let trials = study.trials().unwrap();
    let numbers: Vec<u64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    let records = study.records().unwrap();
    assert_eq!(records[3].attempts, 2);
    assert!(
        records
            .iter()
            .filter(|r| r.trial.number != 3)
            .all(|r| r.attempts == 1)
    );
}

#[test]
fn a_live_workers_trial_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tune.db");
    let mut a = branin_study(&db);
    let mut b = branin_study(&db);
    let mut sampler = SamplerKind::Random.build();
    let ta = a.ask(sampler.as_mut(), Some(10)).unwrap().unwrap();
    let tb = b.ask(sampler.as_mut(), Some(10)).unwrap().unwrap();
    assert!(!tb.reclaimed);
    assert_ne!(ta.number, tb.number);
    // b cannot finish a's trial.
    assert!(matches!(
        b.tell(&ta, Outcome::Complete(1.0)),
        Err(TuneError::NotRunning { .. })
    ));
    a.tell(&ta, Outcome::Complete(1.0)).unwrap();
    b.tell(&tb, Outcome::Complete(2.0)).unwrap();
}

#[test]
fn concurrent_workers_claim_each_trial_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tune.db");
    let total = 60;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut study = branin_study(&db);
                let mut sampler = SamplerKind::Tpe.build();
                let mut mine = Vec::new();
                while let Some(t) = study.ask(sampler.as_mut(), Some(total)).unwrap() {
                    study.report(&t, 1, 0.0).unwrap();
                    let v = TestFunction::Branin.eval(&t.params);
                    study.tell(&t, Outcome::Complete(v)).unwrap();
                    mine.push(t.number);
                }
                mine
            })
        })
        .collect();
    let per_worker: Vec<Vec<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let all: Vec<u64> = per_worker.iter().flatten().copied().collect();
    assert_eq!(all.len(), total as usize, "{per_worker:?}");
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique, (0..total).collect::<BTreeSet<_>>());
    let study = branin_study(&db);
    let trials = study.trials().unwrap();
    assert_eq!(trials.len(), total as usize);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
}

#[test]
fn reopening_with_another_space_or_direction_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tune.db");
    let space = SearchSpace::new(vec![ParamDef::float("x", 0.0, 1.0)]).unwrap();
    Study::open(&db, "s", Direction::Minimize, &space, 1).unwrap();
    let other = SearchSpace::new(vec![ParamDef::float("x", 0.0, 2.0)]).unwrap();
    let err = Study::open(&db, "s", Direction::Minimize, &other, 1).unwrap_err();
    assert!(
        matches!(
            err,
            TuneError::StudyMismatch {
                what: "search space",
                ..
            }
        ),
        "{err}"
    );
    let err = Study::open(&db, "s", Direction::Maximize, &space, 1).unwrap_err();
    assert!(
        matches!(
            err,
            TuneError::StudyMismatch {
                what: "direction",
                ..
            }
        ),
        "{err}"
    );
    // Another name is another study in the same file.
    Study::open(&db, "t", Direction::Maximize, &other, 1).unwrap();
}

#[test]
fn pruned_trials_keep_their_last_intermediate_value() {
    let dir = tempfile::tempdir().unwrap();
    let space = SearchSpace::new(vec![ParamDef::float("x", 0.0, 1.0)]).unwrap();
    let mut study = Study::open(
        &dir.path().join("t.db"),
        "p",
        Direction::Maximize,
        &space,
        1,
    )
    .unwrap();
    let pruner = Pruner::Median(MedianParams::new().n_startup_trials(2).check().unwrap());
    let mut sampler = SamplerKind::Random.build();
    // Two complete trials reporting 0.8 and 0.9 at step 1.
    for v in [0.8, 0.9] {
        let t = study.ask(sampler.as_mut(), None).unwrap().unwrap();
        study.report(&t, 1, v).unwrap();
        assert!(!study.should_prune(&t, 1, &pruner).unwrap());
        study.tell(&t, Outcome::Complete(v)).unwrap();
    }
    let t = study.ask(sampler.as_mut(), None).unwrap().unwrap();
    study.report(&t, 1, 0.5).unwrap();
    assert!(
        study.should_prune(&t, 1, &pruner).unwrap(),
        "0.5 is below the median 0.85"
    );
    study.tell(&t, Outcome::Pruned).unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(trials[2].state, TrialState::Pruned);
    assert_eq!(trials[2].value, Some(0.5));
}

#[test]
fn report_all_records_every_step_and_replaces_repeated_ones() {
    let dir = tempfile::tempdir().unwrap();
    let space = SearchSpace::new(vec![ParamDef::float("x", 0.0, 1.0)]).unwrap();
    let mut study = Study::open(
        &dir.path().join("t.db"),
        "r",
        Direction::Minimize,
        &space,
        1,
    )
    .unwrap();
    let mut sampler = SamplerKind::Random.build();
    let t = study.ask(sampler.as_mut(), None).unwrap().unwrap();
    study.report(&t, 2, 9.0).unwrap();
    study
        .report_all(&t, [(1, 0.5), (2, 0.4), (3, 0.3)])
        .unwrap();
    study.tell(&t, Outcome::Pruned).unwrap();
    let trials = study.trials().unwrap();
    assert_eq!(
        trials[0].intermediate.iter().collect::<Vec<_>>(),
        [(&1, &0.5), (&2, &0.4), (&3, &0.3)]
    );
    assert_eq!(trials[0].value, Some(0.3), "the last step's value");
}
