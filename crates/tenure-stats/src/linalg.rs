//! The dense Cholesky solve behind the Newton steps: the systems are small
//! (one row per feature), so a textbook factorisation is all that is needed.

/// Solves `A x = b` for symmetric positive-definite `A` (row-major `d × d`,
/// only the lower triangle is read). `None` when `A` is not numerically
/// positive definite.
pub(crate) fn cholesky_solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let d = b.len();
    debug_assert_eq!(a.len(), d * d);
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let row_j = j * d;
        let pivot = a[row_j + j] - dot(&l[row_j..row_j + j], &l[row_j..row_j + j]);
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        let diag = pivot.sqrt();
        l[row_j + j] = diag;
        for i in j + 1..d {
            let row_i = i * d;
            let s = a[row_i + j] - dot(&l[row_i..row_i + j], &l[row_j..row_j + j]);
            l[row_i + j] = s / diag;
        }
    }
    // L y = b, then Lᵀ x = y.
    let mut x = b.to_vec();
    for i in 0..d {
        let s = x[i] - dot(&l[i * d..i * d + i], &x[..i]);
        x[i] = s / l[i * d + i];
    }
    for i in (0..d).rev() {
        let mut s = x[i];
        for k in i + 1..d {
            s -= l[k * d + i] * x[k];
        }
        x[i] = s / l[i * d + i];
    }
    Some(x)
}

/// `G += Σᵢ hᵢ zᵢ zᵢᵀ` on the lower triangle of row-major `d × d` `gram`.
///
/// Four rows per pass over `G`: each entry is loaded and stored once for four
/// rank-one updates, which keeps the (vectorised) inner loop from being bound
/// by L1 traffic.
pub(crate) fn add_weighted_gram<'a>(
    gram: &mut [f64],
    d: usize,
    rows: impl Iterator<Item = (&'a [f64], f64)>,
) {
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let mut block: [(&[f64], f64); 4] = [(&[], 0.0); 4];
        let mut filled = 0;
        for slot in block.iter_mut() {
            let Some(r) = rows.next() else { break };
            *slot = r;
            filled += 1;
        }
        for k in filled..4 {
            block[k] = (block[0].0, 0.0);
        }
        let [(z0, h0), (z1, h1), (z2, h2), (z3, h3)] = block;
        for j in 0..d {
            let (a0, a1, a2, a3) = (h0 * z0[j], h1 * z1[j], h2 * z2[j], h3 * z3[j]);
            let row = &mut gram[j * d..=j * d + j];
            let zs = z0[..=j].iter().zip(&z1[..=j]).zip(&z2[..=j]).zip(&z3[..=j]);
            for (g, (((b0, b1), b2), b3)) in row.iter_mut().zip(zs) {
                *g += a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
            }
        }
    }
}

/// Dot product with four independent accumulators: the compiler may not
/// reorder a float reduction itself, and one accumulator stalls on latency.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_spd_system() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let x_true = [1.0, -2.0, 0.5];
        let b: Vec<f64> = (0..3).map(|i| dot(&a[i * 3..i * 3 + 3], &x_true)).collect();
        let x = cholesky_solve(&a, &b).unwrap();
        for (got, want) in x.iter().zip(x_true) {
            assert!((got - want).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_a_singular_matrix() {
        assert!(cholesky_solve(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn weighted_gram_matches_the_naive_sum() {
        let rows: Vec<Vec<f64>> = (0..7)
            .map(|i| (0..3).map(|j| f64::from(i * 3 + j) - 9.0).collect())
            .collect();
        let h: Vec<f64> = (0..7).map(|i| 0.5 + f64::from(i)).collect();
        let mut g = vec![0.0; 9];
        add_weighted_gram(
            &mut g,
            3,
            rows.iter().map(Vec::as_slice).zip(h.iter().copied()),
        );
        for a in 0..3 {
            for b in 0..=a {
                let want: f64 = rows.iter().zip(&h).map(|(r, w)| w * r[a] * r[b]).sum();
                assert!((g[a * 3 + b] - want).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn dot_handles_every_remainder() {
        for n in 0..11 {
            let a: Vec<f64> = (0..n).map(f64::from).collect();
            let want: f64 = a.iter().map(|v| v * v).sum();
            assert_eq!(dot(&a, &a), want);
        }
    }
}
