//! Model, data and comparison helpers shared by the tests.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::spec::{
    Condition, LinearModel, Model, ModelInfo, Node, SavedSpec, Standardize, Tree, TreeEnsemble,
};
use tenure_core::{Link, Matrix, Task};

use crate::onnxruntime::Scored;

pub fn info(name: &str, kind: &str, task: Task) -> ModelInfo {
    ModelInfo {
        name: name.into(),
        kind: kind.into(),
        version: "1".into(),
        task,
        horizon_days: Some(90.0),
        training_rows: 1234,
        training_fingerprint: "sha256:00ff".into(),
        tenure_version: "0.0.0-test".into(),
        run_id: None,
    }
}

pub fn saved(model: Model) -> SavedSpec {
    let task = match model.link() {
        Link::Sigmoid => Task::Churn,
        Link::Exp => Task::Clv,
        Link::Identity => Task::Survival,
    };
    SavedSpec::new(info("m", "test", task), model)
}

/// A hand-built ensemble of two trees on `[recency, plan, spend]`: a
/// threshold split with missing values going left, a categorical split
/// (plans 1 and 3 left, missing right), and a lone-leaf-deep right branch.
pub fn two_trees(link: Link) -> TreeEnsemble {
    TreeEnsemble {
        feature_names: vec!["recency".into(), "plan".into(), "spend".into()],
        categorical: vec![1],
        base_score: -0.25,
        link,
        trees: vec![
            Tree {
                nodes: vec![
                    Node::Split {
                        feature: 0,
                        condition: Condition::Le { threshold: 30.5 },
                        missing_left: true,
                        left: 1,
                        right: 2,
                    },
                    Node::Leaf { value: -0.4 },
                    Node::Split {
                        feature: 1,
                        condition: Condition::In { left: vec![1, 3] },
                        missing_left: false,
                        left: 3,
                        right: 4,
                    },
                    Node::Leaf { value: 0.7 },
                    Node::Leaf { value: 0.15 },
                ],
            },
            Tree {
                // Children listed before their parent: the exporter must not
                // assume any order of the spec's nodes.
                nodes: vec![
                    Node::Leaf { value: 0.3 },
                    Node::Leaf { value: -0.2 },
                    Node::Split {
                        feature: 2,
                        condition: Condition::Le { threshold: 100.0 },
                        missing_left: false,
                        left: 0,
                        right: 1,
                    },
                ],
            }
            .rooted_at(2),
        ],
    }
}

trait RootedAt {
    fn rooted_at(self, root: u32) -> Tree;
}

impl RootedAt for Tree {
    /// Moves node `root` to index 0 (the root by convention), swapping it
    /// with the node there and fixing the child indices.
    fn rooted_at(mut self, root: u32) -> Tree {
        let swap = |i: u32| match i {
            0 => root,
            i if i == root => 0,
            i => i,
        };
        self.nodes.swap(0, root as usize);
        for n in &mut self.nodes {
            if let Node::Split { left, right, .. } = n {
                *left = swap(*left);
                *right = swap(*right);
            }
        }
        self
    }
}

pub fn small_linear(link: Link, standardize: bool) -> LinearModel {
    LinearModel {
        feature_names: vec!["recency".into(), "orders".into(), "spend".into()],
        preprocess: standardize.then(|| Standardize {
            impute: vec![25.0, 2.0, 80.0],
            mean: vec![30.0, 2.5, 100.0],
            scale: vec![20.0, 1.5, 60.0],
        }),
        coef: vec![0.8, -0.5, 0.25],
        intercept: -1.2,
        link,
    }
}

/// `n` rows whose values are exact `f32`s (as the ONNX input sees them):
/// continuous columns mix spread values, every threshold of `model` exactly
/// and its `f32` neighbours; categorical columns (`levels` codes in
/// training) add unseen, negative and fractional codes; `missing` of all
/// values are NaN.
pub fn rows(model: &Model, levels: u32, n: usize, missing: f64, seed: u64) -> Matrix {
    let mut rng = StdRng::seed_from_u64(seed);
    let f = model.feature_names().len();
    let (categorical, thresholds) = match model {
        Model::TreeEnsemble(m) => (m.categorical.clone(), thresholds(m)),
        Model::Linear(_) => (Vec::new(), vec![Vec::new(); f]),
        Model::Network(m) => (
            m.embeddings.iter().map(|e| e.feature).collect(),
            vec![Vec::new(); f],
        ),
    };
    let mut x = Matrix::zeros(n, f);
    for r in 0..n {
        for j in 0..f {
            let v = if rng.random_bool(missing) {
                f64::NAN
            } else if categorical.contains(&(j as u32)) {
                match rng.random_range(0..10) {
                    0 => -1.0,
                    1 => f64::from(rng.random_range(0..levels)) + 0.5,
                    2 => f64::from(levels + rng.random_range(0..5)),
                    _ => f64::from(rng.random_range(0..levels)),
                }
            } else if !thresholds[j].is_empty() && rng.random_bool(0.3) {
                let t = thresholds[j][rng.random_range(0..thresholds[j].len())];
                match rng.random_range(0..3) {
                    0 => f64::from(t),
                    1 => f64::from(t.next_up()),
                    _ => f64::from(t.next_down()),
                }
            } else {
                let scale = [1.0, 10.0, 100.0][j % 3];
                f64::from((rng.random::<f64>() * 2.0 - 0.5) as f32 * scale as f32)
            };
            x.set(r, j, v);
        }
    }
    x
}

fn thresholds(m: &TreeEnsemble) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); m.feature_names.len()];
    for n in m.trees.iter().flat_map(|t| &t.nodes) {
        if let Node::Split {
            feature,
            condition: Condition::Le { threshold },
            ..
        } = n
        {
            out[*feature as usize].push(*threshold);
        }
    }
    out
}

/// A random ensemble: `n_trees` trees up to `max_depth` deep, nodes stored
/// in breadth-first order (not the preorder the exporter writes), splits on
/// every feature, categorical ones on random (possibly empty) code sets.
pub fn random_ensemble(rng: &mut StdRng, link: Link) -> TreeEnsemble {
    let f = rng.random_range(1..7usize);
    let categorical: Vec<u32> = (0..f as u32).filter(|_| rng.random_bool(0.3)).collect();
    let n_trees = rng.random_range(0..30usize);
    let max_depth = rng.random_range(0..7usize);
    random_ensemble_sized(rng, link, f, categorical, n_trees, max_depth)
}

pub fn random_ensemble_sized(
    rng: &mut StdRng,
    link: Link,
    f: usize,
    categorical: Vec<u32>,
    n_trees: usize,
    max_depth: usize,
) -> TreeEnsemble {
    // Exp links get small leaves, so predictions stay in a sensible range.
    let leaf_scale = if link == Link::Exp { 0.1 } else { 1.0 };
    let trees = (0..n_trees)
        .map(|_| random_tree(rng, f, &categorical, max_depth, leaf_scale))
        .collect();
    TreeEnsemble {
        feature_names: (0..f).map(|j| format!("x{j}")).collect(),
        categorical,
        base_score: rng.random_range(-2.0..2.0),
        link,
        trees,
    }
}

pub const LEVELS: u32 = 8;

fn random_tree(
    rng: &mut StdRng,
    f: usize,
    categorical: &[u32],
    max_depth: usize,
    leaf_scale: f64,
) -> Tree {
    let mut nodes: Vec<Node> = vec![Node::Leaf { value: 0.0 }];
    let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
    while let Some((i, depth)) = queue.pop_front() {
        if depth >= max_depth || rng.random_bool(0.25) {
            nodes[i] = Node::Leaf {
                value: rng.random_range(-1.0..1.0) * leaf_scale,
            };
            continue;
        }
        let feature = rng.random_range(0..f as u32);
        let condition = if categorical.contains(&feature) {
            let left = (0..LEVELS).filter(|_| rng.random_bool(0.4)).collect();
            Condition::In { left }
        } else {
            let scale = [1.0, 10.0, 100.0][feature as usize % 3];
            Condition::Le {
                threshold: (rng.random_range(-0.5..1.5) * scale) as f32,
            }
        };
        let (left, right) = (nodes.len(), nodes.len() + 1);
        nodes.push(Node::Leaf { value: 0.0 });
        nodes.push(Node::Leaf { value: 0.0 });
        nodes[i] = Node::Split {
            feature,
            condition,
            missing_left: rng.random_bool(0.5),
            left: left as u32,
            right: right as u32,
        };
        queue.push_back((left, depth + 1));
        queue.push_back((right, depth + 1));
    }
    Tree { nodes }
}

pub fn random_linear(rng: &mut StdRng, link: Link) -> LinearModel {
    let f = rng.random_range(1..12usize);
    let coef_scale = if link == Link::Exp { 0.3 } else { 3.0 };
    LinearModel {
        feature_names: (0..f).map(|j| format!("x{j}")).collect(),
        preprocess: rng.random_bool(0.8).then(|| Standardize {
            impute: (0..f).map(|_| rng.random_range(-1.0..50.0)).collect(),
            mean: (0..f).map(|_| rng.random_range(-1.0..50.0)).collect(),
            scale: (0..f).map(|_| rng.random_range(0.1..40.0)).collect(),
        }),
        coef: (0..f)
            .map(|_| rng.random_range(-1.0..1.0) * coef_scale)
            .collect(),
        intercept: rng.random_range(-2.0..2.0),
        link,
    }
}

/// Asserts onnxruntime's outputs match the spec's own predictions: within
/// 1e-5 absolute for probabilities, 1e-5 relative for everything else,
/// missing (NaN) exactly where the spec's are.
pub fn assert_parity(what: &str, model: &Model, x: &Matrix, scored: &Scored) {
    let raw = model.predict_raw(x).unwrap();
    let pred = model.predict(x).unwrap();
    close_rel(
        what,
        "raw_score",
        &raw,
        scored.column(tenure_onnx::RAW_SCORE),
    );
    let got = scored.column(tenure_onnx::PREDICTION);
    if model.link() == Link::Sigmoid {
        close_abs(what, "prediction", &pred, got);
        let (shape, both) = &scored.outputs[tenure_onnx::PROBABILITIES];
        assert_eq!(shape, &vec![x.n_rows(), 2], "{what}: probabilities shape");
        let p1: Vec<f32> = both.iter().skip(1).step_by(2).copied().collect();
        let p0: Vec<f32> = both.iter().step_by(2).copied().collect();
        close_abs(what, "probabilities[:, 1]", &pred, &p1);
        let q: Vec<f64> = pred.iter().map(|p| 1.0 - p).collect();
        close_abs(what, "probabilities[:, 0]", &q, &p0);
    } else {
        assert!(
            !scored.outputs.contains_key(tenure_onnx::PROBABILITIES),
            "{what}: probabilities without a sigmoid link"
        );
        close_rel(what, "prediction", &pred, got);
    }
}

fn close_abs(what: &str, output: &str, want: &[f64], got: &[f32]) {
    compare(what, output, want, got, |w, g| (w - g).abs() <= 1e-5);
}

fn close_rel(what: &str, output: &str, want: &[f64], got: &[f32]) {
    // The floor keeps a value that cancels to (almost) zero from demanding
    // more than double sums in another order can give.
    compare(what, output, want, got, |w, g| {
        (w - g).abs() <= 1e-5 * w.abs().max(1e-6)
    });
}

/// `got` (float32 outputs) within `rel` of `want` relatively, with an
/// absolute floor of `1e-9` for values that are (almost) zero.
pub fn close_within(what: &str, output: &str, want: &[f64], got: &[f32], rel: f64) {
    compare(what, output, want, got, |w, g| {
        (w - g).abs() <= rel * w.abs().max(1e-3)
    });
}

fn compare(what: &str, output: &str, want: &[f64], got: &[f32], ok: impl Fn(f64, f64) -> bool) {
    assert_eq!(want.len(), got.len(), "{what}: {output} length");
    for (r, (&w, &g)) in want.iter().zip(got).enumerate() {
        let g = f64::from(g);
        let same = if w.is_nan() { g.is_nan() } else { ok(w, g) };
        assert!(
            same,
            "{what}: {output} row {r}: tenure {w}, onnxruntime {g} (diff {:e})",
            (w - g).abs()
        );
    }
}
