//! As-of snapshots: features from the past of a cutoff, labels from its future.
//!
//! The one rule everything here serves: a feature at cutoff `c` reads only
//! events strictly before `c`, and a label reads only events in
//! `[c, c + horizon)`. Which customers form the rows, in which order, and which
//! columns exist are decided from the same past, so that no event at or after
//! `c` can change a snapshot's features — the integration tests check this
//! bit for bit.
//!
//! ```
//! use tenure_core::{Target, Task};
//! use tenure_data::{CustomerLog, FeatureConfig, LabelConfig, RawEvent, SnapshotBuilder, parse_date};
//!
//! let day = |s| parse_date(s).unwrap();
//! let log = CustomerLog::from_events(
//!     vec![
//!         RawEvent::new("a", day("2024-01-01"), 10.0),
//!         RawEvent::new("a", day("2024-02-10"), 30.0),
//!         RawEvent::new("b", day("2024-01-05"), 5.0),
//!         RawEvent::new("c", day("2024-03-01"), 7.0), // enters after the cutoff
//!         RawEvent::new("z", day("2024-06-01"), 1.0),
//!     ],
//!     None,
//! )
//! .unwrap();
//! let labels = LabelConfig::new(Task::Churn, 30);
//! let cutoff = day("2024-02-15");
//! let builder = SnapshotBuilder::new(&log, &FeatureConfig::default(), &labels, cutoff).unwrap();
//! let snap = builder.build(cutoff).unwrap();
//! assert_eq!(snap.customer_ids, ["a", "b"]);
//! let col = snap.dataset.feature_names().iter().position(|n| n == "recency_days").unwrap();
//! assert_eq!(snap.dataset.x().get(0, col), 5.0);
//! // Neither buys in the 30 days after the cutoff: both churned by inactivity.
//! assert_eq!(snap.dataset.target(), &Target::Binary(vec![1.0, 1.0]));
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tenure_core::{Dataset, Matrix, Target, Task};

use crate::{CustomerLog, DataError, Result, SECONDS_PER_DAY, Timestamp, ensure_config};
use crate::{format_date, parse_date};

/// Which features a snapshot carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FeatureConfig {
    /// Lookback windows (days) for frequency and monetary features.
    pub windows_days: Vec<u32>,
    /// `[short, long]` pairs: purchase rate over the short window relative to
    /// the long one, so that a slowing customer stands out.
    pub trends: Vec<[u32; 2]>,
    /// Per-category event counts for this many most frequent levels, plus
    /// one column for the rest.
    pub category_top_k: usize,
    /// Static categorical attributes with more levels than this are
    /// target-encoded per fold instead of one-hot encoded.
    pub max_onehot_levels: usize,
    pub target_encoding_folds: usize,
    /// Pseudo-count pulling rare levels' encodings towards the global mean.
    pub target_encoding_smoothing: f64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            windows_days: vec![30, 90, 365],
            trends: vec![[30, 365], [90, 365]],
            category_top_k: 8,
            max_onehot_levels: 12,
            target_encoding_folds: 5,
            target_encoding_smoothing: 20.0,
        }
    }
}

impl FeatureConfig {
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for &w in &self.windows_days {
            ensure_config!(
                w > 0,
                "features.windows_days",
                "windows must be at least 1 day, got {w}"
            );
            ensure_config!(
                seen.insert(w),
                "features.windows_days",
                "window {w} is listed twice"
            );
        }
        for &[s, l] in &self.trends {
            ensure_config!(
                s > 0 && s < l,
                "features.trends",
                "each trend is [short, long] with 0 < short < long, got [{s}, {l}]"
            );
        }
        ensure_config!(
            self.category_top_k >= 1,
            "features.category_top_k",
            "must be at least 1, got {}",
            self.category_top_k
        );
        ensure_config!(
            self.target_encoding_folds >= 2,
            "features.target_encoding_folds",
            "out-of-fold encoding needs at least 2 folds, got {}",
            self.target_encoding_folds
        );
        ensure_config!(
            self.target_encoding_smoothing >= 0.0 && self.target_encoding_smoothing.is_finite(),
            "features.target_encoding_smoothing",
            "must be a finite number >= 0, got {}",
            self.target_encoding_smoothing
        );
        Ok(())
    }
}

/// What counts as churn for the churn task.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChurnDefinition {
    /// `cancel` when the customers table has an end column, else `inactivity`.
    #[default]
    Auto,
    /// The contract ends within the horizon.
    Cancel,
    /// No purchase within the horizon.
    Inactivity,
}

/// Which event the survival task times.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SurvivalEvent {
    /// `cancel` when the customers table has an end column, else `next_purchase`.
    #[default]
    Auto,
    Cancel,
    NextPurchase,
}

/// What a snapshot is labelled with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    pub task: Task,
    pub horizon_days: u32,
    #[serde(default)]
    pub churn: ChurnDefinition,
    #[serde(default)]
    pub survival_event: SurvivalEvent,
    /// Date up to which the log is complete; default: midnight after the day
    /// of the last event.
    #[serde(default)]
    pub observation_end: Option<String>,
    /// Customers silent for longer than this before a cutoff are taken as
    /// already lost and left out of its snapshot.
    #[serde(default)]
    pub max_inactive_days: Option<u32>,
}

impl LabelConfig {
    /// A configuration with every optional setting at its default.
    pub fn new(task: Task, horizon_days: u32) -> Self {
        Self {
            task,
            horizon_days,
            churn: ChurnDefinition::Auto,
            survival_event: SurvivalEvent::Auto,
            observation_end: None,
            max_inactive_days: None,
        }
    }

    pub fn validate(&self) -> Result<()> {
        ensure_config!(
            self.horizon_days >= 1,
            "labels.horizon_days",
            "the horizon must be at least 1 day, got {}",
            self.horizon_days
        );
        if let Some(s) = &self.observation_end {
            ensure_config!(
                parse_date(s).is_some(),
                "labels.observation_end",
                "cannot parse date `{s}` (expected YYYY-MM-DD)"
            );
        }
        if let Some(m) = self.max_inactive_days {
            ensure_config!(
                m >= 1,
                "labels.max_inactive_days",
                "must be at least 1 day, got {m}"
            );
        }
        Ok(())
    }

    /// The end of observation: the configured date, else midnight after the
    /// day of the last event in the log.
    pub fn observation_end(&self, log: &CustomerLog) -> Result<Timestamp> {
        if let Some(s) = &self.observation_end {
            return parse_date(s).ok_or_else(|| DataError::Config {
                key: "labels.observation_end".into(),
                reason: format!("cannot parse date `{s}` (expected YYYY-MM-DD)"),
            });
        }
        match log.last_event() {
            Some(t) => Ok(day_of(t) * SECONDS_PER_DAY + SECONDS_PER_DAY),
            None => Err(DataError::Config {
                key: "labels.observation_end".into(),
                reason: "the log has no events to infer it from; set it explicitly".into(),
            }),
        }
    }

    fn horizon_seconds(&self) -> i64 {
        i64::from(self.horizon_days) * SECONDS_PER_DAY
    }
}

/// Features and labels of the customers present at one cutoff.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub cutoff: Timestamp,
    /// Row order of `dataset`: ascending customer id.
    pub customer_ids: Vec<String>,
    pub dataset: Dataset,
    /// Attributes with too many levels to one-hot encode; the runner
    /// target-encodes them per fold.
    pub high_cardinality: Vec<HighCardinality>,
}

/// Level codes of a static categorical attribute, per snapshot row.
#[derive(Debug, Clone, PartialEq)]
pub struct HighCardinality {
    /// Name of the encoded feature, `attr_{name}_te`.
    pub name: String,
    /// The attribute's column in the customers table.
    pub attribute: String,
    /// Level names, indexed by code.
    pub levels: Vec<String>,
    pub n_levels: usize,
    pub codes: Vec<Option<u32>>,
}

/// The one-hot columns of a static categorical attribute: one feature per
/// level, 1 for the customer's level and 0 otherwise (all 0 when missing).
#[derive(Debug, Clone, PartialEq)]
pub struct OneHotAttribute {
    /// The attribute's column in the customers table.
    pub attribute: String,
    /// `(level, index of its feature)`.
    pub columns: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChurnLabel {
    Cancel,
    Inactivity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SurvivalLabel {
    Cancel,
    NextPurchase,
}

/// Builds snapshots of one log at any cutoff, with the same columns at each.
#[derive(Debug)]
pub struct SnapshotBuilder<'a> {
    log: &'a CustomerLog,
    windows: Vec<i64>,
    trends: Vec<(i64, i64)>,
    /// Category column per event category code; `None` counts as "other".
    category_slot: Vec<Option<usize>>,
    /// Number of category columns, "other" included; 0 without a category.
    n_category_cols: usize,
    numeric_attrs: Vec<usize>,
    /// (attribute index, number of levels) of one-hot encoded attributes.
    onehot_attrs: Vec<(usize, usize)>,
    high_card_attrs: Vec<usize>,
    names: Vec<String>,
    task: Task,
    horizon: i64,
    churn: ChurnLabel,
    survival: SurvivalLabel,
    max_inactive: Option<i64>,
    earliest_cutoff: Timestamp,
    observation_end: Timestamp,
}

impl<'a> SnapshotBuilder<'a> {
    /// `earliest_cutoff`: the first cutoff of the experiment. The event-category
    /// levels used for per-category count features are fixed from events
    /// strictly before it (top-k by count, ties by name), so that later events
    /// can never change the feature columns.
    pub fn new(
        log: &'a CustomerLog,
        features: &FeatureConfig,
        labels: &LabelConfig,
        earliest_cutoff: Timestamp,
    ) -> Result<Self> {
        features.validate()?;
        labels.validate()?;
        let observation_end = labels.observation_end(log)?;
        let has_end = log.customers().is_some_and(|t| t.has_end);
        let churn = match labels.churn {
            ChurnDefinition::Auto if has_end => ChurnLabel::Cancel,
            ChurnDefinition::Auto | ChurnDefinition::Inactivity => ChurnLabel::Inactivity,
            ChurnDefinition::Cancel => {
                ensure_config!(
                    has_end,
                    "labels.churn",
                    "`cancel` needs an end/cancel column in the customers table; use `inactivity`"
                );
                ChurnLabel::Cancel
            }
        };
        let survival = match labels.survival_event {
            SurvivalEvent::Auto if has_end => SurvivalLabel::Cancel,
            SurvivalEvent::Auto | SurvivalEvent::NextPurchase => SurvivalLabel::NextPurchase,
            SurvivalEvent::Cancel => {
                ensure_config!(
                    has_end,
                    "labels.survival_event",
                    "`cancel` needs an end/cancel column in the customers table; use `next_purchase`"
                );
                SurvivalLabel::Cancel
            }
        };

        let days = |d: u32| i64::from(d) * SECONDS_PER_DAY;
        let mut names: Vec<String> = [
            "recency_days",
            "tenure_days",
            "frequency_all",
            "monetary_sum_all",
            "monetary_mean_all",
        ]
        .map(String::from)
        .to_vec();
        for w in &features.windows_days {
            names.push(format!("frequency_{w}d"));
            names.push(format!("monetary_sum_{w}d"));
            names.push(format!("monetary_mean_{w}d"));
        }
        names.extend(["active_days_all", "ipt_mean_days", "ipt_std_days"].map(String::from));
        for [s, l] in &features.trends {
            names.push(format!("trend_{s}d_{l}d"));
        }

        // Without a categorised event before the earliest cutoff there is
        // nothing to rank, and an "other" column alone would repeat
        // `frequency_all`; whether one exists later must not matter.
        let top = top_levels(log, earliest_cutoff, features.category_top_k);
        let (category_slot, n_category_cols) = match log.category() {
            Some(cat) if !top.is_empty() => {
                let mut slot = vec![None; cat.levels.len()];
                for (col, &code) in top.iter().enumerate() {
                    slot[code] = Some(col);
                    names.push(format!("{}_count_{}", cat.name, cat.levels[code]));
                }
                names.push(format!("{}_count_other", cat.name));
                (slot, top.len() + 1)
            }
            _ => (Vec::new(), 0),
        };

        let mut numeric_attrs = Vec::new();
        let mut onehot_attrs = Vec::new();
        let mut high_card_attrs = Vec::new();
        if let Some(table) = log.customers() {
            for (k, attr) in table.numeric.iter().enumerate() {
                numeric_attrs.push(k);
                names.push(format!("attr_{}", attr.name));
            }
            for (k, attr) in table.categorical.iter().enumerate() {
                if attr.levels.len() <= features.max_onehot_levels {
                    onehot_attrs.push((k, attr.levels.len()));
                    for level in &attr.levels {
                        names.push(format!("attr_{}={level}", attr.name));
                    }
                } else {
                    high_card_attrs.push(k);
                }
            }
        }

        Ok(Self {
            log,
            windows: features.windows_days.iter().map(|&w| days(w)).collect(),
            trends: features
                .trends
                .iter()
                .map(|&[s, l]| (days(s), days(l)))
                .collect(),
            category_slot,
            n_category_cols,
            numeric_attrs,
            onehot_attrs,
            high_card_attrs,
            names,
            task: labels.task,
            horizon: labels.horizon_seconds(),
            churn,
            survival,
            max_inactive: labels.max_inactive_days.map(days),
            earliest_cutoff,
            observation_end,
        })
    }

    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// The attributes one-hot encoded among the features.
    pub fn onehot_attributes(&self) -> Vec<OneHotAttribute> {
        let Some(table) = self.log.customers() else {
            return Vec::new();
        };
        let index = |name: &str| {
            self.names
                .iter()
                .position(|n| n == name)
                .expect("every one-hot column is named")
        };
        self.onehot_attrs
            .iter()
            .map(|&(k, _)| {
                let attr = &table.categorical[k];
                OneHotAttribute {
                    attribute: attr.name.clone(),
                    columns: attr
                        .levels
                        .iter()
                        .map(|l| (l.clone(), index(&format!("attr_{}={l}", attr.name))))
                        .collect(),
                }
            })
            .collect()
    }

    pub fn observation_end(&self) -> Timestamp {
        self.observation_end
    }

    /// Features and labels at `cutoff`.
    ///
    /// Fails when `cutoff` is before the builder's earliest cutoff, or when
    /// the label window `[cutoff, cutoff + horizon)` ends after the end of
    /// observation (labels would be silently truncated).
    pub fn build(&self, cutoff: Timestamp) -> Result<Snapshot> {
        let window_end = cutoff + self.horizon;
        ensure_config!(
            window_end <= self.observation_end,
            "cv",
            "the label window of cutoff {} ends on {}, after the end of observation {}; \
             use an earlier cutoff or a shorter horizon",
            format_date(cutoff),
            format_date(window_end),
            format_date(self.observation_end)
        );
        let (rows, x, high_cardinality) = self.features_rows(cutoff)?;
        let target = self.labels(&rows, cutoff);
        let customer_ids = rows
            .iter()
            .map(|&r| self.log.customer_ids()[r].clone())
            .collect();
        let dataset = Dataset::new(x, self.names.clone(), target)?;
        Ok(Snapshot {
            cutoff,
            customer_ids,
            dataset,
            high_cardinality,
        })
    }

    /// Features only, for scoring the present: no label window is needed.
    pub fn features_at(
        &self,
        cutoff: Timestamp,
    ) -> Result<(Vec<String>, Matrix, Vec<HighCardinality>)> {
        let (rows, x, high) = self.features_rows(cutoff)?;
        let ids = rows
            .iter()
            .map(|&r| self.log.customer_ids()[r].clone())
            .collect();
        Ok((ids, x, high))
    }

    /// Log indices of the customers in the snapshot, their features and the
    /// codes of high-cardinality attributes.
    fn features_rows(
        &self,
        cutoff: Timestamp,
    ) -> Result<(Vec<usize>, Matrix, Vec<HighCardinality>)> {
        ensure_config!(
            cutoff >= self.earliest_cutoff,
            "cv",
            "cutoff {} is before the earliest cutoff {} that fixed the feature columns",
            format_date(cutoff),
            format_date(self.earliest_cutoff)
        );
        let present: Vec<Option<Timestamp>> = (0..self.log.n_customers())
            .into_par_iter()
            .map(|i| self.entry_if_present(i, cutoff))
            .collect();
        let (rows, entries): (Vec<usize>, Vec<Timestamp>) = present
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|e| (i, e)))
            .unzip();

        let width = self.names.len();
        let mut data = vec![0.0; rows.len() * width];
        if width > 0 {
            data.par_chunks_mut(width)
                .zip(rows.par_iter().zip(entries.par_iter()))
                .for_each(|(out, (&i, &entry))| self.fill_features(i, cutoff, entry, out));
        }
        let x = Matrix::new(data, rows.len(), width)?;

        let high = match self.log.customers() {
            Some(table) => self
                .high_card_attrs
                .iter()
                .map(|&k| {
                    let attr = &table.categorical[k];
                    HighCardinality {
                        name: format!("attr_{}_te", attr.name),
                        attribute: attr.name.clone(),
                        levels: attr.levels.clone(),
                        n_levels: attr.levels.len(),
                        codes: rows.iter().map(|&r| attr.codes[r]).collect(),
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        Ok((rows, x, high))
    }

    /// When customer `i` entered, if they belong to the snapshot at `cutoff`:
    /// entered before it and not already gone.
    fn entry_if_present(&self, i: usize, cutoff: Timestamp) -> Option<Timestamp> {
        let times = self.log.times(i);
        let table = self.log.customers();
        let signup = table.and_then(|t| t.signup[i]);
        // Only a first purchase before the cutoff may count: a later one is the
        // future, and then entry < cutoff holds only through the signup date.
        let first = times.first().copied().filter(|&t| t < cutoff);
        let entry = match (signup, first) {
            (Some(s), Some(f)) => s.min(f),
            (s, f) => s.or(f)?,
        };
        if entry >= cutoff {
            return None;
        }
        if let Some(end) = table.and_then(|t| t.end[i])
            && end < cutoff
        {
            return None;
        }
        if let Some(max) = self.max_inactive {
            let n = times.partition_point(|&t| t < cutoff);
            let last = if n > 0 { times[n - 1] } else { entry };
            if cutoff - last > max {
                return None;
            }
        }
        Some(entry)
    }

    fn fill_features(&self, i: usize, c: Timestamp, entry: Timestamp, out: &mut [f64]) {
        let log = self.log;
        let all_times = log.times(i);
        let n = all_times.partition_point(|&t| t < c);
        let times = &all_times[..n];
        let amounts = &log.amounts(i)[..n];
        let days = |s: i64| s as f64 / SECONDS_PER_DAY as f64;
        let mean = |sum: f64, k: usize| if k == 0 { f64::NAN } else { sum / k as f64 };
        // Events in [c - w, c): a suffix of the prefix.
        let window_start = |w: i64| times.partition_point(|&t| t < c - w);

        let mut j = 0;
        let mut put = |v: f64| {
            out[j] = v;
            j += 1;
        };
        put(days(c - times.last().copied().unwrap_or(entry)));
        put(days(c - entry));
        let total: f64 = amounts.iter().sum();
        put(n as f64);
        put(total);
        put(mean(total, n));
        for &w in &self.windows {
            let k = window_start(w);
            let sum: f64 = amounts[k..].iter().sum();
            put((n - k) as f64);
            put(sum);
            put(mean(sum, n - k));
        }

        let (active, ipt_mean, ipt_std) = active_days(times);
        put(active as f64);
        put(ipt_mean);
        put(ipt_std);
        for &(s, l) in &self.trends {
            let fs = (n - window_start(s)) as f64;
            let fl = (n - window_start(l)) as f64;
            put(if fl == 0.0 {
                f64::NAN
            } else {
                (fs / days(s)) / (fl / days(l))
            });
        }

        if self.n_category_cols > 0 {
            let cat = &mut out[j..j + self.n_category_cols];
            let other = self.n_category_cols - 1;
            if let Some(codes) = log.category_codes(i) {
                for &code in &codes[..n] {
                    let col = self
                        .category_slot
                        .get(code as usize)
                        .copied()
                        .flatten()
                        .unwrap_or(other);
                    cat[col] += 1.0;
                }
            }
            j += self.n_category_cols;
        }

        if let Some(table) = log.customers() {
            for &k in &self.numeric_attrs {
                out[j] = table.numeric[k].values[i];
                j += 1;
            }
            for &(k, n_levels) in &self.onehot_attrs {
                let block = &mut out[j..j + n_levels];
                block.fill(0.0);
                if let Some(code) = table.categorical[k].codes[i] {
                    block[code as usize] = 1.0;
                }
                j += n_levels;
            }
        }
        debug_assert_eq!(j, out.len());
    }

    fn labels(&self, rows: &[usize], c: Timestamp) -> Target {
        let log = self.log;
        let h_end = c + self.horizon;
        let w_end = h_end.min(self.observation_end);
        let end_of = |i: usize| log.customers().and_then(|t| t.end[i]);
        // Events at or after the cutoff, from the first one on.
        let future = |i: usize| {
            let times = log.times(i);
            let k = times.partition_point(|&t| t < c);
            (&times[k..], &log.amounts(i)[k..])
        };
        let days = |s: i64| s as f64 / SECONDS_PER_DAY as f64;
        match self.task {
            Task::Churn => Target::Binary(
                rows.par_iter()
                    .map(|&i| {
                        let churned = match self.churn {
                            ChurnLabel::Cancel => end_of(i).is_some_and(|e| e >= c && e < h_end),
                            ChurnLabel::Inactivity => {
                                future(i).0.first().is_none_or(|&t| t >= h_end)
                            }
                        };
                        f64::from(u8::from(churned))
                    })
                    .collect(),
            ),
            Task::Survival => {
                let (time, event) = rows
                    .par_iter()
                    .map(|&i| {
                        let at = match self.survival {
                            SurvivalLabel::Cancel => end_of(i),
                            SurvivalLabel::NextPurchase => future(i).0.first().copied(),
                        };
                        match at {
                            Some(t) if t < w_end => (days(t - c), true),
                            _ => (days(w_end - c), false),
                        }
                    })
                    .unzip();
                Target::Survival { time, event }
            }
            Task::Clv => Target::Continuous(
                rows.par_iter()
                    .map(|&i| {
                        let (times, amounts) = future(i);
                        let k = times.partition_point(|&t| t < h_end);
                        amounts[..k].iter().sum()
                    })
                    .collect(),
            ),
        }
    }
}

/// UTC calendar day number of a timestamp.
fn day_of(t: Timestamp) -> i64 {
    t.div_euclid(SECONDS_PER_DAY)
}

/// Number of distinct active days, and the mean and population standard
/// deviation of the gaps (in days) between consecutive ones.
fn active_days(times: &[Timestamp]) -> (usize, f64, f64) {
    let Some(&first) = times.first() else {
        return (0, f64::NAN, f64::NAN);
    };
    let mut count = 1;
    let mut prev = day_of(first);
    for &t in times {
        let d = day_of(t);
        if d != prev {
            count += 1;
            prev = d;
        }
    }
    if count < 2 {
        return (count, f64::NAN, f64::NAN);
    }
    let n_gaps = (count - 1) as f64;
    let mean = (prev - day_of(first)) as f64 / n_gaps;
    if count < 3 {
        return (count, mean, f64::NAN);
    }
    // Second pass rather than a running sum of squares: gaps are small
    // integers and the two-pass form is exact where the other cancels.
    let mut ss = 0.0;
    let mut prev = day_of(first);
    for &t in times {
        let d = day_of(t);
        if d != prev {
            let dev = (d - prev) as f64 - mean;
            ss += dev * dev;
            prev = d;
        }
    }
    (count, mean, (ss / n_gaps).sqrt())
}

/// Codes of the `k` most frequent event categories strictly before `before`,
/// ties by level name.
fn top_levels(log: &CustomerLog, before: Timestamp, k: usize) -> Vec<usize> {
    let Some(cat) = log.category() else {
        return Vec::new();
    };
    let mut counts = vec![0usize; cat.levels.len()];
    for i in 0..log.n_customers() {
        let n = log.times(i).partition_point(|&t| t < before);
        for &code in &log.category_codes(i).unwrap_or_default()[..n] {
            if let Some(c) = counts.get_mut(code as usize) {
                *c += 1;
            }
        }
    }
    let mut ranked: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
    // Sort by name, not code: codes shift when later events add levels.
    ranked.sort_by(|&a, &b| {
        counts[b]
            .cmp(&counts[a])
            .then_with(|| cat.levels[a].cmp(&cat.levels[b]))
    });
    ranked.truncate(k);
    ranked
}
