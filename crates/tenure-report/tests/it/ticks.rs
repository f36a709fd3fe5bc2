use proptest::prelude::*;
use tenure_report::{downsample, format_ticks, lttb, nice_ticks};

/// Whether `step` is 1, 2 or 5 times a power of ten.
/// `noise`: the absolute rounding error of ticks far from zero, which a step
/// measured as a difference of two ticks carries.
fn is_nice(step: f64, noise: f64) -> bool {
    let base = 10f64.powf(step.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|n| (step - n * base).abs() < 1e-4 * n * base + noise)
}

#[test]
fn ticks_for_common_ranges() {
    assert_eq!(
        nice_ticks(0.0, 1.0, 5),
        [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    );
    assert_eq!(
        format_ticks(&nice_ticks(0.0, 1.0, 5)),
        ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    );
    assert_eq!(
        format_ticks(&nice_ticks(0.47, 0.69, 5)),
        ["0.50", "0.55", "0.60", "0.65"]
    );
    assert_eq!(
        format_ticks(&nice_ticks(-3.0, 7.0, 5)),
        ["-2", "0", "2", "4", "6"]
    );
    assert_eq!(
        format_ticks(&nice_ticks(0.0, 5000.0, 5)),
        ["0", "1000", "2000", "3000", "4000", "5000"]
    );
    assert_eq!(nice_ticks(2.0, 2.0, 5), [2.0]);
    assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
    assert!(nice_ticks(1.0, 0.0, 5).is_empty());
}

proptest! {
    #[test]
    fn ticks_are_sane(
        lo in -1e6f64..1e6,
        span_exp in -6f64..6.0,
        target in 2usize..12,
    ) {
        let hi = lo + 10f64.powf(span_exp);
        prop_assume!(hi > lo);
        let ticks = nice_ticks(lo, hi, target);
        prop_assert!(ticks.len() >= 2, "{ticks:?}");
        prop_assert!(ticks.len() <= (target + 1).max(6), "{} ticks for target {target}", ticks.len());
        let step = ticks[1] - ticks[0];
        prop_assert!(is_nice(step, (lo.abs() + hi.abs()) * 4e-15), "step {step}");
        let tol = step * 1e-4 + (lo.abs() + hi.abs()) * 1e-15;
        for pair in ticks.windows(2) {
            prop_assert!(((pair[1] - pair[0]) - step).abs() <= tol, "uneven {ticks:?}");
        }
        prop_assert!(ticks[0] >= lo - tol && *ticks.last().unwrap() <= hi + tol, "{ticks:?} outside [{lo}, {hi}]");
        // Labels tell every tick apart and carry no float noise.
        let labels = format_ticks(&ticks);
        let mut unique = labels.clone();
        unique.dedup();
        prop_assert_eq!(unique.len(), labels.len(), "{:?}", labels);
        let max_decimals = (-(step.log10().floor())).max(0.0) as usize + 1;
        for (label, tick) in labels.iter().zip(&ticks) {
            let value: f64 = label.parse().unwrap();
            prop_assert!((value - tick).abs() <= step / 2.0, "{label} for {tick}");
            if !label.contains('e') {
                let decimals = label.split('.').nth(1).map_or(0, str::len);
                prop_assert!(decimals <= max_decimals, "{label}: noise for step {step}");
            }
        }
    }

    #[test]
    fn lttb_keeps_ends_and_order(
        ys in prop::collection::vec(-1e3f64..1e3, 3..400),
        threshold in 3usize..100,
    ) {
        let data: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        let out = lttb(&data, threshold);
        prop_assert_eq!(out.len(), threshold.min(data.len()));
        prop_assert_eq!(out[0], data[0]);
        prop_assert_eq!(*out.last().unwrap(), *data.last().unwrap());
        // A subsequence of the input: x strictly increasing, each point real.
        for pair in out.windows(2) {
            prop_assert!(pair[0].0 < pair[1].0);
        }
        for p in &out {
            prop_assert_eq!(data[p.0 as usize], *p);
        }
    }

    #[test]
    fn downsample_respects_gaps(
        ys in prop::collection::vec(prop_oneof![9 => -1e3f64..1e3, 1 => Just(f64::NAN)], 0..3000),
        max_points in 10usize..500,
    ) {
        let data: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        let out = downsample(&data, max_points);
        if data.len() <= max_points {
            prop_assert_eq!(out.len(), data.len());
        } else {
            let stretches = data.split(|p| p.1.is_nan()).filter(|s| !s.is_empty()).count();
            prop_assert!(out.len() <= max_points + 4 * stretches, "{} points", out.len());
            // Every finite stretch keeps both of its ends.
            for s in data.split(|p| p.1.is_nan()).filter(|s| !s.is_empty()) {
                prop_assert!(out.contains(&s[0]) && out.contains(&s[s.len() - 1]));
            }
            // Gaps stay gaps: no two consecutive output points straddle a NaN.
            for pair in out.windows(2) {
                if pair[0].0.is_finite() && pair[1].0.is_finite() {
                    let (a, b) = (pair[0].0 as usize, pair[1].0 as usize);
                    prop_assert!(data[a..=b].iter().all(|p| !p.1.is_nan()));
                }
            }
        }
    }
}

#[test]
fn lttb_keeps_a_lone_spike() {
    let mut data: Vec<(f64, f64)> = (0..10_000).map(|i| (f64::from(i), 0.0)).collect();
    data[6_543].1 = 100.0;
    let out = lttb(&data, 200);
    assert!(out.contains(&(6_543.0, 100.0)));
}
