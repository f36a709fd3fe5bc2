mod encoding;
mod features;
mod folds;
mod io;
mod synth;
