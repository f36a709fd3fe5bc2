//! Asking the drivers what is there.

#[allow(unused_imports)] // Each backend's listing is behind its feature.
use crate::{AdapterKind, BackendStatus, CudaDevice, Inventory, WgpuAdapter};

/// Lists the CPU, the wgpu adapters and the CUDA devices of this machine.
pub fn discover() -> Inventory {
    Inventory {
        cpu_cores: cpu_cores(),
        wgpu: discover_wgpu(),
        cuda: discover_cuda(),
    }
}

pub(crate) fn cpu_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The adapters of every graphics API compute may run on, in the order
/// cubecl tries the APIs.
#[cfg(feature = "wgpu")]
pub fn discover_wgpu() -> BackendStatus<WgpuAdapter> {
    let chain: &[wgpu::Backend] = if cfg!(target_os = "macos") {
        &[wgpu::Backend::Metal]
    } else {
        &[
            wgpu::Backend::Vulkan,
            wgpu::Backend::Dx12,
            wgpu::Backend::Gl,
        ]
    };
    let mut per_api: Vec<(wgpu::Backend, Vec<wgpu::AdapterInfo>)> = Vec::new();
    for &api in chain {
        // GL is the last resort: compute never settles there when an
        // earlier API has an adapter, and probing it makes EGL complain on
        // headless machines.
        if api == wgpu::Backend::Gl && per_api.iter().any(|(_, infos)| !infos.is_empty()) {
            continue;
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let infos: Vec<wgpu::AdapterInfo> =
            futures_lite::future::block_on(instance.enumerate_adapters(api.into()))
                .iter()
                .map(wgpu::Adapter::get_info)
                .collect();
        per_api.push((api, infos));
    }
    // cubecl's rule for an automatic graphics API: the first with a hardware
    // adapter, else the first with any.
    let compute_api = per_api
        .iter()
        .find(|(_, infos)| infos.iter().any(|i| i.device_type != wgpu::DeviceType::Cpu))
        .or_else(|| per_api.iter().find(|(_, infos)| !infos.is_empty()))
        .map(|(api, _)| *api);
    let mut adapters = Vec::new();
    for (api, infos) in &per_api {
        let mut seen: Vec<AdapterKind> = Vec::new();
        for info in infos {
            let kind = match info.device_type {
                wgpu::DeviceType::DiscreteGpu => AdapterKind::DiscreteGpu,
                wgpu::DeviceType::IntegratedGpu => AdapterKind::IntegratedGpu,
                wgpu::DeviceType::VirtualGpu => AdapterKind::VirtualGpu,
                wgpu::DeviceType::Cpu => AdapterKind::Cpu,
                wgpu::DeviceType::Other => AdapterKind::Other,
            };
            let kind_index = seen.iter().filter(|k| **k == kind).count();
            seen.push(kind);
            adapters.push(WgpuAdapter {
                name: info.name.clone(),
                backend: api.to_str().to_string(),
                kind,
                driver: [info.driver.as_str(), info.driver_info.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
                kind_index,
                compute_api: Some(*api) == compute_api,
            });
        }
    }
    BackendStatus::Available(adapters)
}

#[cfg(not(feature = "wgpu"))]
pub fn discover_wgpu() -> BackendStatus<WgpuAdapter> {
    BackendStatus::NotCompiled
}

/// CUDA devices through the driver API, loaded at run time.
#[cfg(feature = "cuda")]
pub fn discover_cuda() -> BackendStatus<CudaDevice> {
    use cudarc::driver::CudaContext;

    // cudarc panics when it cannot load libcuda (its loader is unsafe to call
    // any other way, and this workspace forbids unsafe code): catch that
    // panic, silencing the default hook's message while we do.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let listed = std::panic::catch_unwind(|| -> Result<Vec<CudaDevice>, String> {
        let count = CudaContext::device_count().map_err(|e| format!("CUDA driver: {e:?}"))?;
        (0..count.max(0) as usize)
            .map(|index| {
                let ctx =
                    CudaContext::new(index).map_err(|e| format!("CUDA device {index}: {e:?}"))?;
                Ok(CudaDevice {
                    index,
                    name: ctx.name().unwrap_or_else(|_| "unknown".into()),
                    memory_bytes: ctx.total_mem().map_or(0, |m| m as u64),
                })
            })
            .collect()
    });
    std::panic::set_hook(previous);
    match listed {
        Ok(Ok(devices)) => BackendStatus::Available(devices),
        Ok(Err(why)) => BackendStatus::Unavailable(why),
        Err(_) => {
            BackendStatus::Unavailable("the CUDA driver library (libcuda) is not installed".into())
        }
    }
}

#[cfg(not(feature = "cuda"))]
pub fn discover_cuda() -> BackendStatus<CudaDevice> {
    BackendStatus::NotCompiled
}
