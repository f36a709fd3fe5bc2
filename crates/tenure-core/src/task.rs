use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a model predicts about a customer at a cutoff date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Will the customer churn within the horizon? Predictions are probabilities.
    Churn,
    /// When will the event happen? Predictions are risk scores: higher means sooner.
    Survival,
    /// How much will the customer spend within the horizon? Predictions are amounts.
    Clv,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Churn, Task::Survival, Task::Clv];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Churn => "churn",
            Task::Survival => "survival",
            Task::Clv => "clv",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Task::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown task `{s}`: expected churn, survival or clv"))
    }
}
