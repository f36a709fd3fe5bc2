//! From a device that `tenure-device` resolved to a burn [`Device`].

use burn::tensor::Device;
use tenure_device::ResolvedDevice;

use crate::Result;

/// The burn device for a resolved device; a backend left out of this build
/// is an error, never a fallback.
pub fn burn_device(device: &ResolvedDevice) -> Result<Device> {
    match device {
        ResolvedDevice::Cpu => Ok(Device::flex()),
        ResolvedDevice::Wgpu(adapter) => wgpu_device(adapter),
        ResolvedDevice::Cuda(cuda) => cuda_device(cuda),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device(adapter: &tenure_device::WgpuAdapter) -> Result<Device> {
    use burn::tensor::DeviceKind;
    use tenure_device::AdapterKind;
    let i = adapter.kind_index;
    let kind = match adapter.kind {
        AdapterKind::DiscreteGpu => DeviceKind::DiscreteGpu(i),
        AdapterKind::IntegratedGpu => DeviceKind::IntegratedGpu(i),
        AdapterKind::VirtualGpu => DeviceKind::VirtualGpu(i),
        AdapterKind::Cpu => DeviceKind::Cpu,
        AdapterKind::Other => DeviceKind::DefaultDevice,
    };
    Ok(Device::wgpu(kind))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device(_: &tenure_device::WgpuAdapter) -> Result<Device> {
    Err(tenure_device::DeviceError::NotCompiled { backend: "wgpu" }.into())
}

#[cfg(feature = "cuda")]
fn cuda_device(cuda: &tenure_device::CudaDevice) -> Result<Device> {
    Ok(Device::cuda(cuda.index))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_: &tenure_device::CudaDevice) -> Result<Device> {
    Err(tenure_device::DeviceError::NotCompiled { backend: "cuda" }.into())
}
