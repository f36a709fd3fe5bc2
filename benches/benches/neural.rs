//! One training epoch of each neural model on each device, and inference
//! throughput. Rows: `TENURE_BENCH_ROWS` (default 100 000); devices: the
//! CPU, plus wgpu and CUDA when this build and machine have them (a
//! software wgpu adapter such as lavapipe is skipped unless
//! `TENURE_BENCH_SOFTWARE_WGPU=1`).
//!
//! `cargo bench -p tenure-benches --bench neural`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenure_core::{DeviceRequest, Fit, ParamGuard, Predict};
use tenure_device::{ResolvedDevice, resolve_here};
use tenure_neural::{DeepSurvParams, MlpParams, NetworkConfig, TrainConfig, ZilnParams};

fn rows() -> usize {
    std::env::var("TENURE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn devices() -> Vec<ResolvedDevice> {
    let mut out = vec![ResolvedDevice::Cpu];
    let software = std::env::var("TENURE_BENCH_SOFTWARE_WGPU").is_ok_and(|v| v == "1");
    if let Ok(r) = resolve_here(DeviceRequest::Wgpu)
        && let ResolvedDevice::Wgpu(a) = &r.device
        && (a.is_physical() || software)
    {
        out.push(r.device);
    }
    if let Ok(r) = resolve_here(DeviceRequest::Cuda) {
        out.push(r.device);
    }
    out
}

fn one_epoch(batch_size: usize) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size,
        validation_fraction: 0.0,
        ..TrainConfig::default()
    }
}

fn net() -> NetworkConfig {
    NetworkConfig {
        hidden: vec![64, 32],
        dropout: 0.1,
        ..NetworkConfig::default()
    }
}

fn epochs(c: &mut Criterion) {
    let n = rows();
    let (churn, survival, clv) = tenure_benches::neural_datasets(n, 32);
    let mut group = c.benchmark_group("neural_epoch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for device in devices() {
        let kind = device.kind();
        for batch in [512, 4096] {
            let mlp = MlpParams::new()
                .network(net())
                .train(one_epoch(batch))
                .device(device.clone())
                .check()
                .unwrap();
            group.bench_function(BenchmarkId::new(format!("mlp/{kind}"), batch), |b| {
                b.iter(|| black_box(mlp.fit(&churn).unwrap()))
            });
        }
        let deepsurv = DeepSurvParams::new()
            .network(net())
            .train(one_epoch(4096))
            .device(device.clone())
            .check()
            .unwrap();
        group.bench_function(BenchmarkId::new(format!("deepsurv/{kind}"), 4096), |b| {
            b.iter(|| black_box(deepsurv.fit(&survival).unwrap()))
        });
        let ziln = ZilnParams::new()
            .network(net())
            .train(one_epoch(4096))
            .device(device.clone())
            .check()
            .unwrap();
        group.bench_function(BenchmarkId::new(format!("ziln/{kind}"), 4096), |b| {
            b.iter(|| black_box(ziln.fit(&clv).unwrap()))
        });
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let n = rows();
    let (churn, _, _) = tenure_benches::neural_datasets(n, 32);
    let mut group = c.benchmark_group("neural_predict");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    for device in devices() {
        let model = MlpParams::new()
            .network(net())
            .train(one_epoch(4096))
            .device(device.clone())
            .check()
            .unwrap()
            .fit(&churn)
            .unwrap();
        group.bench_function(BenchmarkId::new("mlp", device.kind()), |b| {
            b.iter(|| black_box(model.predict(churn.x()).unwrap()))
        });
        let spec = model.to_spec();
        if device == ResolvedDevice::Cpu {
            group.bench_function(BenchmarkId::new("mlp", "plain_rust_spec"), |b| {
                b.iter(|| black_box(spec.predict(churn.x()).unwrap()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, epochs, inference);
criterion_main!(benches);
