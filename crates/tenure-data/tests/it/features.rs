use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use tenure_core::{Target, Task};
use tenure_data::{
    ChurnDefinition, CustomerLog, DataError, FeatureConfig, LabelConfig, RawCustomer, RawCustomers,
    RawEvent, SECONDS_PER_DAY, SnapshotBuilder, SurvivalEvent, Timestamp, parse_date,
};

const D: i64 = SECONDS_PER_DAY;
const CATS: [&str; 5] = ["a", "b", "c", "d", "zz_new"];
const PLANS: [&str; 3] = ["basic", "plus", "pro"];

fn day(s: &str) -> Timestamp {
    parse_date(s).unwrap()
}

fn config_key(err: DataError) -> String {
    match err {
        DataError::Config { key, .. } => key,
        other => panic!("expected a config error, got {other}"),
    }
}

/// An event relative to the cutoff: `dt < 0` is the past.
#[derive(Debug, Clone)]
struct Ev {
    cust: usize,
    dt: i64,
    amount: f64,
    cat: Option<usize>,
}

#[derive(Debug, Clone)]
struct Cust {
    signup: Option<i64>,
    end: Option<i64>,
    score: Option<f64>,
    plan: Option<usize>,
    region: Option<usize>,
}

#[derive(Debug, Clone)]
struct World {
    /// Seconds past midnight of the cutoff, so that cutoffs fall mid-day too.
    cutoff_offset: i64,
    events: Vec<Ev>,
    customers: Option<(Vec<Cust>, bool)>,
    max_inactive_days: Option<u32>,
    earliest_back_days: i64,
}

impl World {
    fn cutoff(&self) -> Timestamp {
        day("2024-06-01") + self.cutoff_offset
    }

    fn raw_events(&self, events: &[Ev]) -> Vec<RawEvent> {
        let c = self.cutoff();
        events
            .iter()
            .map(|e| {
                let ev = RawEvent::new(format!("c{}", e.cust), c + e.dt, e.amount);
                match e.cat {
                    Some(k) => ev.with_category(CATS[k]),
                    None => ev,
                }
            })
            .collect()
    }

    fn raw_customers(&self) -> Option<RawCustomers> {
        let c = self.cutoff();
        self.customers.as_ref().map(|(rows, has_end)| RawCustomers {
            numeric_names: vec!["score".into()],
            categorical_names: vec!["plan".into(), "region".into()],
            has_end: *has_end,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| RawCustomer {
                    customer_id: format!("c{i}"),
                    signup: r.signup.map(|s| c + s),
                    end: if *has_end { r.end.map(|s| c + s) } else { None },
                    numeric: vec![r.score.unwrap_or(f64::NAN)],
                    categorical: vec![
                        r.plan.map(|p| PLANS[p].to_string()),
                        r.region.map(|g| format!("r{g:02}")),
                    ],
                })
                .collect(),
        })
    }

    fn log(&self, events: &[Ev]) -> CustomerLog {
        CustomerLog::from_events(self.raw_events(events), self.raw_customers())
            .unwrap()
            .with_category_name("channel")
    }

    fn labels(&self) -> LabelConfig {
        LabelConfig {
            observation_end: Some("2030-01-01".into()),
            max_inactive_days: self.max_inactive_days,
            ..LabelConfig::new(Task::Churn, 30)
        }
    }
}

fn features() -> FeatureConfig {
    FeatureConfig {
        windows_days: vec![7, 30, 90],
        trends: vec![[7, 30], [14, 60]],
        category_top_k: 2,
        max_onehot_levels: 4,
        ..FeatureConfig::default()
    }
}

const N_CUST: usize = 6;

fn ev_strategy(customers: usize, days: std::ops::Range<i64>) -> impl Strategy<Value = Ev> {
    (
        0..customers,
        days,
        prop_oneof![Just(0i64), Just(3600), Just(D - 1), 0..D],
        prop_oneof![Just(0.0), Just(10.0), 0.0..500.0f64],
        prop::option::weighted(0.9, 0..4usize),
    )
        .prop_map(|(cust, d, s, amount, cat)| Ev {
            cust,
            dt: d * D + s,
            amount,
            cat,
        })
}

fn cust_strategy() -> impl Strategy<Value = Cust> {
    let rel = || prop::option::of((-400i64..200).prop_map(|d| d * D));
    (
        rel(),
        rel(),
        prop::option::of(-5.0..5.0f64),
        prop::option::of(0..PLANS.len()),
        prop::option::of(0..12usize),
    )
        .prop_map(|(signup, end, score, plan, region)| Cust {
            signup,
            end,
            score,
            plan,
            region,
        })
}

fn world_strategy() -> impl Strategy<Value = World> {
    (
        0..D,
        prop::collection::vec(ev_strategy(N_CUST, -400..150), 0..60),
        prop::option::of((
            prop::collection::vec(cust_strategy(), N_CUST..N_CUST + 2),
            any::<bool>(),
        )),
        prop::option::of(1u32..200),
        0i64..120,
    )
        .prop_map(
            |(cutoff_offset, events, customers, max_inactive_days, earliest_back_days)| World {
                cutoff_offset,
                events,
                customers,
                max_inactive_days,
                earliest_back_days,
            },
        )
}

/// What may happen to the future of a log: each existing event at or after
/// the cutoff is kept (perhaps moved later or re-priced) or deleted, and new
/// events arrive, some of new customers and new category levels.
#[derive(Debug, Clone)]
struct FutureEdit {
    edits: Vec<(bool, i64, f64, Option<usize>)>,
    added: Vec<Ev>,
}

fn future_edit_strategy() -> impl Strategy<Value = FutureEdit> {
    (
        prop::collection::vec(
            (
                any::<bool>(),
                0i64..30 * D,
                0.0..100.0f64,
                prop::option::of(0..CATS.len()),
            ),
            60,
        ),
        prop::collection::vec(
            ev_strategy(N_CUST + 3, 0..200).prop_flat_map(|e| {
                prop::option::of(0..CATS.len()).prop_map(move |cat| Ev { cat, ..e.clone() })
            }),
            0..20,
        ),
    )
        .prop_map(|(edits, added)| FutureEdit { edits, added })
}

fn apply(events: &[Ev], edit: &FutureEdit) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut k = 0;
    for e in events {
        if e.dt < 0 {
            out.push(e.clone());
            continue;
        }
        let (keep, shift, amount, cat) = edit.edits[k % edit.edits.len()];
        k += 1;
        if keep {
            out.push(Ev {
                dt: e.dt + shift,
                amount,
                cat,
                ..e.clone()
            });
        }
    }
    out.extend(edit.added.iter().cloned());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The heart of the product: nothing at or after the cutoff reaches a feature.
    #[test]
    fn features_never_see_the_future(world in world_strategy(), edit in future_edit_strategy()) {
        let c = world.cutoff();
        let earliest = c - world.earliest_back_days * D;
        let before = world.log(&world.events);
        let after = world.log(&apply(&world.events, &edit));
        let labels = world.labels();
        let b1 = SnapshotBuilder::new(&before, &features(), &labels, earliest).unwrap();
        let b2 = SnapshotBuilder::new(&after, &features(), &labels, earliest).unwrap();
        prop_assert_eq!(b1.feature_names(), b2.feature_names());
        let (ids1, x1, h1) = b1.features_at(c).unwrap();
        let (ids2, x2, h2) = b2.features_at(c).unwrap();
        prop_assert_eq!(ids1, ids2);
        prop_assert_eq!((x1.n_rows(), x1.n_cols()), (x2.n_rows(), x2.n_cols()));
        let bits = |m: &tenure_core::Matrix| m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&x1), bits(&x2));
        prop_assert_eq!(h1, h2);
    }

    #[test]
    fn features_match_a_naive_reimplementation(world in world_strategy()) {
        let c = world.cutoff();
        let earliest = c - world.earliest_back_days * D;
        let log = world.log(&world.events);
        let builder = SnapshotBuilder::new(&log, &features(), &world.labels(), earliest).unwrap();
        let (ids, x, high) = builder.features_at(c).unwrap();
        let expected = naive_features(&world, earliest);

        prop_assert_eq!(&ids, &expected.keys().cloned().collect::<Vec<_>>());
        let names: BTreeSet<&String> = builder.feature_names().iter().collect();
        if let Some(first) = expected.values().next() {
            let want: BTreeSet<&String> = first.keys().collect();
            prop_assert_eq!(&names, &want);
        }
        for (r, id) in ids.iter().enumerate() {
            for (col, name) in builder.feature_names().iter().enumerate() {
                let got = x.get(r, col);
                let want = expected[id][name];
                prop_assert!(close(got, want), "{} of {}: got {}, want {}", name, id, got, want);
            }
        }

        // Regions: one-hot with few levels, else handed over as codes.
        if let Some((rows, _)) = &world.customers {
            let levels: BTreeSet<usize> = rows.iter().filter_map(|r| r.region).collect();
            let te = high.iter().find(|h| h.name == "attr_region_te");
            prop_assert_eq!(te.is_some(), levels.len() > 4);
            prop_assert!(high.iter().all(|h| h.name != "attr_plan_te"));
            if let Some(te) = te {
                prop_assert_eq!(te.n_levels, levels.len());
                let rank: Vec<usize> = levels.iter().copied().collect();
                for (r, id) in ids.iter().enumerate() {
                    let i: usize = id[1..].parse().unwrap();
                    let want = rows.get(i).and_then(|c| c.region)
                        .map(|g| rank.iter().position(|&l| l == g).unwrap() as u32);
                    prop_assert_eq!(te.codes[r], want);
                }
            }
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Expected features by customer id, computed the slow, obvious way from the
/// raw events.
fn naive_features(world: &World, earliest: Timestamp) -> BTreeMap<String, HashMap<String, f64>> {
    let c = world.cutoff();
    let cfg = features();
    let events = world.raw_events(&world.events);
    let customers = world.raw_customers();
    let days = |s: i64| s as f64 / D as f64;

    let mut ids: BTreeSet<String> = events.iter().map(|e| e.customer_id.clone()).collect();
    if let Some(t) = &customers {
        ids.extend(t.rows.iter().map(|r| r.customer_id.clone()));
    }

    // Category columns: top-k names by count before `earliest`, ties by name.
    let mut cat_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e.time < earliest) {
        if let Some(k) = &e.category {
            *cat_counts.entry(k).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, usize)> = cat_counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<&str> = ranked
        .iter()
        .take(cfg.category_top_k)
        .map(|r| r.0)
        .collect();
    let has_category = !top.is_empty();

    let mut out = BTreeMap::new();
    for id in ids {
        let row = customers
            .as_ref()
            .and_then(|t| t.rows.iter().find(|r| r.customer_id == id));
        let mut mine: Vec<&RawEvent> = events.iter().filter(|e| e.customer_id == id).collect();
        mine.sort_by_key(|e| e.time); // stable, like the log
        let past: Vec<&RawEvent> = mine.iter().copied().filter(|e| e.time < c).collect();

        let first_any = mine.iter().map(|e| e.time).min();
        let entry = match (row.and_then(|r| r.signup), first_any) {
            (Some(s), Some(f)) => s.min(f),
            (s, f) => match s.or(f) {
                Some(e) => e,
                None => continue,
            },
        };
        if entry >= c || row.and_then(|r| r.end).is_some_and(|e| e < c) {
            continue;
        }
        let last = past.iter().map(|e| e.time).max().unwrap_or(entry);
        if world
            .max_inactive_days
            .is_some_and(|m| c - last > i64::from(m) * D)
        {
            continue;
        }

        let mut f: HashMap<String, f64> = HashMap::new();
        f.insert("recency_days".into(), days(c - last));
        f.insert("tenure_days".into(), days(c - entry));
        let stats = |from: Timestamp| {
            let sel: Vec<f64> = past
                .iter()
                .filter(|e| e.time >= from)
                .map(|e| e.amount)
                .collect();
            let sum: f64 = sel.iter().sum();
            let mean = if sel.is_empty() {
                f64::NAN
            } else {
                sum / sel.len() as f64
            };
            (sel.len() as f64, sum, mean)
        };
        let (n, s, m) = stats(i64::MIN);
        f.insert("frequency_all".into(), n);
        f.insert("monetary_sum_all".into(), s);
        f.insert("monetary_mean_all".into(), m);
        for w in &cfg.windows_days {
            let (n, s, m) = stats(c - i64::from(*w) * D);
            f.insert(format!("frequency_{w}d"), n);
            f.insert(format!("monetary_sum_{w}d"), s);
            f.insert(format!("monetary_mean_{w}d"), m);
        }

        let active: BTreeSet<i64> = past.iter().map(|e| e.time.div_euclid(D)).collect();
        let active: Vec<i64> = active.into_iter().collect();
        let gaps: Vec<f64> = active.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let gap_mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let gap_var = gaps.iter().map(|g| (g - gap_mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        f.insert("active_days_all".into(), active.len() as f64);
        f.insert(
            "ipt_mean_days".into(),
            if gaps.is_empty() { f64::NAN } else { gap_mean },
        );
        f.insert(
            "ipt_std_days".into(),
            if gaps.len() < 2 {
                f64::NAN
            } else {
                gap_var.sqrt()
            },
        );
        for [sh, lo] in &cfg.trends {
            let fs = stats(c - i64::from(*sh) * D).0;
            let fl = stats(c - i64::from(*lo) * D).0;
            let v = if fl == 0.0 {
                f64::NAN
            } else {
                (fs / f64::from(*sh)) / (fl / f64::from(*lo))
            };
            f.insert(format!("trend_{sh}d_{lo}d"), v);
        }

        if has_category {
            for k in &top {
                let n = past
                    .iter()
                    .filter(|e| e.category.as_deref() == Some(*k))
                    .count();
                f.insert(format!("channel_count_{k}"), n as f64);
            }
            let other = past
                .iter()
                .filter(|e| e.category.as_deref().is_none_or(|k| !top.contains(&k)))
                .count();
            f.insert("channel_count_other".into(), other as f64);
        }

        if let Some(t) = &customers {
            f.insert("attr_score".into(), row.map_or(f64::NAN, |r| r.numeric[0]));
            let mut levels: Vec<&String> = t
                .rows
                .iter()
                .filter_map(|r| r.categorical[0].as_ref())
                .collect();
            levels.sort();
            levels.dedup();
            for level in levels {
                let hit = row.is_some_and(|r| r.categorical[0].as_ref() == Some(level));
                f.insert(format!("attr_plan={level}"), f64::from(u8::from(hit)));
            }
            let regions: BTreeSet<&String> = t
                .rows
                .iter()
                .filter_map(|r| r.categorical[1].as_ref())
                .collect();
            if regions.len() <= cfg.max_onehot_levels {
                for level in regions {
                    let hit = row.is_some_and(|r| r.categorical[1].as_ref() == Some(level));
                    f.insert(format!("attr_region={level}"), f64::from(u8::from(hit)));
                }
            }
        }
        out.insert(id, f);
    }
    out
}

// ---- hand-computed examples -------------------------------------------------

fn ev(id: &str, date: &str, amount: f64) -> RawEvent {
    RawEvent::new(id, day(date), amount)
}

fn customer(id: &str, signup: Option<&str>, end: Option<&str>) -> RawCustomer {
    RawCustomer {
        customer_id: id.into(),
        signup: signup.map(day),
        end: end.map(day),
        ..RawCustomer::default()
    }
}

fn table(rows: Vec<RawCustomer>, has_end: bool) -> RawCustomers {
    RawCustomers {
        rows,
        has_end,
        ..RawCustomers::default()
    }
}

fn column(snap_names: &[String], x: &tenure_core::Matrix, name: &str) -> Vec<f64> {
    let col = snap_names.iter().position(|n| n == name).unwrap();
    x.column(col).collect()
}

/// A small shop: `a` buys regularly, `b` stopped, `c` arrives after the cutoff.
fn shop() -> CustomerLog {
    CustomerLog::from_events(
        vec![
            ev("a", "2024-01-01", 10.0),
            ev("a", "2024-01-11", 20.0),
            ev("a", "2024-01-31", 30.0),
            ev("a", "2024-02-20", 40.0),
            ev("b", "2023-12-01", 100.0),
            ev("c", "2024-02-05", 5.0),
            ev("a", "2024-03-20", 1.0),
            ev("z", "2024-06-30", 1.0),
        ],
        None,
    )
    .unwrap()
}

#[test]
fn hand_computed_features() {
    let log = shop();
    let cutoff = day("2024-02-01");
    let labels = LabelConfig::new(Task::Clv, 30);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(snap.customer_ids, ["a", "b"]);
    let names = snap.dataset.feature_names();
    let x = snap.dataset.x();
    let col = |n: &str| column(names, x, n);
    assert_eq!(col("recency_days"), [1.0, 62.0]);
    assert_eq!(col("tenure_days"), [31.0, 62.0]);
    assert_eq!(col("frequency_all"), [3.0, 1.0]);
    assert_eq!(col("monetary_sum_all"), [60.0, 100.0]);
    assert_eq!(col("monetary_mean_all"), [20.0, 100.0]);
    assert_eq!(col("frequency_7d"), [1.0, 0.0]);
    assert_eq!(col("monetary_sum_7d"), [30.0, 0.0]);
    let mean_7d = col("monetary_mean_7d");
    assert_eq!(mean_7d[0], 30.0);
    assert!(mean_7d[1].is_nan());
    // The 30-day window starts on 2024-01-02: it includes the 11th, not the 1st.
    assert_eq!(col("frequency_30d"), [2.0, 0.0]);
    assert_eq!(col("active_days_all"), [3.0, 1.0]);
    // Gaps of 10 and 20 days.
    assert_eq!(col("ipt_mean_days")[0], 15.0);
    assert_eq!(col("ipt_std_days")[0], 5.0);
    assert!(col("ipt_mean_days")[1].is_nan());
    // (1 / 7) / (2 / 30)
    assert!((col("trend_7d_30d")[0] - 30.0 / 14.0).abs() < 1e-12);
    assert!(col("trend_7d_30d")[1].is_nan());
    // Spend in [Feb 1, Mar 2): only a's 40.
    assert_eq!(snap.dataset.target(), &Target::Continuous(vec![40.0, 0.0]));
}

#[test]
fn inactivity_churn_labels() {
    let log = shop();
    let cutoff = day("2024-02-01");
    let labels = LabelConfig::new(Task::Churn, 30);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(snap.dataset.target(), &Target::Binary(vec![0.0, 1.0]));
    // a's next purchase (Feb 20) falls outside a 10-day horizon.
    let labels = LabelConfig::new(Task::Churn, 10);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(snap.dataset.target(), &Target::Binary(vec![1.0, 1.0]));
}

#[test]
fn next_purchase_survival_labels() {
    let log = shop();
    let cutoff = day("2024-02-01");
    let labels = LabelConfig::new(Task::Survival, 30);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(
        snap.dataset.target(),
        &Target::Survival {
            time: vec![19.0, 30.0],
            event: vec![true, false],
        }
    );
}

/// A subscription business: signup and cancel dates in the customers table.
fn subscriptions() -> CustomerLog {
    CustomerLog::from_events(
        vec![
            ev("a", "2024-01-05", 10.0),
            ev("b", "2024-01-05", 10.0),
            ev("b", "2024-04-10", 10.0),
            ev("e", "2024-01-20", 10.0),
            ev("f", "2024-06-01", 10.0),
        ],
        Some(table(
            vec![
                customer("a", Some("2023-06-01"), Some("2024-02-11")), // cancels in the horizon
                customer("b", Some("2023-06-01"), None),               // stays
                customer("c", Some("2024-02-01"), None),               // signs up at the cutoff
                customer("d", Some("2023-01-01"), Some("2024-01-31")), // gone before the cutoff
                customer("e", None, Some("2024-05-01")),               // entered by purchase
                customer("f", Some("2023-12-01"), Some("2024-02-01")), // cancels at the cutoff
            ],
            true,
        )),
    )
    .unwrap()
}

#[test]
fn contractual_eligibility_and_cancel_labels() {
    let log = subscriptions();
    let cutoff = day("2024-02-01");
    let labels = LabelConfig::new(Task::Churn, 30);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(snap.customer_ids, ["a", "b", "e", "f"]);
    assert_eq!(
        snap.dataset.target(),
        &Target::Binary(vec![1.0, 0.0, 0.0, 1.0])
    );
    let names = snap.dataset.feature_names();
    // No purchase before the cutoff: recency counts from entry (signup).
    assert_eq!(column(names, snap.dataset.x(), "tenure_days")[3], 62.0);
    assert_eq!(column(names, snap.dataset.x(), "recency_days")[3], 62.0);
    assert_eq!(column(names, snap.dataset.x(), "frequency_all")[3], 0.0);
    assert!(column(names, snap.dataset.x(), "monetary_mean_all")[3].is_nan());
    // `e` has no signup date: entry is the first purchase.
    assert_eq!(column(names, snap.dataset.x(), "tenure_days")[2], 12.0);

    let labels = LabelConfig::new(Task::Survival, 30);
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(
        snap.dataset.target(),
        &Target::Survival {
            time: vec![10.0, 30.0, 30.0, 0.0],
            event: vec![true, false, false, true],
        }
    );

    // Inactivity churn on the same table, when asked for explicitly.
    let labels = LabelConfig {
        churn: ChurnDefinition::Inactivity,
        ..LabelConfig::new(Task::Churn, 30)
    };
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(
        snap.dataset.target(),
        &Target::Binary(vec![1.0, 1.0, 1.0, 1.0])
    );
}

#[test]
fn survival_labels_time_cancels_or_next_purchases() {
    let log = subscriptions();
    let cutoff = day("2024-03-01");
    let labels = |event| LabelConfig {
        survival_event: event,
        observation_end: Some("2024-12-31".into()),
        ..LabelConfig::new(Task::Survival, 120)
    };
    let builder =
        SnapshotBuilder::new(&log, &features(), &labels(SurvivalEvent::Auto), cutoff).unwrap();
    let snap = builder.build(cutoff).unwrap();
    // Still subscribed on Mar 1: b, c (signed up Feb 1) and e (cancels May 1).
    assert_eq!(snap.customer_ids, ["b", "c", "e"]);
    assert_eq!(
        snap.dataset.target(),
        &Target::Survival {
            time: vec![120.0, 120.0, 61.0],
            event: vec![false, false, true],
        }
    );
    let builder = SnapshotBuilder::new(
        &log,
        &features(),
        &labels(SurvivalEvent::NextPurchase),
        cutoff,
    )
    .unwrap();
    let snap = builder.build(cutoff).unwrap();
    assert_eq!(
        snap.dataset.target(),
        &Target::Survival {
            time: vec![40.0, 120.0, 120.0],
            event: vec![true, false, false],
        }
    );
}

#[test]
fn customers_entering_after_the_cutoff_are_left_out() {
    let log = shop();
    let labels = LabelConfig::new(Task::Churn, 30);
    let cutoff = day("2024-02-05");
    let builder = SnapshotBuilder::new(&log, &features(), &labels, cutoff).unwrap();
    // `c`'s first purchase is exactly at the cutoff: not yet a customer.
    let (ids, _, _) = builder.features_at(cutoff).unwrap();
    assert_eq!(ids, ["a", "b"]);
    let (ids, _, _) = builder.features_at(cutoff + 1).unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn max_inactive_days_drops_lapsed_customers() {
    let log = shop();
    let cutoff = day("2024-02-01");
    let labels = |m| LabelConfig {
        max_inactive_days: Some(m),
        ..LabelConfig::new(Task::Churn, 30)
    };
    // b last bought 62 days before the cutoff.
    let builder = SnapshotBuilder::new(&log, &features(), &labels(61), cutoff).unwrap();
    assert_eq!(builder.features_at(cutoff).unwrap().0, ["a"]);
    let builder = SnapshotBuilder::new(&log, &features(), &labels(62), cutoff).unwrap();
    assert_eq!(builder.features_at(cutoff).unwrap().0, ["a", "b"]);
}

#[test]
fn unobserved_label_windows_and_early_cutoffs_are_refused() {
    let log = shop();
    let labels = LabelConfig::new(Task::Churn, 30);
    let earliest = day("2024-02-01");
    let builder = SnapshotBuilder::new(&log, &features(), &labels, earliest).unwrap();
    // The last event is on 2024-06-30: observed until midnight after it.
    assert_eq!(builder.observation_end(), day("2024-07-01"));
    assert!(builder.build(day("2024-06-01")).is_ok());
    let err = builder.build(day("2024-06-02")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("2024-06-02") && msg.contains("2024-07-01"),
        "{msg}"
    );
    assert_eq!(config_key(err), "cv");
    // Features alone need no label window.
    assert!(builder.features_at(day("2024-06-30")).is_ok());

    let err = builder.build(day("2024-01-31")).unwrap_err();
    assert!(err.to_string().contains("2024-01-31"), "{err}");
    assert_eq!(config_key(err), "cv");
    assert!(builder.features_at(day("2024-01-31")).is_err());
}

#[test]
fn category_columns_are_fixed_before_the_earliest_cutoff() {
    let log = CustomerLog::from_events(
        vec![
            ev("a", "2024-01-01", 1.0).with_category("web"),
            ev("a", "2024-01-02", 1.0).with_category("web"),
            ev("a", "2024-01-03", 1.0).with_category("store"),
            ev("b", "2024-01-04", 1.0).with_category("app"),
            ev("b", "2024-01-05", 1.0).with_category("phone"),
            ev("b", "2024-03-01", 1.0).with_category("phone"),
            ev("b", "2024-03-02", 1.0).with_category("phone"),
        ],
        None,
    )
    .unwrap()
    .with_category_name("channel");
    let cfg = FeatureConfig {
        category_top_k: 2,
        ..FeatureConfig::default()
    };
    let labels = LabelConfig::new(Task::Clv, 10);
    let builder = SnapshotBuilder::new(&log, &cfg, &labels, day("2024-02-01")).unwrap();
    let cats: Vec<&String> = builder
        .feature_names()
        .iter()
        .filter(|n| n.starts_with("channel_count_"))
        .collect();
    // web (2), then app (1, first by name among the ties): phone's later
    // purchases do not promote it.
    assert_eq!(
        cats,
        [
            "channel_count_web",
            "channel_count_app",
            "channel_count_other"
        ]
    );
    let (_, x, _) = builder.features_at(day("2024-03-05")).unwrap();
    let names = builder.feature_names();
    assert_eq!(column(names, &x, "channel_count_web"), [2.0, 0.0]);
    assert_eq!(column(names, &x, "channel_count_app"), [0.0, 1.0]);
    assert_eq!(column(names, &x, "channel_count_other"), [1.0, 3.0]);
}

#[test]
fn static_attributes_become_columns_or_codes() {
    let regions = ["n", "s", "e", "w", "c"];
    let rows = regions
        .iter()
        .enumerate()
        .map(|(i, r)| RawCustomer {
            customer_id: format!("c{i}"),
            signup: Some(day("2024-01-01")),
            end: None,
            numeric: vec![if i == 0 { f64::NAN } else { i as f64 }],
            categorical: vec![
                (i % 2 == 0).then(|| "gold".to_string()),
                Some(r.to_string()),
            ],
        })
        .collect();
    let customers = RawCustomers {
        numeric_names: vec!["age".into()],
        categorical_names: vec!["tier".into(), "region".into()],
        rows,
        has_end: false,
    };
    let log = CustomerLog::from_events(vec![ev("c1", "2024-02-01", 3.0)], Some(customers)).unwrap();
    let cfg = FeatureConfig {
        max_onehot_levels: 4,
        ..FeatureConfig::default()
    };
    let labels = LabelConfig::new(Task::Churn, 5);
    let cutoff = day("2024-01-15");
    let builder = SnapshotBuilder::new(&log, &cfg, &labels, cutoff).unwrap();
    let names = builder.feature_names();
    assert!(names.iter().all(|n| !n.starts_with("attr_region")));
    let (ids, x, high) = builder.features_at(cutoff).unwrap();
    assert_eq!(ids, ["c0", "c1", "c2", "c3", "c4"]);
    let age = column(names, &x, "attr_age");
    assert!(age[0].is_nan());
    assert_eq!(age[1..], [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(
        column(names, &x, "attr_tier=gold"),
        [1.0, 0.0, 1.0, 0.0, 1.0]
    );
    assert_eq!(high.len(), 1);
    assert_eq!(high[0].name, "attr_region_te");
    assert_eq!(high[0].n_levels, 5);
    // Levels are sorted: c, e, n, s, w.
    assert_eq!(high[0].codes, [Some(2), Some(3), Some(1), Some(4), Some(0)]);
}

#[test]
fn configs_are_validated_with_their_keys() {
    let bad = [
        (
            FeatureConfig {
                windows_days: vec![30, 0],
                ..FeatureConfig::default()
            },
            "features.windows_days",
        ),
        (
            FeatureConfig {
                windows_days: vec![30, 30],
                ..FeatureConfig::default()
            },
            "features.windows_days",
        ),
        (
            FeatureConfig {
                trends: vec![[90, 30]],
                ..FeatureConfig::default()
            },
            "features.trends",
        ),
        (
            FeatureConfig {
                category_top_k: 0,
                ..FeatureConfig::default()
            },
            "features.category_top_k",
        ),
        (
            FeatureConfig {
                target_encoding_folds: 1,
                ..FeatureConfig::default()
            },
            "features.target_encoding_folds",
        ),
        (
            FeatureConfig {
                target_encoding_smoothing: -1.0,
                ..FeatureConfig::default()
            },
            "features.target_encoding_smoothing",
        ),
    ];
    for (cfg, key) in bad {
        let err = cfg.validate().unwrap_err();
        assert!(err.to_string().contains(key), "{err}");
        assert_eq!(config_key(err), key);
    }
    assert!(FeatureConfig::default().validate().is_ok());

    let labels = LabelConfig::new(Task::Churn, 0);
    assert_eq!(
        config_key(labels.validate().unwrap_err()),
        "labels.horizon_days"
    );
    let labels = LabelConfig {
        observation_end: Some("soon".into()),
        ..LabelConfig::new(Task::Churn, 30)
    };
    let err = labels.validate().unwrap_err();
    assert!(err.to_string().contains("`soon`"), "{err}");
    assert_eq!(config_key(err), "labels.observation_end");

    // Cancel labels need an end column.
    let labels = LabelConfig {
        churn: ChurnDefinition::Cancel,
        ..LabelConfig::new(Task::Churn, 30)
    };
    let err = SnapshotBuilder::new(&shop(), &features(), &labels, day("2024-02-01")).unwrap_err();
    assert_eq!(config_key(err), "labels.churn");
}

#[test]
fn feature_names_follow_the_documented_scheme() {
    let log = shop();
    let builder = SnapshotBuilder::new(
        &log,
        &FeatureConfig::default(),
        &LabelConfig::new(Task::Churn, 30),
        day("2024-02-01"),
    )
    .unwrap();
    let names: Vec<&str> = builder.feature_names().iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "recency_days",
            "tenure_days",
            "frequency_all",
            "monetary_sum_all",
            "monetary_mean_all",
            "frequency_30d",
            "monetary_sum_30d",
            "monetary_mean_30d",
            "frequency_90d",
            "monetary_sum_90d",
            "monetary_mean_90d",
            "frequency_365d",
            "monetary_sum_365d",
            "monetary_mean_365d",
            "active_days_all",
            "ipt_mean_days",
            "ipt_std_days",
            "trend_30d_365d",
            "trend_90d_365d",
        ]
    );
}
