//! The files an export writes: ONNX model, model card and spec, atomically.

use tenure_core::Link;
use tenure_core::spec::Model;
use tenure_onnx::{ModelCard, OnnxModel, Summary};

use crate::common::{saved, small_linear, two_trees};

#[test]
fn bundle_holds_model_card_and_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = saved(Model::Linear(small_linear(Link::Sigmoid, true)));
    let paths = tenure_onnx::write_bundle(&dir.path().join("models/churn"), &spec).unwrap();
    assert_eq!(paths.onnx, dir.path().join("models/churn/model.onnx"));

    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("models/churn"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Nothing else: no temporary file left behind.
    assert_eq!(names, ["model.onnx", "model_card.json", "spec.json"]);

    assert_eq!(tenure_onnx::read_spec(&paths.spec).unwrap(), spec);
    let bytes = std::fs::read(&paths.onnx).unwrap();
    let onnx = OnnxModel::from_bytes(&bytes).unwrap();
    assert_eq!(onnx.bytes(), tenure_onnx::export(&spec).unwrap().bytes());

    let card: ModelCard =
        serde_json::from_str(&std::fs::read_to_string(&paths.card).unwrap()).unwrap();
    assert_eq!(card.format, ModelCard::FORMAT);
    assert_eq!(card.model, spec.info);
    assert_eq!(card.file.name, "model.onnx");
    assert_eq!(card.file.bytes, bytes.len());
    assert_eq!(card.file.sha256, tenure_onnx::sha256(&bytes));
    assert_eq!(card.file.opsets["ai.onnx"], tenure_onnx::export::OPSET);
    assert_eq!(card.input.shape, ["N", "3"]);
    assert_eq!(card.input.columns[1].name, "orders");
    let pre = card.input.columns[2].preprocessing.as_ref().unwrap();
    assert_eq!((pre.impute, pre.mean, pre.scale), (80.0, 100.0, 60.0));
    let outputs: Vec<&str> = card.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["prediction", "raw_score", "probabilities"]);
    assert_eq!(
        card.outputs[0].meaning,
        "probability of churn within 90 days"
    );
    assert_eq!(card.outputs[2].shape, ["N", "2"]);
    match card.summary {
        Summary::Linear {
            intercept,
            coefficients,
            link,
        } => {
            assert_eq!(intercept, -1.2);
            assert_eq!(coefficients[0], ("recency".to_string(), 0.8));
            assert_eq!(link, "sigmoid");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_elsewhere_gets_its_card_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = saved(Model::TreeEnsemble(two_trees(Link::Exp)));
    let path = dir.path().join("spend.onnx");
    let card_path = tenure_onnx::write_with_card(&path, &spec).unwrap();
    assert_eq!(card_path, dir.path().join("spend_card.json"));
    let card: ModelCard =
        serde_json::from_str(&std::fs::read_to_string(&card_path).unwrap()).unwrap();
    assert_eq!(card.file.name, "spend.onnx");
    assert!(card.input.columns[1].categorical && !card.input.columns[0].categorical);
    match card.summary {
        Summary::TreeEnsemble {
            trees,
            leaves,
            max_depth,
            ..
        } => {
            assert_eq!((trees, leaves, max_depth), (2, 5, 2));
        }
        other => panic!("{other:?}"),
    }
    // Overwriting replaces the file whole.
    tenure_onnx::write_with_card(&path, &spec).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn reading_a_spec_that_is_not_one_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.json");
    std::fs::write(&path, "{\"format\": \"other/1\"}").unwrap();
    let e = tenure_onnx::read_spec(&path).unwrap_err().to_string();
    assert!(e.contains("spec.json") && e.contains("`other/1`"), "{e}");
    std::fs::write(&path, "not json").unwrap();
    let e = tenure_onnx::read_spec(&path).unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
    let e = tenure_onnx::read_spec(&dir.path().join("missing.json")).unwrap_err();
    assert!(e.to_string().contains("missing.json"), "{e}");
}
