//! Generates a synthetic population and reports how long it took.
//!
//! ```text
//! cargo run --release -p tenure-data --example synth -- [customers] [out-dir]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use tenure_data::synth::{SynthConfig, write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let customers = match args.next() {
        Some(n) => n.parse()?,
        None => SynthConfig::default().customers,
    };
    let dir = args
        .next()
        .map_or_else(|| std::env::temp_dir().join("tenure-synth"), PathBuf::from);
    let cfg = SynthConfig {
        customers,
        ..SynthConfig::default()
    };
    let started = Instant::now();
    let summary = write(&cfg, &dir)?;
    println!(
        "{} customers, {} transactions in {:.2?} ({} threads) -> {}",
        summary.customers,
        summary.transactions,
        started.elapsed(),
        rayon::current_num_threads(),
        dir.display()
    );
    Ok(())
}
