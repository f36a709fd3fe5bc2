//! The neural models export too: `tenure run` leaves each network's ONNX
//! file, and `tenure fit --save-onnx` writes one, which onnxruntime scores
//! as tenure does.

use std::path::Path;

use tenure_core::spec::{Model, SurvivalCurves};
use tenure_core::spec_network::ziln_params;
use tenure_core::{Matrix, NetworkHead};
use tenure_runner::fit::FitRequest;

use crate::onnx::{as_f32, bundle, run, test_fold_prediction};
use crate::onnxruntime::{Scored, score};

/// Small networks: the export, not the fit, is under test.
const SMALL: &str = "params = { hidden = [16, 8], epochs = 4, batch_size = 256, \
                     learning_rate = 0.003, norm = \"batch\" }";

/// burn computes in float32, the specification in double: they agree to
/// 1e-6, relative once above 1 (the neural crate's own check).
fn close_to_run(what: &str, spec: &[f64], run: &[f64]) {
    assert_eq!(spec.len(), run.len(), "{what}");
    for (r, (&a, &b)) in spec.iter().zip(run).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{what} row {r}: spec {a} vs run {b}"
        );
    }
}

/// onnxruntime's float32 outputs against the specification's doubles on
/// the same (float32) inputs: the graph computes in double, so only the
/// output rounds.
fn close_to_spec(what: &str, want: &[f64], got: &[f32]) {
    assert_eq!(want.len(), got.len(), "{what}");
    for (r, (&w, &g)) in want.iter().zip(got).enumerate() {
        let g = f64::from(g);
        assert!(
            (w - g).abs() <= 1e-6 * w.abs().max(1e-3),
            "{what} row {r}: spec {w} vs onnxruntime {g}"
        );
    }
}

fn column(s: &Scored, name: &str, k: usize, of: usize) -> Vec<f32> {
    let (shape, values) = &s.outputs[name];
    assert_eq!(shape[1], of, "{name}: {shape:?}");
    values.iter().skip(k).step_by(of).copied().collect()
}

/// Each neural kind's run exports its network: the exported specification
/// is the run's model, and onnxruntime scores the file as the specification
/// does (prediction, raw score, calibrated and uncalibrated probabilities,
/// S(t | x) at the evaluation times, the probability of spend).
#[test]
fn neural_runs_export_networks_scoring_like_tenure() {
    for (labels, kind) in [
        ("[labels]\ntask = \"churn\"\nhorizon_days = 90", "mlp"),
        (
            "[labels]\ntask = \"survival\"\nhorizon_days = 180",
            "deepsurv",
        ),
        ("[labels]\ntask = \"clv\"\nhorizon_days = 90", "ziln"),
    ] {
        let (out, x, _dir) = run(labels, &format!("[[models]]\nkind = \"{kind}\"\n{SMALL}"));
        let (spec, bytes) = bundle(&out, 0);
        assert_eq!(spec.info.kind, kind);
        let Model::Network(net) = &spec.model else {
            panic!("{kind}: not a network: {:?}", spec.model)
        };
        assert!(net.asinh && !net.clamp.is_empty(), "{kind}: as trained");
        close_to_run(
            kind,
            &spec.model.predict(&x).unwrap(),
            test_fold_prediction(&out, 0),
        );

        let x32 = as_f32(&x);
        let s = &score(&[(bytes.as_slice(), &x32)])[0];
        close_to_spec(
            &format!("{kind} prediction"),
            &spec.predict(&x32).unwrap(),
            s.column(tenure_onnx::PREDICTION),
        );
        close_to_spec(
            &format!("{kind} raw_score"),
            &spec.model.predict_raw(&x32).unwrap(),
            s.column(tenure_onnx::RAW_SCORE),
        );
        if spec.calibrator.is_some() {
            close_to_spec(
                &format!("{kind} uncalibrated"),
                &spec.model.predict(&x32).unwrap(),
                s.column(tenure_onnx::UNCALIBRATED),
            );
        }
        match &net.head {
            NetworkHead::Logistic => assert_eq!(kind, "mlp"),
            NetworkHead::CoxLogHazard { .. } => {
                let curves = spec.survival.as_ref().expect("DeepSurv exports its curves");
                assert_eq!(curves.days, vec![45.0, 90.0, 135.0, 180.0]);
                // The baseline in the graph is the run's: uncalibrated, the
                // spec's curves are the run's S(t | x).
                let run_s = out.models[0].predictions.last().unwrap().survival.clone();
                let uncalibrated = SurvivalCurves {
                    calibrators: Vec::new(),
                    ..curves.clone()
                }
                .predict(&spec.model.predict_raw(&x).unwrap());
                for (k, (a, b)) in uncalibrated.iter().zip(&run_s.unwrap()).enumerate() {
                    close_to_run(&format!("S(t{k})"), a, b);
                }
                let want = spec.predict_survival(&x32).unwrap().unwrap();
                for (k, w) in want.iter().enumerate() {
                    let got = column(s, tenure_onnx::SURVIVAL, k, 4);
                    close_to_spec(&format!("deepsurv S(t{k})"), w, &got);
                }
            }
            NetworkHead::ZeroInflatedLognormal => {
                let p: Vec<f64> = net
                    .forward(&x32)
                    .unwrap()
                    .iter()
                    .map(|o| ziln_params(o).0)
                    .collect();
                close_to_spec(
                    "ziln spend_probability",
                    &p,
                    s.column(tenure_onnx::SPEND_PROBABILITY),
                );
            }
        }
    }
}

/// Temperature scaling, the calibration meant for networks: the run fits it
/// on the MLP's out-of-fold predictions, and the exported graph divides the
/// network's logit by the run's temperature, so onnxruntime gives the run's
/// calibrated churn probabilities.
#[test]
fn mlp_with_temperature_scaling_exports_its_calibrated_probabilities() {
    let (out, x, _dir) = run(
        "[labels]\ntask = \"churn\"\nhorizon_days = 90\n\
         [calibration]\nmethod = \"temperature\"",
        &format!("[[models]]\nkind = \"mlp\"\n{SMALL}"),
    );
    let (spec, bytes) = bundle(&out, 0);
    let fitted = out.models[0]
        .calibration
        .as_ref()
        .and_then(|c| c.binary.as_ref())
        .and_then(|b| b.calibrator.clone())
        .expect("the run calibrated the network");
    let tenure_core::Calibrator::Temperature { t } = fitted else {
        panic!("not temperature scaling: {fitted:?}")
    };
    assert!(t.is_finite() && t > 0.0, "temperature {t}");
    assert_eq!(spec.calibrator.as_ref(), Some(&fitted));

    // The specification predicts the run's calibrated test probabilities.
    let uncalibrated = test_fold_prediction(&out, 0);
    let calibrated = fitted.apply_all(uncalibrated);
    close_to_run("calibrated", &spec.predict(&x).unwrap(), &calibrated);
    assert!(
        calibrated
            .iter()
            .zip(uncalibrated)
            .any(|(a, b)| (a - b).abs() > 1e-4),
        "temperature {t} leaves the probabilities as they were: nothing under test"
    );

    let x32 = as_f32(&x);
    let s = &score(&[(bytes.as_slice(), &x32)])[0];
    close_to_spec(
        "mlp calibrated prediction",
        &spec.predict(&x32).unwrap(),
        s.column(tenure_onnx::PREDICTION),
    );
    close_to_spec(
        "mlp uncalibrated",
        &spec.model.predict(&x32).unwrap(),
        s.column(tenure_onnx::UNCALIBRATED),
    );
}

/// A table with a categorical code column, missing values and three
/// targets (churned, duration and event, amount).
fn fit_table(dir: &Path) -> (std::path::PathBuf, Matrix, Vec<f64>) {
    let mut csv = String::from("recency,orders,plan,spend,churned,duration,event,amount\n");
    let (mut x, mut amounts) = (Vec::new(), Vec::new());
    for i in 0..300u32 {
        let recency = f64::from(i * 37 % 120);
        let orders = (i % 11 != 0).then(|| f64::from(i % 9));
        let plan = f64::from(i % 4);
        let spend = f64::from(i * 13 % 500) * 1.5;
        let churned = u8::from(recency > 60.0 && i % 3 != 0);
        let duration = 10 + (i * 7 % 200);
        let event = u8::from(i % 4 != 0);
        let amount = if i % 3 == 0 { 0.0 } else { spend / 10.0 + 1.0 };
        let o = orders.map_or(String::new(), |v| v.to_string());
        csv.push_str(&format!(
            "{recency},{o},{plan},{spend},{churned},{duration},{event},{amount}\n"
        ));
        x.extend([recency, orders.unwrap_or(f64::NAN), plan, spend]);
        amounts.push(amount);
    }
    let path = dir.join("table.csv");
    std::fs::write(&path, csv).unwrap();
    (path, Matrix::new(x, 300, 4).unwrap(), amounts)
}

/// `tenure fit --model mlp|deepsurv|ziln --save-onnx`: the file (with an
/// embedded plan code) scores the training table as the fitted model did:
/// the training metrics `fit` reports, recomputed from onnxruntime's scores.
#[test]
fn fit_saves_networks_to_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let (data, x, amounts) = fit_table(dir.path());
    let features: Vec<String> = ["recency", "orders", "plan", "spend"]
        .map(String::from)
        .to_vec();
    for kind in ["mlp", "deepsurv", "ziln"] {
        let onnx = dir.path().join(format!("{kind}.onnx"));
        let mut req = FitRequest {
            model: kind.into(),
            data: data.clone(),
            features: features.clone(),
            params: vec![
                "hidden=[8]".into(),
                "epochs=3".into(),
                "norm=\"layer\"".into(),
                "batch_size=64".into(),
                "categorical=[\"plan\"]".into(),
            ],
            save_onnx: Some(onnx.clone()),
            ..FitRequest::default()
        };
        match kind {
            "mlp" => req.target = Some("churned".into()),
            "deepsurv" => {
                req.duration = Some("duration".into());
                req.event = Some("event".into());
            }
            _ => req.target = Some("amount".into()),
        }
        let v = tenure_runner::fit::fit(&req).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(v["onnx"]["path"], onnx.display().to_string());
        let card_path = v["onnx"]["model_card"].as_str().unwrap();
        let card: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(card_path).unwrap()).unwrap();
        assert_eq!(card["model"]["kind"], kind);
        let recency = &card["input"]["columns"][0]["preprocessing"];
        assert_eq!(recency["asinh"], true, "{kind}: {recency}");
        assert!(recency["clamp"].is_array(), "{kind}: {recency}");
        let plan = &card["input"]["columns"][2];
        assert!(
            plan["categorical"] == true && plan["preprocessing"].is_null(),
            "{plan}"
        );
        let s = &score(&[(std::fs::read(&onnx).unwrap().as_slice(), &x)])[0];
        let pred: Vec<f64> = s
            .column(tenure_onnx::PREDICTION)
            .iter()
            .map(|&p| f64::from(p))
            .collect();
        let train = &v["train"];
        match kind {
            "mlp" => {
                let y: Vec<f64> = (0..300u32)
                    .map(|i| f64::from(u8::from(f64::from(i * 37 % 120) > 60.0 && i % 3 != 0)))
                    .collect();
                let want = train["log_loss"].as_f64().unwrap();
                let got = tenure_metrics::log_loss(&y, &pred).unwrap();
                assert!(
                    (want - got).abs() <= 1e-5 * want,
                    "mlp log loss {want} vs {got}"
                );
            }
            "deepsurv" => {
                let time: Vec<f64> = (0..300u32).map(|i| f64::from(10 + i * 7 % 200)).collect();
                let event: Vec<bool> = (0..300).map(|i| i % 4 != 0).collect();
                let want = train["concordance"].as_f64().unwrap();
                let got = tenure_metrics::concordance_index(&time, &event, &pred).unwrap();
                // Float32 outputs may tie two close risks: half a pair.
                assert!(
                    (want - got).abs() <= 1e-3,
                    "deepsurv concordance {want} vs {got}"
                );
            }
            _ => {
                let want = train["rmse"].as_f64().unwrap();
                let got = tenure_metrics::rmse(&amounts, &pred).unwrap();
                assert!(
                    (want - got).abs() <= 1e-5 * want,
                    "ziln rmse {want} vs {got}"
                );
            }
        }
    }
}
