mod config;
mod truth;
