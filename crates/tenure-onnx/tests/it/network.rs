//! Networks (MLP, DeepSurv, ZILN) score in onnxruntime and tract as their
//! specifications do, on 10,000 rows with missing values and unseen,
//! negative and fractional category codes: random architectures with every
//! activation, both norms, embeddings, and each head.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::Task;
use tenure_core::spec::{Model, SavedSpec, Standardize, SurvivalCurves};
use tenure_core::spec_network::{
    Activation, Dense, EmbeddingSpec, HiddenLayer, NetworkHead, NetworkSpec, Norm,
};

use crate::common::{LEVELS, assert_parity, close_within, info, rows};
use crate::onnxruntime::score;

const ROWS: usize = 10_000;

/// Relative tolerance of the float32 outputs against the spec's doubles.
const TOL: f64 = 1e-6;

/// How many numeric inputs of `x` fall outside the network's ranges.
fn clamped_inputs(net: &NetworkSpec, x: &tenure_core::Matrix) -> usize {
    let mut n = 0;
    for (k, &j) in net.numeric.iter().enumerate() {
        let Some(&[lo, hi]) = net.clamp.get(k) else {
            continue;
        };
        for r in 0..x.n_rows() {
            let v = x.get(r, j as usize);
            let v = if net.asinh { v.asinh() } else { v };
            n += usize::from(v < lo || v > hi);
        }
    }
    n
}

fn weights(rng: &mut StdRng, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.random_range(-1.0..1.0) * scale) as f32)
        .collect()
}

fn dense(rng: &mut StdRng, n_in: usize, n_out: usize) -> Dense {
    let scale = 1.5 / (n_in as f64).sqrt();
    Dense {
        n_in,
        n_out,
        weight: weights(rng, n_in * n_out, scale),
        bias: weights(rng, n_out, 0.3),
    }
}

/// A random network on `f` raw columns: some numeric, some embedded.
pub fn random_network(rng: &mut StdRng, head: NetworkHead) -> NetworkSpec {
    let f = rng.random_range(2..7usize);
    let (mut numeric, mut embeddings) = (Vec::new(), Vec::new());
    for j in 0..f as u32 {
        if rng.random_bool(0.3) {
            // Codes 0..LEVELS seen in training, some missing from the table.
            let levels: Vec<f64> = (0..LEVELS)
                .filter(|_| rng.random_bool(0.8))
                .map(f64::from)
                .collect();
            let dim = rng.random_range(1..4usize);
            embeddings.push(EmbeddingSpec {
                feature: j,
                table: weights(rng, (levels.len() + 1) * dim, 1.0),
                levels,
                dim,
            });
        } else {
            numeric.push(j);
        }
    }
    let k = numeric.len();
    let standardize = Standardize {
        impute: (0..k).map(|_| rng.random_range(-1.0..50.0)).collect(),
        mean: (0..k).map(|_| rng.random_range(-1.0..50.0)).collect(),
        scale: (0..k).map(|_| rng.random_range(0.5..40.0)).collect(),
    };
    // Ranges narrower than the rows' values (columns scaled by 1, 10, 100
    // from -0.5 to 1.5 times that), so that many inputs are clamped.
    let asinh = rng.random_bool(0.5);
    let clamp = if rng.random_bool(0.7) {
        numeric
            .iter()
            .map(|&j| {
                let scale = [1.0, 10.0, 100.0][j as usize % 3];
                let lo = rng.random_range(-0.3..0.5) * scale;
                let hi = lo + rng.random_range(0.0..0.8) * scale;
                if asinh {
                    [f64::asinh(lo), f64::asinh(hi)]
                } else {
                    [lo, hi]
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut width = k + embeddings.iter().map(|e| e.dim).sum::<usize>();
    let mut hidden = Vec::new();
    for _ in 0..rng.random_range(0..4usize) {
        let n_out = rng.random_range(1..9usize);
        let norm = match rng.random_range(0..3) {
            0 => None,
            1 => Some(Norm::Batch {
                mean: weights(rng, n_out, 0.5),
                var: (0..n_out)
                    .map(|_| rng.random_range(0.1..2.0) as f32)
                    .collect(),
                gamma: weights(rng, n_out, 1.5),
                beta: weights(rng, n_out, 0.5),
                epsilon: 1e-5,
            }),
            _ => Some(Norm::Layer {
                gamma: weights(rng, n_out, 1.5),
                beta: weights(rng, n_out, 0.5),
                epsilon: 1e-5,
            }),
        };
        let activation = match rng.random_range(0..5) {
            0 => Activation::Identity,
            1 => Activation::Relu,
            2 => Activation::LeakyRelu { slope: 0.01 },
            3 => Activation::Tanh,
            _ => Activation::Sigmoid,
        };
        hidden.push(HiddenLayer {
            dense: dense(rng, width, n_out),
            norm,
            activation,
        });
        width = n_out;
    }
    let output = dense(rng, width, head.n_outputs());
    NetworkSpec {
        feature_names: (0..f).map(|j| format!("x{j}")).collect(),
        numeric,
        standardize,
        asinh,
        clamp,
        embeddings,
        hidden,
        output,
        head,
    }
}

fn cox_head() -> NetworkHead {
    NetworkHead::CoxLogHazard {
        times: vec![10.0, 40.0, 90.0, 200.0],
        cumulative_hazard: vec![0.01, 0.08, 0.3, 0.7],
    }
}

fn saved(net: NetworkSpec) -> SavedSpec {
    let task = match net.head {
        NetworkHead::Logistic => Task::Churn,
        NetworkHead::CoxLogHazard { .. } => Task::Survival,
        NetworkHead::ZeroInflatedLognormal => Task::Clv,
    };
    SavedSpec::new(info("net", "mlp", task), Model::Network(net))
}

fn heads() -> [NetworkHead; 3] {
    [
        NetworkHead::Logistic,
        cox_head(),
        NetworkHead::ZeroInflatedLognormal,
    ]
}

#[test]
fn random_networks_score_like_the_spec_in_onnxruntime() {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut cases = Vec::new();
    for case in 0..30 {
        let head = heads()[case % 3].clone();
        let spec = saved(random_network(&mut rng, head));
        let x = rows(&spec.model, LEVELS + 2, ROWS, 0.1, 900 + case as u64);
        cases.push((format!("random network {case}"), spec, x));
    }
    let exported: Vec<Vec<u8>> = cases
        .iter()
        .map(|(what, s, _)| {
            tenure_onnx::export(s)
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .bytes()
                .to_vec()
        })
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&cases)
        .map(|(b, (_, _, x))| (b.as_slice(), x))
        .collect();
    let mut clamped = 0;
    for ((what, spec, x), s) in cases.iter().zip(score(&jobs)) {
        assert_parity(what, &spec.model, x, &s);
        let Model::Network(net) = &spec.model else {
            unreachable!()
        };
        // The graph computes in double like the spec: only the float32
        // outputs round.
        let raw = spec.model.predict_raw(x).unwrap();
        close_within(
            what,
            "raw_score",
            &raw,
            s.column(tenure_onnx::RAW_SCORE),
            TOL,
        );
        let pred = spec.model.predict(x).unwrap();
        close_within(
            what,
            "prediction",
            &pred,
            s.column(tenure_onnx::PREDICTION),
            TOL,
        );
        if net.head == NetworkHead::ZeroInflatedLognormal {
            let p: Vec<f64> = net
                .forward(x)
                .unwrap()
                .iter()
                .map(|row| tenure_core::spec_network::ziln_params(row).0)
                .collect();
            let got = s.column(tenure_onnx::SPEND_PROBABILITY);
            close_within(what, "spend_probability", &p, got, TOL);
        }
        clamped += clamped_inputs(net, x);
    }
    // The rows reach outside the ranges, so the clamp is exercised.
    assert!(clamped > 10_000, "only {clamped} inputs were clamped");
}

/// DeepSurv with its baseline inside the graph: the log hazard ratio and
/// `S(t | x)` at the configured times.
#[test]
fn deepsurv_exports_survival_probabilities() {
    let mut rng = StdRng::seed_from_u64(77);
    let mut cases = Vec::new();
    for case in 0..4 {
        let net = random_network(&mut rng, cox_head());
        let curves = SurvivalCurves {
            days: vec![30.0, 90.0, 180.0],
            cumulative_hazard: vec![0.01, 0.08, 0.3],
            calibrators: Vec::new(),
        };
        let spec = saved(net).with_survival(Some(curves));
        let x = rows(&spec.model, LEVELS + 2, ROWS, 0.1, 40 + case);
        cases.push((spec, x));
    }
    let exported: Vec<Vec<u8>> = cases
        .iter()
        .map(|(s, _)| tenure_onnx::export(s).unwrap().bytes().to_vec())
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&cases)
        .map(|(b, (_, x))| (b.as_slice(), x))
        .collect();
    for (k, ((spec, x), s)) in cases.iter().zip(score(&jobs)).enumerate() {
        let what = format!("deepsurv {k}");
        assert_parity(&what, &spec.model, x, &s);
        let want = spec.predict_survival(x).unwrap().unwrap();
        let (shape, got) = &s.outputs[tenure_onnx::SURVIVAL];
        assert_eq!(shape, &vec![x.n_rows(), 3]);
        for (t, column) in want.iter().enumerate() {
            let got: Vec<f32> = got.iter().skip(t).step_by(3).copied().collect();
            close_within(&what, &format!("survival[:, {t}]"), column, &got, TOL);
        }
    }
}

/// The same networks in tract (pure Rust), where the operators allow:
/// tract has no double `Tanh`, so tanh layers are left out.
#[test]
fn random_networks_score_like_the_spec_in_tract() {
    let mut rng = StdRng::seed_from_u64(99);
    let mut done = 0;
    while done < 9 {
        let head = heads()[done % 3].clone();
        let net = random_network(&mut rng, head);
        if net.hidden.iter().any(|l| l.activation == Activation::Tanh) {
            continue;
        }
        let spec = saved(net);
        let onnx = tenure_onnx::export(&spec).unwrap();
        let x = rows(&spec.model, LEVELS + 2, ROWS, 0.1, 1200 + done as u64);
        let what = format!("tract network {done}");
        assert_parity(
            &what,
            &spec.model,
            &x,
            &crate::tract::tract_score(&onnx, &x),
        );
        done += 1;
    }
}

/// Errors name what is wrong with the network.
#[test]
fn networks_that_cannot_be_exported() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut net = random_network(&mut rng, NetworkHead::Logistic);
    net.output.weight[0] = f32::NAN;
    let e = tenure_onnx::export(&saved(net)).unwrap_err().to_string();
    assert!(e.contains("output layer has a non-finite"), "{e}");

    let mut net = random_network(&mut rng, NetworkHead::Logistic);
    net.output.n_in += 1;
    let e = tenure_onnx::export(&saved(net)).unwrap_err().to_string();
    assert!(
        e.contains("the network") && e.contains("output layer"),
        "{e}"
    );
}
