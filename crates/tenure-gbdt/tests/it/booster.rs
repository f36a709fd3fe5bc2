//! The booster end to end: determinism, exact spec parity, objectives,
//! early stopping, persistence and errors.

use proptest::prelude::*;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
use tenure_gbdt::objective::{Labels, Loss};
use tenure_gbdt::{
    Booster, GbdtError, GbdtParams, ImportanceKind, Objective, TrainLabels, TrainSet, train,
};

/// Deterministic pseudo-random numbers in [0, 1).
pub fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / (1u64 << 53) as f64
    }
}

/// `n` rows of `f` features in [-1, 1) with 5% missing in feature 1, and a
/// linear-plus-interaction signal.
pub fn synthetic(n: usize, f: usize, seed: u64) -> (Matrix, Vec<f64>) {
    let mut r = lcg(seed);
    let mut x = Vec::with_capacity(n * f);
    let mut signal = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row: Vec<f64> = (0..f).map(|_| r() * 2.0 - 1.0).collect();
        let s = 1.5 * row[0] - row[1] + row[0] * row[2.min(f - 1)];
        if r() < 0.05 {
            row[1] = f64::NAN;
        }
        signal.push(s);
        x.extend(row);
    }
    (Matrix::new(x, n, f).unwrap(), signal)
}

fn names(f: usize) -> Vec<String> {
    (0..f).map(|j| format!("x{j}")).collect()
}

fn binary_data(n: usize, seed: u64) -> Dataset {
    let (x, s) = synthetic(n, 5, seed);
    let mut r = lcg(seed + 100);
    let y = s
        .iter()
        .map(|v| f64::from(r() < 1.0 / (1.0 + (-2.0 * v).exp())))
        .collect();
    Dataset::new(x, names(5), Target::Binary(y)).unwrap()
}

fn params(f: impl FnOnce(&mut tenure_gbdt::GbdtConfig)) -> tenure_gbdt::GbdtValidParams {
    GbdtParams::new().with(f).check().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Same data, any thread count: the same trees, bit for bit.
    #[test]
    fn trees_do_not_depend_on_the_thread_count(seed in 0u64..1000, threads in 2usize..5) {
        let data = binary_data(3000, seed);
        let fit = |t: usize| {
            params(|c| {
                c.num_iterations = 15;
                c.num_leaves = 15;
                c.feature_fraction = 0.8;
                c.bagging_fraction = 0.7;
                c.bagging_freq = 2;
                c.num_threads = t;
                c.seed = seed;
            })
            .fit(&data)
            .unwrap()
        };
        let (one, many) = (fit(1), fit(threads));
        prop_assert_eq!(one.to_spec(), many.to_spec());
        prop_assert_eq!(one.predict(data.x()).unwrap(), many.predict(data.x()).unwrap());
    }
}

/// Leaves larger than two row blocks take the row-parallel histogram and
/// partition paths: still the same trees with any thread count, in both
/// histogram modes.
#[test]
fn large_leaves_give_the_same_trees_with_any_thread_count() {
    let data = binary_data(2 * tenure_gbdt::hist::BLOCK_ROWS + 5_000, 77);
    for quantized in [false, true] {
        let fit = |t: usize| {
            params(|c| {
                c.num_iterations = 4;
                c.num_leaves = 31;
                c.num_threads = t;
                c.use_quantized_grad = quantized;
            })
            .fit(&data)
            .unwrap()
        };
        let (one, three) = (fit(1), fit(3));
        assert_eq!(one.to_spec(), three.to_spec(), "quantized: {quantized}");
    }
}

#[test]
fn quantized_gradients_keep_accuracy_and_determinism() {
    let train_data = binary_data(20_000, 51);
    let test = binary_data(10_000, 52);
    let Target::Binary(y) = test.target() else {
        unreachable!()
    };
    let fit = |quantized: bool, threads: usize| {
        params(|c| {
            c.num_iterations = 60;
            c.use_quantized_grad = quantized;
            c.num_grad_quant_bins = 16;
            c.num_threads = threads;
        })
        .fit(&train_data)
        .unwrap()
    };
    let exact = fit(false, 2);
    let quant = fit(true, 2);
    let auc = |m: &Booster| tenure_metrics::roc_auc(y, &m.predict(test.x()).unwrap()).unwrap();
    assert!(
        (auc(&exact) - auc(&quant)).abs() < 0.005,
        "{} vs {}",
        auc(&exact),
        auc(&quant)
    );
    // Integer sums do not depend on order: same trees with 1 thread.
    assert_eq!(fit(true, 1).to_spec(), quant.to_spec());
}

#[test]
fn packed_sums_are_exact() {
    use tenure_gbdt::hist::{pack, unpack};
    let values = [(-5, 3u32), (7, 0), (-2, 9), (0, 1)];
    let sum: i64 = values.iter().map(|&(g, h)| pack(g, h)).sum();
    assert_eq!(unpack(sum), (0, 13));
    assert_eq!(unpack(pack(-3, 4) - pack(-5, 3)), (2, 1));
}

#[test]
fn spec_predicts_exactly_what_the_booster_predicts() {
    for objective in [Objective::Binary, Objective::Regression, Objective::Tweedie] {
        let (x, s) = synthetic(4000, 4, 7);
        let y: Vec<f64> = match objective {
            Objective::Binary => s.iter().map(|v| f64::from(*v > 0.0)).collect(),
            Objective::Regression => s.clone(),
            _ => s
                .iter()
                .map(|v| if *v > 0.5 { v.exp() * 10.0 } else { 0.0 })
                .collect(),
        };
        let target = if objective == Objective::Binary {
            Target::Binary(y)
        } else {
            Target::Continuous(y)
        };
        let data = Dataset::new(x, names(4), target).unwrap();
        let model = params(|c| {
            c.objective = objective;
            c.num_iterations = 30;
        })
        .fit(&data)
        .unwrap();
        // Unseen rows, with missing values and extremes.
        let (mut test, _) = synthetic(2000, 4, 99);
        test.set(0, 0, f64::NAN);
        test.set(1, 2, 1e30);
        test.set(2, 3, -1e30);
        let spec = model.to_spec();
        assert_eq!(
            spec.predict(&test).unwrap(),
            model.predict(&test).unwrap(),
            "{objective:?}"
        );
        assert_eq!(spec.link, objective.link());
    }
}

#[test]
fn learns_the_signal_and_generalises() {
    let train_data = binary_data(20_000, 1);
    let test = binary_data(10_000, 2);
    let model = params(|c| c.num_iterations = 100).fit(&train_data).unwrap();
    let p = model.predict(test.x()).unwrap();
    let Target::Binary(y) = test.target() else {
        unreachable!()
    };
    let auc = tenure_metrics::roc_auc(y, &p).unwrap();
    // The Bayes AUC of this signal is about 0.83.
    assert!(auc > 0.8, "test AUC {auc}");
    let gain = model.feature_importance(ImportanceKind::Gain);
    let top = gain.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!(top.0, "x0", "{gain:?}");
    let splits = model.feature_importance(ImportanceKind::Split);
    assert!(splits.iter().all(|(_, v)| v.fract() == 0.0));
}

#[test]
fn l2_with_one_leaf_predicts_the_mean() {
    let x = Matrix::from_rows(&[vec![1.0], vec![1.0], vec![1.0], vec![1.0]]).unwrap();
    let data = Dataset::new(x, names(1), Target::Continuous(vec![1.0, 2.0, 3.0, 10.0])).unwrap();
    let model = params(|c| {
        c.objective = Objective::Regression;
        c.min_data_in_leaf = 1;
    })
    .fit(&data)
    .unwrap();
    assert_eq!(model.base_score(), 4.0);
    assert!(
        model
            .predict(data.x())
            .unwrap()
            .iter()
            .all(|&p| (p - 4.0).abs() < 1e-12)
    );
}

#[test]
fn tweedie_fits_zero_inflated_spend() {
    let (x, s) = synthetic(20_000, 4, 3);
    let mut r = lcg(5);
    let y: Vec<f64> = s
        .iter()
        .map(|v| {
            if r() < 1.0 / (1.0 + (-v).exp()) {
                (v + 4.0) * 20.0 * (0.5 + r())
            } else {
                0.0
            }
        })
        .collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let data = Dataset::new(x, names(4), Target::Continuous(y.clone())).unwrap();
    let model = params(|c| {
        c.objective = Objective::Tweedie;
        c.num_iterations = 100;
    })
    .fit(&data)
    .unwrap();
    let p = model.predict(data.x()).unwrap();
    assert!(p.iter().all(|&v| v > 0.0));
    assert!((model.base_score() - mean.ln()).abs() < 1e-12);
    let dev = tenure_gbdt::metric::tweedie_deviance(&y, &p, 1.5);
    let dev0 = tenure_gbdt::metric::tweedie_deviance(&y, &vec![mean; y.len()], 1.5);
    assert!(dev < 0.8 * dev0, "deviance {dev} vs constant {dev0}");
}

#[test]
fn cox_ranks_hazards() {
    // Exponential times with hazard exp(signal); 30% censored.
    let (x, s) = synthetic(5000, 4, 11);
    let mut r = lcg(12);
    let mut time = Vec::new();
    let mut event = Vec::new();
    for v in &s {
        let t = -(1.0 - r()).ln() / v.exp();
        let c = -(1.0 - r()).ln() / 0.4;
        time.push(t.min(c));
        event.push(t <= c);
    }
    let data = Dataset::new(
        x,
        names(4),
        Target::Survival {
            time: time.clone(),
            event: event.clone(),
        },
    )
    .unwrap();
    let fit = |quantized: bool, threads: usize| {
        params(|c| {
            c.objective = Objective::Cox;
            c.num_iterations = 60;
            c.learning_rate = 0.05;
            c.num_leaves = 7;
            c.use_quantized_grad = quantized;
            c.num_threads = threads;
        })
        .fit(&data)
        .unwrap()
    };
    let cindex = |model: &Booster| {
        let risk = model.predict(data.x()).unwrap();
        tenure_metrics::concordance_index(&time, &event, &risk).unwrap()
    };
    let c = cindex(&fit(false, 2));
    let truth = tenure_metrics::concordance_index(&time, &event, &s).unwrap();
    assert!(c > truth - 0.03, "C {c} vs true hazard's {truth}");
    // The integer Cox gradients (the GPU's), at the 16 levels Cox picks,
    // rank as well, and their sums are exact in any order.
    let quant = fit(true, 2);
    let cq = cindex(&quant);
    assert!((c - cq).abs() < 0.003, "quantised C {cq} vs {c}");
    assert_eq!(fit(true, 1).to_spec(), quant.to_spec());
}

#[test]
fn gradient_levels_are_picked_by_the_objective_unless_set() {
    let levels = |objective: Objective, bins: usize| {
        GbdtParams::new()
            .with(|c| {
                c.objective = objective;
                c.num_grad_quant_bins = bins;
            })
            .check()
            .map(|p| p.grad_quant_bins())
    };
    assert_eq!(levels(Objective::Binary, 0).unwrap(), 4);
    assert_eq!(levels(Objective::Tweedie, 0).unwrap(), 4);
    assert_eq!(levels(Objective::Cox, 0).unwrap(), 16);
    assert_eq!(levels(Objective::Cox, 6).unwrap(), 6);
    let e = levels(Objective::Binary, 1).unwrap_err().to_string();
    assert!(
        e.contains("num_grad_quant_bins") && e.contains("got 1"),
        "{e}"
    );
}

#[test]
fn cox_gradients_match_the_partial_likelihood() {
    // Numerical derivative of the Breslow negative partial log-likelihood.
    let time = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0];
    let event = [true, true, false, true, true, true, false];
    let score = [0.1, -0.3, 0.5, 0.2, -0.1, 0.0, 0.4];
    let nll = |s: &[f64]| -> f64 {
        let mut total = 0.0;
        for i in 0..time.len() {
            if event[i] {
                let r: f64 = (0..time.len())
                    .filter(|&k| time[k] >= time[i])
                    .map(|k| s[k].exp())
                    .sum();
                total -= s[i] - r.ln();
            }
        }
        total
    };
    let loss = Loss {
        objective: Objective::Cox,
        labels: Labels::survival(&time, &event),
        weights: None,
        rho: 1.5,
    };
    let mut gh = vec![[0.0; 2]; time.len()];
    loss.gradients(&score, &mut gh);
    for m in 0..time.len() {
        let h = 1e-6;
        let mut up = score;
        up[m] += h;
        let mut down = score;
        down[m] -= h;
        let numeric = (nll(&up) - nll(&down)) / (2.0 * h);
        assert!(
            (gh[m][0] - numeric).abs() < 1e-6,
            "row {m}: {} vs {numeric}",
            gh[m][0]
        );
        let h2 = 1e-4;
        let (mut up2, mut down2) = (score, score);
        up2[m] += h2;
        down2[m] -= h2;
        let second = (nll(&up2) - 2.0 * nll(&score) + nll(&down2)) / (h2 * h2);
        assert!(
            (gh[m][1] - second).abs() < 1e-3,
            "row {m}: {} vs {second}",
            gh[m][1]
        );
    }
}

#[test]
fn early_stopping_keeps_the_best_round() {
    let train_data = binary_data(5000, 21);
    let valid = binary_data(3000, 22);
    let p = params(|c| {
        c.num_iterations = 500;
        c.learning_rate = 0.3;
        c.num_leaves = 63;
        c.min_data_in_leaf = 5;
        c.early_stopping_round = 10;
        c.metric = "binary_logloss".into();
    });
    let model = p.fit_with_valid(&train_data, &valid).unwrap();
    let best = model.best_iteration.unwrap();
    assert!(best < 500, "overfitting data should stop early");
    assert_eq!(model.num_trees(), best);
    let h = &model.eval_history;
    assert_eq!(h.len(), best + 10);
    let min = h.iter().map(|r| r.value).fold(f64::INFINITY, f64::min);
    assert_eq!(h[best - 1].value, min);
    // The kept model's validation loss is the best one recorded.
    let Target::Binary(y) = valid.target() else {
        unreachable!()
    };
    let ll = tenure_metrics::log_loss(y, &model.predict(valid.x()).unwrap()).unwrap();
    assert!((ll - min).abs() < 1e-12);
}

/// An observer that stops training at round `k` leaves the booster a run
/// of `k` rounds would have trained: the same trees, bit for bit.
#[test]
fn an_observer_stopping_at_round_k_keeps_k_trees() {
    let train_data = binary_data(3000, 41);
    let valid = binary_data(1000, 42);
    let config = |rounds: usize| {
        params(|c| {
            c.num_iterations = rounds;
            c.num_leaves = 15;
            c.feature_fraction = 0.8;
            c.bagging_fraction = 0.7;
            c.bagging_freq = 1;
            c.seed = 7;
        })
    };
    let mut seen = Vec::new();
    let stopped = config(60)
        .fit_with_valid_observed(&train_data, &valid, &mut |r| {
            seen.push(r.iteration);
            if r.iteration == 17 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(seen, (1..=17).collect::<Vec<_>>());
    assert_eq!(stopped.num_trees(), 17);
    assert_eq!(stopped.eval_history.len(), 17);
    let short = config(17).fit(&train_data).unwrap();
    assert_eq!(stopped.to_spec(), short.to_spec());
    assert_eq!(
        stopped.predict(valid.x()).unwrap(),
        short.predict(valid.x()).unwrap()
    );
}

/// With early stopping on, breaking keeps the trees up to the best round
/// seen so far, as early stopping itself does.
#[test]
fn an_observer_stopping_early_stopped_training_keeps_the_best_round() {
    let train_data = binary_data(5000, 21);
    let valid = binary_data(3000, 22);
    let p = params(|c| {
        c.num_iterations = 500;
        c.learning_rate = 0.3;
        c.num_leaves = 63;
        c.min_data_in_leaf = 5;
        c.early_stopping_round = 10;
    });
    let full = p.fit_with_valid(&train_data, &valid).unwrap();
    let best = full.best_iteration.unwrap();
    let stop_at = best + 3;
    let stopped = p
        .fit_with_valid_observed(&train_data, &valid, &mut |r| {
            if r.iteration == stop_at {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(stopped.eval_history.len(), stop_at);
    assert_eq!(stopped.best_iteration, Some(best));
    assert_eq!(stopped.to_spec(), full.to_spec());
}

/// An observer that never stops sees every round's metric and the
/// validation predictions of the trees so far, and changes nothing.
#[test]
fn an_observer_that_continues_sees_every_round_and_changes_nothing() {
    let train_data = binary_data(2000, 51);
    let valid = binary_data(800, 52);
    let p = params(|c| {
        c.num_iterations = 12;
        c.num_leaves = 7;
        c.metric = "binary_logloss".into();
    });
    let mut rounds: Vec<(usize, f64, Vec<f64>)> = Vec::new();
    let observed = p
        .fit_with_valid_observed(&train_data, &valid, &mut |r| {
            rounds.push((r.iteration, r.value, r.valid_pred.to_vec()));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    let plain = p.fit_with_valid(&train_data, &valid).unwrap();
    assert_eq!(observed.to_spec(), plain.to_spec());
    assert_eq!(observed.eval_history, plain.eval_history);
    assert_eq!(rounds.len(), 12);
    let Target::Binary(y) = valid.target() else {
        unreachable!()
    };
    for (k, (iteration, value, pred)) in rounds.iter().enumerate() {
        assert_eq!(*iteration, k + 1);
        assert_eq!(*value, plain.eval_history[k].value);
        let ll = tenure_metrics::log_loss(y, pred).unwrap();
        assert!(
            (ll - value).abs() < 1e-12,
            "round {iteration}: {ll} vs {value}"
        );
    }
    // The last round's predictions are the finished booster's.
    let last = &rounds[11].2;
    let final_pred = plain.predict(valid.x()).unwrap();
    for (a, b) in last.iter().zip(&final_pred) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn saves_and_loads_the_same_model() {
    let data = binary_data(2000, 31);
    let model = params(|c| c.num_iterations = 10).fit(&data).unwrap();
    let dir = tempdir();
    let path = dir.join("model.json");
    model.save(&path).unwrap();
    let back = Booster::load(&path).unwrap();
    assert_eq!(
        back.predict(data.x()).unwrap(),
        model.predict(data.x()).unwrap()
    );
    std::fs::write(&path, b"{not json").unwrap();
    assert!(matches!(Booster::load(&path), Err(GbdtError::Format(_))));
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tenure-gbdt-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bad_parameters_name_the_key() {
    let bad = |f: fn(&mut tenure_gbdt::GbdtConfig), key: &str| {
        let e = GbdtParams::new().with(f).check().unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    };
    bad(|c| c.learning_rate = -0.1, "learning_rate");
    bad(|c| c.num_leaves = 1, "num_leaves");
    bad(|c| c.max_bin = 300, "max_bin");
    bad(|c| c.feature_fraction = 0.0, "feature_fraction");
    let mut p = GbdtParams::new();
    let e = p.set("num_leafs", "3").unwrap_err().to_string();
    assert!(e.contains("num_leafs") && e.contains("num_leaves"), "{e}");
    let e = p.set("num_leaves", "many").unwrap_err().to_string();
    assert!(e.contains("num_leaves") && e.contains("many"), "{e}");
}

#[test]
fn bad_labels_name_the_row() {
    let x = Matrix::from_rows(&[vec![1.0], vec![2.0], vec![3.0]]).unwrap();
    let p = params(|_| {});
    let e = train(
        &p,
        &names(1),
        TrainSet {
            x: &x,
            labels: TrainLabels::Values(&[0.0, 2.0, 1.0]),
            weights: None,
        },
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("row 2") && e.contains("0 or 1"), "{e}");
    let p = params(|c| c.objective = Objective::Cox);
    let e = train(
        &p,
        &names(1),
        TrainSet {
            x: &x,
            labels: TrainLabels::Survival {
                time: &[1.0, 2.0, 3.0],
                event: &[false; 3],
            },
            weights: None,
        },
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("censored"), "{e}");
    for (w, want) in [
        (&[1.0, -0.5, 1.0][..], "row 2"),
        (&[1.0, 1.0, f64::NAN][..], "row 3"),
        (&[1.0, 1.0][..], "2 weights for 3 rows"),
        (&[0.0; 3][..], "every weight is 0"),
    ] {
        let e = train(
            &params(|_| {}),
            &names(1),
            TrainSet {
                x: &x,
                labels: TrainLabels::Values(&[0.0, 1.0, 1.0]),
                weights: Some(w),
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(want) && e.contains("training"), "{e}");
    }
}

#[test]
fn scale_pos_weight_raises_positive_predictions() {
    let data = binary_data(4000, 41);
    let plain = params(|c| c.num_iterations = 20).fit(&data).unwrap();
    let weighted = params(|c| {
        c.num_iterations = 20;
        c.scale_pos_weight = 5.0;
    })
    .fit(&data)
    .unwrap();
    let mean = |m: &Booster| m.predict(data.x()).unwrap().iter().sum::<f64>() / 4000.0;
    assert!(mean(&weighted) > mean(&plain) + 0.1);
}
