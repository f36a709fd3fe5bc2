//! The outputs every exported model shares, made from its raw score.
//!
//! | output | type | meaning |
//! |---|---|---|
//! | `prediction` | `float32 [N, 1]` | what tenure predicts: `link(raw_score)` |
//! | `raw_score` | `float32 [N, 1]` | the score before the link (log-odds, log hazard ratio, log spend) |
//! | `probabilities` | `float32 [N, 2]` | sigmoid link only: `[1 - p, p]`, the layout converted classifiers use |
//!
//! The link is applied in the raw score's own precision (double for linear
//! models) before the cast to `float32`. A calibrator, when one is exported,
//! maps `p` here, between the link and the outputs.

use tenure_core::Link;

use crate::error::Result;
use crate::graph::{Elem, GraphBuilder, Value};

pub const PREDICTION: &str = "prediction";
pub const RAW_SCORE: &str = "raw_score";
pub const PROBABILITIES: &str = "probabilities";

/// Adds the named, documented outputs.
pub fn outputs(
    g: &mut GraphBuilder,
    raw: &Value,
    link: Link,
    docs: &crate::export::OutputDocs,
) -> Result<()> {
    let p = match link {
        Link::Identity => raw.clone(),
        Link::Sigmoid => g.op("Sigmoid", &[raw], None)?,
        Link::Exp => g.op("Exp", &[raw], None)?,
    };
    let prediction = g.rename_as(&p, Elem::F32, PREDICTION)?;
    g.output(&prediction, &docs.prediction);
    let raw_score = g.rename_as(raw, Elem::F32, RAW_SCORE)?;
    g.output(&raw_score, &docs.raw_score);
    if link == Link::Sigmoid {
        let one = g.constant("one", raw.elem(), &[1.0], &[1]);
        let q = g.op("Sub", &[&one, &p], None)?;
        let both = g.node(
            "Concat",
            "",
            &[&q, &p],
            vec![crate::graph::attr_int("axis", 1)],
            None,
        )?;
        let probabilities = g.rename_as(&both, Elem::F32, PROBABILITIES)?;
        g.output(&probabilities, &docs.probabilities);
    }
    Ok(())
}
