//! Hot kernels: snapshot and feature building, metrics (AUC, log loss,
//! C-index), the logistic, Cox and BG/NBD fits, gbdt histograms, split
//! search and prediction.
//! Run with `cargo bench -p tenure-benches`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenure_core::{Dataset, Matrix, Target};
use tenure_core::{Fit, ParamGuard, Task};
use tenure_data::io::{TransactionsSource, load};
use tenure_data::{FeatureConfig, LabelConfig, SnapshotBuilder, parse_date};
use tenure_data::{TimeUnit, rfm_summary};
use tenure_stats::{BgNbdParams, CoxParams, LogisticRegressionParams};

fn snapshots(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    for customers in [10_000, 100_000] {
        let log = tenure_benches::synthetic_log(customers);
        let labels = LabelConfig::new(Task::Churn, 90);
        let cutoff = parse_date("2023-04-01").unwrap();
        let builder =
            SnapshotBuilder::new(&log, &FeatureConfig::default(), &labels, cutoff).unwrap();
        group.throughput(Throughput::Elements(log.n_events() as u64));
        group.bench_with_input(BenchmarkId::new("build", customers), &cutoff, |b, &c| {
            b.iter(|| black_box(builder.build(c).unwrap()))
        });
    }
    group.finish();
}

fn metrics(c: &mut Criterion) {
    let n = 1_000_000;
    // A deterministic, tie-heavy score with an imperfect ranking, in
    // [0, 1) so that it is also a probability (log loss).
    let y: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 7 == 0))).collect();
    let score: Vec<f64> = (0..n)
        .map(|i| (((i * 7919) % 1000) as f64 / 1000.0 + y[i] * 0.3) / 1.3)
        .collect();
    let mut group = c.benchmark_group("metrics");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("roc_auc_1m", |b| {
        b.iter(|| tenure_metrics::roc_auc(black_box(&y), black_box(&score)).unwrap())
    });
    group.bench_function("average_precision_1m", |b| {
        b.iter(|| tenure_metrics::average_precision(black_box(&y), black_box(&score)).unwrap())
    });
    group.finish();

    // The runner's size: one test cutoff of 100k customers.
    let n = 100_000;
    let (y, score) = (&y[..n], &score[..n]);
    let (time, event, risk) = survival_scores(n);
    let mut group = c.benchmark_group("metrics");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("roc_auc_100k", |b| {
        b.iter(|| tenure_metrics::roc_auc(black_box(y), black_box(score)).unwrap())
    });
    group.bench_function("log_loss_100k", |b| {
        b.iter(|| tenure_metrics::log_loss(black_box(y), black_box(score)).unwrap())
    });
    group.bench_function("c_index_100k", |b| {
        b.iter(|| tenure_metrics::concordance_index(&time, &event, black_box(&risk)).unwrap())
    });
    group.bench_function("uno_c_100k", |b| {
        b.iter(|| {
            // Truncated before the last day, where the censoring survival
            // reaches 0 (as sksurv's `tau` is used).
            tenure_metrics::uno_concordance(
                &time,
                &event,
                &time,
                &event,
                black_box(&risk),
                Some(360.0),
            )
            .unwrap()
        })
    });
    group.finish();
}

/// Whole-day follow-up times (many ties), about 60 % events, and a risk
/// score that ranks them imperfectly.
fn survival_scores(n: usize) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let time: Vec<f64> = (0..n).map(|i| ((i * 7919) % 365 + 1) as f64).collect();
    let event: Vec<bool> = (0..n).map(|i| (i * 104_729) % 10 < 6).collect();
    let risk: Vec<f64> = time
        .iter()
        .enumerate()
        .map(|(i, t)| -t / 365.0 + ((i * 31) % 100) as f64 / 200.0)
        .collect();
    (time, event, risk)
}

/// Feature building alone: the builder's setup (event levels, customer
/// order) and one snapshot, on 20k synthetic customers.
fn features(c: &mut Criterion) {
    let log = tenure_benches::synthetic_log(20_000);
    let labels = LabelConfig::new(Task::Churn, 90);
    let cutoff = parse_date("2023-01-01").unwrap();
    let config = FeatureConfig::default();
    let mut group = c.benchmark_group("features");
    group.sample_size(10);
    group.throughput(Throughput::Elements(log.n_events() as u64));
    group.bench_function("builder_and_snapshot_20k", |b| {
        b.iter(|| {
            let builder = SnapshotBuilder::new(&log, &config, &labels, cutoff).unwrap();
            black_box(builder.build(cutoff).unwrap())
        })
    });
    group.finish();
}

fn logistic(c: &mut Criterion) {
    let log = tenure_benches::synthetic_log(50_000);
    let labels = LabelConfig::new(Task::Churn, 90);
    let cutoff = parse_date("2023-01-01").unwrap();
    let builder = SnapshotBuilder::new(&log, &FeatureConfig::default(), &labels, cutoff).unwrap();
    let data = builder.build(cutoff).unwrap().dataset;
    let params = LogisticRegressionParams::new().check().unwrap();
    let mut group = c.benchmark_group("logistic");
    group.sample_size(10);
    group.throughput(Throughput::Elements(data.n_rows() as u64));
    group.bench_function("fit_snapshot", |b| {
        b.iter(|| params.fit(black_box(&data)).unwrap())
    });
    group.finish();
}

/// Cox on 100k rows x 20 covariates with tied whole-day times.
fn cox(c: &mut Criterion) {
    let (n, p) = (100_000, 20);
    // A fixed, well-mixed pseudo-random stream: no RNG dependency needed.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * p);
    let (mut time, mut event) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let mut eta = 0.0;
        for j in 0..p {
            let v = uniform() * 2.0 - 1.0;
            eta += v * if j % 2 == 0 { 0.3 } else { -0.2 };
            x.push(v);
        }
        let t = -uniform().max(1e-300).ln() / f64::exp(eta) * 200.0;
        let censor = uniform() * 400.0;
        time.push(t.min(censor).ceil());
        event.push(t <= censor);
    }
    let names = (0..p).map(|j| format!("x{j}")).collect();
    let data = Dataset::new(
        Matrix::new(x, n, p).unwrap(),
        names,
        Target::Survival { time, event },
    )
    .unwrap();
    let params = CoxParams::new().check().unwrap();
    let mut group = c.benchmark_group("cox");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("fit_100k_x20_efron", |b| {
        b.iter(|| params.fit(black_box(&data)).unwrap())
    });
    group.finish();
}

/// BG/NBD on the RFM summary of the full CDNOW master log (23,570 customers).
fn bgnbd(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/datasets/cdnow/cdnow_master.csv");
    if !path.exists() {
        eprintln!("skipping bgnbd: {} not found", path.display());
        return;
    }
    let src = TransactionsSource {
        timestamp: "date".into(),
        amount: "dollar_value".into(),
        ..TransactionsSource::new(&path)
    };
    let log = load(&src, None).unwrap();
    let end = parse_date("1998-07-01").unwrap();
    let rows: Vec<_> = rfm_summary(&log, end, TimeUnit::Weeks)
        .rows
        .into_iter()
        .filter(|r| r.t > 0.0)
        .collect();
    let (x, tx, t): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        rows.iter().map(|r| r.frequency).collect(),
        rows.iter().map(|r| r.recency).collect(),
        rows.iter().map(|r| r.t).collect(),
    );
    let params = BgNbdParams::new().check().unwrap();
    let mut group = c.benchmark_group("bgnbd");
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("fit_cdnow_master", |b| {
        b.iter(|| params.fit(black_box(&x), &tx, &t).unwrap())
    });
    group.finish();
}

/// Histogram building over a half-size leaf (gathered rows), f64 and
/// quantised; split search over one leaf's histograms; batch prediction.
fn gbdt(c: &mut Criterion) {
    use tenure_gbdt::bin::{BinnedData, fit_mappers};
    use tenure_gbdt::hist::{Histogram, Scratch, pack};
    use tenure_gbdt::split::{LeafScan, Sums, best_split, leaf_gain};
    let (n, f) = (100_000, 50);
    // The peers benchmark's data (`tenure bench gbdt` uses the same).
    let (x, y) = tenure_gbdt::synthetic::binary(n, f, 1);
    let names = tenure_gbdt::synthetic::feature_names(f);
    let mappers = fit_mappers(&x, &names, &vec![false; f], 255, 100, 200_000).unwrap();
    let data = BinnedData::new(&x, &mappers);
    let rows: Vec<u32> = (0..n as u32).filter(|i| i % 2 == 0).collect();
    // Every row's values, by row index, as the booster keeps them.
    let gh: Vec<[f64; 2]> = y.iter().map(|&v| [v - 0.5, 0.25]).collect();
    let packed: Vec<i64> = gh.iter().map(|e| pack((e[0] * 4.0) as i32, 1)).collect();
    let mut scratch = Scratch::default();
    let mut g = c.benchmark_group("gbdt");
    g.throughput(Throughput::Elements((rows.len() * f) as u64));
    let mut h = Histogram::zeros(f);
    g.bench_function("histogram 50k rows x 50 f64", |b| {
        b.iter(|| h.build(&data, black_box(&rows), &gh, &mut scratch, 1))
    });
    let mut q = Histogram::zeros_quantized(f);
    g.bench_function("histogram 50k rows x 50 quantised", |b| {
        b.iter(|| q.build_quantized(&data, black_box(&rows), &packed, &mut scratch, 1))
    });
    let params = tenure_gbdt::GbdtParams::new().check().unwrap();
    let (tg, th) = rows
        .iter()
        .map(|&i| gh[i as usize])
        .fold((0.0, 0.0), |a, e| (a.0 + e[0], a.1 + e[1]));
    let scan = LeafScan {
        params: &params,
        total: Sums {
            g: tg,
            h: th,
            count: rows.len(),
        },
        parent_gain: leaf_gain(tg, th, &params),
    };
    let features: Vec<usize> = (0..f).collect();
    g.throughput(Throughput::Elements((f * 256) as u64));
    g.bench_function("split search 50 features x 255 bins", |b| {
        b.iter(|| best_split(&scan, black_box(&h), (1.0, 1.0), &mappers, &features))
    });
    let model = tenure_gbdt::GbdtParams::new()
        .with(|c| {
            c.num_iterations = 100;
            c.num_leaves = 63;
            c.num_threads = 1;
        })
        .check()
        .unwrap()
        .fit(&Dataset::new(x.clone(), names, Target::Binary(y)).unwrap())
        .unwrap();
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("predict 100k rows, 100 trees x 63 leaves", |b| {
        b.iter(|| model.predict(black_box(&x)).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches, snapshots, features, metrics, logistic, cox, bgnbd, gbdt
);
criterion_main!(benches);
