//! Specifications that cannot be exported, and graphs the validator
//! rejects, each with an error that says where and why.

use prost::Message;
use tenure_core::Link;
use tenure_core::spec::{Condition, Model, Node, SavedSpec};
use tenure_onnx::proto::{ModelProto, tensor_shape_proto::dimension};
use tenure_onnx::validate::validate;

use crate::common::{saved, small_linear, two_trees};

fn export_error(spec: &SavedSpec) -> String {
    tenure_onnx::export(spec).unwrap_err().to_string()
}

fn trees_with(edit: impl FnOnce(&mut tenure_core::spec::TreeEnsemble)) -> SavedSpec {
    let mut m = two_trees(Link::Sigmoid);
    edit(&mut m);
    saved(Model::TreeEnsemble(m))
}

#[test]
fn tree_specs_that_cannot_be_exported() {
    let e = export_error(&trees_with(|m| {
        m.trees[0].nodes[0] = Node::Split {
            feature: 7,
            condition: Condition::Le { threshold: 1.0 },
            missing_left: true,
            left: 1,
            right: 2,
        };
    }));
    assert!(e.contains("tree 0") && e.contains("feature 7"), "{e}");

    let e = export_error(&trees_with(|m| {
        if let Node::Split { right, .. } = &mut m.trees[0].nodes[2] {
            *right = 1; // node 1 is already the root's left child
        }
    }));
    assert!(e.contains("node 1 is reached twice"), "{e}");

    let e = export_error(&trees_with(|m| {
        if let Node::Split { condition, .. } = &mut m.trees[0].nodes[2] {
            *condition = Condition::In { left: vec![3, 1] };
        }
    }));
    assert!(e.contains("not sorted"), "{e}");

    let e = export_error(&trees_with(|m| {
        if let Node::Split { condition, .. } = &mut m.trees[0].nodes[2] {
            *condition = Condition::In {
                left: vec![1, (1 << 24) + 1],
            };
        }
    }));
    assert!(e.contains("category code 16777217"), "{e}");

    let e = export_error(&trees_with(|m| m.trees[1].nodes.clear()));
    assert!(e.contains("tree 1") && e.contains("no node"), "{e}");

    let e = export_error(&trees_with(|m| {
        m.trees[0].nodes[1] = Node::Leaf { value: f64::NAN };
    }));
    assert!(e.contains("leaf 1"), "{e}");

    let e = export_error(&trees_with(|m| m.feature_names[2] = "plan".into()));
    assert!(e.contains("`plan` is empty or repeated"), "{e}");
}

#[test]
fn linear_specs_that_cannot_be_exported() {
    let mut m = small_linear(Link::Sigmoid, true);
    m.coef.pop();
    let e = export_error(&saved(Model::Linear(m)));
    assert!(e.contains("2 coefficients for 3 features"), "{e}");

    let mut m = small_linear(Link::Sigmoid, true);
    m.preprocess.as_mut().unwrap().scale[1] = 0.0;
    let e = export_error(&saved(Model::Linear(m)));
    assert!(e.contains("feature 1") && e.contains("scale 0"), "{e}");

    let mut spec = saved(Model::Linear(small_linear(Link::Sigmoid, false)));
    spec.format = "tenure.spec/99".into();
    assert!(export_error(&spec).contains("tenure.spec/99"));
}

fn exported(link: Link) -> ModelProto {
    let bytes = tenure_onnx::export(&saved(Model::TreeEnsemble(two_trees(link))))
        .unwrap()
        .bytes()
        .to_vec();
    ModelProto::decode(bytes.as_slice()).unwrap()
}

fn invalid(model: &ModelProto) -> String {
    validate(model).unwrap_err().to_string()
}

#[test]
fn the_validator_rejects_broken_graphs() {
    let good = exported(Link::Sigmoid);
    validate(&good).unwrap();

    let mut m = good.clone();
    m.graph.as_mut().unwrap().node.swap(0, 1);
    assert!(
        invalid(&m).contains("not defined before this node"),
        "{}",
        invalid(&m)
    );

    let mut m = good.clone();
    m.graph.as_mut().unwrap().node[1].input[0] = "nowhere".into();
    assert!(invalid(&m).contains("`nowhere`"));

    let mut m = good.clone();
    let out = &mut m.graph.as_mut().unwrap().output[0];
    if let Some(tenure_onnx::proto::type_proto::Value::TensorType(t)) =
        &mut out.r#type.as_mut().unwrap().value
    {
        t.shape.as_mut().unwrap().dim[1].value = Some(dimension::Value::DimValue(2));
    }
    let e = invalid(&m);
    assert!(
        e.contains("graph output `prediction`") && e.contains("declared"),
        "{e}"
    );

    let mut m = good.clone();
    m.opset_import.retain(|o| o.domain() != "ai.onnx.ml");
    assert!(invalid(&m).contains("ai.onnx.ml"));

    // A child pointing back at its parent would loop forever.
    let mut m = good.clone();
    let te = m
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.op_type() == "TreeEnsemble")
        .unwrap();
    // The first tree's root: recency <= 30.5 goes to a leaf, else to split 1.
    let false_ids = te
        .attribute
        .iter_mut()
        .find(|a| a.name() == "nodes_falsenodeids")
        .unwrap();
    assert_eq!(false_ids.ints[0], 1);
    false_ids.ints[0] = 0;
    let e = invalid(&m);
    assert!(e.contains("not a later node"), "{e}");

    // A feature index past the input's width.
    let mut m = good;
    let te = m
        .graph
        .as_mut()
        .unwrap()
        .node
        .iter_mut()
        .find(|n| n.op_type() == "TreeEnsemble")
        .unwrap();
    let features = te
        .attribute
        .iter_mut()
        .find(|a| a.name() == "nodes_featureids")
        .unwrap();
    features.ints[0] = 3;
    let e = invalid(&m);
    assert!(e.contains("reads feature 3 of 3"), "{e}");
}

/// The tree ensemble's own rules: every split reached once (trees, not
/// graphs sharing subtrees), one category set per `BRANCH_MEMBER` node.
#[test]
fn validator_rejects_shared_subtrees_and_missing_category_sets() {
    let good = tenure_onnx::export(&trees_with(|_| {}))
        .unwrap()
        .proto()
        .clone();
    let attribute = |m: &mut ModelProto, name: &str| -> tenure_onnx::proto::AttributeProto {
        let te = m
            .graph
            .as_mut()
            .unwrap()
            .node
            .iter_mut()
            .find(|n| n.op_type() == "TreeEnsemble")
            .unwrap();
        let k = te.attribute.iter().position(|a| a.name() == name).unwrap();
        te.attribute.remove(k)
    };
    let put = |m: &mut ModelProto, a: tenure_onnx::proto::AttributeProto| {
        let te = m
            .graph
            .as_mut()
            .unwrap()
            .node
            .iter_mut()
            .find(|n| n.op_type() == "TreeEnsemble")
            .unwrap();
        te.attribute.push(a);
    };

    // The second tree's root made the first tree's categorical split:
    // reached from two places.
    let mut m = good.clone();
    let mut roots = attribute(&mut m, "tree_roots");
    assert_eq!(roots.ints, vec![0, 2]);
    roots.ints[1] = 1;
    put(&mut m, roots);
    let e = invalid(&m);
    assert!(e.contains("reached from"), "{e}");

    let mut m = good;
    attribute(&mut m, "membership_values");
    let e = invalid(&m);
    assert!(e.contains("1 BRANCH_MEMBER nodes, 0 sets"), "{e}");
}

#[test]
fn calibrators_that_cannot_be_exported() {
    use tenure_core::Calibrator;
    // A calibrator maps probabilities: a hazard ratio is none.
    let cox = saved(Model::Linear(small_linear(Link::Exp, true)))
        .with_calibrator(Some(Calibrator::Platt { a: 1.0, b: 0.0 }));
    let e = export_error(&cox);
    assert!(
        e.contains("the calibrator") && e.contains("exp link"),
        "{e}"
    );

    let churn = |c: Calibrator| {
        saved(Model::Linear(small_linear(Link::Sigmoid, true))).with_calibrator(Some(c))
    };
    let e = export_error(&churn(Calibrator::Isotonic {
        x: vec![0.2, 0.1],
        y: vec![0.1, 0.5],
    }));
    assert!(e.contains("not strictly increasing"), "{e}");
    let e = export_error(&churn(Calibrator::Temperature { t: 0.0 }));
    assert!(e.contains("t = 0"), "{e}");
}
