//! Hot kernels: snapshot building, metrics, the logistic fit.
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
    // A deterministic, tie-heavy score with an imperfect ranking.
    let y: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 7 == 0))).collect();
    let score: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 + y[i] * 0.3)
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

criterion_group!(benches, snapshots, metrics, logistic, cox, bgnbd);
criterion_main!(benches);
