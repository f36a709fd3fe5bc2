//! Tiny models whose exported bytes are checked in (`tests/golden/`), so a
//! change in the writer shows in review. `TENURE_REGENERATE_GOLDEN=1 cargo
//! test -p tenure-onnx golden` rewrites them; the test then still checks
//! them in onnxruntime.

use std::path::PathBuf;

use tenure_core::Link;
use tenure_core::Task;
use tenure_core::spec::{Model, SavedSpec};

use crate::common::{LEVELS, assert_parity, info, rows, small_linear, two_trees};
use crate::onnxruntime::score;

fn golden(name: &str, spec: &SavedSpec) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let bytes = tenure_onnx::export(spec).unwrap().bytes().to_vec();
    if std::env::var_os("TENURE_REGENERATE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with TENURE_REGENERATE_GOLDEN=1)",
            path.display()
        )
    });
    assert!(
        checked_in == bytes,
        "{} differs from the export ({} bytes checked in, {} exported): if the change is \
         intended, regenerate with TENURE_REGENERATE_GOLDEN=1 and review the diff",
        path.display(),
        checked_in.len(),
        bytes.len()
    );
    // The checked-in file itself passes the checker and scores like the spec.
    let x = rows(&spec.model, LEVELS, 2_000, 0.1, 11);
    let s = &score(&[(checked_in.as_slice(), &x)])[0];
    assert_parity(name, &spec.model, &x, s);
}

#[test]
fn golden_two_tree_ensemble() {
    let spec = SavedSpec::new(
        info("two_trees", "gbdt", Task::Churn),
        Model::TreeEnsemble(two_trees(Link::Sigmoid)),
    );
    golden("two_trees.onnx", &spec);
}

/// A hand-built 2-layer MLP: two numeric columns through `asinh`, clamped
/// into their training range and standardised, a plan code embedded in two
/// dimensions, a hidden layer of three ReLU units, a logistic output.
#[test]
fn golden_two_layer_mlp() {
    use tenure_core::spec::Standardize;
    use tenure_core::spec_network::{
        Activation, Dense, EmbeddingSpec, HiddenLayer, NetworkHead, NetworkSpec,
    };
    let net = NetworkSpec {
        feature_names: vec!["recency".into(), "plan".into(), "spend".into()],
        numeric: vec![0, 2],
        standardize: Standardize {
            impute: vec![3.9, 5.0],
            mean: vec![4.0, 5.2],
            scale: vec![1.0, 1.25],
        },
        asinh: true,
        clamp: vec![[0.5, 4.0], [0.0, 5.5]],
        embeddings: vec![EmbeddingSpec {
            feature: 1,
            levels: vec![0.0, 1.0, 3.0],
            dim: 2,
            table: vec![0.0, 0.0, 0.5, -0.25, -0.75, 1.0, 0.125, 0.375],
        }],
        hidden: vec![HiddenLayer {
            dense: Dense {
                n_in: 4,
                n_out: 3,
                weight: vec![
                    0.5, -1.0, 0.25, //
                    -0.5, 0.75, 1.0, //
                    1.5, 0.0, -0.25, //
                    -1.25, 0.5, 0.5,
                ],
                bias: vec![0.1, -0.2, 0.05],
            },
            norm: None,
            activation: Activation::Relu,
        }],
        output: Dense {
            n_in: 3,
            n_out: 1,
            weight: vec![1.0, -0.75, 0.5],
            bias: vec![-0.3],
        },
        head: NetworkHead::Logistic,
    };
    let spec = SavedSpec::new(info("mlp", "mlp", Task::Churn), Model::Network(net));
    golden("mlp.onnx", &spec);
}

#[test]
fn golden_linear_model() {
    let spec = SavedSpec::new(
        info("linear", "cox", Task::Survival),
        Model::Linear(small_linear(Link::Exp, true)),
    );
    golden("linear.onnx", &spec);
}
