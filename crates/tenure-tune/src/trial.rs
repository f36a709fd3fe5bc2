//! Trials and the direction of a study.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::space::Params;

/// Whether smaller or larger objective values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Minimize,
    Maximize,
}

impl Direction {
    /// The value as a loss: smaller is better either way.
    pub fn loss(self, value: f64) -> f64 {
        match self {
            Direction::Minimize => value,
            Direction::Maximize => -value,
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        self.loss(a) < self.loss(b)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "minimize" => Ok(Direction::Minimize),
            "maximize" => Ok(Direction::Maximize),
            other => Err(format!(
                "unknown direction `{other}` (expected minimize or maximize)"
            )),
        }
    }
}

/// Where a trial stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    Running,
    Complete,
    Pruned,
    Fail,
}

impl TrialState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrialState::Running => "running",
            TrialState::Complete => "complete",
            TrialState::Pruned => "pruned",
            TrialState::Fail => "fail",
        }
    }

    pub(crate) fn from_str_opt(s: &str) -> Option<Self> {
        Some(match s {
            "running" => TrialState::Running,
            "complete" => TrialState::Complete,
            "pruned" => TrialState::Pruned,
            "fail" => TrialState::Fail,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        self != TrialState::Running
    }
}

impl fmt::Display for TrialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One evaluated (or running) configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 0, 1, 2, … in the order trials were claimed; unique in a study.
    pub number: u64,
    pub state: TrialState,
    pub params: Params,
    /// The objective, for complete trials; the last intermediate value for
    /// pruned ones.
    pub value: Option<f64>,
    /// Intermediate values by step (1-based resource: fold, epoch, round).
    #[serde(default)]
    pub intermediate: BTreeMap<u64, f64>,
}

impl Trial {
    /// A complete trial (for building histories by hand).
    pub fn complete(number: u64, params: Params, value: f64) -> Self {
        Self {
            number,
            state: TrialState::Complete,
            params,
            value: Some(value),
            intermediate: BTreeMap::new(),
        }
    }

    /// Complete with a finite value.
    pub fn is_complete(&self) -> bool {
        self.state == TrialState::Complete && self.value.is_some_and(f64::is_finite)
    }
}

/// The best complete trial of a history.
pub fn best_trial(trials: &[Trial], direction: Direction) -> Option<&Trial> {
    trials.iter().filter(|t| t.is_complete()).min_by(|a, b| {
        let (la, lb) = (
            direction.loss(a.value.unwrap_or(f64::NAN)),
            direction.loss(b.value.unwrap_or(f64::NAN)),
        );
        la.total_cmp(&lb).then(a.number.cmp(&b.number))
    })
}
