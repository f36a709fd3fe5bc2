//! The losses against naive implementations, a Cox fit and hand computation.

use proptest::prelude::*;
use tenure_core::{Fit, ParamGuard, Predict, Target};
use tenure_neural::{
    CoxTies, Device, binary_cross_entropy, cox_negative_log_likelihood, ziln_loss,
};
use tenure_stats::{CoxParams, Ties};

use crate::common::ph_data;

/// The Cox partial log-likelihood straight from its definition: for every
/// distinct event time, its `d` events against the risk set of all rows
/// still under observation; Efron removes `l/d` of the tied events' risk
/// for the `l`-th of them.
fn naive_partial_ll(eta: &[f64], time: &[f64], event: &[bool], ties: CoxTies) -> f64 {
    let mut times: Vec<f64> = (0..time.len())
        .filter(|&i| event[i])
        .map(|i| time[i])
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut ll = 0.0;
    for t in times {
        let tied: Vec<usize> = (0..time.len())
            .filter(|&i| event[i] && time[i] == t)
            .collect();
        let risk: f64 = (0..time.len())
            .filter(|&j| time[j] >= t)
            .map(|j| eta[j].exp())
            .sum();
        let tied_risk: f64 = tied.iter().map(|&j| eta[j].exp()).sum();
        let d = tied.len() as f64;
        for (l, &i) in tied.iter().enumerate() {
            let denom = match ties {
                CoxTies::Breslow => risk,
                CoxTies::Efron => risk - l as f64 / d * tied_risk,
            };
            ll += eta[i] - denom.ln();
        }
    }
    ll
}

#[test]
fn cox_loss_matches_the_naive_partial_likelihood_with_ties() {
    let device = Device::flex();
    // Hand-made ties: two events at 5 with a censoring at 5, three at 2.
    let time = [5.0, 3.0, 5.0, 2.0, 2.0, 7.0, 2.0, 5.0, 1.0, 9.0];
    let event = [
        true, false, true, true, true, false, true, false, true, true,
    ];
    let eta = [0.3, -1.2, 0.8, 0.1, -0.4, 2.0, 0.05, -0.7, 1.1, -0.2];
    for ties in [CoxTies::Breslow, CoxTies::Efron] {
        let ours = cox_negative_log_likelihood(&eta, &time, &event, ties, &device);
        let naive = -naive_partial_ll(&eta, &time, &event, ties);
        assert!(
            (ours - naive).abs() < 1e-5 * naive.abs().max(1.0),
            "{ties:?}: {ours} vs {naive}"
        );
    }
    // With ties, the two methods differ.
    let b = -naive_partial_ll(&eta, &time, &event, CoxTies::Breslow);
    let e = -naive_partial_ll(&eta, &time, &event, CoxTies::Efron);
    assert!((b - e).abs() > 0.1, "{b} vs {e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn cox_loss_matches_naive_on_random_data(
        rows in prop::collection::vec((0u8..6, any::<bool>(), -3.0f64..3.0), 2..40),
        efron in any::<bool>(),
    ) {
        let time: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let eta: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let ties = if efron { CoxTies::Efron } else { CoxTies::Breslow };
        let ours = cox_negative_log_likelihood(&eta, &time, &event, ties, &Device::flex());
        let naive = -naive_partial_ll(&eta, &time, &event, ties);
        prop_assert!((ours - naive).abs() < 2e-5 * naive.abs().max(1.0), "{} vs {}", ours, naive);
    }
}

#[test]
fn cox_loss_at_a_cox_fit_is_minus_its_log_likelihood() {
    let (data, _) = ph_data(400, 11);
    let Target::Survival { time, event } = data.target() else {
        unreachable!()
    };
    for (ties, stats_ties) in [
        (CoxTies::Efron, Ties::Efron),
        (CoxTies::Breslow, Ties::Breslow),
    ] {
        let cox = CoxParams::new()
            .ties(stats_ties)
            .l2(0.0)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let eta = cox.predict(data.x()).unwrap();
        let ours = cox_negative_log_likelihood(&eta, time, event, ties, &Device::flex());
        let ll = cox.log_likelihood();
        assert!(
            (ours + ll).abs() < 1e-5 * ll.abs(),
            "{ties:?}: loss {ours} vs log-likelihood {ll}"
        );
        // The fitted coefficients maximise the likelihood: moving them away
        // raises the loss.
        let worse: Vec<f64> = data
            .x()
            .rows()
            .zip(&eta)
            .map(|(r, e)| e + 0.05 * r[0])
            .collect();
        assert!(cox_negative_log_likelihood(&worse, time, event, ties, &Device::flex()) > ours);
    }
}

#[test]
fn ziln_loss_matches_hand_computation() {
    // Two spenders and a zero; outputs are [logit, mu, raw scale].
    let outputs = [[0.5, 1.0, 0.2], [-1.0, 2.0, -0.5], [0.3, 0.0, 1.0]];
    let y: [f64; 3] = [3.0, 10.0, 0.0];
    let sp = |x: f64| (1.0 + x.exp()).ln();
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let mut total = 0.0;
    for (o, &yi) in outputs.iter().zip(&y) {
        let p = sig(o[0]);
        let positive = yi > 0.0;
        // Cross-entropy of "any spend".
        total += if positive { -p.ln() } else { -(1.0 - p).ln() };
        if positive {
            let sigma = sp(o[2]);
            let z = (yi.ln() - o[1]) / sigma;
            // -log of the lognormal density at y.
            total += yi.ln() + sigma.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln() + 0.5 * z * z;
        }
    }
    let hand = total / 3.0;
    let ours = ziln_loss(&outputs, &y, &Device::flex());
    assert!((ours - hand).abs() < 1e-5, "{ours} vs {hand}");
}

#[test]
fn binary_cross_entropy_matches_log_loss() {
    let logits = [2.0, -1.0, 0.0, 0.7];
    let y = [1.0, 0.0, 1.0, 0.0];
    let p: Vec<f64> = logits
        .iter()
        .map(|s: &f64| 1.0 / (1.0 + (-s).exp()))
        .collect();
    let expected = tenure_metrics::log_loss(&y, &p).unwrap();
    let ours = binary_cross_entropy(&logits, &y, &Device::flex());
    assert!((ours - expected).abs() < 1e-6, "{ours} vs {expected}");
}
