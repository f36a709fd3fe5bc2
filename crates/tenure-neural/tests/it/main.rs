mod common;
mod devices;
mod losses;
mod models;
mod spec;
