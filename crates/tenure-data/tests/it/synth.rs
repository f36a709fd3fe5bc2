use std::collections::HashMap;

use polars::prelude::*;
use proptest::prelude::*;
use tempfile::TempDir;
use tenure_data::io::{CustomersSource, TransactionsSource, load};
use tenure_data::synth::{
    Arm, LatentCustomer, SynthConfig, SynthData, generate, read_truth_metadata,
    true_churn_probability, write,
};
use tenure_data::{DataError, SECONDS_PER_DAY, parse_date};

fn config(customers: usize) -> SynthConfig {
    SynthConfig {
        customers,
        ..SynthConfig::default()
    }
}

fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

fn bools(df: &DataFrame, name: &str) -> Vec<bool> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .bool()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect()
}

/// Day numbers of a Date column.
fn days(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    let s = df.column(name).unwrap().as_materialized_series();
    assert_eq!(s.dtype(), &DataType::Date);
    s.to_physical_repr().i32().unwrap().iter().collect()
}

fn shared_20k() -> &'static SynthData {
    static DATA: std::sync::OnceLock<SynthData> = std::sync::OnceLock::new();
    DATA.get_or_init(|| generate(&config(20_000)).unwrap())
}

#[test]
fn same_config_same_bytes() {
    let cfg = config(3_000);
    let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let sa = write(&cfg, a.path()).unwrap();
    let sb = write(&cfg, &b.path().join("nested")).unwrap();
    assert_eq!(sa.customers, 3_000);
    assert_eq!(sa.transactions, sb.transactions);
    assert_eq!(sa.files.len(), 3);
    for (fa, fb) in sa.files.iter().zip(&sb.files) {
        assert_eq!(fa.file_name(), fb.file_name());
        assert_eq!(
            std::fs::read(fa).unwrap(),
            std::fs::read(fb).unwrap(),
            "{fa:?}"
        );
    }
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(a.path()).unwrap().count(), 3);

    let other = write(&SynthConfig { seed: 7, ..cfg }, b.path()).unwrap();
    assert_ne!(
        std::fs::read(&sa.files[1]).unwrap(),
        std::fs::read(&other.files[1]).unwrap()
    );
}

#[test]
fn thread_count_does_not_change_the_data() {
    let cfg = config(5_000);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| generate(&cfg).unwrap())
    };
    let (one, three) = (run(1), run(3));
    assert!(one.transactions.equals_missing(&three.transactions));
    assert!(one.customers.equals_missing(&three.customers));
    assert!(one.truth.equals_missing(&three.truth));
    assert_eq!(one.latent, three.latent);
}

#[test]
fn schemas() {
    let data = generate(&config(500)).unwrap();
    let schema = |df: &DataFrame| -> Vec<(String, DataType)> {
        df.columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect()
    };
    let s = |n: &str, t: DataType| (n.to_string(), t);
    assert_eq!(
        schema(&data.transactions),
        [
            s("customer_id", DataType::String),
            s(
                "timestamp",
                DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            ),
            s("amount", DataType::Float64),
            s("category", DataType::String),
        ]
    );
    assert_eq!(
        schema(&data.customers),
        [
            s("customer_id", DataType::String),
            s("signup_date", DataType::Date),
            s("cancel_date", DataType::Date),
            s("age", DataType::Float64),
            s("plan", DataType::String),
            s("channel", DataType::String),
            s("region", DataType::String),
            s("campaign", DataType::String),
        ]
    );
    let truth: Vec<_> = schema(&data.truth);
    let names: Vec<&str> = truth.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "treated",
            "log_hazard_ratio",
            "hazard_ratio",
            "tau",
            "purchase_rate_per_day",
            "mean_spend",
            "cancel_time",
            "active_at_truth_cutoff",
            "p_churn",
            "p_churn_untreated",
            "p_churn_treated",
            "ite",
            "expected_spend",
        ]
    );
    assert_eq!(truth[1].1, DataType::Boolean);
    assert_eq!(truth[7].1, DataType::Date);
    assert_eq!(data.customers.height(), 500);
    assert_eq!(data.latent.len(), 500);
    assert_eq!(data.latent[0].customer_id, "C0000001");
}

#[test]
fn invalid_configs_are_rejected() {
    for (cfg, key) in [
        (config(0), "customers"),
        (
            SynthConfig {
                treated_share: 1.5,
                ..config(10)
            },
            "treated_share",
        ),
        (
            SynthConfig {
                end: SynthConfig::default().start + 100 * SECONDS_PER_DAY,
                ..config(10)
            },
            "end",
        ),
        (
            SynthConfig {
                purchase_rate_scale: 0.0,
                ..config(10)
            },
            "purchase_rate_scale",
        ),
        (
            SynthConfig {
                purchase_rate_scale: f64::NAN,
                ..config(10)
            },
            "purchase_rate_scale",
        ),
    ] {
        match generate(&cfg) {
            Err(DataError::Config { key: k, .. }) => assert_eq!(k, key),
            other => panic!("expected a config error for {key}, got {other:?}"),
        }
    }
}

#[test]
fn observed_data_respects_the_calendar() {
    let cfg = config(2_000);
    let data = generate(&cfg).unwrap();
    let signup = days(&data.customers, "signup_date");
    let cancel = days(&data.customers, "cancel_date");
    let (start_day, end_day) = (cfg.start / SECONDS_PER_DAY, cfg.end / SECONDS_PER_DAY);
    for (s, c) in signup.iter().zip(&cancel) {
        let s = i64::from(s.unwrap());
        assert!(s >= start_day && s < end_day - 180);
        if let Some(c) = c {
            assert!(i64::from(*c) >= s && i64::from(*c) < end_day);
        }
    }
    // Every purchase lies in the customer's exposure window, in time order.
    let by_id: HashMap<&str, &LatentCustomer> = data
        .latent
        .iter()
        .map(|c| (c.customer_id.as_str(), c))
        .collect();
    let tx = &data.transactions;
    let ids = tx.column("customer_id").unwrap().str().unwrap();
    let times = tx
        .column("timestamp")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let mut previous: Option<(&str, i64)> = None;
    for (id, t) in ids.iter().zip(times.i64().unwrap().iter()) {
        let (id, t) = (id.unwrap(), t.unwrap());
        let c = by_id[id];
        assert!(t >= c.signup * 1_000_000 && t < c.cancel.min(cfg.end) * 1_000_000);
        if let Some((pid, pt)) = previous {
            assert!(pid < id || (pid == id && pt <= t));
        }
        previous = Some((id, t));
    }
    let amounts = f64s(tx, "amount");
    assert!(amounts.iter().all(|a| a.unwrap() >= 0.01));
}

#[test]
fn higher_hazard_ratio_cancels_more_often() {
    let data = shared_20k();
    let hr = f64s(&data.truth, "hazard_ratio");
    let cancelled: Vec<bool> = days(&data.customers, "cancel_date")
        .iter()
        .map(Option::is_some)
        .collect();
    let mut order: Vec<usize> = (0..hr.len()).collect();
    order.sort_by(|&a, &b| hr[a].partial_cmp(&hr[b]).unwrap());
    let rates: Vec<f64> = order
        .chunks(order.len() / 4)
        .map(|q| q.iter().filter(|&&i| cancelled[i]).count() as f64 / q.len() as f64)
        .collect();
    assert!(rates.windows(2).all(|w| w[0] < w[1]), "{rates:?}");
}

#[test]
fn p_churn_matches_the_empirical_churn_rate() {
    let cfg = config(20_000);
    let data = shared_20k();
    let p = f64s(&data.truth, "p_churn");
    let active = bools(&data.truth, "active_at_truth_cutoff");
    let cancel = days(&data.customers, "cancel_date");
    let signup = days(&data.customers, "signup_date");
    let cutoff_day = (cfg.truth_cutoff / SECONDS_PER_DAY) as i32;
    let window = cutoff_day..cutoff_day + cfg.truth_horizon_days as i32;
    let (mut expected, mut variance, mut observed, mut n) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..p.len() {
        // Active in the observed data: signed up before the cutoff date and
        // not cancelled before it.
        let observed_active =
            signup[i].unwrap() < cutoff_day && cancel[i].is_none_or(|c| c >= cutoff_day);
        assert_eq!(active[i], observed_active, "row {i}");
        match p[i] {
            Some(pi) => {
                assert!(active[i]);
                assert!((0.0..=1.0).contains(&pi));
                expected += pi;
                variance += pi * (1.0 - pi);
                n += 1.0;
                if cancel[i].is_some_and(|c| window.contains(&c)) {
                    observed += 1.0;
                }
            }
            None => assert!(!active[i]),
        }
    }
    assert!(n > 5_000.0, "{n} active customers");
    let z = (observed - expected) / variance.sqrt();
    assert!(
        z.abs() < 3.0,
        "observed {observed}, expected {expected}, z = {z}"
    );
}

#[test]
fn truth_columns_agree_with_the_latent_parameters() {
    let cfg = config(20_000);
    let data = shared_20k();
    let p = f64s(&data.truth, "p_churn");
    let untreated = f64s(&data.truth, "p_churn_untreated");
    let treated = f64s(&data.truth, "p_churn_treated");
    let ite = f64s(&data.truth, "ite");
    let mut ite_sum = 0.0;
    for (i, c) in data.latent.iter().enumerate() {
        let Some(pi) = p[i] else { continue };
        let (t0, h) = (cfg.truth_cutoff, cfg.truth_horizon_days);
        assert_eq!(pi, true_churn_probability(c, t0, h));
        let (u, t) = (untreated[i].unwrap(), treated[i].unwrap());
        assert_eq!(pi, if c.treated { t } else { u });
        assert!((ite[i].unwrap() - (t - u)).abs() < 1e-15);
        // Without a campaign effect the arms coincide; a negative τ lowers
        // churn.
        assert_eq!(c.tau < 0.0, t < u, "row {i}");
        ite_sum += t - u;
    }
    assert!(ite_sum < 0.0);
}

#[test]
fn expected_spend_matches_the_empirical_spend() {
    let cfg = config(20_000);
    let data = shared_20k();
    let expected = f64s(&data.truth, "expected_spend");
    let index: HashMap<&str, usize> = data
        .latent
        .iter()
        .enumerate()
        .map(|(i, c)| (c.customer_id.as_str(), i))
        .collect();
    let (from, until) = (
        cfg.truth_cutoff * 1_000_000,
        (cfg.truth_cutoff + i64::from(cfg.truth_horizon_days) * SECONDS_PER_DAY) * 1_000_000,
    );
    let tx = &data.transactions;
    let ids = tx.column("customer_id").unwrap().str().unwrap();
    let times = tx
        .column("timestamp")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let amounts = f64s(tx, "amount");
    let mut spend = vec![0.0; data.latent.len()];
    for ((id, t), a) in ids.iter().zip(times.i64().unwrap().iter()).zip(amounts) {
        let t = t.unwrap();
        if t >= from && t < until {
            spend[index[id.unwrap()]] += a.unwrap();
        }
    }
    let pairs: Vec<(f64, f64)> = expected
        .iter()
        .zip(&spend)
        .filter_map(|(e, s)| e.map(|e| (e, *s)))
        .collect();
    let n = pairs.len() as f64;
    let diff: Vec<f64> = pairs.iter().map(|(e, s)| s - e).collect();
    let mean = diff.iter().sum::<f64>() / n;
    let sd = (diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let total_expected = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    assert!(
        mean.abs() < 4.0 * sd / n.sqrt(),
        "mean difference {mean} (sd {sd}, mean expected {total_expected})"
    );
}

#[test]
fn purchase_counts_match_rate_times_exposure() {
    let cfg = config(20_000);
    let data = shared_20k();
    let expected: f64 = data
        .latent
        .iter()
        .map(|c| {
            let exposure = (c.cancel.min(cfg.end) - c.signup) as f64 / SECONDS_PER_DAY as f64;
            c.purchase_rate_per_day * exposure
        })
        .sum();
    let observed = data.transactions.height() as f64;
    let z = (observed - expected) / expected.sqrt();
    assert!(z.abs() < 4.0, "observed {observed}, expected {expected}");
}

#[test]
fn files_load_back_with_io() {
    let cfg = config(1_000);
    let dir = TempDir::new().unwrap();
    let summary = write(&cfg, dir.path()).unwrap();
    let tx = TransactionsSource {
        category: Some("category".into()),
        ..TransactionsSource::new(dir.path().join("transactions.parquet"))
    };
    let customers = CustomersSource {
        signup: Some("signup_date".into()),
        end: Some("cancel_date".into()),
        numeric: vec!["age".into()],
        categorical: vec![
            "plan".into(),
            "channel".into(),
            "region".into(),
            "campaign".into(),
        ],
        ..CustomersSource::new(dir.path().join("customers.parquet"))
    };
    let log = load(&tx, Some(&customers)).unwrap();
    assert_eq!(log.n_customers(), 1_000);
    assert_eq!(log.n_events(), summary.transactions);
    assert_eq!(
        log.category().unwrap().levels,
        ["books", "games", "music", "video"]
    );
    let table = log.customers().unwrap();
    assert!(table.has_end);
    assert_eq!(
        table.categorical[0].levels,
        ["basic", "premium", "standard"]
    );
    assert_eq!(table.categorical[3].levels, ["control", "treatment"]);
    assert!(table.categorical[2].levels.len() > 20);
    let data = generate(&cfg).unwrap();
    for (i, c) in data.latent.iter().enumerate() {
        assert_eq!(log.customer_ids()[i], c.customer_id);
        assert_eq!(table.signup[i], Some(c.signup));
        assert!(log.times(i).iter().all(|&t| t >= c.signup && t < cfg.end));
    }

    let meta = read_truth_metadata(&dir.path().join("truth.parquet")).unwrap();
    assert_eq!(meta["tenure.synth.truth_cutoff"], "2023-07-01");
    assert_eq!(meta["tenure.synth.truth_horizon_days"], "90");
    assert_eq!(meta["tenure.synth.campaign_date"], "2022-07-01");
}

/// `write` streams transactions a group of blocks at a time; the files must
/// still hold exactly `generate`'s tables, across group boundaries (64
/// blocks of 1,024 customers) and a short last block.
#[test]
fn streamed_files_hold_the_generated_tables() {
    let cfg = config(2 * 64 * 1024 + 300);
    let dir = TempDir::new().unwrap();
    let summary = write(&cfg, dir.path()).unwrap();
    let data = generate(&cfg).unwrap();
    let read = |name: &str| {
        ParquetReader::new(std::fs::File::open(dir.path().join(name)).unwrap())
            .finish()
            .unwrap()
    };
    assert_eq!(summary.transactions, data.transactions.height());
    assert!(read("transactions.parquet").equals_missing(&data.transactions));
    // Row groups of about polars' default size (blocks are merged until
    // they reach it), not one per group of blocks, however many rows a
    // group has.
    let mut reader =
        ParquetReader::new(std::fs::File::open(dir.path().join("transactions.parquet")).unwrap());
    let groups: Vec<usize> = reader
        .get_metadata()
        .unwrap()
        .row_groups
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert!(groups.len() > 2, "{groups:?}");
    assert!(groups.iter().all(|&n| n < 2 * 512 * 512), "{groups:?}");
    assert!(read("customers.parquet").equals_missing(&data.customers));
    assert!(read("truth.parquet").equals_missing(&data.truth));
}

/// A file that cannot be put in place fails the write with its path, and
/// leaves no temporary file and none of the other tables behind.
#[test]
fn a_failed_write_leaves_nothing_half_done() {
    let dir = TempDir::new().unwrap();
    // A non-empty folder where transactions.parquet should go.
    let blocker = dir.path().join("transactions.parquet");
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), b"x").unwrap();
    match write(&config(300), dir.path()) {
        Err(DataError::Write { path, .. }) => assert_eq!(path, blocker),
        other => panic!("expected a write error naming {blocker:?}, got {other:?}"),
    }
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["transactions.parquet"], "only the blocking folder");
}

/// The rate scale multiplies purchase rates: about `scale` times the
/// transactions from the same population model. (Draws after the first
/// purchase count differ, so customers are compared in distribution.)
#[test]
fn purchase_rate_scale_multiplies_the_purchases() {
    let base = generate(&config(5_000)).unwrap();
    let scaled = generate(&SynthConfig {
        purchase_rate_scale: 1.4,
        ..config(5_000)
    })
    .unwrap();
    let mean_rate = |d: &SynthData| {
        d.latent
            .iter()
            .map(|c| c.purchase_rate_per_day)
            .sum::<f64>()
            / d.latent.len() as f64
    };
    let rates = mean_rate(&scaled) / mean_rate(&base);
    assert!((rates - 1.4).abs() < 0.1, "mean rate ratio {rates}");
    let ratio = scaled.transactions.height() as f64 / base.transactions.height() as f64;
    assert!((ratio - 1.4).abs() < 0.1, "transaction ratio {ratio}");
}

#[test]
fn default_dates() {
    let cfg = SynthConfig::default();
    assert_eq!(cfg.start, parse_date("2021-01-01").unwrap());
    assert_eq!(cfg.end, parse_date("2024-01-01").unwrap());
    assert_eq!(cfg.truth_cutoff, parse_date("2023-07-01").unwrap());
    assert_eq!(cfg.campaign_date, parse_date("2022-07-01").unwrap());
}

/// Naive twin of `cumulative_hazard`: a midpoint sum of the hazard
/// `exp(η) m(t) h0(a)`, `h0(a) = 0.9 / 600 (a / 600)^-0.1`.
fn naive_cumulative_hazard(c: &LatentCustomer, t: i64, arm: Arm) -> f64 {
    let treated = match arm {
        Arm::Assigned => c.treated,
        Arm::Control => false,
        Arm::Treatment => true,
    };
    let steps = 200_000;
    let span = (t - c.signup) as f64 / SECONDS_PER_DAY as f64;
    let dt = span / steps as f64;
    (0..steps)
        .map(|k| {
            let a = (k as f64 + 0.5) * dt;
            let calendar = c.signup as f64 + a * SECONDS_PER_DAY as f64;
            let m = if treated && calendar >= c.campaign_date as f64 {
                c.tau.exp()
            } else {
                1.0
            };
            c.log_hazard_ratio.exp() * m * 0.9 / 600.0 * (a / 600.0).powf(-0.1) * dt
        })
        .sum()
}

fn latent_customer() -> impl Strategy<Value = LatentCustomer> {
    (
        0i64..1_000,
        -1.5f64..1.5,
        -1.0f64..0.5,
        any::<bool>(),
        0i64..1_000,
    )
        .prop_map(|(signup_day, eta, tau, treated, campaign_day)| {
            let day0 = parse_date("2021-01-01").unwrap();
            LatentCustomer {
                customer_id: "x".into(),
                signup: day0 + signup_day * SECONDS_PER_DAY,
                cancel: i64::MAX,
                log_hazard_ratio: eta,
                tau,
                treated,
                campaign_date: day0 + campaign_day * SECONDS_PER_DAY,
                purchase_rate_per_day: 0.1,
                mean_spend: 20.0,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn cumulative_hazard_matches_numeric_integration(
        c in latent_customer(),
        age_days in 1i64..1_500,
        arm in prop::sample::select(vec![Arm::Assigned, Arm::Control, Arm::Treatment]),
    ) {
        let t = c.signup + age_days * SECONDS_PER_DAY;
        let exact = c.cumulative_hazard(t, arm);
        let naive = naive_cumulative_hazard(&c, t, arm);
        // The hazard is singular at age 0, which the midpoint sum handles
        // only approximately.
        prop_assert!((exact - naive).abs() <= 2e-3 * exact.max(1e-3), "{exact} vs {naive}");
    }

    #[test]
    fn expected_active_days_matches_a_fine_sum(
        c in latent_customer(),
        offset_days in 1i64..800,
        horizon in 1u32..200,
    ) {
        let cutoff = c.signup + offset_days * SECONDS_PER_DAY;
        let fast = c.expected_active_days(cutoff, horizon);
        let base = c.cumulative_hazard(cutoff, Arm::Assigned);
        let steps = 20_000;
        let dt = f64::from(horizon) / f64::from(steps);
        let naive: f64 = (0..steps)
            .map(|k| {
                let t = cutoff + ((f64::from(k) + 0.5) * dt * SECONDS_PER_DAY as f64) as i64;
                (base - c.cumulative_hazard(t, Arm::Assigned)).exp() * dt
            })
            .sum();
        prop_assert!((fast - naive).abs() < 1e-4 * f64::from(horizon), "{fast} vs {naive}");
        prop_assert!(fast <= f64::from(horizon) + 1e-9);
        let p = c.churn_probability(cutoff, horizon, Arm::Assigned);
        prop_assert!((0.0..=1.0).contains(&p));
    }
}
