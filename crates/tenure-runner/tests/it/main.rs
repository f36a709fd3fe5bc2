mod config;
mod neural;
mod tasks;
mod truth;
