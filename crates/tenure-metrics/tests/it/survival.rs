//! Censoring-weighted survival metrics against naive twins, and the
//! calibration table by hand.

use proptest::prelude::*;
use tenure_metrics::{
    CalibrationBin, MetricsError, brier_score, brier_score_at, calibration_at_horizon,
    concordance_index, cumulative_dynamic_auc, integrated_brier_score, uno_concordance,
};

use crate::naive;

/// Training data whose longest follow-up (25) is an event, so the censoring
/// curve stays positive over every test time (1..20); integer times tie
/// often, integer risks too.
fn train_case() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    (1usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec((1u8..20).prop_map(f64::from), n),
            prop::collection::vec(prop::bool::weighted(0.6), n),
        )
            .prop_map(|(mut t, mut e)| {
                t.push(25.0);
                e.push(true);
                (t, e)
            })
    })
}

fn test_case() -> impl Strategy<Value = (Vec<f64>, Vec<bool>, Vec<f64>)> {
    (2usize..50)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((1u8..20).prop_map(f64::from), n),
                prop::collection::vec(prop::bool::weighted(0.6), n),
                prop::collection::vec((-4i8..=4).prop_map(f64::from), n),
            )
        })
        .prop_filter("needs an event", |(_, e, _)| e.contains(&true))
}

proptest! {
    #[test]
    fn uno_concordance_equals_pair_counting(
        (train_t, train_e) in train_case(),
        (time, event, risk) in test_case(),
    ) {
        let got = uno_concordance(&train_t, &train_e, &time, &event, &risk, None);
        match naive::uno_concordance((&train_t, &train_e), &time, &event, &risk) {
            Some(want) => prop_assert!((got.unwrap() - want).abs() < 1e-12),
            None => prop_assert_eq!(got, Err(MetricsError::NoComparablePairs)),
        }
    }

    #[test]
    fn uno_with_uncensored_training_data_is_harrell(
        (time, event, risk) in test_case(),
        extra in prop::collection::vec((1u8..30).prop_map(f64::from), 0..10),
    ) {
        // G = 1 everywhere: all weights are 1.
        let mut train_t = time.clone();
        train_t.extend(extra);
        train_t.push(30.0);
        let train_e = vec![true; train_t.len()];
        let uno = uno_concordance(&train_t, &train_e, &time, &event, &risk, None);
        match concordance_index(&time, &event, &risk) {
            Ok(harrell) => prop_assert!((uno.unwrap() - harrell).abs() < 1e-12),
            Err(e) => prop_assert_eq!(uno, Err(e)),
        }
    }

    #[test]
    fn tau_beyond_follow_up_changes_nothing(
        (train_t, train_e) in train_case(),
        (time, event, risk) in test_case(),
    ) {
        let full = uno_concordance(&train_t, &train_e, &time, &event, &risk, None);
        let truncated = uno_concordance(&train_t, &train_e, &time, &event, &risk, Some(100.0));
        prop_assert_eq!(full, truncated);
    }

    #[test]
    fn dynamic_auc_equals_pair_counting(
        (train_t, train_e) in train_case(),
        (time, event, risk) in test_case(),
        t in 1u8..20,
    ) {
        let t = f64::from(t);
        let min = time.iter().copied().fold(f64::INFINITY, f64::min);
        let max = time.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assume!(t >= min && t < max);
        prop_assume!((0..time.len()).any(|i| event[i] && time[i] <= t));
        let (auc, mean) =
            cumulative_dynamic_auc(&train_t, &train_e, &time, &event, &risk, &[t]).unwrap();
        let want = naive::dynamic_auc((&train_t, &train_e), &time, &event, &risk, t);
        prop_assert!((auc[0] - want).abs() < 1e-12, "fast {} naive {}", auc[0], want);
        prop_assert_eq!(mean, auc[0]);
    }

    #[test]
    fn brier_without_censoring_is_the_classification_brier(
        time in prop::collection::vec((1u8..20).prop_map(f64::from), 3..40),
        probs in prop::collection::vec(0u8..=10, 40),
        t in 1u8..20,
    ) {
        // No censoring in train or test: every weight is 1 and the score is
        // the plain Brier score of "still event-free at t".
        let t = f64::from(t);
        let min = time.iter().copied().fold(f64::INFINITY, f64::min);
        let max = time.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assume!(t >= min && t < max);
        let event = vec![true; time.len()];
        let prob: Vec<f64> = probs[..time.len()].iter().map(|&p| f64::from(p) / 10.0).collect();
        let alive: Vec<f64> = time.iter().map(|&ti| f64::from(u8::from(ti > t))).collect();
        let got = brier_score_at(&time, &event, &time, &event, &prob, t).unwrap();
        prop_assert!((got - brier_score(&alive, &prob).unwrap()).abs() < 1e-12);
    }
}

#[test]
fn integrated_brier_of_a_constant_score_is_that_score() {
    // Uncensored data, survival predicted as 0.5 throughout: every
    // subject's error is 0.25 at every time, so the integral mean is 0.25.
    let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let event = [true; 6];
    let probs = vec![vec![0.5; 6]; 3];
    let ibs = integrated_brier_score(&time, &event, &time, &event, &probs, &[1.5, 3.0, 5.5]);
    assert_eq!(ibs, Ok(0.25));
}

#[test]
fn ipcw_inputs_are_checked() {
    let (tt, te) = ([1.0, 2.0, 5.0], [true, false, true]);
    let (t, e, r) = ([1.0, 3.0, 4.0], [true, true, false], [0.3, 0.2, 0.1]);
    assert_eq!(
        uno_concordance(&tt, &[false; 3], &t, &e, &r, None),
        Err(MetricsError::AllCensored {
            name: "train_event"
        })
    );
    assert_eq!(
        uno_concordance(&tt, &te, &t, &e, &r, Some(1.0)),
        Err(MetricsError::AllCensored {
            name: "test_event before tau"
        })
    );
    // A test event after the last training time has an unknown weight.
    assert_eq!(
        uno_concordance(&tt, &te, &[1.0, 6.0], &[true, true], &[0.1, 0.2], None),
        Err(MetricsError::BeyondCensoringSupport {
            time: 6.0,
            last: 5.0
        })
    );
    // The last training subject censored alone: G drops to 0 there.
    assert_eq!(
        uno_concordance(
            &[1.0, 5.0],
            &[true, false],
            &[1.0, 5.0],
            &[true, true],
            &[0.2, 0.1],
            None
        ),
        Err(MetricsError::ZeroCensoringSurvival { time: 5.0 })
    );
    assert_eq!(
        cumulative_dynamic_auc(&tt, &te, &t, &e, &r, &[4.0]),
        Err(MetricsError::TimeOutsideFollowUp {
            time: 4.0,
            min: 1.0,
            max: 4.0
        })
    );
    assert_eq!(
        cumulative_dynamic_auc(&tt, &te, &t, &e, &r, &[3.0, 2.0]),
        Err(MetricsError::TimesNotIncreasing { index: 1 })
    );
    assert_eq!(
        cumulative_dynamic_auc(&tt, &te, &[2.0, 3.0, 4.0], &[false, true, true], &r, &[2.0]),
        Err(MetricsError::NoCases { time: 2.0 })
    );
    let per_time = vec![r.to_vec()];
    assert!(matches!(
        cumulative_dynamic_auc(&tt, &te, &t, &e, &per_time, &[1.0, 2.0]),
        Err(MetricsError::LengthMismatch {
            left_name: "times",
            right_name: "risk",
            ..
        })
    ));
    assert!(matches!(
        brier_score_at(&tt, &te, &t, &e, &[0.5, 1.5, 0.5], 2.0),
        Err(MetricsError::ProbabilityOutOfRange { index: 1, .. })
    ));
    assert!(matches!(
        integrated_brier_score(&tt, &te, &t, &e, &[vec![0.5; 3]], &[2.0]),
        Err(MetricsError::TooFew {
            needed: 2,
            got: 1,
            ..
        })
    ));
}

#[test]
fn calibration_by_hand() {
    // Sorted by prediction: the low bin holds (t=2 event, t=6 censored,
    // t=8 event) with predictions .1, .2, .3; its Kaplan–Meier curve drops
    // to 2/3 at t=2 and stays there until the horizon 5: observed 1/3.
    // The high bin holds (t=1 censored, t=3 event, t=4 event) with .5, .7,
    // .9: no drop at 1, then 1 − 1/2 at 3 and 0 at 4: observed 1.
    let time = [3.0, 2.0, 8.0, 1.0, 6.0, 4.0];
    let event = [true, true, true, false, false, true];
    let pred = [0.7, 0.1, 0.3, 0.5, 0.2, 0.9];
    let bins = calibration_at_horizon(&time, &event, &pred, 5.0, 2).unwrap();
    assert_eq!(bins.len(), 2);
    assert!((bins[0].mean_predicted - 0.2).abs() < 1e-12);
    assert!((bins[0].observed - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(bins[0].n, 3);
    assert!((bins[1].mean_predicted - 0.7).abs() < 1e-12);
    assert_eq!((bins[1].observed, bins[1].n), (1.0, 3));
}

#[test]
fn calibration_bins_follow_array_split() {
    // 7 subjects in 3 bins: sizes 3, 2, 2. Uncensored, so the observed
    // rate is the share of events by the horizon: bin 1 has times 1, 2, 9
    // (2 of 3 by t=5), bin 2 has 9, 9 (none), bin 3 has 4, 9 (one of two).
    let time = [1.0, 2.0, 9.0, 9.0, 9.0, 4.0, 9.0];
    let pred = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let bins = calibration_at_horizon(&time, &[true; 7], &pred, 5.0, 3).unwrap();
    let observed: Vec<(f64, usize)> = bins.iter().map(|b| (b.observed, b.n)).collect();
    assert!((observed[0].0 - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(&observed[1..], &[(0.0, 2), (0.5, 2)]);
    assert_eq!(observed[0].1, 3);
    // Fewer subjects than bins: one bin each.
    let one_each = calibration_at_horizon(&[1.0, 7.0], &[true, false], &[0.9, 0.1], 5.0, 10);
    assert_eq!(
        one_each.unwrap(),
        vec![
            CalibrationBin {
                mean_predicted: 0.1,
                observed: 0.0,
                n: 1
            },
            CalibrationBin {
                mean_predicted: 0.9,
                observed: 1.0,
                n: 1
            },
        ]
    );
    assert!(matches!(
        calibration_at_horizon(&[1.0], &[true], &[0.5], 5.0, 0),
        Err(MetricsError::TooFew { what: "bins", .. })
    ));
}

#[test]
fn calibration_carries_the_curve_past_the_last_follow_up() {
    // Everyone censored before the horizon: nothing observed, rate 0;
    // one event at 2 of 2 at risk, then censoring at 3: rate 1/2 at 10.
    let bins = calibration_at_horizon(&[1.0, 2.0, 3.0], &[false, true, false], &[0.5; 3], 10.0, 1);
    assert_eq!(bins.unwrap()[0].observed, 0.5);
    let bins = calibration_at_horizon(&[1.0, 2.0], &[false, false], &[0.5; 2], 10.0, 1);
    assert_eq!(bins.unwrap()[0].observed, 0.0);
}
