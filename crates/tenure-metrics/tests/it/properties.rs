//! Fast metrics against their naive twins on random inputs; scores are drawn
//! from a few values so that ties are common.

use proptest::prelude::*;
use tenure_metrics::{
    average_precision, concordance_index, log_loss, mae, rmse, roc_auc, roc_curve,
};

use crate::naive;

/// Labels with both classes present, and tie-heavy scores in [0, 1].
fn binary_case() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..80)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(prop::bool::ANY, n),
                prop::collection::vec(0u8..=10, n),
            )
        })
        .prop_filter("needs both classes", |(y, _)| {
            y.iter().any(|&b| b) && y.iter().any(|&b| !b)
        })
        .prop_map(|(y, s)| {
            (
                y.into_iter().map(|b| f64::from(u8::from(b))).collect(),
                s.into_iter().map(|k| f64::from(k) / 10.0).collect(),
            )
        })
}

fn survival_case() -> impl Strategy<Value = (Vec<f64>, Vec<bool>, Vec<f64>)> {
    (1usize..80).prop_flat_map(|n| {
        (
            prop::collection::vec((1u8..20).prop_map(f64::from), n),
            prop::collection::vec(prop::bool::weighted(0.6), n),
            prop::collection::vec((-4i8..=4).prop_map(f64::from), n),
        )
    })
}

proptest! {
    #[test]
    fn roc_auc_equals_pair_counting((y, s) in binary_case()) {
        let fast = roc_auc(&y, &s).unwrap();
        prop_assert!((fast - naive::roc_auc(&y, &s)).abs() < 1e-12);
    }

    #[test]
    fn roc_auc_is_the_area_under_roc_curve((y, s) in binary_case()) {
        let c = roc_curve(&y, &s).unwrap();
        let area: f64 = (1..c.fpr.len())
            .map(|k| (c.fpr[k] - c.fpr[k - 1]) * (c.tpr[k] + c.tpr[k - 1]) / 2.0)
            .sum();
        prop_assert!((area - roc_auc(&y, &s).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn roc_curve_equals_thresholding((y, s) in binary_case()) {
        let c = roc_curve(&y, &s).unwrap();
        let thresholds = naive::roc_thresholds(&s);
        prop_assert_eq!(c.thresholds.len(), thresholds.len() + 1);
        prop_assert_eq!((c.fpr[0], c.tpr[0]), (0.0, 0.0));
        prop_assert_eq!(c.thresholds[0], f64::INFINITY);
        for (k, &t) in thresholds.iter().enumerate() {
            prop_assert_eq!(c.thresholds[k + 1], t);
            let (fpr, tpr) = naive::roc_point(&y, &s, t);
            prop_assert!((c.fpr[k + 1] - fpr).abs() < 1e-12);
            prop_assert!((c.tpr[k + 1] - tpr).abs() < 1e-12);
        }
        prop_assert_eq!((*c.fpr.last().unwrap(), *c.tpr.last().unwrap()), (1.0, 1.0));
    }

    #[test]
    fn average_precision_equals_threshold_sum((y, s) in binary_case()) {
        let fast = average_precision(&y, &s).unwrap();
        prop_assert!((fast - naive::average_precision(&y, &s)).abs() < 1e-12);
        prop_assert!(fast > 0.0 && fast <= 1.0);
    }

    #[test]
    fn roc_auc_flips_with_the_score((y, s) in binary_case()) {
        let negated: Vec<f64> = s.iter().map(|v| -v).collect();
        let sum = roc_auc(&y, &s).unwrap() + roc_auc(&y, &negated).unwrap();
        prop_assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn log_loss_is_non_negative_and_zero_only_when_certain((y, s) in binary_case()) {
        prop_assert!(log_loss(&y, &s).unwrap() >= 0.0);
        prop_assert!(log_loss(&y, &y).unwrap() < 1e-12);
    }

    #[test]
    fn rmse_bounds_mae(
        pairs in prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 1..50)
    ) {
        let (y, p): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let (r, m) = (rmse(&y, &p).unwrap(), mae(&y, &p).unwrap());
        prop_assert!(r + 1e-9 >= m && m >= 0.0);
    }

    #[test]
    fn concordance_index_equals_pair_counting((time, event, risk) in survival_case()) {
        match naive::concordance_index(&time, &event, &risk) {
            Some(want) => {
                let got = concordance_index(&time, &event, &risk).unwrap();
                prop_assert!((got - want).abs() < 1e-12, "fast {} naive {}", got, want);
            }
            None => prop_assert!(concordance_index(&time, &event, &risk).is_err()),
        }
    }

    #[test]
    fn concordance_index_without_censoring_or_ties_is_auc_like(
        risk in prop::collection::vec(-100i32..100, 2..60)
    ) {
        // With distinct times and risk = -time every pair is concordant.
        let time: Vec<f64> = (0..risk.len()).map(|i| i as f64).collect();
        let perfect: Vec<f64> = time.iter().map(|t| -t).collect();
        let event = vec![true; time.len()];
        prop_assert_eq!(concordance_index(&time, &event, &perfect).unwrap(), 1.0);
        let risk: Vec<f64> = risk.into_iter().map(f64::from).collect();
        let negated: Vec<f64> = risk.iter().map(|r| -r).collect();
        let sum = concordance_index(&time, &event, &risk).unwrap()
            + concordance_index(&time, &event, &negated).unwrap();
        prop_assert!((sum - 1.0).abs() < 1e-12);
    }
}
