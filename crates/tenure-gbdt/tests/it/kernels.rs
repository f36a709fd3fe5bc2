//! Fast kernels against naive twins: histograms, split finding, binning.

// Index loops mirror the naive definitions on purpose.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use tenure_core::{Matrix, ParamGuard};
use tenure_gbdt::GbdtParams;
use tenure_gbdt::bin::{BinMapper, BinnedData, fit_mappers};
use tenure_gbdt::hist::{BLOCK_ROWS, Histogram, Packed, Scratch, pack};
use tenure_gbdt::split::{LeafScan, SplitRule, Sums, best_split, cat_before, leaf_gain};

fn matrix(cols: &[Vec<f64>]) -> Matrix {
    let n = cols[0].len();
    let mut data = Vec::with_capacity(n * cols.len());
    for i in 0..n {
        data.extend(cols.iter().map(|c| c[i]));
    }
    Matrix::new(data, n, cols.len()).unwrap()
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => (-50i32..50).prop_map(|v| f64::from(v) / 4.0),
        1 => Just(f64::NAN),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every row's bin is the one a linear scan of the bounds gives, and
    /// bins preserve order.
    #[test]
    fn binning_matches_a_linear_scan(values in prop::collection::vec(value(), 1..300), max_bin in 2usize..40) {
        let x = matrix(std::slice::from_ref(&values));
        let mappers = fit_mappers(&x, &["x".into()], &[false], max_bin, 1, 1000).unwrap();
        let BinMapper::Numeric { uppers } = &mappers[0] else { panic!("numeric") };
        prop_assert!(uppers.len() < max_bin);
        for &v in &values {
            let b = mappers[0].bin(v);
            if v.is_nan() {
                prop_assert_eq!(b, 0);
                continue;
            }
            let naive = 1 + uppers.iter().position(|&u| (v as f32) <= u).unwrap_or(uppers.len());
            prop_assert_eq!(b as usize, naive);
        }
        for &a in &values {
            for &c in &values {
                if !a.is_nan() && !c.is_nan() && a < c {
                    prop_assert!(mappers[0].bin(a) <= mappers[0].bin(c));
                }
            }
        }
    }

    /// Histograms of a random subset of rows equal naive per-bin sums, for
    /// any thread count, and subtraction gives the complement's histogram.
    #[test]
    fn histograms_match_naive_sums(
        cols in prop::collection::vec(prop::collection::vec(value(), 5000), 1..5),
        keep in prop::collection::vec(any::<bool>(), 5000),
        threads in 1usize..4,
    ) {
        let x = matrix(&cols);
        let f = cols.len();
        let names: Vec<String> = (0..f).map(|j| format!("x{j}")).collect();
        let mappers = fit_mappers(&x, &names, &vec![false; f], 16, 1, 5000).unwrap();
        let data = BinnedData::new(&x, &mappers);
        let gh: Vec<[f64; 2]> = (0..5000).map(|i| [((i * 7919) % 13) as f64 - 6.0, 1.0 + (i % 3) as f64]).collect();
        let rows: Vec<u32> = (0..5000u32).filter(|&i| keep[i as usize]).collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut scratch = Scratch::default();
        let mut h = Histogram::zeros(f);
        pool.install(|| h.build(&data, &rows, &gh, &mut scratch, threads));
        let all: Vec<u32> = (0..5000).collect();
        let mut root = Histogram::zeros(f);
        pool.install(|| root.build(&data, &all, &gh, &mut scratch, threads));
        for j in 0..f {
            let mut naive = [[0.0f64; 2]; 256];
            let mut naive_rest = [[0.0f64; 2]; 256];
            for i in 0..5000 {
                let b = mappers[j].bin(x.get(i, j)) as usize;
                let target = if keep[i] { &mut naive } else { &mut naive_rest };
                target[b][0] += gh[i][0];
                target[b][1] += gh[i][1];
            }
            prop_assert_eq!(&h.feats[j][..], &naive[..]);
            for b in 0..256 {
                let sub = [root.feats[j][b][0] - h.feats[j][b][0], root.feats[j][b][1] - h.feats[j][b][1]];
                // Integer-valued sums: subtraction is exact.
                prop_assert_eq!(sub, naive_rest[b]);
            }
        }
    }

    /// Leaves spanning several row blocks: real-valued sums are the same
    /// bits with any thread count, and equal the naive sums to rounding;
    /// quantised sums are exactly the naive ones.
    #[test]
    fn row_parallel_histograms_do_not_depend_on_the_thread_count(
        seed in any::<u64>(),
        keep_one_in in 1u64..3,
        threads in 2usize..5,
    ) {
        let n = 3 * BLOCK_ROWS + 123;
        let mix = |k: u64| {
            let z = (seed ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z ^ (z >> 29)
        };
        let cols: Vec<Vec<f64>> = (0..3u64)
            .map(|j| (0..n as u64).map(|i| (mix(i * 3 + j) % 40) as f64).collect())
            .collect();
        let x = matrix(&cols);
        let names: Vec<String> = (0..3).map(|j| format!("x{j}")).collect();
        let mappers = fit_mappers(&x, &names, &[false; 3], 32, 1, n).unwrap();
        let data = BinnedData::new(&x, &mappers);
        let gh: Vec<[f64; 2]> = (0..n as u64)
            .map(|i| [(mix(i) % 1000) as f64 / 997.0 - 0.5, 0.1 + (mix(i + 7) % 100) as f64 / 101.0])
            .collect();
        let packed: Vec<i64> = (0..n as u64)
            .map(|i| tenure_gbdt::hist::pack((mix(i) % 200) as i32 - 100, (mix(i + 7) % 50) as u32))
            .collect();
        let rows: Vec<u32> = (0..n as u32).filter(|&i| mix(u64::from(i) + 99).is_multiple_of(keep_one_in)).collect();
        prop_assume!(rows.len() > 2 * BLOCK_ROWS);
        let build = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
            let mut scratch = Scratch::default();
            let mut h = Histogram::zeros(3);
            let mut q = Histogram::zeros_quantized(3);
            pool.install(|| {
                h.build(&data, &rows, &gh, &mut scratch, t);
                q.build_quantized(&data, &rows, &packed, &mut scratch, t);
            });
            (h, q)
        };
        let (one, one_q) = build(1);
        let (many, many_q) = build(threads);
        for j in 0..3 {
            for b in 0..256 {
                prop_assert_eq!(one.feats[j][b][0].to_bits(), many.feats[j][b][0].to_bits());
                prop_assert_eq!(one.feats[j][b][1].to_bits(), many.feats[j][b][1].to_bits());
            }
            let mut naive = [[0.0f64; 2]; 256];
            let mut naive_q = [0i64; 256];
            for &i in &rows {
                let b = data.col(j)[i as usize] as usize;
                naive[b][0] += gh[i as usize][0];
                naive[b][1] += gh[i as usize][1];
                naive_q[b] += packed[i as usize];
            }
            prop_assert_eq!(&many_q.quant[j][..], &naive_q[..]);
            prop_assert_eq!(&one_q.quant[j][..], &naive_q[..]);
            for b in 0..256 {
                prop_assert!((many.feats[j][b][0] - naive[b][0]).abs() <= 1e-9 * (1.0 + naive[b][0].abs()));
                prop_assert!((many.feats[j][b][1] - naive[b][1]).abs() <= 1e-9 * (1.0 + naive[b][1].abs()));
            }
        }
    }

    /// The partition of a leaf's rows (parallel for large leaves) is the
    /// stable one.
    #[test]
    fn partition_is_stable(
        len in prop_oneof![0usize..2000, 2 * BLOCK_ROWS..3 * BLOCK_ROWS],
        modulus in 1u32..7,
    ) {
        let mut rows: Vec<u32> = (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003).collect();
        let goes_left = |i: u32| i.is_multiple_of(modulus);
        let (left, right): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&i| goes_left(i));
        let nl = tenure_gbdt::tree::partition(&mut rows, &mut Vec::new(), goes_left);
        prop_assert_eq!(nl, left.len());
        prop_assert_eq!(&rows[..nl], &left[..]);
        prop_assert_eq!(&rows[nl..], &right[..]);
    }

    /// The quantised categorical order compares `g / (h + smooth)` exactly:
    /// it agrees with the ratios wherever `f64` tells them apart, and it is
    /// a strict order, equal ratios going to the lower bin.
    #[test]
    fn categorical_order_compares_ratios_exactly(
        ga in -(1i64 << 31) + 1..1i64 << 31,
        gb in -(1i64 << 31) + 1..1i64 << 31,
        ha in 1i64..1 << 31,
        hb in 1i64..1 << 31,
        smooth in 0u32..1 << 30,
        k in 1i64..1000,
    ) {
        let ratio = |g: i64, h: i64| g as f64 / (h + i64::from(smooth)) as f64;
        let (ra, rb) = (ratio(ga, ha), ratio(gb, hb));
        let (a, b) = ((ga, ha, 1), (gb, hb, 2));
        if (ra - rb).abs() > 1e-9 * ra.abs().max(rb.abs()) {
            prop_assert_eq!(cat_before(a, b, smooth), ra < rb);
        }
        prop_assert!(!(cat_before(a, b, smooth) && cat_before(b, a, smooth)));
        prop_assert!(cat_before(a, b, smooth) || cat_before(b, a, smooth));
        // The same ratio, scaled: a tie, to the lower bin.
        let h = (hb + i64::from(smooth)) * k - i64::from(smooth);
        prop_assert!(cat_before((gb * k, h, 1), b, smooth) && !cat_before(b, (gb * k, h, 1), smooth));
    }

    /// On integer sums with unit scales, the quantised categorical scan
    /// (exact order, a GPU's twin) finds exactly the `f64` scan's split:
    /// one-vs-rest and sorted, with and without missing values.
    #[test]
    fn quantised_categorical_scan_is_the_f64_scan(
        n_codes in 1usize..40,
        cells in prop::collection::vec((-60i32..60, 0u32..40), 42),
        missing in prop::sample::select(vec![false, true]),
        max_cat_to_onehot in prop::sample::select(vec![1usize, 4, 64]),
        max_cat_threshold in prop::sample::select(vec![1usize, 3, 32]),
        cat_smooth in prop::sample::select(vec![0.0, 1.0, 10.0]),
        cat_l2 in prop::sample::select(vec![0.0, 10.0]),
        lambda_l2 in prop::sample::select(vec![0.0, 1.0]),
        min_data_in_leaf in 1usize..30,
        min_data_per_group in 1usize..20,
    ) {
        let p = GbdtParams::new()
            .with(|c| {
                c.max_cat_to_onehot = max_cat_to_onehot;
                c.max_cat_threshold = max_cat_threshold;
                c.cat_smooth = cat_smooth;
                c.cat_l2 = cat_l2;
                c.lambda_l2 = lambda_l2;
                c.min_data_in_leaf = min_data_in_leaf;
                c.min_data_per_group = min_data_per_group;
                c.min_sum_hessian_in_leaf = 0.0;
            })
            .check()
            .unwrap();
        // Bins 0 (missing) to n_codes + 1 (other); unit hessians, so the
        // estimated counts are the hessians.
        let mut quant: [Packed; 256] = [0; 256];
        let mut hist = [[0.0f64; 2]; 256];
        for (b, &(g, h)) in cells.iter().enumerate().take(n_codes + 2) {
            if b == 0 && !missing {
                continue;
            }
            quant[b] = pack(g, h);
            hist[b] = [f64::from(g), f64::from(h)];
        }
        let (tg, th) = hist.iter().fold((0.0, 0.0), |(g, h), e| (g + e[0], h + e[1]));
        let scan = LeafScan {
            params: &p,
            total: Sums { g: tg, h: th, count: th as usize },
            parent_gain: leaf_gain(tg, th, &p),
        };
        let mapper = BinMapper::Categorical {
            codes: (0..n_codes as u32).collect(),
            sorted: (0..n_codes as u32).map(|c| (c, c as u8 + 1)).collect(),
        };
        prop_assert_eq!(
            scan.categorical_quantized(0, &quant, n_codes, (1.0, 1.0)),
            scan.best(0, &hist, &mapper)
        );
    }

    /// The best numeric split equals an exhaustive search over thresholds
    /// and missing directions.
    #[test]
    fn split_finding_matches_exhaustive_search(
        bins in prop::collection::vec(0u8..12, 20..200),
        g in prop::collection::vec(-3i32..4, 200),
        lambda_l2 in 0.0f64..2.0,
        min_data in 1usize..8,
    ) {
        let n = bins.len();
        let p = GbdtParams::new()
            .with(|c| { c.lambda_l2 = lambda_l2; c.min_data_in_leaf = min_data; c.min_sum_hessian_in_leaf = 0.0; })
            .check()
            .unwrap();
        let mut hist = [[0.0f64; 2]; 256];
        let (mut tg, mut th) = (0.0, 0.0);
        for i in 0..n {
            // Unit hessians: estimated counts are exact.
            hist[bins[i] as usize][0] += f64::from(g[i]);
            hist[bins[i] as usize][1] += 1.0;
            tg += f64::from(g[i]);
            th += 1.0;
        }
        let mapper = BinMapper::Numeric { uppers: (1..=10).map(|u| u as f32).collect() };
        let scan = LeafScan { params: &p, total: Sums { g: tg, h: th, count: n }, parent_gain: leaf_gain(tg, th, &p) };
        let got = scan.best(0, &hist, &mapper);

        let mut best: Option<(f64, u8, bool)> = None;
        let has_missing = bins.contains(&0);
        // A split keeps at least one value bin on each side.
        for t in 1..11u8 {
            for missing_left in [false, true] {
                if missing_left && !has_missing { continue; }
                let (mut lg, mut lh) = (0.0, 0.0);
                for i in 0..n {
                    let left = if bins[i] == 0 { missing_left } else { bins[i] <= t };
                    if left { lg += f64::from(g[i]); lh += 1.0; }
                }
                let (rg, rh) = (tg - lg, th - lh);
                if (lh as usize) < min_data || (rh as usize) < min_data { continue; }
                let gain = lg * lg / (lh + lambda_l2) + rg * rg / (rh + lambda_l2) - tg * tg / (th + lambda_l2);
                if gain > 1e-12 && best.is_none_or(|(bg, _, _)| gain > bg + 1e-9) {
                    best = Some((gain, t, missing_left));
                }
            }
        }
        match (got, best) {
            (None, None) => {}
            (Some(s), Some((gain, _, _))) => {
                // Ties between thresholds may resolve either way; the gain
                // must be the optimum.
                prop_assert!((s.gain - gain).abs() < 1e-9, "{} vs {}", s.gain, gain);
            }
            (Some(s), None) => prop_assert!(s.gain <= 1e-9, "found a split with gain {}", s.gain),
            (None, Some((gain, t, _))) => prop_assert!(false, "missed gain {gain} at {t}"),
        }
    }
}

/// A hand-made leaf: the split, its gain and both sides' sums.
#[test]
fn depth_one_split_by_hand() {
    // Bins 1..=4 with gradients -2, -1, +1, +2 (two rows each), no missing.
    let mut hist = [[0.0f64; 2]; 256];
    for (b, g) in [(1, -2.0), (2, -1.0), (3, 1.0), (4, 2.0)] {
        hist[b] = [2.0 * g, 2.0];
    }
    let p = GbdtParams::new()
        .with(|c| {
            c.lambda_l2 = 1.0;
            c.min_data_in_leaf = 1;
        })
        .check()
        .unwrap();
    let total = Sums {
        g: 0.0,
        h: 8.0,
        count: 8,
    };
    let scan = LeafScan {
        params: &p,
        total,
        parent_gain: leaf_gain(0.0, 8.0, &p),
    };
    let mapper = BinMapper::Numeric {
        uppers: vec![1.0, 2.0, 3.0],
    };
    let s = scan.best(0, &hist, &mapper).unwrap();
    // Left = bins 1,2: G = -6, H = 4; right: G = 6, H = 4.
    // gain = 36/5 + 36/5 - 0 = 14.4.
    assert_eq!(s.rule, SplitRule::Le { bin: 2 });
    assert!((s.gain - 14.4).abs() < 1e-12);
    assert_eq!((s.left.g, s.left.h, s.left.count), (-6.0, 4.0, 4));
    assert_eq!((s.right.g, s.right.h, s.right.count), (6.0, 4.0, 4));
    // Leaf values: -G / (H + l2) = 6/5 and -6/5.
    assert!((tenure_gbdt::split::leaf_output(-6.0, 4.0, &p) - 1.2).abs() < 1e-12);
}

/// Missing values join the side whose gradients they resemble.
#[test]
fn missing_values_go_where_the_gain_says() {
    let mut hist = [[0.0f64; 2]; 256];
    hist[1] = [-4.0, 2.0];
    hist[2] = [4.0, 2.0];
    // Missing rows have positive gradients, like bin 2.
    hist[0] = [3.0, 2.0];
    let p = GbdtParams::new()
        .with(|c| c.min_data_in_leaf = 1)
        .check()
        .unwrap();
    let total = Sums {
        g: 3.0,
        h: 6.0,
        count: 6,
    };
    let scan = LeafScan {
        params: &p,
        total,
        parent_gain: leaf_gain(3.0, 6.0, &p),
    };
    let mapper = BinMapper::Numeric { uppers: vec![1.0] };
    let s = scan.best(0, &hist, &mapper).unwrap();
    assert!(!s.missing_left, "missing rows should go right with bin 2");
    hist[0] = [-3.0, 2.0];
    let total = Sums {
        g: -3.0,
        h: 6.0,
        count: 6,
    };
    let scan = LeafScan {
        params: &p,
        total,
        parent_gain: leaf_gain(-3.0, 6.0, &p),
    };
    let s = scan.best(0, &hist, &mapper).unwrap();
    assert!(s.missing_left, "missing rows should go left with bin 1");
}

/// Sorted-gradient categorical partition: the levels with negative mean
/// gradient go together.
#[test]
fn categorical_split_groups_levels_by_gradient() {
    let codes: Vec<f64> = (0..600).map(|i| f64::from(i % 6)).collect();
    let x = matrix(std::slice::from_ref(&codes));
    let mappers = fit_mappers(&x, &["c".into()], &[true], 255, 1, 1000).unwrap();
    let data = BinnedData::new(&x, &mappers);
    // Codes 1, 3, 4 have negative gradients.
    let gh: Vec<[f64; 2]> = codes
        .iter()
        .map(|&c| {
            [
                if [1.0, 3.0, 4.0].contains(&c) {
                    -1.0
                } else {
                    1.0
                },
                1.0,
            ]
        })
        .collect();
    let rows: Vec<u32> = (0..600).collect();
    let mut h = Histogram::zeros(1);
    h.build(&data, &rows, &gh, &mut Scratch::default(), 1);
    let p = GbdtParams::new()
        .with(|c| {
            c.min_data_in_leaf = 1;
            c.min_data_per_group = 1;
            c.cat_l2 = 0.0;
            c.cat_smooth = 0.0;
        })
        .check()
        .unwrap();
    let scan = LeafScan {
        params: &p,
        total: Sums {
            g: 0.0,
            h: 600.0,
            count: 600,
        },
        parent_gain: 0.0,
    };
    let s = best_split(&scan, &h, (1.0, 1.0), &mappers, &[0]).unwrap();
    let SplitRule::In { mask } = s.rule else {
        panic!("categorical rule")
    };
    let left: Vec<u32> = (1..=6u8)
        .filter(|&b| mask[0] >> b & 1 == 1)
        .map(|b| mappers[0].code(b).unwrap())
        .collect();
    let mut left = left;
    left.sort();
    let complement = left != vec![1, 3, 4];
    assert!(
        left == vec![1, 3, 4] || (complement && left == vec![0, 2, 5]),
        "{left:?}"
    );
}
