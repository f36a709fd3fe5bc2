//! Gradient histograms: per feature and bin, the sums of gradients and
//! hessians of a leaf's rows.
//!
//! Large leaves are built row-parallel: the rows are cut into blocks of
//! [`BLOCK_ROWS`], each block fills its own histogram of every feature
//! (one pass over each row's bins, read once), and the block histograms are
//! added in block order. Smaller leaves split the features among threads
//! and add the rows in order. Which path a leaf takes, and every addition's
//! order, depends only on its rows, never on the thread count, so trees are
//! bit-identical with 1 or 64 threads.

use rayon::prelude::*;

use crate::bin::BinnedData;

/// `[sum of gradients, sum of hessians]` of one bin.
pub type Entry = [f64; 2];
/// One feature's bins; indexing by a `u8` bin needs no bounds check.
pub type FeatureHist = [Entry; 256];

/// Quantised gradient and hessian of a row packed in one integer: the
/// gradient in the high 32 bits, the (non-negative) hessian in the low 32.
/// Sums of packed values are the packed sums as long as the hessian sum
/// stays below 2^32, so one integer add accumulates both, exactly and in
/// any order.
pub type Packed = i64;

pub fn pack(g: i32, h: u32) -> Packed {
    (i64::from(g) << 32) + i64::from(h)
}

pub fn unpack(v: Packed) -> (i64, i64) {
    let h = v & 0xFFFF_FFFF;
    ((v - h) >> 32, h)
}

/// Rows per block of a row-parallel build. A constant, not a share of the
/// threads: it fixes the order in which `f64` sums are added. Large enough
/// that zeroing and merging a block's histograms (`F x 256` entries) costs
/// little next to its `BLOCK_ROWS x F` scattered adds.
pub const BLOCK_ROWS: usize = 16_384;

/// Leaves smaller than this are built on one thread: below it, waking a
/// second thread costs more than it saves.
const PARALLEL_MIN_ROWS: usize = 4096;

/// What a histogram bin accumulates: `f64` pairs or packed integers.
pub trait Accumulate: Copy + Send + Sync + 'static {
    const ZERO: Self;
    fn add(&mut self, v: Self);
    fn sub(&mut self, v: Self);
}

impl Accumulate for Entry {
    const ZERO: Self = [0.0; 2];
    #[inline(always)]
    fn add(&mut self, v: Self) {
        self[0] += v[0];
        self[1] += v[1];
    }
    #[inline(always)]
    fn sub(&mut self, v: Self) {
        self[0] -= v[0];
        self[1] -= v[1];
    }
}

impl Accumulate for Packed {
    const ZERO: Self = 0;
    #[inline(always)]
    fn add(&mut self, v: Self) {
        *self += v;
    }
    #[inline(always)]
    fn sub(&mut self, v: Self) {
        *self -= v;
    }
}

/// Fills `out` (one 256-bin histogram per feature) with the sums of
/// `values[i]` over the rows `i` in `rows`, in the order the module doc
/// describes. `blocks` is scratch kept by the caller between builds.
pub fn build_into<A: Accumulate>(
    out: &mut [[A; 256]],
    data: &BinnedData,
    rows: &[u32],
    values: &[A],
    blocks: &mut Vec<Vec<[A; 256]>>,
    threads: usize,
) {
    let f = data.n_features;
    debug_assert_eq!(out.len(), f);
    if f == 0 {
        return;
    }
    let n_blocks = rows.len().div_ceil(BLOCK_ROWS);
    if n_blocks < 2 {
        let chunks = if rows.len() < PARALLEL_MIN_ROWS || threads <= 1 {
            1
        } else {
            (2 * threads).min(f)
        };
        let per = f.div_ceil(chunks);
        out.par_chunks_mut(per).enumerate().for_each(|(c, hs)| {
            hs.fill([A::ZERO; 256]);
            accumulate(hs, data, c * per, rows, values);
        });
        return;
    }
    if blocks.len() < n_blocks {
        blocks.resize_with(n_blocks, || vec![[A::ZERO; 256]; f]);
    }
    blocks[..n_blocks]
        .par_iter_mut()
        .zip(rows.par_chunks(BLOCK_ROWS))
        .for_each(|(hs, rows)| {
            hs.fill([A::ZERO; 256]);
            accumulate(hs, data, 0, rows, values);
        });
    let blocks = &blocks[..n_blocks];
    out.par_iter_mut().enumerate().for_each(|(j, o)| {
        *o = blocks[0][j];
        for b in &blocks[1..] {
            for (e, &v) in o.iter_mut().zip(&b[j]) {
                e.add(v);
            }
        }
    });
}

/// Rows gathered at a time by [`accumulate`].
const GATHER_ROWS: usize = 256;

/// The hot loop: every row of `rows`, features `lo..lo + hs.len()`.
///
/// A leaf's rows are scattered through the bin matrix, so each is a cache
/// miss. Copying a few hundred rows' bins into a small contiguous buffer
/// first lets the CPU keep many of those misses in flight (the copy loop is
/// short), where the adding loop, 50 read-modify-writes per row, would
/// wait for each row in turn.
#[inline]
fn accumulate<A: Accumulate>(
    hs: &mut [[A; 256]],
    data: &BinnedData,
    lo: usize,
    rows: &[u32],
    values: &[A],
) {
    let f = data.n_features;
    let width = hs.len();
    let add = |hs: &mut [[A; 256]], bins: &[u8], v: A| {
        for (h, &b) in hs.iter_mut().zip(bins) {
            h[b as usize].add(v);
        }
    };
    if rows.len() == data.n_rows {
        // The root: rows are `0..n`, read in order.
        for (row, &v) in data.rows.chunks_exact(f).zip(values) {
            add(hs, &row[lo..lo + width], v);
        }
        return;
    }
    let mut bins = vec![0u8; GATHER_ROWS * width];
    let mut vals = [A::ZERO; GATHER_ROWS];
    for chunk in rows.chunks(GATHER_ROWS) {
        for ((dst, v), &i) in bins.chunks_exact_mut(width).zip(&mut vals).zip(chunk) {
            let start = i as usize * f + lo;
            dst.copy_from_slice(&data.rows[start..start + width]);
            *v = values[i as usize];
        }
        for (row, &v) in bins.chunks_exact(width).zip(&vals[..chunk.len()]) {
            add(hs, row, v);
        }
    }
}

/// Block histograms of row-parallel builds, kept between builds.
#[derive(Debug, Default)]
pub struct Scratch {
    feats: Vec<Vec<FeatureHist>>,
    quant: Vec<Vec<[Packed; 256]>>,
}

/// Histograms of every feature for one leaf: `f64` sums, or packed
/// quantised sums (`use_quantized_grad`).
#[derive(Debug, Clone)]
pub struct Histogram {
    pub feats: Vec<FeatureHist>,
    pub quant: Vec<[Packed; 256]>,
}

impl Histogram {
    pub fn zeros(n_features: usize) -> Self {
        Self {
            feats: vec![[[0.0; 2]; 256]; n_features],
            quant: Vec::new(),
        }
    }

    pub fn zeros_quantized(n_features: usize) -> Self {
        Self {
            feats: Vec::new(),
            quant: vec![[0; 256]; n_features],
        }
    }

    pub fn is_quantized(&self) -> bool {
        !self.quant.is_empty()
    }

    /// Feature `j`'s sums in `f64`, scaling quantised sums back.
    pub fn feature(&self, j: usize, scale: (f64, f64)) -> std::borrow::Cow<'_, FeatureHist> {
        if self.quant.is_empty() {
            return std::borrow::Cow::Borrowed(&self.feats[j]);
        }
        let mut out = [[0.0; 2]; 256];
        for (o, &v) in out.iter_mut().zip(&self.quant[j]) {
            let (g, h) = unpack(v);
            *o = [g as f64 * scale.0, h as f64 * scale.1];
        }
        std::borrow::Cow::Owned(out)
    }

    /// Fills the histogram from the rows `rows`; `gh` holds every row's
    /// gradient/hessian pair, by row index.
    pub fn build(
        &mut self,
        data: &BinnedData,
        rows: &[u32],
        gh: &[Entry],
        scratch: &mut Scratch,
        threads: usize,
    ) {
        build_into(&mut self.feats, data, rows, gh, &mut scratch.feats, threads);
    }

    /// The quantised twin of [`Histogram::build`]: `packed` holds every
    /// row's packed value, by row index.
    pub fn build_quantized(
        &mut self,
        data: &BinnedData,
        rows: &[u32],
        packed: &[Packed],
        scratch: &mut Scratch,
        threads: usize,
    ) {
        build_into(
            &mut self.quant,
            data,
            rows,
            packed,
            &mut scratch.quant,
            threads,
        );
    }

    /// `self -= other`: turns a parent's histogram into its larger
    /// child's, given the smaller child's.
    pub fn subtract(&mut self, other: &Histogram) {
        self.quant
            .par_iter_mut()
            .zip(other.quant.par_iter())
            .for_each(|(p, s)| {
                for (pe, &se) in p.iter_mut().zip(s) {
                    pe.sub(se);
                }
            });
        self.feats
            .par_iter_mut()
            .zip(other.feats.par_iter())
            .for_each(|(p, s)| {
                for (pe, &se) in p.iter_mut().zip(s) {
                    pe.sub(se);
                }
            });
    }
}
