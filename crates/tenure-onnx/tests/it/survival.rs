//! Survival models with curves: the `survival` output `S(t | x)` at the
//! configured times, from the baseline cumulative hazard inside the graph,
//! each time's calibrator applied to `1 − S`, scored by onnxruntime as
//! `SavedSpec::predict_survival` scores it on 10,000 rows with missing
//! values, for a Cox PH model and a boosted Cox ensemble.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tenure_calibration::Method;
use tenure_core::spec::{Model, SavedSpec, SurvivalCurves};
use tenure_core::{Link, Matrix, Task};

use crate::calibration::fitted;
use crate::common::{LEVELS, info, random_ensemble_sized, rows, small_linear};
use crate::onnxruntime::{Scored, score};

const ROWS: usize = 10_000;

fn curves() -> SurvivalCurves {
    SurvivalCurves {
        days: vec![30.0, 90.0, 180.0],
        cumulative_hazard: vec![0.04, 0.25, 0.9],
        calibrators: Vec::new(),
    }
}

fn spec(model: Model, curves: SurvivalCurves) -> SavedSpec {
    SavedSpec::new(info("surv", "cox", Task::Survival), model).with_survival(Some(curves))
}

/// A calibrator of the event probability by each time, fitted on the
/// model's own `1 − S(t | x)` as the runner fits them.
fn calibrated(model: &Model, methods: [Option<Method>; 3]) -> SurvivalCurves {
    let mut c = curves();
    c.calibrators = methods
        .iter()
        .enumerate()
        .map(|(k, m)| {
            m.map(|m| {
                fitted(
                    &event_model(model, c.cumulative_hazard[k]),
                    m,
                    50 + k as u64,
                )
            })
        })
        .collect();
    c
}

/// A stand-in for `1 − S(t | x)` at cumulative hazard `h`, as a
/// logistic-link model of the same inputs: `1 − exp(−h e^η)` is close to
/// `sigmoid(η + ln h)` where it matters, and only the spread of the
/// probabilities the calibrators are fitted on matters here.
fn event_model(model: &Model, h: f64) -> Model {
    match model {
        Model::Linear(m) => {
            let mut m = m.clone();
            m.link = Link::Sigmoid;
            m.intercept += h.ln();
            Model::Linear(m)
        }
        Model::TreeEnsemble(m) => {
            let mut m = m.clone();
            m.link = Link::Sigmoid;
            m.base_score += h.ln();
            Model::TreeEnsemble(m)
        }
        Model::Network(m) => {
            let mut m = m.clone();
            m.head = tenure_core::NetworkHead::Logistic;
            m.output.bias[0] += h.ln() as f32;
            Model::Network(m)
        }
    }
}

fn assert_survival(what: &str, spec: &SavedSpec, x: &Matrix, s: &Scored) {
    let want = spec.predict_survival(x).unwrap().unwrap();
    let (shape, got) = &s.outputs[tenure_onnx::SURVIVAL];
    let k = want.len();
    assert_eq!(shape, &vec![x.n_rows(), k], "{what}: survival shape");
    for (t, column) in want.iter().enumerate() {
        for (r, &w) in column.iter().enumerate() {
            let g = f64::from(got[r * k + t]);
            assert!(
                (w - g).abs() <= 1e-5,
                "{what}: S(t{t}) row {r}: tenure {w}, onnxruntime {g}"
            );
        }
    }
    // The risk score is still there, unchanged.
    let raw = spec.model.predict_raw(x).unwrap();
    for (r, (&w, &g)) in raw.iter().zip(s.column(tenure_onnx::RAW_SCORE)).enumerate() {
        let g = f64::from(g);
        assert!(
            (w - g).abs() <= 1e-5 * w.abs().max(1e-6),
            "{what}: raw row {r}"
        );
    }
}

#[test]
fn survival_curves_score_like_tenure_with_and_without_calibration() {
    let mut rng = StdRng::seed_from_u64(3);
    let cox = Model::Linear(small_linear(Link::Exp, true));
    let trees = Model::TreeEnsemble({
        let mut m = random_ensemble_sized(&mut rng, Link::Identity, 5, vec![2], 80, 5);
        m.base_score = 0.0;
        for t in &mut m.trees {
            for n in &mut t.nodes {
                if let tenure_core::spec::Node::Leaf { value } = n {
                    *value *= 0.1;
                }
            }
        }
        m
    });
    let mut cases = Vec::new();
    for (name, model) in [("cox", &cox), ("gbdt cox", &trees)] {
        cases.push((
            format!("{name}, uncalibrated"),
            spec(model.clone(), curves()),
        ));
        let methods = [
            Some(Method::Platt),
            Some(Method::Isotonic),
            Some(Method::Temperature),
        ];
        cases.push((
            format!("{name}, calibrated"),
            spec(model.clone(), calibrated(model, methods)),
        ));
        cases.push((
            format!("{name}, one time calibrated"),
            spec(
                model.clone(),
                calibrated(model, [None, Some(Method::Isotonic), None]),
            ),
        ));
    }
    let data: Vec<Matrix> = cases
        .iter()
        .enumerate()
        .map(|(k, (_, s))| rows(&s.model, LEVELS, ROWS, 0.1, 70 + k as u64))
        .collect();
    let exported: Vec<Vec<u8>> = cases
        .iter()
        .map(|(what, s)| {
            tenure_onnx::export(s)
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .bytes()
                .to_vec()
        })
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&data)
        .map(|(b, x)| (b.as_slice(), x))
        .collect();
    for (((what, spec), x), s) in cases.iter().zip(&data).zip(score(&jobs)) {
        assert_survival(what, spec, x, &s);
        assert_eq!(s.metadata["tenure.survival_days"], "[30.0,90.0,180.0]");
        let outputs: Vec<String> = serde_json::from_str(&s.metadata["tenure.outputs"]).unwrap();
        assert_eq!(
            outputs.last().map(String::as_str),
            Some("survival"),
            "{what}"
        );
    }
}

#[test]
fn survival_curves_that_cannot_be_exported() {
    let cox = Model::Linear(small_linear(Link::Exp, true));
    let mut c = curves();
    c.cumulative_hazard.pop();
    let e = tenure_onnx::export(&spec(cox.clone(), c))
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 times and 2 cumulative hazards"), "{e}");

    let mut c = curves();
    c.cumulative_hazard[1] = -0.1;
    let e = tenure_onnx::export(&spec(cox.clone(), c))
        .unwrap_err()
        .to_string();
    assert!(e.contains("at 90 days"), "{e}");

    let churn = SavedSpec::new(
        info("churn", "logistic", Task::Churn),
        Model::Linear(small_linear(Link::Sigmoid, true)),
    )
    .with_survival(Some(curves()));
    let e = tenure_onnx::export(&churn).unwrap_err().to_string();
    assert!(e.contains("survival task"), "{e}");
}
