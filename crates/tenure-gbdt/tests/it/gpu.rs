//! The GPU kernels against the CPU, on wgpu (Mesa's lavapipe in CI): each
//! kernel on random inputs, then whole trainings, which must give the
//! quantised CPU booster's trees bit for bit.

use std::ops::ControlFlow;
use std::sync::OnceLock;

use proptest::prelude::*;
use tenure_core::{Dataset, Matrix, ParamGuard, Target};
use tenure_device::{DeviceRequest, ResolvedDevice};
use tenure_gbdt::bin::{BinnedData, fit_mappers};
use tenure_gbdt::fixed::{FixedGradients, SCORE_LIMIT, TABLE_SPAN};
use tenure_gbdt::gpu::{
    GpuDevice, GpuHistograms, SHORTLIST, SearchFeature, SearchLeaf, SearchPenalties, pack_levels,
};
use tenure_gbdt::hist::{Histogram, Packed, Scratch, pack, unpack};
use tenure_gbdt::split::{LeafScan, Listed, Shortlisted, SplitRule, Sums, leaf_gain};
use tenure_gbdt::tree::{BinNode, BinTree};
use tenure_gbdt::{Booster, GbdtParams, GbdtValidParams, Objective, TrainSet, train_on};

use crate::booster::{lcg, synthetic};

/// The wgpu device CI has (lavapipe); a machine without any wgpu adapter
/// fails here, saying so, rather than skipping the GPU tests.
fn wgpu() -> &'static ResolvedDevice {
    static DEVICE: OnceLock<ResolvedDevice> = OnceLock::new();
    DEVICE.get_or_init(|| {
        tenure_device::resolve_here(DeviceRequest::Wgpu)
            .unwrap_or_else(|e| {
                panic!("the GPU tests need a wgpu adapter (lavapipe: mesa-vulkan-drivers): {e}")
            })
            .device
    })
}

fn device() -> GpuDevice {
    GpuDevice::new(wgpu()).unwrap()
}

/// `n` rows of `f` features with bins below `n_bins` (bin 0, missing,
/// included), and packed gradients with `levels` quantisation levels.
fn random_data(
    n: usize,
    f: usize,
    n_bins: u8,
    levels: i32,
    seed: u64,
) -> (BinnedData, Vec<Packed>) {
    let mut r = lcg(seed);
    let mut cols = vec![0u8; n * f];
    for b in &mut cols {
        *b = (r() * f64::from(n_bins)) as u8;
    }
    let mut rows = vec![0u8; n * f];
    for i in 0..n {
        for j in 0..f {
            rows[i * f + j] = cols[j * n + i];
        }
    }
    let data = BinnedData {
        n_rows: n,
        n_features: f,
        rows,
        cols,
    };
    let packed = (0..n)
        .map(|_| {
            let g = (r() * f64::from(levels + 1)) as i32 - levels / 2;
            let h = (r() * f64::from(levels + 1)) as u32;
            pack(g, h)
        })
        .collect();
    (data, packed)
}

fn cpu_histogram(data: &BinnedData, rows: &[u32], packed: &[Packed]) -> Histogram {
    let mut h = Histogram::zeros_quantized(data.n_features);
    h.build_quantized(data, rows, packed, &mut Scratch::default(), 2);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A leaf's histogram summed with integer atomics equals the CPU's sum
    /// of the same rows exactly, for the root, a bag, and both children of
    /// a split partitioned on the device as `goes_left` says, then of a
    /// split of the right child (a range that does not start at 0).
    #[test]
    fn histogram_and_partition_kernels_match_the_cpu(
        n in 1usize..3000,
        f in 1usize..7,
        n_bins in 2u8..=255,
        levels in 2i32..127,
        bag in 0.3f64..1.0,
        threshold in 0u8..255,
        categorical in any::<bool>(),
        missing_left in any::<bool>(),
        seed in 0u64..1_000_000,
    ) {
        let (data, packed) = random_data(n, f, n_bins, levels, seed);
        let mut gpu = GpuHistograms::new(&device(), &data).unwrap();
        gpu.set_gradients(&packed);

        let all: Vec<u32> = (0..n as u32).collect();
        gpu.start_tree(&all);
        prop_assert_eq!(gpu.rows(0..n), all.clone());
        prop_assert_eq!(gpu.build(0..n).quant, cpu_histogram(&data, &all, &packed).quant);

        let mut r = lcg(seed ^ 0xBA6);
        let rows: Vec<u32> = all.iter().copied().filter(|_| r() < bag).collect();
        gpu.start_tree(&rows);
        prop_assert_eq!(gpu.rows(0..rows.len()), rows.clone());
        prop_assert_eq!(
            gpu.build(0..rows.len()).quant,
            cpu_histogram(&data, &rows, &packed).quant
        );

        let feature = (seed as usize) % f;
        let rule = if categorical {
            let mut mask = [0u64; 4];
            for (k, m) in mask.iter_mut().enumerate() {
                *m = (seed.rotate_left(k as u32 * 17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            }
            SplitRule::In { mask }
        } else {
            SplitRule::Le { bin: threshold }
        };
        let split = |gpu: &mut GpuHistograms, range: std::ops::Range<usize>, rows: &[u32], feature: usize|
            -> Result<(Vec<u32>, Vec<u32>), TestCaseError> {
            let col = data.col(feature);
            let (left, right): (Vec<u32>, Vec<u32>) = rows
                .iter()
                .partition(|&&i| rule.goes_left(col[i as usize], missing_left));
            gpu.split(range.clone(), feature, &rule, missing_left);
            let mid = range.start + left.len();
            let sorted = |mut v: Vec<u32>| { v.sort_unstable(); v };
            prop_assert_eq!(sorted(gpu.rows(range.start..mid)), left.clone());
            prop_assert_eq!(sorted(gpu.rows(mid..range.end)), right.clone());
            prop_assert_eq!(gpu.build(range.start..mid).quant, cpu_histogram(&data, &left, &packed).quant);
            prop_assert_eq!(gpu.build(mid..range.end).quant, cpu_histogram(&data, &right, &packed).quant);
            Ok((left, right))
        };
        let (left, right) = split(&mut gpu, 0..rows.len(), &rows, feature)?;
        // The left child's positions stay as they were.
        let before = gpu.rows(0..left.len());
        split(&mut gpu, left.len()..rows.len(), &right, (feature + 1) % f)?;
        prop_assert_eq!(gpu.rows(0..left.len()), before);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The device's shortlist of each feature's thresholds or sets of
    /// levels, scored on the host, gives exactly the split the host's full
    /// scan finds when it settles it, and otherwise bounds its gain and
    /// reads back the feature's bins as the host sums them, for the root
    /// and for both children of a split (one built, one subtracted on the
    /// device), whatever the penalties and minimums; the first `cats`
    /// features are categorical, with `codes` levels, sorted or
    /// one-vs-rest.
    #[test]
    fn device_shortlists_hold_the_hosts_best_split(
        n in 2usize..3000,
        f in 1usize..7,
        cats in 0usize..4,
        codes in 1u32..=254,
        n_bins in 2u8..=255,
        levels in 2i32..127,
        threshold in 0u8..255,
        lambda_l1 in prop::sample::select(vec![0.0, 0.5, 5.0]),
        lambda_l2 in prop::sample::select(vec![0.0, 1.0, 50.0]),
        min_data_in_leaf in 1usize..60,
        min_sum_hessian_in_leaf in prop::sample::select(vec![0.0, 1e-3, 5.0]),
        max_cat_to_onehot in prop::sample::select(vec![1usize, 4, 300]),
        max_cat_threshold in prop::sample::select(vec![1usize, 8, 64]),
        cat_smooth in prop::sample::select(vec![0.0, 1.0, 10.0, 1e4]),
        cat_l2 in prop::sample::select(vec![0.0, 10.0]),
        min_data_per_group in 1usize..40,
        gs in 0.001f64..2.0,
        hs in 0.001f64..2.0,
        seed in 0u64..1_000_000,
    ) {
        let (data, packed) = random_data(n, f, n_bins, levels, seed);
        let mut gpu = GpuHistograms::new(&device(), &data).unwrap();
        let kinds: Vec<SearchFeature> = (0..f)
            .map(|j| if j < cats {
                SearchFeature::Categorical { codes }
            } else {
                SearchFeature::Numeric { value_bins: u32::from(n_bins) }
            })
            .collect();
        gpu.enable_search(&kinds);
        gpu.set_gradients(&packed);
        let all: Vec<u32> = (0..n as u32).collect();
        gpu.start_tree(&all);
        gpu.build_leaf(0, 0..n);
        let params = GbdtParams::new()
            .with(|c| {
                c.lambda_l1 = lambda_l1;
                c.lambda_l2 = lambda_l2;
                c.min_data_in_leaf = min_data_in_leaf;
                c.min_sum_hessian_in_leaf = min_sum_hessian_in_leaf;
                c.max_cat_to_onehot = max_cat_to_onehot;
                c.max_cat_threshold = max_cat_threshold;
                c.cat_smooth = cat_smooth;
                c.cat_l2 = cat_l2;
                c.min_data_per_group = min_data_per_group;
            })
            .check()
            .unwrap();
        let scale = (gs, hs);
        let check = |gpu: &mut GpuHistograms, leaf: usize, rows: &[u32]| -> Result<(), TestCaseError> {
            let hist = cpu_histogram(&data, rows, &packed);
            let (tg, th) = unpack(rows.iter().map(|&i| packed[i as usize]).sum());
            let total = Sums { g: tg as f64 * gs, h: th as f64 * hs, count: rows.len() };
            let scan = LeafScan {
                params: &params,
                total,
                parent_gain: leaf_gain(total.g, total.h, &params),
            };
            let Some(min_levels) = scan.min_hessian_levels(hs) else { return Ok(()) };
            let ask = SearchLeaf { leaf, min_levels, min_group: scan.min_group_levels(hs) };
            let short = gpu.search(&[ask], SearchPenalties::new(&params, scale)).remove(0);
            for (j, list) in short.iter().enumerate() {
                let host = match &list.listed {
                    Listed::Thresholds(c) => {
                        prop_assert!(j >= cats && c.prefixes.len() <= SHORTLIST);
                        scan.numeric_quantized(j, &hist.quant[j], usize::from(n_bins), scale)
                    }
                    Listed::Categories(c) => {
                        prop_assert!(j < cats && c.sides.len() <= SHORTLIST);
                        scan.categorical_quantized(j, &hist.quant[j], codes as usize, scale)
                    }
                };
                // A settled shortlist is exactly the full scan; an unsure
                // one bounds the feature's best gain, and the feature's
                // bins read back give the full scan.
                match scan.best_shortlisted(j, list, scale) {
                    Shortlisted::Best(split) => prop_assert_eq!(split, host, "feature {}", j),
                    Shortlisted::Unsure { bound } => {
                        if let Some(s) = &host {
                            prop_assert!(s.gain <= bound, "feature {}: {} > {}", j, s.gain, bound);
                        }
                    }
                }
                // What an unsure feature reads back (rare here, so read
                // for every feature).
                let bins = gpu.feature_histogram(leaf, j);
                prop_assert_eq!(&bins, &hist.quant[j], "feature {}", j);
            }
            Ok(())
        };
        check(&mut gpu, 0, &all)?;

        let rule = SplitRule::Le { bin: threshold };
        let col = data.col(0);
        let (left, right): (Vec<u32>, Vec<u32>) =
            all.iter().partition(|&&i| rule.goes_left(col[i as usize], false));
        gpu.split(0..n, 0, &rule, false);
        let mid = left.len();
        // Leaf 0 keeps the left rows; the right ones become leaf 1.
        let (small, range, large) = if left.len() <= right.len() {
            (0, 0..mid, 1)
        } else {
            (1, mid..n, 0)
        };
        gpu.split_histograms(0, small, range, large);
        check(&mut gpu, 0, &left)?;
        check(&mut gpu, 1, &right)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The device's categorical order (64-bit cross products from 16-bit
    /// limbs) is the host's exactly, over the whole range of level sums:
    /// random pairs, the same ratio scaled (ties), and equal magnitudes.
    #[test]
    fn categorical_order_on_the_device_is_the_hosts(
        levels in prop::collection::vec(
            (-(1i64 << 31) + 1..1i64 << 31, 1i64..1 << 31, 1usize..255),
            64,
        ),
        smooth in prop::sample::select(vec![0u32, 1, 80, 1 << 20, 1 << 30]),
        k in 2i64..64,
    ) {
        let mut pairs = Vec::new();
        for w in levels.windows(2) {
            let (a, b) = (w[0], w[1]);
            pairs.push((a, b));
            // The same ratio as b, scaled by k where it fits: a tie.
            let h = (b.1 + i64::from(smooth)) * k - i64::from(smooth);
            if h < 1 << 31 && (b.0 * k).abs() < 1 << 31 {
                pairs.push(((b.0 * k, h, a.2), b));
            }
            pairs.push(((-a.0, a.1, a.2), b));
            pairs.push((a, (a.0, b.1, b.2)));
        }
        let device = tenure_gbdt::gpu::cat_before_on_device(&device(), &pairs, smooth);
        for (&(a, b), got) in pairs.iter().zip(device) {
            prop_assert_eq!(got, tenure_gbdt::split::cat_before(a, b, smooth), "{:?} {:?}", a, b);
        }
    }
}

/// The last level alone, on the left, is the best split of a categorical
/// feature whose "other" bin holds rows: it mirrors no first-k side, so the
/// device's shortlist must keep it (and it does when every row is in a
/// level, where the mirror takes its place, first in the host's scan).
#[test]
fn the_device_keeps_a_last_k_side_that_mirrors_nothing() {
    // Bins 1..=4 are the four codes, bin 5 the rest; ten rows each.
    // Level 1 pulls up (+4 a row), levels 2-4 and the rest pull down.
    for other in [true, false] {
        let levels = [(1u8, 4), (2, -1), (3, -1), (4, -1), (5, -3)];
        let (mut cols, mut packed) = (Vec::new(), Vec::new());
        for &(bin, g) in &levels[..if other { 5 } else { 4 }] {
            for _ in 0..10 {
                cols.push(bin);
                packed.push(pack(g, 1));
            }
        }
        let n = cols.len();
        let data = BinnedData {
            n_rows: n,
            n_features: 1,
            rows: cols.clone(),
            cols,
        };
        let params = GbdtParams::new()
            .with(|c| {
                c.min_data_in_leaf = 1;
                c.min_data_per_group = 1;
                c.max_cat_to_onehot = 1;
                c.max_cat_threshold = 3;
                c.cat_smooth = 0.0;
                c.cat_l2 = 0.0;
            })
            .check()
            .unwrap();
        let scale = (1.0, 1.0);
        let mut gpu = GpuHistograms::new(&device(), &data).unwrap();
        gpu.enable_search(&[SearchFeature::Categorical { codes: 4 }]);
        gpu.set_gradients(&packed);
        let all: Vec<u32> = (0..n as u32).collect();
        gpu.start_tree(&all);
        gpu.build_leaf(0, 0..n);
        let hist = cpu_histogram(&data, &all, &packed);
        let (tg, th) = unpack(packed.iter().sum());
        let total = Sums {
            g: tg as f64,
            h: th as f64,
            count: n,
        };
        let scan = LeafScan {
            params: &params,
            total,
            parent_gain: leaf_gain(total.g, total.h, &params),
        };
        let ask = SearchLeaf {
            leaf: 0,
            min_levels: scan.min_hessian_levels(1.0).unwrap(),
            min_group: scan.min_group_levels(1.0),
        };
        let short = gpu
            .search(&[ask], SearchPenalties::new(&params, scale))
            .remove(0);
        let host = scan
            .categorical_quantized(0, &hist.quant[0], 4, scale)
            .unwrap();
        assert_eq!(
            scan.best_shortlisted(0, &short[0], scale),
            Shortlisted::Best(Some(host.clone()))
        );
        // With rows outside the levels, level 1 alone (the last of the
        // order) goes left; with none, its mirror (levels 2-4) does.
        let left: Vec<u8> = (1..=4u8).filter(|&b| host.rule.left(b)).collect();
        let want: &[u8] = if other { &[1] } else { &[2, 3, 4] };
        assert_eq!(left, want, "other {other}");
    }
}

/// A random tree over `f` features with up to `splits` splits, grown by
/// splitting random leaves, with random rules and leaf values.
fn random_tree(f: usize, splits: usize, r: &mut impl FnMut() -> f64) -> BinTree {
    let mut nodes: Vec<BinNode> = Vec::new();
    // Where each leaf hangs: (node, is_left), None for the root leaf.
    let mut parents: Vec<Option<(usize, bool)>> = vec![None];
    for _ in 0..splits {
        let leaf = (r() * parents.len() as f64) as usize;
        let rule = if r() < 0.3 {
            SplitRule::In {
                mask: [0; 4].map(|_| (r() * u64::MAX as f64) as u64),
            }
        } else {
            SplitRule::Le {
                bin: (r() * 255.0) as u8,
            }
        };
        let node = nodes.len();
        let right = parents.len();
        nodes.push(BinNode {
            feature: (r() * f as f64) as u32,
            rule,
            missing_left: r() < 0.5,
            left: !(leaf as i32),
            right: !(right as i32),
            gain: 1.0,
        });
        if let Some((p, is_left)) = parents[leaf] {
            if is_left {
                nodes[p].left = node as i32;
            } else {
                nodes[p].right = node as i32;
            }
        }
        parents[leaf] = Some((node, true));
        parents.push(Some((node, false)));
    }
    let leaf_values = (0..parents.len()).map(|_| r() * 2.0 - 1.0).collect();
    BinTree { nodes, leaf_values }
}

/// The prediction kernel walks every tree as `BinTree::leaf` does: its
/// sums equal the CPU's to float rounding.
#[test]
fn prediction_kernel_walks_the_trees_as_the_cpu_does() {
    let mut r = lcg(3);
    let (data, _) = random_data(2_345, 6, 255, 4, 4);
    let mut trees: Vec<BinTree> = (0..25).map(|k| random_tree(6, k % 12, &mut r)).collect();
    trees.push(BinTree {
        nodes: Vec::new(),
        leaf_values: vec![0.25],
    });
    let gpu = GpuHistograms::new(&device(), &data).unwrap();
    let got = gpu.predict(&trees);
    for (i, &g) in got.iter().enumerate() {
        let want: f64 = trees
            .iter()
            .map(|t| t.leaf_values[t.leaf(|j| data.row(i)[j])])
            .sum();
        assert!(
            (f64::from(g) - want).abs() <= 1e-5 * want.abs().max(1.0),
            "row {i}: device {g}, cpu {want}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The gradient kernels give the host's integer gradients bit for
    /// bit: the same maxima (so the same scales) and the same packed
    /// levels in every row, for binary, squared error, Tweedie (whose
    /// round units come from the device's maxima too) and Cox (tied
    /// times, censored rows, risk sets summed in 64 bits and terms in 96
    /// across several scan blocks), with row weights or without (the first
    /// three), stochastic or
    /// nearest rounding, from 2 to 126 levels, at scores across the
    /// tables' spans, past them and at the saturation limit. The leaf-sum
    /// kernel gives the host's exact gradient sums over random leaves, and
    /// the score kernel adds a random tree's integer leaf values as the
    /// host does.
    #[test]
    fn gradient_and_score_kernels_match_the_host(
        n in 1usize..10_000,
        kind in 0usize..4,
        weighted in any::<bool>(),
        rho in 1.05f64..1.95,
        spend_scale in -6i32..4,
        levels in 2usize..=126,
        stochastic in any::<bool>(),
        key in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let mut r = lcg(seed);
        let (data, _) = random_data(n, 3, 255, 4, seed ^ 1);
        let y: Vec<f64> = (0..n)
            .map(|_| match kind {
                0 => f64::from(r() < 0.3),
                1 => (r() - 0.4) * 5e4,
                // Spend: many zeros, a long tail.
                _ => if r() < 0.4 { 0.0 } else { r() * r() * 10f64.powi(spend_scale) },
            })
            .collect();
        let fx = if kind == 3 {
            // Few distinct times (many ties) or many, a share censored.
            let distinct = if seed % 2 == 0 { 30.0 } else { 1e6 };
            let time: Vec<f64> = (0..n).map(|_| (r() * distinct).floor()).collect();
            let mut event: Vec<bool> = (0..n).map(|_| r() < 0.6).collect();
            event[0] = true;
            FixedGradients::cox(&time, &event).unwrap()
        } else {
            let objective = [Objective::Binary, Objective::Regression, Objective::Tweedie][kind];
            // Weights from 1/20 to 20, a share exactly 1 (as
            // `scale_pos_weight` leaves the negatives), and a few 0.
            let w: Vec<f64> = (0..n)
                .map(|_| match r() {
                    u if u < 0.3 => 1.0,
                    u if u < 0.33 => 0.0,
                    _ => (r() * 6.0 - 3.0).exp(),
                })
                .collect();
            FixedGradients::new(objective, &y, weighted.then_some(&w[..]), rho).unwrap()
        };
        let limit = f64::from(SCORE_LIMIT);
        let scores: Vec<i32> = (0..n)
            .map(|i| match i % 4 {
                0 => ((r() * 2.0 - 1.0) * limit) as i32,
                1 => ((r() * 2.0 - 1.0) * 1.2 * f64::from(TABLE_SPAN)) as i32,
                2 => if r() < 0.5 { SCORE_LIMIT } else { -SCORE_LIMIT },
                _ if kind == 1 => fx.labels[i] + ((r() - 0.5) * 1e4) as i32,
                _ => fx.to_score((r() - 0.5) * 10.0 + f64::from(spend_scale) * 10f64.ln()),
            })
            .collect();
        let mut packed = vec![0; n];
        let want = fx.quantize(&scores, levels, stochastic, key, &mut packed);

        let mut gpu = GpuHistograms::new(&device(), &data).unwrap();
        gpu.enable_gradients(&fx, 0);
        gpu.set_scores(&scores);
        let got = gpu.gradients(&fx, levels, stochastic, key);
        prop_assert_eq!(got, (want.0, want.1.units));
        let words: Vec<u32> = packed
            .chunks(2)
            .map(|pair| {
                let word = |p: &Packed| {
                    let (g, h) = unpack(*p);
                    pack_levels(g, h)
                };
                word(&pair[0]) | pair.get(1).map_or(0, word) << 16
            })
            .collect();
        prop_assert_eq!(gpu.levels(), words);

        // Leaf sums of the exact integer gradients over random ranges of
        // positions (past 4,096 rows a leaf is summed in blocks).
        let rows: Vec<u32> = (0..n as u32).collect();
        gpu.start_tree(&rows);
        let mut cuts: Vec<usize> = (0..4).map(|_| (r() * n as f64) as usize).collect();
        cuts.extend([0, n]);
        cuts.sort_unstable();
        let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
        let want: Vec<(i64, i64)> = ranges
            .iter()
            .map(|&(lo, hi)| fx.sums(&scores, &rows[lo..hi], &want.1))
            .collect();
        prop_assert_eq!(gpu.leaf_sums(&ranges), want);

        let tree = random_tree(3, (r() * 20.0) as usize, &mut r);
        let values: Vec<i32> = tree
            .leaf_values
            .iter()
            .map(|&v| (v * limit * 0.6) as i32)
            .collect();
        gpu.add_tree(&tree, &values);
        let want: Vec<i32> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let v = values[tree.leaf(|j| data.row(i)[j])];
                (s + v).clamp(-SCORE_LIMIT, SCORE_LIMIT)
            })
            .collect();
        prop_assert_eq!(gpu.scores(), want);
    }
}

fn fit(p: &GbdtValidParams, data: &Dataset, device: &ResolvedDevice) -> Booster {
    train_on(
        p,
        data.feature_names(),
        TrainSet::from_dataset(data),
        None,
        &mut |_| ControlFlow::Continue(()),
        device,
    )
    .unwrap()
}

/// Five thresholds of one feature with the same gain (100 at the root,
/// by construction; `f32` and `f64` each round them their own way): the
/// device lists four, its bound on the fifth reaches the best listed, so
/// the host reads the root's histogram back and scans the feature in full.
/// The tree is the CPU's, and the read is the fallback's.
#[test]
fn an_unsure_shortlist_falls_back_to_the_full_scan() {
    // (value, rows, gradient a row), totals (0, 100). As thresholds: left
    // prefixes (30, 10), (-40, 20), (50, 50), (-40, 80), (30, 90), each
    // of gain g^2 * 100 / (h * (100 - h)) = 100.
    let thresholds = [
        (1.0, 10, 3.0),
        (2.0, 10, -7.0),
        (3.0, 30, 3.0),
        (4.0, 30, -3.0),
        (5.0, 10, 7.0),
        (6.0, 10, -3.0),
    ];
    // As categories, one against the rest: (30, 10) twice, (-30, 10)
    // twice and (40, 20) of gain 100, and (-40, 40) of gain 66.7; the
    // largest gradient is 7 in both, so every level is exact.
    let levels = [
        (0.0, 10, 3.0),
        (1.0, 10, -3.0),
        (2.0, 10, 3.0),
        (3.0, 10, -3.0),
        (4.0, 10, 7.0),
        (4.0, 10, -3.0),
        (5.0, 40, -1.0),
    ];
    unsure_case(&thresholds, false, false);
    unsure_case(&levels, true, false);
    // With a second feature, the gradient's sign, whose split gains 1,444:
    // the unsure feature's bound (100) cannot reach it, and nothing more
    // is read.
    unsure_case(&thresholds, false, true);
}

fn unsure_case(groups: &[(f64, usize, f64)], categorical: bool, signal: bool) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &(v, rows, g) in groups {
        for _ in 0..rows {
            x.push(v);
            if signal {
                x.push(f64::from(g > 0.0));
            }
            // Squared error at the mean score 0: the gradient is -y.
            y.push(-g);
        }
    }
    let (n, f) = (y.len(), 1 + usize::from(signal));
    let names = ["x", "sign"][..f].iter().map(|s| s.to_string()).collect();
    let data = Dataset::new(Matrix::new(x, n, f).unwrap(), names, Target::Continuous(y)).unwrap();
    let p = GbdtParams::new()
        .with(|c| {
            c.objective = Objective::Regression;
            c.num_iterations = 1;
            c.num_leaves = 2;
            c.min_data_in_leaf = 1;
            c.min_sum_hessian_in_leaf = 0.0;
            c.use_quantized_grad = true;
            // Seven gradient levels a side: each row's level is its
            // gradient exactly.
            c.num_grad_quant_bins = 14;
            if categorical {
                c.categorical_feature = vec!["x".into()];
                c.max_cat_to_onehot = 8;
                c.min_data_per_group = 1;
                c.cat_l2 = 0.0;
            }
        })
        .check()
        .unwrap();
    let booster = fit(&p, &data, wgpu());
    assert_eq!(
        booster.to_spec(),
        fit(&p, &data, &ResolvedDevice::Cpu).to_spec(),
        "categorical: {categorical}"
    );
    let t = booster.device_traffic.expect("trained on the device");
    // Three small reads (maxima, root totals, leaf sums), the root's
    // search, and the unsure feature's bins unless the signal wins.
    let reads = if signal { 4 } else { 5 };
    assert_eq!(t.reads, reads, "categorical: {categorical}, {t:?}");
    let splits = booster.feature_importance(tenure_gbdt::ImportanceKind::Split);
    let on = |name: &str| splits.iter().find(|(n, _)| n == name).map(|(_, k)| *k);
    assert_eq!(on("sign"), signal.then_some(1.0), "{splits:?}");
}

/// Whole trainings on the device give the quantised CPU booster's trees:
/// binary with bagging and feature sampling, a categorical feature whose
/// codes move the label (its sets of levels searched on the device, sorted
/// and one against the rest, and split on), binary with
/// `scale_pos_weight`, Tweedie with row weights, and Cox, bagged, whose
/// gradients the device computes too (no row goes up a round in any of
/// them); the GPU quantises even when the parameters do not ask for it.
#[test]
fn gpu_training_gives_the_quantised_cpu_trees() {
    let (x, s) = synthetic(6_000, 5, 21);
    let mut r = lcg(22);
    let churn: Vec<f64> = s
        .iter()
        .map(|v| f64::from(r() < 1.0 / (1.0 + (-2.0 * v).exp())))
        .collect();
    let names: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
    // Feature 4 as 12 category codes.
    let mut coded = x.as_slice().to_vec();
    for i in 0..x.n_rows() {
        coded[i * 5 + 4] = ((x.get(i, 4) + 1.0) * 6.0).floor();
    }
    // The codes move the churn, in no order of their own.
    let effect = [
        1.5, -1.0, 0.5, -1.5, 1.0, 0.0, -0.5, 2.0, -2.0, 0.3, -0.3, 1.2,
    ];
    let cat_churn: Vec<f64> = s
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let logit = 2.0 * v + effect[(coded[i * 5 + 4] as usize).min(11)];
            f64::from(r() < 1.0 / (1.0 + (-logit).exp()))
        })
        .collect();
    let coded = Matrix::new(coded, x.n_rows(), 5).unwrap();
    let (mut time, mut event) = (Vec::new(), Vec::new());
    for v in &s {
        let t = -(1.0 - r()).ln() / v.exp();
        let c = -(1.0 - r()).ln() / 0.4;
        time.push(t.min(c));
        event.push(t <= c);
    }
    let cases: Vec<(&str, Dataset, GbdtValidParams)> = vec![
        (
            "binary, bagged and feature-sampled",
            Dataset::new(x.clone(), names.clone(), Target::Binary(churn.clone())).unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.num_iterations = 12;
                    c.num_leaves = 31;
                    c.bagging_fraction = 0.7;
                    c.bagging_freq = 1;
                    c.feature_fraction = 0.8;
                    c.use_quantized_grad = true;
                })
                .check()
                .unwrap(),
        ),
        (
            "binary with scale_pos_weight, on the device's weighted gradients",
            Dataset::new(x.clone(), names.clone(), Target::Binary(churn.clone())).unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.num_iterations = 10;
                    c.num_leaves = 15;
                    c.scale_pos_weight = 3.7;
                    c.use_quantized_grad = true;
                })
                .check()
                .unwrap(),
        ),
        (
            "tweedie with row weights, on the device's weighted gradients",
            Dataset::new(
                x.clone(),
                names.clone(),
                Target::Continuous(s.iter().map(|v| (1.0 + v).exp() * r()).collect()),
            )
            .unwrap()
            .with_weights((0..x.n_rows()).map(|i| 0.2 + (i % 7) as f64).collect())
            .unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.objective = Objective::Tweedie;
                    c.num_iterations = 10;
                    c.num_leaves = 15;
                    c.use_quantized_grad = true;
                    c.num_grad_quant_bins = 16;
                })
                .check()
                .unwrap(),
        ),
        (
            "binary with a categorical feature",
            Dataset::new(
                coded.clone(),
                names.clone(),
                Target::Binary(cat_churn.clone()),
            )
            .unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.num_iterations = 10;
                    c.categorical_feature = vec!["x4".into()];
                    c.use_quantized_grad = true;
                    c.num_grad_quant_bins = 8;
                })
                .check()
                .unwrap(),
        ),
        (
            "binary with a categorical feature, one level against the rest",
            Dataset::new(coded, names.clone(), Target::Binary(cat_churn)).unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.num_iterations = 10;
                    c.categorical_feature = vec!["x4".into()];
                    c.max_cat_to_onehot = 16;
                    c.min_data_per_group = 20;
                    c.cat_smooth = 1.0;
                    c.use_quantized_grad = true;
                })
                .check()
                .unwrap(),
        ),
        (
            "squared error, bagged, on the device's gradients",
            Dataset::new(
                x.clone(),
                names.clone(),
                Target::Continuous(s.iter().map(|v| 40.0 * v + 7.0 * r()).collect()),
            )
            .unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.objective = Objective::Regression;
                    c.num_iterations = 12;
                    c.num_leaves = 15;
                    c.bagging_fraction = 0.8;
                    c.bagging_freq = 2;
                    c.use_quantized_grad = true;
                    c.num_grad_quant_bins = 16;
                    c.stochastic_rounding = false;
                })
                .check()
                .unwrap(),
        ),
        (
            "tweedie, bagged, on the device's gradients",
            Dataset::new(
                x.clone(),
                names.clone(),
                Target::Continuous(
                    s.iter()
                        .map(|v| {
                            if r() < 0.4 {
                                0.0
                            } else {
                                (2.0 + v).exp() * r()
                            }
                        })
                        .collect(),
                ),
            )
            .unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.objective = Objective::Tweedie;
                    c.tweedie_variance_power = 1.3;
                    c.num_iterations = 12;
                    c.num_leaves = 15;
                    c.bagging_fraction = 0.8;
                    c.bagging_freq = 1;
                    c.use_quantized_grad = true;
                    c.num_grad_quant_bins = 16;
                })
                .check()
                .unwrap(),
        ),
        (
            "cox, bagged, on the device's gradients",
            Dataset::new(x, names, Target::Survival { time, event }).unwrap(),
            GbdtParams::new()
                .with(|c| {
                    c.objective = Objective::Cox;
                    c.num_iterations = 10;
                    c.num_leaves = 7;
                    c.bagging_fraction = 0.8;
                    c.bagging_freq = 1;
                    c.use_quantized_grad = true;
                })
                .check()
                .unwrap(),
        ),
    ];
    for (what, data, p) in &cases {
        let cpu = fit(p, data, &ResolvedDevice::Cpu);
        let gpu = fit(p, data, wgpu());
        assert_eq!(cpu.to_spec(), gpu.to_spec(), "{what}");
        assert_eq!(
            cpu.predict(data.x()).unwrap(),
            gpu.predict(data.x()).unwrap(),
            "{what}"
        );
        assert!(cpu.device_bytes.is_none());
        assert!(gpu.device_bytes.unwrap() > data.n_rows() * 4, "{what}");
        // Every objective's gradients are the device's: a round sends the
        // tree and its leaves' blocks, not the 2 bytes a row of levels.
        let t = gpu.device_traffic.unwrap();
        assert!(
            t.uploaded_in_rounds < t.rounds * data.n_rows() as u64,
            "{what}: {t:?}"
        );
        // The categorical feature is split on, so its search is in play.
        if p.categorical_feature.is_empty() {
            continue;
        }
        let splits = gpu.feature_importance(tenure_gbdt::ImportanceKind::Split);
        let x4 = splits
            .iter()
            .find(|(n, _)| n == "x4")
            .map_or(0.0, |(_, k)| *k);
        assert!(x4 > 0.0, "{what}: {splits:?}");
    }
    // Without `use_quantized_grad` the device still quantises: the trees
    // are the quantised CPU ones, not the f64 ones.
    let (what, data, p) = &cases[0];
    let mut plain = (**p).clone();
    plain.use_quantized_grad = false;
    let plain = GbdtParams::from(plain).check().unwrap();
    assert_eq!(
        fit(&plain, data, wgpu()).to_spec(),
        fit(p, data, &ResolvedDevice::Cpu).to_spec(),
        "{what}"
    );
}

/// What a training moves, counted exactly. Once: the binned matrix (four
/// rows' bins to a word), the gradient buffer, the bin offsets, and for
/// the device's own gradients the labels and the two sigmoid tables. Per
/// round: the grown tree (for the device's scores; 48 bytes a node and
/// 48 a tree), a 32-byte mask per split and 8 bytes per block of up to
/// 4,096 rows of a leaf (for its exact gradient sums), never anything per
/// row (the device draws each round's bag by the host's rule). Back: the
/// round's gradient maxima (a read of the 48-byte statistics), 16 bytes
/// per leaf block (one read a round); when the leaf histograms stay on the
/// device, the root's level totals (another statistics read) and, for
/// each leaf searched, a shortlist per feature (17 integers a feature, 49
/// more a categorical one); with no pool for them
/// (`gpu_histogram_pool_size = 0`), one histogram of the bins each feature uses
/// (a flag has 3 with the missing bin, a continuous feature all 256) for
/// the root and for the smaller child of each split. Either way the trees
/// are the quantised CPU's.
#[test]
fn a_training_moves_the_matrix_once_and_little_per_round() {
    let (n, f) = (5_000, 6);
    let (x, s) = synthetic(n, f, 31);
    // Feature 0 a flag, feature 1 three levels, the rest continuous.
    let mut cells = x.as_slice().to_vec();
    for i in 0..n {
        cells[i * f] = f64::from(x.get(i, 0) > 0.0);
        cells[i * f + 1] = (x.get(i, 1) * 1.5).round().clamp(-1.0, 1.0) + 1.0;
    }
    let x = Matrix::new(cells, n, f).unwrap();
    let mut r = lcg(32);
    let y: Vec<f64> = s
        .iter()
        .map(|v| f64::from(r() < 1.0 / (1.0 + (-v).exp())))
        .collect();
    let names: Vec<String> = (0..f).map(|j| format!("x{j}")).collect();
    let data = Dataset::new(x, names.clone(), Target::Binary(y)).unwrap();
    let params = |categorical: bool, pool: f64| {
        GbdtParams::new()
            .with(|c| {
                c.gpu_histogram_pool_size = pool;
                c.num_iterations = 8;
                c.num_leaves = 15;
                c.use_quantized_grad = true;
                // Bags are drawn on the device: no row goes up a round.
                c.bagging_fraction = 0.7;
                c.bagging_freq = 1;
                if categorical {
                    c.categorical_feature = vec!["x1".into()];
                }
            })
            .check()
            .unwrap()
    };
    let (n, f) = (n as u64, f as u64);
    let tables = 2 * tenure_gbdt::fixed::TABLE_LEN as u64;
    let matrix = (n.div_ceil(4) * f + n.div_ceil(2) + f + 1 + n + tables) * 4;
    for (categorical, pool) in [(false, -1.0), (true, -1.0), (true, 0.0)] {
        let p = params(categorical, pool);
        let booster = fit(&p, &data, wgpu());
        assert_eq!(
            booster.to_spec(),
            fit(&p, &data, &ResolvedDevice::Cpu).to_spec(),
            "categorical: {categorical}, pool {pool}"
        );
        let splits: u64 = booster
            .feature_importance(tenure_gbdt::ImportanceKind::Split)
            .iter()
            .map(|(_, k)| *k as u64)
            .sum();
        let trees = booster.num_trees() as u64;
        assert_eq!(trees, 8);
        let t = booster.device_traffic.expect("trained on the device");
        assert_eq!(t.rounds, trees);
        // A leaf of 4,096 rows or more is summed in two blocks; there is
        // at most one such leaf a tree among 5,000 rows.
        let blocks = (t.uploaded_in_rounds - trees * 48 - 80 * splits) / 8;
        assert_eq!(t.uploaded_in_rounds, trees * 48 + 80 * splits + 8 * blocks);
        let leaves = trees + splits;
        assert!(blocks >= leaves && blocks <= leaves + trees, "{t:?}");
        if pool == 0.0 {
            // Bins used per feature, from the booster's own binning.
            let mappers = fit_mappers(
                data.x(),
                &names,
                &[false, true, false, false, false, false],
                255,
                p.min_data_per_group,
                200_000,
            )
            .unwrap();
            let binned = BinnedData::new(data.x(), &mappers);
            let used: Vec<u64> = (0..f as usize)
                .map(|j| u64::from(*binned.col(j).iter().max().unwrap()) + 1)
                .collect();
            assert_eq!(used[0], 3, "{used:?}");
            assert!(used[1] <= 5, "{used:?}");
            assert!(used[2..].iter().all(|&u| u == 256), "{used:?}");
            assert_eq!(t.uploaded_at_start, matrix);
            assert_eq!(t.reads, 3 * trees + splits);
            let histograms = trees + splits;
            assert_eq!(
                t.read_back,
                histograms * used.iter().sum::<u64>() * 2 * 4 + 48 * trees + 16 * blocks
            );
        } else {
            // The value-bin counts go up once too, and a categorical
            // feature's index and codes.
            let cats = u64::from(categorical);
            assert_eq!(t.uploaded_at_start, matrix + f * 4 + cats * 8);
            // Three small reads a round (maxima, root totals, leaf sums),
            // then one read for the root's search and one for both
            // children of a split that may split further, a shortlist
            // per feature and leaf searched (no shortlist here is unsure:
            // that would read a feature's bins back too).
            let searches = t.reads - 3 * trees;
            assert!(searches >= trees && searches <= trees + splits, "{t:?}");
            let per_leaf = f * 17 * 4 + cats * 49 * 4;
            let shortlists = t.read_back - 96 * trees - 16 * blocks;
            assert_eq!(
                shortlists % per_leaf,
                0,
                "{t:?} blocks {blocks} splits {splits}"
            );
            assert!(shortlists / per_leaf >= searches, "{t:?}");
            assert!(shortlists / per_leaf <= 2 * searches, "{t:?}");
        }
    }
}

/// Where the shortlist is most at risk: many rows, a strong mean gradient
/// (95% positives) and a weak signal, so in deep leaves the two sides'
/// gains are large next to the differences between thresholds, and deep
/// trees with small leaves. The device's trees must still be the CPU's.
#[test]
fn shortlists_hold_with_a_strong_mean_gradient_and_a_weak_signal() {
    let (n, f) = (40_000, 8);
    let (x, s) = synthetic(n, f, 41);
    let mut r = lcg(42);
    let y: Vec<f64> = s
        .iter()
        .map(|v| f64::from(r() < 1.0 / (1.0 + (-(3.0 + 0.2 * v)).exp())))
        .collect();
    let names: Vec<String> = (0..f).map(|j| format!("x{j}")).collect();
    let data = Dataset::new(x, names, Target::Binary(y)).unwrap();
    let p = GbdtParams::new()
        .with(|c| {
            c.num_iterations = 15;
            c.num_leaves = 63;
            c.min_data_in_leaf = 5;
            c.use_quantized_grad = true;
            c.num_grad_quant_bins = 32;
        })
        .check()
        .unwrap();
    let gpu = fit(&p, &data, wgpu());
    assert!(gpu.device_traffic.unwrap().read_back > 0);
    assert_eq!(
        gpu.to_spec(),
        fit(&p, &data, &ResolvedDevice::Cpu).to_spec()
    );
}
