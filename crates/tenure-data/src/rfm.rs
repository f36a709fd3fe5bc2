//! The recency-frequency-monetary summary that buy-till-you-die models (BG/NBD,
//! Gamma-Gamma) are fitted on, with the definitions of lifetimes'
//! `summary_data_from_transaction_data` and the CDNOW papers.
//!
//! Purchases are counted per calendar day (UTC): several transactions on one
//! day are one purchase, with their amounts added. Per customer, over the
//! calibration period (events strictly before `calibration_end`):
//!
//! - `frequency`: repeat purchase days, i.e. distinct purchase days after the first;
//! - `recency`: first to last purchase day;
//! - `t`: first purchase day to the LAST DAY of the calibration period;
//! - `monetary_value`: mean spend per repeat purchase day (the first day
//!   excluded), 0 when `frequency` = 0.
//!
//! `calibration_end` is exclusive: the calibration period 1997-01-01 ..
//! 1997-09-30 of the CDNOW summary ends at `1997-10-01 00:00`, its last day is
//! 1997-09-30, and a customer who first bought on 1997-01-01 has `T` = 272
//! days = 38.86 weeks (as in `cdnow_summary.csv` and lifetimes with
//! `observation_period_end = "1997-09-30"`, not the nominal 39 weeks). So a
//! purchase on the last day has `recency = T`, as in the BG/NBD likelihood.
//! A customer whose FIRST purchase is on the last calibration day gets `t = 0`:
//! such rows carry no information for BG/NBD (which requires `T > 0` and
//! rejects them), so drop them before fitting.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::log::{CustomerLog, SECONDS_PER_DAY, Timestamp};

/// The unit of `recency` and `t` in an [`RfmSummary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Days,
    Weeks,
}

impl TimeUnit {
    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }
}

/// One customer's calibration-period summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmRow {
    pub customer_id: String,
    /// Repeat purchase days (distinct purchase days after the first).
    pub frequency: f64,
    /// First to last purchase day, in the summary's unit.
    pub recency: f64,
    /// First purchase day to the last calibration day, in the summary's unit.
    pub t: f64,
    /// Mean spend per repeat purchase day; 0 without repeat purchases.
    pub monetary_value: f64,
}

/// The RFM summary of every customer whose first purchase falls before
/// `calibration_end`, in the log's customer order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmSummary {
    pub rows: Vec<RfmRow>,
    pub unit: TimeUnit,
    /// Exclusive end of the calibration period.
    pub calibration_end: Timestamp,
}

impl RfmSummary {
    /// The columns `(frequency, recency, t, monetary_value)`, the inputs of the
    /// BG/NBD and Gamma-Gamma fits.
    pub fn columns(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let f = self.rows.iter().map(|r| r.frequency).collect();
        let r = self.rows.iter().map(|r| r.recency).collect();
        let t = self.rows.iter().map(|r| r.t).collect();
        let m = self.rows.iter().map(|r| r.monetary_value).collect();
        (f, r, t, m)
    }
}

/// Day index (days since the epoch) of a timestamp.
fn day_of(t: Timestamp) -> i64 {
    t.div_euclid(SECONDS_PER_DAY)
}

/// Purchase days and their spend, from events sorted by time.
fn purchase_days<'a>(
    times: &'a [Timestamp],
    amounts: &'a [f64],
) -> impl Iterator<Item = (i64, f64)> + 'a {
    let mut k = 0;
    std::iter::from_fn(move || {
        let day = day_of(*times.get(k)?);
        let mut spend = 0.0;
        while k < times.len() && day_of(times[k]) == day {
            spend += amounts[k];
            k += 1;
        }
        Some((day, spend))
    })
}

/// The calibration-period RFM summary of `log` (see the module docs for the
/// definitions).
pub fn rfm_summary(log: &CustomerLog, calibration_end: Timestamp, unit: TimeUnit) -> RfmSummary {
    // The last calendar day with any time before the (exclusive) end.
    let last_day = day_of(calibration_end - 1);
    let per_unit = unit.days();
    let mut rows = Vec::new();
    for (i, id) in log.customer_ids().iter().enumerate() {
        let times = log.times(i);
        let n = times.partition_point(|&t| t < calibration_end);
        let mut days = purchase_days(&times[..n], &log.amounts(i)[..n]);
        let Some((first, _)) = days.next() else {
            continue;
        };
        let (mut repeats, mut last, mut spend) = (0u32, first, 0.0);
        for (day, amount) in days {
            repeats += 1;
            last = day;
            spend += amount;
        }
        rows.push(RfmRow {
            customer_id: id.clone(),
            frequency: f64::from(repeats),
            recency: (last - first) as f64 / per_unit,
            t: (last_day - first) as f64 / per_unit,
            monetary_value: if repeats > 0 {
                spend / f64::from(repeats)
            } else {
                0.0
            },
        });
    }
    RfmSummary {
        rows,
        unit,
        calibration_end,
    }
}

/// Per row of `summary`: the repeat purchase days and the spend in the holdout
/// period `[calibration_end, holdout_end)`, counted per calendar day like the
/// calibration summary. A holdout purchase on the same day as the last
/// calibration purchase (possible only with an end that is not midnight) is
/// part of that purchase and not counted again; its spend is.
///
/// # Panics
/// If a customer of `summary` is not in `log` (the summary must come from it).
pub fn holdout_counts(
    log: &CustomerLog,
    summary: &RfmSummary,
    holdout_end: Timestamp,
) -> Vec<(f64, f64)> {
    let index: HashMap<&str, usize> = log
        .customer_ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let end = summary.calibration_end;
    summary
        .rows
        .iter()
        .map(|row| {
            let i = *index
                .get(row.customer_id.as_str())
                .unwrap_or_else(|| panic!("customer {} is not in the log", row.customer_id));
            let times = log.times(i);
            let from = times.partition_point(|&t| t < end);
            let to = times.partition_point(|&t| t < holdout_end).max(from);
            let last_calibration_day = from.checked_sub(1).map(|k| day_of(times[k]));
            let (mut purchases, mut spend) = (0.0, 0.0);
            for (day, amount) in purchase_days(&times[from..to], &log.amounts(i)[from..to]) {
                if Some(day) != last_calibration_day {
                    purchases += 1.0;
                }
                spend += amount;
            }
            (purchases, spend)
        })
        .collect()
}
