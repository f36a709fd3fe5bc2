//! Inputs for the criterion benches in `benches/`: synthetic customers from
//! `tenure-data`, written and read back through the real I/O path, so every
//! bench measures the pipeline on realistic data.
//!
//! ```
//! let log = tenure_benches::synthetic_log(200);
//! assert!(log.n_customers() >= 200);
//! ```

use tenure_data::CustomerLog;
use tenure_data::io::{CustomersSource, TransactionsSource, load};
use tenure_data::synth::{SynthConfig, write};

/// A customer log of `customers` synthetic customers (seed fixed).
pub fn synthetic_log(customers: usize) -> CustomerLog {
    let dir = std::env::temp_dir().join(format!("tenure-bench-{customers}-{}", std::process::id()));
    write(
        &SynthConfig {
            customers,
            ..SynthConfig::default()
        },
        &dir,
    )
    .expect("synthetic data");
    let tx = TransactionsSource {
        category: Some("category".into()),
        ..TransactionsSource::new(dir.join("transactions.parquet"))
    };
    let cu = CustomersSource {
        signup: Some("signup_date".into()),
        end: Some("cancel_date".into()),
        numeric: vec!["age".into()],
        categorical: vec!["plan".into(), "channel".into(), "region".into()],
        ..CustomersSource::new(dir.join("customers.parquet"))
    };
    let log = load(&tx, Some(&cu)).expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    log
}
