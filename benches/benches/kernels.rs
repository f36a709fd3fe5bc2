//! Hot kernels: snapshot building, metrics, the logistic fit.
//! Run with `cargo bench -p tenure-benches`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenure_core::{Fit, ParamGuard, Task};
use tenure_data::{FeatureConfig, LabelConfig, SnapshotBuilder, parse_date};
use tenure_stats::LogisticRegressionParams;

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

criterion_group!(benches, snapshots, metrics, logistic);
criterion_main!(benches);
