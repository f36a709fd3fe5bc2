//! Row weights on the device: each row's own integer gradient times its
//! weight's 16-bit mantissa (a 40-bit product, from 16-bit limbs), shifted
//! into the unit the round's largest product sets, as
//! [`crate::fixed::weighed`] does on the host. Two passes, as the host's:
//! each row's own pair with the largest products' bit lengths (atomic
//! maxima), then the pairs weighed in place, which the quantising kernels
//! read.

use cubecl::prelude::*;

use super::{bits_at, bits64, fixed_gradient, fixed_hessian, mul_hi, mul_lo};
use crate::fixed::EXPONENT_BIAS;

/// Where the weighted units' bit lengths sit in the statistics buffer.
pub(super) const STAT_TOPS: usize = 10;
// The kernels spell these as literals (`10`, `11`, `4096`).
const _: () = assert!(STAT_TOPS == 10 && EXPONENT_BIAS == 4096);

/// `|v|` times the weight's mantissa, as `(lo, hi)` words.
#[cube]
fn product(v: i32, w: i32) -> (u32, u32) {
    let mut a = v;
    if a < 0i32 {
        a = -a;
    }
    let m = u32::cast_from(w & 65535i32);
    let a = u32::cast_from(a);
    (mul_lo(a, m), mul_hi(a, m))
}

/// The weight's exponent.
#[cube]
fn exponent(w: i32) -> i32 {
    (w - (w & 65535i32)) / 65536i32
}

/// `fixed::weighed_top`.
#[cube]
fn weighed_top(v: i32, w: i32) -> i32 {
    let (lo, hi) = product(v, w);
    let mut top = 0i32;
    if lo != 0u32 || hi != 0u32 {
        top = bits64(lo, hi) + exponent(w) + 4096i32;
    }
    top
}

/// `fixed::weighed`: the magnitude floored, the sign kept.
#[cube]
fn weighed(v: i32, w: i32, unit: i32) -> i32 {
    let (lo, hi) = product(v, w);
    let m = i32::cast_from(bits_at(lo, hi, unit - exponent(w)));
    let mut out = m;
    if v < 0i32 {
        out = -m;
    }
    out
}

/// Each row's own gradient and hessian into `rows[2 i]` and
/// `rows[2 i + 1]`, and the largest weighted ones' bit lengths into
/// `stats[10]` and `stats[11]` (a cube's maxima first).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn own_rows_kernel(
    score: &[i32],
    label: &[i32],
    sigmoid: &[i32],
    slope: &[i32],
    exps: &[i32],
    weights: &[i32],
    stats: &[Atomic<i32>],
    rows: &mut [i32],
    kind: u32,
    n: usize,
) {
    let local = Shared::<[Atomic<i32>]>::new_slice(2usize);
    if UNIT_POS == 0u32 {
        local[0usize].store(0i32);
        local[1usize].store(0i32);
    }
    sync_cube();
    let kg = stats[4usize].load() - 4119i32;
    let kh = stats[5usize].load() - 4119i32;
    let i = ABSOLUTE_POS;
    if i < n {
        let (s, y, w) = (score[i], label[i], weights[i]);
        // `weights` stands in for the rows these kinds do not read.
        let g = fixed_gradient(kind, s, y, sigmoid, exps, kg, weights, i);
        let h = fixed_hessian(kind, s, y, slope, exps, kh, weights, i);
        rows[2usize * i] = g;
        rows[2usize * i + 1usize] = h;
        local[0usize].fetch_max(weighed_top(g, w));
        local[1usize].fetch_max(weighed_top(h, w));
    }
    sync_cube();
    if UNIT_POS == 0u32 {
        stats[10usize].fetch_max(local[0usize].load());
        stats[11usize].fetch_max(local[1usize].load());
    }
}

/// Weighs each row's pair in place, in the units `stats[10..12]` set.
#[cube(launch)]
pub(super) fn weigh_rows_kernel(weights: &[i32], stats: &[i32], rows: &mut [i32], n: usize) {
    let i = ABSOLUTE_POS;
    if i < n {
        let (ug, uh) = (stats[10usize] - 4119i32, stats[11usize] - 4119i32);
        let w = weights[i];
        rows[2usize * i] = weighed(rows[2usize * i], w, ug);
        rows[2usize * i + 1usize] = weighed(rows[2usize * i + 1usize], w, uh);
    }
}
