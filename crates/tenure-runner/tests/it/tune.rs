//! `tenure tune` on a boosted model and a network: the pruner sees every
//! boosting round (or epoch) of the first CV fold (steps `1..=R`), then the
//! running mean after each fold (steps `R + k`), and a trial it leaves
//! alone scores what `tenure run` scores with the same configuration.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tenure_core::spec::Model;
use tenure_core::{Dataset, Matrix, ParamGuard, Target, Task};
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::hpo::{ParamValue, Study, TrialState};
use tenure_runner::models::{EarlyStop, ModelSpec};
use tenure_runner::tune::{TuneOptions, tune};
use tenure_runner::{Experiment, RunOptions};

const BASE: &str = r#"
name = "tune-gbdt"
seed = 5
[data.transactions]
path = "data/transactions.parquet"
category = "category"
[data.customers]
path = "data/customers.parquet"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "region"]
[labels]
task = "churn"
horizon_days = 90
[cv]
first = "2022-01-01"
every_days = 91
folds = 2
"#;

fn write_data(dir: &Path) {
    synth::write(
        &SynthConfig {
            customers: 2_000,
            seed: 11,
            ..SynthConfig::default()
        },
        &dir.join("data"),
    )
    .unwrap();
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{BASE}{text}")).unwrap();
    path
}

/// ASHA (η = 3, first rung at step 1) over learning rates and round counts:
/// at steps 3, 9 and 27 only the top third of the trials that got there
/// go on, so most trials stop inside their first fold.
const TUNED: &str = r#"
[[models]]
name = "gbdt"
kind = "gbdt"
params = { num_leaves = 7, min_data_in_leaf = 20, early_stopping_round = 5 }

[tune]
model = "gbdt"
metric = "auc"
trials = 8
sampler = "random"
pruner = "asha"
[tune.space]
num_iterations = { type = "int", low = 20, high = 40, step = 10 }
learning_rate = { type = "float", low = 0.01, high = 0.3, log = true }
"#;

fn asked_rounds(params: &tenure_runner::hpo::Params) -> usize {
    match params["num_iterations"] {
        ParamValue::Int(n) => n as usize,
        ref other => panic!("num_iterations sampled as {other:?}"),
    }
}

#[test]
fn pruned_gbdt_trials_stop_inside_the_first_fold_and_kept_ones_score_like_a_run() {
    let dir = tempfile::tempdir().unwrap();
    write_data(dir.path());
    let path = write(dir.path(), "tune.toml", TUNED);
    let exp = Experiment::load(&path).unwrap();
    let out = tune(
        &exp,
        &TuneOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..TuneOptions::default()
        },
    )
    .unwrap();
    // R: the most rounds the space allows.
    assert_eq!(out.round_steps, 40);
    assert_eq!(out.trials.len(), 8);

    // The study's own record of each trial's steps.
    let spec = exp.tune.as_ref().unwrap();
    let study = Study::open(
        &out.storage,
        &out.study,
        spec.direction,
        &spec.space,
        exp.file.seed,
    )
    .unwrap();
    let trials = study.trials().unwrap();
    let pruned: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .collect();
    assert!(!pruned.is_empty(), "ASHA pruned nothing: {:?}", out.trials);
    for t in &pruned {
        let steps: Vec<u64> = t.intermediate.keys().copied().collect();
        let last = *steps.last().unwrap();
        // Pruned mid-fold: one value per boosting round up to the rung
        // where ASHA stopped it, fewer rounds than the trial asked for,
        // and no fold-level value.
        assert_eq!(steps, (1..=last).collect::<Vec<_>>(), "trial {}", t.number);
        assert!(
            [1, 3, 9, 27].contains(&last),
            "trial {}: {steps:?}",
            t.number
        );
        assert!((last as usize) < asked_rounds(&t.params));
        assert_eq!(t.value, Some(t.intermediate[&last]));
        let summary = out.trials.iter().find(|s| s.number == t.number).unwrap();
        assert_eq!(summary.rounds.len(), last as usize);
        assert!(summary.intermediate.is_empty());
    }

    let complete: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    assert!(!complete.is_empty());
    for t in &complete {
        let rounds = t.intermediate.range(..=40).count();
        assert!(rounds >= 1 && rounds <= asked_rounds(&t.params));
        let folds: Vec<u64> = t.intermediate.range(41..).map(|(s, _)| *s).collect();
        assert_eq!(folds, [41, 42], "trial {}", t.number);
        assert_eq!(t.value, Some(t.intermediate[&42]));
    }

    // A trial the pruner left alone scores exactly what `tenure run` does
    // with its configuration.
    let kept = complete[0];
    let mut params = toml::Table::new();
    for (k, v) in &kept.params {
        let v = match v {
            ParamValue::Int(i) => toml::Value::Integer(*i),
            ParamValue::Float(f) => toml::Value::Float(*f),
            other => panic!("{other:?}"),
        };
        params.insert(k.clone(), v);
    }
    for (k, v) in [
        ("num_leaves", 7),
        ("min_data_in_leaf", 20),
        ("early_stopping_round", 5),
    ] {
        params.insert(k.into(), toml::Value::Integer(v));
    }
    let run_path = write(
        dir.path(),
        "run.toml",
        &format!(
            "[[models]]\nname = \"gbdt\"\nkind = \"gbdt\"\n[models.params]\n{}",
            toml::to_string(&params).unwrap()
        ),
    );
    let run = tenure_runner::run(
        &Experiment::load(&run_path).unwrap(),
        &RunOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let auc = &run.models[0].metrics["auc"].folds;
    assert_eq!(auc.len(), 2);
    assert_eq!(kept.intermediate[&41], auc[0]);
    assert_eq!(kept.value, Some((auc[0] + auc[1]) / 2.0));
}

fn churn_data(n: usize, seed: u64) -> Dataset {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..4).map(|_| next() * 2.0 - 1.0).collect();
        let p = 1.0 / (1.0 + (-(2.0 * row[0] - row[1])).exp());
        y.push(f64::from(next() < p));
        rows.push(row);
    }
    let names = (0..4).map(|j| format!("x{j}")).collect();
    Dataset::new(Matrix::from_rows(&rows).unwrap(), names, Target::Binary(y)).unwrap()
}

fn gbdt(params: &str) -> ModelSpec {
    let cfg: tenure_runner::config::ModelConfig =
        toml::from_str(&format!("kind = \"gbdt\"\nparams = {{ {params} }}")).unwrap();
    ModelSpec::from_config(&cfg, Task::Churn, 90).unwrap()
}

fn trees(pred: &tenure_runner::models::Prediction) -> usize {
    match &pred.spec {
        Some(Model::TreeEnsemble(e)) => e.trees.len(),
        other => panic!("not a tree ensemble: {other:?}"),
    }
}

/// The observer the search uses: breaking after round k leaves k trees; one
/// that never breaks changes neither trees nor predictions nor the round
/// early stopping kept.
#[test]
fn observed_fits_stop_where_the_observer_says_and_otherwise_change_nothing() {
    let (train, valid) = (churn_data(1500, 1), churn_data(600, 2));
    for params in [
        "num_iterations = 30, num_leaves = 7",
        "num_iterations = 30, num_leaves = 7, early_stopping_round = 50",
    ] {
        let model = gbdt(params);
        assert_eq!(model.max_rounds(), Some(30));
        let stop = EarlyStop::OnValid(&valid);
        let plain = model
            .fit_predict_full(&train, valid.x(), &[], stop)
            .unwrap();
        let mut seen = Vec::new();
        let watched = model
            .fit_predict_observed(&train, valid.x(), &[], stop, &mut |round, pred| {
                assert_eq!(pred.len(), valid.x().n_rows());
                seen.push(round);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(seen, (1..=30).collect::<Vec<_>>(), "{params}");
        assert_eq!(watched, plain, "{params}");

        let stopped = model
            .fit_predict_observed(&train, valid.x(), &[], stop, &mut |round, _| {
                if round == 11 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(trees(&stopped) <= 11, "{params}");
        if !params.contains("early_stopping") {
            assert_eq!(trees(&stopped), 11);
            assert_eq!(
                stopped.best_iteration, None,
                "no early stopping, no kept round"
            );
        }
    }
    // Models fitted in one go have no rounds to watch.
    let cfg: tenure_runner::config::ModelConfig = toml::from_str("kind = \"logistic\"").unwrap();
    let logistic = ModelSpec::from_config(&cfg, Task::Churn, 90).unwrap();
    assert_eq!(logistic.max_rounds(), None);
    let mut called = false;
    logistic
        .fit_predict_observed(
            &train,
            valid.x(),
            &[],
            EarlyStop::OnValid(&valid),
            &mut |_, _| {
                called = true;
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert!(!called);
}

/// ASHA over an MLP's learning rate and epoch count: the pruner sees the
/// first fold's epochs as steps `1..=R`, as it sees boosting rounds.
const TUNED_MLP: &str = r#"
[[models]]
name = "mlp"
kind = "mlp"
params = { hidden = [8], batch_size = 256 }

[tune]
model = "mlp"
metric = "auc"
trials = 6
sampler = "random"
pruner = "asha"
[tune.space]
epochs = { type = "int", low = 6, high = 12, step = 3 }
learning_rate = { type = "float", low = 0.0003, high = 0.03, log = true }
"#;

#[test]
fn pruned_mlp_trials_stop_inside_the_first_fold_at_an_epoch_rung() {
    let dir = tempfile::tempdir().unwrap();
    write_data(dir.path());
    let path = write(dir.path(), "tune.toml", TUNED_MLP);
    let exp = Experiment::load(&path).unwrap();
    let out = tune(
        &exp,
        &TuneOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..TuneOptions::default()
        },
    )
    .unwrap();
    // R: the most epochs the space allows.
    assert_eq!(out.round_steps, 12);
    let spec = exp.tune.as_ref().unwrap();
    let study = Study::open(
        &out.storage,
        &out.study,
        spec.direction,
        &spec.space,
        exp.file.seed,
    )
    .unwrap();
    let trials = study.trials().unwrap();
    let asked = |t: &tenure_runner::hpo::Trial| match t.params["epochs"] {
        ParamValue::Int(n) => n as u64,
        ref other => panic!("epochs sampled as {other:?}"),
    };
    let pruned: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .collect();
    assert!(!pruned.is_empty(), "ASHA pruned nothing: {:?}", out.trials);
    for t in &pruned {
        let steps: Vec<u64> = t.intermediate.keys().copied().collect();
        let last = *steps.last().unwrap();
        assert_eq!(steps, (1..=last).collect::<Vec<_>>(), "trial {}", t.number);
        assert!([1, 3, 9].contains(&last), "trial {}: {steps:?}", t.number);
        assert!(last < asked(t), "trial {}", t.number);
    }
    for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
        let epochs = t.intermediate.range(..=12).count() as u64;
        assert!(epochs >= 1 && epochs <= asked(t), "trial {}", t.number);
        let folds: Vec<u64> = t.intermediate.range(13..).map(|(s, _)| *s).collect();
        assert_eq!(folds, [13, 14], "trial {}", t.number);
    }
}

/// A network's epochs are observed like boosting rounds, and watching
/// changes nothing.
#[test]
fn observed_network_fits_report_every_epoch_and_stop_on_request() {
    let (train, valid) = (churn_data(1500, 3), churn_data(600, 4));
    let cfg: tenure_runner::config::ModelConfig =
        toml::from_str("kind = \"mlp\"\nparams = { hidden = [8], epochs = 5 }").unwrap();
    let model = ModelSpec::from_config(&cfg, Task::Churn, 90).unwrap();
    assert_eq!(model.max_rounds(), Some(5));
    let stop = EarlyStop::OnValid(&valid);
    let plain = model
        .fit_predict_full(&train, valid.x(), &[], stop)
        .unwrap();
    let mut seen = Vec::new();
    let watched = model
        .fit_predict_observed(&train, valid.x(), &[], stop, &mut |epoch, pred| {
            assert_eq!(pred.len(), valid.x().n_rows());
            assert!(pred.iter().all(|p| (0.0..=1.0).contains(p)));
            seen.push(epoch);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert_eq!(watched, plain);
    let mut seen = Vec::new();
    model
        .fit_predict_observed(&train, valid.x(), &[], stop, &mut |epoch, _| {
            seen.push(epoch);
            if epoch == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(seen, [1, 2]);
}

/// `pruner` as a table: ASHA's first rung moves from step 1 to
/// `min_resource`, and bad settings are config errors naming the key.
#[test]
fn pruner_settings_move_the_first_rung_and_bad_ones_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    write_data(dir.path());
    let text = TUNED.replace(
        "pruner = \"asha\"",
        "pruner = { kind = \"asha\", min_resource = 3, reduction_factor = 3 }",
    );
    let exp = Experiment::load(&write(dir.path(), "tune.toml", &text)).unwrap();
    let spec = exp.tune.as_ref().unwrap();
    assert_eq!(
        spec.pruner,
        tenure_runner::hpo::Pruner::Asha(
            tenure_runner::hpo::AshaParams::new()
                .min_resource(3)
                .reduction_factor(3)
                .check()
                .unwrap()
        )
    );
    let out = tune(
        &exp,
        &TuneOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..TuneOptions::default()
        },
    )
    .unwrap();
    let study = Study::open(
        &out.storage,
        &out.study,
        spec.direction,
        &spec.space,
        exp.file.seed,
    )
    .unwrap();
    let pruned: Vec<u64> = study
        .trials()
        .unwrap()
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .map(|t| *t.intermediate.keys().last().unwrap())
        .collect();
    assert!(!pruned.is_empty(), "ASHA pruned nothing: {:?}", out.trials);
    // Rungs at 3 · 3^k: never step 1 any more.
    assert!(pruned.iter().all(|s| [3, 9, 27].contains(s)), "{pruned:?}");

    for (setting, key, says) in [
        (
            "{ kind = \"asha\", warmup = 2 }",
            "tune.pruner.warmup",
            "not a setting of the asha pruner",
        ),
        (
            "{ kind = \"asha\", reduction_factor = 1 }",
            "tune.pruner.reduction_factor",
            "at least 2",
        ),
        (
            "{ kind = \"median\", n_warmup_steps = -1 }",
            "tune.pruner.n_warmup_steps",
            "integer >= 0",
        ),
        ("{ min_resource = 2 }", "tune.pruner.kind", "missing"),
        (
            "{ kind = \"hyperband\" }",
            "tune.pruner.kind",
            "unknown pruner",
        ),
    ] {
        let text = TUNED.replace("pruner = \"asha\"", &format!("pruner = {setting}"));
        let e = Experiment::load(&write(dir.path(), "bad.toml", &text))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(says), "{setting}: {e}");
    }
}
