//! Loss functions: gradients and hessians with respect to the raw score.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tenure_core::Link;

use crate::hist::Entry;

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Log loss on 0/1 labels; predictions are probabilities.
    #[default]
    Binary,
    /// Squared error; predictions are values.
    Regression,
    /// Tweedie deviance with a log link (spend: many zeros, a long tail).
    Tweedie,
    /// Cox partial likelihood, Breslow ties; predictions are log hazard
    /// ratios.
    Cox,
}

impl std::str::FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "binary" => Ok(Self::Binary),
            "regression" | "l2" => Ok(Self::Regression),
            "tweedie" => Ok(Self::Tweedie),
            "cox" | "survival" => Ok(Self::Cox),
            _ => Err(format!(
                "unknown objective `{s}`: expected binary, regression, tweedie or cox"
            )),
        }
    }
}

impl Objective {
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Binary => "binary",
            Objective::Regression => "regression",
            Objective::Tweedie => "tweedie",
            Objective::Cox => "cox",
        }
    }

    /// How a raw score becomes a prediction.
    pub fn link(self) -> Link {
        match self {
            Objective::Binary => Link::Sigmoid,
            Objective::Regression | Objective::Cox => Link::Identity,
            Objective::Tweedie => Link::Exp,
        }
    }
}

/// Labels in the form each objective needs.
#[derive(Debug, Clone)]
pub enum Labels<'a> {
    Values(&'a [f64]),
    Survival {
        time: &'a [f64],
        event: &'a [bool],
        /// Row indices sorted by time, ascending.
        order: Vec<u32>,
    },
}

impl<'a> Labels<'a> {
    pub fn survival(time: &'a [f64], event: &'a [bool]) -> Self {
        let mut order: Vec<u32> = (0..time.len() as u32).collect();
        order.sort_by(|&a, &b| {
            time[a as usize]
                .total_cmp(&time[b as usize])
                .then(a.cmp(&b))
        });
        Labels::Survival { time, event, order }
    }
}

/// A ready objective: the loss, its labels, weights and constants.
#[derive(Debug)]
pub struct Loss<'a> {
    pub objective: Objective,
    pub labels: Labels<'a>,
    /// Per-row weights, already multiplied by `scale_pos_weight`.
    pub weights: Option<Vec<f64>>,
    pub rho: f64,
}

impl Loss<'_> {
    fn w(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }

    /// The constant raw score that minimises the loss.
    pub fn init_score(&self) -> f64 {
        let Labels::Values(y) = &self.labels else {
            // Cox: the partial likelihood does not identify a constant.
            return 0.0;
        };
        let (mut sw, mut swy) = (0.0, 0.0);
        for (i, &v) in y.iter().enumerate() {
            let w = self.w(i);
            sw += w;
            swy += w * v;
        }
        let mean = if sw > 0.0 { swy / sw } else { 0.0 };
        match self.objective {
            Objective::Binary => {
                let p = mean.clamp(1e-15, 1.0 - 1e-15);
                (p / (1.0 - p)).ln()
            }
            Objective::Regression => mean,
            Objective::Tweedie => mean.max(1e-15).ln(),
            Objective::Cox => 0.0,
        }
    }

    /// Gradients and hessians at the current raw scores.
    pub fn gradients(&self, score: &[f64], out: &mut [Entry]) {
        match (&self.labels, self.objective) {
            (Labels::Values(y), Objective::Binary) => {
                out.par_iter_mut().enumerate().for_each(|(i, e)| {
                    let p = 1.0 / (1.0 + (-score[i]).exp());
                    let w = self.w(i);
                    *e = [w * (p - y[i]), w * (p * (1.0 - p)).max(1e-16)];
                });
            }
            (Labels::Values(y), Objective::Regression) => {
                out.par_iter_mut().enumerate().for_each(|(i, e)| {
                    let w = self.w(i);
                    *e = [w * (score[i] - y[i]), w];
                });
            }
            (Labels::Values(y), Objective::Tweedie) => {
                let rho = self.rho;
                out.par_iter_mut().enumerate().for_each(|(i, e)| {
                    let s = score[i];
                    let a = ((1.0 - rho) * s).exp();
                    let b = ((2.0 - rho) * s).exp();
                    let w = self.w(i);
                    *e = [
                        w * (-y[i] * a + b),
                        w * (-y[i] * (1.0 - rho) * a + (2.0 - rho) * b),
                    ];
                });
            }
            (Labels::Survival { time, event, order }, Objective::Cox) => {
                self.cox_gradients(time, event, order, score, out)
            }
            _ => unreachable!("labels are built to match the objective"),
        }
    }

    /// Breslow partial likelihood: for an event time `t`, the risk set is
    /// every row with time >= t, and tied events share it.
    fn cox_gradients(
        &self,
        time: &[f64],
        event: &[bool],
        order: &[u32],
        score: &[f64],
        out: &mut [Entry],
    ) {
        let n = order.len();
        // Scores are centred for exp's sake; the likelihood is invariant.
        let max = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shift = if max.is_finite() { max } else { 0.0 };
        let risk: Vec<f64> = (0..n)
            .map(|i| self.w(i) * (score[i] - shift).exp())
            .collect();
        // Risk-set sums from the end (latest time first).
        let mut at_risk = vec![0.0; n];
        let mut acc = 0.0;
        for k in (0..n).rev() {
            acc += risk[order[k] as usize];
            at_risk[k] = acc;
        }
        let (mut r, mut s) = (0.0, 0.0);
        let mut k = 0;
        while k < n {
            let t = time[order[k] as usize];
            let mut end = k;
            let mut d = 0.0;
            while end < n && time[order[end] as usize] == t {
                let i = order[end] as usize;
                if event[i] {
                    d += self.w(i);
                }
                end += 1;
            }
            if d > 0.0 {
                let big_r = at_risk[k];
                r += d / big_r;
                s += d / (big_r * big_r);
            }
            for &i in &order[k..end] {
                let i = i as usize;
                let e = risk[i];
                let delta = if event[i] { self.w(i) } else { 0.0 };
                out[i] = [e * r - delta, (e * r - e * e * s).max(1e-16)];
            }
            k = end;
        }
    }
}
