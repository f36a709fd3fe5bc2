mod config;
mod tasks;
mod truth;
mod neural;
