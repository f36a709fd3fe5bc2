use tenure_tune::special::{
    erf, erfc, log_expected_improvement, log_expected_improvement_grad, log_gauss_mass, log_ndtr,
    ndtr, ndtri, norm_pdf, truncnorm_ppf,
};

/// erfc at points with known values (Abramowitz & Stegun, Table 7.1, and
/// mpmath for the tail).
#[test]
fn erfc_matches_reference_values() {
    let cases = [
        (0.0, 1.0),
        (0.5, 0.479_500_122_186_953_5),
        (1.0, 0.157_299_207_050_285_13),
        (2.0, 0.004_677_734_981_047_266),
        (3.0, 2.209_049_699_858_544e-5),
        (5.0, 1.537_459_794_428_034_8e-12),
        (10.0, 2.088_487_583_762_545e-45),
        (-1.0, 1.842_700_792_949_715),
    ];
    for (x, want) in cases {
        let got = erfc(x);
        assert!(
            ((got - want) / want).abs() < 1e-12,
            "erfc({x}) = {got}, want {want}"
        );
    }
    assert!((erf(1.0) - 0.842_700_792_949_714_9).abs() < 1e-14);
}

#[test]
fn log_ndtr_is_accurate_far_in_the_left_tail() {
    // ln Φ(−40) = −804.608 (mpmath: -804.6084420137538).
    assert!((log_ndtr(-40.0) + 804.608_442_013_753_8).abs() < 1e-9);
    assert!((log_ndtr(0.0) - 0.5f64.ln()).abs() < 1e-15);
    assert!((log_ndtr(3.0) - ndtr(3.0).ln()).abs() < 1e-15);
}

#[test]
fn normal_quantile_inverts_the_distribution_function() {
    for p in [
        1e-300,
        1e-20,
        1e-5,
        0.01,
        0.3,
        0.5,
        0.77,
        0.999,
        1.0 - 1e-12,
    ] {
        let x = ndtri(p);
        let back = if p < 0.5 { ndtr(x) } else { 1.0 - ndtr(-x) };
        assert!(
            ((back - p) / p.min(1.0 - p)).abs() < 1e-9,
            "ndtri({p}) = {x}, Φ(x) = {back}"
        );
    }
}

#[test]
fn gauss_mass_agrees_with_differences_where_those_are_accurate() {
    for (a, b) in [(-1.0, 1.0), (-3.0, -1.0), (0.5, 2.0), (-0.2, 0.3)] {
        let want = (ndtr(b) - ndtr(a)).ln();
        assert!((log_gauss_mass(a, b) - want).abs() < 1e-12, "[{a}, {b}]");
    }
    // Far in the right tail the difference of Φs is 0, the log mass is not.
    let m = log_gauss_mass(50.0, 51.0);
    assert!(m.is_finite() && m < -1200.0, "{m}");
}

#[test]
fn truncated_normal_draws_stay_in_bounds_and_follow_the_cdf() {
    for (a, b) in [(-1.0, 2.0), (3.0, 80.0), (-90.0, -60.0), (-0.1, 0.1)] {
        let mut prev = f64::NEG_INFINITY;
        for i in 0..=20 {
            let u = i as f64 / 20.0 * 0.999_999;
            let x = truncnorm_ppf(u, a, b);
            assert!((a..=b).contains(&x), "draw {x} outside [{a}, {b}]");
            assert!(x >= prev, "quantiles increase");
            prev = x;
            // The mass below x is u of the whole.
            if x > a {
                let frac = (log_gauss_mass(a, x) - log_gauss_mass(a, b)).exp();
                assert!((frac - u).abs() < 1e-6, "u {u}: mass below {x} is {frac}");
            }
        }
    }
}

/// EI of N(μ, σ²) over `best` (larger is better), in closed form.
fn ei_closed_form(mean: f64, sd: f64, best: f64) -> f64 {
    let z = (mean - best) / sd;
    sd * (z * ndtr(z) + norm_pdf(z))
}

/// E[max(Y − best, 0)] by the trapezoidal rule over ±12 standard deviations.
fn ei_by_quadrature(mean: f64, sd: f64, best: f64) -> f64 {
    let n = 200_000;
    let (lo, hi) = (mean - 12.0 * sd, mean + 12.0 * sd);
    let h = (hi - lo) / n as f64;
    (0..=n)
        .map(|i| {
            let y = lo + i as f64 * h;
            let w = if i == 0 || i == n { 0.5 } else { 1.0 };
            w * (y - best).max(0.0) * norm_pdf((y - mean) / sd) / sd
        })
        .sum::<f64>()
        * h
}

#[test]
fn expected_improvement_matches_closed_form_and_quadrature() {
    for (mean, sd, best) in [
        (0.0, 1.0, 0.0),
        (1.0, 0.5, 0.2),
        (-1.0, 2.0, 1.5),
        (0.3, 0.1, 0.9),
        (5.0, 3.0, -2.0),
    ] {
        let ours = log_expected_improvement(mean, sd, best).exp();
        let closed = ei_closed_form(mean, sd, best);
        let quad = ei_by_quadrature(mean, sd, best);
        assert!(
            ((ours - closed) / closed).abs() < 1e-10,
            "EI({mean}, {sd}, {best}): ours {ours}, closed form {closed}"
        );
        assert!(
            ((closed - quad) / closed).abs() < 1e-6,
            "EI({mean}, {sd}, {best}): closed form {closed}, quadrature {quad}"
        );
    }
}

#[test]
fn log_expected_improvement_stays_finite_where_the_closed_form_underflows() {
    // z = −45: the closed form cancels to 0, its log is still meaningful.
    let l = log_expected_improvement(0.0, 1.0, 45.0);
    assert!(l.is_finite());
    // h(z) ≈ φ(z)/z² far in the tail.
    let approx =
        -0.5 * 45.0f64.powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln() - 2.0 * 45.0f64.ln();
    assert!((l - approx).abs() < 1e-2, "{l} vs {approx}");
    // Monotone across the branch points of its evaluation.
    let mut prev = f64::NEG_INFINITY;
    for i in 0..200 {
        let z = -60.0 + i as f64 * 0.35;
        let v = log_expected_improvement(z, 1.0, 0.0);
        assert!(v > prev, "log EI not increasing at z = {z}");
        prev = v;
    }
}

#[test]
fn log_expected_improvement_gradient_matches_finite_differences() {
    for (mean, sd, best) in [(0.0, 1.0, 0.5), (2.0, 0.3, 1.0), (-3.0, 0.5, 2.0)] {
        let (dm, ds) = log_expected_improvement_grad(mean, sd, best);
        let h = 1e-6;
        let fm = (log_expected_improvement(mean + h, sd, best)
            - log_expected_improvement(mean - h, sd, best))
            / (2.0 * h);
        let fs = (log_expected_improvement(mean, sd + h, best)
            - log_expected_improvement(mean, sd - h, best))
            / (2.0 * h);
        assert!(
            (dm - fm).abs() < 1e-5 * fm.abs().max(1.0),
            "d/dmean {dm} vs {fm}"
        );
        assert!(
            (ds - fs).abs() < 1e-5 * fs.abs().max(1.0),
            "d/dsd {ds} vs {fs}"
        );
    }
}
