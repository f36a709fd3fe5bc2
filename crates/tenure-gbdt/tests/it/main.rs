mod basics;
mod booster;
mod kernels;
