//! The base-learner abstraction and the three meta-learners.

use std::fmt::{Debug, Display};

use tenure_core::{CoreError, Dataset, Fit, Matrix, Predict, Target};
use thiserror::Error;

use crate::UpliftError;

/// Why a base learner failed, in its own words.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{0}")]
pub struct LearnerError(pub String);

/// A model family an uplift model can train: fits on a dataset and scores
/// other rows laid out like it. A binary target asks for probabilities of
/// 1, a continuous one for expected values.
pub trait BaseLearner: Debug {
    fn fit_predict(&self, train: &Dataset, x: &Matrix) -> Result<Vec<f64>, LearnerError>;
}

/// Any tenure model family, through its checked parameters.
#[derive(Debug, Clone)]
pub struct Learner<P>(pub P);

impl<P> BaseLearner for Learner<P>
where
    P: Fit + Debug,
    P::Error: Display,
    <P::Model as Predict>::Error: Display,
{
    fn fit_predict(&self, train: &Dataset, x: &Matrix) -> Result<Vec<f64>, LearnerError> {
        let model = self.0.fit(train).map_err(|e| LearnerError(e.to_string()))?;
        model.predict(x).map_err(|e| LearnerError(e.to_string()))
    }
}

/// Training rows of a randomised experiment: features, the outcome
/// (binary or continuous, higher = better) and each row's arm.
#[derive(Debug, Clone, Copy)]
pub struct UpliftData<'a> {
    x: &'a Matrix,
    names: &'a [String],
    outcome: &'a [f64],
    binary: bool,
    treatment: &'a [bool],
}

impl<'a> UpliftData<'a> {
    /// Checks that the pieces line up, that the outcome is binary or
    /// continuous, and that both arms have rows.
    pub fn new(
        x: &'a Matrix,
        names: &'a [String],
        outcome: &'a Target,
        treatment: &'a [bool],
    ) -> Result<Self, UpliftError> {
        let (values, binary) = match outcome {
            Target::Binary(y) => (y.as_slice(), true),
            Target::Continuous(y) => (y.as_slice(), false),
            Target::Survival { .. } => {
                return Err(UpliftError::WrongOutcome {
                    got: outcome.kind(),
                });
            }
        };
        let shape = |what: String| UpliftError::Core(CoreError::Shape(what));
        if names.len() != x.n_cols() {
            return Err(shape(format!(
                "{} feature names for {} columns",
                names.len(),
                x.n_cols()
            )));
        }
        for (what, len) in [("outcomes", values.len()), ("arms", treatment.len())] {
            if len != x.n_rows() {
                return Err(shape(format!("{len} {what} for {} rows", x.n_rows())));
            }
        }
        let treated = treatment.iter().filter(|&&t| t).count();
        let control = treatment.len() - treated;
        if treated == 0 || control == 0 {
            return Err(UpliftError::OneArm { treated, control });
        }
        Ok(Self {
            x,
            names,
            outcome: values,
            binary,
            treatment,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.outcome.len()
    }

    /// Share of treated rows: the propensity of a randomised experiment.
    pub fn treated_share(&self) -> f64 {
        self.treatment.iter().filter(|&&t| t).count() as f64 / self.n_rows() as f64
    }

    fn rows_of(&self, treated: bool) -> Vec<usize> {
        (0..self.n_rows())
            .filter(|&i| self.treatment[i] == treated)
            .collect()
    }

    fn target(&self, values: Vec<f64>, binary: bool) -> Target {
        if binary {
            Target::Binary(values)
        } else {
            Target::Continuous(values)
        }
    }

    /// The rows `idx` with the outcome as target.
    fn outcome_dataset(&self, idx: &[usize]) -> Result<Dataset, UpliftError> {
        let y = idx.iter().map(|&i| self.outcome[i]).collect();
        self.dataset(idx, self.target(y, self.binary))
    }

    fn dataset(&self, idx: &[usize], target: Target) -> Result<Dataset, UpliftError> {
        Ok(Dataset::new(
            self.x.select_rows(idx),
            self.names.to_vec(),
            target,
        )?)
    }
}

/// A meta-learner: trains its base models on an experiment's rows and
/// predicts the uplift of other rows (in outcome units).
pub trait UpliftLearner: Debug {
    /// The name used in configs and reports (`t_learner`, …).
    fn name(&self) -> &'static str;

    fn fit_predict(&self, train: &UpliftData, x: &Matrix) -> Result<Vec<f64>, UpliftError>;
}

/// The names of the meta-learners, as configs spell them.
pub const META_LEARNERS: &[&str] = &["t_learner", "x_learner", "class_transformation"];

/// Fits `learner` and checks it scored every row.
fn run(
    meta: &'static str,
    model: &'static str,
    learner: &dyn BaseLearner,
    train: &Dataset,
    x: &Matrix,
) -> Result<Vec<f64>, UpliftError> {
    let pred = learner
        .fit_predict(train, x)
        .map_err(|e| UpliftError::Learner {
            learner: meta,
            model,
            message: e.0,
        })?;
    if pred.len() != x.n_rows() {
        return Err(UpliftError::PredictionCount {
            learner: meta,
            model,
            got: pred.len(),
            expected: x.n_rows(),
        });
    }
    Ok(pred)
}

/// Two models: one outcome model per arm, uplift = their difference.
#[derive(Debug, Clone, Copy)]
pub struct TLearner<'a> {
    outcome: &'a dyn BaseLearner,
}

impl<'a> TLearner<'a> {
    pub fn new(outcome: &'a dyn BaseLearner) -> Self {
        Self { outcome }
    }
}

impl UpliftLearner for TLearner<'_> {
    fn name(&self) -> &'static str {
        "t_learner"
    }

    fn fit_predict(&self, train: &UpliftData, x: &Matrix) -> Result<Vec<f64>, UpliftError> {
        let name = self.name();
        let treated = train.outcome_dataset(&train.rows_of(true))?;
        let control = train.outcome_dataset(&train.rows_of(false))?;
        let mu1 = run(name, "treated outcome model", self.outcome, &treated, x)?;
        let mu0 = run(name, "control outcome model", self.outcome, &control, x)?;
        Ok(mu1.iter().zip(&mu0).map(|(a, b)| a - b).collect())
    }
}

/// X-learner: the T-learner's outcome models impute each training row's
/// effect from the other arm's model, two effect regressions learn those,
/// and the propensity weighs them (the regression trained on the larger arm
/// gets the larger weight).
#[derive(Debug, Clone, Copy)]
pub struct XLearner<'a> {
    outcome: &'a dyn BaseLearner,
    effect: &'a dyn BaseLearner,
}

impl<'a> XLearner<'a> {
    /// `effect` is trained on continuous targets (imputed effects).
    pub fn new(outcome: &'a dyn BaseLearner, effect: &'a dyn BaseLearner) -> Self {
        Self { outcome, effect }
    }
}

impl UpliftLearner for XLearner<'_> {
    fn name(&self) -> &'static str {
        "x_learner"
    }

    fn fit_predict(&self, train: &UpliftData, x: &Matrix) -> Result<Vec<f64>, UpliftError> {
        let name = self.name();
        let (rows1, rows0) = (train.rows_of(true), train.rows_of(false));
        let (x1, x0) = (train.x.select_rows(&rows1), train.x.select_rows(&rows0));
        let treated = train.outcome_dataset(&rows1)?;
        let control = train.outcome_dataset(&rows0)?;
        // Each arm's outcome model scores the other arm's training rows.
        let mu0_on_treated = run(name, "control outcome model", self.outcome, &control, &x1)?;
        let mu1_on_control = run(name, "treated outcome model", self.outcome, &treated, &x0)?;
        let d1: Vec<f64> = rows1
            .iter()
            .zip(&mu0_on_treated)
            .map(|(&i, m)| train.outcome[i] - m)
            .collect();
        let d0: Vec<f64> = rows0
            .iter()
            .zip(&mu1_on_control)
            .map(|(&i, m)| m - train.outcome[i])
            .collect();
        let tau1 = run(
            name,
            "treated effect model",
            self.effect,
            &train.dataset(&rows1, Target::Continuous(d1))?,
            x,
        )?;
        let tau0 = run(
            name,
            "control effect model",
            self.effect,
            &train.dataset(&rows0, Target::Continuous(d0))?,
            x,
        )?;
        let p = train.treated_share();
        Ok(tau0
            .iter()
            .zip(&tau1)
            .map(|(t0, t1)| p * t0 + (1.0 - p) * t1)
            .collect())
    }
}

/// Class transformation: one model of whether the outcome "agrees" with
/// the arm. For a binary outcome, `Z = 1` for treated responders and control
/// non-responders; with the arms weighted to equal totals,
/// `2 P(Z = 1 | x) − 1` is the uplift. For a continuous outcome, the
/// regression of the transformed outcome `Y (W − p) / (p (1 − p))`, whose
/// conditional mean is the uplift.
#[derive(Debug, Clone, Copy)]
pub struct ClassTransformation<'a> {
    classifier: &'a dyn BaseLearner,
    regressor: &'a dyn BaseLearner,
}

impl<'a> ClassTransformation<'a> {
    /// `classifier` serves binary outcomes and must honour dataset
    /// weights; `regressor` serves continuous ones.
    pub fn new(classifier: &'a dyn BaseLearner, regressor: &'a dyn BaseLearner) -> Self {
        Self {
            classifier,
            regressor,
        }
    }
}

impl UpliftLearner for ClassTransformation<'_> {
    fn name(&self) -> &'static str {
        "class_transformation"
    }

    fn fit_predict(&self, train: &UpliftData, x: &Matrix) -> Result<Vec<f64>, UpliftError> {
        let name = self.name();
        let p = train.treated_share();
        let all: Vec<usize> = (0..train.n_rows()).collect();
        let arms = || train.outcome.iter().zip(train.treatment);
        if !train.binary {
            let transformed = arms()
                .map(|(&y, &w)| y * (f64::from(u8::from(w)) - p) / (p * (1.0 - p)))
                .collect();
            let data = train.dataset(&all, Target::Continuous(transformed))?;
            return run(
                name,
                "transformed-outcome regression",
                self.regressor,
                &data,
                x,
            );
        }
        let z = arms()
            .map(|(&y, &w)| f64::from(u8::from((y == 1.0) == w)))
            .collect();
        // Weights 1/(2p) and 1/(2(1 − p)) give both arms the same total
        // (n/2), which the identity uplift = 2 P(Z = 1) − 1 assumes.
        let weights = train
            .treatment
            .iter()
            .map(|&w| if w { 0.5 / p } else { 0.5 / (1.0 - p) })
            .collect();
        let data = train
            .dataset(&all, Target::Binary(z))?
            .with_weights(weights)?;
        let prob = run(
            name,
            "transformed-class classifier",
            self.classifier,
            &data,
            x,
        )?;
        Ok(prob.iter().map(|q| 2.0 * q - 1.0).collect())
    }
}
