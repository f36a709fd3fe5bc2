//! Rolling-origin, time-split cross-validation.
//!
//! Each fold validates on the snapshot at one cutoff `v` and trains on
//! snapshots at earlier cutoffs `c` whose whole label window closes by `v`
//! (`c + horizon <= v`), so that no training label has seen the validation
//! period. A held-out test cutoff after every validation cutoff is scored
//! once, by a model trained the same way.
//!
//! ```
//! use tenure_data::{CvConfig, parse_date};
//!
//! let day = |s| parse_date(s).unwrap();
//! let cv = CvConfig {
//!     first: Some("2024-01-01".into()),
//!     every_days: Some(30),
//!     folds: 2,
//!     ..CvConfig::default()
//! };
//! let plan = cv.plan(30, day("2024-07-01")).unwrap();
//! assert_eq!(plan.test.valid_cutoff, day("2024-05-30"));
//! assert_eq!(plan.folds[1].valid_cutoff, day("2024-04-30"));
//! assert_eq!(plan.folds[1].train_cutoffs.last(), Some(&day("2024-03-31")));
//! ```

use serde::{Deserialize, Serialize};

use crate::{DataError, Result, SECONDS_PER_DAY, Timestamp, ensure_config};
use crate::{format_date, parse_date};

/// How many past snapshots a fold trains on.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Every eligible earlier snapshot.
    #[default]
    Expanding,
    /// Only the most recent `window` eligible snapshots.
    Sliding,
}

/// Where the snapshots are and how they are split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CvConfig {
    /// Explicit snapshot cutoffs (dates), instead of the grid below.
    #[serde(default)]
    pub cutoffs: Option<Vec<String>>,
    /// First cutoff of the grid `first + k * every_days`.
    #[serde(default)]
    pub first: Option<String>,
    #[serde(default)]
    pub every_days: Option<u32>,
    /// Number of validation folds.
    #[serde(default = "default_folds")]
    pub folds: usize,
    #[serde(default)]
    pub scheme: Scheme,
    /// Sliding scheme: number of most recent eligible training snapshots.
    #[serde(default)]
    pub window: Option<usize>,
    /// Held-out test cutoff; default: the latest cutoff whose label window is
    /// fully observed.
    #[serde(default)]
    pub test_cutoff: Option<String>,
}

fn default_folds() -> usize {
    3
}

impl Default for CvConfig {
    fn default() -> Self {
        Self {
            cutoffs: None,
            first: None,
            every_days: None,
            folds: default_folds(),
            scheme: Scheme::Expanding,
            window: None,
            test_cutoff: None,
        }
    }
}

/// The cutoffs to snapshot and how folds use them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CvPlan {
    /// Every cutoff any fold or the test uses, ascending, test included.
    pub snapshot_cutoffs: Vec<Timestamp>,
    /// Validation folds, oldest first.
    pub folds: Vec<Fold>,
    pub test: Fold,
    pub horizon_days: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fold {
    /// "fold 1", "fold 2", … or "test".
    pub name: String,
    /// Ascending.
    pub train_cutoffs: Vec<Timestamp>,
    pub valid_cutoff: Timestamp,
}

impl CvPlan {
    pub fn earliest(&self) -> Timestamp {
        self.snapshot_cutoffs[0]
    }

    /// The validation folds, then the test.
    pub fn all_folds(&self) -> impl Iterator<Item = &Fold> {
        self.folds.iter().chain(std::iter::once(&self.test))
    }
}

fn parse(key: &str, s: &str) -> Result<Timestamp> {
    parse_date(s).ok_or_else(|| DataError::Config {
        key: key.into(),
        reason: format!("cannot parse date `{s}` (expected YYYY-MM-DD)"),
    })
}

impl CvConfig {
    /// Places the folds for labels `horizon_days` long in a log observed up
    /// to `observation_end`.
    pub fn plan(&self, horizon_days: u32, observation_end: Timestamp) -> Result<CvPlan> {
        ensure_config!(
            horizon_days >= 1,
            "labels.horizon_days",
            "the horizon must be at least 1 day, got {horizon_days}"
        );
        ensure_config!(
            self.folds >= 1,
            "cv.folds",
            "at least one validation fold is needed, got 0"
        );
        let window = match (self.scheme, self.window) {
            (Scheme::Sliding, Some(0)) | (Scheme::Sliding, None) => {
                return Err(DataError::Config {
                    key: "cv.window".into(),
                    reason: "the sliding scheme needs `window` >= 1: the number of most \
                             recent training snapshots per fold"
                        .into(),
                });
            }
            (Scheme::Sliding, Some(w)) => Some(w),
            (Scheme::Expanding, Some(_)) => {
                return Err(DataError::Config {
                    key: "cv.window".into(),
                    reason: "`window` applies only to scheme = \"sliding\"".into(),
                });
            }
            (Scheme::Expanding, None) => None,
        };
        let h = i64::from(horizon_days) * SECONDS_PER_DAY;
        let last_observable = observation_end - h;
        let end = format_date(observation_end);

        let points = self.points(last_observable)?;
        let test = match &self.test_cutoff {
            Some(s) => {
                let t = parse("cv.test_cutoff", s)?;
                ensure_config!(
                    t <= last_observable,
                    "cv.test_cutoff",
                    "the {horizon_days}-day label window of test cutoff {} ends on {}, after the \
                     end of observation {end}",
                    format_date(t),
                    format_date(t + h)
                );
                t
            }
            None => match points.iter().rev().find(|&&t| t <= last_observable) {
                Some(&t) => t,
                None => {
                    let key = if self.cutoffs.is_some() {
                        "cv.cutoffs"
                    } else {
                        "cv.first"
                    };
                    return Err(DataError::Config {
                        key: key.into(),
                        reason: format!(
                            "no cutoff has its {horizon_days}-day label window end by the end of \
                             observation {end}; the latest usable cutoff is {}",
                            format_date(last_observable)
                        ),
                    });
                }
            },
        };

        let candidates: Vec<Timestamp> = points.into_iter().filter(|&c| c < test).collect();
        let train_for = |v: Timestamp| -> Vec<Timestamp> {
            let eligible: Vec<Timestamp> =
                candidates.iter().copied().filter(|&c| c + h <= v).collect();
            match window {
                Some(w) => eligible[eligible.len().saturating_sub(w)..].to_vec(),
                None => eligible,
            }
        };
        let valid: Vec<Timestamp> = candidates
            .iter()
            .copied()
            .filter(|&v| v <= last_observable && candidates.iter().any(|&c| c + h <= v))
            .collect();
        ensure_config!(
            valid.len() >= self.folds,
            "cv.folds",
            "{} folds requested but only {} possible: a validation cutoff needs a training \
             cutoff at least {horizon_days} days (the horizon) before it, and all must be \
             before the test cutoff {}; set an earlier `cv.first` (or more `cv.cutoffs`) or \
             fewer `cv.folds`",
            self.folds,
            valid.len(),
            format_date(test)
        );

        let folds: Vec<Fold> = valid[valid.len() - self.folds..]
            .iter()
            .enumerate()
            .map(|(k, &v)| Fold {
                name: format!("fold {}", k + 1),
                train_cutoffs: train_for(v),
                valid_cutoff: v,
            })
            .collect();
        let test = Fold {
            name: "test".into(),
            train_cutoffs: train_for(test),
            valid_cutoff: test,
        };
        let mut snapshot_cutoffs: Vec<Timestamp> = folds
            .iter()
            .chain(std::iter::once(&test))
            .flat_map(|f| f.train_cutoffs.iter().copied().chain([f.valid_cutoff]))
            .collect();
        snapshot_cutoffs.sort_unstable();
        snapshot_cutoffs.dedup();
        Ok(CvPlan {
            snapshot_cutoffs,
            folds,
            test,
            horizon_days,
        })
    }

    /// Candidate cutoffs, ascending: the explicit list, or the grid up to the
    /// last cutoff whose label window is observed.
    fn points(&self, last_observable: Timestamp) -> Result<Vec<Timestamp>> {
        match (&self.cutoffs, &self.first, self.every_days) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(DataError::Config {
                key: "cv.cutoffs".into(),
                reason: "give either explicit `cutoffs` or the grid `first` + `every_days`, \
                         not both"
                    .into(),
            }),
            (Some(list), None, None) => {
                ensure_config!(
                    !list.is_empty(),
                    "cv.cutoffs",
                    "the list is empty; give at least two dates"
                );
                let mut points = list
                    .iter()
                    .map(|s| parse("cv.cutoffs", s))
                    .collect::<Result<Vec<_>>>()?;
                points.sort_unstable();
                points.dedup();
                Ok(points)
            }
            (None, None, _) => Err(DataError::Config {
                key: "cv.first".into(),
                reason: "no cutoffs: set `first` and `every_days`, or list `cutoffs`".into(),
            }),
            (None, Some(_), None) => Err(DataError::Config {
                key: "cv.every_days".into(),
                reason: "missing: the spacing of the cutoff grid starting at `first`".into(),
            }),
            (None, Some(first), Some(every)) => {
                ensure_config!(
                    every >= 1,
                    "cv.every_days",
                    "the grid spacing must be at least 1 day, got 0"
                );
                let first = parse("cv.first", first)?;
                let step = i64::from(every) * SECONDS_PER_DAY;
                // Later points could be neither the test cutoff (its label
                // window is unobserved) nor before it.
                let mut points = Vec::new();
                let mut t = first;
                while t <= last_observable {
                    points.push(t);
                    t += step;
                }
                Ok(points)
            }
        }
    }
}
