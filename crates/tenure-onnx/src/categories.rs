//! The graph's inputs, and the model's feature matrix built from them.
//!
//! Without categorical inputs the model reads `features` as it is. With
//! them, `features` holds only the numeric columns and `categories` the raw
//! levels; each derived feature is one `ai.onnx.ml.LabelEncoder` lookup on
//! its column (any other level, and the empty string, giving the unseen
//! value), and one `Gather` puts numeric and derived columns back in the
//! model's order.

use tenure_core::spec_categories::CategoricalInputs;

use crate::error::{OnnxError, Result};
use crate::export::{BATCH, INPUT};
use crate::graph::{
    Dim, Elem, GraphBuilder, ML_DOMAIN, Value, attr_float, attr_floats, attr_int, attr_strings,
};
use crate::infer::TensorType;

/// The string input of raw categorical levels.
pub const CATEGORIES: &str = "categories";

/// Declares the graph's inputs and returns the model's `float32 [N, F]`
/// feature matrix, `F` = `names.len()`.
pub fn inputs(
    g: &mut GraphBuilder,
    model: &str,
    names: &[String],
    categories: Option<&CategoricalInputs>,
) -> Result<Value> {
    let matrix = |width: usize| TensorType {
        elem: Elem::F32,
        shape: vec![Dim::Param(BATCH.into()), Dim::Fixed(width as i64)],
    };
    let Some(cats) = categories else {
        return g.input(
            INPUT,
            matrix(names.len()),
            &format!(
                "one row per customer, columns in tenure.feature_names order: {}; NaN = missing",
                names.join(", ")
            ),
        );
    };
    cats.validate(names.len()).map_err(|e| OnnxError::Spec {
        what: format!("model `{model}`"),
        reason: match e {
            tenure_core::CoreError::Shape(reason) => reason,
            other => other.to_string(),
        },
    })?;
    let numeric_cols = cats.numeric_features(names.len());
    let numeric_names: Vec<&str> = numeric_cols.iter().map(|&j| names[j].as_str()).collect();
    let numeric = g.input(
        INPUT,
        matrix(numeric_cols.len()),
        &format!(
            "one row per customer, the numeric columns in tenure.feature_names order: {}; \
             NaN = missing",
            numeric_names.join(", ")
        ),
    )?;
    let levels = g.input(
        CATEGORIES,
        TensorType {
            elem: Elem::Str,
            shape: vec![
                Dim::Param(BATCH.into()),
                Dim::Fixed(cats.columns.len() as i64),
            ],
        },
        &format!(
            "one row per customer, the raw levels of the columns in tenure.categorical_inputs \
             order: {}; an empty string = missing",
            cats.columns.join(", ")
        ),
    )?;
    let mut raw_columns: Vec<Option<Value>> = vec![None; cats.columns.len()];
    let mut parts = vec![numeric];
    let mut order: Vec<usize> = numeric_cols;
    for d in &cats.derived {
        let c = d.column as usize;
        let column = match &raw_columns[c] {
            Some(v) => v.clone(),
            None => {
                let idx = g.constant_i64("category_column", &[c as i64], &[1]);
                let v = g.node(
                    "Gather",
                    "",
                    &[&levels, &idx],
                    vec![attr_int("axis", 1)],
                    None,
                )?;
                raw_columns[c] = Some(v.clone());
                v
            }
        };
        parts.push(g.node(
            "LabelEncoder",
            ML_DOMAIN,
            &[&column],
            vec![
                attr_strings("keys_strings", &d.levels),
                attr_floats(
                    "values_floats",
                    d.values.iter().map(|&v| v as f32).collect(),
                ),
                attr_float("default_float", d.unseen as f32),
            ],
            None,
        )?);
        order.push(d.feature as usize);
    }
    let refs: Vec<&Value> = parts.iter().collect();
    let stacked = g.node("Concat", "", &refs, vec![attr_int("axis", 1)], None)?;
    // `order[k]` is the feature in stacked column k; the model wants
    // feature j at column j.
    let mut position = vec![0i64; order.len()];
    for (k, &j) in order.iter().enumerate() {
        position[j] = k as i64;
    }
    let idx = g.constant_i64("feature_order", &position, &[position.len() as i64]);
    g.node(
        "Gather",
        "",
        &[&stacked, &idx],
        vec![attr_int("axis", 1)],
        None,
    )
}
