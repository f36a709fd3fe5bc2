mod config;
mod tasks;
mod truth;
mod uplift;
