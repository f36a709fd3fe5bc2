//! Integer gradients: how the quantised mode computes and rounds the
//! gradients of every objective (Cox's in [`crate::cox`]), the same way on
//! the CPU and on a GPU.
//!
//! A GPU's `exp` is an approximation of its own, and its compilers may fuse
//! a multiply into an add (CUDA does by default; Mesa may for a shader op
//! not marked exact), so `f32` gradients computed on a device are not the
//! CPU's, and one level's difference in one row can change a split.
//! Integer arithmetic is exact on every backend. So in the quantised mode
//! (`use_quantized_grad`, and always on a GPU), for every objective (Cox
//! without row weights):
//!
//! - training scores are fixed-point integers (`unit` apart), and leaf
//!   values are rounded to that grid, so the booster predicts exactly the
//!   scores it trained on;
//! - the sigmoid and its derivative come from tables (built here once, in
//!   `f64`, and uploaded), linearly interpolated in integers;
//! - Tweedie's `exp((1 - rho) s)` and `exp((2 - rho) s)` are products of
//!   two table entries (by the score's high and low bits) held as [`soft`]
//!   numbers, 16-bit mantissas with an exponent, whose products fit in
//!   `u32`; the round's largest term sets the unit the gradients are
//!   counted in, so they span 23 bits whatever the spend's scale;
//! - a round's levels are `floor(v * levels / max)` in integer division,
//!   rounded up stochastically by a 32-bit hash of the round and the row
//!   (or to nearest);
//! - the levels choose the splits, and each leaf's value comes from the
//!   exact sums of its rows' integer gradients (LightGBM's leaf renewal),
//!   which the GPU sums in blocks of split halves that fit in `i32`;
//! - row weights are held as [`soft`] numbers: a row's gradient times its
//!   weight's mantissa (40 bits) is shifted into a unit the round's
//!   largest such product sets ([`weighed`]), so weighted gradients span
//!   23 bits too.
//!
//! The GPU's kernels (`gpu`) spell the same steps; a property test holds
//! them to this module's results. Cox gradients, which need risk-set sums
//! over the time order, are a round's at once ([`crate::cox`]).

use rayon::prelude::*;

use crate::cox::CoxLabels;
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
    Tweedie = 2,
    Cox = 3,
}

/// A round's units: one gradient unit is `2^units.0`, one hessian unit
/// `2^units.1`. Fixed for binary and squared error; for Tweedie the
/// largest gradient of the round sets them (see [`FixedGradients::round`]).
pub type Units = (i32, i32);

/// Where the Tweedie tables sit in [`FixedGradients::exps`]: for each of
/// `exp((1 - rho) s)` and `exp((2 - rho) s)`, [`EXP_HI`] values at scores
/// `k * 2^10 - 2^21` units and [`EXP_LO`] at `j` units (`exp(c s)` is their
/// product), then the constants `rho - 1` and `2 - rho`.
pub const EXP_HI: usize = 4097;
pub const EXP_LO: usize = 1024;
const EXP_A: usize = 0;
pub(crate) const EXP_B: usize = EXP_HI + EXP_LO;
pub(crate) const EXP_K1: usize = 2 * (EXP_HI + EXP_LO);
pub(crate) const EXP_K2: usize = EXP_K1 + 1;
/// Tweedie scores are looked up within `±2^21` units (`±32`): past that a
/// gradient is the table end's (a mean spend beyond `e^32`, 7.9e13).
const EXP_SPAN: i32 = 1 << 21;
/// Added to an exponent bound so the device's atomic max over zeroed
/// memory sees it (a bound is far above `-4096`).
pub const EXPONENT_BIAS: i32 = 4096;
/// A round's gradient unit puts its largest term just under 2^23 units.
pub const UNIT_BITS: i32 = 23;

/// One training's integer gradients: the labels on the score grid and the
/// sigmoid tables.
#[derive(Debug, Clone)]
pub struct FixedGradients {
    pub kind: FixedKind,
    /// One score unit, as a raw score (a power of two).
    pub unit: f64,
    /// The gradient and hessian units of binary and squared error.
    fixed_units: Units,
    /// Per row: 0 or 1 (binary), the label in score units (squared
    /// error), or the label as a [`soft`] number (Tweedie).
    pub labels: Vec<i32>,
    /// Tweedie's `exp` tables and constants as [`soft`] numbers (see
    /// [`EXP_HI`]); empty otherwise.
    pub exps: Vec<i32>,
    /// The sigmoid and its derivative at [`TABLE_LEN`] scores from `-16`,
    /// in units of 2^-24.
    pub sigmoid: Vec<i32>,
    pub slope: Vec<i32>,
    /// Cox's time order and event times (`labels` are then the event
    /// flags, `exps` the risk tables).
    pub cox: Option<CoxLabels>,
    /// Row weights as [`soft`] numbers (empty: unweighted).
    pub weights: Vec<i32>,
}

/// A round's integer gradients: their units, and every row's gradient and
/// hessian, computed once a round on the host (Cox's each needs every
/// row's score; row weights' unit the largest weighted gradient sets);
/// empty when the device computed them.
#[derive(Debug, Clone, Default)]
pub struct RoundGradients {
    pub units: Units,
    rows: Vec<[i32; 2]>,
}

impl RoundGradients {
    /// A round whose gradients are each row's own, from its score.
    pub fn new(units: Units) -> Self {
        Self {
            units,
            rows: Vec::new(),
        }
    }
}

impl FixedGradients {
    /// The integer gradients of `objective` on labels `y`, with row
    /// `weights` (held to 16 bits) if any, or `None` for Cox (which
    /// [`FixedGradients::cox`] builds). `rho` is Tweedie's variance power.
    pub fn new(objective: Objective, y: &[f64], weights: Option<&[f64]>, rho: f64) -> Option<Self> {
        let own = Self::unweighted(objective, y, rho)?;
        Some(Self {
            weights: weights.map_or_else(Vec::new, |w| w.iter().map(|&v| soft(v)).collect()),
            ..own
        })
    }

    fn unweighted(objective: Objective, y: &[f64], rho: f64) -> Option<Self> {
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
                    fixed_units: (-24, -24),
                    exps: Vec::new(),
                    labels: y.iter().map(|&v| i32::from(v == 1.0)).collect(),
                    sigmoid: table(sig),
                    // sigma(s) * sigma(-s): no cancellation in the tails.
                    slope: table(|s| sig(s) * sig(-s)),
                    cox: None,
                    weights: Vec::new(),
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
                    fixed_units: (exp, 0),
                    exps: Vec::new(),
                    labels: y.iter().map(|&v| (v / unit).round() as i32).collect(),
                    sigmoid: Vec::new(),
                    slope: Vec::new(),
                    cox: None,
                    weights: Vec::new(),
                })
            }
            Objective::Tweedie => {
                let unit = (-f64::from(BINARY_SHIFT)).exp2();
                let mut exps = Vec::with_capacity(EXP_K2 + 1);
                for c in [1.0 - rho, 2.0 - rho] {
                    let hi =
                        (0..EXP_HI).map(|k| ((k as f64) * 1024.0 - f64::from(EXP_SPAN)) * unit);
                    exps.extend(hi.map(|s| soft((c * s).exp())));
                    exps.extend((0..EXP_LO).map(|j| soft((c * j as f64 * unit).exp())));
                }
                exps.extend([soft(rho - 1.0), soft(2.0 - rho)]);
                Some(Self {
                    kind: FixedKind::Tweedie,
                    unit,
                    fixed_units: (0, 0),
                    exps,
                    labels: y.iter().map(|&v| soft(v)).collect(),
                    sigmoid: Vec::new(),
                    slope: Vec::new(),
                    cox: None,
                    weights: Vec::new(),
                })
            }
            Objective::Cox => None,
        }
    }

    /// The integer Cox gradients of survival labels (no row weights), or
    /// `None` when no row has an event.
    pub fn cox(time: &[f64], event: &[bool]) -> Option<Self> {
        let labels = CoxLabels::new(time, event)?;
        Some(Self {
            kind: FixedKind::Cox,
            unit: (-f64::from(BINARY_SHIFT)).exp2(),
            fixed_units: (0, 0),
            labels: event.iter().map(|&e| i32::from(e)).collect(),
            exps: crate::cox::risk_tables(),
            sigmoid: Vec::new(),
            slope: Vec::new(),
            cox: Some(labels),
            weights: Vec::new(),
        })
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

    /// Row `i`'s Tweedie terms at score `s`: `exp((2 - rho) s)`,
    /// `y exp((1 - rho) s)`, and the hessian's `(2 - rho) exp((2 - rho) s)`
    /// and `(rho - 1) y exp((1 - rho) s)`, as [`soft`] numbers.
    fn tweedie_terms(&self, s: i32, i: usize) -> [i32; 4] {
        let a = soft_exp(&self.exps, EXP_A, s);
        let b = soft_exp(&self.exps, EXP_B, s);
        let ya = soft_mul(self.labels[i], a);
        [
            b,
            ya,
            soft_mul(self.exps[EXP_K2], b),
            soft_mul(self.exps[EXP_K1], ya),
        ]
    }

    /// The round's gradients at `score`: for Tweedie, its units are the
    /// largest gradient and hessian terms' bit lengths less
    /// [`UNIT_BITS`], so every term is below 2^23 units (the device takes
    /// the same maxima atomically); Cox computes every row's, and so do
    /// row weights ([`weighed`]).
    pub fn round(&self, score: &[i32]) -> RoundGradients {
        if let Some(cox) = &self.cox {
            let (rows, units) = crate::cox::gradients(cox, &self.exps, &self.labels, score);
            return RoundGradients { units, rows };
        }
        // Every row's pair once a round (8 bytes a row), which the
        // quantiser's two passes and the leaf sums then read.
        let own = self.own_units(score);
        let mut rows: Vec<[i32; 2]> = score
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let (g, h) = self.own_gradient(s, i, own);
                [g, h]
            })
            .collect();
        if self.weights.is_empty() {
            return RoundGradients { units: own, rows };
        }
        let (tg, th) = rows
            .par_iter()
            .zip(&self.weights)
            .map(|(&[g, h], &w)| (weighed_top(g, w), weighed_top(h, w)))
            .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        let (ug, uh) = (weighed_unit(tg), weighed_unit(th));
        rows.par_iter_mut()
            .zip(&self.weights)
            .for_each(|(r, &w)| *r = [weighed(r[0], w, ug), weighed(r[1], w, uh)]);
        RoundGradients {
            units: (own.0 + ug, own.1 + uh),
            rows,
        }
    }

    /// The units of the unweighted gradients at `score`.
    fn own_units(&self, score: &[i32]) -> Units {
        if self.kind != FixedKind::Tweedie {
            return self.fixed_units;
        }
        let (g, h) = score
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let [b, ya, hb, hya] = self.tweedie_terms(s, i);
                (
                    soft_top(b).max(soft_top(ya)) + EXPONENT_BIAS,
                    soft_top(hb).max(soft_top(hya)) + EXPONENT_BIAS,
                )
            })
            .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        self.units_from_tops(g, h)
    }

    /// The round's units from the largest gradient and hessian terms' bit
    /// lengths ([`EXPONENT_BIAS`] added), as [`FixedGradients::round`]
    /// and the device's atomic maxima take them; fixed for binary and
    /// squared error.
    pub fn units_from_tops(&self, g: i32, h: i32) -> Units {
        if self.kind != FixedKind::Tweedie {
            return self.fixed_units;
        }
        let unit = |top: i32| top - EXPONENT_BIAS - UNIT_BITS;
        (unit(g), unit(h))
    }

    /// One gradient unit and one hessian unit as numbers.
    pub fn unit_values(units: Units) -> (f64, f64) {
        (f64::from(units.0).exp2(), f64::from(units.1).exp2())
    }

    /// Row `i`'s gradient and hessian at score `s`, in the round's units.
    pub fn gradient(&self, s: i32, i: usize, round: &RoundGradients) -> (i32, i32) {
        match round.rows.get(i) {
            Some(&[g, h]) => (g, h),
            None => self.own_gradient(s, i, round.units),
        }
    }

    /// Row `i`'s unweighted gradient and hessian at score `s`, in `units`.
    fn own_gradient(&self, s: i32, i: usize, units: Units) -> (i32, i32) {
        match self.kind {
            FixedKind::Binary => {
                let p = interpolate(&self.sigmoid, s);
                (p - self.labels[i] * PROB_ONE, interpolate(&self.slope, s))
            }
            FixedKind::Regression => (s - self.labels[i], 1),
            FixedKind::Tweedie => {
                let [b, ya, hb, hya] = self.tweedie_terms(s, i);
                (
                    soft_units(b, units.0) - soft_units(ya, units.0),
                    soft_units(hb, units.1) + soft_units(hya, units.1),
                )
            }
            FixedKind::Cox => unreachable!("Cox gradients are a round's"),
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
    ) -> ((f64, f64), RoundGradients) {
        let round = self.round(score);
        let (gmax, hmax) = score
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let (g, h) = self.gradient(s, i, &round);
                (g.abs(), h)
            })
            .reduce(|| (0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        let (gmax, hmax) = (gmax.max(1), hmax.max(1));
        let (half, full) = ((levels / 2) as i32, levels as i32);
        out.par_iter_mut().enumerate().for_each(|(i, p)| {
            let (g, h) = self.gradient(score[i], i, &round);
            let noise = hash(key ^ i as u32);
            let gl = level(g, gmax, half, noise, stochastic);
            let hl = level(h, hmax, full, hash(noise), stochastic);
            *p = pack(gl, hl as u32);
        });
        (self.scales(gmax, hmax, levels, round.units), round)
    }

    /// The exact sums of the integer gradients and hessians of `rows` at
    /// `score` (for leaf values: the levels chose the splits, these give
    /// the values, as LightGBM's leaf renewal does with exact gradients).
    pub fn sums(&self, score: &[i32], rows: &[u32], round: &RoundGradients) -> (i64, i64) {
        rows.iter().fold((0, 0), |(g, h), &i| {
            let (gi, hi) = self.gradient(score[i as usize], i as usize, round);
            (g + i64::from(gi), h + i64::from(hi))
        })
    }

    /// One level's gradient and hessian, given the round's largest
    /// `|gradient|` and hessian in units (at least 1).
    pub fn scales(&self, gmax: i32, hmax: i32, levels: usize, units: Units) -> (f64, f64) {
        let (gu, hu) = Self::unit_values(units);
        (
            f64::from(gmax) * gu / (levels / 2) as f64,
            f64::from(hmax) * hu / levels as f64,
        )
    }
}

/// A "soft" number: `m * 2^e` with a 16-bit mantissa `m` (`2^15 <= m <
/// 2^16`, or 0 for zero) packed in one `i32` as `m + e * 65536`. Products
/// of two mantissas fit in `u32`, so multiplying is exact integer work on
/// every backend, then truncated back to 16 bits.
pub fn soft(x: f64) -> i32 {
    // Below 2^-1000 (subnormals among them, whose scaling would overflow)
    // is zero to a model of spend.
    if x.is_nan() || x < f64::from(-1000).exp2() || !x.is_finite() {
        return 0;
    }
    let mut e = x.log2().floor() as i32 - 15;
    let mut m = (x * f64::from(-e).exp2()).floor();
    while m >= 65_536.0 {
        e += 1;
        m = (x * f64::from(-e).exp2()).floor();
    }
    while m < 32_768.0 {
        e -= 1;
        m = (x * f64::from(-e).exp2()).floor();
    }
    m as i32 + e * 65_536
}

/// The value of a [`soft`] number.
pub fn soft_value(v: i32) -> f64 {
    f64::from(soft_m(v)) * f64::from(soft_e(v)).exp2()
}

fn soft_m(v: i32) -> u32 {
    (v & 0xFFFF) as u32
}

fn soft_e(v: i32) -> i32 {
    (v - (v & 0xFFFF)) / 65_536
}

/// The product of two [`soft`] numbers, its mantissa truncated.
pub fn soft_mul(a: i32, b: i32) -> i32 {
    let p = soft_m(a) * soft_m(b);
    let e = soft_e(a) + soft_e(b);
    if p >= 1 << 31 {
        (p >> 16) as i32 + (e + 16) * 65_536
    } else if p > 0 {
        (p >> 15) as i32 + (e + 15) * 65_536
    } else {
        0
    }
}

/// `exp(c s)` from the tables at `base` (see [`EXP_HI`]).
fn soft_exp(exps: &[i32], base: usize, s: i32) -> i32 {
    let t = (s.clamp(-EXP_SPAN, EXP_SPAN) + EXP_SPAN) as u32;
    let hi = (t >> 10) as usize;
    let lo = (t & 1023) as usize;
    soft_mul(exps[base + hi], exps[base + EXP_HI + lo])
}

/// An upper bound on a soft number's bit length (`2^top` exceeds it).
fn soft_top(v: i32) -> i32 {
    if soft_m(v) == 0 {
        -1_000_000
    } else {
        soft_e(v) + 16
    }
}

/// A soft number in units of `2^k`, floored (`k` leaves it below 2^23).
fn soft_units(v: i32, k: i32) -> i32 {
    let m = soft_m(v);
    let sh = soft_e(v) - k;
    // Zero's exponent is 0, not a bound: its shift could pass 31.
    if m == 0 {
        0
    } else if sh >= 0 {
        (m << sh) as i32
    } else if sh > -32 {
        (m >> -sh) as i32
    } else {
        0
    }
}

/// The bit length of a weighted gradient `|v| m_w 2^e_w` (a [`soft`]
/// weight's mantissa and exponent), [`EXPONENT_BIAS`] added, or 0 for
/// zero: the round's largest sets the weighted unit ([`weighed_unit`]).
pub fn weighed_top(v: i32, w: i32) -> i32 {
    let p = u64::from(v.unsigned_abs()) * u64::from(soft_m(w));
    if p == 0 {
        0
    } else {
        64 - p.leading_zeros() as i32 + soft_e(w) + EXPONENT_BIAS
    }
}

/// The weighted unit (as a power of two of the unweighted one) that puts
/// the largest weighted gradient, of bit length `top`, below 2^23.
pub fn weighed_unit(top: i32) -> i32 {
    top - EXPONENT_BIAS - UNIT_BITS
}

/// `v` times the [`soft`] weight `w`, in units of `2^unit` (of `v`'s):
/// the magnitude floored, the sign kept.
pub fn weighed(v: i32, w: i32, unit: i32) -> i32 {
    let p = u64::from(v.unsigned_abs()) * u64::from(soft_m(w));
    let shift = unit - soft_e(w);
    // A zero product's shift is unbounded (its row set no top).
    let m = if p == 0 || shift >= 64 {
        0
    } else if shift >= 0 {
        p >> shift
    } else {
        p << -shift
    };
    v.signum() * m as i32
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
        let f = FixedGradients::new(Objective::Binary, &[0.0], None, 1.5).unwrap();
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
        let f = FixedGradients::new(Objective::Regression, &y, None, 1.5).unwrap();
        for (i, &v) in y.iter().enumerate() {
            assert!((f.value(f.labels[i]) - v).abs() <= f.unit);
            assert!(f.labels[i].abs() <= 1 << 20);
        }
        assert!(FixedGradients::new(Objective::Cox, &y, None, 1.5).is_none());
    }

    /// Weighted gradients are the weight times the unweighted one, within
    /// the weight's 16 bits and a unit, in a unit the largest sets.
    #[test]
    fn weighted_gradients_carry_their_weights() {
        let y = [1.0, 0.0, 1.0, 0.0, 1.0];
        let w = [1.0, 3.7, 0.001, 250.0, 0.0];
        let f = FixedGradients::new(Objective::Binary, &y, Some(&w), 1.5).unwrap();
        let scores: Vec<i32> = [-2.0, 0.5, 3.0, -0.1, 1.0]
            .iter()
            .map(|&s| f.to_score(s))
            .collect();
        let round = f.round(&scores);
        let (gu, hu) = FixedGradients::unit_values(round.units);
        let mut gmax = 0;
        for (i, &s) in scores.iter().enumerate() {
            let p = 1.0 / (1.0 + (-f.value(s)).exp());
            let (g, h) = f.gradient(s, i, &round);
            let (g_want, h_want) = (w[i] * (p - y[i]), w[i] * p * (1.0 - p));
            assert!(
                (f64::from(g) * gu - g_want).abs() <= 4e-5 * g_want.abs() + gu,
                "{i}: {g}"
            );
            assert!(
                (f64::from(h) * hu - h_want).abs() <= 4e-5 * h_want + hu,
                "{i}: {h}"
            );
            gmax = gmax.max(g.abs());
        }
        // The heaviest row's gradient spends the 23 bits.
        assert!((1 << 22..1 << 23).contains(&gmax), "{gmax}");
        assert_eq!(f.gradient(scores[4], 4, &round), (0, 0));
        // Every gradient 0 (labels at the scores): no row sets a top, and
        // the zero products shift by nothing.
        let flat = FixedGradients::new(Objective::Regression, &[0.0; 3], Some(&[1.0; 3]), 1.5);
        let flat = flat.unwrap();
        let round = flat.round(&[0; 3]);
        assert_eq!(flat.gradient(0, 1, &round).0, 0);
    }

    #[test]
    fn tweedie_gradients_are_within_a_ten_thousandth_of_their_terms() {
        let rho = 1.4;
        let y = [0.0, 3.5, 120.0, 0.01, 7e4];
        let f = FixedGradients::new(Objective::Tweedie, &y, None, rho).unwrap();
        for &x in &[1.0, 1e-9, 12_345.678, 3e12, 1e-300, 1e300, f64::MAX] {
            assert!((soft_value(soft(x)) / x - 1.0).abs() < 4e-5, "{x}");
        }
        for x in [0.0, 5e-324, f64::MIN_POSITIVE, -1.0, f64::NAN] {
            assert_eq!(soft(x), 0, "{x}");
        }
        // Rates: every term far below 1, so the unit is below 2^-32 and a
        // zero label's term must not be shifted by 32 or more.
        let rates = [0.0, 5e-6, 9e-6, 0.0];
        let small = FixedGradients::new(Objective::Tweedie, &rates, None, 1.1).unwrap();
        let at = vec![small.to_score(4e-6f64.ln()); rates.len()];
        let round = small.round(&at);
        assert!(round.units.0 < -32, "{:?}", round.units);
        for (i, &s) in at.iter().enumerate() {
            let (g, h) = small.gradient(s, i, &round);
            assert!(h > 0 && g.abs() < 1 << 24, "{i}: {g} {h}");
        }
        let scores: Vec<i32> = [-3.0, 0.0, 2.5, 6.0, 11.0]
            .iter()
            .map(|&s| f.to_score(s))
            .collect();
        let round = f.round(&scores);
        let units = round.units;
        let (gu, hu) = (f64::from(units.0).exp2(), f64::from(units.1).exp2());
        for (i, (&s, &y)) in scores.iter().zip(&y).enumerate() {
            let x = f.value(s);
            let (a, b) = (((1.0 - rho) * x).exp(), ((2.0 - rho) * x).exp());
            let (g_want, h_want) = (b - y * a, (2.0 - rho) * b + (rho - 1.0) * y * a);
            let (g, h) = f.gradient(s, i, &round);
            assert!(g.abs() < 1 << 24 && (0..1 << 24).contains(&h));
            // Each term carries 15 bits; the gradient may cancel them.
            let terms = b.max(y * a);
            let g_err = (f64::from(g) * gu - g_want).abs();
            assert!(g_err < 1e-4 * terms + gu, "{i}: {g} vs {g_want}");
            let h_err = (f64::from(h) * hu - h_want).abs();
            assert!(h_err < 1e-4 * h_want + hu, "{i}: {h} vs {h_want}");
        }
    }
}
