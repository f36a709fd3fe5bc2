//! Small numerical kernels for the Gaussian process: Cholesky factors and
//! a box-constrained L-BFGS.

/// Lower Cholesky factor of a symmetric positive-definite `n × n` matrix
/// (row-major), or `None` if a pivot is not positive.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L x = b` for lower-triangular `L`.
pub fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in 0..n {
        let mut s = x[i];
        for k in 0..i {
            s -= l[i * n + k] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// Solves `Lᵀ x = b` for lower-triangular `L`.
pub fn solve_upper_t(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        let mut s = x[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// `A⁻¹` from the Cholesky factor of `A` (row-major, symmetric).
pub fn cholesky_inverse(l: &[f64], n: usize) -> Vec<f64> {
    // L⁻¹ column by column, then A⁻¹ = L⁻ᵀ L⁻¹.
    let mut linv = vec![0.0; n * n];
    for j in 0..n {
        linv[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let mut s = 0.0;
            for k in j..i {
                s -= l[i * n + k] * linv[k * n + j];
            }
            linv[i * n + j] = s / l[i * n + i];
        }
    }
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = 0.0;
            for k in i..n {
                s += linv[k * n + i] * linv[k * n + j];
            }
            inv[i * n + j] = s;
            inv[j * n + i] = s;
        }
    }
    inv
}

/// Settings of [`minimize_box`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsSettings {
    pub max_iter: usize,
    /// Stop once every projected gradient component is below this.
    pub gtol: f64,
    /// Stop once an iteration lowers the objective by less than this
    /// (relative).
    pub ftol: f64,
    pub memory: usize,
}

impl Default for LbfgsSettings {
    fn default() -> Self {
        Self {
            max_iter: 200,
            gtol: 1e-5,
            ftol: 1e-10,
            memory: 10,
        }
    }
}

/// Minimises `f` (returning value and gradient) over the box
/// `[lower, upper]` by L-BFGS with projection: variables held at a bound by
/// their gradient are frozen for the step, the quasi-Newton step is
/// projected back into the box and shortened until it decreases `f`
/// enough (Armijo). Returns the best point and its value.
pub fn minimize_box<F>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    settings: LbfgsSettings,
) -> (Vec<f64>, f64)
where
    F: FnMut(&[f64]) -> (f64, Vec<f64>),
{
    let n = x0.len();
    let project = |x: &mut [f64]| {
        for i in 0..n {
            x[i] = x[i].clamp(lower[i], upper[i]);
        }
    };
    let mut x = x0.to_vec();
    project(&mut x);
    let (mut fx, mut g) = f(&x);
    if !fx.is_finite() {
        return (x, fx);
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    for iter in 0..settings.max_iter {
        // Variables at a bound whose gradient pushes them outward stay put.
        let free: Vec<bool> = (0..n)
            .map(|i| !((x[i] <= lower[i] && g[i] > 0.0) || (x[i] >= upper[i] && g[i] < 0.0)))
            .collect();
        let pg_max = (0..n)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if pg_max < settings.gtol {
            break;
        }
        let masked = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(&free)
                .map(|(&a, &fr)| if fr { a } else { 0.0 })
                .collect()
        };
        // Two-loop recursion on the free variables.
        let mut q = masked(&g);
        let m = s_hist.len();
        let mut alpha = vec![0.0; m];
        for k in (0..m).rev() {
            let sk = masked(&s_hist[k]);
            let yk = masked(&y_hist[k]);
            let sy = dot(&sk, &yk);
            if sy <= 1e-12 {
                continue;
            }
            alpha[k] = dot(&sk, &q) / sy;
            axpy(-alpha[k], &yk, &mut q);
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => {
                let (s, y) = (masked(s), masked(y));
                let yy = dot(&y, &y);
                if yy > 0.0 {
                    (dot(&s, &y) / yy).max(1e-12)
                } else {
                    1.0
                }
            }
            _ => 1.0 / pg_max.max(1.0),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for k in 0..m {
            let sk = masked(&s_hist[k]);
            let yk = masked(&y_hist[k]);
            let sy = dot(&sk, &yk);
            if sy <= 1e-12 {
                continue;
            }
            let beta = dot(&yk, &q) / sy;
            axpy(alpha[k] - beta, &sk, &mut q);
        }
        let mut d: Vec<f64> = q.iter().map(|v| -v).collect();
        if dot(&d, &g) >= 0.0 {
            d = masked(&g).iter().map(|v| -v * gamma).collect();
            s_hist.clear();
            y_hist.clear();
        }
        // Backtracking along the projected path.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let mut xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            project(&mut xn);
            let step: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            let decrease = dot(&g, &step);
            if decrease >= 0.0 {
                t *= 0.5;
                continue;
            }
            let (fn_, gn) = f(&xn);
            if fn_.is_finite() && fn_ <= fx + 1e-4 * decrease {
                accepted = Some((xn, fn_, gn, step));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fn_, gn, step)) = accepted else {
            break;
        };
        let yv: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        if dot(&step, &yv) > 1e-12 {
            s_hist.push(step);
            y_hist.push(yv);
            if s_hist.len() > settings.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        let rel = (fx - fn_).abs() / fx.abs().max(fn_.abs()).max(1.0);
        x = xn;
        fx = fn_;
        g = gn;
        if rel < settings.ftol && iter > 0 {
            break;
        }
    }
    (x, fx)
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
