//! Bodies of the fuzz targets in `fuzz/` (cargo-fuzz, nightly), shared with
//! the stable tests that replay their corpus and with the property tests.
//! Each takes arbitrary bytes and panics only when a property is broken:
//! every input must end in `Ok` or in a typed [`DataError`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use tenure_core::Task;

use crate::io::{TransactionsSource, load};
use crate::{DataError, FeatureConfig, LabelConfig, SnapshotBuilder};

/// A fresh scratch file name in the system temp directory, unique per
/// process and call (fuzzers run inputs on several threads).
fn scratch(ext: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("tenure-fuzz-{}-{n}.{ext}", std::process::id()))
}

/// The first byte picks the options (a `category` column, refunds); the
/// rest is the CSV file. A log that loads must be consistent, and its
/// features at the last event must be finite or `NaN` (never infinite).
pub fn csv_event_log(data: &[u8]) {
    let Some((&options, csv)) = data.split_first() else {
        return;
    };
    let path = scratch("csv");
    if std::fs::write(&path, csv).is_err() {
        return;
    }
    let mut src = TransactionsSource::new(&path);
    if options & 1 == 1 {
        src.category = Some("category".into());
    }
    src.allow_negative_amounts = options & 2 == 2;
    let loaded = load(&src, None);
    let _ = std::fs::remove_file(&path);
    let log = match loaded {
        Ok(log) => log,
        Err(e) => {
            check_error(&e, &path);
            return;
        }
    };
    assert!(log.customer_ids().windows(2).all(|w| w[0] < w[1]));
    for i in 0..log.n_customers() {
        assert!(log.times(i).windows(2).all(|w| w[0] <= w[1]));
        for &a in log.amounts(i) {
            assert!(
                a.is_finite() && (src.allow_negative_amounts || a >= 0.0),
                "{a}"
            );
        }
    }
    let Some(last) = log.last_event() else {
        return;
    };
    let labels = LabelConfig::new(Task::Churn, 1);
    let Ok(builder) = SnapshotBuilder::new(&log, &FeatureConfig::default(), &labels, last) else {
        return;
    };
    // The label window of `last` may pass the end of observation (an
    // error); the features alone are always defined.
    if let Ok((ids, x, _)) = builder.features_at(last) {
        assert_eq!(ids.len(), x.n_rows());
        for r in 0..x.n_rows() {
            for c in 0..x.n_cols() {
                assert!(
                    !x.get(r, c).is_infinite(),
                    "feature {c} of row {r} is infinite"
                );
            }
        }
    }
}

/// An error about an input file names that file.
fn check_error(e: &DataError, path: &std::path::Path) {
    let text = e.to_string();
    match e {
        DataError::Io { .. }
        | DataError::Parse { .. }
        | DataError::Empty { .. }
        | DataError::MissingColumn { .. }
        | DataError::WrongType { .. }
        | DataError::BadValue { .. }
        | DataError::DuplicateId { .. } => {
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
        _ => {}
    }
}
