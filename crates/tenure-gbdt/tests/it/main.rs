mod basics;
mod booster;
#[cfg(feature = "gpu")]
mod gpu;
mod kernels;
mod peers;
