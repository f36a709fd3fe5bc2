//! Kaplan–Meier: a textbook example by hand, and properties of the curve.

use proptest::prelude::*;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, PredictSurvival, Target};
use tenure_stats::{KaplanMeier, KaplanMeierParams, log_rank_test};

use crate::common::assert_close;

fn fit(time: &[f64], event: &[bool], horizon: f64) -> KaplanMeier {
    let target = Target::Survival {
        time: time.to_vec(),
        event: event.to_vec(),
    };
    let data = Dataset::new(Matrix::zeros(time.len(), 0), vec![], target).unwrap();
    KaplanMeierParams::new(horizon)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap()
}

/// Freireich et al. (1963), 6-MP arm: the example of most survival textbooks
/// (e.g. Kleinbaum & Klein, ch. 2). Times in weeks, `false` = censored.
#[test]
fn textbook_six_mp_arm() {
    let time = [
        6.0, 6.0, 6.0, 6.0, 7.0, 9.0, 10.0, 10.0, 11.0, 13.0, 16.0, 17.0, 19.0, 20.0, 22.0, 23.0,
        25.0, 32.0, 32.0, 34.0, 35.0,
    ];
    let event = [
        true, true, true, false, true, false, true, false, false, true, true, false, false, false,
        true, true, false, false, false, false, false,
    ];
    let km = fit(&time, &event, 12.0);
    assert_eq!(km.times(), [6.0, 7.0, 10.0, 13.0, 16.0, 22.0, 23.0]);
    assert_eq!(km.at_risk(), [21.0, 17.0, 15.0, 12.0, 11.0, 7.0, 6.0]);
    assert_eq!(km.events(), [3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    // Products of (n - d) / n, by hand.
    let by_hand = [
        18.0 / 21.0,
        18.0 / 21.0 * 16.0 / 17.0,
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0,
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0 * 11.0 / 12.0,
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0 * 11.0 / 12.0 * 10.0 / 11.0,
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0 * 11.0 / 12.0 * 10.0 / 11.0 * 6.0 / 7.0,
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0 * 11.0 / 12.0 * 10.0 / 11.0 * 6.0 / 7.0 * 5.0 / 6.0,
    ];
    for (got, want) in km.survival().iter().zip(by_hand) {
        assert_close("S", *got, want, 1e-15);
    }
    // The rounded values printed in textbooks.
    for (t, printed) in [(6.0, 0.857), (7.0, 0.807), (10.0, 0.753), (13.0, 0.690)] {
        assert!((km.survival_at(t) - printed).abs() < 5e-4, "S({t})");
    }
    assert_eq!(km.survival_at(5.99), 1.0);
    assert_eq!(km.survival_at(9.5), km.survival_at(7.0));
    assert_eq!(km.survival_at(1e9), km.survival()[6]);
    assert_eq!(km.median(), Some(23.0));
    // The risk score is read at the horizon (12 weeks) for every row.
    assert_close("risk", km.risk(), 1.0 - by_hand[2], 1e-15);
    let pred = km.predict(&Matrix::zeros(4, 0)).unwrap();
    assert_eq!(pred, vec![km.risk(); 4]);
}

#[test]
fn greenwood_variance_and_interval_by_hand() {
    // Three events among five, no ties: S = 4/5, 4/5 · 2/3 (the 2nd exit censored).
    let km = fit(
        &[1.0, 2.0, 3.0, 4.0, 5.0],
        &[true, false, true, false, true],
        3.0,
    );
    assert_eq!(km.times(), [1.0, 3.0, 5.0]);
    let c1 = 1.0 / (5.0 * 4.0);
    let c2 = c1 + 1.0 / (3.0 * 2.0);
    let var = km.greenwood_variance();
    assert_close("var 1", var[0], 0.8 * 0.8 * c1, 1e-15);
    assert_close("var 2", var[1], (0.8f64 * 2.0 / 3.0).powi(2) * c2, 1e-15);
    // Everyone left dies at the last time: S = 0, whose interval is {0}.
    let ci = km.confidence_interval(0.05).unwrap();
    assert_eq!(ci[2], (0.0, 0.0));
    let z = 1.959_963_984_540_054;
    let (s, v) = (0.8f64, 0.8f64.ln());
    let lower = (-((-v).ln() - z * c1.sqrt() / v).exp()).exp();
    assert_close("lower", ci[0].0, lower, 1e-12);
    assert!(ci[0].0 < s && s < ci[0].1);
    let narrow = km.confidence_interval(0.5).unwrap();
    assert!(narrow[1].0 > ci[1].0 && narrow[1].1 < ci[1].1);
    assert!(km.confidence_interval(0.0).is_err());
}

#[test]
fn log_rank_separates_different_curves_and_not_identical_ones() {
    let time: Vec<f64> = (1..=20).map(f64::from).collect();
    let event = vec![true; 20];
    // Group 0 ends early, group 1 late: a large statistic.
    let groups: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
    let far = log_rank_test(&time, &event, &groups).unwrap();
    assert_eq!(far.df, 1);
    assert!(far.statistic > 10.0 && far.p_value < 0.01);
    // Interleaved groups: nearly the same curve.
    let groups: Vec<usize> = (0..20).map(|i| i % 2).collect();
    let near = log_rank_test(&time, &event, &groups).unwrap();
    assert!(near.statistic < 1.0 && near.p_value > 0.3);
    // Labels need not be contiguous; relabelling changes nothing.
    let relabelled: Vec<usize> = groups.iter().map(|g| g * 7 + 3).collect();
    assert_eq!(log_rank_test(&time, &event, &relabelled).unwrap(), near);
    assert!(log_rank_test(&time, &event, &[0; 20]).is_err());
    assert!(log_rank_test(&time, &event[..3], &groups).is_err());
}

#[test]
fn median_is_none_while_the_curve_stays_above_one_half() {
    let km = fit(&[1.0, 2.0, 3.0, 4.0], &[true, false, false, false], 2.0);
    assert_eq!(km.median(), None);
    // Exactly one half after 3/4 · 2/3 counts as reaching it.
    let km = fit(&[1.0, 2.0, 3.0, 4.0], &[true, true, false, false], 2.0);
    assert_eq!(km.median(), Some(2.0));
}

#[test]
fn no_events_means_no_risk() {
    let km = fit(&[3.0, 8.0], &[false, false], 5.0);
    assert!(km.times().is_empty());
    assert_eq!(km.survival_at(100.0), 1.0);
    assert_eq!(km.risk(), 0.0);
}

#[test]
fn uniform_weights_do_not_change_the_curve() {
    let time = [2.0, 3.0, 3.0, 5.0, 8.0, 8.0, 9.0];
    let event = [true, false, true, true, true, false, true];
    let plain = fit(&time, &event, 4.0);
    let target = Target::Survival {
        time: time.to_vec(),
        event: event.to_vec(),
    };
    let data = Dataset::new(Matrix::zeros(7, 0), vec![], target)
        .unwrap()
        .with_weights(vec![2.5; 7])
        .unwrap();
    let weighted = KaplanMeierParams::new(4.0)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    assert_eq!(weighted.times(), plain.times());
    for (a, b) in weighted.survival().iter().zip(plain.survival()) {
        assert_close("S", *a, *b, 1e-15);
    }
}

fn survival_data() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    (1usize..60).prop_flat_map(|n| {
        (
            prop::collection::vec((0u16..40).prop_map(f64::from), n),
            prop::collection::vec(prop::bool::weighted(0.7), n),
        )
    })
}

proptest! {
    #[test]
    fn survival_is_non_increasing_within_the_unit_interval((time, event) in survival_data()) {
        let km = fit(&time, &event, 10.0);
        let mut last = 1.0;
        for t in (0..=45).map(f64::from) {
            let s = km.survival_at(t);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!(s <= last);
            last = s;
        }
        prop_assert!(km.times().windows(2).all(|w| w[0] < w[1]));
        prop_assert!(km.at_risk().windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn without_censoring_survival_is_one_minus_the_empirical_cdf(
        time in prop::collection::vec((0u16..40).prop_map(f64::from), 1..60)
    ) {
        let km = fit(&time, &vec![true; time.len()], 10.0);
        let n = time.len() as f64;
        for t in (0..=45).map(|k| f64::from(k) - 0.5).chain((0..=45).map(f64::from)) {
            let ecdf = time.iter().filter(|&&ti| ti <= t).count() as f64 / n;
            prop_assert!((km.survival_at(t) - (1.0 - ecdf)).abs() < 1e-12);
        }
    }
}

#[test]
fn predict_survival_is_the_curve_for_every_row() {
    let km = fit(
        &[1.0, 2.0, 2.0, 4.0, 5.0],
        &[true, true, false, true, false],
        3.0,
    );
    let x = Matrix::zeros(3, 0);
    let s = km.predict_survival(&x, &[0.5, 2.0, 4.5]).unwrap();
    // S(0.5) = 1; S(2) = 4/5 * 3/4; S(4.5) = that * 1/2.
    for (column, want) in s.iter().zip([1.0, 0.6, 0.3]) {
        assert_eq!(column.len(), 3);
        assert!(
            column.iter().all(|&v| (v - want).abs() < 1e-15),
            "{column:?}"
        );
    }
    assert!(km.predict_survival(&Matrix::zeros(3, 2), &[1.0]).is_err());
}
