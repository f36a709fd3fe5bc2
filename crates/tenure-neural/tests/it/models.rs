//! Training: what each model learns on synthetic data with known truth,
//! determinism, early stopping, and bad input.

use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_neural::{
    ClassWeight, ClassWeightPreset, CoxTies, DeepSurvParams, MlpParams, NetworkConfig, NeuralError,
    NormKind, TrainConfig, ZilnParams,
};

use crate::common::{churn_data, names, ph_data, quick_train, small_net, split, ziln_data};

#[test]
fn mlp_reaches_the_auc_of_the_true_probabilities() {
    let (data, p_true) = churn_data(6000, 1);
    let (train, test) = split(&data, 4000);
    let model = MlpParams::new()
        .network(small_net())
        .train(quick_train(60))
        .check()
        .unwrap()
        .fit(&train)
        .unwrap();
    let Target::Binary(y) = test.target() else {
        unreachable!()
    };
    let p = model.predict(test.x()).unwrap();
    let auc = tenure_metrics::roc_auc(y, &p).unwrap();
    let auc_truth = tenure_metrics::roc_auc(y, &p_true[4000..]).unwrap();
    assert!(
        (auc - auc_truth).abs() <= 0.02,
        "model AUC {auc:.4} vs truth {auc_truth:.4}"
    );
    let r = model.report();
    assert!(r.best_epoch >= 1 && r.best_epoch <= r.epochs_run);
    assert_eq!(r.valid_loss.len(), r.epochs_run);
}

#[test]
fn deepsurv_ranks_like_the_true_hazard() {
    let (data, eta_true) = ph_data(5000, 2);
    let (train, test) = split(&data, 3500);
    for ties in [CoxTies::Efron, CoxTies::Breslow] {
        let model = DeepSurvParams::new()
            .network(small_net())
            .train(quick_train(60))
            .ties(ties)
            .check()
            .unwrap()
            .fit(&train)
            .unwrap();
        let Target::Survival { time, event } = test.target() else {
            unreachable!()
        };
        let risk = model.predict(test.x()).unwrap();
        let c = tenure_metrics::concordance_index(time, event, &risk).unwrap();
        let c_truth = tenure_metrics::concordance_index(time, event, &eta_true[3500..]).unwrap();
        assert!(
            (c - c_truth).abs() <= 0.02,
            "{ties:?}: C-index {c:.4} vs truth {c_truth:.4}"
        );
        // Survival curves fall from 1, and the riskier row falls faster.
        let s = model
            .survival_function(test.x(), &[0.0, 30.0, 100.0, 300.0])
            .unwrap();
        let (hi, lo) = argmax_argmin(&risk);
        for row in &s {
            assert!(row.windows(2).all(|w| w[1] <= w[0]));
            assert!(row[0] <= 1.0 && row[3] >= 0.0);
        }
        assert!(s[hi][2] < s[lo][2]);
    }
}

fn argmax_argmin(v: &[f64]) -> (usize, usize) {
    let hi = (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    let lo = (0..v.len()).min_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    (hi, lo)
}

#[test]
fn ziln_beats_the_historical_average_and_gives_calibrated_quantiles() {
    let (data, mean_true) = ziln_data(6000, 3);
    let (train, test) = split(&data, 4000);
    let model = ZilnParams::new()
        .network(small_net())
        .train(quick_train(80))
        .check()
        .unwrap()
        .fit(&train)
        .unwrap();
    let Target::Continuous(y_test) = test.target() else {
        unreachable!()
    };
    let Target::Continuous(y_train) = train.target() else {
        unreachable!()
    };
    let pred = model.predict(test.x()).unwrap();
    // The historical average: every customer gets the training mean.
    let avg = y_train.iter().sum::<f64>() / y_train.len() as f64;
    let baseline = vec![avg; y_test.len()];
    let err = |p: &[f64]| -> f64 {
        p.iter()
            .zip(&mean_true[4000..])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let (ours, base) = (err(&pred), err(&baseline));
    assert!(
        ours < 0.6 * base,
        "RMSE to the true mean {ours:.3} vs average {base:.3}"
    );
    let gini = tenure_metrics::normalized_gini(y_test, &pred).unwrap();
    assert!(gini > 0.3, "normalised Gini {gini}");
    // About 80 % of the held-out amounts fall below the 0.8-quantile.
    let q = model.quantiles(test.x(), &[0.5, 0.8]).unwrap();
    let below = q.iter().zip(y_test).filter(|(q, y)| **y <= q[1]).count() as f64;
    let share = below / y_test.len() as f64;
    assert!(
        (share - 0.8).abs() < 0.04,
        "share below the 0.8-quantile: {share}"
    );
    assert!(q.iter().all(|r| r[0] <= r[1]));
}

#[test]
fn a_seeded_fit_on_the_cpu_repeats_exactly() {
    let (data, _) = churn_data(800, 4);
    let params = MlpParams::new()
        .network(NetworkConfig {
            dropout: 0.2,
            norm: NormKind::Batch,
            ..small_net()
        })
        .train(quick_train(5))
        .check()
        .unwrap();
    let a = params.fit(&data).unwrap().predict(data.x()).unwrap();
    let b = params.fit(&data).unwrap().predict(data.x()).unwrap();
    assert_eq!(a, b);
    let other = MlpParams::new()
        .network(NetworkConfig {
            dropout: 0.2,
            norm: NormKind::Batch,
            ..small_net()
        })
        .train(TrainConfig {
            seed: 7,
            ..quick_train(5)
        })
        .check()
        .unwrap();
    assert_ne!(a, other.fit(&data).unwrap().predict(data.x()).unwrap());
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    // A big network on little data overfits: validation loss turns up and
    // training stops `patience` epochs after the best one.
    let (data, _) = churn_data(300, 5);
    let model = MlpParams::new()
        .network(NetworkConfig {
            hidden: vec![128, 128],
            dropout: 0.0,
            ..NetworkConfig::default()
        })
        .train(TrainConfig {
            epochs: 200,
            batch_size: 32,
            learning_rate: 0.01,
            patience: 4,
            schedule: tenure_neural::LrSchedule::Constant,
            ..TrainConfig::default()
        })
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let r = model.report();
    assert!(r.epochs_run < 200, "should stop early: {r:?}");
    assert_eq!(r.epochs_run, r.best_epoch + 4);
    let best = r.valid_loss[r.best_epoch - 1];
    assert!(r.valid_loss.iter().all(|&v| v >= best));
    // The kept weights are the best epoch's: their validation loss is the
    // minimum, not the last one.
    assert!(best < *r.valid_loss.last().unwrap());
}

#[test]
fn class_weights_move_probabilities_towards_the_weighted_class() {
    let (data, _) = churn_data(2000, 6);
    let fit = |w: ClassWeight| {
        let p = MlpParams::new()
            .network(small_net())
            .train(quick_train(15))
            .class_weight(w)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap()
            .predict(data.x())
            .unwrap();
        p.iter().sum::<f64>() / p.len() as f64
    };
    let plain = fit(ClassWeight::Preset(ClassWeightPreset::None));
    let heavy = fit(ClassWeight::Positive(4.0));
    assert!(heavy > plain + 0.1, "{heavy} vs {plain}");
}

#[test]
fn categorical_embeddings_learn_a_category_effect() {
    // y depends only on a category code; unseen codes get the shared row.
    let n = 3000;
    let codes: Vec<f64> = (0..n)
        .map(|i| f64::from((i * 7 % 5) as u8) * 10.0)
        .collect();
    let y: Vec<f64> = codes
        .iter()
        .enumerate()
        // 10 % label noise, independent of the code.
        .map(|(i, &c)| f64::from(u8::from((c >= 30.0) ^ ((i / 5) % 10 == 0))))
        .collect();
    let noise: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64).collect();
    let rows: Vec<Vec<f64>> = codes
        .iter()
        .zip(&noise)
        .map(|(&c, &z)| vec![c, z])
        .collect();
    let data = Dataset::new(
        Matrix::from_rows(&rows).unwrap(),
        vec!["plan".into(), "noise".into()],
        Target::Binary(y),
    )
    .unwrap();
    let model = MlpParams::new()
        .network(NetworkConfig {
            categorical: vec!["plan".into()],
            embedding_dim: 3,
            ..small_net()
        })
        .train(quick_train(30))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let p = model
        .predict(
            &Matrix::from_rows(&[
                vec![0.0, 3.0],
                vec![40.0, 3.0],
                vec![99.0, 3.0],
                vec![f64::NAN, 3.0],
            ])
            .unwrap(),
        )
        .unwrap();
    assert!(p[0] < 0.3 && p[1] > 0.7, "{p:?}");
    // An unseen code and a missing one read the same embedding row.
    assert_eq!(p[2], p[3]);
    let spec = model.to_spec();
    assert_eq!(spec.embeddings.len(), 1);
    assert_eq!(spec.embeddings[0].levels, vec![0.0, 10.0, 20.0, 30.0, 40.0]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let (data, _) = churn_data(100, 8);
    let err = MlpParams::new()
        .network(NetworkConfig {
            dropout: 1.0,
            ..small_net()
        })
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("`dropout`"), "{err}");
    let err = MlpParams::new()
        .train(TrainConfig {
            batch_size: 1,
            ..TrainConfig::default()
        })
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("`batch_size`"), "{err}");
    // A survival model on a churn target.
    let err = DeepSurvParams::new()
        .check()
        .unwrap()
        .fit(&data)
        .unwrap_err();
    assert!(matches!(err, NeuralError::WrongTarget { .. }), "{err}");
    // An unknown categorical column names itself.
    let err = MlpParams::new()
        .network(NetworkConfig {
            categorical: vec!["nope".into()],
            ..small_net()
        })
        .check()
        .unwrap()
        .fit(&data)
        .unwrap_err();
    assert!(err.to_string().contains("`nope`"), "{err}");
    // An infinite feature names its column and row.
    let mut x = data.x().clone();
    x.set(17, 2, f64::INFINITY);
    let bad = Dataset::new(x, names(4), data.target().clone()).unwrap();
    let err = MlpParams::new().check().unwrap().fit(&bad).unwrap_err();
    assert!(err.to_string().contains("`x2`, row 17"), "{err}");
    // Predicting on the wrong width.
    let model = MlpParams::new()
        .network(small_net())
        .train(quick_train(1))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    assert!(model.predict(&Matrix::zeros(2, 3)).is_err());
}

/// The epoch observer of hyperparameter search: one call per epoch with
/// the watched rows' predictions; the fitted model predicts what the call
/// of its best epoch saw; breaking ends training there.
#[test]
fn an_epoch_observer_sees_every_epoch_and_can_end_training() {
    use std::ops::ControlFlow;
    let (mlp, ds, ziln) = (
        churn_data(1200, 5).0,
        ph_data(1200, 6).0,
        ziln_data(1200, 7).0,
    );
    // Without held-out rows the model is the last epoch's.
    let train = TrainConfig {
        validation_fraction: 0.0,
        ..quick_train(6)
    };
    type Fitted = (Vec<f64>, usize);
    let check =
        |fit: &dyn Fn(&Dataset, &Matrix, &mut tenure_neural::OnEpochScores<'_>) -> Fitted,
         plain: &dyn Fn(&Dataset, &Matrix) -> Vec<f64>,
         data: &Dataset,
         what: &str| {
            let (train_rows, valid) = split(data, 900);
            let mut seen: Vec<(usize, Vec<f64>)> = Vec::new();
            let (pred, epochs) = fit(&train_rows, valid.x(), &mut |epoch, scores| {
                seen.push((epoch, scores.to_vec()));
                ControlFlow::Continue(())
            });
            assert_eq!(epochs, 6, "{what}");
            assert_eq!(
                seen.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
                (1..=6).collect::<Vec<_>>(),
                "{what}"
            );
            assert_eq!(pred, seen[5].1, "{what}: the model is the last epoch's");
            assert_eq!(
                pred,
                plain(&train_rows, valid.x()),
                "{what}: watching changes nothing"
            );
            assert_ne!(
                seen[0].1, seen[5].1,
                "{what}: training moves the predictions"
            );

            let mut calls = 0;
            let (pred, epochs) = fit(&train_rows, valid.x(), &mut |epoch, _| {
                calls += 1;
                if epoch == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            assert_eq!((epochs, calls), (2, 2), "{what}");
            assert_eq!(pred, seen[1].1, "{what}: stopped at epoch 2");
        };
    let p = MlpParams::new()
        .network(small_net())
        .train(train.clone())
        .check()
        .unwrap();
    check(
        &|d, x, w| {
            let m = p.fit_observed(d, x, w).unwrap();
            (m.predict(x).unwrap(), m.report().epochs_run)
        },
        &|d, x| p.fit(d).unwrap().predict(x).unwrap(),
        &mlp,
        "mlp",
    );
    let p = DeepSurvParams::new()
        .network(small_net())
        .train(train.clone())
        .check()
        .unwrap();
    check(
        &|d, x, w| {
            let m = p.fit_observed(d, x, w).unwrap();
            (m.predict(x).unwrap(), m.report().epochs_run)
        },
        &|d, x| p.fit(d).unwrap().predict(x).unwrap(),
        &ds,
        "deepsurv",
    );
    let p = ZilnParams::new()
        .network(small_net())
        .train(train)
        .check()
        .unwrap();
    check(
        &|d, x, w| {
            let m = p.fit_observed(d, x, w).unwrap();
            (m.predict(x).unwrap(), m.report().epochs_run)
        },
        &|d, x| p.fit(d).unwrap().predict(x).unwrap(),
        &ziln,
        "ziln",
    );
}
