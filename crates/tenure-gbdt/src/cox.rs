//! Integer Cox gradients: the Breslow partial likelihood's gradients in
//! exact integer arithmetic, so that a GPU computes them bit for bit as the
//! CPU's quantised mode does (the GPU's kernels in `gpu` spell the same
//! steps in 32-bit words; a property test holds them to this module).
//!
//! For row `i` with risk `e_i = exp(s_i)`, event flag `δ_i`, and event
//! times `t_k` with `d_k` events and risk-set sums `R_k` (every row with
//! time `>= t_k`), the gradient is `e_i A_i - δ_i` and the hessian
//! `e_i A_i - e_i² B_i`, where `A_i = Σ d_k / R_k` and `B_i = Σ d_k / R_k²`
//! over the event times up to `t_i`. A round computes, in this order:
//!
//! 1. the largest score `m`, and each row's risk `E = exp(s - m) 2^30`
//!    (at least 1, so every risk set is positive) as the product of two
//!    table entries by the score's high and low bits ([`risk`]);
//! 2. the suffix sums `R` of the risks in time order, exact in 64 bits;
//! 3. per event time, `d / R` and `d / R²` from a 32-bit reciprocal of
//!    `R`'s leading 32 bits (long division), as 96-bit fixed-point terms
//!    whose unit the last event time's `R` sets, so that their sums stay
//!    below 2^94 ([`terms`]);
//! 4. the prefix sums `A` and `B` of the terms, exact;
//! 5. per row `c = E A` and `E² B` (the latter as `E (E B / 2^32)`), both
//!    below 2^128; the round's unit puts the largest `c` (or the event
//!    flag's 1) just under 2^23, as the other objectives' units do.
//!
//! Sums are of integers, so their order is free and the device's scans
//! equal these loops; every rounding (the reciprocal, the shifts) is a
//! floor of an exact value, which both sides take alike.

use rayon::prelude::*;

use crate::fixed::{UNIT_BITS, Units};

/// Risk table entries by the score's high bits: `exp(-k / 64)` for `k`
/// below this, in units of 2^-30. Scores 32 nats below the round's largest
/// (`e^-32 < 2^-46`) take the least risk, 1.
pub const RISK_HI: usize = 2048;
/// Risk table entries by the score's low 10 bits: `exp(-j / 65536)` in
/// units of 2^-31.
pub const RISK_LO: usize = 1024;
/// Fixed-point terms' sums stay below `2^TERM_BITS`: three 32-bit words.
pub const TERM_BITS: i32 = 94;
/// Added to the largest score so that the device's atomic maximum over
/// zeroed memory sees it (scores are within `±fixed::SCORE_LIMIT`).
pub const SCORE_BIAS: i32 = 1 << 24;

/// The survival labels in the form the integer gradients use; fixed for a
/// training.
#[derive(Debug, Clone)]
pub struct CoxLabels {
    /// Rows by time, ascending (ties by row): position `p` holds a row.
    pub order: Vec<u32>,
    /// Per position, the last event time at or before it (an index into
    /// `starts`), or -1 before the first.
    pub group: Vec<i32>,
    /// Per event time, the first position at that time (its risk set is
    /// every position from there on).
    pub starts: Vec<u32>,
    /// Per event time, its events.
    pub events: Vec<u32>,
    /// The bit length of the number of events.
    pub event_bits: i32,
}

impl CoxLabels {
    /// `None` when no row has an event (the partial likelihood is flat).
    pub fn new(time: &[f64], event: &[bool]) -> Option<Self> {
        let n = time.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            time[a as usize]
                .total_cmp(&time[b as usize])
                .then(a.cmp(&b))
        });
        let (mut group, mut starts, mut events) = (vec![-1; n], Vec::new(), Vec::new());
        let mut k = 0;
        while k < n {
            let t = time[order[k] as usize];
            let end = k + order[k..]
                .iter()
                // NaN times (which the booster refuses) group together.
                .take_while(|&&i| {
                    time[i as usize] == t || (t.is_nan() && time[i as usize].is_nan())
                })
                .count();
            let d = order[k..end].iter().filter(|&&i| event[i as usize]).count();
            if d > 0 {
                starts.push(k as u32);
                events.push(d as u32);
            }
            let last = starts.len() as i32 - 1;
            group[k..end].fill(last);
            k = end;
        }
        let total: u64 = events.iter().map(|&d| u64::from(d)).sum();
        (total > 0).then(|| Self {
            order,
            group,
            starts,
            events,
            event_bits: 64 - total.leading_zeros() as i32,
        })
    }
}

/// The risk tables: [`RISK_HI`] entries `exp(-k / 64) 2^30`, then
/// [`RISK_LO`] entries `exp(-j / 65536) 2^31` (the first capped at
/// `2^31 - 1`), all within `i32`.
pub fn risk_tables() -> Vec<i32> {
    let hi = (0..RISK_HI).map(|k| ((-(k as f64) / 64.0).exp() * f64::from(1 << 30)).round() as i32);
    let lo = (0..RISK_LO).map(|j| {
        ((-(j as f64) / 65536.0).exp() * 2_147_483_648.0)
            .floor()
            .min(f64::from(i32::MAX)) as i32
    });
    hi.chain(lo).collect()
}

/// A row's risk `exp(-t / 65536) 2^30` at `t >= 0` score units below the
/// round's largest: `2 hi * lo / 2^32` of the two table entries, at least 1.
pub fn risk(tables: &[i32], t: i32) -> u32 {
    if t >= (RISK_HI as i32) << 10 {
        return 1;
    }
    let hi = 2 * tables[(t >> 10) as usize] as u64;
    let lo = tables[RISK_HI + (t & 1023) as usize] as u64;
    (((hi * lo) >> 32) as u32).max(1)
}

/// The bit length of `v` (0 for 0).
fn bits(v: u128) -> i32 {
    128 - v.leading_zeros() as i32
}

/// `v * 2^s` floored, for `|s|` within 128.
fn shift(v: u64, s: i32) -> u128 {
    if s >= 0 {
        u128::from(v) << s
    } else if s > -64 {
        u128::from(v >> -s)
    } else {
        0
    }
}

/// `v / 2^s` floored, 0 past 127.
fn shr(v: u128, s: i32) -> u128 {
    if s < 128 { v >> s } else { 0 }
}

/// The fixed-point exponents of a round's terms: `d / R` is counted in
/// units of `2^-z`, `d / R²` in `2^-z2`, both set by the last event
/// time's risk-set sum `r_last` (the smallest) so that the sums of the
/// terms stay below `2^TERM_BITS`.
pub fn term_exponents(r_last: u64, event_bits: i32) -> (i32, i32) {
    let l = bits(u128::from(r_last)) - 1;
    (l + TERM_BITS - event_bits, 2 * l + TERM_BITS - event_bits)
}

/// An event time's terms `d / R` and `d / R²` in units of `2^-z` and
/// `2^-z2`: `R`'s leading 32 bits `rm` (`R ≈ rm 2^x`), the reciprocal
/// `q = (2^63 - 1) / rm` (32 bits), `q² / 2^32`, each times `d`, shifted.
pub fn terms(d: u32, r: u64, (z, z2): (i32, i32)) -> (u128, u128) {
    let x = bits(u128::from(r)) - 32;
    let rm = if x >= 0 { r >> x } else { r << -x };
    let q = ((1u64 << 63) - 1) / rm;
    let q2 = (q * q) >> 32;
    let d = u64::from(d);
    (shift(d * q, z - 63 - x), shift(d * q2, z2 - 94 - 2 * x))
}

/// The round's units (gradient and hessian alike) from the largest
/// `E A`'s bit length `top` (at least `z + 1`, so that the event flag
/// fits too) and the terms' exponent `z`: the largest is below 2^23 units.
pub fn units(top: i32, z: i32) -> Units {
    let u = top - UNIT_BITS - z;
    (u, u)
}

/// A row's gradient and hessian in the round's units, from its `c = E A`
/// and `e2b = E (E B / 2^32)` (in units of `2^-z` and `2^(32 - z2)`), its
/// event flag, and the round's top bit length: `c >> sh` is below 2^23, as
/// is the flag's `2^(z - sh)`.
fn in_units(c: u128, e2b: u128, delta: i32, top: i32, (z, z2): (i32, i32)) -> [i32; 2] {
    let sh = top - UNIT_BITS;
    let one = if z >= sh { 1 << (z - sh) } else { 0 };
    // `sh` passes 127 when the flag's floor `z + 1` sets the top (few
    // events, a last risk set past 2^57): every `c` is then 0.
    let c = shr(c, sh) as i32;
    let h = (c - shr(e2b, sh + z2 - z - 32) as i32).max(1);
    [c - delta * one, h]
}

/// Every row's integer gradient and hessian at `score`, in the round's
/// units (returned), with `delta` the rows' event flags.
pub fn gradients(
    labels: &CoxLabels,
    tables: &[i32],
    delta: &[i32],
    score: &[i32],
) -> (Vec<[i32; 2]>, Units) {
    let n = score.len();
    let m = score.par_iter().copied().max().unwrap_or(0);
    let risks: Vec<u32> = labels
        .order
        .par_iter()
        .map(|&i| risk(tables, m - score[i as usize]))
        .collect();
    let mut suffix = vec![0u64; n + 1];
    for p in (0..n).rev() {
        suffix[p] = suffix[p + 1] + u64::from(risks[p]);
    }
    let last = *labels.starts.last().expect("CoxLabels has an event") as usize;
    let exps = term_exponents(suffix[last], labels.event_bits);
    let (mut a, mut b) = (0u128, 0u128);
    let sums: Vec<(u128, u128)> = labels
        .starts
        .iter()
        .zip(&labels.events)
        .map(|(&p, &d)| {
            let (ta, tb) = terms(d, suffix[p as usize], exps);
            a += ta;
            b += tb;
            (a, b)
        })
        .collect();
    let at = |p: usize| -> (u128, u128) {
        let e = u128::from(risks[p]);
        let (a, b) = match labels.group[p] {
            k if k >= 0 => sums[k as usize],
            _ => (0, 0),
        };
        (e * a, e * ((e * b) >> 32))
    };
    let z = exps.0;
    let top = (0..n)
        .into_par_iter()
        .map(|p| bits(at(p).0))
        .max()
        .unwrap_or(0)
        .max(z + 1);
    let mut out = vec![[0, 0]; n];
    let rows: Vec<(u32, [i32; 2])> = (0..n)
        .into_par_iter()
        .map(|p| {
            let (c, e2b) = at(p);
            let i = labels.order[p];
            (i, in_units(c, e2b, delta[i as usize], top, exps))
        })
        .collect();
    for (i, gh) in rows {
        out[i as usize] = gh;
    }
    (out, units(top, z))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_risk_table_is_exp_within_two_parts_in_a_billion() {
        let tables = risk_tables();
        for t in (0..(RISK_HI as i32) << 10).step_by(997) {
            let want = (-f64::from(t) / 65536.0).exp() * f64::from(1 << 30);
            let got = f64::from(risk(&tables, t));
            assert!((got - want).abs() <= 2e-9 * f64::from(1 << 30) + 1.0, "{t}");
        }
        assert_eq!(risk(&tables, 0), (1 << 30) - 1);
        assert_eq!(risk(&tables, i32::MAX), 1);
    }

    #[test]
    fn terms_are_d_over_r_and_d_over_r_squared() {
        for &(d, r) in &[
            (1u32, 1u64),
            (3, 7),
            (1, (1 << 30) - 1),
            (40, 123_456_789_012),
            (2, 1 << 61),
        ] {
            for r_last in [1u64, r] {
                let (z, z2) = term_exponents(r_last, 6);
                let (a, b) = terms(d, r, (z, z2));
                // Within 1e-8, or one unit: a term far below the last
                // event time's is floored to the unit.
                let (unit, unit2) = (f64::from(-z).exp2(), f64::from(-z2).exp2());
                let want_a = f64::from(d) / r as f64;
                let got_a = a as f64 * unit;
                assert!(
                    (got_a - want_a).abs() <= 1e-8 * want_a + unit,
                    "{d} {r}: {got_a}"
                );
                let want_b = want_a / r as f64;
                let got_b = b as f64 * unit2;
                assert!(
                    (got_b - want_b).abs() <= 1e-8 * want_b + unit2,
                    "{d} {r}: {got_b}"
                );
                assert!(a < 1 << TERM_BITS && b < 1 << TERM_BITS);
            }
        }
    }

    /// The integer gradients against the `f64` objective's, within a few
    /// units of the round (the unit puts the largest just under 2^23).
    #[test]
    fn gradients_are_the_partial_likelihoods_within_three_units() {
        use crate::fixed::FixedGradients;
        use crate::objective::{Labels, Loss, Objective};
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as f64 / f64::from(1u32 << 31)
        };
        for (n, spread, distinct) in [
            (7, 1.0, 3.0),
            (500, 3.0, 40.0),
            (3000, 12.0, 1e6),
            (200, 40.0, 5.0),
        ] {
            let time: Vec<f64> = (0..n).map(|_| (next() * distinct).floor()).collect();
            let event: Vec<bool> = (0..n).map(|_| next() < 0.4).collect();
            let fx = FixedGradients::cox(&time, &event).unwrap();
            let score: Vec<i32> = (0..n)
                .map(|_| fx.to_score((next() - 0.5) * spread))
                .collect();
            let round = fx.round(&score);
            let (gu, hu) = FixedGradients::unit_values(round.units);
            let loss = Loss {
                objective: Objective::Cox,
                labels: Labels::survival(&time, &event),
                weights: None,
                rho: 1.5,
            };
            let x: Vec<f64> = score.iter().map(|&s| fx.value(s)).collect();
            let mut want = vec![[0.0; 2]; n];
            loss.gradients(&x, &mut want);
            let (mut gmax, mut hmax) = (0, 0);
            for (i, w) in want.iter().enumerate() {
                let (g, h) = fx.gradient(score[i], i, &round);
                gmax = gmax.max(g.abs());
                hmax = hmax.max(h);
                assert!(
                    (f64::from(g) * gu - w[0]).abs() <= 3.0 * gu,
                    "{n} {i}: g {g} {w:?}"
                );
                assert!(
                    (f64::from(h) * hu - w[1]).abs() <= 3.0 * hu,
                    "{n} {i}: h {h} {w:?}"
                );
            }
            // The unit spends the 23 bits: the largest is within a factor 2.
            assert!(
                gmax < 1 << 23 && hmax < 1 << 23 && gmax >= 1 << 21,
                "{gmax} {hmax}"
            );
        }
    }

    /// With one event and 2^27 rows at risk (`z = 150`), the event flag
    /// sets the top and the shift passes 127: the products count 0, the
    /// flag 2^22 units, as the device's 128-bit shift gives.
    #[test]
    fn a_shift_past_the_products_counts_them_zero() {
        let (z, z2) = (150, 207);
        let c = (1u128 << 123) + 12345;
        assert_eq!(in_units(c, c >> 3, 1, z + 1, (z, z2)), [-(1 << 22), 1]);
        assert_eq!(in_units(c, c >> 3, 0, z + 1, (z, z2)), [0, 1]);
        // Below the floor, the largest product spends the 23 bits.
        assert_eq!(in_units(c, 0, 0, 124, (100, 150))[0], (c >> 101) as i32);
    }

    #[test]
    fn labels_group_ties_and_skip_censored_times() {
        let time = [3.0, 1.0, 2.0, 2.0, 5.0, 0.5];
        let event = [true, false, true, true, false, false];
        let l = CoxLabels::new(&time, &event).unwrap();
        assert_eq!(l.order, [5, 1, 2, 3, 0, 4]);
        assert_eq!(l.starts, [2, 4]);
        assert_eq!(l.events, [2, 1]);
        assert_eq!(l.group, [-1, -1, 0, 0, 1, 1]);
        assert_eq!(l.event_bits, 2);
        assert!(CoxLabels::new(&time, &[false; 6]).is_none());
    }
}
