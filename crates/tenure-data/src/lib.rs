//! Event logs in, leak-free model inputs out.
//!
//! - [`io`] reads the transactions and customers tables (CSV or Parquet, with
//!   polars), validates them and builds a [`CustomerLog`].
//! - [`features`] turns a log into an as-of [`Snapshot`] at a cutoff date:
//!   features from events strictly before the cutoff, labels from the horizon
//!   window after it.
//! - [`folds`] plans rolling-origin, time-split cross-validation.
//! - [`encoding`] holds the out-of-fold target encoder for categorical
//!   attributes with many levels.
//! - [`rfm`] summarises a log into recency / frequency / monetary value per
//!   customer, the input of the BG/NBD and Gamma-Gamma models.
//! - [`synth`] generates customers with known ground truth.
//!
//! ```
//! use tenure_data::{CustomerLog, RawEvent, parse_date};
//!
//! let day = |s| parse_date(s).unwrap();
//! let log = CustomerLog::from_events(
//!     vec![
//!         RawEvent::new("b", day("2024-01-03"), 5.0),
//!         RawEvent::new("a", day("2024-01-02"), 10.0),
//!         RawEvent::new("a", day("2024-01-01"), 20.0),
//!     ],
//!     None,
//! )
//! .unwrap();
//! assert_eq!(log.customer_ids(), ["a", "b"]);
//! assert_eq!(log.amounts(0), [20.0, 10.0]); // sorted by time
//! ```

mod error;
mod log;

pub mod encoding;
pub mod features;
pub mod folds;
#[doc(hidden)]
pub mod fuzz;
pub mod io;
pub mod rfm;
pub mod synth;

pub use encoding::TargetEncoder;
pub use error::{DataError, Result};
pub use features::{
    ChurnDefinition, FeatureConfig, HighCardinality, LabelConfig, OneHotAttribute, Snapshot,
    SnapshotBuilder, SurvivalEvent,
};
pub use folds::{CvConfig, CvPlan, Fold, Scheme};
pub use log::{
    CategoricalAttr, CustomerLog, CustomerTable, EventCategory, NumericAttr, RawCustomer,
    RawCustomers, RawEvent, SECONDS_PER_DAY, Timestamp, format_date, parse_date,
};
pub use rfm::{RfmRow, RfmSummary, TimeUnit, holdout_counts, rfm_summary};
