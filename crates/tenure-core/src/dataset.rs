use serde::{Deserialize, Serialize};

use crate::{CoreError, Result, Task};

/// A dense, row-major matrix of `f64`; `NaN` marks a missing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Matrix {
    data: Vec<f64>,
    n_rows: usize,
    n_cols: usize,
}

impl Matrix {
    pub fn new(data: Vec<f64>, n_rows: usize, n_cols: usize) -> Result<Self> {
        if data.len() != n_rows * n_cols {
            return Err(CoreError::Shape(format!(
                "{} values cannot fill a {n_rows} x {n_cols} matrix",
                data.len()
            )));
        }
        Ok(Self {
            data,
            n_rows,
            n_cols,
        })
    }

    pub fn zeros(n_rows: usize, n_cols: usize) -> Self {
        Self {
            data: vec![0.0; n_rows * n_cols],
            n_rows,
            n_cols,
        }
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let n_cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * n_cols);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != n_cols {
                return Err(CoreError::Shape(format!(
                    "row {i} has {} values, row 0 has {n_cols}",
                    row.len()
                )));
            }
            data.extend_from_slice(row);
        }
        Self::new(data, rows.len(), n_cols)
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.n_cols + col]
    }

    pub fn set(&mut self, row: usize, col: usize, value: f64) {
        self.data[row * self.n_cols + col] = value;
    }

    pub fn row(&self, row: usize) -> &[f64] {
        &self.data[row * self.n_cols..(row + 1) * self.n_cols]
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> {
        // `max(1)` keeps `chunks_exact` valid for zero-column matrices.
        let width = self.n_cols.max(1);
        let n = if self.n_cols == 0 { 0 } else { self.n_rows };
        self.data.chunks_exact(width).take(n)
    }

    pub fn column(&self, col: usize) -> impl ExactSizeIterator<Item = f64> + '_ {
        (0..self.n_rows).map(move |r| self.get(r, col))
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Rows picked by index, in the given order.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.n_cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            data,
            n_rows: idx.len(),
            n_cols: self.n_cols,
        }
    }

    /// Stacks matrices with the same number of columns on top of each other.
    pub fn vstack(parts: &[&Matrix]) -> Result<Matrix> {
        let n_cols = parts.first().map_or(0, |m| m.n_cols);
        let mut data = Vec::new();
        let mut n_rows = 0;
        for m in parts {
            if m.n_cols != n_cols {
                return Err(CoreError::Shape(format!(
                    "cannot stack a matrix of {} columns under one of {n_cols}",
                    m.n_cols
                )));
            }
            data.extend_from_slice(&m.data);
            n_rows += m.n_rows;
        }
        Matrix::new(data, n_rows, n_cols)
    }

    /// Appends columns (same number of rows) to the right.
    pub fn hstack(&self, other: &Matrix) -> Result<Matrix> {
        if other.n_rows != self.n_rows {
            return Err(CoreError::Shape(format!(
                "cannot put {} rows beside {}",
                other.n_rows, self.n_rows
            )));
        }
        let n_cols = self.n_cols + other.n_cols;
        let mut data = Vec::with_capacity(self.n_rows * n_cols);
        for r in 0..self.n_rows {
            data.extend_from_slice(self.row(r));
            data.extend_from_slice(other.row(r));
        }
        Matrix::new(data, self.n_rows, n_cols)
    }
}

/// What a row is labelled with; its variant fixes the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// 1.0 = churned within the horizon, 0.0 = stayed.
    Binary(Vec<f64>),
    /// Days from the cutoff to the event (`event = true`) or to censoring.
    Survival { time: Vec<f64>, event: Vec<bool> },
    /// Amount spent within the horizon.
    Continuous(Vec<f64>),
}

impl Target {
    pub fn len(&self) -> usize {
        match self {
            Target::Binary(y) | Target::Continuous(y) => y.len(),
            Target::Survival { time, .. } => time.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn task(&self) -> Task {
        match self {
            Target::Binary(_) => Task::Churn,
            Target::Survival { .. } => Task::Survival,
            Target::Continuous(_) => Task::Clv,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Binary(_) => "binary",
            Target::Survival { .. } => "survival",
            Target::Continuous(_) => "continuous",
        }
    }

    pub fn select(&self, idx: &[usize]) -> Target {
        let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
        match self {
            Target::Binary(y) => Target::Binary(pick(y)),
            Target::Continuous(y) => Target::Continuous(pick(y)),
            Target::Survival { time, event } => Target::Survival {
                time: pick(time),
                event: idx.iter().map(|&i| event[i]).collect(),
            },
        }
    }

    /// Concatenates targets of the same kind.
    pub fn concat(parts: &[&Target]) -> Result<Target> {
        let Some(first) = parts.first() else {
            return Err(CoreError::Shape("cannot concatenate zero targets".into()));
        };
        let mut out = match first {
            Target::Binary(_) => Target::Binary(Vec::new()),
            Target::Continuous(_) => Target::Continuous(Vec::new()),
            Target::Survival { .. } => Target::Survival {
                time: Vec::new(),
                event: Vec::new(),
            },
        };
        for p in parts {
            match (&mut out, p) {
                (Target::Binary(a), Target::Binary(b))
                | (Target::Continuous(a), Target::Continuous(b)) => a.extend_from_slice(b),
                (
                    Target::Survival { time, event },
                    Target::Survival {
                        time: t2,
                        event: e2,
                    },
                ) => {
                    time.extend_from_slice(t2);
                    event.extend_from_slice(e2);
                }
                _ => {
                    return Err(CoreError::Shape(format!(
                        "cannot concatenate a {} target with a {} one",
                        first.kind(),
                        p.kind()
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// Feature rows, their names and their labels: what every model trains on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    x: Matrix,
    feature_names: Vec<String>,
    target: Target,
    weights: Option<Vec<f64>>,
}

impl Dataset {
    pub fn new(x: Matrix, feature_names: Vec<String>, target: Target) -> Result<Self> {
        if feature_names.len() != x.n_cols() {
            return Err(CoreError::Shape(format!(
                "{} feature names for {} columns",
                feature_names.len(),
                x.n_cols()
            )));
        }
        if target.len() != x.n_rows() {
            return Err(CoreError::Shape(format!(
                "{} labels for {} rows",
                target.len(),
                x.n_rows()
            )));
        }
        Ok(Self {
            x,
            feature_names,
            target,
            weights: None,
        })
    }

    /// Per-row weights (class imbalance, importance sampling).
    pub fn with_weights(mut self, weights: Vec<f64>) -> Result<Self> {
        if weights.len() != self.n_rows() {
            return Err(CoreError::Shape(format!(
                "{} weights for {} rows",
                weights.len(),
                self.n_rows()
            )));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    pub fn x(&self) -> &Matrix {
        &self.x
    }

    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    pub fn task(&self) -> Task {
        self.target.task()
    }

    pub fn n_rows(&self) -> usize {
        self.x.n_rows()
    }

    pub fn n_features(&self) -> usize {
        self.x.n_cols()
    }

    pub fn select_rows(&self, idx: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select_rows(idx),
            feature_names: self.feature_names.clone(),
            target: self.target.select(idx),
            weights: self
                .weights
                .as_ref()
                .map(|w| idx.iter().map(|&i| w[i]).collect()),
        }
    }
}
