//! CLV metrics: hand-worked examples and properties.

use proptest::prelude::*;
use tenure_metrics::{
    DecileRow, MetricsError, decile_chart, decile_mape, normalized_gini, roc_auc, spearman,
    top_decile_lift, zero_spend_auc,
};

use crate::naive;

#[track_caller]
fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
}

#[test]
fn normalized_gini_by_hand() {
    // By decreasing prediction the spends are 25, 10, 0, 5, 0 (total 40):
    // Lorenz heights L = .625, .875, .875, 1, 1, sum 4.375, and with the
    // trapezoidal rule Gini = (2 ΣL − 1 − n) / n = (8.75 − 6) / 5 = 0.55.
    // The perfect order 25, 10, 5, 0, 0 has ΣL = 4.5: Gini (9 − 6) / 5 = 0.6.
    // Normalized: 0.55 / 0.6 = 11/12 (Kaggle's formula gives 0.275 / 0.3).
    let actual = [0.0, 10.0, 5.0, 0.0, 25.0];
    let pred = [1.0, 4.0, 2.0, 3.0, 5.0];
    assert_close(normalized_gini(&actual, &pred).unwrap(), 11.0 / 12.0);
    assert_close(naive::kaggle_normalized_gini(&actual, &pred), 11.0 / 12.0);
}

#[test]
fn normalized_gini_averages_over_tied_predictions() {
    // Customers 0 and 1 tie at the top (spends 10 and 0), then 30, then 0;
    // total 40. The two orders of the tie give ΣL = .25+.25+1+1 = 2.5 and
    // 0+.25+1+1 = 2.25, i.e. Gini (5 − 5)/4 = 0 and (4.5 − 5)/4 = −0.125:
    // mean −0.0625. Perfect order 30, 10, 0, 0: ΣL = .75+1+1+1 = 3.75, Gini
    // (7.5 − 5)/4 = 0.625. Normalized: −0.0625 / 0.625 = −0.1.
    let actual = [10.0, 0.0, 30.0, 0.0];
    let pred = [2.0, 2.0, 1.0, 0.0];
    assert_close(normalized_gini(&actual, &pred).unwrap(), -0.1);
    // Row order does not matter.
    let swapped = normalized_gini(&[0.0, 10.0, 30.0, 0.0], &pred).unwrap();
    assert_close(swapped, -0.1);
    // A constant prediction is one block: Lorenz curve = diagonal.
    assert_eq!(normalized_gini(&actual, &[7.0; 4]).unwrap(), 0.0);
}

#[test]
fn spearman_by_hand() {
    // Ranks of actual [1, 2, 2, 5]: 1, 2.5, 2.5, 4; of pred: 1, 3, 2, 4.
    // Around the mean rank 2.5: Σ da·dp = 2.25 + 0 + 0 + 2.25 = 4.5,
    // Σ da² = 4.5, Σ dp² = 5, so ρ = 4.5 / √22.5 = 3 / √10.
    let rho = spearman(&[1.0, 2.0, 2.0, 5.0], &[10.0, 30.0, 20.0, 40.0]).unwrap();
    assert_close(rho, 3.0 / 10f64.sqrt());
    assert_eq!(
        spearman(&[1.0, 2.0], &[3.0, 3.0]),
        Err(MetricsError::Constant {
            metric: "spearman",
            name: "pred"
        })
    );
}

#[test]
fn top_decile_lift_by_hand() {
    // 20 customers in prediction order; the top 10% (2 customers) spend
    // 50 + 30 of 100: share 0.8, lift 0.8 / 0.1 = 8.
    let mut actual = vec![50.0, 30.0, 10.0, 5.0, 5.0];
    actual.resize(20, 0.0);
    let pred: Vec<f64> = (0..20).map(|k| f64::from(20 - k)).collect();
    assert_close(top_decile_lift(&actual, &pred).unwrap(), 8.0);
    // With 15 customers the top 10% is 1.5 customers: 50 + 30 / 2 = 65 of
    // 100, lift 6.5.
    assert_close(top_decile_lift(&actual[..15], &pred[..15]).unwrap(), 6.5);
    // Ties straddling the cut count with their average spend: a constant
    // prediction captures 10% of the spend.
    assert_close(top_decile_lift(&actual, &[1.0; 20]).unwrap(), 1.0);
}

#[test]
fn decile_chart_and_mape_by_hand() {
    // 12 customers, pred 1..=12 and actual = pred + 1. Deciles 1 and 2 get
    // two customers (pred 1, 2 and 3, 4), the others one.
    let pred: Vec<f64> = (1..=12).map(f64::from).collect();
    let actual: Vec<f64> = pred.iter().map(|p| p + 1.0).collect();
    let chart = decile_chart(&actual, &pred).unwrap();
    assert_eq!(chart.len(), 10);
    assert_eq!(
        chart[0],
        DecileRow {
            decile: 1,
            mean_predicted: 1.5,
            mean_actual: 2.5,
            n: 2
        }
    );
    assert_eq!(
        chart[9],
        DecileRow {
            decile: 10,
            mean_predicted: 12.0,
            mean_actual: 13.0,
            n: 1
        }
    );
    // Each decile is off by exactly 1: MAPE = mean of 1 / mean_actual =
    // (1/2.5 + 1/4.5 + 1/6 + 1/7 + ... + 1/13) / 10.
    let want = (1.0 / 2.5 + 1.0 / 4.5 + (6..=13).map(|a| 1.0 / f64::from(a)).sum::<f64>()) / 10.0;
    assert_close(decile_mape(&actual, &pred).unwrap(), want);
    // A decile that spends nothing makes the percentage error undefined.
    let mut zeros = actual.clone();
    zeros[..2].fill(0.0);
    assert_eq!(
        decile_mape(&zeros, &pred),
        Err(MetricsError::ZeroDecileMean { decile: 1 })
    );
    assert!(matches!(
        decile_chart(&actual[..9], &pred[..9]),
        Err(MetricsError::TooFew {
            needed: 10,
            got: 9,
            ..
        })
    ));
}

#[test]
fn zero_spend_auc_by_hand() {
    // Spenders score 0.4 and 0.9, non-spenders 0.1 and 0.5: 3 of the 4
    // (spender, non-spender) pairs are ordered right.
    let auc = zero_spend_auc(&[0.0, 0.0, 3.0, 8.0], &[0.1, 0.5, 0.4, 0.9]).unwrap();
    assert_eq!(auc, 0.75);
    assert_eq!(
        zero_spend_auc(&[1.0, 2.0], &[0.1, 0.5]),
        Err(MetricsError::SingleClass {
            metric: "zero_spend_auc",
            class: 1.0
        })
    );
}

#[test]
fn spend_must_be_non_negative_with_a_positive_total() {
    assert_eq!(
        normalized_gini(&[1.0, -2.0], &[0.0, 1.0]),
        Err(MetricsError::Negative {
            name: "actual",
            index: 1,
            value: -2.0
        })
    );
    assert_eq!(
        top_decile_lift(&[0.0, 0.0], &[0.0, 1.0]),
        Err(MetricsError::ZeroTotal {
            metric: "top_decile_lift"
        })
    );
    assert_eq!(
        normalized_gini(&[3.0, 3.0], &[0.0, 1.0]),
        Err(MetricsError::Constant {
            metric: "normalized_gini",
            name: "actual"
        })
    );
}

#[test]
fn random_prediction_has_lift_one_on_large_data() {
    // splitmix64: a fixed, dependency-free stream of uniforms.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = 100_000;
    // Zero-inflated exponential spend, independent of the prediction.
    let actual: Vec<f64> = (0..n)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            if u < 0.6 {
                0.0
            } else {
                -(1.0 - v).ln() * 100.0
            }
        })
        .collect();
    let pred: Vec<f64> = (0..n).map(|_| uniform()).collect();
    let lift = top_decile_lift(&actual, &pred).unwrap();
    assert!((lift - 1.0).abs() < 0.05, "lift {lift}");
    assert!(normalized_gini(&actual, &pred).unwrap().abs() < 0.03);
    assert!(spearman(&actual, &pred).unwrap().abs() < 0.02);
    // The perfect prediction captures the biggest spenders.
    assert!(top_decile_lift(&actual, &actual).unwrap() > 3.0);
}

/// Non-negative spends with ties and zeros, not all equal.
fn spend_case() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..60)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((0u8..6).prop_map(|k| f64::from(k) * 10.0), n),
                prop::collection::vec((-5i8..5).prop_map(f64::from), n),
            )
        })
        .prop_filter("spend must vary", |(a, _)| a.iter().any(|&v| v != a[0]))
}

proptest! {
    #[test]
    fn gini_of_perfect_ordering_is_one_and_of_reversed_minus_one((actual, _) in spend_case()) {
        prop_assert_eq!(normalized_gini(&actual, &actual).unwrap(), 1.0);
        let reversed: Vec<f64> = actual.iter().map(|a| -a).collect();
        prop_assert!((normalized_gini(&actual, &reversed).unwrap() + 1.0).abs() < 1e-12);
        // Any increasing transform ranks the same.
        let transformed: Vec<f64> = actual.iter().map(|a| (a / 7.0).exp() - 3.0).collect();
        prop_assert_eq!(normalized_gini(&actual, &transformed).unwrap(), 1.0);
    }

    #[test]
    fn gini_without_ties_is_kaggles(
        (actual, _) in spend_case(),
        seed in any::<u64>(),
    ) {
        // Distinct predictions: a seeded permutation of 0..n.
        let n = actual.len();
        let mut pred: Vec<f64> = (0..n).map(|k| k as f64).collect();
        let mut s = seed;
        for k in (1..n).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            pred.swap(k, (s >> 33) as usize % (k + 1));
        }
        let got = normalized_gini(&actual, &pred).unwrap();
        prop_assert!((got - naive::kaggle_normalized_gini(&actual, &pred)).abs() < 1e-12);
        prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&got));
    }

    #[test]
    fn gini_ignores_row_order((actual, pred) in spend_case(), shift in 0usize..60) {
        let k = shift % actual.len();
        let (mut a2, mut p2) = (actual.clone(), pred.clone());
        a2.rotate_left(k);
        p2.rotate_left(k);
        let (g1, g2) = (normalized_gini(&actual, &pred).unwrap(), normalized_gini(&a2, &p2).unwrap());
        prop_assert!((g1 - g2).abs() < 1e-12);
        let (l1, l2) = (top_decile_lift(&actual, &pred).unwrap(), top_decile_lift(&a2, &p2).unwrap());
        prop_assert!((l1 - l2).abs() < 1e-12);
    }

    #[test]
    fn spearman_equals_naive_and_is_bounded((actual, pred) in spend_case()) {
        prop_assume!(pred.iter().any(|&p| p != pred[0]));
        let rho = spearman(&actual, &pred).unwrap();
        prop_assert!((-1.0..=1.0).contains(&rho));
        prop_assert!((rho - naive::spearman(&actual, &pred)).abs() < 1e-12);
        prop_assert!((rho - spearman(&pred, &actual).unwrap()).abs() < 1e-15);
        // 1 for any increasing transform, -1 for a decreasing one.
        let up: Vec<f64> = actual.iter().map(|a| a.powi(3) + 2.0).collect();
        prop_assert_eq!(spearman(&actual, &up).unwrap(), 1.0);
        let down: Vec<f64> = actual.iter().map(|a| (-a).exp()).collect();
        prop_assert!((spearman(&actual, &down).unwrap() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn top_decile_lift_is_bounded((actual, pred) in spend_case()) {
        let lift = top_decile_lift(&actual, &pred).unwrap();
        prop_assert!((-1e-12..=10.0 + 1e-9).contains(&lift));
        // No ordering captures more than the perfect one.
        prop_assert!(lift <= top_decile_lift(&actual, &actual).unwrap() + 1e-12);
    }

    #[test]
    fn decile_chart_partitions_the_customers(
        pairs in prop::collection::vec((0u8..50, -20i8..20), 10..120)
    ) {
        let actual: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
        let pred: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
        let chart = decile_chart(&actual, &pred).unwrap();
        prop_assert_eq!(chart.len(), 10);
        let n = actual.len();
        prop_assert_eq!(chart.iter().map(|r| r.n).sum::<usize>(), n);
        for (k, row) in chart.iter().enumerate() {
            prop_assert_eq!(row.decile, k + 1);
            prop_assert!(row.n == n / 10 || row.n == n / 10 + 1);
        }
        for w in chart.windows(2) {
            prop_assert!(w[0].mean_predicted <= w[1].mean_predicted);
        }
        // The deciles' total spend is the total spend.
        let total: f64 = chart.iter().map(|r| r.mean_actual * r.n as f64).sum();
        prop_assert!((total - actual.iter().sum::<f64>()).abs() < 1e-9);
        // A prediction equal to the spend is calibrated in every decile.
        if actual.iter().all(|&a| a > 0.0) {
            prop_assert!(decile_mape(&actual, &actual).unwrap() < 1e-12);
        }
    }

    #[test]
    fn zero_spend_auc_is_roc_auc_of_spending((actual, pred) in spend_case()) {
        let labels: Vec<f64> = actual.iter().map(|&a| f64::from(u8::from(a > 0.0))).collect();
        prop_assume!(labels.contains(&0.0) && labels.contains(&1.0));
        prop_assert_eq!(zero_spend_auc(&actual, &pred).unwrap(), roc_auc(&labels, &pred).unwrap());
    }
}
