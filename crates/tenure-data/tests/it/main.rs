mod encoding;
mod features;
mod folds;
mod fuzz;
mod io;
mod rfm;
mod synth;
