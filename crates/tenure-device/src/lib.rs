//! Which compute devices this machine has, and which one a `--device`
//! request gets.
//!
//! Every crate with GPU code (neural networks, GPU gradient boosting) resolves
//! a [`DeviceRequest`] here, so `--device` means the same thing for every
//! model: [`discover`] takes an [`Inventory`] of the CPU, the wgpu adapters
//! and the CUDA devices; [`resolve`] picks one and says why.
//!
//! - `auto` takes a CUDA device, then a physical wgpu adapter (a software
//!   rasteriser such as Mesa's lavapipe does not count), then the CPU.
//! - `cpu`, `wgpu` and `cuda` take that kind of device or fail with an error
//!   naming what is missing; they never fall back silently. `wgpu` accepts a
//!   software adapter when no physical one exists (that is how CI runs the
//!   wgpu path on lavapipe).
//! - A backend left out of the build (Cargo features `wgpu`, `cuda`) is
//!   reported as such, not as absent hardware.
//!
//! This crate knows nothing of burn or cubecl: it lists devices with `wgpu`
//! and `cudarc` directly (CUDA's driver library is loaded at run time, so a
//! binary built with `cuda` still starts where no driver is installed).
//!
//! ```
//! use tenure_core::DeviceRequest;
//! use tenure_device::{BackendStatus, Inventory, ResolvedDevice, resolve};
//!
//! // A machine with nothing but the CPU.
//! let bare = Inventory {
//!     cpu_cores: 2,
//!     wgpu: BackendStatus::Available(vec![]),
//!     cuda: BackendStatus::NotCompiled,
//! };
//! let r = resolve(DeviceRequest::Auto, &bare).unwrap();
//! assert_eq!(r.device, ResolvedDevice::Cpu);
//! assert!(r.reason.contains("no CUDA"));
//! // Asking for CUDA there is an error, not a quiet fallback.
//! let err = resolve(DeviceRequest::Cuda, &bare).unwrap_err();
//! assert!(err.to_string().contains("without the `cuda` feature"));
//! ```

mod discover;
mod error;

use std::fmt;

use serde::Serialize;
pub use tenure_core::DeviceRequest;

pub use discover::{discover, discover_cuda, discover_wgpu};
pub use error::DeviceError;

/// What kind of adapter wgpu reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdapterKind {
    DiscreteGpu,
    IntegratedGpu,
    VirtualGpu,
    /// A software rasteriser (lavapipe, llvmpipe, WARP).
    Cpu,
    Other,
}

impl AdapterKind {
    /// Real graphics hardware, as opposed to a software implementation.
    pub fn is_physical(self) -> bool {
        matches!(
            self,
            AdapterKind::DiscreteGpu | AdapterKind::IntegratedGpu | AdapterKind::VirtualGpu
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AdapterKind::DiscreteGpu => "discrete GPU",
            AdapterKind::IntegratedGpu => "integrated GPU",
            AdapterKind::VirtualGpu => "virtual GPU",
            AdapterKind::Cpu => "software (CPU)",
            AdapterKind::Other => "other",
        }
    }

    /// How strongly `auto` prefers this kind (higher first).
    fn rank(self) -> u8 {
        match self {
            AdapterKind::DiscreteGpu => 4,
            AdapterKind::IntegratedGpu => 3,
            AdapterKind::VirtualGpu => 2,
            AdapterKind::Other => 1,
            AdapterKind::Cpu => 0,
        }
    }
}

/// One wgpu adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WgpuAdapter {
    pub name: String,
    /// Graphics API: `vulkan`, `metal`, `dx12`, `gl`.
    pub backend: String,
    pub kind: AdapterKind,
    pub driver: String,
    /// Position among the adapters of the same kind on the same graphics API:
    /// what a device selector such as "discrete GPU #0" means.
    pub kind_index: usize,
    /// Whether compute runs on this adapter's graphics API: the first API
    /// (Vulkan, then DX12, then GL; Metal on macOS) with a hardware adapter,
    /// else the first with any adapter.
    pub compute_api: bool,
}

impl WgpuAdapter {
    pub fn is_physical(&self) -> bool {
        self.kind.is_physical()
    }
}

/// One CUDA device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CudaDevice {
    pub index: usize,
    pub name: String,
    pub memory_bytes: u64,
}

/// What a backend has on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "devices", rename_all = "snake_case")]
pub enum BackendStatus<T> {
    /// The build left this backend out (Cargo feature off).
    NotCompiled,
    /// The backend's runtime cannot start here (no driver library); why.
    Unavailable(String),
    /// What it found, possibly nothing.
    Available(Vec<T>),
}

impl<T> BackendStatus<T> {
    pub fn devices(&self) -> &[T] {
        match self {
            BackendStatus::Available(d) => d,
            _ => &[],
        }
    }
}

/// Everything [`discover`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub cpu_cores: usize,
    pub wgpu: BackendStatus<WgpuAdapter>,
    pub cuda: BackendStatus<CudaDevice>,
}

/// The device a request resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolvedDevice {
    #[default]
    Cpu,
    Wgpu(WgpuAdapter),
    Cuda(CudaDevice),
}

impl ResolvedDevice {
    /// `cpu`, `wgpu` or `cuda`: the value of the run's `tenure.device` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            ResolvedDevice::Cpu => "cpu",
            ResolvedDevice::Wgpu(_) => "wgpu",
            ResolvedDevice::Cuda(_) => "cuda",
        }
    }

    pub fn is_gpu(&self) -> bool {
        !matches!(self, ResolvedDevice::Cpu)
    }
}

impl fmt::Display for ResolvedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolvedDevice::Cpu => f.write_str("cpu"),
            ResolvedDevice::Wgpu(a) => {
                write!(f, "wgpu: {} ({}, {})", a.name, a.backend, a.kind.as_str())
            }
            ResolvedDevice::Cuda(d) => write!(f, "cuda:{} {}", d.index, d.name),
        }
    }
}

/// A resolved device and a sentence saying why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub request: DeviceRequest,
    pub device: ResolvedDevice,
    pub reason: String,
}

/// Picks the device for `request` among what `inventory` holds.
///
/// Pure: tests pass made-up inventories; the binary passes [`discover`]'s.
pub fn resolve(request: DeviceRequest, inventory: &Inventory) -> Result<Resolution, DeviceError> {
    let done = |device: ResolvedDevice, reason: String| {
        Ok(Resolution {
            request,
            device,
            reason,
        })
    };
    match request {
        DeviceRequest::Cpu => done(
            ResolvedDevice::Cpu,
            format!("cpu requested ({} cores)", inventory.cpu_cores),
        ),
        DeviceRequest::Cuda => match &inventory.cuda {
            BackendStatus::NotCompiled => Err(DeviceError::NotCompiled { backend: "cuda" }),
            BackendStatus::Unavailable(why) => Err(DeviceError::Missing {
                backend: "cuda",
                detail: why.clone(),
            }),
            BackendStatus::Available(devs) => match devs.first() {
                Some(d) => done(
                    ResolvedDevice::Cuda(d.clone()),
                    format!("cuda requested: device 0 of {}, {}", devs.len(), d.name),
                ),
                None => Err(DeviceError::Missing {
                    backend: "cuda",
                    detail: "the CUDA driver reports no device".into(),
                }),
            },
        },
        DeviceRequest::Wgpu => match &inventory.wgpu {
            BackendStatus::NotCompiled => Err(DeviceError::NotCompiled { backend: "wgpu" }),
            BackendStatus::Unavailable(why) => Err(DeviceError::Missing {
                backend: "wgpu",
                detail: why.clone(),
            }),
            BackendStatus::Available(adapters) => match best_adapter(adapters) {
                Some(a) => {
                    let reason = if a.is_physical() {
                        format!(
                            "wgpu requested: {} ({}, {})",
                            a.name,
                            a.backend,
                            a.kind.as_str()
                        )
                    } else {
                        format!(
                            "wgpu requested: no hardware adapter, using the software adapter {} ({})",
                            a.name, a.backend
                        )
                    };
                    done(ResolvedDevice::Wgpu(a.clone()), reason)
                }
                None => Err(DeviceError::Missing {
                    backend: "wgpu",
                    detail: "no adapter on any graphics API (install a Vulkan driver, e.g. \
                             mesa-vulkan-drivers and libvulkan1)"
                        .into(),
                }),
            },
        },
        DeviceRequest::Auto => {
            let mut skipped = Vec::new();
            match &inventory.cuda {
                BackendStatus::Available(devs) if !devs.is_empty() => {
                    let d = &devs[0];
                    return done(
                        ResolvedDevice::Cuda(d.clone()),
                        format!("auto: CUDA device 0 of {}, {}", devs.len(), d.name),
                    );
                }
                BackendStatus::Available(_) => skipped.push("no CUDA device".to_string()),
                BackendStatus::NotCompiled => skipped.push("no CUDA in this build".to_string()),
                BackendStatus::Unavailable(why) => skipped.push(format!("no CUDA ({why})")),
            }
            match &inventory.wgpu {
                BackendStatus::Available(adapters) => match best_adapter(adapters) {
                    Some(a) if a.is_physical() => {
                        let mut reason = format!(
                            "auto: wgpu adapter {} ({}, {})",
                            a.name,
                            a.backend,
                            a.kind.as_str()
                        );
                        reason.push_str(&format!("; {}", skipped.join(", ")));
                        return done(ResolvedDevice::Wgpu(a.clone()), reason);
                    }
                    Some(a) => skipped.push(format!(
                        "only a software wgpu adapter ({}), slower than the CPU",
                        a.name
                    )),
                    None => skipped.push("no wgpu adapter".to_string()),
                },
                BackendStatus::NotCompiled => skipped.push("no wgpu in this build".to_string()),
                BackendStatus::Unavailable(why) => skipped.push(format!("no wgpu ({why})")),
            }
            done(
                ResolvedDevice::Cpu,
                format!(
                    "auto: cpu ({} cores); {}",
                    inventory.cpu_cores,
                    skipped.join(", ")
                ),
            )
        }
    }
}

/// The adapter compute would use: on the compute API, hardware first.
fn best_adapter(adapters: &[WgpuAdapter]) -> Option<&WgpuAdapter> {
    adapters
        .iter()
        .filter(|a| a.compute_api)
        .max_by_key(|a| (a.kind.rank(), std::cmp::Reverse(a.kind_index)))
}

/// Discovers this machine's devices once per process and resolves `request`.
///
/// Discovery opens graphics and CUDA drivers, which takes a moment; the
/// inventory is cached because it does not change while a process runs.
pub fn resolve_here(request: DeviceRequest) -> Result<Resolution, DeviceError> {
    static INVENTORY: std::sync::OnceLock<Inventory> = std::sync::OnceLock::new();
    if request == DeviceRequest::Cpu {
        // No need to wake any driver for the CPU.
        let cpu_only = Inventory {
            cpu_cores: discover::cpu_cores(),
            wgpu: BackendStatus::NotCompiled,
            cuda: BackendStatus::NotCompiled,
        };
        return resolve(request, &cpu_only);
    }
    resolve(request, INVENTORY.get_or_init(discover))
}
