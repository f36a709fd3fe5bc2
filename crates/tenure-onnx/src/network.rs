//! Feed-forward networks (MLP, DeepSurv, ZILN) with standard operators, in
//! double like [`NetworkSpec::forward`]: the `f32` weights widen exactly.
//!
//! - Inputs: the numeric columns (`Gather` on axis 1), through `asinh` and
//!   clamped into their training range when the spec says so, imputed and
//!   standardised by [`crate::linear::standardize_after`]; each categorical column
//!   looked up in its embedding table: the row of its code (the binary
//!   search of the isotonic calibrator over the sorted levels, then an
//!   `Equal` check; row 0 for a missing or unseen code), one `Gather` per
//!   embedding dimension.
//! - Hidden layers: `MatMul` and `Add` of the bias; batch norm folded into
//!   the weights and bias for inference (`W·γ/√(σ²+ε)`,
//!   `(b − μ)·γ/√(σ²+ε) + β`), layer norm with `ReduceMean`, `Sqrt` and the
//!   element-wise operators; `Relu`, `Tanh`, and sigmoid and leaky ReLU
//!   written with `Exp`/`Div` and `Where` (tract runs them in double).
//! - Heads: the logistic head's raw score is the logit (sigmoid link,
//!   calibrator after it as for any churn model); DeepSurv's is the log
//!   hazard ratio (identity link; `S(t | x)` from the spec's
//!   [`SurvivalCurves`](tenure_core::spec::SurvivalCurves)); ZILN's is the
//!   log of the expected spend `ln(p · exp(μ + σ²/2))` with
//!   `σ = max(softplus(raw), ZILN_MIN_SIGMA)` (exp link) with the
//!   probability of spend as the extra output `spend_probability`.

use tenure_core::NetworkHead;
use tenure_core::spec_network::{
    Activation, Dense, EmbeddingSpec, NetworkSpec, Norm, ZILN_MIN_SIGMA,
};

use crate::error::{Result, ensure_spec};
use crate::graph::{Elem, GraphBuilder, Value, attr_int, attr_ints};

/// The extra output of a ZILN network.
pub const SPEND_PROBABILITY: &str = "spend_probability";

/// The network's raw score (before the link), `float64 [N, 1]`, and for
/// ZILN the probability of spend.
pub fn build(
    g: &mut GraphBuilder,
    features: &Value,
    net: &NetworkSpec,
) -> Result<(Value, Option<Value>)> {
    net.validate().map_err(|e| crate::OnnxError::Spec {
        what: "the network".into(),
        reason: e.to_string(),
    })?;
    check_finite(net)?;
    let mut parts = Vec::new();
    if !net.numeric.is_empty() {
        let columns: Vec<i64> = net.numeric.iter().map(|&j| i64::from(j)).collect();
        let numeric = columns_of(g, features, &columns)?;
        parts.push(crate::linear::standardize_after(
            g,
            &numeric,
            &net.standardize,
            |g, x| {
                let x = if net.asinh { asinh(g, &x)? } else { x };
                if net.clamp.is_empty() {
                    return Ok(x);
                }
                clamp(g, &x, &net.clamp)
            },
        )?);
    }
    for e in &net.embeddings {
        parts.push(embedding(g, features, e)?);
    }
    ensure_spec!(
        !parts.is_empty(),
        "the network",
        "it reads no column (no numeric column and no embedding)"
    );
    let mut h = if parts.len() == 1 {
        parts.remove(0)
    } else {
        let refs: Vec<&Value> = parts.iter().collect();
        g.node("Concat", "", &refs, vec![attr_int("axis", 1)], None)?
    };
    for layer in &net.hidden {
        h = match &layer.norm {
            Some(Norm::Batch {
                mean,
                var,
                gamma,
                beta,
                epsilon,
            }) => {
                let folded = fold_batch_norm(&layer.dense, mean, var, gamma, beta, *epsilon);
                dense64(g, &h, &folded)?
            }
            Some(Norm::Layer {
                gamma,
                beta,
                epsilon,
            }) => {
                let z = dense(g, &h, &layer.dense)?;
                layer_norm(g, &z, gamma, beta, *epsilon)?
            }
            None => dense(g, &h, &layer.dense)?,
        };
        h = activation(g, &h, layer.activation)?;
    }
    let out = dense(g, &h, &net.output)?;
    match &net.head {
        NetworkHead::Logistic | NetworkHead::CoxLogHazard { .. } => Ok((out, None)),
        NetworkHead::ZeroInflatedLognormal => {
            let logit = columns_of(g, &out, &[0])?;
            let mu = columns_of(g, &out, &[1])?;
            let raw_sigma = columns_of(g, &out, &[2])?;
            let p = crate::head::sigmoid(g, &logit)?;
            let sigma = softplus(g, &raw_sigma)?;
            let floor = g.constant("min_sigma", Elem::F64, &[ZILN_MIN_SIGMA], &[1]);
            let sigma = g.op("Max", &[&sigma, &floor], None)?;
            // p · exp(μ + σ²/2), in the spec's order, then its log.
            let square = g.op("Mul", &[&sigma, &sigma], None)?;
            let two = g.constant("two", Elem::F64, &[2.0], &[1]);
            let half = g.op("Div", &[&square, &two], None)?;
            let exponent = g.op("Add", &[&mu, &half], None)?;
            let lognormal_mean = g.op("Exp", &[&exponent], None)?;
            let expected = g.op("Mul", &[&p, &lognormal_mean], None)?;
            Ok((g.op("Log", &[&expected], None)?, Some(p)))
        }
    }
}

fn check_finite(net: &NetworkSpec) -> Result<()> {
    let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
    for (l, layer) in net.hidden.iter().enumerate() {
        ensure_spec!(
            finite(&layer.dense.weight) && finite(&layer.dense.bias),
            "the network",
            "hidden layer {l} has a non-finite weight or bias"
        );
    }
    ensure_spec!(
        finite(&net.output.weight) && finite(&net.output.bias),
        "the network",
        "the output layer has a non-finite weight or bias"
    );
    for e in &net.embeddings {
        ensure_spec!(
            finite(&e.table) && e.levels.iter().all(|v| v.is_finite()),
            "the network",
            "the embedding of column {} has a non-finite value or level",
            e.feature
        );
        ensure_spec!(
            e.levels.windows(2).all(|w| w[0] < w[1]),
            "the network",
            "the levels of the embedding of column {} are not sorted without repeats",
            e.feature
        );
    }
    Ok(())
}

/// Columns `columns` of a `[N, F]` tensor, `[N, len]`.
fn columns_of(g: &mut GraphBuilder, x: &Value, columns: &[i64]) -> Result<Value> {
    let idx = g.constant_i64("columns", columns, &[columns.len() as i64]);
    g.node("Gather", "", &[x, &idx], vec![attr_int("axis", 1)], None)
}

/// The embedding vectors of one categorical column, `float64 [N, dim]`, as
/// [`EmbeddingSpec::index`] picks the row. A code is compared in double
/// with the levels (exact for the `float32` input); `-0.0` matches a level
/// `0.0` here where the spec's total order tells them apart, a code no
/// encoder produces.
fn embedding(g: &mut GraphBuilder, features: &Value, e: &EmbeddingSpec) -> Result<Value> {
    let code = columns_of(g, features, &[i64::from(e.feature)])?;
    let code = g.cast(&code, Elem::F64, None)?;
    let row = if e.levels.is_empty() {
        let zero = g.constant_i64("zero", &[0], &[1]);
        let like = g.op("IsNaN", &[&code], None)?;
        // [N, 1] zeros: Where of any [N, 1] condition with both branches 0.
        g.op("Where", &[&like, &zero, &zero], None)?
    } else {
        // How many levels are <= the code; a match is the last of them.
        let count = crate::head::search(g, &code, &e.levels)?;
        let mut padded = Vec::with_capacity(e.levels.len() + 1);
        padded.push(f64::NEG_INFINITY);
        padded.extend_from_slice(&e.levels);
        let n = [padded.len() as i64];
        let table = g.constant("embedding_levels", Elem::F64, &padded, &n);
        let candidate = g.node(
            "Gather",
            "",
            &[&table, &count],
            vec![attr_int("axis", 0)],
            None,
        )?;
        let found = g.op("Equal", &[&candidate, &code], None)?;
        let zero = g.constant_i64("zero", &[0], &[1]);
        g.op("Where", &[&found, &count, &zero], None)?
    };
    let rows = e.levels.len() + 1;
    let mut dims = Vec::with_capacity(e.dim);
    for d in 0..e.dim {
        let column: Vec<f64> = (0..rows)
            .map(|r| f64::from(e.table[r * e.dim + d]))
            .collect();
        let t = g.constant("embedding", Elem::F64, &column, &[rows as i64]);
        dims.push(g.node("Gather", "", &[&t, &row], vec![attr_int("axis", 0)], None)?);
    }
    let refs: Vec<&Value> = dims.iter().collect();
    if refs.len() == 1 {
        return Ok(dims.remove(0));
    }
    g.node("Concat", "", &refs, vec![attr_int("axis", 1)], None)
}

/// `asinh(x)` in double as `±ln(|x| + √(x² + 1))`: onnxruntime has `Asinh`
/// in single precision only. Exact to a few ulps away from 0 and to an
/// absolute 1e-16 near it, far within what the standardisation after it
/// shows; `±∞` stays `±∞` and `NaN` stays `NaN`.
fn asinh(g: &mut GraphBuilder, x: &Value) -> Result<Value> {
    let a = g.op("Abs", &[x], None)?;
    let square = g.op("Mul", &[&a, &a], None)?;
    let one = g.constant("one", Elem::F64, &[1.0], &[1]);
    let sum = g.op("Add", &[&square, &one], None)?;
    let root = g.op("Sqrt", &[&sum], None)?;
    let sum = g.op("Add", &[&a, &root], None)?;
    let magnitude = g.op("Log", &[&sum], None)?;
    let zero = g.constant("zero", Elem::F64, &[0.0], &[1]);
    let negative = g.op("Less", &[x, &zero], None)?;
    let flipped = g.op("Neg", &[&magnitude], None)?;
    g.op("Where", &[&negative, &flipped, &magnitude], None)
}

/// Each column clamped into its training range `[lo, hi]`, as
/// [`clamp_to`](tenure_core::spec_network::clamp_to). What `Max`/`Min` do
/// with `NaN` differs between runtimes (onnxruntime keeps it, a Rust
/// `f64::max` drops it); the imputation after this reads the missing values
/// of the raw input, so either way a missing value is imputed, unclamped,
/// as in the spec.
fn clamp(g: &mut GraphBuilder, x: &Value, ranges: &[[f64; 2]]) -> Result<Value> {
    let n = [ranges.len() as i64];
    let lo: Vec<f64> = ranges.iter().map(|r| r[0]).collect();
    let hi: Vec<f64> = ranges.iter().map(|r| r[1]).collect();
    let lo = g.constant("clamp_min", Elem::F64, &lo, &n);
    let hi = g.constant("clamp_max", Elem::F64, &hi, &n);
    let above = g.op("Max", &[x, &lo], None)?;
    g.op("Min", &[&above, &hi], None)
}

/// A dense layer in double: weights and bias widened from `f32`.
struct Dense64 {
    n_in: usize,
    n_out: usize,
    weight: Vec<f64>,
    bias: Vec<f64>,
}

fn dense(g: &mut GraphBuilder, x: &Value, d: &Dense) -> Result<Value> {
    let d = Dense64 {
        n_in: d.n_in,
        n_out: d.n_out,
        weight: d.weight.iter().map(|&w| f64::from(w)).collect(),
        bias: d.bias.iter().map(|&b| f64::from(b)).collect(),
    };
    dense64(g, x, &d)
}

fn dense64(g: &mut GraphBuilder, x: &Value, d: &Dense64) -> Result<Value> {
    let w = g.constant(
        "weight",
        Elem::F64,
        &d.weight,
        &[d.n_in as i64, d.n_out as i64],
    );
    let b = g.constant("bias", Elem::F64, &d.bias, &[d.n_out as i64]);
    let y = g.op("MatMul", &[x, &w], None)?;
    g.op("Add", &[&y, &b], None)
}

/// Batch norm at inference is affine per unit: folded into the layer.
fn fold_batch_norm(
    d: &Dense,
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> Dense64 {
    let scale: Vec<f64> = (0..d.n_out)
        .map(|j| f64::from(gamma[j]) / (f64::from(var[j]) + epsilon).sqrt())
        .collect();
    let weight = (0..d.n_in * d.n_out)
        .map(|k| f64::from(d.weight[k]) * scale[k % d.n_out])
        .collect();
    let bias = (0..d.n_out)
        .map(|j| (f64::from(d.bias[j]) - f64::from(mean[j])) * scale[j] + f64::from(beta[j]))
        .collect();
    Dense64 {
        n_in: d.n_in,
        n_out: d.n_out,
        weight,
        bias,
    }
}

/// `(x − mean) / √(var + ε) · γ + β` over each row's units (biased
/// variance), in [`Norm::apply`]'s order.
fn layer_norm(
    g: &mut GraphBuilder,
    x: &Value,
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> Result<Value> {
    let reduce = |g: &mut GraphBuilder, v: &Value| {
        g.node(
            "ReduceMean",
            "",
            &[v],
            vec![attr_ints("axes", vec![1]), attr_int("keepdims", 1)],
            None,
        )
    };
    let m = reduce(g, x)?;
    let centred = g.op("Sub", &[x, &m], None)?;
    let squares = g.op("Mul", &[&centred, &centred], None)?;
    let var = reduce(g, &squares)?;
    let eps = g.constant("epsilon", Elem::F64, &[epsilon], &[1]);
    let sd = g.op("Add", &[&var, &eps], None)?;
    let sd = g.op("Sqrt", &[&sd], None)?;
    let z = g.op("Div", &[&centred, &sd], None)?;
    let n = [gamma.len() as i64];
    let gamma: Vec<f64> = gamma.iter().map(|&v| f64::from(v)).collect();
    let beta: Vec<f64> = beta.iter().map(|&v| f64::from(v)).collect();
    let gamma = g.constant("gamma", Elem::F64, &gamma, &n);
    let beta = g.constant("beta", Elem::F64, &beta, &n);
    let scaled = g.op("Mul", &[&z, &gamma], None)?;
    g.op("Add", &[&scaled, &beta], None)
}

fn activation(g: &mut GraphBuilder, x: &Value, a: Activation) -> Result<Value> {
    match a {
        Activation::Identity => Ok(x.clone()),
        Activation::Relu => g.op("Relu", &[x], None),
        Activation::Tanh => g.op("Tanh", &[x], None),
        Activation::Sigmoid => crate::head::sigmoid(g, x),
        Activation::LeakyRelu { slope } => {
            // `x` where `x >= 0`, `slope · x` below, as the spec.
            let zero = g.constant("zero", Elem::F64, &[0.0], &[1]);
            let slope = g.constant("slope", Elem::F64, &[slope], &[1]);
            let positive = g.op("LessOrEqual", &[&zero, x], None)?;
            let scaled = g.op("Mul", &[&slope, x], None)?;
            g.op("Where", &[&positive, x, &scaled], None)
        }
    }
}

/// `ln(1 + eᵡ)`, `x` itself above 20, as the spec's `softplus`.
fn softplus(g: &mut GraphBuilder, x: &Value) -> Result<Value> {
    let twenty = g.constant("twenty", Elem::F64, &[20.0], &[1]);
    let small = g.op("LessOrEqual", &[x, &twenty], None)?;
    let e = g.op("Exp", &[x], None)?;
    let one = g.constant("one", Elem::F64, &[1.0], &[1]);
    let sum = g.op("Add", &[&one, &e], None)?;
    let log = g.op("Log", &[&sum], None)?;
    g.op("Where", &[&small, &log, x], None)
}
