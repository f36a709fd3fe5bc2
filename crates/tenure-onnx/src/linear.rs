//! Linear models (logistic regression, Cox PH) with standard operators,
//! computed in double like [`tenure_core::spec::LinearModel::predict`].

use tenure_core::spec::{LinearModel, Standardize};

use crate::error::{Result, ensure_spec};
use crate::graph::{Elem, GraphBuilder, Value};

/// The linear predictor (before the link), `float64 [N, 1]`.
pub fn build(g: &mut GraphBuilder, features: &Value, model: &LinearModel) -> Result<Value> {
    let f = model.feature_names.len();
    ensure_spec!(
        model.coef.len() == f,
        "the linear model",
        "{} coefficients for {f} features",
        model.coef.len()
    );
    ensure_spec!(
        model.coef.iter().all(|c| c.is_finite()) && model.intercept.is_finite(),
        "the linear model",
        "its coefficients and intercept must be finite"
    );
    let z = match &model.preprocess {
        Some(p) => standardize(g, features, p)?,
        None => g.cast(features, Elem::F64, None)?,
    };
    let coef = g.constant("coefficients", Elem::F64, &model.coef, &[f as i64, 1]);
    let eta = g.op("MatMul", &[&z, &coef], None)?;
    let intercept = g.constant("intercept", Elem::F64, &[model.intercept], &[1]);
    g.op("Add", &[&eta, &intercept], None)
}

/// Imputation then standardisation of a `[N, F]` tensor, as
/// [`Standardize::apply`], in double: a missing value becomes `impute[j]`,
/// then `(x - mean[j]) / scale[j]`. Shared by every model that standardises
/// its inputs (linear models, networks). Missing values are found in `x`'s
/// own type before the cast to double, so that runtimes without a double
/// `IsNaN` (tract) run the graph too.
pub fn standardize(g: &mut GraphBuilder, x: &Value, p: &Standardize) -> Result<Value> {
    standardize_after(g, x, p, |_, x| Ok(x))
}

/// [`standardize`] of `transform(x)`: the transform (a network's `asinh`
/// and clamp) runs on the double values before imputation, and the missing
/// values are those of `x` itself, so the result does not depend on what a
/// runtime's `Max`/`Min` make of `NaN` (a missing value stays missing
/// through the spec's transforms).
pub fn standardize_after(
    g: &mut GraphBuilder,
    x: &Value,
    p: &Standardize,
    transform: impl FnOnce(&mut GraphBuilder, Value) -> Result<Value>,
) -> Result<Value> {
    let f = x.ty.shape.last().cloned();
    let n = p.mean.len();
    ensure_spec!(
        p.impute.len() == n && p.scale.len() == n && f == Some(crate::graph::Dim::Fixed(n as i64)),
        "the standardisation",
        "impute, mean and scale must have one value per feature ({:?}), got {}, {} and {}",
        f,
        p.impute.len(),
        n,
        p.scale.len()
    );
    for j in 0..n {
        ensure_spec!(
            p.impute[j].is_finite()
                && p.mean[j].is_finite()
                && p.scale[j].is_finite()
                && p.scale[j] != 0.0,
            "the standardisation",
            "feature {j}: impute {}, mean {}, scale {} (finite values and a non-zero scale expected)",
            p.impute[j],
            p.mean[j],
            p.scale[j]
        );
    }
    let dims = [n as i64];
    let impute = g.constant("impute", Elem::F64, &p.impute, &dims);
    let mean = g.constant("mean", Elem::F64, &p.mean, &dims);
    let scale = g.constant("scale", Elem::F64, &p.scale, &dims);
    let missing = g.op("IsNaN", &[x], None)?;
    let x = if x.elem() == Elem::F64 {
        x.clone()
    } else {
        g.cast(x, Elem::F64, None)?
    };
    let x = transform(g, x)?;
    let filled = g.op("Where", &[&missing, &impute, &x], None)?;
    let centred = g.op("Sub", &[&filled, &mean], None)?;
    g.op("Div", &[&centred, &scale], None)
}
