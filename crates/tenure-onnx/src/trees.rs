//! Tree ensembles as `ai.onnx.ml.TreeEnsembleRegressor` (opset 3).
//!
//! The features are cast to double first: onnxruntime then compares and
//! sums in double (with `float` input it sums hundreds of leaves in `f32`,
//! an error near 1e-5 on large ensembles). Thresholds are the spec's `f32`
//! values, stored as the operator's `float` attribute and widened exactly,
//! so every row takes the same path as
//! [`tenure_core::spec::Tree::predict_row`]; leaf values and the base score
//! keep their `f64` values (`*_as_tensor` attributes).
//!
//! A categorical split `x ∈ {c₁ … c_k}` becomes a chain of `BRANCH_EQ` nodes
//! whose true branches all point at the one left subtree (the layout
//! onnxmltools gives LightGBM's categorical splits): a code outside the set,
//! a negative or fractional value all fall through to the right. A missing
//! value follows `missing_left` through `nodes_missing_value_tracks_true`.

use std::collections::BTreeMap;

use tenure_core::spec::{Condition, Node, TreeEnsemble};

use crate::error::{Result, ensure_spec, ensure_valid};
use crate::graph::{
    Elem, GraphBuilder, ML_DOMAIN, Value, attr_floats, attr_int, attr_ints, attr_string,
    attr_strings, attr_tensor, tensor_f64,
};
use crate::infer::{
    self, f64_tensor_attr, floats_attr, int_attr, ints_attr, node_label, strings_attr,
};
use crate::proto::NodeProto;

const LEAF: &str = "LEAF";
/// `2^24`: every category code up to it is an exact `f32`.
const MAX_CODE: u32 = 1 << 24;
const MODES: [&str; 7] = [
    "BRANCH_LEQ",
    "BRANCH_LT",
    "BRANCH_GTE",
    "BRANCH_GT",
    "BRANCH_EQ",
    "BRANCH_NEQ",
    LEAF,
];

/// The ensemble's raw score (before the link), `float32 [N, 1]`.
pub fn build(g: &mut GraphBuilder, features: &Value, model: &TreeEnsemble) -> Result<Value> {
    let n_features = model.feature_names.len();
    check_spec(model, n_features)?;
    let attrs = TreeAttributes::from_spec(model)?;
    let x = g.cast(features, Elem::F64, None)?;
    g.node(
        "TreeEnsembleRegressor",
        ML_DOMAIN,
        &[&x],
        attrs.into_proto(model.base_score),
        None,
    )
}

fn check_spec(model: &TreeEnsemble, n_features: usize) -> Result<()> {
    ensure_spec!(
        model.base_score.is_finite(),
        "the tree ensemble",
        "base score {} is not finite",
        model.base_score
    );
    for &c in &model.categorical {
        ensure_spec!(
            (c as usize) < n_features,
            "the tree ensemble",
            "categorical feature index {c} is out of range ({n_features} features)"
        );
    }
    for (t, tree) in model.trees.iter().enumerate() {
        let what = || format!("tree {t}");
        ensure_spec!(!tree.nodes.is_empty(), what(), "it has no node");
        for (i, node) in tree.nodes.iter().enumerate() {
            match node {
                Node::Leaf { value } => {
                    ensure_spec!(value.is_finite(), what(), "leaf {i} has value {value}");
                }
                Node::Split {
                    feature,
                    condition,
                    left,
                    right,
                    ..
                } => {
                    ensure_spec!(
                        (*feature as usize) < n_features,
                        what(),
                        "node {i} splits on feature {feature}, but the model has {n_features}"
                    );
                    for child in [left, right] {
                        ensure_spec!(
                            (*child as usize) < tree.nodes.len(),
                            what(),
                            "node {i} points to node {child}, but the tree has {}",
                            tree.nodes.len()
                        );
                    }
                    match condition {
                        Condition::Le { threshold } => ensure_spec!(
                            threshold.is_finite(),
                            what(),
                            "node {i} has threshold {threshold}"
                        ),
                        Condition::In { left } => {
                            ensure_spec!(
                                left.windows(2).all(|w| w[0] < w[1]),
                                what(),
                                "node {i}: the category set {left:?} is not sorted without repeats"
                            );
                            ensure_spec!(
                                left.last().is_none_or(|&c| c <= MAX_CODE),
                                what(),
                                "node {i}: category code {} is above {MAX_CODE}, the largest \
                                 integer float32 thresholds hold exactly",
                                left.last().copied().unwrap_or_default()
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The parallel arrays of the operator's attributes.
#[derive(Debug, Default)]
struct TreeAttributes {
    treeids: Vec<i64>,
    nodeids: Vec<i64>,
    featureids: Vec<i64>,
    modes: Vec<&'static str>,
    values: Vec<f32>,
    truenodeids: Vec<i64>,
    falsenodeids: Vec<i64>,
    missing_tracks_true: Vec<i64>,
    target_treeids: Vec<i64>,
    target_nodeids: Vec<i64>,
    target_weights: Vec<f64>,
}

impl TreeAttributes {
    fn from_spec(model: &TreeEnsemble) -> Result<Self> {
        let mut a = Self::default();
        for (t, tree) in model.trees.iter().enumerate() {
            a.push_tree(t as i64, &tree.nodes)?;
        }
        // onnxruntime needs at least one node: an ensemble without trees is
        // its base score alone.
        if model.trees.is_empty() {
            a.push_tree(0, &[Node::Leaf { value: 0.0 }])?;
        }
        Ok(a)
    }

    /// Emits one tree in preorder, so that a node's children always come
    /// after it and node ids count up from 0 as onnxruntime requires.
    fn push_tree(&mut self, tree_id: i64, nodes: &[Node]) -> Result<()> {
        // First pass: the preorder and the id of each spec node's first
        // ONNX node (a categorical split takes one node per code).
        let mut first_id = vec![-1i64; nodes.len()];
        let mut order = Vec::new();
        let mut stack = vec![0usize];
        let mut next = 0i64;
        while let Some(i) = stack.pop() {
            ensure_spec!(
                first_id[i] < 0,
                format!("tree {tree_id}"),
                "node {i} is reached twice: the nodes do not form a tree"
            );
            first_id[i] = next;
            order.push(i);
            match &nodes[i] {
                Node::Leaf { .. } => next += 1,
                Node::Split {
                    condition,
                    left,
                    right,
                    ..
                } => {
                    next += match condition {
                        Condition::Le { .. } => 1,
                        Condition::In { left } => left.len().max(1) as i64,
                    };
                    stack.push(*right as usize);
                    stack.push(*left as usize);
                }
            }
        }
        for &i in &order {
            let id = first_id[i];
            match &nodes[i] {
                Node::Leaf { value } => {
                    self.push_node(tree_id, id, LEAF, 0, 0.0, (0, 0), false);
                    self.target_treeids.push(tree_id);
                    self.target_nodeids.push(id);
                    self.target_weights.push(*value);
                }
                Node::Split {
                    feature,
                    condition,
                    missing_left,
                    left,
                    right,
                } => {
                    let (l, r) = (first_id[*left as usize], first_id[*right as usize]);
                    let f = i64::from(*feature);
                    match condition {
                        Condition::Le { threshold } => self.push_node(
                            tree_id,
                            id,
                            "BRANCH_LEQ",
                            f,
                            *threshold,
                            (l, r),
                            *missing_left,
                        ),
                        // Nothing is `< -inf`: every value goes right, a
                        // missing one where `missing_left` says.
                        Condition::In { left: codes } if codes.is_empty() => self.push_node(
                            tree_id,
                            id,
                            "BRANCH_LT",
                            f,
                            f32::NEG_INFINITY,
                            (l, r),
                            *missing_left,
                        ),
                        Condition::In { left: codes } => {
                            for (k, &code) in codes.iter().enumerate() {
                                let k = k as i64;
                                let fall_through = if k + 1 < codes.len() as i64 {
                                    id + k + 1
                                } else {
                                    r
                                };
                                self.push_node(
                                    tree_id,
                                    id + k,
                                    "BRANCH_EQ",
                                    f,
                                    code as f32,
                                    (l, fall_through),
                                    *missing_left,
                                );
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn push_node(
        &mut self,
        tree: i64,
        id: i64,
        mode: &'static str,
        feature: i64,
        value: f32,
        (yes, no): (i64, i64),
        missing_yes: bool,
    ) {
        self.treeids.push(tree);
        self.nodeids.push(id);
        self.featureids.push(feature);
        self.modes.push(mode);
        self.values.push(value);
        self.truenodeids.push(yes);
        self.falsenodeids.push(no);
        self.missing_tracks_true.push(i64::from(missing_yes));
    }

    fn into_proto(self, base_score: f64) -> Vec<crate::proto::AttributeProto> {
        let n_targets = self.target_weights.len();
        vec![
            attr_string("aggregate_function", "SUM"),
            attr_tensor("base_values_as_tensor", tensor_f64("", &[base_score], &[1])),
            attr_int("n_targets", 1),
            attr_ints("nodes_falsenodeids", self.falsenodeids),
            attr_ints("nodes_featureids", self.featureids),
            attr_ints("nodes_missing_value_tracks_true", self.missing_tracks_true),
            attr_strings("nodes_modes", self.modes),
            attr_ints("nodes_nodeids", self.nodeids),
            attr_ints("nodes_treeids", self.treeids),
            attr_ints("nodes_truenodeids", self.truenodeids),
            attr_floats("nodes_values", self.values),
            attr_string("post_transform", "NONE"),
            attr_ints("target_ids", vec![0; n_targets]),
            attr_ints("target_nodeids", self.target_nodeids),
            attr_ints("target_treeids", self.target_treeids),
            attr_tensor(
                "target_weights_as_tensor",
                tensor_f64("", &self.target_weights, &[n_targets as i64]),
            ),
        ]
    }
}

/// Checks a `TreeEnsembleRegressor` node's attributes against the rules
/// onnxruntime enforces and the layout tenure writes (children after their
/// parent, so no cycle); returns `n_targets`.
pub fn check_attributes(node: &NodeProto, n_features: i64) -> Result<i64> {
    let at = node_label(node);
    let n_targets = int_attr(node, "n_targets")?;
    ensure_valid!(n_targets >= 1, at, "n_targets is {n_targets}");
    for (name, allowed) in [
        ("aggregate_function", &["SUM", "AVERAGE", "MIN", "MAX"][..]),
        (
            "post_transform",
            &["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"][..],
        ),
    ] {
        if let Some(v) = infer::string_attr(node, name)? {
            ensure_valid!(
                allowed.iter().any(|a| a.as_bytes() == v),
                at,
                "{name} `{}` is not one of {allowed:?}",
                String::from_utf8_lossy(v)
            );
        }
    }
    let treeids = ints_attr(node, "nodes_treeids")?;
    let nodeids = ints_attr(node, "nodes_nodeids")?;
    let featureids = ints_attr(node, "nodes_featureids")?;
    let truenodeids = ints_attr(node, "nodes_truenodeids")?;
    let falsenodeids = ints_attr(node, "nodes_falsenodeids")?;
    let missing = ints_attr(node, "nodes_missing_value_tracks_true")?;
    let modes = strings_attr(node, "nodes_modes")?;
    let values = floats_attr(node, "nodes_values")?;
    let n = treeids.len();
    ensure_valid!(n > 0, at, "the ensemble has no node");
    for (name, len) in [
        ("nodes_nodeids", nodeids.len()),
        ("nodes_featureids", featureids.len()),
        ("nodes_truenodeids", truenodeids.len()),
        ("nodes_falsenodeids", falsenodeids.len()),
        ("nodes_missing_value_tracks_true", missing.len()),
        ("nodes_modes", modes.len()),
        ("nodes_values", values.len()),
    ] {
        ensure_valid!(len == n, at, "{name} has {len} entries, nodes_treeids {n}");
    }

    // (tree, node id) -> position; trees in one block each, ids 0, 1, 2...
    let mut position = BTreeMap::new();
    let mut expected_tree = 0;
    let mut expected_id = 0;
    for k in 0..n {
        let (t, id) = (treeids[k], nodeids[k]);
        if t != expected_tree || id != expected_id {
            ensure_valid!(
                t == expected_tree + 1 && id == 0 && k > 0,
                at,
                "entry {k} is node {id} of tree {t}: expected node {expected_id} of tree \
                 {expected_tree} or node 0 of tree {}",
                expected_tree + 1
            );
            expected_tree = t;
        }
        expected_id = id + 1;
        position.insert((t, id), k);
    }
    let mut is_leaf = vec![false; n];
    for k in 0..n {
        let mode = modes[k].as_slice();
        ensure_valid!(
            MODES.iter().any(|m| m.as_bytes() == mode),
            at,
            "node {} of tree {} has mode `{}`",
            nodeids[k],
            treeids[k],
            String::from_utf8_lossy(mode)
        );
        ensure_valid!(
            matches!(missing[k], 0 | 1),
            at,
            "nodes_missing_value_tracks_true[{k}] is {}",
            missing[k]
        );
        if mode == LEAF.as_bytes() {
            is_leaf[k] = true;
            continue;
        }
        ensure_valid!(
            (0..n_features).contains(&featureids[k]),
            at,
            "node {} of tree {} reads feature {} of {n_features}",
            nodeids[k],
            treeids[k],
            featureids[k]
        );
        ensure_valid!(
            !values[k].is_nan(),
            at,
            "node {} of tree {} has a NaN threshold",
            nodeids[k],
            treeids[k]
        );
        for child in [truenodeids[k], falsenodeids[k]] {
            ensure_valid!(
                child > nodeids[k] && position.contains_key(&(treeids[k], child)),
                at,
                "node {} of tree {} points to node {child}, which is not a later node of its tree",
                nodeids[k],
                treeids[k]
            );
        }
    }

    let target_treeids = ints_attr(node, "target_treeids")?;
    let target_nodeids = ints_attr(node, "target_nodeids")?;
    let target_ids = ints_attr(node, "target_ids")?;
    let weights = f64_tensor_attr(node, "target_weights_as_tensor")?;
    let m = target_treeids.len();
    for (name, len) in [
        ("target_nodeids", target_nodeids.len()),
        ("target_ids", target_ids.len()),
        ("target_weights_as_tensor", weights.len()),
    ] {
        ensure_valid!(len == m, at, "{name} has {len} entries, target_treeids {m}");
    }
    for k in 0..m {
        let key = (target_treeids[k], target_nodeids[k]);
        ensure_valid!(
            position.get(&key).is_some_and(|&p| is_leaf[p]),
            at,
            "target {k} points to node {} of tree {}, which is not a leaf",
            key.1,
            key.0
        );
        ensure_valid!(
            (0..n_targets).contains(&target_ids[k]),
            at,
            "target {k} is for target {} of {n_targets}",
            target_ids[k]
        );
        ensure_valid!(
            weights[k].is_finite(),
            at,
            "target {k} has weight {}",
            weights[k]
        );
    }
    if infer::attr(node, "base_values_as_tensor").is_some() {
        let base = f64_tensor_attr(node, "base_values_as_tensor")?;
        ensure_valid!(
            base.len() as i64 == n_targets && base.iter().all(|b| b.is_finite()),
            at,
            "base values {base:?} for {n_targets} targets"
        );
    }
    Ok(n_targets)
}
