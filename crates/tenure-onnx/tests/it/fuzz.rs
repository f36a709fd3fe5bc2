//! The exporter's contract on any input: arbitrary specifications export to
//! an ONNX file that reads back and validates, or fail with a spec error;
//! arbitrary bytes as `spec.json` or as an ONNX file never panic. Also
//! replays the fuzz target's corpus and crashes.

use proptest::prelude::*;
use tenure_core::spec::{
    Condition, LinearModel, Model, ModelInfo, Node, SavedSpec, Standardize, Tree, TreeEnsemble,
};
use tenure_core::{Link, Task};

#[path = "../../../../fuzz/replay.rs"]
mod replay;

#[test]
fn the_fuzz_corpus_and_crashes_replay() {
    let n = replay::replay("onnx_spec_json", tenure_onnx::fuzz::spec_json);
    assert!(n > 0, "fuzz/corpus/onnx_spec_json is missing");
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0f64..10.0,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(1e300),
        1 => Just(-1e-300),
    ]
}

fn link() -> impl Strategy<Value = Link> {
    prop_oneof![Just(Link::Identity), Just(Link::Sigmoid), Just(Link::Exp)]
}

fn names() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![
            "[a-z_]{1,8}",
            Just(String::new()),
            "[\\u{80}-\\u{3000}]{1,3}"
        ],
        0..5,
    )
}

fn info() -> impl Strategy<Value = ModelInfo> {
    (
        "[a-z]{0,6}",
        prop_oneof![Just(Task::Churn), Just(Task::Survival), Just(Task::Clv)],
        proptest::option::of(number()),
    )
        .prop_map(|(name, task, horizon_days)| ModelInfo {
            name,
            kind: "fuzz".into(),
            version: "1".into(),
            task,
            horizon_days,
            training_rows: 10,
            training_fingerprint: "sha256:x".into(),
            tenure_version: "0.1.0".into(),
            run_id: None,
        })
}

fn linear() -> impl Strategy<Value = Model> {
    (
        names(),
        proptest::collection::vec(number(), 0..6),
        number(),
        link(),
        proptest::option::of((
            proptest::collection::vec(number(), 0..6),
            proptest::collection::vec(number(), 0..6),
            proptest::collection::vec(number(), 0..6),
        )),
    )
        .prop_map(|(feature_names, coef, intercept, link, pre)| {
            Model::Linear(LinearModel {
                feature_names,
                preprocess: pre.map(|(impute, mean, scale)| Standardize {
                    impute,
                    mean,
                    scale,
                }),
                coef,
                intercept,
                link,
            })
        })
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        number().prop_map(|value| Node::Leaf { value }),
        (
            0u32..5,
            prop_oneof![
                (-5.0f32..5.0).prop_map(|threshold| Condition::Le { threshold }),
                Just(Condition::Le {
                    threshold: f32::NAN
                }),
                proptest::collection::vec(0u32..40, 0..4).prop_map(|left| Condition::In { left }),
                Just(Condition::In {
                    left: vec![1 << 25]
                }),
            ],
            any::<bool>(),
            0u32..8,
            0u32..8,
        )
            .prop_map(
                |(feature, condition, missing_left, left, right)| Node::Split {
                    feature,
                    condition,
                    missing_left,
                    left,
                    right,
                }
            ),
    ]
}

fn trees() -> impl Strategy<Value = Model> {
    (
        names(),
        proptest::collection::vec(0u32..5, 0..3),
        number(),
        link(),
        proptest::collection::vec(proptest::collection::vec(node(), 0..8), 0..4),
    )
        .prop_map(|(feature_names, categorical, base_score, link, trees)| {
            Model::TreeEnsemble(TreeEnsemble {
                feature_names,
                categorical,
                base_score,
                link,
                trees: trees.into_iter().map(|nodes| Tree { nodes }).collect(),
            })
        })
}

/// A binary tree grown from a seed: always well formed, so the exporter
/// must accept it (when its numbers are finite).
fn grown_tree(splits: &[(u32, f32)], leaves: &[f64]) -> Tree {
    let mut nodes = Vec::new();
    fn grow(nodes: &mut Vec<Node>, splits: &[(u32, f32)], leaves: &[f64], depth: usize) -> u32 {
        let at = nodes.len() as u32;
        if depth >= splits.len() {
            nodes.push(Node::Leaf {
                value: leaves[at as usize % leaves.len()],
            });
            return at;
        }
        nodes.push(Node::Leaf { value: 0.0 });
        let left = grow(nodes, splits, leaves, depth + 1);
        let right = grow(nodes, splits, leaves, depth + 2);
        let (feature, threshold) = splits[depth];
        nodes[at as usize] = Node::Split {
            feature,
            condition: Condition::Le { threshold },
            missing_left: depth.is_multiple_of(2),
            left,
            right,
        };
        at
    }
    grow(&mut nodes, splits, leaves, 0);
    Tree { nodes }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_specs_export_or_fail_with_a_spec_error(
        info in info(),
        model in prop_oneof![linear(), trees()],
    ) {
        tenure_onnx::fuzz::check_spec(&SavedSpec::new(info, model));
    }

    #[test]
    fn well_formed_tree_ensembles_export(
        mut info in info(),
        n_features in 1u32..6,
        splits in proptest::collection::vec((0u32..100, -5.0f32..5.0), 0..5),
        leaves in proptest::collection::vec(-3.0f64..3.0, 1..8),
        link in link(),
    ) {
        let splits: Vec<(u32, f32)> =
            splits.into_iter().map(|(f, t)| (f % n_features, t)).collect();
        let model = Model::TreeEnsemble(TreeEnsemble {
            feature_names: (0..n_features).map(|j| format!("f{j}")).collect(),
            categorical: Vec::new(),
            base_score: 0.25,
            link,
            trees: vec![grown_tree(&splits, &leaves), grown_tree(&[], &leaves)],
        });
        info.horizon_days = Some(90.0);
        let spec = SavedSpec::new(info, model);
        let exported = tenure_onnx::export(&spec);
        prop_assert!(exported.is_ok(), "{:?}", exported.err());
        tenure_onnx::fuzz::check_spec(&spec);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        tenure_onnx::fuzz::spec_json(&data);
    }

    #[test]
    fn mutated_spec_json_never_panics(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let seeds = replay::inputs("onnx_spec_json");
        let mut data = std::fs::read(&seeds[0]).unwrap();
        let i = at.index(data.len());
        data[i] = byte;
        tenure_onnx::fuzz::spec_json(&data);
    }
}
