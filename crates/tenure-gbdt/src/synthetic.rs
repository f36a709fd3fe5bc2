//! Dense synthetic binary data for speed benchmarks (`tenure bench gbdt`,
//! the `speed` example, the criterion benches): features uniform in
//! `[-1, 1)`, a label drawn from a logistic model with a linear part on the
//! first ten features, an interaction of features 10 and 11 and a sine of
//! feature 12. The recipe of `scripts/bench/gbdt_peers.py`, so sizes and
//! AUCs compare with the peers' (the random streams differ). Survival
//! labels ([`survival`]) take the same function as a Cox model's log
//! hazard ratio.
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
    let mut next = stream(seed);
    rows_and(n, f, &mut next, |row, next| {
        f64::from(next() < 1.0 / (1.0 + (-logit(row)).exp()))
    })
}

/// `n` rows of `f` features and their survival times and event flags: an
/// exponential event time of hazard `exp(logit(row))` (a Cox model with
/// that log hazard ratio), censored by an independent exponential time of
/// rate 1, both to a thousandth (so that large tables have tied times).
pub fn survival(n: usize, f: usize, seed: u64) -> (Matrix, Vec<f64>, Vec<bool>) {
    let mut next = stream(seed);
    let (x, labels) = rows_and(n, f, &mut next, |row, next| {
        let t = -(1.0 - next()).ln() / logit(row).exp();
        let c = -(1.0 - next()).ln();
        (((t.min(c)) * 1000.0).ceil() / 1000.0, t <= c)
    });
    let (time, event) = labels.into_iter().unzip();
    (x, time, event)
}

/// A 64-bit LCG: fast, dependency-free and the same on every platform.
fn stream(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / (1u64 << 53) as f64
    }
}

/// `n` rows of `f` uniform features, each with a label drawn by `label`
/// after its features.
fn rows_and<T>(
    n: usize,
    f: usize,
    next: &mut impl FnMut() -> f64,
    mut label: impl FnMut(&[f64], &mut dyn FnMut() -> f64) -> T,
) -> (Matrix, Vec<T>) {
    let mut x = Vec::with_capacity(n * f);
    let mut y = Vec::with_capacity(n);
    let mut row = vec![0.0; f];
    for _ in 0..n {
        for v in &mut row {
            *v = next() * 2.0 - 1.0;
        }
        y.push(label(&row, next));
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

    #[test]
    fn survival_times_shorten_with_the_log_hazard_and_half_are_censored() {
        let (x, time, event) = survival(20_000, 15, 5);
        let (x2, time2, _) = survival(20_000, 15, 5);
        assert_eq!((x.as_slice(), &time), (x2.as_slice(), &time2));
        let events = event.iter().filter(|&&e| e).count();
        assert!((5_000..15_000).contains(&events), "{events}");
        // Rows of high hazard have an event sooner: the median time of
        // the riskiest rows is below the safest rows'.
        let median = |keep: &dyn Fn(f64) -> bool| {
            let mut t: Vec<f64> = x
                .rows()
                .zip(&time)
                .filter(|(r, _)| keep(logit(r)))
                .map(|(_, &t)| t)
                .collect();
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        };
        assert!(median(&|l| l > 1.0) < 0.5 * median(&|l| l < -1.0));
        // Times are to a thousandth: positive, and tied in places.
        assert!(time.iter().all(|&t| t >= 0.001));
        let mut distinct = time.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() < time.len() / 2, "{}", distinct.len());
    }
}
