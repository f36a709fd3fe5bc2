//! Tree ensembles as `ai.onnx.ml.TreeEnsemble` (opset 5 of the domain,
//! which replaces `TreeEnsembleRegressor`).
//!
//! The features are cast to double, and the operator then compares, sums
//! and returns in double: the raw score keeps every bit a calibrator's
//! steep isotonic steps would magnify (`TreeEnsembleRegressor` returns
//! `float`, an error of 1e-7 on the raw score). Thresholds are the spec's
//! `f32` values widened exactly, so every row takes the same path as
//! [`tenure_core::spec::Tree::predict_row`]; leaf values keep their `f64`
//! values, and the base score is added after the operator (opset 5 has no
//! base values).
//!
//! A categorical split `x ∈ {c₁ … c_k}` is one `BRANCH_MEMBER` node whose
//! set lists the codes: a code outside the set, a negative or fractional
//! value go to the right. A missing value follows `missing_left` through
//! `nodes_missing_value_tracks_true`. A tree that is a lone leaf gets a
//! split whose two branches are that leaf, since a root must be a node.

use tenure_core::spec::{Condition, Node, TreeEnsemble};

use crate::error::{Result, ensure_spec, ensure_valid};
use crate::graph::{
    Elem, GraphBuilder, ML_DOMAIN, Value, attr_int, attr_ints, attr_tensor, tensor_f64, tensor_u8,
};
use crate::infer::{self, f64_tensor_attr, int_attr, ints_attr, node_label};
use crate::proto::NodeProto;

/// `2^24`: every category code up to it is an exact `f32`.
const MAX_CODE: u32 = 1 << 24;

/// `nodes_modes` values of opset 5.
const BRANCH_LEQ: u8 = 0;
const BRANCH_LT: u8 = 1;
const BRANCH_MEMBER: u8 = 6;

/// The ensemble's raw score (before the link), `float64 [N, 1]`.
pub fn build(g: &mut GraphBuilder, features: &Value, model: &TreeEnsemble) -> Result<Value> {
    let n_features = model.feature_names.len();
    check_spec(model, n_features)?;
    let attrs = TreeAttributes::from_spec(model)?;
    let x = g.cast(features, Elem::F64, None)?;
    let sum = g.node("TreeEnsemble", ML_DOMAIN, &[&x], attrs.into_proto(), None)?;
    let base = g.constant("base_score", Elem::F64, &[model.base_score], &[1]);
    g.op("Add", &[&sum, &base], None)
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

/// The parallel arrays of the operator's attributes: one entry per split
/// in `nodes_*`, one per leaf in `leaf_*`.
#[derive(Debug, Default)]
struct TreeAttributes {
    roots: Vec<i64>,
    featureids: Vec<i64>,
    modes: Vec<u8>,
    splits: Vec<f64>,
    truenodeids: Vec<i64>,
    trueleafs: Vec<i64>,
    falsenodeids: Vec<i64>,
    falseleafs: Vec<i64>,
    missing_tracks_true: Vec<i64>,
    /// The codes of each `BRANCH_MEMBER` node in node order, each set
    /// followed by `NaN`.
    membership: Vec<f64>,
    leaf_weights: Vec<f64>,
}

/// Where a branch points: a split (`nodes_*` index) or a leaf (`leaf_*`).
#[derive(Debug, Clone, Copy)]
enum Target {
    Split(i64),
    Leaf(i64),
}

impl TreeAttributes {
    fn from_spec(model: &TreeEnsemble) -> Result<Self> {
        let mut a = Self::default();
        for (t, tree) in model.trees.iter().enumerate() {
            a.push_tree(t, &tree.nodes)?;
        }
        // onnxruntime needs at least one tree: an ensemble without trees is
        // its base score alone.
        if model.trees.is_empty() {
            a.push_tree(0, &[Node::Leaf { value: 0.0 }])?;
        }
        Ok(a)
    }

    /// Emits one tree in preorder, so that a split's children always come
    /// after it.
    fn push_tree(&mut self, tree: usize, nodes: &[Node]) -> Result<()> {
        // First pass: the preorder and where each spec node lands.
        let mut target: Vec<Option<Target>> = vec![None; nodes.len()];
        let mut order = Vec::new();
        let mut stack = vec![0usize];
        let (mut next_split, mut next_leaf) =
            (self.featureids.len() as i64, self.leaf_weights.len() as i64);
        while let Some(i) = stack.pop() {
            ensure_spec!(
                target[i].is_none(),
                format!("tree {tree}"),
                "node {i} is reached twice: the nodes do not form a tree"
            );
            order.push(i);
            match &nodes[i] {
                Node::Leaf { .. } => {
                    target[i] = Some(Target::Leaf(next_leaf));
                    next_leaf += 1;
                }
                Node::Split { left, right, .. } => {
                    target[i] = Some(Target::Split(next_split));
                    next_split += 1;
                    stack.push(*right as usize);
                    stack.push(*left as usize);
                }
            }
        }
        let at = |i: u32| target[i as usize].expect("every child was visited");
        match target[0].expect("the root was visited") {
            Target::Split(root) => self.roots.push(root),
            Target::Leaf(leaf) => {
                // A root must be a split: one that ends in the leaf either way.
                self.roots.push(self.featureids.len() as i64);
                self.push_split(
                    0,
                    BRANCH_LEQ,
                    0.0,
                    (Target::Leaf(leaf), Target::Leaf(leaf)),
                    false,
                );
            }
        }
        for &i in &order {
            match &nodes[i] {
                Node::Leaf { value } => self.leaf_weights.push(*value),
                Node::Split {
                    feature,
                    condition,
                    missing_left,
                    left,
                    right,
                } => {
                    let branches = (at(*left), at(*right));
                    let f = i64::from(*feature);
                    match condition {
                        Condition::Le { threshold } => self.push_split(
                            f,
                            BRANCH_LEQ,
                            f64::from(*threshold),
                            branches,
                            *missing_left,
                        ),
                        // Nothing is `< -inf`: every value goes right, a
                        // missing one where `missing_left` says.
                        Condition::In { left: codes } if codes.is_empty() => self.push_split(
                            f,
                            BRANCH_LT,
                            f64::NEG_INFINITY,
                            branches,
                            *missing_left,
                        ),
                        Condition::In { left: codes } => {
                            self.membership.extend(codes.iter().map(|&c| f64::from(c)));
                            self.membership.push(f64::NAN);
                            self.push_split(f, BRANCH_MEMBER, 0.0, branches, *missing_left);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn push_split(
        &mut self,
        feature: i64,
        mode: u8,
        split: f64,
        (yes, no): (Target, Target),
        missing_yes: bool,
    ) {
        self.featureids.push(feature);
        self.modes.push(mode);
        self.splits.push(split);
        let (y, yl) = id_leaf(yes);
        self.truenodeids.push(y);
        self.trueleafs.push(yl);
        let (n, nl) = id_leaf(no);
        self.falsenodeids.push(n);
        self.falseleafs.push(nl);
        self.missing_tracks_true.push(i64::from(missing_yes));
    }

    fn into_proto(self) -> Vec<crate::proto::AttributeProto> {
        let n_nodes = self.splits.len() as i64;
        let n_leaves = self.leaf_weights.len();
        let mut attrs = vec![
            attr_int("aggregate_function", AGGREGATE_SUM),
            attr_ints("leaf_targetids", vec![0; n_leaves]),
            attr_tensor(
                "leaf_weights",
                tensor_f64("", &self.leaf_weights, &[n_leaves as i64]),
            ),
            attr_int("n_targets", 1),
            attr_ints("nodes_falseleafs", self.falseleafs),
            attr_ints("nodes_falsenodeids", self.falsenodeids),
            attr_ints("nodes_featureids", self.featureids),
            attr_ints("nodes_missing_value_tracks_true", self.missing_tracks_true),
            attr_tensor("nodes_modes", tensor_u8("", &self.modes, &[n_nodes])),
            attr_tensor("nodes_splits", tensor_f64("", &self.splits, &[n_nodes])),
            attr_ints("nodes_trueleafs", self.trueleafs),
            attr_ints("nodes_truenodeids", self.truenodeids),
            attr_int("post_transform", POST_TRANSFORM_NONE),
            attr_ints("tree_roots", self.roots),
        ];
        if !self.membership.is_empty() {
            let n = self.membership.len() as i64;
            attrs.push(attr_tensor(
                "membership_values",
                tensor_f64("", &self.membership, &[n]),
            ));
        }
        attrs
    }
}

fn id_leaf(t: Target) -> (i64, i64) {
    match t {
        Target::Split(i) => (i, 0),
        Target::Leaf(i) => (i, 1),
    }
}

/// `aggregate_function` and `post_transform` values of opset 5.
const AGGREGATE_SUM: i64 = 1;
const POST_TRANSFORM_NONE: i64 = 0;

/// Checks a `TreeEnsemble` node's attributes against the rules of the
/// operator and the layout tenure writes (a split's children come after it,
/// so there is no cycle; every split is reached once, from a root or one
/// parent); returns `n_targets`.
pub fn check_attributes(node: &NodeProto, n_features: i64) -> Result<i64> {
    let at = node_label(node);
    let n_targets = int_attr(node, "n_targets")?;
    ensure_valid!(n_targets >= 1, at, "n_targets is {n_targets}");
    if infer::attr(node, "aggregate_function").is_some() {
        let a = int_attr(node, "aggregate_function")?;
        ensure_valid!((0..=3).contains(&a), at, "aggregate_function is {a}");
    }
    if infer::attr(node, "post_transform").is_some() {
        let p = int_attr(node, "post_transform")?;
        ensure_valid!((0..=4).contains(&p), at, "post_transform is {p}");
    }
    let featureids = ints_attr(node, "nodes_featureids")?;
    let truenodeids = ints_attr(node, "nodes_truenodeids")?;
    let trueleafs = ints_attr(node, "nodes_trueleafs")?;
    let falsenodeids = ints_attr(node, "nodes_falsenodeids")?;
    let falseleafs = ints_attr(node, "nodes_falseleafs")?;
    let missing = ints_attr(node, "nodes_missing_value_tracks_true")?;
    let modes = u8_tensor_attr(node, "nodes_modes")?;
    let splits = f64_tensor_attr(node, "nodes_splits")?;
    let roots = ints_attr(node, "tree_roots")?;
    let n = featureids.len();
    ensure_valid!(n > 0, at, "the ensemble has no node");
    for (name, len) in [
        ("nodes_truenodeids", truenodeids.len()),
        ("nodes_trueleafs", trueleafs.len()),
        ("nodes_falsenodeids", falsenodeids.len()),
        ("nodes_falseleafs", falseleafs.len()),
        ("nodes_missing_value_tracks_true", missing.len()),
        ("nodes_modes", modes.len()),
        ("nodes_splits", splits.len()),
    ] {
        ensure_valid!(
            len == n,
            at,
            "{name} has {len} entries, nodes_featureids {n}"
        );
    }
    let targetids = ints_attr(node, "leaf_targetids")?;
    let weights = f64_tensor_attr(node, "leaf_weights")?;
    let m = weights.len();
    ensure_valid!(
        targetids.len() == m,
        at,
        "leaf_targetids has {} entries, leaf_weights {m}",
        targetids.len()
    );
    for k in 0..m {
        ensure_valid!(
            (0..n_targets).contains(&targetids[k]),
            at,
            "leaf {k} is for target {} of {n_targets}",
            targetids[k]
        );
        ensure_valid!(
            weights[k].is_finite(),
            at,
            "leaf {k} has weight {}",
            weights[k]
        );
    }

    // How often each split is pointed at (by a root or a parent), and
    // whether each leaf is.
    let mut parents = vec![0usize; n];
    let mut leaf_used = vec![false; m];
    ensure_valid!(!roots.is_empty(), at, "the ensemble has no tree");
    for (t, &r) in roots.iter().enumerate() {
        ensure_valid!(
            (0..n as i64).contains(&r),
            at,
            "tree {t} has root {r} of {n} nodes"
        );
        parents[r as usize] += 1;
    }
    let mut members = 0usize;
    for k in 0..n {
        ensure_valid!(
            modes[k] <= BRANCH_MEMBER,
            at,
            "node {k} has mode {}",
            modes[k]
        );
        members += usize::from(modes[k] == BRANCH_MEMBER);
        ensure_valid!(
            matches!(missing[k], 0 | 1)
                && matches!(trueleafs[k], 0 | 1)
                && matches!(falseleafs[k], 0 | 1),
            at,
            "node {k}: missing_value_tracks_true, trueleafs and falseleafs must be 0 or 1"
        );
        ensure_valid!(
            (0..n_features).contains(&featureids[k]),
            at,
            "node {k} reads feature {} of {n_features}",
            featureids[k]
        );
        ensure_valid!(!splits[k].is_nan(), at, "node {k} has a NaN split value");
        for (child, is_leaf) in [
            (truenodeids[k], trueleafs[k]),
            (falsenodeids[k], falseleafs[k]),
        ] {
            if is_leaf == 1 {
                ensure_valid!(
                    (0..m as i64).contains(&child),
                    at,
                    "node {k} points to leaf {child} of {m}"
                );
                leaf_used[child as usize] = true;
            } else {
                ensure_valid!(
                    child > k as i64 && child < n as i64,
                    at,
                    "node {k} points to node {child}, which is not a later node"
                );
                parents[child as usize] += 1;
            }
        }
    }
    if let Some(k) = parents.iter().position(|&p| p != 1) {
        return Err(crate::OnnxError::Invalid {
            at,
            reason: format!(
                "node {k} is reached from {} places: the nodes do not form trees",
                parents[k]
            ),
        });
    }
    if let Some(k) = leaf_used.iter().position(|&u| !u) {
        return Err(crate::OnnxError::Invalid {
            at,
            reason: format!("leaf {k} is reached from no node"),
        });
    }
    let sets = if infer::attr(node, "membership_values").is_some() {
        let values = f64_tensor_attr(node, "membership_values")?;
        ensure_valid!(
            values.last().is_none_or(|v| v.is_nan()),
            at,
            "membership_values must end each set with NaN"
        );
        values.iter().filter(|v| v.is_nan()).count()
    } else {
        0
    };
    ensure_valid!(
        sets == members,
        at,
        "{members} BRANCH_MEMBER nodes, {sets} sets in membership_values"
    );
    Ok(n_targets)
}

fn u8_tensor_attr(node: &NodeProto, name: &str) -> Result<Vec<u8>> {
    let t = infer::attr(node, name)
        .and_then(|a| a.t.as_ref())
        .ok_or_else(|| crate::OnnxError::Invalid {
            at: node_label(node),
            reason: format!("attribute `{name}` is missing or not a tensor"),
        })?;
    ensure_valid!(
        t.data_type() == crate::proto::tensor_proto::DataType::Uint8 as i32,
        format!("{}, attribute `{name}`", node_label(node)),
        "expected a uint8 tensor, got type {}",
        t.data_type()
    );
    let len = infer::tensor_len(t).map_err(|reason| crate::OnnxError::Invalid {
        at: node_label(node),
        reason,
    })?;
    // uint8 values are stored in `raw_data` or widened in `int32_data`.
    let values: Vec<u8> = match &t.raw_data {
        Some(raw) => raw.clone(),
        None => t.int32_data.iter().map(|&v| v as u8).collect(),
    };
    ensure_valid!(
        values.len() == len,
        format!("{}, attribute `{name}`", node_label(node)),
        "dims {:?} hold {len} values, the data has {}",
        t.dims,
        values.len()
    );
    Ok(values)
}
