//! Best split of a leaf from its histograms.

use crate::bin::{BinMapper, MISSING_BIN};
use crate::hist::{FeatureHist, Histogram, Packed, unpack};
use crate::params::GbdtValidParams;

/// Sums over a set of rows. `count` is exact for leaves and estimated from
/// hessians inside a histogram scan, as LightGBM does (a count per bin
/// would cost a third more memory traffic in the hot loop).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sums {
    pub g: f64,
    pub h: f64,
    pub count: usize,
}

/// Which bins go left.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRule {
    /// Value bins `1..=bin`.
    Le { bin: u8 },
    /// The value bins in the set (a 256-bit mask).
    In { mask: [u64; 4] },
}

impl SplitRule {
    /// Whether a (non-missing) bin goes left.
    #[inline]
    pub fn left(&self, b: u8) -> bool {
        match self {
            SplitRule::Le { bin } => b <= *bin,
            SplitRule::In { mask } => mask[(b >> 6) as usize] >> (b & 63) & 1 == 1,
        }
    }

    /// Whether a row with bin `b` goes left, missing values included.
    #[inline]
    pub fn goes_left(&self, b: u8, missing_left: bool) -> bool {
        if b == MISSING_BIN {
            missing_left
        } else {
            self.left(b)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub feature: usize,
    pub rule: SplitRule,
    pub missing_left: bool,
    pub gain: f64,
    pub left: Sums,
    pub right: Sums,
}

/// L1-thresholded gradient sum.
#[inline]
fn threshold_l1(g: f64, l1: f64) -> f64 {
    if l1 == 0.0 {
        g
    } else {
        g.signum() * (g.abs() - l1).max(0.0)
    }
}

/// Objective reduction of a leaf with these sums: `T(G)^2 / (H + l2)`.
#[inline]
pub fn leaf_gain(g: f64, h: f64, p: &GbdtValidParams) -> f64 {
    let t = threshold_l1(g, p.lambda_l1);
    t * t / (h + p.lambda_l2)
}

/// Optimal leaf value (before the learning rate).
pub fn leaf_output(g: f64, h: f64, p: &GbdtValidParams) -> f64 {
    let out = -threshold_l1(g, p.lambda_l1) / (h + p.lambda_l2);
    if p.max_delta_step > 0.0 {
        out.clamp(-p.max_delta_step, p.max_delta_step)
    } else {
        out
    }
}

/// Context for scanning one leaf.
#[derive(Debug)]
pub struct LeafScan<'a> {
    pub params: &'a GbdtValidParams,
    pub total: Sums,
    pub parent_gain: f64,
}

impl LeafScan<'_> {
    fn valid(&self, l: &Sums, r: &Sums) -> bool {
        let p = self.params;
        l.count >= p.min_data_in_leaf
            && r.count >= p.min_data_in_leaf
            && l.h >= p.min_sum_hessian_in_leaf
            && r.h >= p.min_sum_hessian_in_leaf
    }

    /// Rows per unit of hessian in the leaf: counts are estimated from
    /// hessians, as LightGBM does.
    fn count_factor(&self) -> f64 {
        if self.total.h > 0.0 {
            self.total.count as f64 / self.total.h
        } else {
            0.0
        }
    }

    fn sums(&self, g: f64, h: f64) -> Sums {
        Sums {
            g,
            h,
            count: (h * self.count_factor()).round() as usize,
        }
    }

    /// The best split on one feature, if any beats `min_gain_to_split`.
    pub fn best(&self, feature: usize, hist: &FeatureHist, mapper: &BinMapper) -> Option<Split> {
        match mapper {
            BinMapper::Numeric { uppers } => self.numeric(feature, hist, uppers.len() + 1),
            BinMapper::Categorical { codes, .. } => self.categorical(feature, hist, codes.len()),
        }
    }

    fn numeric(&self, feature: usize, hist: &FeatureHist, n_value_bins: usize) -> Option<Split> {
        if n_value_bins < 2 {
            return None;
        }
        let p = self.params;
        let miss = hist[MISSING_BIN as usize];
        let has_missing = miss[1] != 0.0 || miss[0] != 0.0;
        let (tg, th) = (self.total.g, self.total.h);
        let min_h = self.min_h();
        let mut best_gain = p.min_gain_to_split + self.parent_gain;
        let mut best: Option<(usize, bool, f64, f64)> = None;
        let (mut g, mut h) = (0.0, 0.0);
        // Left = value bins 1..=b, without then with the missing bin.
        for (b, e) in hist.iter().enumerate().take(n_value_bins).skip(1) {
            g += e[0];
            h += e[1];
            for missing_left in [false, true] {
                if missing_left && !has_missing {
                    break;
                }
                let (lg, lh) = if missing_left {
                    (g + miss[0], h + miss[1])
                } else {
                    (g, h)
                };
                let rh = th - lh;
                if lh < min_h || rh < min_h {
                    continue;
                }
                let gain = leaf_gain(lg, lh, p) + leaf_gain(tg - lg, rh, p);
                if gain > best_gain {
                    best_gain = gain;
                    best = Some((b, missing_left, lg, lh));
                }
            }
        }
        let (b, missing_left, lg, lh) = best?;
        let (l, r) = (self.sums(lg, lh), self.sums(tg - lg, th - lh));
        Some(self.threshold_split(feature, b as u8, missing_left, has_missing, l, r, best_gain))
    }

    /// The split at value bin `bin` with sides `l` and `r`, reaching
    /// `best_gain` (the parent's gain included).
    #[allow(clippy::too_many_arguments)]
    fn threshold_split(
        &self,
        feature: usize,
        bin: u8,
        missing_left: bool,
        has_missing: bool,
        l: Sums,
        r: Sums,
        best_gain: f64,
    ) -> Split {
        // With no missing rows in training, missing values follow the side
        // holding more data.
        let missing_left = if has_missing {
            missing_left
        } else {
            l.h >= r.h
        };
        Split {
            feature,
            rule: SplitRule::Le { bin },
            missing_left,
            gain: best_gain - self.parent_gain,
            left: l,
            right: r,
        }
    }

    /// The numeric scan on quantised sums: every side's sums are its
    /// integer levels times the scale, so a threshold's gain depends on its
    /// prefix sums only and a GPU's shortlist of thresholds is scored
    /// exactly as the full scan scores them.
    pub fn numeric_quantized(
        &self,
        feature: usize,
        bins: &[Packed; 256],
        n_value_bins: usize,
        scale: (f64, f64),
    ) -> Option<Split> {
        let total = bins
            .iter()
            .fold(Levels::default(), |t, &v| t.plus(Levels::of(v)));
        // Every threshold, prefix sums summed as the scan goes.
        let prefixes = (1..n_value_bins).scan(Levels::default(), |prefix, b| {
            *prefix = prefix.plus(Levels::of(bins[b]));
            Some((b as u8, *prefix))
        });
        let missing = Levels::of(bins[MISSING_BIN as usize]);
        self.best_threshold(feature, total, missing, prefixes, scale)
    }

    /// The smallest hessian level count `k` with `k * hs >= min_h`: the
    /// integer form of the scan's minimum-hessian test, exact because the
    /// product is monotone in `k`. `None` when no side can be large enough.
    pub fn min_hessian_levels(&self, hs: f64) -> Option<i64> {
        levels_reaching(self.min_h(), hs)
    }

    /// The smallest hessian level count a categorical level needs to be
    /// split on alone: its estimated rows, `round(h * factor)`, reach
    /// `min_data_per_group` (at least 1, so a level's hessian is never
    /// zero and the order's denominators stay positive). `None` when no
    /// level can.
    pub fn min_group_levels(&self, hs: f64) -> Option<i64> {
        let factor = self.count_factor();
        if factor <= 0.0 {
            return None;
        }
        let min = (self.params.min_data_per_group.max(1) as f64 - 0.5) / factor;
        levels_reaching(min, hs).map(|k| k.max(1))
    }

    /// The categorical scan on quantised sums: `LeafScan::categorical`'s
    /// rules with the levels ordered exactly ([`cat_order`]), so a GPU's
    /// shortlist is scored as this full scan scores it. Two departures
    /// from the `f64` scan: minimums are tested in the `min_h` form (as
    /// the quantised numeric scan does), and `cat_smooth` is rounded to
    /// whole hessian levels, which moves it by at most half a level, the
    /// size of the rounding each row's hessian already took (a level worth
    /// more than twice `cat_smooth` rounds it to 0).
    pub fn categorical_quantized(
        &self,
        feature: usize,
        bins: &[Packed; 256],
        n_codes: usize,
        scale: (f64, f64),
    ) -> Option<Split> {
        let min_group = self.min_group_levels(scale.1)?;
        let smooth = cat_smooth_levels(self.params.cat_smooth, scale.1);
        let c = cat_candidates(self.params, bins, n_codes, min_group, smooth);
        self.best_categorical(feature, &c, scale)
    }

    /// The best of `c`'s left sides (in their scan order, as
    /// [`cat_candidates`] and a device's shortlist give them), each
    /// without then with the missing bin, the first of equal gains winning.
    pub fn best_categorical(
        &self,
        feature: usize,
        c: &CatCandidates,
        (gs, hs): (f64, f64),
    ) -> Option<Split> {
        let p = self.params;
        let min_h = self.min_h();
        let mut best: Option<Split> = None;
        for side in &c.sides {
            for missing_left in [false, true] {
                if missing_left && c.missing.h == 0 {
                    continue;
                }
                let left = if missing_left {
                    side.left.plus(c.missing)
                } else {
                    side.left
                };
                let right = c.total.minus(left);
                let (lh, rh) = (left.h as f64 * hs, right.h as f64 * hs);
                if lh < min_h || rh < min_h {
                    continue;
                }
                let (lg, rg) = (left.g as f64 * gs, right.g as f64 * gs);
                let gain = leaf_gain(lg, lh + p.cat_l2, p) + leaf_gain(rg, rh + p.cat_l2, p)
                    - self.parent_gain;
                if gain > p.min_gain_to_split && best.as_ref().is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        feature,
                        rule: SplitRule::In { mask: side.mask },
                        missing_left,
                        gain,
                        left: self.sums(lg, lh),
                        right: self.sums(rg, rh),
                    });
                }
            }
        }
        best
    }

    /// The best split of a feature from a device's shortlist, when no
    /// candidate left off can reach it: the left-off ones' exact gains are
    /// at most their bound (in levels) times `gs^2 / hs`, and this must be
    /// below the larger of the best listed gain and the least gain a split
    /// needs. Then the split is the full scan's, ties included.
    pub fn best_shortlisted(
        &self,
        feature: usize,
        list: &Shortlist,
        (gs, hs): (f64, f64),
    ) -> Shortlisted {
        let best = match &list.listed {
            Listed::Thresholds(c) => self.best_candidate(feature, c, (gs, hs)),
            Listed::Categories(c) => self.best_categorical(feature, c, (gs, hs)),
        };
        if list.unlisted < 0.0 {
            return Shortlisted::Best(best);
        }
        let bound = f64::from(list.unlisted) * gs * gs / hs;
        let least = self.params.min_gain_to_split + self.parent_gain;
        let reach = best
            .as_ref()
            .map_or(least, |s| (s.gain + self.parent_gain).max(least));
        if bound < reach {
            Shortlisted::Best(best)
        } else {
            Shortlisted::Unsure {
                bound: bound.max(reach) - self.parent_gain,
            }
        }
    }

    /// A feature's best split from its full quantised histogram.
    pub fn best_quantized(
        &self,
        feature: usize,
        bins: &[Packed; 256],
        mapper: &BinMapper,
        scale: (f64, f64),
    ) -> Option<Split> {
        match mapper {
            BinMapper::Numeric { uppers } => {
                self.numeric_quantized(feature, bins, uppers.len() + 1, scale)
            }
            BinMapper::Categorical { codes, .. } => {
                self.categorical_quantized(feature, bins, codes.len(), scale)
            }
        }
    }

    /// The least hessian a side may have: round(h * factor) >= min_data
    /// <=> h >= (min_data - 0.5) / factor, one comparison per side in the
    /// hot loop, no rounding.
    fn min_h(&self) -> f64 {
        let p = self.params;
        let factor = self.count_factor();
        if factor > 0.0 {
            ((p.min_data_in_leaf as f64 - 0.5) / factor).max(p.min_sum_hessian_in_leaf)
        } else {
            f64::INFINITY
        }
    }

    /// The best of `c`'s thresholds, each without then with the missing
    /// bin on the left, the first of equal gains winning.
    pub fn best_candidate(
        &self,
        feature: usize,
        c: &Candidates,
        scale: (f64, f64),
    ) -> Option<Split> {
        let prefixes = c.prefixes.iter().copied();
        self.best_threshold(feature, c.total, c.missing, prefixes, scale)
    }

    /// [`LeafScan::best_candidate`] over thresholds in ascending bin order.
    fn best_threshold(
        &self,
        feature: usize,
        total: Levels,
        missing: Levels,
        prefixes: impl Iterator<Item = (u8, Levels)>,
        (gs, hs): (f64, f64),
    ) -> Option<Split> {
        let p = self.params;
        let has_missing = missing != Levels::default();
        let min_h = self.min_h();
        let mut best_gain = p.min_gain_to_split + self.parent_gain;
        let mut best: Option<(u8, bool, Levels)> = None;
        for (b, prefix) in prefixes {
            for missing_left in [false, true] {
                if missing_left && !has_missing {
                    break;
                }
                let left = if missing_left {
                    prefix.plus(missing)
                } else {
                    prefix
                };
                let right = total.minus(left);
                let (lh, rh) = (left.h as f64 * hs, right.h as f64 * hs);
                if lh < min_h || rh < min_h {
                    continue;
                }
                let gain =
                    leaf_gain(left.g as f64 * gs, lh, p) + leaf_gain(right.g as f64 * gs, rh, p);
                if gain > best_gain {
                    best_gain = gain;
                    best = Some((b, missing_left, left));
                }
            }
        }
        let (b, missing_left, left) = best?;
        let right = total.minus(left);
        let l = self.sums(left.g as f64 * gs, left.h as f64 * hs);
        let r = self.sums(right.g as f64 * gs, right.h as f64 * hs);
        Some(self.threshold_split(feature, b, missing_left, has_missing, l, r, best_gain))
    }

    /// LightGBM's categorical split: one-vs-rest for few levels, else the
    /// levels sorted by `G / (H + cat_smooth)` and the best prefix of that
    /// order (from either end) goes left, at most `max_cat_threshold` levels.
    fn categorical(&self, feature: usize, hist: &FeatureHist, n_codes: usize) -> Option<Split> {
        let p = self.params;
        let miss = hist[MISSING_BIN as usize];
        let mut best: Option<Split> = None;
        let consider = |mask: [u64; 4], lg: f64, lh: f64, best: &mut Option<Split>| {
            for missing_left in [false, true] {
                if missing_left && miss[1] == 0.0 {
                    continue;
                }
                let (lg, lh) = if missing_left {
                    (lg + miss[0], lh + miss[1])
                } else {
                    (lg, lh)
                };
                let l = self.sums(lg, lh);
                let r = self.sums(self.total.g - lg, self.total.h - lh);
                if !self.valid(&l, &r) {
                    continue;
                }
                // Categorical splits overfit more easily: LightGBM adds
                // cat_l2 to the denominators.
                let gain = leaf_gain(l.g, l.h + p.cat_l2, p) + leaf_gain(r.g, r.h + p.cat_l2, p)
                    - self.parent_gain;
                if gain > p.min_gain_to_split && best.as_ref().is_none_or(|s| gain > s.gain) {
                    *best = Some(Split {
                        feature,
                        rule: SplitRule::In { mask },
                        missing_left,
                        gain,
                        left: l,
                        right: r,
                    });
                }
            }
        };
        let factor = if self.total.h > 0.0 {
            self.total.count as f64 / self.total.h
        } else {
            0.0
        };
        // Levels with enough rows in this leaf; the rest (and the "other"
        // bin) always go right.
        let mut levels: Vec<usize> = (1..=n_codes)
            .filter(|&b| (hist[b][1] * factor).round() as usize >= p.min_data_per_group.max(1))
            .collect();
        if levels.is_empty() {
            return None;
        }
        if n_codes <= p.max_cat_to_onehot {
            for &b in &levels {
                let mut mask = [0u64; 4];
                set(&mut mask, b);
                consider(mask, hist[b][0], hist[b][1], &mut best);
            }
            return best;
        }
        levels.sort_by(|&a, &b| {
            let ka = hist[a][0] / (hist[a][1] + p.cat_smooth);
            let kb = hist[b][0] / (hist[b][1] + p.cat_smooth);
            ka.total_cmp(&kb).then(a.cmp(&b))
        });
        let max_k = p
            .max_cat_threshold
            .min(levels.len().saturating_sub(1).max(1));
        for order in [
            levels.clone(),
            levels.iter().rev().copied().collect::<Vec<_>>(),
        ] {
            let mut mask = [0u64; 4];
            let (mut g, mut h) = (0.0, 0.0);
            for &b in order.iter().take(max_k) {
                set(&mut mask, b);
                g += hist[b][0];
                h += hist[b][1];
                consider(mask, g, h, &mut best);
            }
        }
        best
    }
}

/// The smallest `k >= 0` with `k * hs >= min`, exact because the product
/// is monotone in `k`; `None` when past 2^32 levels.
fn levels_reaching(min: f64, hs: f64) -> Option<i64> {
    // Level sums stay below 2^31 (the booster checks rows x levels), so
    // past 2^32 levels no side can pass, as the host's test agrees; the
    // negated form also catches an infinite or NaN ratio.
    if !(hs > 0.0 && min / hs < 2f64.powi(32)) {
        return None;
    }
    let mut k = (min / hs).ceil().max(0.0) as i64;
    while k > 0 && ((k - 1) as f64) * hs >= min {
        k -= 1;
    }
    while (k as f64) * hs < min {
        k += 1;
    }
    Some(k)
}

/// `cat_smooth` in whole hessian levels, as the quantised categorical
/// order uses it: integer ratios compare exactly on every device.
pub fn cat_smooth_levels(cat_smooth: f64, hs: f64) -> u32 {
    const MOST: f64 = (1u32 << 30) as f64;
    let c = cat_smooth / hs;
    if c.is_nan() {
        0
    } else {
        c.round().clamp(0.0, MOST) as u32
    }
}

/// A level of a categorical feature in a leaf: its gradient and hessian
/// level sums and its bin.
pub type CatLevel = (i64, i64, usize);

/// Whether level `a` comes before level `b` in the quantised categorical
/// order: `g / (h + smooth)` ascending, ties to the lower bin. The
/// denominators are positive (a level's hessian is at least one level),
/// so cross-multiplying compares the ratios exactly.
pub fn cat_before(a: CatLevel, b: CatLevel, smooth: u32) -> bool {
    cat_cmp(a, b, smooth).is_lt()
}

/// [`cat_before`] as an ordering.
fn cat_cmp(a: CatLevel, b: CatLevel, smooth: u32) -> std::cmp::Ordering {
    let (ga, ha, ia) = a;
    let (gb, hb, ib) = b;
    let x = i128::from(ga) * i128::from(hb + i64::from(smooth));
    let y = i128::from(gb) * i128::from(ha + i64::from(smooth));
    x.cmp(&y).then(ia.cmp(&ib))
}

/// The order LightGBM's categorical scan visits the levels in: the
/// eligible levels (bins `1..=n_codes` with at least `min_group` hessian
/// levels) sorted by [`cat_before`].
pub fn cat_order(bins: &[Packed; 256], n_codes: usize, min_group: i64, smooth: u32) -> Vec<usize> {
    let key = |b: usize| {
        let (g, h) = unpack(bins[b]);
        (g, h, b)
    };
    let mut levels: Vec<usize> = (1..=n_codes.min(255))
        .filter(|&b| unpack(bins[b]).1 >= min_group)
        .collect();
    levels.sort_by(|&a, &b| cat_cmp(key(a), key(b), smooth));
    levels
}

/// Every left side the quantised categorical scan considers, with its
/// scan order: level `b` alone (order `b`) when there are at most
/// `max_cat_to_onehot` codes; else the first `k` levels of [`cat_order`]
/// (order `k`) then its last `k` (order `256 + k`), `k` up to
/// `max_cat_threshold` and one less than the eligible levels.
pub fn cat_candidates(
    p: &GbdtValidParams,
    bins: &[Packed; 256],
    n_codes: usize,
    min_group: i64,
    smooth: u32,
) -> CatCandidates {
    let total = bins
        .iter()
        .fold(Levels::default(), |t, &v| t.plus(Levels::of(v)));
    let missing = Levels::of(bins[MISSING_BIN as usize]);
    let order = cat_order(bins, n_codes, min_group, smooth);
    let mut sides = Vec::new();
    if n_codes <= p.max_cat_to_onehot {
        for &b in &order {
            let mut mask = [0u64; 4];
            set(&mut mask, b);
            sides.push(CatSide {
                order: b as u16,
                mask,
                left: Levels::of(bins[b]),
            });
        }
        sides.sort_by_key(|s| s.order);
    } else if !order.is_empty() {
        let max_k = p
            .max_cat_threshold
            .min(order.len().saturating_sub(1).max(1));
        for (base, levels) in [
            (0, order.clone()),
            (256, order.iter().rev().copied().collect()),
        ] {
            let mut mask = [0u64; 4];
            let mut left = Levels::default();
            for (k, &b) in levels.iter().take(max_k).enumerate() {
                set(&mut mask, b);
                left = left.plus(Levels::of(bins[b]));
                sides.push(CatSide {
                    order: (base + k + 1) as u16,
                    mask,
                    left,
                });
            }
        }
    }
    CatCandidates {
        total,
        missing,
        sides,
    }
}

fn set(mask: &mut [u64; 4], b: usize) {
    mask[b >> 6] |= 1 << (b & 63);
}

/// Best split of a leaf over the allowed features (`None` if no split has a
/// positive gain). Ties go to the lower feature index, so the choice does
/// not depend on scheduling.
pub fn best_split(
    scan: &LeafScan<'_>,
    hist: &Histogram,
    scale: (f64, f64),
    mappers: &[BinMapper],
    features: &[usize],
) -> Option<Split> {
    use rayon::prelude::*;
    features
        .par_iter()
        .filter_map(|&j| {
            if hist.is_quantized() {
                scan.best_quantized(j, &hist.quant[j], &mappers[j], scale)
            } else {
                scan.best(j, &hist.feature(j, scale), &mappers[j])
            }
        })
        .reduce_with(better)
}

/// The better of two splits: the larger gain, ties to the lower feature
/// index, so the choice does not depend on scheduling.
pub fn better(a: Split, b: Split) -> Split {
    if b.gain > a.gain || (b.gain == a.gain && b.feature < a.feature) {
        b
    } else {
        a
    }
}

/// Integer sums of one feature of a quantised leaf histogram, in levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Levels {
    pub g: i64,
    pub h: i64,
}

impl Levels {
    fn of(v: Packed) -> Self {
        let (g, h) = unpack(v);
        Self { g, h }
    }

    fn plus(self, o: Self) -> Self {
        Self {
            g: self.g + o.g,
            h: self.h + o.h,
        }
    }

    fn minus(self, o: Self) -> Self {
        Self {
            g: self.g - o.g,
            h: self.h - o.h,
        }
    }
}

/// One left side of a quantised categorical split: the levels it sends
/// left, their sums, and its place in the scan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatSide {
    pub order: u16,
    pub mask: [u64; 4],
    pub left: Levels,
}

/// A quantised categorical feature's candidate left sides: the leaf's
/// totals, its missing bin, and every side for an exact scan or a few
/// for a GPU's shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatCandidates {
    pub total: Levels,
    pub missing: Levels,
    pub sides: Vec<CatSide>,
}

/// A feature's candidates as a device shortlists them, and an upper
/// bound on the score (the `f32` gain in levels) of every candidate it
/// left off (-1: none).
#[derive(Debug, Clone, PartialEq)]
pub struct Shortlist {
    pub listed: Listed,
    pub unlisted: f32,
}

/// The candidates on a shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    Thresholds(Candidates),
    Categories(CatCandidates),
}

/// What a shortlist tells of a feature's best split: the split (or that
/// there is none), or that a candidate left off might beat it, with an
/// upper bound on the feature's best [`Split::gain`]: the feature needs
/// its full scan unless another feature's split is better than that.
#[derive(Debug, Clone, PartialEq)]
pub enum Shortlisted {
    Best(Option<Split>),
    Unsure { bound: f64 },
}

/// A quantised numeric feature's candidate thresholds: the leaf's totals,
/// its missing bin, and `(bin, sums of value bins 1..=bin)` in ascending
/// bin order. Every bin for an exact scan; a few for a GPU's shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    pub total: Levels,
    pub missing: Levels,
    pub prefixes: Vec<(u8, Levels)>,
}
