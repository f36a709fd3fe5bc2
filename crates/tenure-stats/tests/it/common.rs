//! Dataset builders shared by the test modules.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::{Dataset, Matrix, Target};

pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|j| format!("x{j}")).collect()
}

pub fn dataset(rows: &[Vec<f64>], target: Target) -> Dataset {
    let x = Matrix::from_rows(rows).unwrap();
    Dataset::new(x, names(rows.first().map_or(0, Vec::len)), target).unwrap()
}

/// Churn-like data: features on very different scales, labels drawn from a
/// known logistic model (so the classes overlap).
pub fn churn_data(seed: u64, n: usize, p: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..p)
            .map(|j| (rng.random::<f64>() - 0.5) * 10f64.powi(j as i32 % 4))
            .collect();
        let eta: f64 = row
            .iter()
            .enumerate()
            .map(|(j, v)| v / 10f64.powi(j as i32 % 4) * if j % 2 == 0 { 1.5 } else { -1.0 })
            .sum();
        y.push(f64::from(u8::from(
            rng.random::<f64>() < 1.0 / (1.0 + (-eta).exp()),
        )));
        rows.push(row);
    }
    dataset(&rows, Target::Binary(y))
}

pub fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}
