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

/// Churn, survival and CLV datasets of `n` rows and `p` standard normal
/// features, labelled from a nonlinear signal (fixed seed): inputs for the
/// neural benches.
pub fn neural_datasets(
    n: usize,
    p: usize,
) -> (
    tenure_core::Dataset,
    tenure_core::Dataset,
    tenure_core::Dataset,
) {
    use tenure_core::{Dataset, Matrix, Target};
    // SplitMix64, so the bench inputs need no RNG crate.
    let mut state = 0x5EED_u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * p);
    let (mut churn, mut time, mut event, mut spend) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for _ in 0..n {
        let row: Vec<f64> = (0..p).map(|_| uniform() * 2.0 - 1.0).collect();
        let s = row[0] - 0.5 * row[1] + row[2] * row[2];
        churn.push(f64::from(u8::from(uniform() < 1.0 / (1.0 + (-s).exp()))));
        time.push((-uniform().max(1e-12).ln() * 100.0 / s.exp()).ceil());
        event.push(uniform() < 0.7);
        spend.push(if uniform() < 0.4 {
            (2.0 + s + uniform()).exp()
        } else {
            0.0
        });
        x.extend(row);
    }
    let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
    let m = Matrix::new(x, n, p).expect("n x p values");
    (
        Dataset::new(m.clone(), names.clone(), Target::Binary(churn)).expect("shapes"),
        Dataset::new(m.clone(), names.clone(), Target::Survival { time, event }).expect("shapes"),
        Dataset::new(m, names, Target::Continuous(spend)).expect("shapes"),
    )
}
