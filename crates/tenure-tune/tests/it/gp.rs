//! The Gaussian process against a naive twin: the covariance inverted by
//! Gauss–Jordan elimination and the posterior written as the textbook
//! formulas.

use tenure_tune::GaussianProcess;

fn matern52(a: &[f64], b: &[f64], inv_sq_ls: &[f64], is_cat: &[bool], scale: f64) -> f64 {
    let mut r2 = 0.0;
    for d in 0..a.len() {
        let s = if is_cat[d] {
            if a[d] == b[d] { 0.0 } else { 1.0 }
        } else {
            (a[d] - b[d]).powi(2)
        };
        r2 += s * inv_sq_ls[d];
    }
    let r = r2.sqrt();
    scale * (1.0 + 5f64.sqrt() * r + 5.0 / 3.0 * r2) * (-(5f64.sqrt()) * r).exp()
}

fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        inv.swap(c, p);
        let d = a[c][c];
        for j in 0..n {
            a[c][j] /= d;
            inv[c][j] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = a[r][c];
                for j in 0..n {
                    a[r][j] -= f * a[c][j];
                    inv[r][j] -= f * inv[c][j];
                }
            }
        }
    }
    inv
}

fn data() -> (Vec<Vec<f64>>, Vec<f64>, Vec<bool>) {
    let x: Vec<Vec<f64>> = (0..12)
        .map(|i| {
            let t = i as f64 / 11.0;
            vec![t, (t * 7.3).fract(), (i % 3) as f64]
        })
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|p| (6.0 * p[0]).sin() + p[1] * p[1] - 0.3 * p[2])
        .collect();
    (x, y, vec![false, false, true])
}

#[test]
fn posterior_matches_the_naive_formulas() {
    let (x, y, is_cat) = data();
    let (ls, scale, noise) = (vec![4.0, 0.5, 1.5], 1.3, 1e-3);
    let gp = GaussianProcess::new(
        x.clone(),
        y.clone(),
        is_cat.clone(),
        ls.clone(),
        scale,
        noise,
    )
    .expect("positive definite");
    let n = x.len();
    let c: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    matern52(&x[i], &x[j], &ls, &is_cat, scale) + if i == j { noise } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let cinv = invert(c.clone());
    for q in [
        vec![0.3, 0.3, 1.0],
        vec![0.95, 0.1, 0.0],
        x[4].clone(),
        vec![0.0, 1.0, 2.0],
    ] {
        let k: Vec<f64> = x
            .iter()
            .map(|xi| matern52(&q, xi, &ls, &is_cat, scale))
            .collect();
        let cinv_k: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| cinv[i][j] * k[j]).sum())
            .collect();
        let cinv_y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| cinv[i][j] * y[j]).sum())
            .collect();
        let mean: f64 = k.iter().zip(&cinv_y).map(|(a, b)| a * b).sum();
        let var = scale - k.iter().zip(&cinv_k).map(|(a, b)| a * b).sum::<f64>();
        let (m, v) = gp.posterior(&q);
        assert!((m - mean).abs() < 1e-8, "mean at {q:?}: {m} vs {mean}");
        assert!(
            (v - var.max(0.0)).abs() < 1e-8,
            "variance at {q:?}: {v} vs {var}"
        );
    }
    // Marginal likelihood: −½ yᵀC⁻¹y − ½ ln|C| − n/2 ln 2π, with |C| from
    // the naive elimination's pivots (C is symmetric positive definite).
    let quad: f64 = (0..n)
        .map(|i| y[i] * (0..n).map(|j| cinv[i][j] * y[j]).sum::<f64>())
        .sum();
    let mut lu = c.clone();
    let mut log_det = 0.0;
    for col in 0..n {
        log_det += lu[col][col].ln();
        let pivot = lu[col].clone();
        for row in lu.iter_mut().skip(col + 1) {
            let f = row[col] / pivot[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot[col..]) {
                *x -= f * p;
            }
        }
    }
    let mll = -0.5 * quad - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    assert!((gp.log_marginal_likelihood() - mll).abs() < 1e-8);
}

#[test]
fn fitted_hyperparameters_explain_the_data_better_than_defaults() {
    let (x, y, is_cat) = data();
    let fitted = GaussianProcess::fit(x.clone(), y.clone(), is_cat.clone(), None);
    let unit = GaussianProcess::new(x, y, is_cat, vec![1.0; 3], 1.0, 1e-2).unwrap();
    assert!(
        fitted.log_marginal_likelihood() > unit.log_marginal_likelihood(),
        "fitted {} vs unit {}",
        fitted.log_marginal_likelihood(),
        unit.log_marginal_likelihood()
    );
    // Nearly noise-free data: the fit interpolates.
    let (m, v) = fitted.posterior(&[5.0 / 11.0, (5.0 / 11.0 * 7.3f64).fract(), 2.0]);
    let truth = (6.0 * 5.0 / 11.0f64).sin() + (5.0 / 11.0 * 7.3f64).fract().powi(2) - 0.6;
    assert!((m - truth).abs() < 0.05, "{m} vs {truth}");
    assert!(v < 0.05 * fitted.kernel_scale());
}
