mod encoding;
mod features;
mod folds;
mod io;
mod rfm;
mod synth;
