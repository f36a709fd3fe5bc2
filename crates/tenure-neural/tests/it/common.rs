//! Synthetic data with known structure, and the devices to test on.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1, StandardNormal};
use tenure_core::{Dataset, Matrix, Target};
use tenure_neural::{NetworkConfig, TrainConfig};

pub fn names(p: usize) -> Vec<String> {
    (0..p).map(|j| format!("x{j}")).collect()
}

fn normal(rng: &mut StdRng) -> f64 {
    StandardNormal.sample(rng)
}

/// `p` standard normal features, raw scale `scale[j]` and offset `10 j` so
/// that standardisation matters.
pub fn features(n: usize, p: usize, seed: u64) -> (Matrix, Vec<Vec<f64>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let z: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..p).map(|_| normal(&mut rng)).collect())
        .collect();
    let raw: Vec<Vec<f64>> = z
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, v)| 10.0 * j as f64 + (1.0 + j as f64) * v)
                .collect()
        })
        .collect();
    (Matrix::from_rows(&raw).unwrap(), z)
}

/// The true nonlinear log hazard / logit of the synthetic models, from
/// standardised features.
pub fn signal(z: &[f64]) -> f64 {
    0.8 * z[0] - 0.6 * z[1] + 0.5 * z[2] * z[2] - 0.5 + 0.4 * (z[0] * z[3]).tanh()
}

/// Proportional hazards with a nonlinear log hazard ratio, exponential
/// baseline, independent exponential censoring; times rounded to whole
/// days so that ties occur.
pub fn ph_data(n: usize, seed: u64) -> (Dataset, Vec<f64>) {
    let (x, z) = features(n, 4, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0xABCD);
    let eta: Vec<f64> = z.iter().map(|r| signal(r)).collect();
    let mut time = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    for e in &eta {
        let t_event: f64 = Exp1.sample(&mut rng);
        let t_event = 100.0 * t_event / e.exp();
        let t_cens: f64 = Exp1.sample(&mut rng);
        let t_cens = 150.0 * t_cens;
        time.push(t_event.min(t_cens).ceil());
        event.push(t_event <= t_cens);
    }
    (
        Dataset::new(x, names(4), Target::Survival { time, event }).unwrap(),
        eta,
    )
}

/// Churn labels from a logistic model on the nonlinear signal.
pub fn churn_data(n: usize, seed: u64) -> (Dataset, Vec<f64>) {
    let (x, z) = features(n, 4, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1234);
    let p: Vec<f64> = z.iter().map(|r| 1.0 / (1.0 + (-signal(r)).exp())).collect();
    let y = p
        .iter()
        .map(|&pi| f64::from(u8::from(rng.random::<f64>() < pi)))
        .collect();
    (Dataset::new(x, names(4), Target::Binary(y)).unwrap(), p)
}

/// Spend from a zero-inflated lognormal whose parameters depend on the
/// features; returns the data and every row's true expected spend.
pub fn ziln_data(n: usize, seed: u64) -> (Dataset, Vec<f64>) {
    let (x, z) = features(n, 4, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5678);
    let mut y = Vec::with_capacity(n);
    let mut mean = Vec::with_capacity(n);
    for r in &z {
        let p = 1.0 / (1.0 + (-(0.3 + 1.2 * r[0])).exp());
        let mu = 3.0 + 0.7 * r[1] - 0.4 * r[2];
        let sigma = 0.6 + 0.2 * r[3].tanh();
        mean.push(p * (mu + sigma * sigma / 2.0).exp());
        let spend = if rng.random::<f64>() < p {
            (mu + sigma * normal(&mut rng)).exp()
        } else {
            0.0
        };
        y.push(spend);
    }
    (
        Dataset::new(x, names(4), Target::Continuous(y)).unwrap(),
        mean,
    )
}

pub fn small_net() -> NetworkConfig {
    NetworkConfig {
        hidden: vec![32, 16],
        dropout: 0.0,
        ..NetworkConfig::default()
    }
}

pub fn quick_train(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 256,
        learning_rate: 0.01,
        patience: 5,
        ..TrainConfig::default()
    }
}

/// Rows for held-out scoring.
pub fn split(data: &Dataset, n_train: usize) -> (Dataset, Dataset) {
    let train: Vec<usize> = (0..n_train).collect();
    let test: Vec<usize> = (n_train..data.n_rows()).collect();
    (data.select_rows(&train), data.select_rows(&test))
}
