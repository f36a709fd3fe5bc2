//! The Parzen estimator against a naive twin written from the definition
//! with plain `erf` (no log-space tricks), and against the laws of
//! probability: densities integrate to 1, draws follow the density.

use tenure_tune::Domain;
use tenure_tune::parzen::{ParzenEstimator, ParzenSettings};
use tenure_tune::sampler::Rng;
use tenure_tune::special::erf;
use tenure_tune::trial_rng;

fn cdf(z: f64) -> f64 {
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

fn pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Bandwidths as Optuna's `_ParzenEstimator` defines them: the larger gap
/// to a neighbour (bounds count as neighbours), outermost kernels using the
/// inner gap only, clipped to [range / min(100, n + 2), range].
fn naive_sigmas(mus: &[f64], low: f64, high: f64) -> Vec<f64> {
    let n = mus.len();
    let mut sorted: Vec<(f64, usize)> = mus.iter().copied().zip(0..).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut with_ends = vec![low];
    with_ends.extend(sorted.iter().map(|s| s.0));
    with_ends.push(high);
    let mut out = vec![0.0; n];
    for (rank, &(_, i)) in sorted.iter().enumerate() {
        let left = with_ends[rank + 1] - with_ends[rank];
        let right = with_ends[rank + 2] - with_ends[rank + 1];
        let mut s = left.max(right);
        if n >= 2 && rank == 0 {
            s = right;
        }
        if n >= 2 && rank == n - 1 {
            s = left;
        }
        let min = (high - low) / (n as f64 + 2.0).min(100.0);
        out[i] = s.clamp(min, high - low);
    }
    out
}

/// The mixture density at `x`, term by term.
fn naive_density(obs: &[Vec<f64>], domains: &[Domain], weights: &[f64], x: &[f64]) -> f64 {
    let n = obs.len();
    let mut w: Vec<f64> = weights.to_vec();
    w.push(1.0);
    let total: f64 = w.iter().sum();
    let mut density = 0.0;
    for k in 0..=n {
        let mut prod = w[k] / total;
        for (d, dom) in domains.iter().enumerate() {
            match *dom {
                Domain::Categorical { n: c } => {
                    let p = if k == n {
                        1.0 / c as f64
                    } else {
                        let base = 1.0 / (n + 1) as f64;
                        let hit = if obs[k][d] as usize == x[d] as usize {
                            1.0
                        } else {
                            0.0
                        };
                        (base + hit) / (c as f64 * base + 1.0)
                    };
                    prod *= p;
                }
                Domain::Numeric { log, step, .. } => {
                    let (low, high) = dom.transformed_bounds();
                    let t = |v: f64| if log { v.ln() } else { v };
                    let mus: Vec<f64> = obs.iter().map(|o| t(o[d])).collect();
                    let sig = naive_sigmas(&mus, low, high);
                    let (mu, s) = if k == n {
                        (0.5 * (low + high), high - low)
                    } else {
                        (mus[k], sig[k])
                    };
                    let norm = cdf((high - mu) / s) - cdf((low - mu) / s);
                    prod *= match step {
                        Some(h) => {
                            (cdf((t(x[d] + h / 2.0) - mu) / s) - cdf((t(x[d] - h / 2.0) - mu) / s))
                                / norm
                        }
                        None => pdf((t(x[d]) - mu) / s) / s / norm,
                    };
                }
            }
        }
        density += prod;
    }
    density
}

fn domains() -> Vec<Domain> {
    vec![
        Domain::Numeric {
            low: -5.0,
            high: 10.0,
            log: false,
            step: None,
        },
        Domain::Numeric {
            low: 1e-3,
            high: 10.0,
            log: true,
            step: None,
        },
        Domain::Numeric {
            low: 1.0,
            high: 9.0,
            log: false,
            step: Some(2.0),
        },
        Domain::Categorical { n: 3 },
    ]
}

#[test]
fn density_matches_the_naive_mixture() {
    let obs = vec![
        vec![0.5, 0.01, 3.0, 0.0],
        vec![-4.0, 2.0, 9.0, 2.0],
        vec![7.5, 0.5, 5.0, 0.0],
        vec![1.0, 0.002, 1.0, 1.0],
        vec![1.2, 8.0, 3.0, 0.0],
    ];
    let weights = [0.5, 1.0, 1.0, 0.8, 1.0];
    let doms = domains();
    let pe = ParzenEstimator::new(&obs, &doms, Some(&weights), &ParzenSettings::default());
    assert_eq!(pe.n_kernels(), 6);
    let points = [
        vec![0.0, 0.1, 3.0, 0.0],
        vec![9.9, 0.001, 9.0, 2.0],
        vec![-5.0, 9.9, 1.0, 1.0],
        vec![1.1, 0.01, 7.0, 0.0],
    ];
    for x in &points {
        let ours = pe.log_pdf(x).exp();
        let naive = naive_density(&obs, &doms, &weights, x);
        assert!(
            ((ours - naive) / naive).abs() < 1e-10,
            "at {x:?}: ours {ours}, naive {naive}"
        );
    }
}

#[test]
fn with_no_observations_only_the_prior_remains() {
    let doms = domains();
    let pe = ParzenEstimator::new(&[], &doms, None, &ParzenSettings::default());
    assert_eq!(pe.n_kernels(), 1);
    let x = [2.5, 0.1, 5.0, 1.0];
    let naive = naive_density(&[], &doms, &[], &x);
    assert!((pe.log_pdf(&x).exp() - naive).abs() < 1e-12 * naive);
}

#[test]
fn densities_integrate_and_masses_sum_to_one() {
    let obs: Vec<Vec<f64>> = [0.2f64, 0.25, 3.0, 9.0]
        .iter()
        .map(|&v| {
            vec![
                v,
                v.max(1e-3),
                1.0 + 2.0 * ((v as i64).rem_euclid(5)) as f64,
            ]
        })
        .collect();
    let doms = [
        Domain::Numeric {
            low: 0.0,
            high: 10.0,
            log: false,
            step: None,
        },
        Domain::Numeric {
            low: 1e-3,
            high: 10.0,
            log: true,
            step: None,
        },
        Domain::Numeric {
            low: 1.0,
            high: 9.0,
            log: false,
            step: Some(2.0),
        },
    ];
    for d in 0..3 {
        let column: Vec<Vec<f64>> = obs.iter().map(|o| vec![o[d]]).collect();
        let pe = ParzenEstimator::new(&column, &doms[d..=d], None, &ParzenSettings::default());
        let total = match doms[d] {
            Domain::Numeric { step: Some(_), .. } => [1.0, 3.0, 5.0, 7.0, 9.0]
                .iter()
                .map(|&x| pe.log_pdf(&[x]).exp())
                .sum(),
            dom => {
                // Midpoint rule in the transformed coordinate.
                let (lo, hi) = dom.transformed_bounds();
                let n = 200_000;
                let h = (hi - lo) / n as f64;
                (0..n)
                    .map(|i| {
                        let y = lo + (i as f64 + 0.5) * h;
                        let x = if let Domain::Numeric { log: true, .. } = dom {
                            y.exp()
                        } else {
                            y
                        };
                        pe.log_pdf(&[x]).exp() * h
                    })
                    .sum::<f64>()
            }
        };
        assert!(
            (total - 1.0).abs() < 1e-6,
            "dimension {d} integrates to {total}"
        );
    }
}

#[test]
fn draws_follow_the_density() {
    let obs = vec![vec![1.0], vec![1.5], vec![8.0]];
    let dom = [Domain::Numeric {
        low: 0.0,
        high: 10.0,
        log: false,
        step: None,
    }];
    let pe = ParzenEstimator::new(&obs, &dom, None, &ParzenSettings::default());
    let mut rng: Rng = trial_rng(1, 2);
    let n = 40_000;
    let draws = pe.sample(&mut rng, n);
    let bins = 10;
    let mut counts = vec![0usize; bins];
    for d in &draws {
        assert!((0.0..=10.0).contains(&d[0]));
        counts[((d[0] / 10.0 * bins as f64) as usize).min(bins - 1)] += 1;
    }
    for (b, &c) in counts.iter().enumerate() {
        let (lo, hi) = (b as f64, b as f64 + 1.0);
        let m = 2000;
        let expected: f64 = (0..m)
            .map(|i| {
                pe.log_pdf(&[lo + (i as f64 + 0.5) * (hi - lo) / m as f64])
                    .exp()
            })
            .sum::<f64>()
            * (hi - lo)
            / m as f64;
        let observed = c as f64 / n as f64;
        // Five binomial standard errors.
        let se = (expected * (1.0 - expected) / n as f64).sqrt();
        assert!(
            (observed - expected).abs() < 5.0 * se + 1e-4,
            "bin {b}: observed {observed}, expected {expected}"
        );
    }
}
