//! Discovery on this machine.

use tenure_device::{BackendStatus, DeviceRequest, ResolvedDevice, discover, resolve_here};

#[test]
fn the_cpu_is_listed_and_resolving_cpu_touches_no_driver() {
    let inv = discover();
    assert!(inv.cpu_cores >= 1);
    let r = resolve_here(DeviceRequest::Cpu).unwrap();
    assert_eq!(r.device, ResolvedDevice::Cpu);
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_is_reported_as_not_compiled() {
    assert_eq!(discover().cuda, BackendStatus::NotCompiled);
    let err = resolve_here(DeviceRequest::Cuda).unwrap_err();
    assert!(
        err.to_string().contains("without the `cuda` feature"),
        "{err}"
    );
}

/// CI installs Mesa's lavapipe (scripts/testenv/apt-packages.txt) so that a
/// wgpu adapter exists on a machine without a GPU.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_lists_a_vulkan_adapter() {
    let BackendStatus::Available(adapters) = discover().wgpu else {
        panic!("wgpu is compiled in and cannot fail to enumerate")
    };
    let vulkan: Vec<_> = adapters.iter().filter(|a| a.backend == "vulkan").collect();
    assert!(
        !vulkan.is_empty(),
        "no Vulkan adapter: install lavapipe with `source scripts/testenv/setup.sh` \
         (mesa-vulkan-drivers, libvulkan1); found {adapters:?}"
    );
    for a in &vulkan {
        assert!(
            a.compute_api,
            "Vulkan comes first in the compute chain: {a:?}"
        );
        if a.name.contains("llvmpipe") {
            assert!(!a.is_physical(), "lavapipe is software: {a:?}");
        }
    }
    let r = resolve_here(DeviceRequest::Wgpu).unwrap();
    assert_eq!(r.device.kind(), "wgpu");
}
