//! Body of the `onnx_spec_json` fuzz target in `fuzz/` (cargo-fuzz,
//! nightly), shared with the stable tests that replay its corpus and with
//! the property tests.

use tenure_core::Matrix;
use tenure_core::spec::SavedSpec;

use crate::{OnnxError, OnnxModel, export, model_card};

/// `data` as a `spec.json`: a specification that parses must export to an
/// ONNX file that decodes and validates, or fail with
/// [`OnnxError::Spec`] (an [`OnnxError::Invalid`] would be an exporter
/// bug: the spec checks let through a graph ONNX rejects). `data` as an
/// ONNX file must decode and validate or fail, never panic.
pub fn spec_json(data: &[u8]) {
    let _ = OnnxModel::from_bytes(data);
    let Ok(spec) = serde_json::from_slice::<SavedSpec>(data) else {
        return;
    };
    check_spec(&spec);
}

/// The exporter's contract on one specification.
pub fn check_spec(spec: &SavedSpec) {
    match export(spec) {
        Ok(onnx) => {
            let back = OnnxModel::from_bytes(onnx.bytes())
                .unwrap_or_else(|e| panic!("the exported file does not read back: {e}"));
            assert_eq!(back.bytes(), onnx.bytes());
            let names = serde_json::to_string(spec.model.feature_names()).unwrap_or_default();
            assert_eq!(
                onnx.metadata(crate::export::keys::FEATURE_NAMES),
                Some(names.as_str())
            );
            let _ = model_card(spec, &onnx, "model.onnx");
            // What the file promises, the specification computes: rows of
            // zeros, missing values and large values score without panic.
            let f = spec.model.feature_names().len();
            for v in [0.0, f64::NAN, 1e30, -1.0] {
                if let Ok(x) = Matrix::new(vec![v; f], 1, f) {
                    let _ = spec.model.predict(&x);
                }
            }
        }
        Err(OnnxError::Spec { .. }) => {}
        Err(e) => panic!("exporting a specification failed with a non-spec error: {e}"),
    }
}
