//! The normal distribution in log space, accurate far into the tails:
//! truncated-normal masses and sampling for the Parzen estimators, and the
//! expected improvement for the Gaussian process.
//!
//! Tails matter here: a Parzen kernel with a bandwidth of 1/100 of the range
//! puts its far bound 100 standard deviations away, where `erfc` underflows.
//! Everything is therefore written with the scaled complementary error
//! function `erfcx(x) = exp(x²) erfc(x)`, which never underflows.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// `ln(sqrt(2π))`.
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Chebyshev coefficients of `erfc` on `[0, ∞)` after the change of
/// variable `t = 2 / (2 + x)` (Numerical Recipes, 3rd ed., §6.2.2); relative
/// error below 1e-13 everywhere. Digits as published.
#[allow(clippy::excessive_precision)]
const ERFC_COF: [f64; 28] = [
    -1.302_653_719_781_709_4,
    6.419_697_923_564_902_6e-1,
    1.947_647_320_418_583_6e-2,
    -9.561_514_786_808_631e-3,
    -9.465_953_444_820_36e-4,
    3.668_394_978_527_61e-4,
    4.252_332_480_690_7e-5,
    -2.027_857_811_253_4e-5,
    -1.624_290_004_647e-6,
    1.303_655_835_580e-6,
    1.562_644_172_2e-8,
    -8.523_809_591_5e-8,
    6.529_054_439e-9,
    5.059_343_495e-9,
    -9.913_641_56e-10,
    -2.273_651_22e-10,
    9.646_791_1e-11,
    2.394_038e-12,
    -6.886_027e-12,
    8.944_87e-13,
    3.130_92e-13,
    -1.127_08e-13,
    3.81e-16,
    7.106e-15,
    -1.523e-15,
    -9.4e-17,
    1.21e-16,
    -2.8e-17,
];

/// `exp(x²) erfc(x)` for `x >= 0`.
fn erfcx_nonneg(x: f64) -> f64 {
    debug_assert!(x >= 0.0);
    let t = 2.0 / (2.0 + x);
    let ty = 4.0 * t - 2.0;
    let (mut d, mut dd) = (0.0, 0.0);
    for &c in ERFC_COF[1..].iter().rev() {
        let tmp = d;
        d = ty * d - dd + c;
        dd = tmp;
    }
    t * (0.5 * (ERFC_COF[0] + ty * d) - dd).exp()
}

/// The scaled complementary error function `exp(x²) erfc(x)`.
pub fn erfcx(x: f64) -> f64 {
    if x >= 0.0 {
        erfcx_nonneg(x)
    } else {
        // erfc(x) = 2 − erfc(−x) for negative x.
        2.0 * (x * x).exp() - erfcx_nonneg(-x)
    }
}

/// The complementary error function.
pub fn erfc(x: f64) -> f64 {
    if x >= 0.0 {
        erfcx_nonneg(x) * (-x * x).exp()
    } else {
        2.0 - erfcx_nonneg(-x) * (-x * x).exp()
    }
}

/// The error function.
pub fn erf(x: f64) -> f64 {
    1.0 - erfc(x)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x - LN_SQRT_2PI).exp()
}

/// Standard normal distribution function `Φ(x)`.
pub fn ndtr(x: f64) -> f64 {
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// `ln Φ(x)`, accurate in both tails.
pub fn log_ndtr(x: f64) -> f64 {
    if x < 0.0 {
        let z = -x * FRAC_1_SQRT_2;
        (0.5 * erfcx_nonneg(z)).ln() - z * z
    } else {
        (-0.5 * erfc(x * FRAC_1_SQRT_2)).ln_1p()
    }
}

/// The Mills-type ratio `Φ(x) / φ(x)` for `x <= 0`, without underflow.
fn cdf_over_pdf_left(x: f64) -> f64 {
    (PI / 2.0).sqrt() * erfcx_nonneg(-x * FRAC_1_SQRT_2)
}

/// `ln(exp(a) − exp(b))` for `a > b`.
fn log_diff_exp(a: f64, b: f64) -> f64 {
    a + (-(b - a).exp()).ln_1p()
}

/// `ln(exp(a) + exp(b))`.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// `ln(Φ(b) − Φ(a))` for `a < b`: the log mass of a standard normal on an
/// interval, computed in the left tail where it is accurate.
pub fn log_gauss_mass(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        log_diff_exp(log_ndtr(b), log_ndtr(a))
    } else if a > 0.0 {
        log_gauss_mass(-b, -a)
    } else {
        // Both tails are small: 1 − Φ(a) − Φ(−b) loses nothing.
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// Acklam's rational approximation of the normal quantile (relative error
/// 1.15e-9), for `0 < p < 1`.
fn acklam(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    if p < P_LOW {
        tail(p)
    } else if p > 1.0 - P_LOW {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The normal quantile of `exp(log_p)`, for `log_p <= ln(1/2)`: `x <= 0`
/// with `ln Φ(x) = log_p`, refined by Newton's method on `ln Φ`, which is
/// concave and accurate however far into the tail.
fn ndtri_log_left(log_p: f64) -> f64 {
    let mut x = if log_p > -700.0 {
        acklam(log_p.exp())
    } else {
        // ln Φ(x) ≈ −x²/2 − ln(−x√(2π)) far in the tail.
        let t = -2.0 * log_p;
        -(t - t.ln() - (2.0 * PI).ln()).sqrt()
    };
    for _ in 0..4 {
        let step = (log_ndtr(x) - log_p) * cdf_over_pdf_left(x.min(0.0));
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x.min(0.0)
}

/// The standard normal quantile of `exp(log_p)` (`log_p <= 0`).
pub fn ndtri_log(log_p: f64) -> f64 {
    if log_p <= -std::f64::consts::LN_2 {
        ndtri_log_left(log_p)
    } else {
        // Upper half: x = −Φ⁻¹(1 − p).
        let log_q = (-log_p.exp_m1()).ln();
        -ndtri_log_left(log_q)
    }
}

/// The standard normal quantile.
pub fn ndtri(p: f64) -> f64 {
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else {
        ndtri_log(p.ln())
    }
}

/// Draws from a standard normal truncated to `[a, b]` by inverting its
/// distribution function, given a uniform `u` in `[0, 1)`.
pub fn truncnorm_ppf(u: f64, a: f64, b: f64) -> f64 {
    if a > 0.0 {
        return -truncnorm_ppf(1.0 - u, -b, -a);
    }
    let la = log_ndtr(a);
    // log p = log(Φ(a) + u (Φ(b) − Φ(a))), kept in log space for the tail.
    let log_p = if u <= 0.0 {
        la
    } else {
        log_add_exp(la, u.ln() + log_gauss_mass(a, b))
    };
    ndtri_log(log_p.min(0.0)).clamp(a, b)
}

/// `ln(φ(z) + zΦ(z))`: the log expected improvement of a unit normal over a
/// threshold `z` standard deviations below its mean. Accurate for very
/// negative `z`, where both terms nearly cancel.
pub fn log_h(z: f64) -> f64 {
    if z > -1.0 {
        (norm_pdf(z) + z * ndtr(z)).ln()
    } else if z > -40.0 {
        // φ(z) (1 + z Φ(z)/φ(z)), the ratio without underflow.
        let ratio = 1.0 + z * cdf_over_pdf_left(z);
        -0.5 * z * z - LN_SQRT_2PI + ratio.ln()
    } else {
        // Asymptotic series of 1 + zΦ(z)/φ(z) = z⁻² (1 − 3z⁻² + 15z⁻⁴ − …).
        let w = 1.0 / (z * z);
        let series = 1.0 - w * (3.0 - w * (15.0 - w * (105.0 - w * (945.0 - w * 10_395.0))));
        -0.5 * z * z - LN_SQRT_2PI + (w * series).ln()
    }
}

/// Expected improvement of `N(mean, sd²)` over `best` when larger is
/// better, in log space: `ln(sd) + ln h((mean − best)/sd)`.
pub fn log_expected_improvement(mean: f64, sd: f64, best: f64) -> f64 {
    if sd <= 0.0 {
        return if mean > best {
            (mean - best).ln()
        } else {
            f64::NEG_INFINITY
        };
    }
    sd.ln() + log_h((mean - best) / sd)
}

/// Partial derivatives of [`log_expected_improvement`] with respect to the
/// mean and the standard deviation.
pub fn log_expected_improvement_grad(mean: f64, sd: f64, best: f64) -> (f64, f64) {
    let z = (mean - best) / sd;
    let lh = log_h(z);
    // d ln h / dz = Φ(z) / h(z); dEI/dsd = φ(z), so d ln EI / dsd = φ(z)/(sd h(z)).
    let dz = (log_ndtr(z) - lh).exp();
    let dsd = (-0.5 * z * z - LN_SQRT_2PI - lh).exp() / sd;
    (dz / sd, dsd)
}
