//! Integer gradients: how the quantised mode computes and rounds the
//! gradients of the binary and squared-error objectives, the same way on
//! the CPU and on a GPU.
//!
//! A GPU's `exp` is an approximation of its own, and its compilers may fuse
//! a multiply into an add (CUDA does by default; Mesa may for a shader op
//! not marked exact), so `f32` gradients computed on a device are not the
//! CPU's, and one level's difference in one row can change a split.
//! Integer arithmetic is exact on every backend. So in the quantised mode
//! (`use_quantized_grad`, and always on a GPU), for these objectives and
//! no row weights:
//!
//! - training scores are fixed-point integers (`unit` apart), and leaf
//!   values are rounded to that grid, so the booster predicts exactly the
//!   scores it trained on;
//! - the sigmoid and its derivative come from tables (built here once, in
//!   `f64`, and uploaded), linearly interpolated in integers;
//! - a round's levels are `floor(v * levels / max)` in integer division,
//!   rounded up stochastically by a 32-bit hash of the round and the row
//!   (or to nearest);
//! - the levels choose the splits, and each leaf's value comes from the
//!   exact sums of its rows' integer gradients (LightGBM's leaf renewal),
//!   which the GPU sums in blocks of split halves that fit in `i32`.
//!
//! The GPU's kernels (`gpu`) spell the same steps; a property test holds
//! them to this module's results. Tweedie and Cox gradients, which need
//! `exp` over a wide range (and risk-set sums for Cox), are computed on the
//! host in `f64` and quantised there.

use rayon::prelude::*;

use crate::hist::{Packed, pack};
use crate::objective::Objective;

/// Scores are kept within `±SCORE_LIMIT` units (saturating), so that a
/// gradient times a level count stays within `i32`: ±128 for binary, 8
/// times the largest label for squared error. A row that reached it would
/// train on the limit while the model's prediction adds the leaf values
/// unclamped; no fitted model comes near it.
pub const SCORE_LIMIT: i32 = 1 << 23;
/// Binary scores are in units of 2^-16: `±128` is far past any sigmoid
/// that matters.
const BINARY_SHIFT: i32 = 16;
/// Probabilities and binary gradients are in units of 2^-24.
pub const PROB_ONE: i32 = 1 << 24;
/// The sigmoid tables span scores `±16` (`±2^20` units); past that the
/// gradient is the table's end (a probability within 2^-23 of 0 or 1).
pub const TABLE_SPAN: i32 = 1 << 20;
/// Table entries are 2^-8 apart in score (2^8 units), so linear
/// interpolation is within 2e-7 of the sigmoid.
pub const TABLE_STEP_BITS: u32 = 8;
/// Entries: both ends, and one past the end for the interpolation at it.
pub const TABLE_LEN: usize = ((2 * TABLE_SPAN) >> TABLE_STEP_BITS) as usize + 2;
/// Squared-error labels are within `±2^20` units.
const LABEL_BITS: i32 = 20;

/// Which integer gradient a [`FixedGradients`] computes; the values are
/// what the GPU kernel takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedKind {
    Binary = 0,
    Regression = 1,
}

/// One training's integer gradients: the labels on the score grid and the
/// sigmoid tables.
#[derive(Debug, Clone)]
pub struct FixedGradients {
    pub kind: FixedKind,
    /// One score unit, as a raw score (a power of two).
    pub unit: f64,
    /// One gradient unit and one hessian unit.
    pub grad_unit: f64,
    pub hess_unit: f64,
    /// Per row: 0 or 1 (binary), or the label in score units.
    pub labels: Vec<i32>,
    /// The sigmoid and its derivative at [`TABLE_LEN`] scores from `-16`,
    /// in units of 2^-24.
    pub sigmoid: Vec<i32>,
    pub slope: Vec<i32>,
}

impl FixedGradients {
    /// The integer gradients of `objective` on labels `y`, or `None` where
    /// they do not apply (Tweedie, Cox, row weights).
    pub fn new(objective: Objective, y: &[f64], weighted: bool) -> Option<Self> {
        if weighted {
            return None;
        }
        match objective {
            Objective::Binary => {
                let unit = (-f64::from(BINARY_SHIFT)).exp2();
                let table = |f: fn(f64) -> f64| -> Vec<i32> {
                    (0..TABLE_LEN)
                        .map(|k| {
                            let s = (k << TABLE_STEP_BITS) as f64 * unit - 16.0;
                            (f(s) * f64::from(PROB_ONE)).round() as i32
                        })
                        .collect()
                };
                fn sig(s: f64) -> f64 {
                    1.0 / (1.0 + (-s).exp())
                }
                Some(Self {
                    kind: FixedKind::Binary,
                    unit,
                    grad_unit: 1.0 / f64::from(PROB_ONE),
                    hess_unit: 1.0 / f64::from(PROB_ONE),
                    labels: y.iter().map(|&v| i32::from(v == 1.0)).collect(),
                    sigmoid: table(sig),
                    // sigma(s) * sigma(-s): no cancellation in the tails.
                    slope: table(|s| sig(s) * sig(-s)),
                })
            }
            Objective::Regression => {
                let max = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let exp = if max > 0.0 {
                    (max.log2().ceil() as i32 - LABEL_BITS).max(-1000)
                } else {
                    -BINARY_SHIFT
                };
                let unit = f64::from(exp).exp2();
                Some(Self {
                    kind: FixedKind::Regression,
                    unit,
                    grad_unit: unit,
                    hess_unit: 1.0,
                    labels: y.iter().map(|&v| (v / unit).round() as i32).collect(),
                    sigmoid: Vec::new(),
                    slope: Vec::new(),
                })
            }
            Objective::Tweedie | Objective::Cox => None,
        }
    }

    /// A raw score on the grid, saturating at [`SCORE_LIMIT`].
    pub fn to_score(&self, v: f64) -> i32 {
        let limit = f64::from(SCORE_LIMIT);
        (v / self.unit).round().clamp(-limit, limit) as i32
    }

    /// The raw score of a grid value.
    pub fn value(&self, s: i32) -> f64 {
        f64::from(s) * self.unit
    }

    /// Row `i`'s gradient and hessian at score `s`, in units.
    pub fn gradient(&self, s: i32, i: usize) -> (i32, i32) {
        match self.kind {
            FixedKind::Binary => {
                let p = interpolate(&self.sigmoid, s);
                (p - self.labels[i] * PROB_ONE, interpolate(&self.slope, s))
            }
            FixedKind::Regression => (s - self.labels[i], 1),
        }
    }

    /// Quantises the gradients at `score` into `out` (one packed pair of
    /// levels per row) and returns one level's gradient and hessian.
    pub fn quantize(
        &self,
        score: &[i32],
        levels: usize,
        stochastic: bool,
        key: u32,
        out: &mut [Packed],
    ) -> (f64, f64) {
        let (gmax, hmax) = score
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let (g, h) = self.gradient(s, i);
                (g.abs(), h)
            })
            .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        let (gmax, hmax) = (gmax.max(1), hmax.max(1));
        let (half, full) = ((levels / 2) as i32, levels as i32);
        out.par_iter_mut().enumerate().for_each(|(i, p)| {
            let (g, h) = self.gradient(score[i], i);
            let noise = hash(key ^ i as u32);
            let gl = level(g, gmax, half, noise, stochastic);
            let hl = level(h, hmax, full, hash(noise), stochastic);
            *p = pack(gl, hl as u32);
        });
        self.scales(gmax, hmax, levels)
    }

    /// The exact sums of the integer gradients and hessians of `rows` at
    /// `score` (for leaf values: the levels chose the splits, these give
    /// the values, as LightGBM's leaf renewal does with exact gradients).
    pub fn sums(&self, score: &[i32], rows: &[u32]) -> (i64, i64) {
        rows.iter().fold((0, 0), |(g, h), &i| {
            let (gi, hi) = self.gradient(score[i as usize], i as usize);
            (g + i64::from(gi), h + i64::from(hi))
        })
    }

    /// One level's gradient and hessian, given the round's largest
    /// `|gradient|` and hessian in units (at least 1).
    pub fn scales(&self, gmax: i32, hmax: i32, levels: usize) -> (f64, f64) {
        (
            f64::from(gmax) * self.grad_unit / (levels / 2) as f64,
            f64::from(hmax) * self.hess_unit / levels as f64,
        )
    }
}

/// `table` at score `s`, linearly interpolated in integers (an arithmetic
/// shift floors the product of a negative step).
pub fn interpolate(table: &[i32], s: i32) -> i32 {
    let t = s.clamp(-TABLE_SPAN, TABLE_SPAN) + TABLE_SPAN;
    let k = (t >> TABLE_STEP_BITS) as usize;
    let frac = t & ((1 << TABLE_STEP_BITS) - 1);
    let (a, b) = (table[k], table[k + 1]);
    a + (((b - a) * frac) >> TABLE_STEP_BITS)
}

/// `v * mult / max` rounded to an integer level: down, then up with
/// probability equal to the remainder's share (`noise % max` below it),
/// or to nearest (ties up). `|v| <= max` and `max * mult < 2^31`.
pub fn level(v: i32, max: i32, mult: i32, noise: u32, stochastic: bool) -> i32 {
    let num = v * mult;
    let (mut q, mut r) = (num / max, num % max);
    if r < 0 {
        q -= 1;
        r += max;
    }
    let up = if stochastic {
        noise % (max as u32) < r as u32
    } else {
        2 * r >= max
    };
    q + i32::from(up)
}

/// The key and threshold of a bag's rule (see [`in_bag`]): a share
/// `fraction` of the rows, drawn by the round's `key`.
pub fn bag_rule(key: u64, fraction: f64) -> (u32, u32) {
    let threshold = (fraction * 4_294_967_296.0).clamp(0.0, f64::from(u32::MAX));
    ((key >> 32) as u32, threshold as u32)
}

/// Whether row `i` is in the bag of `rule` ([`bag_rule`]): a rule the GPU
/// applies alike, so it draws the bag instead of receiving it.
pub fn in_bag((key, threshold): (u32, u32), i: u32) -> bool {
    hash(key ^ i) < threshold
}

/// A 32-bit integer hash (Wellons' "lowbias32"): rounding noise that a
/// GPU computes alike, with 32-bit wrapping multiplies only.
pub fn hash(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_sigmoid_is_within_a_millionth() {
        let f = FixedGradients::new(Objective::Binary, &[0.0], false).unwrap();
        let mut worst = 0.0f64;
        for s in (-(20 << 16)..(20 << 16)).step_by(977) {
            let p = f64::from(interpolate(&f.sigmoid, s)) / f64::from(PROB_ONE);
            let x = f.value(s).clamp(-16.0, 16.0);
            worst = worst.max((p - 1.0 / (1.0 + (-x).exp())).abs());
            let d = f64::from(interpolate(&f.slope, s)) / f64::from(PROB_ONE);
            let e = 1.0 / (1.0 + (-x).exp());
            worst = worst.max((d - e * (1.0 - e)).abs());
            assert!(interpolate(&f.slope, s) > 0, "hessians stay positive");
        }
        assert!(worst < 1e-6, "{worst}");
    }

    #[test]
    fn levels_round_as_the_real_division_does() {
        for &(v, max, mult) in &[(5, 7, 63), (-5, 7, 63), (7, 7, 2), (-7, 7, 2), (0, 1, 126)] {
            let x = f64::from(v) * f64::from(mult) / f64::from(max);
            assert_eq!(level(v, max, mult, 0, false), (x + 0.5).floor() as i32);
            // Stochastic rounding lands on the two neighbours, in the
            // remainder's proportion.
            let ups = (0..7000u32)
                .filter(|&n| level(v, max, mult, hash(n), true) > x.floor() as i32)
                .count();
            let share = x - x.floor();
            assert!(
                (ups as f64 / 7000.0 - share).abs() < 0.03,
                "{v} {max}: {ups}"
            );
        }
    }

    #[test]
    fn bags_hold_their_share_of_the_rows() {
        for fraction in [0.1, 0.5, 0.9] {
            let rule = bag_rule(0x1234_5678_9ABC_DEF0, fraction);
            let kept = (0..100_000u32).filter(|&i| in_bag(rule, i)).count();
            assert!(
                (kept as f64 / 1e5 - fraction).abs() < 0.005,
                "{fraction}: {kept}"
            );
        }
        assert_eq!(bag_rule(7, 1.0).1, u32::MAX);
    }

    #[test]
    fn regression_labels_sit_on_the_grid_within_two_to_the_minus_twenty() {
        let y = [1234.5, -3.0, 0.0, 99_999.0];
        let f = FixedGradients::new(Objective::Regression, &y, false).unwrap();
        for (i, &v) in y.iter().enumerate() {
            assert!((f.value(f.labels[i]) - v).abs() <= f.unit);
            assert!(f.labels[i].abs() <= 1 << 20);
        }
        assert!(FixedGradients::new(Objective::Regression, &y, true).is_none());
        assert!(FixedGradients::new(Objective::Tweedie, &y, false).is_none());
    }
}
