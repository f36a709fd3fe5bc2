use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the user asked models to run (`--device`). Resolving a request to a
/// real device is the job of the crates that own GPU code; models without GPU
/// kernels run on the CPU whatever is asked, and say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceRequest {
    /// A GPU when one answers, else the CPU.
    #[default]
    Auto,
    Cpu,
    Wgpu,
    Cuda,
}

impl DeviceRequest {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceRequest::Auto => "auto",
            DeviceRequest::Cpu => "cpu",
            DeviceRequest::Wgpu => "wgpu",
            DeviceRequest::Cuda => "cuda",
        }
    }
}

impl fmt::Display for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceRequest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "wgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!(
                "unknown device `{other}`: expected auto, cpu, wgpu or cuda"
            )),
        }
    }
}
