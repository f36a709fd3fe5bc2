//! The CPU and wgpu (Mesa's lavapipe on CI) agree.

use tenure_core::{DeviceRequest, Fit, ParamGuard, Predict, Target};
use tenure_device::{ResolvedDevice, resolve_here};
use tenure_neural::{
    CoxTies, DeepSurvParams, Device, MlpParams, ZilnParams, burn_device,
    cox_negative_log_likelihood, ziln_loss,
};

use crate::common::{churn_data, ph_data, quick_train, small_net, split, ziln_data};

/// The wgpu device; CI installs lavapipe so that one exists.
fn wgpu() -> ResolvedDevice {
    resolve_here(DeviceRequest::Wgpu)
        .unwrap_or_else(|e| panic!("{e}: install lavapipe with `source scripts/testenv/setup.sh`"))
        .device
}

#[test]
fn losses_agree_between_cpu_and_wgpu() {
    let gpu: Device = burn_device(&wgpu()).unwrap();
    let (data, eta) = ph_data(2000, 31);
    let Target::Survival { time, event } = data.target() else {
        unreachable!()
    };
    for ties in [CoxTies::Breslow, CoxTies::Efron] {
        let cpu = cox_negative_log_likelihood(&eta, time, event, ties, &Device::flex());
        let gpu = cox_negative_log_likelihood(&eta, time, event, ties, &gpu);
        assert!(
            (cpu - gpu).abs() < 1e-4 * cpu.abs(),
            "{ties:?}: {cpu} vs {gpu}"
        );
    }
    let outputs: Vec<[f64; 3]> = eta.iter().map(|&e| [e, 2.0 + e / 3.0, 0.1 * e]).collect();
    let y: Vec<f64> = time
        .iter()
        .zip(event)
        .map(|(t, &e)| if e { *t } else { 0.0 })
        .collect();
    let cpu = ziln_loss(&outputs, &y, &Device::flex());
    let on_gpu = ziln_loss(&outputs, &y, &gpu);
    assert!((cpu - on_gpu).abs() < 1e-4 * cpu.abs(), "{cpu} vs {on_gpu}");
}

/// The same seeded fit on both devices: same initial weights, order and
/// dropout, so only floating-point rounding differs.
#[test]
fn training_on_wgpu_gives_the_cpu_metrics() {
    let gpu = wgpu();
    let (data, _) = churn_data(3000, 32);
    let (train, test) = split(&data, 2000);
    let Target::Binary(y) = test.target() else {
        unreachable!()
    };
    let auc = |device: ResolvedDevice| {
        let model = MlpParams::new()
            .network(small_net())
            .train(quick_train(10))
            .device(device)
            .check()
            .unwrap()
            .fit(&train)
            .unwrap();
        let p = model.predict(test.x()).unwrap();
        (tenure_metrics::roc_auc(y, &p).unwrap(), p)
    };
    let (auc_cpu, p_cpu) = auc(ResolvedDevice::Cpu);
    let (auc_gpu, p_gpu) = auc(gpu.clone());
    assert!(
        (auc_cpu - auc_gpu).abs() < 0.005,
        "AUC cpu {auc_cpu} vs wgpu {auc_gpu}"
    );
    let d = p_cpu
        .iter()
        .zip(&p_gpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(d < 0.02, "largest probability difference {d}");

    let (data, _) = ph_data(2000, 33);
    let (train, test) = split(&data, 1500);
    let Target::Survival { time, event } = test.target() else {
        unreachable!()
    };
    let c = |device: ResolvedDevice| {
        let model = DeepSurvParams::new()
            .network(small_net())
            .train(quick_train(8))
            .device(device)
            .check()
            .unwrap()
            .fit(&train)
            .unwrap();
        tenure_metrics::concordance_index(time, event, &model.predict(test.x()).unwrap()).unwrap()
    };
    let (c_cpu, c_gpu) = (c(ResolvedDevice::Cpu), c(gpu.clone()));
    assert!(
        (c_cpu - c_gpu).abs() < 0.005,
        "C-index cpu {c_cpu} vs wgpu {c_gpu}"
    );

    let (data, _) = ziln_data(2000, 34);
    let (train, test) = split(&data, 1500);
    let Target::Continuous(y) = test.target() else {
        unreachable!()
    };
    let g = |device: ResolvedDevice| {
        let model = ZilnParams::new()
            .network(small_net())
            .train(quick_train(8))
            .device(device)
            .check()
            .unwrap()
            .fit(&train)
            .unwrap();
        tenure_metrics::normalized_gini(y, &model.predict(test.x()).unwrap()).unwrap()
    };
    let (g_cpu, g_gpu) = (g(ResolvedDevice::Cpu), g(gpu));
    assert!(
        (g_cpu - g_gpu).abs() < 0.01,
        "Gini cpu {g_cpu} vs wgpu {g_gpu}"
    );
}
