//! Gradient histograms: per feature and bin, the sums of gradients and
//! hessians of a leaf's rows.
//!
//! Each feature's sums are accumulated over the rows in one fixed order
//! whatever the thread count (threads split the features, never the rows),
//! so trees are bit-identical with 1 or 64 threads.

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

/// Histograms of every feature for one leaf: `f64` sums, or packed
/// quantised sums (`use_quantized_grad`).
#[derive(Debug, Clone)]
pub struct Histogram {
    pub feats: Vec<FeatureHist>,
    pub quant: Vec<[Packed; 256]>,
}

/// Leaves smaller than this are built on one thread: below it, waking a
/// second thread costs more than it saves.
const PARALLEL_MIN_ROWS: usize = 4096;

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

    /// The quantised twin of [`Histogram::build`]: `packed` holds the rows'
    /// packed values in the order of `rows`.
    pub fn build_quantized(
        &mut self,
        data: &BinnedData,
        rows: &[u32],
        packed: &[Packed],
        threads: usize,
    ) {
        let f = data.n_features;
        if f == 0 {
            return;
        }
        if rows.len() == data.n_rows && data.n_rows > 0 {
            self.quant.par_iter_mut().enumerate().for_each(|(j, h)| {
                *h = [0; 256];
                for (&b, &v) in data.col(j).iter().zip(packed) {
                    h[b as usize] += v;
                }
            });
            return;
        }
        let chunks = if rows.len() < PARALLEL_MIN_ROWS || threads <= 1 {
            1
        } else {
            (2 * threads).min(f)
        };
        let per = f.div_ceil(chunks);
        self.quant
            .par_chunks_mut(per)
            .enumerate()
            .for_each(|(c, hs)| {
                let lo = c * per;
                for h in hs.iter_mut() {
                    *h = [0; 256];
                }
                let width = hs.len();
                for (&i, &v) in rows.iter().zip(packed) {
                    let start = i as usize * f + lo;
                    for (h, &b) in hs.iter_mut().zip(&data.rows[start..start + width]) {
                        h[b as usize] += v;
                    }
                }
            });
    }

    /// Fills the histogram from the rows `rows` whose gradient/hessian pairs
    /// are `gh` (in the same order: the caller gathers them once, so the hot
    /// loop reads them sequentially).
    pub fn build(&mut self, data: &BinnedData, rows: &[u32], gh: &[Entry], threads: usize) {
        debug_assert_eq!(rows.len(), gh.len());
        let f = data.n_features;
        if f == 0 {
            return;
        }
        if rows.len() == data.n_rows && data.n_rows > 0 {
            // The root: rows are 0..n in order, so read columns sequentially.
            self.feats.par_iter_mut().enumerate().for_each(|(j, h)| {
                *h = [[0.0; 2]; 256];
                for (&b, e) in data.col(j).iter().zip(gh) {
                    let slot = &mut h[b as usize];
                    slot[0] += e[0];
                    slot[1] += e[1];
                }
            });
            return;
        }
        let chunks = if rows.len() < PARALLEL_MIN_ROWS || threads <= 1 {
            1
        } else {
            (2 * threads).min(f)
        };
        let per = f.div_ceil(chunks);
        self.feats
            .par_chunks_mut(per)
            .enumerate()
            .for_each(|(c, hs)| {
                let lo = c * per;
                for h in hs.iter_mut() {
                    *h = [[0.0; 2]; 256];
                }
                accumulate_rows(hs, data, lo, rows, gh);
            });
    }

    /// `self -= other`: turns a parent's histogram into its larger
    /// child's, given the smaller child's.
    pub fn subtract(&mut self, other: &Histogram) {
        self.quant
            .par_iter_mut()
            .zip(other.quant.par_iter())
            .for_each(|(p, s)| {
                for (pe, se) in p.iter_mut().zip(s) {
                    *pe -= se;
                }
            });
        self.feats
            .par_iter_mut()
            .zip(other.feats.par_iter())
            .for_each(|(p, s)| {
                for (pe, se) in p.iter_mut().zip(s) {
                    pe[0] -= se[0];
                    pe[1] -= se[1];
                }
            });
    }
}

/// The hot loop: every row of the leaf, every feature of the chunk.
fn accumulate_rows(
    hs: &mut [FeatureHist],
    data: &BinnedData,
    lo: usize,
    rows: &[u32],
    gh: &[Entry],
) {
    let f = data.n_features;
    let width = hs.len();
    for (&i, e) in rows.iter().zip(gh) {
        let start = i as usize * f + lo;
        let bins = &data.rows[start..start + width];
        for (h, &b) in hs.iter_mut().zip(bins) {
            let slot = &mut h[b as usize];
            slot[0] += e[0];
            slot[1] += e[1];
        }
    }
}
