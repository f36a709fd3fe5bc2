//! Profit curves, thresholds and top-k% precision, by hand.

use tenure_calibration::{Costs, best_threshold, profit_at, profit_curve, top_k};

#[test]
fn profit_curve_by_hand() {
    // Sorted by prediction: 0.9 (churn), 0.7 (stays), 0.7 (churn), 0.4
    // (churn), 0.2 (stays), 0.1 (stays).
    let p = [0.1, 0.7, 0.9, 0.4, 0.7, 0.2];
    let y = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let costs = Costs::new(10.0, 50.0).unwrap();
    let curve = profit_curve(&p, &y, costs).unwrap();
    let got: Vec<(f64, usize, usize, usize, f64)> = curve
        .iter()
        .map(|c| {
            (
                c.threshold,
                c.targeted,
                c.true_positives,
                c.false_positives,
                c.profit,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0.9, 1, 1, 0, 50.0),
            (0.7, 3, 2, 1, 90.0),
            (0.4, 4, 3, 1, 140.0),
            (0.2, 5, 3, 2, 130.0),
            (0.1, 6, 3, 3, 120.0),
        ]
    );
    let best = best_threshold(&curve).unwrap();
    assert_eq!((best.threshold, best.profit), (0.4, 140.0));
    assert!((best.fraction - 4.0 / 6.0).abs() < 1e-15);
    assert_eq!(profit_at(&p, &y, costs, 0.4).unwrap(), best);
    assert_eq!(profit_at(&p, &y, costs, 0.95).unwrap().profit, 0.0);
    // 10 / (10 + 50): target when the churn probability exceeds 1/6.
    assert!((costs.bayes_threshold() - 1.0 / 6.0).abs() < 1e-15);
}

#[test]
fn no_threshold_pays_when_offers_cost_more_than_they_save() {
    let p = [0.9, 0.5, 0.1];
    let y = [0.0, 1.0, 0.0];
    let curve = profit_curve(&p, &y, Costs::new(100.0, 1.0).unwrap()).unwrap();
    assert!(curve.iter().all(|c| c.profit < 0.0));
    assert_eq!(best_threshold(&curve), None);
}

#[test]
fn top_k_by_hand() {
    // Ten customers, four churners; by prediction the order is
    // c0(1) c1(0) c2(1) c3(1) c4(0) ... c9(0), ties in row order.
    let p = [0.95, 0.9, 0.9, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
    let y = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let rows = top_k(&p, &y, &[10.0, 25.0, 50.0, 100.0]).unwrap();
    let got: Vec<(usize, f64, f64)> = rows
        .iter()
        .map(|r| (r.targeted, r.precision, r.recall))
        .collect();
    assert_eq!(
        got,
        [
            (1, 1.0, 0.25),
            (3, 2.0 / 3.0, 0.5),
            (5, 0.6, 0.75),
            (10, 0.4, 1.0)
        ]
    );
    assert!((rows[0].lift - 2.5).abs() < 1e-15);
}
