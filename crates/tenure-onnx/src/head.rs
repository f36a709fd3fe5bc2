//! The outputs every exported model shares, made from its raw score, and
//! the calibrator appended after the link when the model was calibrated.
//!
//! | output | type | meaning |
//! |---|---|---|
//! | `prediction` | `float32 [N, 1]` | what tenure predicts: `link(raw_score)`, calibrated when the spec has a calibrator |
//! | `raw_score` | `float32 [N, 1]` | the score before the link (log-odds, log hazard ratio, log spend) |
//! | `probabilities` | `float32 [N, 2]` | sigmoid link only: `[1 - p, p]` of `prediction`, the layout converted classifiers use |
//! | `uncalibrated` | `float32 [N, 1]` | calibrated models only: `link(raw_score)` before the calibrator |
//! | `survival` | `float32 [N, K]` | survival models with curves: `S(t_k \| x)` at the `K` times of `tenure.survival_days` |
//! | `spend_probability` | `float32 [N, 1]` | ZILN networks: the probability of any spend |
//!
//! The link is applied in the raw score's own precision (double for linear
//! models) before the cast to `float32`. A calibrated model computes the
//! link and the calibrator in double, whatever the raw score's type, with
//! the operations of [`Calibrator::apply`] in the same order:
//!
//! - Platt and temperature: `Clip` to `[PROB_CLIP, 1 - PROB_CLIP]`, the
//!   log-odds `Log(p / (1 - p))`, then the sigmoid of `a·z + b` or `z / t`;
//! - isotonic: a branch-free binary search for the segment holding `p`
//!   (`⌈log2(K + 1)⌉` rounds of `Add`, `Gather`, `LessOrEqual`, `Where` over
//!   the `K` thresholds, kept in double) and the segment's interpolation
//!   `y0 + (y1 - y0)·(p - x0) / (x1 - x0)` from per-segment tables, flat
//!   below the first and above the last threshold. Memory stays `O(N)`
//!   whatever the number of thresholds, and only standard operators are
//!   used, so runtimes without `ai.onnx.ml` (tract) run it too.

use tenure_core::calibrator::PROB_CLIP;
use tenure_core::spec::SurvivalCurves;
use tenure_core::{Calibrator, Link};

use crate::error::{Result, ensure_spec};
use crate::graph::{Elem, GraphBuilder, Value, attr_int};

pub const PREDICTION: &str = "prediction";
pub const RAW_SCORE: &str = "raw_score";
pub const PROBABILITIES: &str = "probabilities";
pub const UNCALIBRATED: &str = "uncalibrated";
pub const SURVIVAL: &str = "survival";

/// Adds the named, documented outputs.
pub fn outputs(
    g: &mut GraphBuilder,
    raw: &Value,
    link: Link,
    calibrator: Option<&Calibrator>,
    docs: &crate::export::OutputDocs,
) -> Result<()> {
    let mut uncalibrated = None;
    let p = match calibrator {
        None => apply_link(g, raw, link)?,
        Some(c) => {
            ensure_spec!(
                link == Link::Sigmoid,
                "the calibrator",
                "a {} calibrator maps probabilities, and a model with the {} link predicts none",
                c.method(),
                crate::export::link_name(link)
            );
            c.check().map_err(|e| crate::OnnxError::Spec {
                what: "the calibrator".into(),
                reason: e.to_string(),
            })?;
            let raw64 = if raw.elem() == Elem::F64 {
                raw.clone()
            } else {
                g.cast(raw, Elem::F64, None)?
            };
            let p = apply_link(g, &raw64, link)?;
            uncalibrated = Some(g.rename_as(&p, Elem::F32, UNCALIBRATED)?);
            calibrate(g, &p, c)?
        }
    };
    let prediction = g.rename_as(&p, Elem::F32, PREDICTION)?;
    g.output(&prediction, &docs.prediction);
    let raw_score = g.rename_as(raw, Elem::F32, RAW_SCORE)?;
    g.output(&raw_score, &docs.raw_score);
    if link == Link::Sigmoid {
        let one = g.constant("one", p.elem(), &[1.0], &[1]);
        let q = g.op("Sub", &[&one, &p], None)?;
        let both = g.node("Concat", "", &[&q, &p], vec![attr_int("axis", 1)], None)?;
        let probabilities = g.rename_as(&both, Elem::F32, PROBABILITIES)?;
        g.output(&probabilities, &docs.probabilities);
    }
    // Last, so the graph's outputs keep the order of `tenure.outputs`.
    if let Some(u) = &uncalibrated {
        g.output(u, docs.uncalibrated.as_deref().unwrap_or_default());
    }
    Ok(())
}

/// The `survival` output: `exp(−H₀(t_k) · exp(raw))` for each time, in
/// double, as [`SurvivalCurves::predict`], each time's calibrator mapping
/// the event probability `1 − S` where there is one.
pub fn survival(
    g: &mut GraphBuilder,
    raw: &Value,
    link: Link,
    curves: &SurvivalCurves,
    doc: &str,
) -> Result<()> {
    let k = curves.days.len();
    ensure_spec!(
        link != Link::Sigmoid,
        "the survival curves",
        "they need a log hazard ratio, and this model's raw score is a log-odds"
    );
    ensure_spec!(
        k > 0 && curves.cumulative_hazard.len() == k,
        "the survival curves",
        "{} times and {} cumulative hazards: expected the same non-zero number",
        k,
        curves.cumulative_hazard.len()
    );
    ensure_spec!(
        curves.calibrators.is_empty() || curves.calibrators.len() == k,
        "the survival curves",
        "{} calibrators for {k} times",
        curves.calibrators.len()
    );
    for (d, h) in curves.days.iter().zip(&curves.cumulative_hazard) {
        ensure_spec!(
            d.is_finite() && h.is_finite() && *h >= 0.0,
            "the survival curves",
            "at {d} days the cumulative hazard is {h} (a finite value >= 0 expected)"
        );
    }
    let raw64 = if raw.elem() == Elem::F64 {
        raw.clone()
    } else {
        g.cast(raw, Elem::F64, None)?
    };
    let hazard_ratio = g.op("Exp", &[&raw64], None)?;
    let mut columns = Vec::with_capacity(k);
    for (j, &h) in curves.cumulative_hazard.iter().enumerate() {
        let minus_h = g.constant("minus_cumulative_hazard", Elem::F64, &[-h], &[1]);
        let exponent = g.op("Mul", &[&minus_h, &hazard_ratio], None)?;
        let s = g.op("Exp", &[&exponent], None)?;
        let s = match curves.calibrators.get(j).and_then(Option::as_ref) {
            None => s,
            Some(c) => {
                c.check().map_err(|e| crate::OnnxError::Spec {
                    what: format!("the calibrator at {} days", curves.days[j]),
                    reason: e.to_string(),
                })?;
                let one = g.constant("one", Elem::F64, &[1.0], &[1]);
                let event = g.op("Sub", &[&one, &s], None)?;
                let calibrated = calibrate(g, &event, c)?;
                g.op("Sub", &[&one, &calibrated], None)?
            }
        };
        columns.push(s);
    }
    let refs: Vec<&Value> = columns.iter().collect();
    let all = g.node("Concat", "", &refs, vec![attr_int("axis", 1)], None)?;
    let out = g.rename_as(&all, Elem::F32, SURVIVAL)?;
    g.output(&out, doc);
    Ok(())
}

fn apply_link(g: &mut GraphBuilder, raw: &Value, link: Link) -> Result<Value> {
    match link {
        Link::Identity => Ok(raw.clone()),
        Link::Sigmoid => sigmoid(g, raw),
        Link::Exp => g.op("Exp", &[raw], None),
    }
}

/// `1 / (1 + exp(−x))`, as [`Link::apply`] computes it. In double it is
/// written with `Neg`, `Exp`, `Add` and `Div`, since some runtimes (tract)
/// implement `Sigmoid` in single precision only.
pub(crate) fn sigmoid(g: &mut GraphBuilder, x: &Value) -> Result<Value> {
    if x.elem() != Elem::F64 {
        return g.op("Sigmoid", &[x], None);
    }
    let minus = g.op("Neg", &[x], None)?;
    let e = g.op("Exp", &[&minus], None)?;
    let one = g.constant("one", Elem::F64, &[1.0], &[1]);
    let denominator = g.op("Add", &[&one, &e], None)?;
    g.op("Div", &[&one, &denominator], None)
}

/// The calibrated probability of `p` (`float64 [N, 1]`), as
/// [`Calibrator::apply`].
fn calibrate(g: &mut GraphBuilder, p: &Value, c: &Calibrator) -> Result<Value> {
    match c {
        Calibrator::Platt { a, b } => {
            let z = logit(g, p)?;
            let a = g.constant("platt_a", Elem::F64, &[*a], &[1]);
            let b = g.constant("platt_b", Elem::F64, &[*b], &[1]);
            let az = g.op("Mul", &[&a, &z], None)?;
            let s = g.op("Add", &[&az, &b], None)?;
            sigmoid(g, &s)
        }
        Calibrator::Temperature { t } => {
            let z = logit(g, p)?;
            let t = g.constant("temperature", Elem::F64, &[*t], &[1]);
            let s = g.op("Div", &[&z, &t], None)?;
            sigmoid(g, &s)
        }
        Calibrator::Isotonic { x, y } => isotonic(g, p, x, y),
    }
}

/// `ln(p / (1 − p))` of `p` clipped to `[PROB_CLIP, 1 − PROB_CLIP]`, as
/// [`tenure_core::calibrator::logit`].
fn logit(g: &mut GraphBuilder, p: &Value) -> Result<Value> {
    let lo = g.constant("clip_low", Elem::F64, &[PROB_CLIP], &[]);
    let hi = g.constant("clip_high", Elem::F64, &[1.0 - PROB_CLIP], &[]);
    let clipped = g.op("Clip", &[p, &lo, &hi], None)?;
    let one = g.constant("one", Elem::F64, &[1.0], &[1]);
    let q = g.op("Sub", &[&one, &clipped], None)?;
    let odds = g.op("Div", &[&clipped, &q], None)?;
    g.op("Log", &[&odds], None)
}

/// The piecewise-linear interpolation of `(x[k], y[k])` at `p`, flat
/// outside `[x[0], x[K-1]]`, as `numpy.interp`.
fn isotonic(g: &mut GraphBuilder, p: &Value, x: &[f64], y: &[f64]) -> Result<Value> {
    let k = x.len();
    // Segment s in 0..=K holds the p with exactly s thresholds <= p:
    // s = 0 below x[0], s = K from x[K-1] on, else [x[s-1], x[s]).
    let mut base_x = Vec::with_capacity(k + 1);
    let mut base_y = Vec::with_capacity(k + 1);
    let mut dy = Vec::with_capacity(k + 1);
    let mut dx = Vec::with_capacity(k + 1);
    for s in 0..=k {
        if s == 0 || s == k {
            // Flat: y + 0·(p − x)/1 is y exactly for any finite p.
            let j = s.min(k - 1);
            base_x.push(x[j]);
            base_y.push(y[j]);
            dy.push(0.0);
            dx.push(1.0);
        } else {
            base_x.push(x[s - 1]);
            base_y.push(y[s - 1]);
            dy.push(y[s] - y[s - 1]);
            // Strictly increasing doubles differ by a non-zero amount.
            dx.push(x[s] - x[s - 1]);
        }
    }
    let segment = search(g, p, x)?;
    let n = [k as i64 + 1];
    let gather = |g: &mut GraphBuilder, hint: &str, table: &[f64]| -> Result<Value> {
        let t = g.constant(hint, Elem::F64, table, &n);
        g.node(
            "Gather",
            "",
            &[&t, &segment],
            vec![attr_int("axis", 0)],
            None,
        )
    };
    let x0 = gather(g, "isotonic_x0", &base_x)?;
    let y0 = gather(g, "isotonic_y0", &base_y)?;
    let rise = gather(g, "isotonic_dy", &dy)?;
    let run = gather(g, "isotonic_dx", &dx)?;
    let from = g.op("Sub", &[p, &x0], None)?;
    let up = g.op("Mul", &[&rise, &from], None)?;
    let step = g.op("Div", &[&up, &run], None)?;
    g.op("Add", &[&y0, &step], None)
}

/// For each `p`, the number of thresholds `<= p` (`int64 [N, 1]`), by a
/// binary search over `[-inf, x..., +inf...]` padded to a power of two: the
/// largest index whose entry is `<= p`. A `NaN` compares false everywhere
/// and lands in segment 0, whose interpolation then gives `NaN`.
pub(crate) fn search(g: &mut GraphBuilder, p: &Value, x: &[f64]) -> Result<Value> {
    let size = (x.len() + 1).next_power_of_two();
    let mut table = Vec::with_capacity(size);
    table.push(f64::NEG_INFINITY);
    table.extend_from_slice(x);
    table.resize(size, f64::INFINITY);
    let t = g.constant("isotonic_thresholds", Elem::F64, &table, &[size as i64]);
    let mut index: Option<Value> = None;
    let mut step = size / 2;
    while step >= 1 {
        let s = g.constant_i64("search_step", &[step as i64], &[1]);
        let candidate = match &index {
            None => s.clone(),
            Some(i) => g.op("Add", &[i, &s], None)?,
        };
        let at = g.node(
            "Gather",
            "",
            &[&t, &candidate],
            vec![attr_int("axis", 0)],
            None,
        )?;
        let below = g.op("LessOrEqual", &[&at, p], None)?;
        let otherwise = match &index {
            Some(i) => i.clone(),
            None => g.constant_i64("zero", &[0], &[1]),
        };
        index = Some(g.op("Where", &[&below, &candidate, &otherwise], None)?);
        step /= 2;
    }
    Ok(index.expect("at least one round: the table has two or more entries"))
}
