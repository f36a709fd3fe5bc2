//! Resolution rules on made-up machines.

use tenure_device::{
    AdapterKind, BackendStatus, CudaDevice, DeviceError, DeviceRequest, Inventory, ResolvedDevice,
    WgpuAdapter, resolve,
};

fn adapter(name: &str, kind: AdapterKind, backend: &str, compute_api: bool) -> WgpuAdapter {
    WgpuAdapter {
        name: name.into(),
        backend: backend.into(),
        kind,
        driver: String::new(),
        kind_index: 0,
        compute_api,
    }
}

fn lavapipe() -> WgpuAdapter {
    adapter("llvmpipe (LLVM 19)", AdapterKind::Cpu, "vulkan", true)
}

fn gpu() -> WgpuAdapter {
    adapter("NVIDIA H200", AdapterKind::DiscreteGpu, "vulkan", true)
}

fn cuda0() -> CudaDevice {
    CudaDevice {
        index: 0,
        name: "NVIDIA H200".into(),
        memory_bytes: 141 << 30,
    }
}

fn machine(wgpu: BackendStatus<WgpuAdapter>, cuda: BackendStatus<CudaDevice>) -> Inventory {
    Inventory {
        cpu_cores: 2,
        wgpu,
        cuda,
    }
}

#[test]
fn auto_prefers_cuda_then_a_physical_adapter_then_the_cpu() {
    let all = machine(
        BackendStatus::Available(vec![lavapipe(), gpu()]),
        BackendStatus::Available(vec![cuda0()]),
    );
    let r = resolve(DeviceRequest::Auto, &all).unwrap();
    assert_eq!(r.device, ResolvedDevice::Cuda(cuda0()));
    assert!(r.reason.starts_with("auto: CUDA device 0"), "{}", r.reason);

    let no_cuda = machine(
        BackendStatus::Available(vec![lavapipe(), gpu()]),
        BackendStatus::Unavailable("libcuda missing".into()),
    );
    let r = resolve(DeviceRequest::Auto, &no_cuda).unwrap();
    assert_eq!(r.device, ResolvedDevice::Wgpu(gpu()));
    assert!(r.reason.contains("libcuda missing"), "{}", r.reason);

    let software_only = machine(
        BackendStatus::Available(vec![lavapipe()]),
        BackendStatus::NotCompiled,
    );
    let r = resolve(DeviceRequest::Auto, &software_only).unwrap();
    assert_eq!(r.device, ResolvedDevice::Cpu);
    assert!(
        r.reason.contains("only a software wgpu adapter"),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("no CUDA in this build"), "{}", r.reason);
}

#[test]
fn auto_ignores_adapters_off_the_compute_api() {
    // A hardware adapter seen only through GL, while compute settles on
    // Vulkan, is not where kernels would run.
    let gl_gpu = adapter("Mesa Intel", AdapterKind::IntegratedGpu, "gl", false);
    let inv = machine(
        BackendStatus::Available(vec![lavapipe(), gl_gpu]),
        BackendStatus::NotCompiled,
    );
    assert_eq!(
        resolve(DeviceRequest::Auto, &inv).unwrap().device,
        ResolvedDevice::Cpu
    );
}

#[test]
fn an_explicit_wgpu_request_takes_a_software_adapter_and_says_so() {
    let inv = machine(
        BackendStatus::Available(vec![lavapipe()]),
        BackendStatus::NotCompiled,
    );
    let r = resolve(DeviceRequest::Wgpu, &inv).unwrap();
    assert_eq!(r.device, ResolvedDevice::Wgpu(lavapipe()));
    assert!(r.reason.contains("software adapter"), "{}", r.reason);
    assert_eq!(r.device.kind(), "wgpu");
}

#[test]
fn a_missing_device_is_an_error_never_a_fallback() {
    let bare = machine(
        BackendStatus::Available(vec![]),
        BackendStatus::Available(vec![]),
    );
    let err = resolve(DeviceRequest::Wgpu, &bare).unwrap_err();
    assert!(matches!(
        err,
        DeviceError::Missing {
            backend: "wgpu",
            ..
        }
    ));
    assert!(err.to_string().contains("mesa-vulkan-drivers"), "{err}");
    let err = resolve(DeviceRequest::Cuda, &bare).unwrap_err();
    assert!(matches!(
        err,
        DeviceError::Missing {
            backend: "cuda",
            ..
        }
    ));

    let no_driver = machine(
        BackendStatus::NotCompiled,
        BackendStatus::Unavailable("the CUDA driver library (libcuda) is not installed".into()),
    );
    let err = resolve(DeviceRequest::Cuda, &no_driver).unwrap_err();
    assert!(err.to_string().contains("libcuda"), "{err}");
    let err = resolve(DeviceRequest::Wgpu, &no_driver).unwrap_err();
    assert_eq!(err, DeviceError::NotCompiled { backend: "wgpu" });
    assert!(err.to_string().contains("--features wgpu"), "{err}");
}

#[test]
fn cpu_is_always_there() {
    let bare = machine(BackendStatus::NotCompiled, BackendStatus::NotCompiled);
    let r = resolve(DeviceRequest::Cpu, &bare).unwrap();
    assert_eq!(r.device, ResolvedDevice::Cpu);
    assert_eq!(r.reason, "cpu requested (2 cores)");
}
