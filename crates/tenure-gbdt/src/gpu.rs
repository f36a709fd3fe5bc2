//! Gradient histograms on a GPU, with kernels written once in cubecl for
//! wgpu (Vulkan, Metal, DX12; Mesa's lavapipe in CI) and CUDA.
//!
//! The binned matrix goes to the device once per training, four rows' bins
//! to a 32-bit word, column by column. There it stays, with the rows of
//! the tree being grown partitioned by leaf: each leaf owns a range of
//! positions in a row-index array, the same ranges the host's leaves own,
//! and a split partitions its leaf's range on the device.
//!
//! The training scores stay on the device too, as fixed-point integers: a
//! round computes its gradients there from a sigmoid table (Tweedie:
//! `exp` tables and 16-bit-mantissa products, in a unit its largest term
//! sets; Cox: risk-set sums by exact integer scans over the time order, in
//! `cox`; row weights: 16-bit mantissas, in `weighted`), takes their
//! maxima, and quantises them with a 32-bit hash for the rounding noise,
//! all in integer arithmetic, which every backend does exactly
//! ([`crate::fixed`] and [`crate::cox`] are the host's twins). The host
//! reads back the two maxima, then each leaf's exact gradient sums for its
//! value, and sends the grown tree for the device to add to the scores.
//! Only weighted Cox (weights would enter the risk-set sums) has its
//! gradients computed on the host in `f64`, and a round uploads their
//! levels, a byte each per row. A leaf's histogram is summed on the device over that leaf's rows only (so
//! a tree costs rows x features x depth, not rows x features x leaves).
//! Within a leaf the device's row order is free (atomics place rows): the
//! sums are integers, so no order changes them.
//!
//! Leaf histograms stay on the device: the larger child's is the parent's
//! minus the smaller child's there, and search kernels shortlist each
//! feature's best [`SHORTLIST`] splits by an `f32` gain over exact integer
//! sums. A numeric feature's candidates are thresholds over prefix sums; a
//! categorical feature's are LightGBM's sets of levels, the levels ranked
//! by `g / (h + cat_smooth)` with exact 64-bit cross products (built from
//! 16-bit limbs: WGSL has no 64-bit integers), then summed in rank order.
//! With each list comes an upper bound on the exact gain of every
//! candidate left off (the `f32` gain plus a margin four times its
//! rounding error). Only the shortlists come back (17 integers a feature,
//! and 49 more a categorical one), and the host scores them in `f64`
//! exactly as its own scan scores every candidate
//! (`LeafScan::best_shortlisted`). When the bound is below the best listed
//! gain, no candidate left off can win or tie, so the split is the full
//! scan's. Otherwise (a fifth candidate within about 2^-17 of the best
//! total gain, which large leaves with a strong mean gradient see) the
//! feature's bins come back and the host scans it in full, unless another
//! feature's split already beats the bound. Candidates that repeat one met
//! earlier (an empty bin's threshold, a mirrored set of levels) take no
//! slot. Past
//! `gpu_histogram_pool_size` (1 GiB) of leaf histograms they come back
//! instead, packed to the bins each feature uses, and the host searches.
//!
//! Float atomics are missing on some wgpu backends (lavapipe among them)
//! and make sums depend on the order threads arrive in, so the device only
//! ever adds integers: the booster's quantised gradients
//! (`use_quantized_grad`, one level being a per-round scale), with `i32`
//! atomics. Integer sums are exact in any order, so a histogram built here
//! equals the CPU's quantised histogram bit for bit, and the trees are the
//! CPU's quantised trees.

use std::ops::Range;

use cubecl::client::Client;
use cubecl::prelude::*;
use cubecl::server::Handle;
use tenure_device::ResolvedDevice;

mod cox;
mod weighted;

use crate::DeviceTraffic;
use crate::bin::{BinnedData, MISSING_BIN};
use crate::error::{GbdtError, Result};
use crate::fixed::{EXPONENT_BIAS, FixedGradients, FixedKind, SCORE_LIMIT, UNIT_BITS, Units};
// The kernels spell the unit offset and the Tweedie table offsets as
// literals (`4119`, `5121`, `10242`, `10243`).
const _: () = assert!(EXPONENT_BIAS + UNIT_BITS == 4119);
const _: () = assert!(
    crate::fixed::EXP_B == 5121 && crate::fixed::EXP_K1 == 10242 && crate::fixed::EXP_K2 == 10243
);
use crate::hist::{Histogram, Packed, pack, unpack};
use crate::params::GbdtValidParams;
use crate::split::{
    Candidates, CatCandidates, CatLevel, CatSide, Levels, Listed, Shortlist, SplitRule,
    cat_smooth_levels,
};
use crate::tree::BinTree;

/// Thresholds per feature a leaf's search on the device returns.
pub const SHORTLIST: usize = 4;
// The search kernel spells these as literals (`0..4`, 16 values a feature).
const _: () = assert!(SHORTLIST == 4);

/// Values a categorical feature's search writes: the leaf's totals and
/// missing bin, then per side its order, sums and 8 mask words, and the
/// bound on the sides left off.
pub const CATEGORY_WORDS: usize = 4 + SHORTLIST * 11 + 1;
// The category kernel spells this as a literal (`49`).
const _: () = assert!(CATEGORY_WORDS == 49);

/// Values a numeric feature's search writes: the leaf's totals and
/// missing bin, per threshold its bin and prefix sums, and the bound on
/// the thresholds left off.
pub const THRESHOLD_WORDS: usize = 4 + SHORTLIST * 3 + 1;
// The threshold kernel spells this as a literal (`17`).
const _: () = assert!(THRESHOLD_WORDS == 17);

/// Rows a unit of work handles together: one cube of this many units.
const CUBE: u32 = 256;

/// Rows each unit of a histogram cube visits: a cube covers
/// `CUBE * ROWS_PER_UNIT` rows of one feature.
const ROWS_PER_UNIT: usize = 16;
const ROWS_PER_CUBE: usize = CUBE as usize * ROWS_PER_UNIT;
// The kernel spells these as literals (`256 * 16`, `0..16`).
const _: () = assert!(CUBE == 256 && ROWS_PER_UNIT == 16);

/// Sums the rows at positions `lo..hi` of `rows` into `hist` (`[gradient,
/// hessian]` per feature and bin). Cube `(x, y)` takes feature `y` over
/// the `x`-th block of [`ROWS_PER_CUBE`] positions and sums it in shared
/// memory first, so each cube adds at most 512 values to global memory:
/// far fewer contended global atomics than one per row and feature.
/// `CUBE` units per cube.
#[cube(launch)]
fn histogram_kernel(
    bins: &[u32],
    rows: &[u32],
    gh: &[u32],
    hist: &[Atomic<i32>],
    lo: usize,
    hi: usize,
    words: usize,
) {
    let feature = usize::cast_from(CUBE_POS_Y);
    let unit = usize::cast_from(UNIT_POS);
    let local = Shared::<[Atomic<i32>]>::new_slice(512usize);
    local[unit].store(0i32);
    local[unit + 256usize].store(0i32);
    sync_cube();
    let start = lo + usize::cast_from(CUBE_POS_X) * 4096usize;
    for k in 0..16usize {
        let p = start + k * 256usize + unit;
        if p < hi {
            let i = usize::cast_from(rows[p]);
            let b = bin_of(bins, feature, i, words);
            let s = usize::cast_from(b) * 2usize;
            // Row `i`'s 16 bits: the gradient level as a signed byte,
            // then the hessian level.
            let half = (gh[i / 2usize] >> (u32::cast_from(i % 2usize) * 16u32)) & 65535u32;
            let g = i32::cast_from(half & 255u32) - i32::cast_from((half & 128u32) * 2u32);
            local[s].fetch_add(g);
            local[s + 1usize].fetch_add(i32::cast_from(half >> 8u32));
        }
    }
    sync_cube();
    for half in 0..2usize {
        let k = unit + half * 256usize;
        let v = local[k].load();
        if v != 0i32 {
            hist[feature * 512usize + k].fetch_add(v);
        }
    }
}

/// Row `i`'s bin of `feature`: byte `i % 4` of word `i / 4` of the
/// feature's column.
#[cube]
fn bin_of(bins: &[u32], feature: usize, i: usize, words: usize) -> u32 {
    let shift = u32::cast_from(i % 4usize) * 8u32;
    (bins[feature * words + i / 4usize] >> shift) & 255u32
}

/// Whether bin `b` is in the 256-bit set starting at `mask[offset]`.
#[cube]
fn in_mask(mask: &[u32], offset: usize, b: u32) -> bool {
    ((mask[offset + usize::cast_from(b / 32u32)] >> (b % 32u32)) & 1u32) == 1u32
}

/// Partitions the rows at positions `lo..hi` of `rows` into `out`: those
/// whose bin of `feature` is in `mask` (a 256-bit set of the bins that go
/// left) from `lo` up, the others from `hi - 1` down, each side counted by
/// an atomic in `count`. Whatever the counts, every row lands in `lo..hi`
/// exactly once.
#[cube(launch)]
fn partition_kernel(
    bins: &[u32],
    rows: &[u32],
    out: &mut [u32],
    count: &[Atomic<u32>],
    mask: &[u32],
    feature: usize,
    lo: usize,
    hi: usize,
    words: usize,
) {
    let p = lo + ABSOLUTE_POS;
    if p < hi {
        let i = rows[p];
        let b = bin_of(bins, feature, usize::cast_from(i), words);
        if in_mask(mask, 0usize, b) {
            out[lo + usize::cast_from(count[0usize].fetch_add(1u32))] = i;
        } else {
            out[hi - 1usize - usize::cast_from(count[1usize].fetch_add(1u32))] = i;
        }
    }
}

/// Copies positions `lo..hi` of `from` to `to`.
#[cube(launch)]
fn copy_kernel(from: &[u32], to: &mut [u32], lo: usize, hi: usize) {
    let p = lo + ABSOLUTE_POS;
    if p < hi {
        to[p] = from[p];
    }
}

/// `to[i] = from[offset + i]` for `i < n`.
#[cube(launch)]
fn window_kernel(from: &[i32], to: &mut [i32], offset: usize, n: usize) {
    let i = ABSOLUTE_POS;
    if i < n {
        to[i] = from[offset + i];
    }
}

/// The rows `fixed::in_bag` keeps, in any order, each at a position an
/// atomic counter (`count[0]`, zeroed before) hands out.
#[cube(launch)]
fn bag_kernel(rows: &mut [u32], count: &[Atomic<u32>], key: u32, threshold: u32, n: usize) {
    let i = ABSOLUTE_POS;
    if i < n {
        let r = u32::cast_from(i);
        if hash(key ^ r) < threshold {
            let p = count[0usize].fetch_add(1u32);
            rows[usize::cast_from(p)] = r;
        }
    }
}

/// `out[p] = p` for `p < n`: every row, in order.
#[cube(launch)]
fn iota_kernel(out: &mut [u32], n: usize) {
    if ABSOLUTE_POS < n {
        out[ABSOLUTE_POS] = u32::cast_from(ABSOLUTE_POS);
    }
}

/// Thresholds one leaf's numeric features could split at, shortlisted
/// for the host to score exactly: cube `j` takes feature `j`, one unit per
/// bin. It prefix-sums the bins (integers, exact), scores each value bin
/// `1..value_bins[j]` with and without the missing bin on the left by an
/// `f32` gain in level units (a threshold failing the hessian minimum
/// `min_levels` on either side scores -1, as does an empty bin's, which
/// splits as the bin before it), and writes the leaf's totals, the
/// missing bin, the best [`SHORTLIST`] bins (higher score first, ties to
/// the lower bin; -1 past the valid ones) with their prefix sums, and the
/// largest [`side_bound`] of the thresholds left off (-1: none):
/// [`THRESHOLD_WORDS`] values.
#[cube(launch)]
fn search_kernel(
    hist: &[i32],
    value_bins: &[u32],
    out: &mut [i32],
    first: usize,
    min_levels: i32,
    l1: f32,
    l2: f32,
) {
    let j = usize::cast_from(CUBE_POS_X);
    let b = usize::cast_from(UNIT_POS);
    let mut sg = Shared::<[i32]>::new_slice(256usize);
    let mut sh = Shared::<[i32]>::new_slice(256usize);
    let mut key = Shared::<[f32]>::new_slice(256usize);
    let mut at = Shared::<[u32]>::new_slice(256usize);
    sg[b] = hist[j * 512usize + 2usize * b];
    sh[b] = hist[j * 512usize + 2usize * b + 1usize];
    sync_cube();
    inclusive_scan(&mut sg, &mut sh, b);
    let (tg, th) = (sg[255usize], sh[255usize]);
    let (mg, mh) = (sg[0usize], sh[0usize]);
    let mut score = (-1.0f32).runtime();
    let mut bound = (-1.0f32).runtime();
    // An empty bin's threshold splits as the one before it does, which
    // the host's scan meets first: it needs no slot, nor a bound.
    let empty = b >= 2usize && sg[b] == sg[b - 1usize] && sh[b] == sh[b - 1usize];
    if b >= 1usize && b < usize::cast_from(value_bins[j]) && !empty {
        let (pg, ph) = (sg[b] - mg, sh[b] - mh);
        score = side_gains(pg, ph, tg, th, min_levels, l1, l2);
        bound = side_bound(score, pg, ph, tg, th, l2);
        if mg != 0i32 || mh != 0i32 {
            let with_missing = side_gains(pg + mg, ph + mh, tg, th, min_levels, l1, l2);
            let with_bound = side_bound(with_missing, pg + mg, ph + mh, tg, th, l2);
            if with_missing > score {
                score = with_missing;
            }
            if with_bound > bound {
                bound = with_bound;
            }
        }
    }
    let base = first + j * 17usize;
    if b == 0usize {
        put_totals(out, base, tg, th, mg, mh);
    }
    for r in 0..4usize {
        key[b] = score;
        at[b] = u32::cast_from(b);
        sync_cube();
        argmax_reduce(&mut key, &mut at, b, 128u32);
        let winner = usize::cast_from(at[0usize]);
        let best = key[0usize];
        sync_cube();
        if b == 0usize {
            let slot = base + 4usize + 3usize * r;
            let (g, h) = (sg[winner] - mg, sh[winner] - mh);
            put_slot(out, slot, best >= 0.0f32, i32::cast_from(winner), g, h);
        }
        if b == winner {
            score = -1.0f32;
        }
    }
    // The largest bound among the thresholds left off the list.
    let mut unlisted = (-1.0f32).runtime();
    if score >= 0.0f32 {
        unlisted = bound;
    }
    put_unlisted(&mut key, b, unlisted, out, base + 16usize);
}

/// A search's header: the leaf's totals and its missing bin.
#[cube]
fn put_totals(out: &mut [i32], base: usize, tg: i32, th: i32, mg: i32, mh: i32) {
    out[base] = tg;
    out[base + 1usize] = th;
    out[base + 2usize] = mg;
    out[base + 3usize] = mh;
}

/// A shortlist slot: the candidate's place and left sums, or -1, 0, 0
/// past the valid ones.
#[cube]
fn put_slot(out: &mut [i32], slot: usize, valid: bool, place: i32, g: i32, h: i32) {
    out[slot] = -1i32;
    out[slot + 1usize] = 0i32;
    out[slot + 2usize] = 0i32;
    if valid {
        out[slot] = place;
        out[slot + 1usize] = g;
        out[slot + 2usize] = h;
    }
}

/// Writes at `out[at]` the largest of the units' `bound`s (their bits).
#[cube]
fn put_unlisted(key: &mut Shared<[f32]>, b: usize, bound: f32, out: &mut [i32], at: usize) {
    key[b] = bound;
    sync_cube();
    max_reduce(key, b);
    if b == 0usize {
        out[at] = i32::reinterpret(key[0usize]);
    }
}

/// `key[0]` and `at[0]` become the largest key of `key[0..2 * half]` and
/// its place, ties to the lower place; `half` is 128 or 256 (a cube's
/// units each compare two entries at first).
#[cube]
fn argmax_reduce(key: &mut Shared<[f32]>, at: &mut Shared<[u32]>, b: usize, half: u32) {
    for k in 0..9u32 {
        let stride = usize::cast_from(half >> k);
        if b < stride {
            let (other, other_at) = (key[b + stride], at[b + stride]);
            if other > key[b] || (other == key[b] && other_at < at[b]) {
                key[b] = other;
                at[b] = other_at;
            }
        }
        sync_cube();
    }
}

/// `v[0] = max(v[0..256])`, cube-wide.
#[cube]
fn max_reduce(v: &mut Shared<[f32]>, b: usize) {
    for k in 0..8u32 {
        let stride = usize::cast_from(128u32 >> k);
        if b < stride && v[b + stride] > v[b] {
            v[b] = v[b + stride];
        }
        sync_cube();
    }
}

/// An upper bound on the exact gain that `score` (from [`side_gains`])
/// approximates, or -1 with `score`. Its `f32` rounding errs by less than
/// 2^-20 of the gain plus the unthresholded terms `g^2 / (h + l2)` (WGSL
/// rounds `+`, `*` and conversions within 1 ulp and divides within 2.5;
/// the worst case is about 12 units of 2^-24, the L1 threshold's
/// cancellation included); the bound adds over four times that, so the
/// host can tell when no candidate left off a shortlist can beat the
/// ones on it. `SearchPenalties::trusted` keeps the penalties in range.
#[cube]
fn side_bound(score: f32, g: i32, h: i32, tg: i32, th: i32, l2: f32) -> f32 {
    let mut out = (-1.0f32).runtime();
    if score >= 0.0f32 {
        let raw = level_gain(g, h, 0.0f32, l2) + level_gain(tg - g, th - h, 0.0f32, l2);
        out = score + (score + raw) * (1.0f32 / 262144.0f32);
    }
    out
}

/// The two sides' gains of a left side with sums `(g, h)` in levels, or
/// -1 when a side's hessian is under `min_levels` (or the gain is NaN).
#[cube]
fn side_gains(g: i32, h: i32, tg: i32, th: i32, min_levels: i32, l1: f32, l2: f32) -> f32 {
    let mut out = (-1.0f32).runtime();
    if h >= min_levels && th - h >= min_levels {
        let gain = level_gain(g, h, l1, l2) + level_gain(tg - g, th - h, l1, l2);
        if gain >= 0.0f32 {
            out = gain;
        }
    }
    out
}

/// `T(G)^2 / (H + l2)` in level units.
#[cube]
fn level_gain(g: i32, h: i32, l1: f32, l2: f32) -> f32 {
    let gf = f32::cast_from(g);
    let mut t = gf.abs() - l1;
    if t < 0.0f32 {
        t = 0.0f32;
    }
    t * t / (f32::cast_from(h) + l2)
}

/// Left sides one leaf's categorical features could split with,
/// shortlisted for the host to score exactly (`split::cat_candidates`
/// lists them all): cube `c` takes feature `cats[c]`, with `codes[c]`
/// level codes, one unit per bin. A level is eligible with at least
/// `min_group` hessian levels. With at most `max_onehot` codes a side is
/// one eligible level; else each unit ranks its level among the eligible
/// ones by exact cross products ([`cat_before`]), the levels are summed in
/// rank order, and a side is the first or the last `k` of them, `k` up to
/// `max_threshold` (and one less than the levels). Sides are scored by
/// the `f32` gain in levels, as thresholds are; cube `c` writes the
/// leaf's totals, the missing bin, then the best [`SHORTLIST`] sides
/// (higher score first, ties to the earlier side) as their scan order (-1
/// past the valid ones), sums and 256-bit masks: [`CATEGORY_WORDS`] values.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn category_search_kernel(
    hist: &[i32],
    cats: &[u32],
    codes: &[u32],
    out: &mut [i32],
    first: usize,
    min_levels: i32,
    min_group: u32,
    smooth: u32,
    max_threshold: u32,
    max_onehot: u32,
    l1: f32,
    l2: f32,
) {
    let c = usize::cast_from(CUBE_POS_X);
    let b = usize::cast_from(UNIT_POS);
    let bu = u32::cast_from(b);
    let j = usize::cast_from(cats[c]);
    let n_codes = codes[c];
    let mut sg = Shared::<[i32]>::new_slice(256usize);
    let mut sh = Shared::<[i32]>::new_slice(256usize);
    let mut pg = Shared::<[i32]>::new_slice(256usize);
    let mut ph = Shared::<[i32]>::new_slice(256usize);
    let mut rank = Shared::<[u32]>::new_slice(256usize);
    let mut ord = Shared::<[u32]>::new_slice(256usize);
    let mut key = Shared::<[f32]>::new_slice(512usize);
    let mut at = Shared::<[u32]>::new_slice(512usize);
    let mut cg = Shared::<[i32]>::new_slice(512usize);
    let mut ch = Shared::<[i32]>::new_slice(512usize);
    let g = hist[j * 512usize + 2usize * b];
    let h = hist[j * 512usize + 2usize * b + 1usize];
    sg[b] = g;
    sh[b] = h;
    pg[b] = g;
    ph[b] = h;
    sync_cube();
    inclusive_scan(&mut pg, &mut ph, b);
    let (tg, th) = (pg[255usize], ph[255usize]);
    let (mg, mh) = (sg[0usize], sh[0usize]);
    // Every unit counts the eligible levels; an eligible one also counts
    // those before it, its rank.
    let eligible = bu >= 1u32 && bu <= n_codes && u32::cast_from(h) >= min_group;
    let mut before = 0u32;
    let mut n_levels = 0u32;
    for a in 0..256u32 {
        let ai = usize::cast_from(a);
        if a >= 1u32 && a <= n_codes && u32::cast_from(sh[ai]) >= min_group {
            n_levels += 1u32;
            if eligible && cat_before(sg[ai], sh[ai], a, g, h, bu, smooth) {
                before += 1u32;
            }
        }
    }
    rank[b] = 256u32;
    if eligible {
        rank[b] = before;
        ord[usize::cast_from(before)] = bu;
    }
    sync_cube();
    // The eligible levels' sums in rank order, prefix-summed.
    pg[b] = 0i32;
    ph[b] = 0i32;
    if bu < n_levels {
        let o = usize::cast_from(ord[b]);
        pg[b] = sg[o];
        ph[b] = sh[o];
    }
    sync_cube();
    inclusive_scan(&mut pg, &mut ph, b);
    let onehot = n_codes <= max_onehot;
    let mut first_k = (-1.0f32).runtime();
    let mut last_k = (-1.0f32).runtime();
    let mut first_bound = (-1.0f32).runtime();
    let mut last_bound = (-1.0f32).runtime();
    cg[b] = 0i32;
    ch[b] = 0i32;
    cg[b + 256usize] = 0i32;
    ch[b + 256usize] = 0i32;
    if onehot {
        if eligible {
            first_k = cat_side(g, h, tg, th, mg, mh, min_levels, l1, l2, false);
            first_bound = cat_side(g, h, tg, th, mg, mh, min_levels, l1, l2, true);
            cg[b] = g;
            ch[b] = h;
        }
    } else if n_levels > 0u32 {
        let mut max_k = 1u32;
        if n_levels > 2u32 {
            max_k = n_levels - 1u32;
        }
        if max_threshold < max_k {
            max_k = max_threshold;
        }
        let k = bu + 1u32;
        if k <= max_k && bu < n_levels {
            let (lg, lh) = (pg[b], ph[b]);
            first_k = cat_side(lg, lh, tg, th, mg, mh, min_levels, l1, l2, false);
            first_bound = cat_side(lg, lh, tg, th, mg, mh, min_levels, l1, l2, true);
            cg[b] = lg;
            ch[b] = lh;
            // The last k levels: all of them less the first n - k.
            let all = usize::cast_from(n_levels - 1u32);
            let mut rg = pg[all];
            let mut rh = ph[all];
            let rest = n_levels - k;
            if rest >= 1u32 {
                rg -= pg[usize::cast_from(rest - 1u32)];
                rh -= ph[usize::cast_from(rest - 1u32)];
            }
            last_k = cat_side(rg, rh, tg, th, mg, mh, min_levels, l1, l2, false);
            last_bound = cat_side(rg, rh, tg, th, mg, mh, min_levels, l1, l2, true);
            // With every non-missing row in an eligible level, the last k
            // levels are the first n - k mirrored (sides swapped, the
            // missing bin's too where it has hessian): the same gain,
            // and the host's scan meets the first ones first, so the
            // mirror would only take a shortlist slot.
            let mirrored = pg[all] == tg - mg && ph[all] == th - mh && (mh != 0i32 || mg == 0i32);
            if mirrored && rest >= 1u32 && rest <= max_k {
                last_k = -1.0f32;
            }
            cg[b + 256usize] = rg;
            ch[b + 256usize] = rh;
        }
    }
    let base = first + c * 49usize;
    if b == 0usize {
        put_totals(out, base, tg, th, mg, mh);
    }
    for r in 0..4usize {
        key[b] = first_k;
        key[b + 256usize] = last_k;
        at[b] = bu;
        at[b + 256usize] = bu + 256u32;
        sync_cube();
        argmax_reduce(&mut key, &mut at, b, 256u32);
        let winner = at[0usize];
        let best = key[0usize];
        sync_cube();
        let slot = base + 4usize + 11usize * r;
        if b == 0usize {
            let w = usize::cast_from(winner);
            let mut order = i32::cast_from(winner) + 1i32;
            if onehot {
                order = i32::cast_from(winner);
            }
            put_slot(out, slot, best >= 0.0f32, order, cg[w], ch[w]);
        }
        if b < 8usize {
            // Word b of the side's mask: bins 32b..32b+31.
            let mut word = 0u32;
            if best >= 0.0f32 {
                for i in 0..32u32 {
                    let bin = bu * 32u32 + i;
                    let rk = rank[usize::cast_from(bin)];
                    // One-vs-rest: the winner is a bin; else the first
                    // or the last k ranked levels.
                    let mut left = bin == winner;
                    if !onehot && winner < 256u32 {
                        left = rk <= winner;
                    }
                    if !onehot && winner >= 256u32 {
                        left = rk < 256u32 && rk + (winner - 255u32) >= n_levels;
                    }
                    if left {
                        word |= 1u32 << i;
                    }
                }
            }
            out[slot + 3usize + b] = i32::cast_from(word);
        }
        if bu == winner {
            first_k = -1.0f32;
        }
        if bu + 256u32 == winner {
            last_k = -1.0f32;
        }
    }
    // The largest bound among the sides left off the list.
    let mut unlisted = (-1.0f32).runtime();
    if first_k >= 0.0f32 {
        unlisted = first_bound;
    }
    if last_k >= 0.0f32 && last_bound > unlisted {
        unlisted = last_bound;
    }
    put_unlisted(&mut key, b, unlisted, out, base + 48usize);
}

/// Inclusive prefix sums of `g` and `h` over a cube's 256 units
/// (Hillis-Steele), exact in integers.
#[cube]
fn inclusive_scan(g: &mut Shared<[i32]>, h: &mut Shared<[i32]>, b: usize) {
    for k in 0..8u32 {
        let offset = usize::cast_from(1u32 << k);
        let mut add_g = 0i32;
        let mut add_h = 0i32;
        if b >= offset {
            add_g = g[b - offset];
            add_h = h[b - offset];
        }
        sync_cube();
        g[b] += add_g;
        h[b] += add_h;
        sync_cube();
    }
}

/// A categorical side's score (its `f32` gain, or with the missing bin
/// joining it when that is better and the bin holds hessian) or, with
/// `bound`, the larger [`side_bound`] of the two.
#[cube]
#[allow(clippy::too_many_arguments)]
fn cat_side(
    g: i32,
    h: i32,
    tg: i32,
    th: i32,
    mg: i32,
    mh: i32,
    min_levels: i32,
    l1: f32,
    l2: f32,
    #[comptime] bound: bool,
) -> f32 {
    let score = side_gains(g, h, tg, th, min_levels, l1, l2);
    let mut out = score;
    if bound {
        out = side_bound(score, g, h, tg, th, l2);
    }
    if mh != 0i32 {
        let with_missing = side_gains(g + mg, h + mh, tg, th, min_levels, l1, l2);
        let mut v = with_missing;
        if bound {
            v = side_bound(with_missing, g + mg, h + mh, tg, th, l2);
        }
        if v > out {
            out = v;
        }
    }
    out
}

/// `split::cat_before` on the device: whether level `a` (sums `ga`, `ha`)
/// comes before level `b`, `ga / (ha + smooth) < gb / (hb + smooth)` by
/// cross products, ties to the lower bin. The products reach 63 bits and
/// WGSL has no 64-bit integers, so they are built from 16-bit limbs and
/// compared as two 32-bit words.
#[cube]
#[allow(clippy::too_many_arguments)]
fn cat_before(ga: i32, ha: i32, a: u32, gb: i32, hb: i32, b: u32, smooth: u32) -> bool {
    let da = u32::cast_from(ha) + smooth;
    let db = u32::cast_from(hb) + smooth;
    let mut before = a < b;
    if ga < 0i32 && gb >= 0i32 {
        before = true;
    } else if ga >= 0i32 && gb < 0i32 {
        before = false;
    } else {
        let negative = ga < 0i32;
        let mut ma = u32::cast_from(ga);
        let mut mb = u32::cast_from(gb);
        // Negated as unsigned words: wrapping is defined on every
        // backend, and the magnitude of i32::MIN fits.
        if negative {
            ma = 0u32 - ma;
            mb = 0u32 - mb;
        }
        let (xh, xl) = (mul_hi(ma, db), mul_lo(ma, db));
        let (yh, yl) = (mul_hi(mb, da), mul_lo(mb, da));
        let less = xh < yh || (xh == yh && xl < yl);
        let more = xh > yh || (xh == yh && xl > yl);
        // Negative sums: the larger magnitude is the smaller ratio.
        if (less && !negative) || (more && negative) {
            before = true;
        } else if less || more {
            before = false;
        }
    }
    before
}

/// [`cat_before`] over `n` pairs of levels, six values a pair (`g`, `h`
/// and bin of each), for tests against the host's order.
#[cube(launch)]
fn cat_before_kernel(pairs: &[i32], out: &mut [u32], smooth: u32, n: usize) {
    let i = ABSOLUTE_POS;
    if i < n {
        let p = i * 6usize;
        let before = cat_before(
            pairs[p],
            pairs[p + 1usize],
            u32::cast_from(pairs[p + 2usize]),
            pairs[p + 3usize],
            pairs[p + 4usize],
            u32::cast_from(pairs[p + 5usize]),
            smooth,
        );
        out[i] = 0u32;
        if before {
            out[i] = 1u32;
        }
    }
}

/// Whether each pair's first level comes before its second in the
/// device's categorical order (`split::cat_before` is the host's): levels
/// as `(g, h, bin)` level sums, `g` in `i32`, `h` in `1..2^31`.
pub fn cat_before_on_device(
    device: &GpuDevice,
    pairs: &[(CatLevel, CatLevel)],
    smooth: u32,
) -> Vec<bool> {
    let flat: Vec<i32> = pairs
        .iter()
        .flat_map(|&((ga, ha, a), (gb, hb, b))| [ga, ha, a as i64, gb, hb, b as i64])
        .map(|v| i32::try_from(v).expect("level sums fit in i32"))
        .collect();
    let client = &device.client;
    let n = pairs.len().max(1);
    let input = client.create_from_slice(i32::as_bytes(&flat));
    let out = client.empty(n * size_of::<u32>());
    cat_before_kernel::launch(
        client,
        device.cubes(n),
        CubeDim::new_1d(CUBE),
        buffer(&input, flat.len().max(1)),
        buffer(&out, n),
        smooth,
        pairs.len(),
    );
    let bytes = client.read_one_unchecked(out);
    u32::from_bytes(&bytes)[..pairs.len()]
        .iter()
        .map(|&v| v == 1)
        .collect()
}

/// The high word of the 64-bit product `a * b`, from 16-bit limbs.
#[cube]
fn mul_hi(a: u32, b: u32) -> u32 {
    let (a0, a1) = (a & 0xFFFFu32, a >> 16u32);
    let (b0, b1) = (b & 0xFFFFu32, b >> 16u32);
    let (p01, p10) = (a0 * b1, a1 * b0);
    let mid = ((a0 * b0) >> 16u32) + (p01 & 0xFFFFu32) + (p10 & 0xFFFFu32);
    a1 * b1 + (p01 >> 16u32) + (p10 >> 16u32) + (mid >> 16u32)
}

/// The low word of the 64-bit product `a * b`, from 16-bit limbs.
#[cube]
fn mul_lo(a: u32, b: u32) -> u32 {
    let (a0, a1) = (a & 0xFFFFu32, a >> 16u32);
    let (b0, b1) = (b & 0xFFFFu32, b >> 16u32);
    let p00 = a0 * b0;
    let mid = (p00 >> 16u32) + ((a0 * b1) & 0xFFFFu32) + ((a1 * b0) & 0xFFFFu32);
    ((mid & 0xFFFFu32) << 16u32) | (p00 & 0xFFFFu32)
}

/// The bit length of a 32-bit word (0 for 0).
#[cube]
fn bits32(v: u32) -> i32 {
    32i32 - i32::cast_from(u32::leading_zeros(v))
}

/// The bit length of the 64-bit `hi:lo`.
#[cube]
fn bits64(lo: u32, hi: u32) -> i32 {
    let mut b = bits32(lo);
    if hi != 0u32 {
        b = 32i32 + bits32(hi);
    }
    b
}

/// `floor(hi:lo / 2^from) mod 2^32`, for any `from` (a negative one
/// shifts left). Shifts stay within 1..31: WGSL leaves 32 undefined.
#[cube]
// Comparisons are the kernel's spelling of a range test.
#[allow(clippy::manual_range_contains)]
fn bits_at(lo: u32, hi: u32, from: i32) -> u32 {
    let mut out = 0u32;
    if from >= 32i32 && from < 64i32 {
        out = hi >> u32::cast_from(from - 32i32);
    } else if from > 0i32 && from < 32i32 {
        out = (lo >> u32::cast_from(from)) | (hi << u32::cast_from(32i32 - from));
    } else if from == 0i32 {
        out = lo;
    } else if from > -32i32 && from < 0i32 {
        out = lo << u32::cast_from(-from);
    }
    out
}

/// `a -= b` over `n` values.
#[cube(launch)]
fn subtract_kernel(a: &mut [i32], b: &[i32], n: usize) {
    if ABSOLUTE_POS < n {
        a[ABSOLUTE_POS] -= b[ABSOLUTE_POS];
    }
}

/// Packs each feature's used bins (`offsets[j + 1] - offsets[j]` values
/// from the start of its 512) after one another, so a histogram read back
/// carries no bins that no row can reach. One unit per (feature, value).
#[cube(launch)]
fn compact_kernel(hist: &[i32], offsets: &[u32], out: &mut [i32], n: usize) {
    let pos = ABSOLUTE_POS;
    if pos < n {
        let j = pos / 512usize;
        let k = pos % 512usize;
        let start = usize::cast_from(offsets[j]);
        if start + k < usize::cast_from(offsets[j + 1usize]) {
            out[start + k] = hist[pos];
        }
    }
}

#[cube(launch)]
fn fill_kernel(out: &mut [u32], value: u32, n: usize) {
    if ABSOLUTE_POS < n {
        out[ABSOLUTE_POS] = value;
    }
}

/// Sums, per row, the leaf value each tree gives it. Trees are flattened:
/// tree `t` has nodes `node_start[t]..node_start[t + 1]` (children relative
/// to that start, a negative child `c` being leaf `-c - 1`) and leaves from
/// `leaf_start[t]`; each node's left bins are a 256-bit set.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn predict_kernel(
    bins: &[u32],
    node_feature: &[u32],
    node_left: &[i32],
    node_right: &[i32],
    node_mask: &[u32],
    node_start: &[u32],
    leaf_start: &[u32],
    leaf_value: &[f32],
    out: &mut [f32],
    n_trees: usize,
    n_rows: usize,
    words: usize,
) {
    let i = ABSOLUTE_POS;
    if i < n_rows {
        let mut total = f32::new(0.0);
        for t in 0..n_trees {
            let root = usize::cast_from(node_start[t]);
            let n_nodes = usize::cast_from(node_start[t + 1usize]) - root;
            let leaf = leaf_of(
                bins,
                node_feature,
                node_left,
                node_right,
                node_mask,
                root,
                n_nodes,
                i,
                words,
            );
            total += leaf_value[usize::cast_from(leaf_start[t] + leaf)];
        }
        out[i] = total;
    }
}

/// The leaf row `i` lands in, in the tree of nodes `root..root + n_nodes`
/// (children relative to `root`, a negative child `c` being leaf `-c - 1`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn leaf_of(
    bins: &[u32],
    node_feature: &[u32],
    node_left: &[i32],
    node_right: &[i32],
    node_mask: &[u32],
    root: usize,
    n_nodes: usize,
    i: usize,
    words: usize,
) -> u32 {
    let mut leaf = 0u32;
    if n_nodes > 0usize {
        let mut node = 0i32;
        let mut walking = true;
        while walking {
            let k = root + usize::cast_from(node);
            let b = bin_of(bins, usize::cast_from(node_feature[k]), i, words);
            let mut next = node_right[k];
            if in_mask(node_mask, k * 8usize, b) {
                next = node_left[k];
            }
            if next < 0i32 {
                leaf = u32::cast_from(-1i32 - next);
                walking = false;
            } else {
                node = next;
            }
        }
    }
    leaf
}

/// Adds one tree's integer leaf values to the fixed-point training scores,
/// saturating at `±limit` as `fixed` does.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn add_tree_kernel(
    bins: &[u32],
    node_feature: &[u32],
    node_left: &[i32],
    node_right: &[i32],
    node_mask: &[u32],
    leaf_value: &[i32],
    score: &mut [i32],
    n_nodes: usize,
    n_rows: usize,
    words: usize,
    limit: i32,
) {
    let i = ABSOLUTE_POS;
    if i < n_rows {
        let leaf = leaf_of(
            bins,
            node_feature,
            node_left,
            node_right,
            node_mask,
            0usize,
            n_nodes,
            i,
            words,
        );
        score[i] = clamp_within(score[i] + leaf_value[usize::cast_from(leaf)], limit);
    }
}

/// `fixed::interpolate`: `table` at fixed-point score `s`. The step times
/// the fraction is floored as Rust's arithmetic shift floors it (integer
/// division truncates toward zero on every backend).
#[cube]
fn interpolate(table: &[i32], s: i32) -> i32 {
    let t = u32::cast_from(clamp_within(s, 1048576i32) + 1048576i32);
    let k = usize::cast_from(t >> 8u32);
    let frac = i32::cast_from(t & 255u32);
    let a = table[k];
    a + floor_div((table[k + 1usize] - a) * frac, 256i32)
}

/// `v` clamped to `-limit..=limit`.
#[cube]
// The branches are the kernel's spelling of a clamp.
#[allow(clippy::manual_clamp)]
fn clamp_within(v: i32, limit: i32) -> i32 {
    let mut c = v;
    if c < -limit {
        c = -limit;
    }
    if c > limit {
        c = limit;
    }
    c
}

/// `floor(v / d)` for `d > 0` (division truncates toward zero on every
/// backend; Rust's `>>` and `div_euclid` floor).
#[cube]
fn floor_div(v: i32, d: i32) -> i32 {
    let mut q = v / d;
    if q * d > v {
        q -= 1i32;
    }
    q
}

/// `fixed::FixedGradients::gradient`'s gradient: `kind` 0 is binary (the
/// sigmoid table minus the 0/1 label), 1 squared error, 2 Tweedie (`y` a
/// soft label, `exps` the tables, in units of `2^k`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn fixed_gradient(
    kind: u32,
    s: i32,
    y: i32,
    sigmoid: &[i32],
    exps: &[i32],
    k: i32,
    cox: &[i32],
    i: usize,
) -> i32 {
    let mut g = s - y;
    if kind == 0u32 {
        g = interpolate(sigmoid, s) - y * 16777216i32;
    }
    if kind == 2u32 {
        let a = soft_exp(exps, 0usize, s);
        let b = soft_exp(exps, 5121usize, s);
        g = soft_units(b, k) - soft_units(soft_mul(y, a), k);
    }
    if kind == 3u32 {
        g = cox[2usize * i];
    }
    g
}

/// `fixed::FixedGradients::gradient`'s hessian.
#[cube]
#[allow(clippy::too_many_arguments)]
fn fixed_hessian(
    kind: u32,
    s: i32,
    y: i32,
    slope: &[i32],
    exps: &[i32],
    k: i32,
    cox: &[i32],
    i: usize,
) -> i32 {
    let mut h = 1i32;
    if kind == 0u32 {
        h = interpolate(slope, s);
    }
    if kind == 2u32 {
        let a = soft_exp(exps, 0usize, s);
        let b = soft_exp(exps, 5121usize, s);
        let ya = soft_mul(y, a);
        h = soft_units(soft_mul(exps[10243usize], b), k)
            + soft_units(soft_mul(exps[10242usize], ya), k);
    }
    if kind == 3u32 {
        h = cox[2usize * i + 1usize];
    }
    h
}

/// `fixed::soft_mul`: the product of two soft numbers (`m + e * 65536`,
/// `m` of 16 bits), its 32-bit mantissa product truncated to 16 bits.
#[cube]
fn soft_mul(a: i32, b: i32) -> i32 {
    let ma = a & 65535i32;
    let mb = b & 65535i32;
    let p = u32::cast_from(ma) * u32::cast_from(mb);
    let e = (a - ma) / 65536i32 + (b - mb) / 65536i32;
    let mut out = 0i32;
    if p >= 2147483648u32 {
        out = i32::cast_from(p >> 16u32) + (e + 16i32) * 65536i32;
    } else if p > 0u32 {
        out = i32::cast_from(p >> 15u32) + (e + 15i32) * 65536i32;
    }
    out
}

/// `fixed::soft_exp`: `exp(c s)` as the product of two table entries.
#[cube]
fn soft_exp(exps: &[i32], base: usize, s: i32) -> i32 {
    let t = u32::cast_from(clamp_within(s, 2097152i32) + 2097152i32);
    let hi = usize::cast_from(t >> 10u32);
    let lo = usize::cast_from(t & 1023u32);
    soft_mul(exps[base + hi], exps[base + 4097usize + lo])
}

/// `fixed::soft_top`: an upper bound on a soft number's bit length.
#[cube]
fn soft_top(v: i32) -> i32 {
    let m = v & 65535i32;
    let mut top = i32::new(-1_000_000);
    if m != 0i32 {
        top = (v - m) / 65536i32 + 16i32;
    }
    top
}

/// `fixed::soft_units`: a soft number in units of `2^k`, floored.
#[cube]
fn soft_units(v: i32, k: i32) -> i32 {
    let m = v & 65535i32;
    let sh = (v - m) / 65536i32 - k;
    let mut out = 0i32;
    // Zero's exponent is 0, not a bound: its shift could pass 31.
    if m == 0i32 {
        out = 0i32;
    } else if sh >= 0i32 {
        out = i32::cast_from(u32::cast_from(m) << u32::cast_from(sh));
    } else if sh > -32i32 {
        out = i32::cast_from(u32::cast_from(m) >> u32::cast_from(-sh));
    }
    out
}

/// Tweedie's round units: the largest gradient and hessian terms' bit
/// lengths (plus `fixed::EXPONENT_BIAS`) into `stats[4]` and `stats[5]`.
#[cube(launch)]
fn exponent_kernel(score: &[i32], label: &[i32], exps: &[i32], stats: &[Atomic<i32>], n: usize) {
    let local = Shared::<[Atomic<i32>]>::new_slice(2usize);
    if UNIT_POS == 0u32 {
        local[0usize].store(0i32);
        local[1usize].store(0i32);
    }
    sync_cube();
    let i = ABSOLUTE_POS;
    if i < n {
        let s = score[i];
        let a = soft_exp(exps, 0usize, s);
        let b = soft_exp(exps, 5121usize, s);
        let ya = soft_mul(label[i], a);
        let mut g = soft_top(b);
        let gy = soft_top(ya);
        if gy > g {
            g = gy;
        }
        let mut h = soft_top(soft_mul(exps[10243usize], b));
        let hy = soft_top(soft_mul(exps[10242usize], ya));
        if hy > h {
            h = hy;
        }
        local[0usize].fetch_max(g + 4096i32);
        local[1usize].fetch_max(h + 4096i32);
    }
    sync_cube();
    if UNIT_POS == 0u32 {
        stats[4usize].fetch_max(local[0usize].load());
        stats[5usize].fetch_max(local[1usize].load());
    }
}

/// `fixed::level`: `v * mult / max` floored, then rounded up with
/// probability the remainder's share (`stochastic` 1) or to nearest.
#[cube]
fn level(v: i32, max: i32, mult: i32, noise: u32, stochastic: u32) -> i32 {
    let num = v * mult;
    let mut q = num / max;
    let mut r = num - q * max;
    if r < 0i32 {
        q -= 1i32;
        r += max;
    }
    let mut up = 0i32;
    if stochastic == 1u32 {
        if noise % u32::cast_from(max) < u32::cast_from(r) {
            up = 1i32;
        }
    } else if 2i32 * r >= max {
        up = 1i32;
    }
    q + up
}

/// `fixed::hash`.
#[cube]
fn hash(x: u32) -> u32 {
    let a = (x ^ (x >> 16u32)) * 2146121005u32;
    let b = (a ^ (a >> 15u32)) * 2221713035u32;
    b ^ (b >> 16u32)
}

/// The round's largest `|gradient|` and hessian into `stats[0]` and
/// `stats[1]` (zeroed before): a cube's maximum first, in shared memory.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn gradient_max_kernel(
    score: &[i32],
    label: &[i32],
    sigmoid: &[i32],
    slope: &[i32],
    exps: &[i32],
    cox: &[i32],
    stats: &[Atomic<i32>],
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
        let s = score[i];
        let y = label[i];
        let mut g = fixed_gradient(kind, s, y, sigmoid, exps, kg, cox, i);
        if g < 0i32 {
            g = -g;
        }
        local[0usize].fetch_max(g);
        local[1usize].fetch_max(fixed_hessian(kind, s, y, slope, exps, kh, cox, i));
    }
    sync_cube();
    if UNIT_POS == 0u32 {
        stats[0usize].fetch_max(local[0usize].load());
        stats[1usize].fetch_max(local[1usize].load());
    }
}

/// Quantises the round's gradients into `gh` as `pack_levels` packs them,
/// two rows a word, one unit per word; `stats` holds the maxima.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn quantize_kernel(
    score: &[i32],
    label: &[i32],
    sigmoid: &[i32],
    slope: &[i32],
    exps: &[i32],
    cox: &[i32],
    stats: &[i32],
    gh: &mut [u32],
    kind: u32,
    half: i32,
    full: i32,
    key: u32,
    stochastic: u32,
    n: usize,
) {
    let w = ABSOLUTE_POS;
    if w * 2usize < n {
        let mut gmax = stats[0usize];
        if gmax < 1i32 {
            gmax = 1i32;
        }
        let mut hmax = stats[1usize];
        if hmax < 1i32 {
            hmax = 1i32;
        }
        let (kg, kh) = (stats[4usize] - 4119i32, stats[5usize] - 4119i32);
        let mut word = 0u32;
        for k in 0..2usize {
            let i = w * 2usize + k;
            if i < n {
                let s = score[i];
                let y = label[i];
                let g = fixed_gradient(kind, s, y, sigmoid, exps, kg, cox, i);
                let h = fixed_hessian(kind, s, y, slope, exps, kh, cox, i);
                let noise = hash(key ^ u32::cast_from(i));
                let gl = level(g, gmax, half, noise, stochastic);
                let hl = level(h, hmax, full, hash(noise), stochastic);
                let packed = (u32::cast_from(gl) & 255u32) | (u32::cast_from(hl) << 8u32);
                word |= packed << (u32::cast_from(k) * 16u32);
            }
        }
        gh[w] = word;
    }
}

/// Each block's sums of the rows' integer gradients and hessians (not
/// their levels), for leaf renewal: block `b` covers positions
/// `blocks[2b]..blocks[2b + 1]` of `rows` (at most 4,096, within one leaf).
/// A value is split as `hi * 4096 + lo` (`lo` in `0..4096`) so that the
/// sums of a block's 4,096 halves fit in `i32`; the host adds the blocks in
/// `i64`. Out: `[g_hi, g_lo, h_hi, h_lo]` per block. `CUBE` units a cube,
/// one cube a block, from block `first` on (a launch takes at most 65,535).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn leaf_sums_kernel(
    rows: &[u32],
    score: &[i32],
    label: &[i32],
    sigmoid: &[i32],
    slope: &[i32],
    exps: &[i32],
    cox: &[i32],
    stats: &[i32],
    blocks: &[u32],
    out: &mut [i32],
    first: usize,
    kind: u32,
) {
    let local = Shared::<[Atomic<i32>]>::new_slice(4usize);
    if UNIT_POS < 4u32 {
        local[usize::cast_from(UNIT_POS)].store(0i32);
    }
    sync_cube();
    let b = first + usize::cast_from(CUBE_POS_X);
    let lo = usize::cast_from(blocks[2usize * b]);
    let hi = usize::cast_from(blocks[2usize * b + 1usize]);
    let (kg, kh) = (stats[4usize] - 4119i32, stats[5usize] - 4119i32);
    for k in 0..16usize {
        let p = lo + k * 256usize + usize::cast_from(UNIT_POS);
        if p < hi {
            let i = usize::cast_from(rows[p]);
            let s = score[i];
            let y = label[i];
            let g = fixed_gradient(kind, s, y, sigmoid, exps, kg, cox, i);
            let h = fixed_hessian(kind, s, y, slope, exps, kh, cox, i);
            let g_hi = floor_div(g, 4096i32);
            let h_hi = floor_div(h, 4096i32);
            local[0usize].fetch_add(g_hi);
            local[1usize].fetch_add(g - g_hi * 4096i32);
            local[2usize].fetch_add(h_hi);
            local[3usize].fetch_add(h - h_hi * 4096i32);
        }
    }
    sync_cube();
    if UNIT_POS < 4u32 {
        let u = usize::cast_from(UNIT_POS);
        out[4usize * b + u] = local[u].load();
    }
}

/// A leaf's level totals into `stats[2..4]`: the sum of its first
/// feature's bins (every row is in one bin of each feature).
#[cube(launch)]
fn totals_kernel(hist: &[i32], stats: &mut [i32]) {
    if ABSOLUTE_POS == 0usize {
        let mut g = 0i32;
        let mut h = 0i32;
        for b in 0..256usize {
            g += hist[2usize * b];
            h += hist[2usize * b + 1usize];
        }
        stats[2usize] = g;
        stats[3usize] = h;
    }
}

/// A kernel argument of `len` 4-byte elements (`u32`, `i32`, `f32`: all
/// this module's buffers) over `handle`.
///
/// cubecl takes the length on trust (`BufferArg::from_raw_parts` is
/// `unsafe`): a length past the allocation would let a kernel run off the
/// end of the buffer. It is checked against the buffer's size here, and
/// the kernels are launched checked (`launch`, which bounds-checks every
/// index), so this is the crate's one `unsafe` block.
#[allow(unsafe_code)]
fn buffer(handle: &Handle, len: usize) -> BufferArg {
    assert!(
        (len as u64) * 4 <= handle.size(),
        "{len} elements do not fit in a buffer of {} bytes",
        handle.size()
    );
    // SAFETY: the buffer holds at least `len` 4-byte elements (checked
    // above).
    unsafe { BufferArg::from_raw_parts(handle.clone(), len) }
}

/// The 256-bit set of bins that go left, missing bin included.
pub fn left_mask(rule: &SplitRule, missing_left: bool) -> [u32; 8] {
    let mut mask = [0u32; 8];
    for b in 0..=255u8 {
        let left = if b == MISSING_BIN {
            missing_left
        } else {
            rule.left(b)
        };
        if left {
            mask[usize::from(b / 32)] |= 1 << (b % 32);
        }
    }
    mask
}

/// A cubecl client on the device `tenure-device` resolved.
#[derive(Clone)]
pub struct GpuDevice {
    client: Client,
    /// What `--device` got, for messages: `wgpu: lavapipe (software)`.
    pub name: String,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice")
            .field("name", &self.name)
            .finish()
    }
}

impl GpuDevice {
    /// The device for a resolved GPU; the CPU, or a backend this build
    /// left out, is an error.
    pub fn new(device: &ResolvedDevice) -> Result<Self> {
        let (dev, name) = match device {
            ResolvedDevice::Cpu => {
                return Err(GbdtError::Device(
                    "the CPU is not a GPU device: train with the CPU booster".into(),
                ));
            }
            ResolvedDevice::Wgpu(a) => (
                wgpu_device(a)?,
                format!("wgpu: {} ({})", a.name, a.kind.as_str()),
            ),
            ResolvedDevice::Cuda(c) => (cuda_device(c)?, format!("cuda: {}", c.name)),
        };
        let client = dev.client();
        let atomic = cubecl::ir::Type::atomic(i32::elem_type_native());
        if !client
            .properties()
            .atomic_type_usage(atomic)
            .contains(cubecl::features::AtomicUsage::Add)
        {
            return Err(GbdtError::Device(format!(
                "{name} has no 32-bit integer atomic add, which the histogram kernel needs"
            )));
        }
        Ok(Self { client, name })
    }

    fn cubes(&self, n: usize) -> CubeCount {
        let cubes = n.div_ceil(CUBE as usize).max(1);
        // Past 65,535 cubes in one dimension, spread over a second.
        let x = cubes.min(65_535) as u32;
        let y = cubes.div_ceil(65_535) as u32;
        CubeCount::Static(x, y, 1)
    }
}

fn wgpu_device(adapter: &tenure_device::WgpuAdapter) -> Result<cubecl::Device> {
    use cubecl::device::WgpuDeviceKind;
    use tenure_device::AdapterKind;
    let i = adapter.kind_index;
    let kind = match adapter.kind {
        AdapterKind::DiscreteGpu => WgpuDeviceKind::DiscreteGpu(i),
        AdapterKind::IntegratedGpu => WgpuDeviceKind::IntegratedGpu(i),
        AdapterKind::VirtualGpu => WgpuDeviceKind::VirtualGpu(i),
        AdapterKind::Cpu => WgpuDeviceKind::Cpu,
        AdapterKind::Other => WgpuDeviceKind::DefaultDevice,
    };
    cubecl::Device::wgpu(kind).map_err(|e| GbdtError::Device(format!("{}: {e}", adapter.name)))
}

#[cfg(feature = "cuda")]
fn cuda_device(cuda: &tenure_device::CudaDevice) -> Result<cubecl::Device> {
    cubecl::Device::cuda(cuda.index).map_err(|e| GbdtError::Device(format!("{}: {e}", cuda.name)))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_: &tenure_device::CudaDevice) -> Result<cubecl::Device> {
    Err(GbdtError::Device(
        tenure_device::DeviceError::NotCompiled { backend: "cuda" }.to_string(),
    ))
}

/// One training's state on the device: the binned matrix, the tree's rows
/// partitioned by leaf, the round's quantised gradients and a histogram
/// buffer.
pub struct GpuHistograms {
    device: GpuDevice,
    bins: Handle,
    /// Row indices of the tree being grown (the bag), each leaf's rows in
    /// its range of positions.
    rows: Handle,
    /// Where a split's partition is written before it is copied back.
    scratch: Handle,
    /// The two side counters of a partition.
    count: Handle,
    /// The round's quantised gradient and hessian levels, 16 bits a row
    /// (see [`pack_levels`]).
    gh: Handle,
    hist: Handle,
    /// Host copy of the round's levels, as uploaded.
    staged: Vec<u32>,
    /// Rows of the tree being grown (`rows`' used length).
    tree_rows: usize,
    traffic: DeviceTraffic,
    /// Per feature, its bins that a row can be in (the largest + 1).
    used: Vec<usize>,
    /// Where histograms are packed before reading, when that saves bytes.
    compact: Option<Compact>,
    /// The rule the current bag was drawn by (`fixed::in_bag`), for the
    /// device to draw it itself instead of receiving it.
    bag_rule: Option<(u32, u32)>,
    /// The training scores and what computes their gradients, when the
    /// device computes them ([`GpuHistograms::enable_gradients`]).
    fixed: Option<FixedBuffers>,
    /// Per feature, its value bins (`n_value_bins`; none for a
    /// categorical one), once the host asked the device to search splits
    /// ([`GpuHistograms::enable_search`]).
    value_bins: Option<Handle>,
    /// The categorical features the device searches, with their codes.
    categories: Option<CategoryFeatures>,
    /// Each leaf's histogram, kept on the device when it searches.
    leaf_hists: Vec<Option<Handle>>,
    /// Histogram buffers of finished leaves, for reuse.
    spare: Vec<Handle>,
    /// Leaf histogram buffers allocated, the most held at once.
    leaf_buffers: usize,
    n_rows: usize,
    n_features: usize,
    words: usize,
}

impl std::fmt::Debug for GpuHistograms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuHistograms")
            .field("device", &self.device.name)
            .field("n_rows", &self.n_rows)
            .field("n_features", &self.n_features)
            .finish()
    }
}

/// A row's quantised levels in 16 bits: the gradient level as a signed
/// byte, then the hessian level. `num_grad_quant_bins` is at most 126, so
/// a gradient level is within `±64` and a hessian level within `0..=127`.
pub fn pack_levels(g: i64, h: i64) -> u32 {
    assert!(
        (-128..128).contains(&g) && (0..256).contains(&h),
        "quantised levels ({g}, {h}) fit in a byte each"
    );
    (g as u8 as u32) | (h as u32) << 8
}

/// Trees flattened for the kernels: tree `t`'s nodes are
/// `node_start[t]..node_start[t + 1]`, each with its 256-bit left set;
/// one padding node at the end, as empty buffers are not bindable.
struct FlatTrees {
    feature: Vec<u32>,
    left: Vec<i32>,
    right: Vec<i32>,
    mask: Vec<u32>,
    node_start: Vec<u32>,
}

impl FlatTrees {
    fn new(trees: &[BinTree]) -> Self {
        let mut flat = Self {
            feature: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
            mask: Vec::new(),
            node_start: vec![0],
        };
        for t in trees {
            for n in &t.nodes {
                flat.feature.push(n.feature);
                flat.left.push(n.left);
                flat.right.push(n.right);
                flat.mask.extend(left_mask(&n.rule, n.missing_left));
            }
            flat.node_start.push(flat.feature.len() as u32);
        }
        flat.feature.push(0);
        flat.left.push(-1);
        flat.right.push(-1);
        flat.mask.extend([0; 8]);
        flat
    }

    /// Bytes of one tree's nodes as `add_tree` uploads them (no starts).
    fn node_bytes(&self) -> usize {
        4 * (self.feature.len() * 3 + self.mask.len())
    }
}

/// What the device needs to compute a round's gradients itself.
struct FixedBuffers {
    kind: FixedKind,
    /// Fixed-point training scores, one `i32` a row.
    score: Handle,
    labels: Handle,
    sigmoid: Handle,
    slope: Handle,
    sigmoid_len: usize,
    /// Tweedie's tables (`fixed::EXP_HI`), or one unused element.
    exps: Handle,
    exps_len: usize,
    /// The round's largest `|gradient|` and hessian, a leaf's totals,
    /// Tweedie's unit exponents (`fixed::EXPONENT_BIAS` added), and Cox's
    /// values (`cox::STAT_MAX` on).
    stats: Handle,
    /// Cox's labels and working buffers.
    cox: Option<cox::CoxBuffers>,
    /// Row weights as soft numbers, and each row's weighted gradient and
    /// hessian.
    weighted: Option<(Handle, Handle)>,
    /// One unused element, the rows' argument when each row's gradient
    /// comes from its own score.
    no_rows: Handle,
}

impl FixedBuffers {
    /// The kernels' rows argument: each row's gradient and hessian where
    /// a round computes them at once (Cox, row weights), or an unused
    /// element.
    fn rows_arg(&self, n: usize) -> BufferArg {
        match (&self.cox, &self.weighted) {
            (Some(c), _) => buffer(&c.gh, 2 * n.max(1)),
            (None, Some((_, rows))) => buffer(rows, 2 * n.max(1)),
            (None, None) => buffer(&self.no_rows, 1),
        }
    }

    /// The gradient kernels' `kind`: the objective's, or 3 (read the rows'
    /// gradients) where a round computes them at once.
    fn kernel_kind(&self) -> u32 {
        if self.cox.is_some() || self.weighted.is_some() {
            3
        } else {
            self.kind as u32
        }
    }
}

/// Values in the statistics buffer (see `FixedBuffers::stats`).
const STATS: usize = 12;
// Documented as 48 bytes (`GpuHistograms::gradients`, the traffic test).
const _: () = assert!(STATS * 4 == 48);

/// The categorical features a search covers: their indices and level
/// counts, on the host and on the device.
struct CategoryFeatures {
    features: Vec<usize>,
    indices: Handle,
    codes: Handle,
}

/// How the device searches one feature's splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFeature {
    /// Thresholds between its value bins `1..value_bins`.
    Numeric { value_bins: u32 },
    /// Sets of its levels, bins `1..=codes`.
    Categorical { codes: u32 },
}

impl From<&crate::bin::BinMapper> for SearchFeature {
    fn from(m: &crate::bin::BinMapper) -> Self {
        match m {
            crate::bin::BinMapper::Numeric { uppers } => SearchFeature::Numeric {
                value_bins: uppers.len() as u32 + 1,
            },
            crate::bin::BinMapper::Categorical { codes, .. } => SearchFeature::Categorical {
                codes: codes.len() as u32,
            },
        }
    }
}

/// One leaf a search covers, with its minimums in hessian levels:
/// [`crate::split::LeafScan::min_hessian_levels`] for a side and
/// [`crate::split::LeafScan::min_group_levels`] for a categorical level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLeaf {
    pub leaf: usize,
    pub min_levels: i64,
    pub min_group: Option<i64>,
}

/// A round's split penalties in levels, for the device's `f32` scores
/// and its categorical order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchPenalties {
    l1: f32,
    l2: f32,
    cat_l2: f32,
    cat_smooth: u32,
    max_cat_threshold: u32,
    max_cat_to_onehot: u32,
}

impl SearchPenalties {
    /// Whether the device's `f32` scores keep their error bound: the
    /// penalties are finite and far from `f32`'s range, where division is
    /// no longer within 2.5 ulp. Otherwise every shortlist is unsure.
    pub fn trusted(&self) -> bool {
        const FAR: f32 = (1u128 << 100) as f32;
        [self.l1, self.l2, self.cat_l2]
            .iter()
            .all(|v| v.is_finite() && *v < FAR)
    }

    /// `p`'s penalties at the round's scales `(gs, hs)`.
    pub fn new(p: &GbdtValidParams, (gs, hs): (f64, f64)) -> Self {
        Self {
            l1: (p.lambda_l1 / gs) as f32,
            l2: (p.lambda_l2 / hs) as f32,
            cat_l2: ((p.lambda_l2 + p.cat_l2) / hs) as f32,
            cat_smooth: cat_smooth_levels(p.cat_smooth, hs),
            max_cat_threshold: p.max_cat_threshold.min(256) as u32,
            max_cat_to_onehot: p.max_cat_to_onehot.min(256) as u32,
        }
    }
}

/// A histogram's used bins, packed: feature `j` at `offsets[j]..offsets[j + 1]`.
struct Compact {
    offsets: Handle,
    out: Handle,
    len: usize,
}

/// `data`'s bins, column by column, four rows to a little-endian word.
fn packed_columns(data: &BinnedData) -> (Vec<u32>, usize) {
    let words = data.n_rows.div_ceil(4).max(1);
    let mut out = vec![0u32; words * data.n_features.max(1)];
    for j in 0..data.n_features {
        let col = data.col(j);
        for (w, chunk) in out[j * words..(j + 1) * words]
            .iter_mut()
            .zip(col.chunks(4))
        {
            let mut bytes = [0u8; 4];
            bytes[..chunk.len()].copy_from_slice(chunk);
            *w = u32::from_le_bytes(bytes);
        }
    }
    (out, words)
}

impl GpuHistograms {
    /// Moves `data` to the device; every row starts in leaf 0.
    pub fn new(device: &GpuDevice, data: &BinnedData) -> Result<Self> {
        // One histogram cube per block of rows and feature, at most 65,535
        // blocks along x.
        if data.n_rows.div_ceil(ROWS_PER_CUBE) > 65_535 || data.n_features > 65_535 {
            return Err(GbdtError::Device(format!(
                "{} rows x {} features is past the GPU booster's grid ({} rows, 65,535 features)",
                data.n_rows,
                data.n_features,
                65_535 * ROWS_PER_CUBE
            )));
        }
        let client = &device.client;
        let (bins, words) = packed_columns(data);
        let n = data.n_rows;
        let hist_len = 2 * 256 * data.n_features.max(1);
        // Bins past a feature's largest are empty in every histogram of
        // this training: reads leave them out (features with few levels,
        // flags and one-hot columns, have a handful of bins, not 256).
        let used: Vec<usize> = (0..data.n_features)
            .map(|j| {
                data.col(j)
                    .iter()
                    .copied()
                    .max()
                    .map_or(1, |b| usize::from(b) + 1)
            })
            .collect();
        let mut offsets = vec![0u32];
        for &u in &used {
            offsets.push(offsets[offsets.len() - 1] + 2 * u as u32);
        }
        let compact_len = offsets[offsets.len() - 1] as usize;
        let compact = (data.n_features > 0 && compact_len < hist_len).then(|| Compact {
            offsets: client.create_from_slice(u32::as_bytes(&offsets)),
            out: client.empty(compact_len.max(1) * size_of::<i32>()),
            len: compact_len,
        });
        let offsets_bytes = if compact.is_some() {
            offsets.len() * 4
        } else {
            0
        };
        Ok(Self {
            device: device.clone(),
            bins: client.create_from_slice(u32::as_bytes(&bins)),
            rows: client.empty(n.max(1) * size_of::<u32>()),
            scratch: client.empty(n.max(1) * size_of::<u32>()),
            count: client.empty(2 * size_of::<u32>()),
            gh: client.create_from_slice(u32::as_bytes(&vec![0u32; n.div_ceil(2).max(1)])),
            hist: client.empty(hist_len * size_of::<i32>()),
            staged: Vec::with_capacity(n.div_ceil(2)),
            tree_rows: 0,
            traffic: DeviceTraffic {
                // The matrix, the zeroed gradient buffer and the offsets.
                uploaded_at_start: ((bins.len() + n.div_ceil(2).max(1)) * 4 + offsets_bytes) as u64,
                ..DeviceTraffic::default()
            },
            used,
            compact,
            bag_rule: None,
            fixed: None,
            value_bins: None,
            categories: None,
            leaf_hists: Vec::new(),
            spare: Vec::new(),
            leaf_buffers: 0,
            n_rows: n,
            n_features: data.n_features,
            words,
        })
    }

    /// Bytes held on the device for this training.
    pub fn device_bytes(&self) -> usize {
        let compact = self
            .compact
            .as_ref()
            .map_or(0, |c| c.len + self.n_features + 1);
        // The matrix, rows and their partition scratch, the levels (two
        // rows a word), the histograms, the counters.
        let rows = 2 * self.n_rows + self.n_rows.div_ceil(2);
        let hists = (1 + self.leaf_buffers) * 2 * 256 * self.n_features;
        // Scores and labels, the two tables, the statistics.
        let fixed = self.fixed.as_ref().map_or(0, |fb| {
            let cox = fb.cox.as_ref().map_or(1, |c| c.words(self.n_rows));
            let weighted = fb.weighted.as_ref().map_or(0, |_| 3 * self.n_rows);
            2 * self.n_rows + 2 * fb.sigmoid_len + fb.exps_len + STATS + cox + weighted
        });
        (self.words * self.n_features + rows + hists + 2 + compact + fixed) * 4
    }

    /// What this training moved so far.
    pub fn traffic(&self) -> DeviceTraffic {
        self.traffic
    }

    pub fn device_name(&self) -> &str {
        &self.device.name
    }

    /// Uploads a round's quantised gradients (`hist::pack` per row), 16
    /// bits a row.
    pub fn set_gradients(&mut self, packed: &[Packed]) {
        debug_assert_eq!(packed.len(), self.n_rows);
        // A staging buffer kept between rounds: this runs once a round.
        self.staged.clear();
        self.staged.extend(packed.chunks(2).map(|pair| {
            let level = |p: &Packed| {
                let (g, h) = unpack(*p);
                pack_levels(g, h)
            };
            level(&pair[0]) | pair.get(1).map_or(0, level) << 16
        }));
        if self.staged.is_empty() {
            self.staged.push(0);
        }
        self.gh = self
            .device
            .client
            .create_from_slice(u32::as_bytes(&self.staged));
        self.traffic.uploaded_in_rounds += 4 * packed.len().div_ceil(2) as u64;
        self.traffic.rounds += 1;
    }

    /// Keeps the training scores on the device, from `base` (in `fixed`'s
    /// units), and computes each round's gradients there
    /// ([`GpuHistograms::gradients`]) instead of taking them from the host.
    pub fn enable_gradients(&mut self, fixed: &FixedGradients, base: i32) {
        let client = &self.device.client;
        let n = self.n_rows.max(1);
        let score = client.empty(n * size_of::<i32>());
        self.fill(&score, n, base as u32);
        // Unused tables (squared error) are one element: empty buffers are
        // not bindable.
        let table = |t: &[i32]| {
            let t = if t.is_empty() { &[0][..] } else { t };
            (client.create_from_slice(i32::as_bytes(t)), t.len())
        };
        let (sigmoid, sigmoid_len) = table(&fixed.sigmoid);
        let (slope, _) = table(&fixed.slope);
        let (exps, exps_len) = table(&fixed.exps);
        let labels = if fixed.labels.is_empty() {
            vec![0]
        } else {
            fixed.labels.clone()
        };
        self.traffic.uploaded_at_start +=
            4 * (labels.len() + 2 * sigmoid_len + fixed.exps.len()) as u64;
        let cox = fixed.cox.as_ref().map(|labels| {
            let (buffers, uploaded) = cox::CoxBuffers::new(&self.device, labels);
            self.traffic.uploaded_at_start += uploaded;
            buffers
        });
        let client = &self.device.client;
        let weighted = (!fixed.weights.is_empty()).then(|| {
            self.traffic.uploaded_at_start += 4 * fixed.weights.len() as u64;
            (
                client.create_from_slice(i32::as_bytes(&fixed.weights)),
                client.empty(2 * n * size_of::<i32>()),
            )
        });
        self.fixed = Some(FixedBuffers {
            kind: fixed.kind,
            score,
            labels: client.create_from_slice(i32::as_bytes(&labels)),
            sigmoid,
            slope,
            sigmoid_len,
            exps,
            exps_len,
            stats: client.empty(STATS * size_of::<i32>()),
            cox,
            weighted,
            no_rows: client.empty(size_of::<i32>()),
        });
    }

    /// Whether the device computes the gradients.
    pub fn computes_gradients(&self) -> bool {
        self.fixed.is_some()
    }

    /// Computes and quantises this round's gradients at the device's
    /// scores, as [`FixedGradients::quantize`] does on the host, and
    /// returns one level's gradient and hessian and the round's units
    /// (one read of the 48-byte statistics).
    pub fn gradients(
        &mut self,
        fixed: &FixedGradients,
        levels: usize,
        stochastic: bool,
        key: u32,
    ) -> ((f64, f64), Units) {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let client = &self.device.client;
        let n = self.n_rows;
        self.fill(&fb.stats, STATS, 0);
        let t = fb.sigmoid_len;
        if fb.kind == FixedKind::Tweedie {
            exponent_kernel::launch(
                client,
                self.device.cubes(n),
                CubeDim::new_1d(CUBE),
                buffer(&fb.score, n.max(1)),
                buffer(&fb.labels, n.max(1)),
                buffer(&fb.exps, fb.exps_len),
                buffer(&fb.stats, STATS),
                n,
            );
        }
        if let Some(cb) = &fb.cox {
            cb.round(
                &self.device,
                &fb.score,
                (&fb.exps, fb.exps_len),
                &fb.labels,
                (&fb.stats, STATS),
            );
        }
        if let Some((weights, rows)) = &fb.weighted {
            weighted::own_rows_kernel::launch(
                client,
                self.device.cubes(n),
                CubeDim::new_1d(CUBE),
                buffer(&fb.score, n.max(1)),
                buffer(&fb.labels, n.max(1)),
                buffer(&fb.sigmoid, t),
                buffer(&fb.slope, t),
                buffer(&fb.exps, fb.exps_len),
                buffer(weights, n.max(1)),
                buffer(&fb.stats, STATS),
                buffer(rows, 2 * n.max(1)),
                fb.kind as u32,
                n,
            );
            weighted::weigh_rows_kernel::launch(
                client,
                self.device.cubes(n),
                CubeDim::new_1d(CUBE),
                buffer(weights, n.max(1)),
                buffer(&fb.stats, STATS),
                buffer(rows, 2 * n.max(1)),
                n,
            );
        }
        let (fb_kind, weighted) = (fb.kind, fb.weighted.is_some());
        gradient_max_kernel::launch(
            client,
            self.device.cubes(n),
            CubeDim::new_1d(CUBE),
            buffer(&fb.score, n.max(1)),
            buffer(&fb.labels, n.max(1)),
            buffer(&fb.sigmoid, t),
            buffer(&fb.slope, t),
            buffer(&fb.exps, fb.exps_len),
            fb.rows_arg(n),
            buffer(&fb.stats, STATS),
            fb.kernel_kind(),
            n,
        );
        quantize_kernel::launch(
            client,
            self.device.cubes(n.div_ceil(2)),
            CubeDim::new_1d(CUBE),
            buffer(&fb.score, n.max(1)),
            buffer(&fb.labels, n.max(1)),
            buffer(&fb.sigmoid, t),
            buffer(&fb.slope, t),
            buffer(&fb.exps, fb.exps_len),
            fb.rows_arg(n),
            buffer(&fb.stats, STATS),
            buffer(&self.gh, n.div_ceil(2).max(1)),
            fb.kernel_kind(),
            (levels / 2) as i32,
            levels as i32,
            key,
            u32::from(stochastic),
            n,
        );
        let stats = self.read_stats(0..STATS);
        self.traffic.rounds += 1;
        let units = if fb_kind == FixedKind::Cox {
            crate::cox::units(stats[cox::STAT_TOP], stats[cox::STAT_Z])
        } else {
            let own = fixed.units_from_tops(stats[4], stats[5]);
            if weighted {
                let [g, h] =
                    [0, 1].map(|k| crate::fixed::weighed_unit(stats[weighted::STAT_TOPS + k]));
                (own.0 + g, own.1 + h)
            } else {
                own
            }
        };
        let scales = fixed.scales(stats[0].max(1), stats[1].max(1), levels, units);
        (scales, units)
    }

    /// Leaf `leaf`'s total gradient and hessian levels, from its histogram
    /// kept on the device (one read of the 48-byte statistics).
    pub fn leaf_totals(&mut self, leaf: usize) -> (i64, i64) {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let hist = self.leaf_hists[leaf]
            .as_ref()
            .expect("the leaf's histogram is built");
        totals_kernel::launch(
            &self.device.client,
            CubeCount::Static(1, 1, 1),
            CubeDim::new_1d(1),
            buffer(hist, self.hist_len()),
            buffer(&fb.stats, STATS),
        );
        let stats = self.read_stats(2..4);
        (i64::from(stats[0]), i64::from(stats[1]))
    }

    /// Each leaf's exact sums of its rows' integer gradients and hessians
    /// (in [`FixedGradients`]' units), at the device's scores; `ranges` are
    /// the leaves' positions. One read of 16 bytes per 4,096 rows of a leaf.
    pub fn leaf_sums(&mut self, ranges: &[(usize, usize)]) -> Vec<(i64, i64)> {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let mut blocks = Vec::new();
        let mut owner = Vec::new();
        for (leaf, &(lo, hi)) in ranges.iter().enumerate() {
            assert!(lo <= hi && hi <= self.tree_rows);
            for start in (lo..hi).step_by(ROWS_PER_CUBE) {
                blocks.extend([start as u32, (start + ROWS_PER_CUBE).min(hi) as u32]);
                owner.push(leaf);
            }
        }
        let mut sums = vec![(0i64, 0i64); ranges.len()];
        if owner.is_empty() {
            return sums;
        }
        let client = &self.device.client;
        let out = client.empty(4 * owner.len() * size_of::<i32>());
        let t = fb.sigmoid_len;
        let block_buffer = client.create_from_slice(u32::as_bytes(&blocks));
        // A grid has at most 65,535 cubes along x.
        for first in (0..owner.len()).step_by(65_535) {
            leaf_sums_kernel::launch(
                client,
                CubeCount::Static((owner.len() - first).min(65_535) as u32, 1, 1),
                CubeDim::new_1d(CUBE),
                buffer(&self.rows, self.tree_rows.max(1)),
                buffer(&fb.score, self.n_rows.max(1)),
                buffer(&fb.labels, self.n_rows.max(1)),
                buffer(&fb.sigmoid, t),
                buffer(&fb.slope, t),
                buffer(&fb.exps, fb.exps_len),
                fb.rows_arg(self.n_rows),
                buffer(&fb.stats, STATS),
                buffer(&block_buffer, blocks.len()),
                buffer(&out, 4 * owner.len()),
                first,
                fb.kernel_kind(),
            );
        }
        let bytes = client.read_one_unchecked(out);
        self.traffic.uploaded_in_rounds += 4 * blocks.len() as u64;
        self.traffic.read_back += bytes.len() as u64;
        self.traffic.reads += 1;
        for (v, &leaf) in i32::from_bytes(&bytes).chunks(4).zip(&owner) {
            let s = &mut sums[leaf];
            s.0 += i64::from(v[0]) * 4096 + i64::from(v[1]);
            s.1 += i64::from(v[2]) * 4096 + i64::from(v[3]);
        }
        sums
    }

    /// Reads the statistics buffer (all 48 bytes) and returns `range` of it.
    fn read_stats(&mut self, range: Range<usize>) -> Vec<i32> {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let bytes = self.device.client.read_one_unchecked(fb.stats.clone());
        self.traffic.read_back += bytes.len() as u64;
        self.traffic.reads += 1;
        i32::from_bytes(&bytes)[range].to_vec()
    }

    /// Adds a grown tree's leaf values (`leaf_values`, in the fixed-point
    /// units) to the device's training scores.
    pub fn add_tree(&mut self, tree: &BinTree, leaf_values: &[i32]) {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let flat = FlatTrees::new(std::slice::from_ref(tree));
        let client = &self.device.client;
        let up_u32 = |v: &[u32]| buffer(&client.create_from_slice(u32::as_bytes(v)), v.len());
        let up_i32 = |v: &[i32]| buffer(&client.create_from_slice(i32::as_bytes(v)), v.len());
        self.traffic.uploaded_in_rounds += (flat.node_bytes() + 4 * leaf_values.len()) as u64;
        add_tree_kernel::launch(
            client,
            self.device.cubes(self.n_rows),
            CubeDim::new_1d(CUBE),
            buffer(&self.bins, self.words * self.n_features.max(1)),
            up_u32(&flat.feature),
            up_i32(&flat.left),
            up_i32(&flat.right),
            up_u32(&flat.mask),
            up_i32(leaf_values),
            buffer(&fb.score, self.n_rows.max(1)),
            tree.nodes.len(),
            self.n_rows,
            self.words,
            SCORE_LIMIT,
        );
    }

    /// Replaces the device's training scores (fixed-point, one a row), as
    /// when resuming from a model's scores.
    pub fn set_scores(&mut self, scores: &[i32]) {
        assert_eq!(scores.len(), self.n_rows);
        let fb = self.fixed.as_mut().expect("enable_gradients came first");
        fb.score = self
            .device
            .client
            .create_from_slice(i32::as_bytes(if scores.is_empty() { &[0] } else { scores }));
        self.traffic.uploaded_in_rounds += 4 * scores.len() as u64;
    }

    /// The device's training scores (fixed-point), read back.
    pub fn scores(&self) -> Vec<i32> {
        let fb = self.fixed.as_ref().expect("enable_gradients came first");
        let bytes = self.device.client.read_one_unchecked(fb.score.clone());
        i32::from_bytes(&bytes)[..self.n_rows].to_vec()
    }

    /// The round's quantised levels as the histogram kernel reads them.
    pub fn levels(&self) -> Vec<u32> {
        let bytes = self.device.client.read_one_unchecked(self.gh.clone());
        u32::from_bytes(&bytes)[..self.n_rows.div_ceil(2)].to_vec()
    }

    /// Sets the rule (`fixed::in_bag`'s key and threshold) that the bags
    /// given to [`GpuHistograms::start_tree`] are drawn by, so that the
    /// device draws them itself; `None`: bags are uploaded.
    pub fn set_bag_rule(&mut self, rule: Option<(u32, u32)>) {
        self.bag_rule = rule;
    }

    /// Starts a tree over `rows` (all of them, in order, or a bag): they
    /// are leaf 0's, at positions `0..rows.len()`.
    pub fn start_tree(&mut self, rows: &[u32]) {
        debug_assert!(rows.len() <= self.n_rows);
        self.tree_rows = rows.len();
        let drawn = self.bag_rule.filter(|_| rows.len() < self.n_rows);
        if (rows.len() == self.n_rows || drawn.is_some())
            && self.rows.size() < (self.n_rows.max(1) * size_of::<u32>()) as u64
        {
            // The last tree's bag was uploaded, and smaller.
            self.rows = self
                .device
                .client
                .empty(self.n_rows.max(1) * size_of::<u32>());
        }
        if let Some((key, threshold)) = drawn {
            // The same rows as `rows` (the host drew them by the same
            // rule), in another order, which no integer sum sees.
            self.fill(&self.count, 2, 0);
            bag_kernel::launch(
                &self.device.client,
                self.device.cubes(self.n_rows),
                CubeDim::new_1d(CUBE),
                buffer(&self.rows, self.n_rows.max(1)),
                buffer(&self.count, 2),
                key,
                threshold,
                self.n_rows,
            );
        } else if rows.len() == self.n_rows {
            iota_kernel::launch(
                &self.device.client,
                self.device.cubes(self.n_rows),
                CubeDim::new_1d(CUBE),
                buffer(&self.rows, self.n_rows.max(1)),
                self.n_rows,
            );
        } else if !rows.is_empty() {
            self.rows = self.device.client.create_from_slice(u32::as_bytes(rows));
            self.traffic.uploaded_in_rounds += 4 * rows.len() as u64;
        }
    }

    fn fill(&self, handle: &Handle, len: usize, value: u32) {
        fill_kernel::launch(
            &self.device.client,
            self.device.cubes(len),
            CubeDim::new_1d(CUBE),
            buffer(handle, len),
            value,
            len,
        );
    }

    /// The quantised histogram of the rows at positions `range` (a leaf),
    /// as the CPU's `Histogram::build_quantized` gives it.
    pub fn build(&mut self, range: Range<usize>) -> Histogram {
        self.sum_into(&self.hist, range);
        let hist = self.hist.clone();
        self.read_histogram(&hist)
    }

    /// Feature `j`'s bins in leaf `leaf`'s histogram (kept on the
    /// device), read back: for a feature whose shortlist could not settle
    /// its split. Only the bins the feature uses move.
    pub fn feature_histogram(&mut self, leaf: usize, j: usize) -> [Packed; 256] {
        let hist = self.leaf_hists[leaf]
            .as_ref()
            .expect("the leaf's histogram is built");
        let n = 2 * self.used[j];
        let client = &self.device.client;
        let out = client.empty(n * size_of::<i32>());
        window_kernel::launch(
            client,
            self.device.cubes(n),
            CubeDim::new_1d(CUBE),
            buffer(hist, self.hist_len()),
            buffer(&out, n),
            512 * j,
            n,
        );
        let bytes = client.read_one_unchecked(out);
        self.traffic.read_back += bytes.len() as u64;
        self.traffic.reads += 1;
        let mut bins = [0; 256];
        for (b, pair) in i32::from_bytes(&bytes).chunks(2).enumerate() {
            bins[b] = pack(pair[0], pair[1] as u32);
        }
        bins
    }

    /// Reads a histogram buffer back, packed to the bins in use.
    fn read_histogram(&mut self, hist: &Handle) -> Histogram {
        let client = &self.device.client;
        let f = self.n_features;
        let len = self.hist_len();
        let bytes = match &self.compact {
            Some(c) => {
                compact_kernel::launch(
                    client,
                    self.device.cubes(len),
                    CubeDim::new_1d(CUBE),
                    buffer(hist, len),
                    buffer(&c.offsets, f + 1),
                    buffer(&c.out, c.len.max(1)),
                    len,
                );
                client.read_one_unchecked(c.out.clone())
            }
            None => client.read_one_unchecked(hist.clone()),
        };
        self.traffic.read_back += bytes.len() as u64;
        self.traffic.reads += 1;
        let sums = i32::from_bytes(&bytes);
        let mut out = Histogram::zeros_quantized(f);
        let mut k = 0;
        for (feature, &used) in out.quant.iter_mut().zip(&self.used) {
            let stride = if self.compact.is_some() { used } else { 256 };
            for v in &mut feature[..used] {
                *v = pack(sums[2 * k], sums[2 * k + 1] as u32);
                k += 1;
            }
            k += stride - used;
        }
        out
    }

    /// Lets the device search splits ([`GpuHistograms::search`]) over
    /// these features, one per feature: leaf histograms then stay on the
    /// device and only shortlists come back.
    pub fn enable_search(&mut self, features: &[SearchFeature]) {
        assert_eq!(features.len(), self.n_features);
        let client = &self.device.client;
        // A categorical feature has no thresholds: no value bins.
        let value_bins: Vec<u32> = features
            .iter()
            .map(|f| match *f {
                SearchFeature::Numeric { value_bins } => value_bins,
                SearchFeature::Categorical { .. } => 0,
            })
            .collect();
        let (cats, codes): (Vec<usize>, Vec<u32>) = features
            .iter()
            .enumerate()
            .filter_map(|(j, f)| match *f {
                SearchFeature::Categorical { codes } => Some((j, codes)),
                SearchFeature::Numeric { .. } => None,
            })
            .unzip();
        self.value_bins = Some(client.create_from_slice(u32::as_bytes(&value_bins)));
        self.traffic.uploaded_at_start += 4 * value_bins.len() as u64;
        self.categories = (!cats.is_empty()).then(|| {
            let indices: Vec<u32> = cats.iter().map(|&j| j as u32).collect();
            self.traffic.uploaded_at_start += 8 * cats.len() as u64;
            CategoryFeatures {
                indices: client.create_from_slice(u32::as_bytes(&indices)),
                codes: client.create_from_slice(u32::as_bytes(&codes)),
                features: cats,
            }
        });
    }

    /// Whether splits are searched on the device.
    pub fn searches(&self) -> bool {
        self.value_bins.is_some() && self.n_features > 0
    }

    fn hist_len(&self) -> usize {
        2 * 256 * self.n_features.max(1)
    }

    /// Sums the rows at positions `range` into a histogram kept on the
    /// device as leaf `leaf`'s.
    pub fn build_leaf(&mut self, leaf: usize, range: Range<usize>) {
        let len = self.hist_len();
        let hist = match self.spare.pop() {
            Some(h) => h,
            None => {
                self.leaf_buffers += 1;
                self.device.client.empty(len * size_of::<i32>())
            }
        };
        self.sum_into(&hist, range);
        self.set_leaf(leaf, hist);
    }

    /// Zeroes `hist` and sums the rows at positions `range` into it.
    fn sum_into(&self, hist: &Handle, range: Range<usize>) {
        assert!(range.start <= range.end && range.end <= self.tree_rows);
        let len = self.hist_len();
        self.fill(hist, len, 0);
        if range.is_empty() {
            return;
        }
        let f = self.n_features.max(1);
        histogram_kernel::launch(
            &self.device.client,
            CubeCount::Static(range.len().div_ceil(ROWS_PER_CUBE) as u32, f as u32, 1),
            CubeDim::new_1d(CUBE),
            buffer(&self.bins, self.words * f),
            buffer(&self.rows, self.tree_rows.max(1)),
            buffer(&self.gh, self.n_rows.div_ceil(2).max(1)),
            buffer(hist, len),
            range.start,
            range.end,
            self.words,
        );
    }

    fn set_leaf(&mut self, leaf: usize, hist: Handle) {
        if self.leaf_hists.len() <= leaf {
            self.leaf_hists.resize(leaf + 1, None);
        }
        if let Some(old) = self.leaf_hists[leaf].replace(hist) {
            self.spare.push(old);
        }
    }

    /// After leaf `parent` split: builds the smaller child (`small` at
    /// positions `range`) and turns the parent's histogram into the larger
    /// child's (`large`) by subtraction, all on the device.
    pub fn split_histograms(
        &mut self,
        parent: usize,
        small: usize,
        range: Range<usize>,
        large: usize,
    ) {
        let parent_hist = self.leaf_hists[parent]
            .take()
            .expect("a split leaf keeps its histogram");
        self.build_leaf(small, range);
        let len = self.hist_len();
        let small_hist = self.leaf_hists[small].as_ref().expect("just built");
        subtract_kernel::launch(
            &self.device.client,
            self.device.cubes(len),
            CubeDim::new_1d(CUBE),
            buffer(&parent_hist, len),
            buffer(small_hist, len),
            len,
        );
        self.set_leaf(large, parent_hist);
    }

    /// Frees leaf `leaf`'s histogram for reuse.
    pub fn release(&mut self, leaf: usize) {
        if let Some(h) = self.leaf_hists.get_mut(leaf).and_then(Option::take) {
            self.spare.push(h);
        }
    }

    /// Frees every leaf's histogram (the tree is grown).
    pub fn release_all(&mut self) {
        for leaf in 0..self.leaf_hists.len() {
            self.release(leaf);
        }
    }

    /// Each leaf's shortlists, one per feature, for
    /// [`crate::split::LeafScan::best_shortlisted`] to score; one read for
    /// all of `leaves`: a numeric feature's totals, missing bin and best
    /// thresholds, a categorical one's best sets of levels.
    pub fn search(&mut self, leaves: &[SearchLeaf], p: SearchPenalties) -> Vec<Vec<Shortlist>> {
        if leaves.is_empty() {
            return Vec::new();
        }
        let f = self.n_features;
        let n_cats = self.categories.as_ref().map_or(0, |c| c.features.len());
        let stride = THRESHOLD_WORDS * f + CATEGORY_WORDS * n_cats;
        let value_bins = self.value_bins.as_ref().expect("search is enabled");
        let client = &self.device.client;
        let out = client.empty(stride * leaves.len() * size_of::<i32>());
        let to_i32 = |v: i64| v.clamp(0, i64::from(i32::MAX)) as i32;
        for (k, leaf) in leaves.iter().enumerate() {
            let hist = self.leaf_hists[leaf.leaf]
                .as_ref()
                .expect("the leaf's histogram is built");
            search_kernel::launch(
                client,
                CubeCount::Static(f as u32, 1, 1),
                CubeDim::new_1d(CUBE),
                buffer(hist, self.hist_len()),
                buffer(value_bins, f),
                buffer(&out, stride * leaves.len()),
                stride * k,
                to_i32(leaf.min_levels),
                p.l1,
                p.l2,
            );
            if let Some(cats) = &self.categories {
                category_search_kernel::launch(
                    client,
                    CubeCount::Static(n_cats as u32, 1, 1),
                    CubeDim::new_1d(CUBE),
                    buffer(hist, self.hist_len()),
                    buffer(&cats.indices, n_cats),
                    buffer(&cats.codes, n_cats),
                    buffer(&out, stride * leaves.len()),
                    stride * k + THRESHOLD_WORDS * f,
                    to_i32(leaf.min_levels),
                    // None: no level is eligible, and none reaches
                    // u32::MAX (a hessian sum is below 2^31).
                    leaf.min_group
                        .map_or(u32::MAX, |k| k.clamp(0, i64::from(u32::MAX)) as u32),
                    p.cat_smooth,
                    p.max_cat_threshold,
                    p.max_cat_to_onehot,
                    p.l1,
                    p.cat_l2,
                );
            }
        }
        let bytes = client.read_one_unchecked(out);
        self.traffic.read_back += bytes.len() as u64;
        self.traffic.reads += 1;
        let levels = |g: i32, h: i32| Levels {
            g: i64::from(g),
            h: i64::from(h),
        };
        let cat_features = self.categories.as_ref().map_or(&[][..], |c| &c.features);
        i32::from_bytes(&bytes)
            .chunks(stride)
            .map(|leaf| {
                let (numeric, categorical) = leaf.split_at(THRESHOLD_WORDS * f);
                let unlisted = |word: i32| f32::from_bits(word as u32);
                let mut lists: Vec<Shortlist> = numeric
                    .chunks(THRESHOLD_WORDS)
                    .map(|c| {
                        let mut prefixes: Vec<(u8, Levels)> = c[4..16]
                            .chunks(3)
                            .filter(|t| t[0] >= 0)
                            .map(|t| (t[0] as u8, levels(t[1], t[2])))
                            .collect();
                        prefixes.sort_unstable_by_key(|&(b, _)| b);
                        Shortlist {
                            listed: Listed::Thresholds(Candidates {
                                total: levels(c[0], c[1]),
                                missing: levels(c[2], c[3]),
                                prefixes,
                            }),
                            unlisted: unlisted(c[16]),
                        }
                    })
                    .collect();
                for (&j, c) in cat_features.iter().zip(categorical.chunks(CATEGORY_WORDS)) {
                    let mut sides: Vec<CatSide> = c[4..48]
                        .chunks(11)
                        .filter(|t| t[0] >= 0)
                        .map(|t| {
                            let mut mask = [0u64; 4];
                            for (w, &word) in t[3..].iter().enumerate() {
                                mask[w / 2] |= u64::from(word as u32) << (32 * (w % 2));
                            }
                            CatSide {
                                order: t[0] as u16,
                                mask,
                                left: levels(t[1], t[2]),
                            }
                        })
                        .collect();
                    sides.sort_unstable_by_key(|s| s.order);
                    lists[j] = Shortlist {
                        listed: Listed::Categories(CatCandidates {
                            total: levels(c[0], c[1]),
                            missing: levels(c[2], c[3]),
                            sides,
                        }),
                        unlisted: unlisted(c[48]),
                    };
                }
                lists
            })
            .collect()
    }

    /// Splits the leaf at positions `range`: the rows that go left under
    /// the split end up at its first positions, the others after them.
    pub fn split(
        &mut self,
        range: Range<usize>,
        feature: usize,
        rule: &SplitRule,
        missing_left: bool,
    ) {
        assert!(range.start <= range.end && range.end <= self.tree_rows);
        if range.is_empty() {
            return;
        }
        let client = &self.device.client;
        let mask = client.create_from_slice(u32::as_bytes(&left_mask(rule, missing_left)));
        self.traffic.uploaded_in_rounds += 32;
        self.fill(&self.count, 2, 0);
        let n = self.tree_rows.max(1);
        partition_kernel::launch(
            client,
            self.device.cubes(range.len()),
            CubeDim::new_1d(CUBE),
            buffer(&self.bins, self.words * self.n_features.max(1)),
            buffer(&self.rows, n),
            buffer(&self.scratch, n),
            buffer(&self.count, 2),
            buffer(&mask, 8),
            feature,
            range.start,
            range.end,
            self.words,
        );
        copy_kernel::launch(
            client,
            self.device.cubes(range.len()),
            CubeDim::new_1d(CUBE),
            buffer(&self.scratch, n),
            buffer(&self.rows, n),
            range.start,
            range.end,
        );
    }

    /// The rows at positions `range`, read back (in the device's order).
    pub fn rows(&self, range: Range<usize>) -> Vec<u32> {
        assert!(range.end <= self.tree_rows);
        let bytes = self.device.client.read_one_unchecked(self.rows.clone());
        u32::from_bytes(&bytes)[range].to_vec()
    }

    /// The sum of the trees' leaf values for every row, computed on the
    /// device in `f32`.
    pub fn predict(&self, trees: &[BinTree]) -> Vec<f32> {
        assert!(
            trees.iter().all(|t| t
                .nodes
                .iter()
                .all(|n| (n.feature as usize) < self.n_features)),
            "the trees split on features of this matrix"
        );
        let flat = FlatTrees::new(trees);
        let mut leaf_start = Vec::with_capacity(trees.len() + 1);
        let mut values = Vec::new();
        for t in trees {
            leaf_start.push(values.len() as u32);
            values.extend(t.leaf_values.iter().map(|&v| v as f32));
        }
        // Empty buffers are not bindable: pad each to one element.
        leaf_start.push(0);
        values.push(0.0);
        let client = &self.device.client;
        let out = client.empty(self.n_rows.max(1) * size_of::<f32>());
        let up_u32 = |v: &[u32]| buffer(&client.create_from_slice(u32::as_bytes(v)), v.len());
        let up_i32 = |v: &[i32]| buffer(&client.create_from_slice(i32::as_bytes(v)), v.len());
        let up_f32 = |v: &[f32]| buffer(&client.create_from_slice(f32::as_bytes(v)), v.len());
        predict_kernel::launch(
            client,
            self.device.cubes(self.n_rows),
            CubeDim::new_1d(CUBE),
            buffer(&self.bins, self.words * self.n_features.max(1)),
            up_u32(&flat.feature),
            up_i32(&flat.left),
            up_i32(&flat.right),
            up_u32(&flat.mask),
            up_u32(&flat.node_start),
            up_u32(&leaf_start),
            up_f32(&values),
            buffer(&out, self.n_rows.max(1)),
            trees.len(),
            self.n_rows,
            self.words,
        );
        let bytes = client.read_one_unchecked(out);
        f32::from_bytes(&bytes)[..self.n_rows].to_vec()
    }
}
