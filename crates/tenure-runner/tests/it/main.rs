mod config;
mod tasks;
mod truth;
