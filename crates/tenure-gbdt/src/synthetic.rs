//! Dense synthetic binary data for speed benchmarks (`tenure bench gbdt`,
//! the `speed` example, the criterion benches): features uniform in
//! `[-1, 1)`, a label drawn from a logistic model with a linear part on the
//! first ten features, an interaction of features 10 and 11 and a sine of
//! feature 12. The recipe of `scripts/bench/gbdt_peers.py`, so sizes and
//! AUCs compare with the peers' (the random streams differ).
//!
//! ```
//! let (x, y) = tenure_gbdt::synthetic::binary(1_000, 20, 1);
//! assert_eq!((x.n_rows(), x.n_cols(), y.len()), (1_000, 20, 1_000));
//! assert!(y.iter().all(|&v| v == 0.0 || v == 1.0));
//! ```

use tenure_core::Matrix;

/// `n` rows of `f` features and their 0/1 labels, a pure function of
/// `seed`. With fewer than 13 features the signal uses those there are.
pub fn binary(n: usize, f: usize, seed: u64) -> (Matrix, Vec<f64>) {
    let mut s = seed;
    // A 64-bit LCG: fast, dependency-free and the same on every platform.
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * f);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0.0; f];
    for _ in 0..n {
        for v in &mut row {
            *v = next() * 2.0 - 1.0;
        }
        y.push(f64::from(next() < 1.0 / (1.0 + (-logit(&row)).exp())));
        x.extend_from_slice(&row);
    }
    (
        Matrix::new(x, n, f).expect("n * f values make an n x f matrix"),
        y,
    )
}

/// The true log-odds of a row.
pub fn logit(row: &[f64]) -> f64 {
    let linear: f64 = row
        .iter()
        .take(10)
        .enumerate()
        .map(|(j, v)| v * (j as f64 - 4.5) / 3.0)
        .sum();
    let interaction = match (row.get(10), row.get(11)) {
        (Some(a), Some(b)) => 2.0 * a * b,
        _ => 0.0,
    };
    let wave = row.get(12).map_or(0.0, |v| (3.0 * v).sin());
    linear + interaction + wave
}

/// `f` feature names `f0, f1, …`.
pub fn feature_names(f: usize) -> Vec<String> {
    (0..f).map(|j| format!("f{j}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_rows_and_labels_follow_the_logit() {
        let (a, ya) = binary(2_000, 15, 3);
        let (b, yb) = binary(2_000, 15, 3);
        assert_eq!(a.as_slice(), b.as_slice());
        assert_eq!(ya, yb);
        let (c, _) = binary(2_000, 15, 4);
        assert_ne!(a.as_slice(), c.as_slice());
        // Rows with a high true log-odds are positive more often.
        let (mut hi, mut n_hi, mut lo, mut n_lo) = (0.0, 0.0, 0.0, 0.0);
        for (r, y) in a.rows().zip(&ya) {
            if logit(r) > 1.0 {
                hi += y;
                n_hi += 1.0;
            } else if logit(r) < -1.0 {
                lo += y;
                n_lo += 1.0;
            }
        }
        assert!(
            hi / n_hi > 0.7 && lo / n_lo < 0.3,
            "{hi}/{n_hi} vs {lo}/{n_lo}"
        );
    }
}
