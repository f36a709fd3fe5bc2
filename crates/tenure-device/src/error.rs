/// Why a device request cannot be met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error(
        "--device {backend}: this tenure was built without the `{backend}` feature \
         (rebuild with `--features {backend}`, or pass --device auto or cpu)"
    )]
    NotCompiled { backend: &'static str },
    #[error("--device {backend}: no {backend} device on this machine: {detail}")]
    Missing {
        backend: &'static str,
        detail: String,
    },
}
