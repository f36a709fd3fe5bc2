mod basics;
mod booster;
mod kernels;
mod peers;
