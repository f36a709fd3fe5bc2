//! Every model's plain specification predicts what burn predicts.

use tenure_core::spec_network::{NetworkHead, ziln_params};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_neural::{
    ActivationKind, DeepSurvParams, MlpParams, NetworkConfig, NormKind, ZilnParams,
};

use crate::common::{churn_data, features, names, ph_data, quick_train, ziln_data};

/// Rows the models never saw, with a missing value and values far out of
/// the training range.
fn probe_rows() -> Matrix {
    let (x, _) = features(300, 4, 99);
    let mut x = x;
    x.set(0, 1, f64::NAN);
    x.set(1, 0, 8.0);
    x.set(2, 3, -40.0);
    x
}

/// burn computes in f32: agreement is to 1e-6, relative to the size of
/// the value once it exceeds 1.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn configs() -> Vec<NetworkConfig> {
    let base = NetworkConfig {
        hidden: vec![16, 8],
        dropout: 0.1,
        ..NetworkConfig::default()
    };
    vec![
        base.clone(),
        NetworkConfig {
            norm: NormKind::Batch,
            activation: ActivationKind::Tanh,
            ..base.clone()
        },
        NetworkConfig {
            norm: NormKind::Layer,
            activation: ActivationKind::LeakyRelu,
            ..base.clone()
        },
        NetworkConfig {
            hidden: vec![12],
            activation: ActivationKind::Sigmoid,
            categorical: vec!["x3".into()],
            ..base
        },
    ]
}

/// x3 as a category code (its rounded value), for the embedding variant.
fn with_codes(data: &Dataset) -> Dataset {
    let mut x = data.x().clone();
    for r in 0..x.n_rows() {
        x.set(r, 3, (x.get(r, 3) / 2.0).round());
    }
    Dataset::new(x, names(4), data.target().clone()).unwrap()
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(close(*x, *y), "{what}: row {i}: burn {x} vs spec {y}");
    }
}

#[test]
fn mlp_spec_matches_burn() {
    let (data, _) = churn_data(1500, 21);
    for cfg in configs() {
        let data = if cfg.categorical.is_empty() {
            data.clone()
        } else {
            with_codes(&data)
        };
        let model = MlpParams::new()
            .network(cfg.clone())
            .train(quick_train(8))
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let spec = model.to_spec();
        spec.validate().unwrap();
        assert_eq!(spec.head, NetworkHead::Logistic);
        let x = probe_rows();
        assert_close(
            &model.predict(&x).unwrap(),
            &spec.predict(&x).unwrap(),
            &format!("{cfg:?}"),
        );
        // The specification survives a JSON round trip (f32 weights
        // exactly; f64 statistics to the last digit or so).
        let back: tenure_core::NetworkSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(back.hidden, spec.hidden);
        assert_close(
            &back.predict(&x).unwrap(),
            &spec.predict(&x).unwrap(),
            "round trip",
        );
    }
}

#[test]
fn deepsurv_spec_matches_burn() {
    let (data, _) = ph_data(1500, 22);
    for cfg in configs() {
        let data = if cfg.categorical.is_empty() {
            data.clone()
        } else {
            with_codes(&data)
        };
        let model = DeepSurvParams::new()
            .network(cfg.clone())
            .train(quick_train(8))
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let spec = model.to_spec();
        spec.validate().unwrap();
        let NetworkHead::CoxLogHazard {
            times,
            cumulative_hazard,
        } = &spec.head
        else {
            panic!("a Cox head expected")
        };
        let (t, h) = model.baseline();
        assert_eq!((times.as_slice(), cumulative_hazard.as_slice()), (t, h));
        let x = probe_rows();
        assert_close(
            &model.predict(&x).unwrap(),
            &spec.predict(&x).unwrap(),
            &format!("{cfg:?}"),
        );
    }
}

#[test]
fn ziln_spec_matches_burn() {
    let (data, _) = ziln_data(1500, 23);
    for cfg in configs() {
        let data = if cfg.categorical.is_empty() {
            data.clone()
        } else {
            with_codes(&data)
        };
        let model = ZilnParams::new()
            .network(cfg.clone())
            .train(quick_train(8))
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let spec = model.to_spec();
        spec.validate().unwrap();
        let x = probe_rows();
        let ours = model.distributions(&x).unwrap();
        let theirs = spec.forward(&x).unwrap();
        for (a, b) in ours.iter().zip(&theirs) {
            let (p, mu, sigma) = ziln_params(b);
            assert!(
                close(a.p_positive, p) && close(a.mu, mu) && close(a.sigma, sigma),
                "{cfg:?}: {a:?} vs ({p}, {mu}, {sigma})"
            );
        }
        // The expected value `p exp(mu + sigma^2 / 2)` turns an f32
        // rounding of its exponent into a relative error of the same size:
        // its logarithm agrees to 1e-6, relative once it exceeds 1.
        for (a, b) in model
            .predict(&x)
            .unwrap()
            .iter()
            .zip(spec.predict(&x).unwrap())
        {
            assert!(close(a.ln(), b.ln()), "{cfg:?}: {a} vs {b}");
        }
    }
}

#[test]
fn a_target_of_another_kind_is_refused_by_the_spec_width_check() {
    let (data, _) = churn_data(200, 24);
    let model = MlpParams::new()
        .network(NetworkConfig {
            hidden: vec![4],
            ..NetworkConfig::default()
        })
        .train(quick_train(1))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let spec = model.to_spec();
    assert!(spec.predict(&Matrix::zeros(1, 5)).is_err());
    let mut broken = spec.clone();
    broken.hidden[0].dense.weight.pop();
    assert!(broken.validate().is_err());
    assert!(matches!(data.target(), Target::Binary(_)));
}
