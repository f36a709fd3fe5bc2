//! Models fed raw categorical levels: the graph's `categories` input gives
//! one-hot indicators, target encodings and category codes by table lookup,
//! and onnxruntime scores the raw levels (known, unseen, missing) as the
//! spec scores the features tenure would have built from them.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::spec::{LinearModel, Model, SavedSpec, Standardize};
use tenure_core::spec_categories::{CategoricalInputs, DerivedFeature};
use tenure_core::{Link, Matrix};

use crate::common::{assert_parity, random_ensemble_sized, saved};
use crate::onnxruntime::score_raw;

const PLANS: [&str; 3] = ["basic", "premium", "standard"];
const REGIONS: usize = 12;

fn region(k: usize) -> String {
    format!("r{k:02}")
}

/// `plan` one-hot into features `first..first + 3`, `region` target
/// encoded into feature `te`.
fn plan_and_region(first: u32, te: u32, rng: &mut StdRng) -> CategoricalInputs {
    let mut derived: Vec<DerivedFeature> = PLANS
        .iter()
        .enumerate()
        .map(|(k, p)| DerivedFeature {
            feature: first + k as u32,
            column: 0,
            levels: vec![p.to_string()],
            values: vec![1.0],
            unseen: 0.0,
        })
        .collect();
    derived.push(DerivedFeature {
        feature: te,
        column: 1,
        levels: (0..REGIONS).map(region).collect(),
        values: (0..REGIONS).map(|_| rng.random_range(0.05..0.6)).collect(),
        unseen: 0.23,
    });
    CategoricalInputs {
        columns: vec!["plan".into(), "region".into()],
        derived,
    }
}

/// `n` rows of raw levels: mostly known, some unseen, some missing (`""`),
/// and a level of the other column (never a level of this one).
fn levels(n: usize, rng: &mut StdRng) -> Vec<Vec<String>> {
    (0..n)
        .map(|_| {
            let plan = match rng.random_range(0..10) {
                0 => "gold".to_string(),
                1 => String::new(),
                2 => region(3),
                _ => PLANS[rng.random_range(0..3)].to_string(),
            };
            let r = match rng.random_range(0..10) {
                0 => "r99".to_string(),
                1 => String::new(),
                2 => "basic".to_string(),
                _ => region(rng.random_range(0..REGIONS)),
            };
            vec![plan, r]
        })
        .collect()
}

fn numeric(n: usize, cols: usize, rng: &mut StdRng) -> Matrix {
    let data = (0..n * cols)
        .map(|_| {
            if rng.random_bool(0.1) {
                f64::NAN
            } else {
                f64::from((rng.random::<f64>() * 100.0) as f32)
            }
        })
        .collect();
    Matrix::new(data, n, cols).unwrap()
}

#[test]
fn raw_levels_score_like_the_features_tenure_builds_from_them() {
    let mut rng = StdRng::seed_from_u64(31);
    let n = 10_000;
    let mut cases: Vec<(String, SavedSpec)> = Vec::new();
    // Features: [recency, plan=basic, plan=premium, plan=standard, spend,
    // region_te].
    let names = [
        "recency",
        "plan=basic",
        "plan=premium",
        "plan=standard",
        "spend",
        "region_te",
    ];
    for link in [Link::Sigmoid, Link::Exp] {
        let linear = LinearModel {
            feature_names: names.iter().map(|s| s.to_string()).collect(),
            preprocess: Some(Standardize {
                impute: vec![20.0, 0.5, 0.2, 0.3, 50.0, 0.2],
                mean: vec![30.0, 0.5, 0.2, 0.3, 60.0, 0.25],
                scale: vec![20.0, 0.5, 0.4, 0.45, 40.0, 0.1],
            }),
            coef: vec![0.4, -0.3, 0.8, 0.1, -0.2, 1.1],
            intercept: -0.7,
            link,
        };
        let cats = plan_and_region(1, 5, &mut rng);
        cases.push((
            format!("linear {link:?}"),
            saved(Model::Linear(linear)).with_categories(Some(cats)),
        ));
    }
    // Trees on [a, plan code, b, c, region_te, d]: the plan column as a
    // category code (unseen levels get a code no split knows).
    let mut trees = random_ensemble_sized(&mut rng, Link::Sigmoid, 6, vec![1], 60, 5);
    trees.categorical = vec![1];
    let mut cats = plan_and_region(0, 4, &mut rng);
    cats.derived.retain(|d| d.column == 1);
    cats.derived.push(DerivedFeature {
        feature: 1,
        column: 0,
        levels: PLANS.iter().map(|p| p.to_string()).collect(),
        values: vec![0.0, 1.0, 2.0],
        unseen: 3.0,
    });
    cases.push((
        "trees with a category code and a target encoding".into(),
        saved(Model::TreeEnsemble(trees)).with_categories(Some(cats)),
    ));

    let exported: Vec<Vec<u8>> = cases
        .iter()
        .map(|(what, spec)| {
            tenure_onnx::export(spec)
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .bytes()
                .to_vec()
        })
        .collect();
    let inputs: Vec<(Matrix, Vec<Vec<String>>)> = cases
        .iter()
        .map(|(_, spec)| {
            let cats = spec.categories.as_ref().unwrap();
            let f = spec.model.feature_names().len();
            let x = numeric(n, cats.numeric_features(f).len(), &mut rng);
            (x, levels(n, &mut rng))
        })
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&inputs)
        .map(|(b, (x, l))| (b.as_slice(), x, Some(l.as_slice())))
        .collect();
    for (((what, spec), (x, l)), s) in cases.iter().zip(&inputs).zip(score_raw(&jobs)) {
        let full = spec.categories.as_ref().unwrap().encode(x, l).unwrap();
        assert_parity(what, &spec.model, &full, &s);
        // The raw levels reached every derived feature: the unseen and
        // missing rows got the unseen values, the known ones theirs.
        let region_te = spec
            .categories
            .as_ref()
            .unwrap()
            .derived
            .iter()
            .find(|d| d.column == 1)
            .unwrap()
            .feature as usize;
        for (i, row) in l.iter().enumerate() {
            let v = full.get(i, region_te);
            if row[1].is_empty() || row[1] == "r99" || row[1] == "basic" {
                assert_eq!(v, f64::from(0.23f32), "{what} row {i}");
            } else {
                assert_ne!(v, f64::from(0.23f32), "{what} row {i}");
            }
        }
        assert_eq!(
            s.inputs,
            serde_json::json!([
                {"name": "features", "type": "tensor(float)", "shape": ["N", x.n_cols()]},
                {"name": "categories", "type": "tensor(string)", "shape": ["N", 2]},
            ]),
            "{what}"
        );
        let numeric_names: Vec<&String> = spec
            .categories
            .as_ref()
            .unwrap()
            .numeric_features(spec.model.feature_names().len())
            .into_iter()
            .map(|j| &spec.model.feature_names()[j])
            .collect();
        assert_eq!(
            s.metadata["tenure.feature_names"],
            serde_json::to_string(&numeric_names).unwrap(),
            "{what}"
        );
        assert_eq!(
            s.metadata["tenure.model_features"],
            serde_json::to_string(spec.model.feature_names()).unwrap()
        );
        let back: CategoricalInputs =
            serde_json::from_str(&s.metadata["tenure.categorical_inputs"]).unwrap();
        assert_eq!(&back, spec.categories.as_ref().unwrap());
    }
}

#[test]
fn the_card_and_the_spec_file_describe_the_categories_input() {
    let mut rng = StdRng::seed_from_u64(5);
    let trees = random_ensemble_sized(&mut rng, Link::Sigmoid, 6, vec![], 3, 3);
    let spec =
        saved(Model::TreeEnsemble(trees)).with_categories(Some(plan_and_region(1, 5, &mut rng)));
    let dir = tempfile::tempdir().unwrap();
    let paths = tenure_onnx::write_bundle(dir.path(), &spec).unwrap();
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&paths.card).unwrap()).unwrap();
    assert_eq!(card["input"]["shape"], serde_json::json!(["N", "2"]));
    let cols: Vec<&str> = card["input"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["x0", "x4"]);
    assert_eq!(
        card["categories"]["columns"],
        serde_json::json!(["plan", "region"])
    );
    assert_eq!(tenure_onnx::read_spec(&paths.spec).unwrap(), spec);
}

/// Damages valid categorical inputs in one way.
type Breakage = Box<dyn Fn(&mut CategoricalInputs)>;

#[test]
fn categorical_inputs_that_cannot_be_exported_are_named() {
    let mut rng = StdRng::seed_from_u64(6);
    let trees = random_ensemble_sized(&mut rng, Link::Sigmoid, 6, vec![], 3, 3);
    let base = plan_and_region(1, 5, &mut rng);
    let broken: Vec<(&str, Breakage)> = vec![
        ("out of range", Box::new(|c| c.derived[0].feature = 6)),
        ("derived twice", Box::new(|c| c.derived[1].feature = 1)),
        (
            "is empty or repeated",
            Box::new(|c| c.derived[3].levels[1] = "r00".into()),
        ),
        ("non-finite", Box::new(|c| c.derived[3].unseen = f64::NAN)),
        (
            "gives no feature",
            Box::new(|c| c.columns.push("channel".into())),
        ),
        (
            "every feature is derived",
            Box::new(|c| {
                for (k, j) in [0u32, 4].into_iter().enumerate() {
                    c.derived.push(DerivedFeature {
                        feature: j,
                        column: 0,
                        levels: vec![format!("x{k}")],
                        values: vec![1.0],
                        unseen: 0.0,
                    });
                }
            }),
        ),
    ];
    for (want, edit) in broken {
        let mut cats = base.clone();
        edit(&mut cats);
        let spec = saved(Model::TreeEnsemble(trees.clone())).with_categories(Some(cats));
        let e = tenure_onnx::export(&spec).unwrap_err().to_string();
        assert!(
            e.contains("categorical inputs") && e.contains(want),
            "{want}: {e}"
        );
    }
}
