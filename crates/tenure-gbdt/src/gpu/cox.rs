//! Cox gradients on the device: [`crate::cox`]'s steps in 32-bit words
//! (WGSL has no 64-bit integers). A round runs, over rows in time order:
//! the largest score (atomic maximum), each position's risk, the suffix
//! sums of the risks in 64 bits, each event time's 96-bit terms, their
//! prefix sums, the largest `E A` (atomic maximum of bit lengths), and
//! each row's gradient and hessian, which the quantising kernels then read.
//!
//! The scans are exact integer sums, so their order is free: each unit
//! sums 16 elements, one unit per 256 of those sums scans them, one unit
//! scans the blocks' totals, then each unit walks its 16 elements again
//! from its offset. No shared memory, no barriers: at 10M rows the
//! sequential passes are 2,442 units of 256 steps, then one of 2,442.

use cubecl::prelude::*;
use cubecl::server::Handle;

use super::{CUBE, GpuDevice, bits_at, bits32, bits64, buffer, mul_hi, mul_lo};
use crate::cox::{CoxLabels, RISK_HI, SCORE_BIAS, TERM_BITS};
use crate::fixed::UNIT_BITS;

// The kernels spell these as literals.
const _: () = assert!(RISK_HI == 2048 && SCORE_BIAS == 16_777_216 && TERM_BITS == 94);
const _: () = assert!(UNIT_BITS == 23);

/// Where the Cox kernels keep their values in the statistics buffer: the
/// largest score (plus `SCORE_BIAS`), the largest `E A`'s bit length, and
/// the terms' exponents `z` and `z2`.
pub(super) const STAT_MAX: usize = 6;
pub(super) const STAT_TOP: usize = 7;
pub(super) const STAT_Z: usize = 8;
// The kernels spell these as literals (`6`, `7`, `8`, `9`).
const _: () = assert!(STAT_MAX == 6 && STAT_TOP == 7 && STAT_Z == 8);

/// Elements each unit of a scan sums in turn.
const SCAN_RUN: usize = 16;
/// Unit sums one unit of a scan's second pass scans.
const SCAN_BLOCK: usize = 256;
// The scan kernels spell these as literals.
const _: () = assert!(SCAN_RUN == 16 && SCAN_BLOCK == 256);

/// The round's largest score (plus `SCORE_BIAS`, so that it is positive)
/// into `stats[6]`: a cube's maximum first, in shared memory.
#[cube(launch)]
fn score_max_kernel(score: &[i32], stats: &[Atomic<i32>], n: usize) {
    let local = Shared::<[Atomic<i32>]>::new_slice(1usize);
    if UNIT_POS == 0u32 {
        local[0usize].store(0i32);
    }
    sync_cube();
    let i = ABSOLUTE_POS;
    if i < n {
        local[0usize].fetch_max(score[i] + 16777216i32);
    }
    sync_cube();
    if UNIT_POS == 0u32 {
        stats[6usize].fetch_max(local[0usize].load());
    }
}

/// `cox::risk`: `exp(-t / 65536) 2^30` as `2 hi * lo / 2^32`, at least 1.
#[cube]
fn risk(tables: &[i32], t: i32) -> u32 {
    let mut e = 1u32;
    if t < 2097152i32 {
        let hi = 2u32 * u32::cast_from(tables[usize::cast_from(t / 1024i32)]);
        let lo = u32::cast_from(tables[2048usize + usize::cast_from(t % 1024i32)]);
        let p = mul_hi(hi, lo);
        if p > 1u32 {
            e = p;
        }
    }
    e
}

/// Each position's risk as a 64-bit value (two words), for the suffix
/// sums to replace.
#[cube(launch)]
fn risk_kernel(
    score: &[i32],
    order: &[u32],
    tables: &[i32],
    stats: &[i32],
    sums: &mut [u32],
    n: usize,
) {
    let p = ABSOLUTE_POS;
    if p < n {
        let m = stats[6usize] - 16777216i32;
        sums[2usize * p] = risk(tables, m - score[usize::cast_from(order[p])]);
        sums[2usize * p + 1usize] = 0u32;
    }
}

/// `acc += b`, as numbers of `width` words each (little-endian), with
/// carries.
#[cube]
fn add_words(
    acc: &mut Array<u32>,
    b: &Array<u32>,
    #[comptime] words: usize,
    #[comptime] width: usize,
) {
    let mut carry = 0u32;
    for w in 0..words {
        if w % width == 0usize {
            carry = 0u32;
        }
        let a = acc[w];
        let s = a + b[w];
        let mut out = 0u32;
        if s < a {
            out = 1u32;
        }
        let t = s + carry;
        if t < s {
            out = 1u32;
        }
        acc[w] = t;
        carry = out;
    }
}

/// Element `e`'s place: `e`, or from the end for a suffix scan.
#[cube]
fn place(e: usize, n: usize, #[comptime] reverse: bool) -> usize {
    let mut p = e;
    if reverse {
        p = n - 1usize - e;
    }
    p
}

/// Passes 2 and 3: unit `b` turns values `span b..span (b + 1)` into
/// their exclusive prefix sums, and their total into `totals[b]`: with a
/// span of 256 the run sums into blocks, then with one unit spanning them
/// all the blocks' totals (their total into a spare).
#[cube(launch)]
fn scan_exclusive_kernel(
    values: &mut [u32],
    totals: &mut [u32],
    count: usize,
    span: usize,
    #[comptime] words: usize,
    #[comptime] width: usize,
) {
    let b = ABSOLUTE_POS;
    if b * span < count {
        let mut acc = Array::<u32>::new(words);
        let mut before = Array::<u32>::new(words);
        for w in 0..words {
            acc[w] = 0u32;
        }
        let mut end = b * span + span;
        if end > count {
            end = count;
        }
        for j in b * span..end {
            for w in 0..words {
                before[w] = values[j * words + w];
                values[j * words + w] = acc[w];
            }
            add_words(&mut acc, &before, words, width);
        }
        for w in 0..words {
            totals[b * words + w] = acc[w];
        }
    }
}

/// Passes 1 and 4: unit `j` walks elements `16 j..16 j + 16`. Pass 1
/// (`apply` false) puts their sum in `partials[j]`; pass 4 starts from the
/// offsets passes 2 and 3 left and replaces each element with the
/// inclusive sum up to it.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn scan_runs_kernel(
    data: &mut [u32],
    partials: &mut [u32],
    totals: &[u32],
    n: usize,
    #[comptime] words: usize,
    #[comptime] width: usize,
    #[comptime] reverse: bool,
    #[comptime] apply: bool,
) {
    let j = ABSOLUTE_POS;
    if j * 16usize < n {
        let mut acc = Array::<u32>::new(words);
        let mut b = Array::<u32>::new(words);
        for w in 0..words {
            acc[w] = 0u32;
            if apply {
                acc[w] = totals[(j / 256usize) * words + w];
                b[w] = partials[j * words + w];
            }
        }
        if apply {
            add_words(&mut acc, &b, words, width);
        }
        for k in 0..16usize {
            let e = j * 16usize + k;
            if e < n {
                let at = place(e, n, reverse) * words;
                for w in 0..words {
                    b[w] = data[at + w];
                }
                add_words(&mut acc, &b, words, width);
                if apply {
                    for w in 0..words {
                        data[at + w] = acc[w];
                    }
                }
            }
        }
        if !apply {
            for w in 0..words {
                partials[j * words + w] = acc[w];
            }
        }
    }
}

/// `floor((2^63 - 1) / rm)` for `rm` in `2^31..2^32`, by restoring long
/// division (the quotient fits 32 bits).
#[cube]
fn reciprocal(rm: u32) -> u32 {
    let mut r = 2147483647u32;
    let mut q = 0u32;
    for _ in 0..32u32 {
        let top = r >> 31u32;
        r = (r << 1u32) | 1u32;
        q <<= 1u32;
        if top == 1u32 || r >= rm {
            // Wrapping: with the top bit set, the true remainder is past
            // 2^32 and the difference is below `rm`.
            r -= rm;
            q |= 1u32;
        }
    }
    q
}

/// `cox::terms`: each event time's `d / R` and `d / R²` as two 96-bit
/// fixed-point numbers, words `6 k..6 k + 6`; unit 0 also writes the
/// exponents `z` and `z2` into `stats[8..10]`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn terms_kernel(
    sums: &[u32],
    starts: &[u32],
    events: &[u32],
    terms: &mut [u32],
    stats: &mut [i32],
    groups: usize,
    event_bits: i32,
) {
    let k = ABSOLUTE_POS;
    if k < groups {
        let last = 2usize * usize::cast_from(starts[groups - 1usize]);
        let l = bits64(sums[last], sums[last + 1usize]) - 1i32;
        let z = l + 94i32 - event_bits;
        let z2 = 2i32 * l + 94i32 - event_bits;
        if k == 0usize {
            stats[8usize] = z;
            stats[9usize] = z2;
        }
        let p = 2usize * usize::cast_from(starts[k]);
        let (r0, r1) = (sums[p], sums[p + 1usize]);
        let x = bits64(r0, r1) - 32i32;
        let q = reciprocal(bits_at(r0, r1, x));
        let q2 = mul_hi(q, q);
        let d = events[k];
        let (lo, hi) = (mul_lo(d, q), mul_hi(d, q));
        let (lo2, hi2) = (mul_lo(d, q2), mul_hi(d, q2));
        let s = z - 63i32 - x;
        let s2 = z2 - 94i32 - 2i32 * x;
        for w in 0..3usize {
            let at = 32i32 * i32::cast_from(w);
            terms[6usize * k + w] = bits_at(lo, hi, at - s);
            terms[6usize * k + 3usize + w] = bits_at(lo2, hi2, at - s2);
        }
    }
}

/// `out[o..o + 4] = e * (a0 + a1 2^32 + a2 2^64)`.
#[cube]
fn mul3(e: u32, a0: u32, a1: u32, a2: u32, out: &mut Array<u32>, o: usize) {
    let h0 = mul_hi(e, a0);
    let (l1, h1) = (mul_lo(e, a1), mul_hi(e, a1));
    let (l2, h2) = (mul_lo(e, a2), mul_hi(e, a2));
    let w1 = h0 + l1;
    let mut c1 = 0u32;
    if w1 < h0 {
        c1 = 1u32;
    }
    let s = h1 + l2;
    let mut c2 = 0u32;
    if s < h1 {
        c2 = 1u32;
    }
    let w2 = s + c1;
    if w2 < s {
        c2 = 1u32;
    }
    out[o] = mul_lo(e, a0);
    out[o + 1usize] = w1;
    out[o + 2usize] = w2;
    out[o + 3usize] = h2 + c2;
}

/// The bit length of the 128-bit `v[o..o + 4]`.
#[cube]
fn bits128(v: &Array<u32>, o: usize) -> i32 {
    let mut b = 0i32;
    for w in 0..4usize {
        if v[o + w] != 0u32 {
            b = 32i32 * i32::cast_from(w) + bits32(v[o + w]);
        }
    }
    b
}

/// `floor(v[o..o + 4] / 2^sh) mod 2^32`, for `sh >= 0`.
#[cube]
fn shr128(v: &Array<u32>, o: usize, sh: i32) -> u32 {
    let k = usize::cast_from(sh / 32i32);
    let bit = u32::cast_from(sh % 32i32);
    let mut out = 0u32;
    if k < 4usize {
        out = v[o + k] >> bit;
        if bit > 0u32 && k < 3usize {
            out |= v[o + k + 1usize] << (32u32 - bit);
        }
    }
    out
}

/// A position's `E A` into `v[0..4]` and `E (E B / 2^32)` into `v[4..8]`
/// (zero before the first event time).
#[cube]
#[allow(clippy::too_many_arguments)]
fn row_products(
    score: &[i32],
    order: &[u32],
    group: &[i32],
    terms: &[u32],
    tables: &[i32],
    m: i32,
    p: usize,
    v: &mut Array<u32>,
) {
    for w in 0..8usize {
        v[w] = 0u32;
    }
    let k = group[p];
    if k >= 0i32 {
        let e = risk(tables, m - score[usize::cast_from(order[p])]);
        let t = 6usize * usize::cast_from(k);
        mul3(e, terms[t], terms[t + 1usize], terms[t + 2usize], v, 0usize);
        mul3(
            e,
            terms[t + 3usize],
            terms[t + 4usize],
            terms[t + 5usize],
            v,
            4usize,
        );
        let (b1, b2, b3) = (v[5usize], v[6usize], v[7usize]);
        mul3(e, b1, b2, b3, v, 4usize);
    }
}

/// The largest `E A`'s bit length (at least `z + 1`) into `stats[7]`.
#[cube(launch)]
fn top_kernel(
    score: &[i32],
    order: &[u32],
    group: &[i32],
    terms: &[u32],
    tables: &[i32],
    stats: &[Atomic<i32>],
    n: usize,
) {
    let local = Shared::<[Atomic<i32>]>::new_slice(1usize);
    if UNIT_POS == 0u32 {
        local[0usize].store(0i32);
    }
    sync_cube();
    let p = ABSOLUTE_POS;
    if p < n {
        let m = stats[6usize].load() - 16777216i32;
        let mut v = Array::<u32>::new(8usize);
        row_products(score, order, group, terms, tables, m, p, &mut v);
        local[0usize].fetch_max(bits128(&v, 0usize));
    }
    sync_cube();
    if UNIT_POS == 0u32 {
        let floor = stats[8usize].load() + 1i32;
        let mut top = local[0usize].load();
        if floor > top {
            top = floor;
        }
        stats[7usize].fetch_max(top);
    }
}

/// `cox::gradients`' last step: each row's gradient and hessian in the
/// round's units, at `gh[2 i]` and `gh[2 i + 1]`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn row_gradients_kernel(
    score: &[i32],
    order: &[u32],
    group: &[i32],
    terms: &[u32],
    tables: &[i32],
    delta: &[i32],
    stats: &[i32],
    gh: &mut [i32],
    n: usize,
) {
    let p = ABSOLUTE_POS;
    if p < n {
        let m = stats[6usize] - 16777216i32;
        let mut v = Array::<u32>::new(8usize);
        row_products(score, order, group, terms, tables, m, p, &mut v);
        let (z, z2) = (stats[8usize], stats[9usize]);
        let sh = stats[7usize] - 23i32;
        let mut one = 0i32;
        if z >= sh {
            one = i32::cast_from(1u32 << u32::cast_from(z - sh));
        }
        let c = i32::cast_from(shr128(&v, 0usize, sh));
        let i = usize::cast_from(order[p]);
        let mut h = c - i32::cast_from(shr128(&v, 4usize, sh + z2 - z - 32i32));
        if h < 1i32 {
            h = 1i32;
        }
        gh[2usize * i] = c - delta[i] * one;
        gh[2usize * i + 1usize] = h;
    }
}

/// The device's copy of a training's survival labels, and the round's
/// working buffers.
pub(super) struct CoxBuffers {
    order: Handle,
    group: Handle,
    starts: Handle,
    events: Handle,
    groups: usize,
    event_bits: i32,
    n: usize,
    /// Per position, its risk, then the suffix sums (two words each).
    sums: Handle,
    /// Per event time, its two terms, then their prefix sums (six words).
    terms: Handle,
    /// A scan's run sums and block totals (sized for the larger scan).
    partials: Handle,
    totals: Handle,
    /// Where the last scan pass puts the grand total, which no one reads.
    spare: Handle,
    /// Per row, the round's gradient and hessian.
    pub(super) gh: Handle,
}

/// Run sums a scan of `n` elements of `words` words takes, and block
/// totals.
fn scan_sizes(n: usize, words: usize) -> (usize, usize) {
    let runs = n.div_ceil(SCAN_RUN).max(1);
    (runs * words, runs.div_ceil(SCAN_BLOCK) * words)
}

impl CoxBuffers {
    pub(super) fn new(device: &GpuDevice, labels: &CoxLabels) -> (Self, u64) {
        let client = &device.client;
        let n = labels.order.len().max(1);
        let groups = labels.starts.len();
        let (p1, t1) = scan_sizes(n, 2);
        let (p2, t2) = scan_sizes(groups, 6);
        let uploaded = 4 * (2 * labels.order.len() + 2 * groups) as u64;
        let buffers = Self {
            order: client.create_from_slice(u32::as_bytes(&labels.order)),
            group: client.create_from_slice(i32::as_bytes(&labels.group)),
            starts: client.create_from_slice(u32::as_bytes(&labels.starts)),
            events: client.create_from_slice(u32::as_bytes(&labels.events)),
            groups,
            event_bits: labels.event_bits,
            n,
            sums: client.empty(2 * n * 4),
            terms: client.empty(6 * groups * 4),
            partials: client.empty(p1.max(p2) * 4),
            totals: client.empty(t1.max(t2) * 4),
            spare: client.empty(6 * 4),
            gh: client.empty(2 * n * 4),
        };
        (buffers, uploaded)
    }

    /// Words held on the device.
    pub(super) fn words(&self, n: usize) -> usize {
        let (p1, t1) = scan_sizes(n, 2);
        let (p2, t2) = scan_sizes(self.groups, 6);
        2 * n + 2 * self.groups + 2 * n + 6 * self.groups + p1.max(p2) + t1.max(t2) + 6 + 2 * n
    }

    /// The round's gradients at `score` into `gh`; `stats` (zeroed) gets
    /// the largest score, the top bit length and the exponents.
    pub(super) fn round(
        &self,
        device: &GpuDevice,
        score: &Handle,
        tables: (&Handle, usize),
        delta: &Handle,
        stats: (&Handle, usize),
    ) {
        let client = &device.client;
        let n = self.n;
        let dim = CubeDim::new_1d(CUBE);
        let stats_arg = || buffer(stats.0, stats.1);
        score_max_kernel::launch(
            client,
            device.cubes(n),
            dim,
            buffer(score, n),
            stats_arg(),
            n,
        );
        risk_kernel::launch(
            client,
            device.cubes(n),
            dim,
            buffer(score, n),
            buffer(&self.order, n),
            buffer(tables.0, tables.1),
            stats_arg(),
            buffer(&self.sums, 2 * n),
            n,
        );
        self.scan(device, &self.sums, n, 2, 2, true);
        terms_kernel::launch(
            client,
            device.cubes(self.groups),
            dim,
            buffer(&self.sums, 2 * n),
            buffer(&self.starts, self.groups),
            buffer(&self.events, self.groups),
            buffer(&self.terms, 6 * self.groups),
            stats_arg(),
            self.groups,
            self.event_bits,
        );
        self.scan(device, &self.terms, self.groups, 6, 3, false);
        top_kernel::launch(
            client,
            device.cubes(n),
            dim,
            buffer(score, n),
            buffer(&self.order, n),
            buffer(&self.group, n),
            buffer(&self.terms, 6 * self.groups),
            buffer(tables.0, tables.1),
            stats_arg(),
            n,
        );
        row_gradients_kernel::launch(
            client,
            device.cubes(n),
            dim,
            buffer(score, n),
            buffer(&self.order, n),
            buffer(&self.group, n),
            buffer(&self.terms, 6 * self.groups),
            buffer(tables.0, tables.1),
            buffer(delta, n),
            stats_arg(),
            buffer(&self.gh, 2 * n),
            n,
        );
    }

    /// An inclusive scan of `n` elements of `words` words (numbers of
    /// `width` words) in `data`, from the end when `reverse`.
    fn scan(
        &self,
        device: &GpuDevice,
        data: &Handle,
        n: usize,
        words: usize,
        width: usize,
        reverse: bool,
    ) {
        let client = &device.client;
        let dim = CubeDim::new_1d(CUBE);
        let runs = n.div_ceil(SCAN_RUN);
        let blocks = runs.div_ceil(SCAN_BLOCK);
        let (p, t) = scan_sizes(n, words);
        let runs_pass = |apply: bool| {
            scan_runs_kernel::launch(
                client,
                device.cubes(runs),
                dim,
                buffer(data, n * words),
                buffer(&self.partials, p),
                buffer(&self.totals, t),
                n,
                words,
                width,
                reverse,
                apply,
            )
        };
        runs_pass(false);
        scan_exclusive_kernel::launch(
            client,
            device.cubes(blocks),
            dim,
            buffer(&self.partials, p),
            buffer(&self.totals, t),
            runs,
            SCAN_BLOCK,
            words,
            width,
        );
        scan_exclusive_kernel::launch(
            client,
            CubeCount::Static(1, 1, 1),
            CubeDim::new_1d(1),
            buffer(&self.totals, t),
            buffer(&self.spare, words),
            blocks,
            blocks,
            words,
            width,
        );
        runs_pass(true);
    }
}
