//! The RFM summary: the published CDNOW summary reproduced from the sample
//! transactions, and the summary and holdout counts against a naive
//! per-customer computation.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tenure_data::io::{TransactionsSource, load};
use tenure_data::{
    CustomerLog, RawEvent, SECONDS_PER_DAY, TimeUnit, holdout_counts, parse_date, rfm_summary,
};

fn day(s: &str) -> i64 {
    parse_date(s).unwrap()
}

fn cdnow(file: &str) -> Option<PathBuf> {
    // CI clones the project with shared/ beside it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow")
        .join(file);
    if path.exists() {
        Some(path)
    } else {
        println!("skipping: {} not found", path.display());
        None
    }
}

fn cdnow_log(file: &str, id: &str) -> Option<CustomerLog> {
    let path = cdnow(file)?;
    let src = TransactionsSource {
        customer_id: id.into(),
        timestamp: "date".into(),
        amount: "dollar_value".into(),
        ..TransactionsSource::new(&path)
    };
    Some(load(&src, None).unwrap())
}

#[test]
fn cdnow_sample_reproduces_the_published_summary() {
    let (Some(log), Some(published)) = (
        cdnow_log("cdnow_sample.csv", "sample_id"),
        cdnow("cdnow_summary.csv"),
    ) else {
        return;
    };
    // Calibration 1997-01-01 .. 1997-09-30: the end is the start of 10-01.
    let summary = rfm_summary(&log, day("1997-10-01"), TimeUnit::Weeks);
    assert_eq!(summary.rows.len(), 2357);
    let ours: HashMap<&str, [f64; 4]> = summary
        .rows
        .iter()
        .map(|r| {
            let values = [r.frequency, r.recency, r.t, r.monetary_value];
            (r.customer_id.as_str(), values)
        })
        .collect();
    let text = std::fs::read_to_string(published).unwrap();
    let mut n = 0;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let got = ours[fields[0]];
        for (k, name) in ["frequency", "recency", "T", "monetary_value"]
            .iter()
            .enumerate()
        {
            let want: f64 = fields[k + 1].parse().unwrap();
            // The file is rounded to 2 decimals.
            assert!(
                (got[k] - want).abs() <= 0.005 + 1e-9,
                "customer {}: {name} {} vs {want}",
                fields[0],
                got[k]
            );
        }
        n += 1;
    }
    assert_eq!(n, 2357);
    let repeaters = summary.rows.iter().filter(|r| r.frequency > 0.0).count();
    assert_eq!(repeaters, 946);

    // The holdout period, to the end of the data (1998-06-30).
    let holdout = holdout_counts(&log, &summary, day("1998-07-01"));
    assert_eq!(holdout.len(), 2357);
    let calibration_spend: f64 = (0..log.n_customers())
        .flat_map(|i| {
            let t = log.times(i);
            let a = log.amounts(i);
            t.iter()
                .zip(a)
                .filter(|(t, _)| **t < day("1997-10-01"))
                .map(|(_, a)| *a)
        })
        .sum();
    let total: f64 = (0..log.n_customers())
        .flat_map(|i| log.amounts(i).to_vec())
        .sum();
    let holdout_spend: f64 = holdout.iter().map(|h| h.1).sum();
    assert!((calibration_spend + holdout_spend - total).abs() < 1e-6 * total);
    assert!(holdout.iter().all(|h| h.0 >= 0.0 && h.0.fract() == 0.0));
}

#[test]
fn cdnow_master_summarises_every_customer() {
    let Some(log) = cdnow_log("cdnow_master.csv", "customer_id") else {
        return;
    };
    let summary = rfm_summary(&log, day("1997-10-01"), TimeUnit::Weeks);
    assert_eq!(summary.rows.len(), 23_570);
    for r in &summary.rows {
        assert!(r.recency <= r.t && r.t > 0.0, "{r:?}");
        // Repeat purchase days come after the first: recency is 0 iff frequency is.
        assert_eq!(r.frequency == 0.0, r.recency == 0.0, "{r:?}");
    }
}

/// The summary by definition, one customer at a time: purchase days as a
/// sorted map from day to spend.
fn naive(
    events: &[(String, i64, f64)],
    end: i64,
    holdout_end: i64,
    unit: f64,
) -> BTreeMap<String, ([f64; 4], (f64, f64))> {
    let mut per: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for (id, t, a) in events {
        per.entry(id.clone()).or_default().push((*t, *a));
    }
    let last_day = (end - 1).div_euclid(SECONDS_PER_DAY);
    let mut out = BTreeMap::new();
    for (id, evs) in per {
        let mut cal: BTreeMap<i64, f64> = BTreeMap::new();
        let mut hold: BTreeMap<i64, f64> = BTreeMap::new();
        for (t, a) in evs {
            let d = t.div_euclid(SECONDS_PER_DAY);
            if t < end {
                *cal.entry(d).or_default() += a;
            } else if t < holdout_end {
                *hold.entry(d).or_default() += a;
            }
        }
        let Some((&first, _)) = cal.iter().next() else {
            continue;
        };
        let (&last, _) = cal.iter().next_back().unwrap();
        let x = cal.len() as f64 - 1.0;
        let repeat_spend: f64 = cal.iter().skip(1).map(|(_, a)| a).sum();
        let m = if x > 0.0 { repeat_spend / x } else { 0.0 };
        let holdout_days = hold.keys().filter(|d| **d != last).count() as f64;
        let holdout_spend: f64 = hold.values().sum();
        out.insert(
            id,
            (
                [
                    x,
                    (last - first) as f64 / unit,
                    (last_day - first) as f64 / unit,
                    m,
                ],
                (holdout_days, holdout_spend),
            ),
        );
    }
    out
}

proptest! {
    #[test]
    fn summary_matches_the_definition(
        raw in prop::collection::vec((0u8..6, 0i64..40 * 86_400, 1u32..10_000), 1..80),
        end_secs in 1i64..30 * 86_400,
        holdout_extra in 0i64..20 * 86_400,
        weeks in any::<bool>(),
    ) {
        let events: Vec<(String, i64, f64)> = raw
            .iter()
            .map(|(c, t, a)| (format!("c{c}"), *t, f64::from(*a) / 100.0))
            .collect();
        let log = CustomerLog::from_events(
            events.iter().map(|(c, t, a)| RawEvent::new(c.clone(), *t, *a)).collect(),
            None,
        )
        .unwrap();
        let unit = if weeks { TimeUnit::Weeks } else { TimeUnit::Days };
        let summary = rfm_summary(&log, end_secs, unit);
        let holdout_end = end_secs + holdout_extra;
        let holdout = holdout_counts(&log, &summary, holdout_end);
        let want = naive(&events, end_secs, holdout_end, unit.days());
        prop_assert_eq!(summary.rows.len(), want.len());
        for (row, h) in summary.rows.iter().zip(&holdout) {
            let (w, wh) = &want[&row.customer_id];
            let got = [row.frequency, row.recency, row.t, row.monetary_value];
            for k in 0..4 {
                prop_assert!((got[k] - w[k]).abs() <= 1e-9 * w[k].abs().max(1.0), "{:?} vs {:?}", got, w);
            }
            prop_assert_eq!(h.0, wh.0);
            prop_assert!((h.1 - wh.1).abs() <= 1e-9 * wh.1.max(1.0));
            prop_assert!(row.recency <= row.t);
        }
    }
}

#[test]
fn same_day_purchases_are_one_purchase() {
    let log = CustomerLog::from_events(
        vec![
            RawEvent::new("a", day("2024-01-01") + 3600, 10.0),
            RawEvent::new("a", day("2024-01-01") + 7200, 5.0),
            RawEvent::new("a", day("2024-01-08"), 20.0),
            RawEvent::new("a", day("2024-01-08") + 60, 4.0),
            RawEvent::new("a", day("2024-01-15"), 30.0),
            RawEvent::new("b", day("2024-01-10"), 7.0),
            RawEvent::new("c", day("2024-02-01"), 9.0), // first purchase after the end
        ],
        None,
    )
    .unwrap();
    let s = rfm_summary(&log, day("2024-01-15"), TimeUnit::Days);
    assert_eq!(s.rows.len(), 2);
    let a = &s.rows[0];
    assert_eq!(
        (a.frequency, a.recency, a.t, a.monetary_value),
        (1.0, 7.0, 13.0, 24.0)
    );
    let b = &s.rows[1];
    assert_eq!(
        (b.frequency, b.recency, b.t, b.monetary_value),
        (0.0, 0.0, 4.0, 0.0)
    );
    let h = holdout_counts(&log, &s, day("2024-03-01"));
    assert_eq!(h, vec![(1.0, 30.0), (0.0, 0.0)]);
}
