//! Gamma-Gamma: the published CDNOW fit, agreement with lifetimes'
//! GammaGammaFitter and customer_lifetime_value, input validation.

use proptest::prelude::*;
use tenure_core::ParamGuard;
use tenure_stats::{GammaGamma, GammaGammaParams, customer_lifetime_value};

use crate::bgnbd::{case_inputs, cdnow_summary, golden, synthetic_model};
use crate::common::assert_close;

fn fit(frequency: &[f64], monetary: &[f64], l2: f64) -> GammaGamma {
    GammaGammaParams::new()
        .l2(l2)
        .check()
        .unwrap()
        .fit(frequency, monetary)
        .unwrap()
}

#[test]
fn cdnow_reproduces_the_published_fit() {
    let Some(s) = cdnow_summary() else { return };
    let m = fit(&s.frequency, &s.monetary_value, 0.0);
    assert_eq!(m.n_customers(), 946);
    // Fader, Hardie & Lee (2005, JMR): p = 6.25, q = 3.74, γ = 15.44. The
    // maximum of the likelihood is at γ = 15.4477 (lifetimes finds the same),
    // so the published γ is truncated, not rounded: it is checked to 0.01.
    assert!((m.p - 6.25).abs() < 0.005, "{m:?}");
    assert!((m.q - 3.74).abs() < 0.005, "{m:?}");
    assert!((m.v - 15.44).abs() < 0.01, "{m:?}");
    assert!((m.v - 15.4477).abs() < 5e-4, "{m:?}");
}

#[test]
fn fits_and_predictions_agree_with_lifetimes() {
    let bg_model = synthetic_model();
    for case in golden().cases {
        let Some(s) = case_inputs(&case) else {
            continue;
        };
        let m = fit(&s.frequency, &s.monetary_value, case.penalizer);
        let ours = [m.p, m.q, m.v];
        for (j, (got, want)) in ours
            .iter()
            .zip(&case.gamma_gamma.optimum.params)
            .enumerate()
        {
            assert_close(&format!("{} param {j}", case.name), *got, *want, 1e-6);
        }
        let se = m.standard_errors().unwrap();
        let want_se = &case.gamma_gamma.optimum.standard_errors;
        for (j, (got, want)) in se.iter().zip(want_se).enumerate() {
            assert_close(&format!("{} se {j}", case.name), *got, *want, 1e-5);
        }
        if case.penalizer == 0.0 {
            for (j, (got, want)) in ours.iter().zip(&case.gamma_gamma.params).enumerate() {
                assert_close(
                    &format!("{} lifetimes param {j}", case.name),
                    *got,
                    *want,
                    1e-4,
                );
            }
            for (j, (got, want)) in se.iter().zip(&case.gamma_gamma.standard_errors).enumerate() {
                assert_close(
                    &format!("{} lifetimes se {j}", case.name),
                    *got,
                    *want,
                    1e-3,
                );
            }
            assert_close(
                &format!("{} log-likelihood", case.name),
                m.log_likelihood(),
                case.gamma_gamma.log_likelihood,
                1e-9,
            );
        }

        // Predictions at lifetimes' parameters.
        let mut gg = m.clone();
        let p = &case.gamma_gamma.params;
        (gg.p, gg.q, gg.v) = (p[0], p[1], p[2]);
        let mut bg = bg_model.clone();
        let p = &case.bgnbd.params;
        (bg.r, bg.alpha, bg.a, bg.b) = (p[0], p[1], p[2], p[3]);
        let c = &case.customers;
        for i in 0..c.frequency.len() {
            let (x, tx, t, mv) = (c.frequency[i], c.recency[i], c.t[i], c.monetary_value[i]);
            let spend = gg.expected_average_spend(x, mv);
            let clv = customer_lifetime_value(&bg, &gg, x, tx, t, mv, 12, 0.01, 30.0 / 4.345);
            if gg.q <= 1.0 {
                // The population mean spend is infinite: an error, not a number.
                assert!(spend.is_err() && clv.is_err());
                continue;
            }
            let what = format!("{} customer ({x}, {tx}, {t}, {mv})", case.name);
            assert_close(
                &format!("{what} spend"),
                spend.unwrap(),
                c.expected_average_spend[i].unwrap(),
                1e-12,
            );
            assert_close(
                &format!("{what} clv"),
                clv.unwrap(),
                c.clv_12_months_1pct[i].unwrap(),
                1e-9,
            );
        }
    }
}

#[test]
fn bad_inputs_are_named() {
    let gg = GammaGammaParams::new().check().unwrap();
    let e = gg.fit(&[1.0, 2.0], &[10.0]).unwrap_err().to_string();
    assert!(e.contains("shape"), "{e}");
    let e = gg.fit(&[0.0, 0.0], &[0.0, 0.0]).unwrap_err().to_string();
    assert!(e.contains("no customer with a repeat purchase"), "{e}");
    let e = gg
        .fit(&[1.0, 2.0, 3.0], &[10.0, 0.0, 5.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("monetary_value 0 at row 2"), "{e}");
    let e = gg
        .fit(&[1.0, f64::NAN], &[10.0, 5.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("frequency NaN at row 2"), "{e}");
    let e = gg
        .fit(&[1.0, 0.0], &[10.0, f64::INFINITY])
        .unwrap_err()
        .to_string();
    assert!(e.contains("monetary_value inf at row 2"), "{e}");
    assert!(GammaGammaParams::new().l2(-1.0).check().is_err());
    assert!(GammaGammaParams::new().max_iter(0).check().is_err());
}

#[test]
fn non_repeaters_are_ignored_and_get_the_population_mean() {
    let s = golden().cases[0].inputs.clone().unwrap();
    let all = fit(&s.frequency, &s.monetary_value, 0.0);
    let (x, m): (Vec<f64>, Vec<f64>) = s
        .frequency
        .iter()
        .zip(&s.monetary_value)
        .filter(|(x, _)| **x > 0.0)
        .unzip();
    let repeaters = fit(&x, &m, 0.0);
    assert_eq!(all, repeaters);
    let mean = all.p * all.v / (all.q - 1.0);
    assert_close(
        "x = 0",
        all.expected_average_spend(0.0, 123.0).unwrap(),
        mean,
        1e-14,
    );
}

proptest! {
    #[test]
    fn clv_is_the_discounted_sum_of_monthly_purchases(
        x in 0u32..6, frac in 0.0f64..1.0, t in 1.0f64..60.0, spend in 1.0f64..200.0,
        months in 1usize..30, d in 0.0f64..0.05,
    ) {
        let bg = synthetic_model();
        let s = golden().cases[0].inputs.clone().unwrap();
        let gg = fit(&s.frequency, &s.monetary_value, 0.0);
        let x = f64::from(x);
        let tx = if x == 0.0 { 0.0 } else { frac * t };
        let clv = customer_lifetime_value(&bg, &gg, x, tx, t, spend, months, d, 7.0).unwrap();
        let e = gg.expected_average_spend(x, spend).unwrap();
        // Undiscounted, the sum telescopes to the purchases over the whole span.
        let total = customer_lifetime_value(&bg, &gg, x, tx, t, spend, months, 0.0, 7.0).unwrap();
        let purchases = bg.expected_purchases(months as f64 * 30.0 / 7.0, x, tx, t).unwrap();
        prop_assert!((total - purchases * e).abs() <= 1e-9 * total.max(1.0));
        prop_assert!(clv <= total + 1e-12 && clv >= total / (1.0 + d).powi(months as i32) - 1e-12);
    }
}
