//! Growing one tree leaf-wise (best-first) on binned data.

use serde::{Deserialize, Serialize};

use crate::bin::{BinMapper, BinnedData};
use rayon::prelude::*;

use crate::hist::{BLOCK_ROWS, Entry, Histogram, Packed, Scratch};
use crate::params::GbdtValidParams;
use crate::split::{LeafScan, Split, SplitRule, Sums, best_split, better, leaf_gain, leaf_output};

/// A split node in bin space; a negative child `c` is leaf `!c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinNode {
    pub feature: u32,
    pub rule: SplitRule,
    pub missing_left: bool,
    pub left: i32,
    pub right: i32,
    pub gain: f64,
}

/// A trained tree in bin space, with its leaf values (learning rate
/// applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinTree {
    pub nodes: Vec<BinNode>,
    pub leaf_values: Vec<f64>,
}

impl BinTree {
    /// The leaf a row of bins lands in.
    #[inline]
    pub fn leaf(&self, bins_of: impl Fn(usize) -> u8) -> usize {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut n = 0i32;
        loop {
            let node = &self.nodes[n as usize];
            let b = bins_of(node.feature as usize);
            n = if node.rule.goes_left(b, node.missing_left) {
                node.left
            } else {
                node.right
            };
            if n < 0 {
                return !n as usize;
            }
        }
    }
}

/// A leaf while the tree grows: its rows are `indices[start..end]`.
#[derive(Debug)]
struct Leaf {
    start: usize,
    end: usize,
    sums: Sums,
    depth: usize,
    hist: Option<Histogram>,
    best: Option<Split>,
    /// The node whose child this leaf is, and on which side.
    parent: Option<(usize, bool)>,
}

#[cfg(feature = "gpu")]
type GpuState = crate::gpu::GpuHistograms;
#[cfg(not(feature = "gpu"))]
type GpuState = ();

/// Reusable buffers for growing trees over one dataset.
#[derive(Debug)]
pub struct Grower {
    pool: Vec<Histogram>,
    blocks: Scratch,
    scratch: Vec<u32>,
    n_features: usize,
    /// Where histograms are built when training on a GPU (quantised
    /// gradients only): the device partitions the rows by leaf as `grow`
    /// partitions `indices`, so a leaf's positions are the same there.
    #[cfg(feature = "gpu")]
    pub gpu: Option<crate::gpu::GpuHistograms>,
}

/// Quantised gradients of one round: packed values per row and the scales
/// that turn integer sums back into gradient and hessian sums.
#[derive(Debug, Clone, Copy)]
pub struct Quantized<'a> {
    /// Empty when the GPU computed the levels and keeps them.
    pub packed: &'a [Packed],
    pub scale: (f64, f64),
    /// Whether leaf values come from the exact gradients (`gh`), as
    /// LightGBM renews them; the integer gradients of [`crate::fixed`]
    /// (which the host may not have) are renewed by the booster instead.
    pub renew: bool,
}

/// The rows of each leaf of a grown tree, for updating training scores.
#[derive(Debug)]
pub struct Grown {
    pub tree: BinTree,
    /// `(start, end)` into the indices buffer, per leaf.
    pub leaf_ranges: Vec<(usize, usize)>,
}

impl Grower {
    pub fn new(n_features: usize) -> Self {
        Self {
            pool: Vec::new(),
            blocks: Scratch::default(),
            scratch: Vec::new(),
            n_features,
            #[cfg(feature = "gpu")]
            gpu: None,
        }
    }

    /// The histogram of the leaf at positions `range` of `indices`.
    fn build_hist(
        &mut self,
        data: &BinnedData,
        indices: &[u32],
        range: std::ops::Range<usize>,
        gh: &[Entry],
        quant: Option<Quantized<'_>>,
        threads: usize,
    ) -> Histogram {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            assert!(quant.is_some(), "the GPU sums quantised gradients only");
            return gpu.build(range);
        }
        let rows = &indices[range];
        let pooled = self
            .pool
            .pop()
            .filter(|h| h.is_quantized() == quant.is_some());
        match quant {
            Some(q) => {
                let mut h = pooled.unwrap_or_else(|| Histogram::zeros_quantized(self.n_features));
                h.build_quantized(data, rows, q.packed, &mut self.blocks, threads);
                h
            }
            None => {
                let mut h = pooled.unwrap_or_else(|| Histogram::zeros(self.n_features));
                h.build(data, rows, gh, &mut self.blocks, threads);
                h
            }
        }
    }

    /// Grows one tree over the rows in `indices` (reordered in place so
    /// that each leaf's rows are contiguous).
    #[allow(clippy::too_many_arguments)]
    pub fn grow(
        &mut self,
        data: &BinnedData,
        mappers: &[BinMapper],
        gh: &[Entry],
        quant: Option<Quantized<'_>>,
        indices: &mut [u32],
        features: &[usize],
        params: &GbdtValidParams,
        threads: usize,
    ) -> Grown {
        let scale = quant.map_or((1.0, 1.0), |q| q.scale);
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            gpu.start_tree(indices);
        }
        // Histograms stay on the device, which shortlists splits.
        let on_device = self.searches_on_device() && quant.is_some();
        let root_hist = if on_device {
            self.with_gpu(|g| g.build_leaf(0, 0..indices.len()));
            None
        } else {
            Some(self.build_hist(data, indices, 0..indices.len(), gh, quant, threads))
        };
        let (mut g, mut h) = (0.0, 0.0);
        if let Some(q) = quant {
            // Splits compare quantised sums: the leaf's totals must be
            // quantised sums too (integer levels times the scale, as the
            // scan computes its sides), or right = total - left mixes them.
            let (tg, th) = if q.packed.is_empty() {
                self.device_root_totals(root_hist.as_ref())
            } else {
                let total: Packed = indices.iter().map(|&i| q.packed[i as usize]).sum();
                crate::hist::unpack(total)
            };
            g = tg as f64 * scale.0;
            h = th as f64 * scale.1;
        } else {
            for &i in indices.iter() {
                g += gh[i as usize][0];
                h += gh[i as usize][1];
            }
        }
        let mut leaves = vec![Leaf {
            start: 0,
            end: indices.len(),
            sums: Sums {
                g,
                h,
                count: indices.len(),
            },
            depth: 0,
            hist: root_hist,
            best: None,
            parent: None,
        }];
        if on_device {
            self.find_best_on_device(&[0], &mut leaves, mappers, features, params, scale);
        } else {
            self.find_best(&mut leaves[0], mappers, features, params, scale);
        }
        let mut nodes: Vec<BinNode> = Vec::new();

        while leaves.len() < params.num_leaves {
            let Some(li) = pick_leaf(&leaves) else { break };
            let split = leaves[li].best.take().expect("picked leaves have a split");
            let (start, end) = (leaves[li].start, leaves[li].end);
            let col = data.col(split.feature);
            let goes_left = |i: u32| split.rule.goes_left(col[i as usize], split.missing_left);
            let mid = partition(&mut indices[start..end], &mut self.scratch, goes_left) + start;
            let node_ix = nodes.len();
            let right_leaf = leaves.len();
            #[cfg(feature = "gpu")]
            if let Some(gpu) = &mut self.gpu {
                gpu.split(start..end, split.feature, &split.rule, split.missing_left);
            }
            nodes.push(BinNode {
                feature: split.feature as u32,
                rule: split.rule.clone(),
                missing_left: split.missing_left,
                left: !(li as i32),
                right: !(right_leaf as i32),
                gain: split.gain,
            });
            if let Some((p, is_left)) = leaves[li].parent {
                let child = node_ix as i32;
                if is_left {
                    nodes[p].left = child
                } else {
                    nodes[p].right = child
                }
            }

            let depth = leaves[li].depth + 1;
            let left_sums = Sums {
                count: mid - start,
                ..split.left
            };
            let right_sums = Sums {
                count: end - mid,
                ..split.right
            };
            // Build the smaller child, subtract for the larger.
            let left_smaller = mid - start <= end - mid;
            let small_rows = if left_smaller { start..mid } else { mid..end };
            let (left_hist, right_hist) = if on_device {
                let (small, large) = if left_smaller {
                    (li, right_leaf)
                } else {
                    (right_leaf, li)
                };
                self.with_gpu(|g| g.split_histograms(li, small, small_rows, large));
                (None, None)
            } else {
                let mut large = leaves[li]
                    .hist
                    .take()
                    .expect("splittable leaves keep a histogram");
                let small = self.build_hist(data, indices, small_rows, gh, quant, threads);
                large.subtract(&small);
                if left_smaller {
                    (Some(small), Some(large))
                } else {
                    (Some(large), Some(small))
                }
            };

            leaves[li] = Leaf {
                start,
                end: mid,
                sums: left_sums,
                depth,
                hist: left_hist,
                best: None,
                parent: Some((node_ix, true)),
            };
            leaves.push(Leaf {
                start: mid,
                end,
                sums: right_sums,
                depth,
                hist: right_hist,
                best: None,
                parent: Some((node_ix, false)),
            });
            let can_split = params.max_depth <= 0 || (depth as i64) < params.max_depth;
            let searchable = can_split && leaves.len() < params.num_leaves;
            if searchable && on_device {
                // Both children in one read.
                self.find_best_on_device(
                    &[li, right_leaf],
                    &mut leaves,
                    mappers,
                    features,
                    params,
                    scale,
                );
            }
            for ix in [li, right_leaf] {
                if searchable && !on_device {
                    let mut leaf = std::mem::replace(&mut leaves[ix], placeholder());
                    self.find_best(&mut leaf, mappers, features, params, scale);
                    leaves[ix] = leaf;
                }
                if leaves[ix].best.is_none() {
                    if let Some(hh) = leaves[ix].hist.take() {
                        self.pool.push(hh);
                    }
                    self.with_gpu(|g| g.release(ix));
                }
            }
        }
        for leaf in &mut leaves {
            if let Some(hh) = leaf.hist.take() {
                self.pool.push(hh);
            }
        }
        self.with_gpu(|g| g.release_all());
        let leaf_values = leaves
            .iter()
            .map(|l| {
                let (g, h) = if quant.is_some_and(|q| q.renew) {
                    // Quantised sums chose the splits; the leaf values come
                    // from the exact gradients (LightGBM's leaf renewal).
                    indices[l.start..l.end]
                        .iter()
                        .fold((0.0, 0.0), |(g, h), &i| {
                            (g + gh[i as usize][0], h + gh[i as usize][1])
                        })
                } else {
                    (l.sums.g, l.sums.h)
                };
                leaf_output(g, h, params) * params.learning_rate
            })
            .collect();
        Grown {
            tree: BinTree { nodes, leaf_values },
            leaf_ranges: leaves.iter().map(|l| (l.start, l.end)).collect(),
        }
    }

    /// The root's level totals when the GPU holds the levels: summed from
    /// one feature of its histogram, read back or kept there.
    fn device_root_totals(&mut self, hist: Option<&Histogram>) -> (i64, i64) {
        if let Some(h) = hist {
            return h.quant.first().map_or((0, 0), |bins| {
                crate::hist::unpack(bins.iter().sum::<Packed>())
            });
        }
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            return gpu.leaf_totals(0);
        }
        unreachable!("levels are only missing on the host when a GPU keeps them")
    }

    /// This round's gradient scales, when a GPU computes the gradients
    /// (see [`crate::gpu::GpuHistograms::gradients`]); `None` otherwise.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    pub fn gpu_gradients(
        &mut self,
        fixed: &crate::fixed::FixedGradients,
        levels: usize,
        stochastic: bool,
        key: u32,
    ) -> Option<((f64, f64), crate::fixed::Units)> {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu
            && gpu.computes_gradients()
        {
            return Some(gpu.gradients(fixed, levels, stochastic, key));
        }
        None
    }

    /// The GPU's exact integer gradient sums of each leaf (`ranges` of
    /// positions), if it keeps the training scores.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    pub fn gpu_leaf_sums(&mut self, ranges: &[(usize, usize)]) -> Option<Vec<(i64, i64)>> {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu
            && gpu.computes_gradients()
        {
            return Some(gpu.leaf_sums(ranges));
        }
        None
    }

    /// The rule bags are drawn by, for the GPU to draw them alike.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    pub fn gpu_bag_rule(&mut self, rule: Option<(u32, u32)>) {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            gpu.set_bag_rule(rule);
        }
    }

    /// Adds a tree to the GPU's training scores, if the GPU keeps them.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    pub fn gpu_add_tree(&mut self, tree: &BinTree, leaf_values: &[i32]) -> bool {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu
            && gpu.computes_gradients()
        {
            gpu.add_tree(tree, leaf_values);
            return true;
        }
        false
    }

    /// Whether leaf histograms stay on a GPU that shortlists splits.
    fn searches_on_device(&self) -> bool {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &self.gpu {
            return gpu.searches();
        }
        false
    }

    /// Runs `f` on the GPU's state, if training on a GPU.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    fn with_gpu(&mut self, f: impl FnOnce(&mut GpuState)) {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            f(gpu);
        }
    }

    /// The best split of a leaf, from its histogram.
    fn find_best(
        &self,
        leaf: &mut Leaf,
        mappers: &[BinMapper],
        features: &[usize],
        params: &GbdtValidParams,
        scale: (f64, f64),
    ) {
        leaf.best = None;
        let Some(scan) = leaf_scan(leaf, params) else {
            return;
        };
        if let Some(hist) = &leaf.hist {
            leaf.best = best_split(&scan, hist, scale, mappers, features);
        }
    }

    /// The best splits of leaves `ixs`, whose histograms are on the
    /// device: it shortlists each feature's thresholds or sets of levels
    /// (one read for all the leaves) and they are scored here exactly as
    /// the host's scan scores them. Where a feature's shortlist cannot
    /// settle its split, the leaf's histogram comes back and the feature
    /// gets its full scan, so the split is always the host's.
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    fn find_best_on_device(
        &mut self,
        ixs: &[usize],
        leaves: &mut [Leaf],
        mappers: &[BinMapper],
        features: &[usize],
        params: &GbdtValidParams,
        scale: (f64, f64),
    ) {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &mut self.gpu {
            let mut asked = Vec::new();
            let mut scans = Vec::new();
            for &ix in ixs {
                leaves[ix].best = None;
                if let Some(scan) = leaf_scan(&leaves[ix], params)
                    && let Some(min_levels) = scan.min_hessian_levels(scale.1)
                {
                    asked.push(crate::gpu::SearchLeaf {
                        leaf: ix,
                        min_levels,
                        min_group: scan.min_group_levels(scale.1),
                    });
                    scans.push(scan);
                }
            }
            use crate::split::Shortlisted;
            let penalties = crate::gpu::SearchPenalties::new(params, scale);
            let trusted = penalties.trusted();
            let shortlists = gpu.search(&asked, penalties);
            let merge = |a: Option<Split>, b: Option<Split>| match (a, b) {
                (Some(a), Some(b)) => Some(better(a, b)),
                (a, b) => a.or(b),
            };
            for ((ask, scan), lists) in asked.iter().zip(&scans).zip(&shortlists) {
                // Settled features first: an unsure one is scanned in full
                // only if its bound reaches the best split of the others
                // (`better` prefers the larger gain, then the lower
                // feature, in any order of merging).
                let mut best = None;
                let mut unsure = Vec::new();
                for &j in features {
                    if !trusted {
                        unsure.push((j, f64::INFINITY));
                        continue;
                    }
                    match scan.best_shortlisted(j, &lists[j], scale) {
                        Shortlisted::Best(split) => best = merge(best, split),
                        Shortlisted::Unsure { bound } => unsure.push((j, bound)),
                    }
                }
                for (j, bound) in unsure {
                    if best.as_ref().is_some_and(|b: &Split| bound < b.gain) {
                        continue;
                    }
                    let bins = gpu.feature_histogram(ask.leaf, j);
                    best = merge(best, scan.best_quantized(j, &bins, &mappers[j], scale));
                }
                leaves[ask.leaf].best = best;
            }
        }
    }
}

/// How a leaf's splits are scanned, if it has rows enough to split.
fn leaf_scan<'a>(leaf: &Leaf, params: &'a GbdtValidParams) -> Option<LeafScan<'a>> {
    (leaf.sums.count >= 2 * params.min_data_in_leaf).then(|| LeafScan {
        params,
        total: leaf.sums,
        parent_gain: leaf_gain(leaf.sums.g, leaf.sums.h, params),
    })
}

/// Stable partition of a leaf's rows: left rows first, each side in its
/// original order. Returns the number of left rows. Large leaves count each
/// block's left rows in parallel, then scatter every block to its place
/// from a copy kept in `scratch`; the result is the serial partition's.
pub fn partition(
    rows: &mut [u32],
    scratch: &mut Vec<u32>,
    goes_left: impl Fn(u32) -> bool + Sync,
) -> usize {
    scratch.clear();
    if rows.len() < 2 * BLOCK_ROWS {
        let mut nl = 0;
        for k in 0..rows.len() {
            let i = rows[k];
            if goes_left(i) {
                rows[nl] = i;
                nl += 1;
            } else {
                scratch.push(i);
            }
        }
        rows[nl..].copy_from_slice(scratch);
        return nl;
    }
    let lefts: Vec<usize> = rows
        .par_chunks(BLOCK_ROWS)
        .map(|c| c.iter().filter(|&&i| goes_left(i)).count())
        .collect();
    let nl: usize = lefts.iter().sum();
    scratch.extend_from_slice(rows);
    let (mut left, mut right) = rows.split_at_mut(nl);
    let mut dests = Vec::with_capacity(lefts.len());
    for (src, &l) in scratch.chunks(BLOCK_ROWS).zip(&lefts) {
        let (l_dst, l_rest) = std::mem::take(&mut left).split_at_mut(l);
        let (r_dst, r_rest) = std::mem::take(&mut right).split_at_mut(src.len() - l);
        (left, right) = (l_rest, r_rest);
        dests.push((l_dst, r_dst));
    }
    scratch
        .par_chunks(BLOCK_ROWS)
        .zip(dests)
        .for_each(|(src, (l_dst, r_dst))| {
            let (mut a, mut b) = (0, 0);
            for &i in src {
                if goes_left(i) {
                    l_dst[a] = i;
                    a += 1;
                } else {
                    r_dst[b] = i;
                    b += 1;
                }
            }
        });
    nl
}

fn placeholder() -> Leaf {
    Leaf {
        start: 0,
        end: 0,
        sums: Sums::default(),
        depth: 0,
        hist: None,
        best: None,
        parent: None,
    }
}

/// The leaf with the largest gain; ties go to the lowest index.
fn pick_leaf(leaves: &[Leaf]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, l) in leaves.iter().enumerate() {
        if let Some(s) = &l.best
            && best.is_none_or(|(_, g)| s.gain > g)
        {
            best = Some((i, s.gain));
        }
    }
    best.map(|(i, _)| i)
}
