//! Standard test functions of black-box optimisation and a harness that
//! runs a sampler on them over several seeds (`tenure bench hpo`).

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;

use crate::sampler::{SampleContext, Sampler, SamplerKind};
use crate::space::{ParamDef, Params, SearchSpace};
use crate::trial::{Direction, Trial};
use crate::{Result, TuneError};

/// A test function to minimise, with its box and known minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestFunction {
    /// 2-D, three global minima (Branin–Hoo).
    Branin,
    /// 2-D on `[-2, 2]²`, values spanning five orders of magnitude.
    GoldsteinPrice,
    /// 3-D on the unit cube, four local minima.
    Hartmann3,
    /// 6-D on the unit cube, six local minima.
    Hartmann6,
}

impl TestFunction {
    pub const ALL: &'static [TestFunction] = &[
        TestFunction::Branin,
        TestFunction::GoldsteinPrice,
        TestFunction::Hartmann3,
        TestFunction::Hartmann6,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TestFunction::Branin => "branin",
            TestFunction::GoldsteinPrice => "goldstein_price",
            TestFunction::Hartmann3 => "hartmann3",
            TestFunction::Hartmann6 => "hartmann6",
        }
    }

    /// The global minimum.
    pub fn optimum(self) -> f64 {
        match self {
            TestFunction::Branin => 0.397_887_357_729_738,
            TestFunction::GoldsteinPrice => 3.0,
            TestFunction::Hartmann3 => -3.862_782_147_820_756,
            TestFunction::Hartmann6 => -3.322_368_011_391_339,
        }
    }

    pub fn space(self) -> SearchSpace {
        let defs = match self {
            TestFunction::Branin => vec![
                ParamDef::float("x1", -5.0, 10.0),
                ParamDef::float("x2", 0.0, 15.0),
            ],
            TestFunction::GoldsteinPrice => vec![
                ParamDef::float("x1", -2.0, 2.0),
                ParamDef::float("x2", -2.0, 2.0),
            ],
            TestFunction::Hartmann3 => (1..=3)
                .map(|i| ParamDef::float(&format!("x{i}"), 0.0, 1.0))
                .collect(),
            TestFunction::Hartmann6 => (1..=6)
                .map(|i| ParamDef::float(&format!("x{i}"), 0.0, 1.0))
                .collect(),
        };
        SearchSpace::new(defs).expect("test function spaces are valid")
    }

    /// The function at a point of its space.
    pub fn eval(self, params: &Params) -> f64 {
        let dim = match self {
            TestFunction::Branin | TestFunction::GoldsteinPrice => 2,
            TestFunction::Hartmann3 => 3,
            TestFunction::Hartmann6 => 6,
        };
        let x: Vec<f64> = (1..=dim)
            .map(|i| {
                params
                    .get(&format!("x{i}"))
                    .and_then(|v| v.as_f64())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        self.eval_vec(&x)
    }

    /// The function at `x` (coordinates in order `x1, x2, …`).
    pub fn eval_vec(self, x: &[f64]) -> f64 {
        match self {
            TestFunction::Branin => {
                let (a, b, c) = (1.0, 5.1 / (4.0 * PI * PI), 5.0 / PI);
                let (r, s, t) = (6.0, 10.0, 1.0 / (8.0 * PI));
                a * (x[1] - b * x[0] * x[0] + c * x[0] - r).powi(2) + s * (1.0 - t) * x[0].cos() + s
            }
            TestFunction::GoldsteinPrice => {
                let (x, y) = (x[0], x[1]);
                let a = 1.0
                    + (x + y + 1.0).powi(2)
                        * (19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y);
                let b = 30.0
                    + (2.0 * x - 3.0 * y).powi(2)
                        * (18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y);
                a * b
            }
            TestFunction::Hartmann3 => hartmann(x, &HARTMANN3_A, &HARTMANN3_P),
            TestFunction::Hartmann6 => hartmann(x, &HARTMANN6_A, &HARTMANN6_P),
        }
    }
}

const HARTMANN_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const HARTMANN3_A: [[f64; 3]; 4] = [
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
];
const HARTMANN3_P: [[f64; 3]; 4] = [
    [0.3689, 0.1170, 0.2673],
    [0.4699, 0.4387, 0.7470],
    [0.1091, 0.8732, 0.5547],
    [0.0381, 0.5743, 0.8828],
];
const HARTMANN6_A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const HARTMANN6_P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

fn hartmann<const D: usize>(x: &[f64], a: &[[f64; D]; 4], p: &[[f64; D]; 4]) -> f64 {
    -(0..4)
        .map(|i| {
            let inner: f64 = (0..D).map(|j| a[i][j] * (x[j] - p[i][j]).powi(2)).sum();
            HARTMANN_ALPHA[i] * (-inner).exp()
        })
        .sum::<f64>()
}

impl FromStr for TestFunction {
    type Err = TuneError;

    fn from_str(s: &str) -> Result<Self> {
        TestFunction::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| TuneError::Space {
                key: "function".into(),
                reason: format!(
                    "unknown test function `{s}` (expected one of: {})",
                    TestFunction::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

impl fmt::Display for TestFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one sampler did on one function over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub function: String,
    pub sampler: String,
    pub trials: usize,
    pub seeds: usize,
    /// Median over seeds of the best value after `n` trials, at `n = N/3,
    /// 2N/3, N`.
    pub median_best: BTreeMap<usize, f64>,
    /// Per seed, the best value after each trial.
    #[serde(skip)]
    pub best_so_far: Vec<Vec<f64>>,
    /// Mean over seeds of the sampler's time to propose trial `i`, in ms.
    #[serde(skip)]
    pub sampler_ms: Vec<f64>,
}

/// The checkpoints `N/3, 2N/3, N` (rounded, at least 1).
pub fn checkpoints(trials: usize) -> Vec<usize> {
    let mut c: Vec<usize> = [1.0, 2.0, 3.0]
        .iter()
        .map(|k| ((trials as f64 * k / 3.0).round() as usize).max(1))
        .collect();
    c.dedup();
    c
}

/// Median of a non-empty slice (mean of the two middle values for an even
/// count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Runs `sampler` for `trials` trials on `function` once per seed in
/// `0..seeds`, each with a fresh sampler.
pub fn run(
    function: TestFunction,
    sampler: SamplerKind,
    trials: usize,
    seeds: usize,
) -> BenchResult {
    run_with(
        function,
        sampler.as_str(),
        || sampler.build(),
        trials,
        seeds,
    )
}

/// [`run`] with samplers made by `make` (custom settings), reported as
/// `name`.
pub fn run_with(
    function: TestFunction,
    name: &str,
    make: impl Fn() -> Box<dyn Sampler>,
    trials: usize,
    seeds: usize,
) -> BenchResult {
    let space = function.space();
    let mut best_so_far = Vec::with_capacity(seeds);
    let mut sampler_ms = vec![0.0; trials];
    for seed in 0..seeds as u64 {
        let mut s = make();
        let mut history: Vec<Trial> = Vec::with_capacity(trials);
        let mut best = f64::INFINITY;
        let mut curve = Vec::with_capacity(trials);
        for number in 0..trials as u64 {
            let ctx = SampleContext::new(seed, number);
            let t0 = Instant::now();
            let params = s.sample(&space, Direction::Minimize, &history, &ctx);
            sampler_ms[number as usize] += t0.elapsed().as_secs_f64() * 1e3 / seeds as f64;
            let value = function.eval(&params);
            best = best.min(value);
            curve.push(best);
            history.push(Trial::complete(number, params, value));
        }
        best_so_far.push(curve);
    }
    let median_best = checkpoints(trials)
        .into_iter()
        .map(|n| {
            let at: Vec<f64> = best_so_far.iter().map(|c| c[n - 1]).collect();
            (n, median(&at))
        })
        .collect();
    BenchResult {
        function: function.name().into(),
        sampler: name.into(),
        trials,
        seeds,
        median_best,
        best_so_far,
        sampler_ms,
    }
}
