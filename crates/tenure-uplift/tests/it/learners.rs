use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::{Dataset, Matrix, ParamGuard, Target};
use tenure_gbdt::{GbdtParams, Objective};
use tenure_metrics::spearman;
use tenure_stats::{LogisticRegressionParams, RidgeRegressionParams};
use tenure_uplift::{
    BaseLearner, ClassTransformation, Learner, LearnerError, TLearner, UpliftData, UpliftError,
    UpliftLearner, XLearner,
};

/// Predicts the (weighted) training mean for every row: with it each
/// meta-learner must return exactly the difference of the arms' means.
#[derive(Debug)]
struct MeanLearner;

impl BaseLearner for MeanLearner {
    fn fit_predict(&self, train: &Dataset, x: &Matrix) -> Result<Vec<f64>, LearnerError> {
        let (Target::Binary(y) | Target::Continuous(y)) = train.target() else {
            return Err(LearnerError("survival target".into()));
        };
        let w: Vec<f64> = train
            .weights()
            .map_or_else(|| vec![1.0; y.len()], <[f64]>::to_vec);
        let mean = y.iter().zip(&w).map(|(y, w)| y * w).sum::<f64>() / w.iter().sum::<f64>();
        Ok(vec![mean; x.n_rows()])
    }
}

/// Scores one row too few.
#[derive(Debug)]
struct ShortLearner;

impl BaseLearner for ShortLearner {
    fn fit_predict(&self, _: &Dataset, x: &Matrix) -> Result<Vec<f64>, LearnerError> {
        Ok(vec![0.0; x.n_rows().saturating_sub(1)])
    }
}

fn arm_mean(y: &[f64], t: &[bool], arm: bool) -> f64 {
    let v: Vec<f64> = y
        .iter()
        .zip(t)
        .filter(|p| *p.1 == arm)
        .map(|p| *p.0)
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn with_mean_learners_every_meta_learner_returns_the_difference_of_means() {
    let mut rng = StdRng::seed_from_u64(3);
    let n = 101;
    let x = Matrix::from_rows(&(0..n).map(|i| vec![f64::from(i)]).collect::<Vec<_>>()).unwrap();
    let names = vec!["x".to_string()];
    // An unbalanced split, so that the class transformation's weights matter.
    let t: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.3).collect();
    let binary: Vec<f64> = (0..n)
        .map(|_| f64::from(u8::from(rng.random::<f64>() < 0.4)))
        .collect();
    let spend: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 50.0).collect();
    let test = Matrix::from_rows(&[vec![0.0], vec![7.0]]).unwrap();
    for (y, target) in [
        (&binary, Target::Binary(binary.clone())),
        (&spend, Target::Continuous(spend.clone())),
    ] {
        let data = UpliftData::new(&x, &names, &target, &t).unwrap();
        let want = arm_mean(y, &t, true) - arm_mean(y, &t, false);
        let learners: [&dyn UpliftLearner; 3] = [
            &TLearner::new(&MeanLearner),
            &XLearner::new(&MeanLearner, &MeanLearner),
            &ClassTransformation::new(&MeanLearner, &MeanLearner),
        ];
        for learner in learners {
            let got = learner.fit_predict(&data, &test).unwrap();
            for g in got {
                assert!(
                    (g - want).abs() < 1e-10 * want.abs().max(1.0),
                    "{} on {}: {g} vs {want}",
                    learner.name(),
                    target.kind()
                );
            }
        }
    }
}

/// A randomised campaign whose effect on the log odds of retention is
/// `tau(x) = 1.5 x1`, so customers with large x1 gain most.
fn campaign(seed: u64, n: usize) -> (Matrix, Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (mut rows, mut y, mut t, mut true_uplift) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let x1 = rng.random::<f64>() * 2.0 - 1.0;
        let x2 = rng.random::<f64>() * 2.0 - 1.0;
        let base = -0.2 + 0.8 * x2;
        let treated = rng.random::<f64>() < 0.5;
        let (p0, p1) = (sigmoid(base), sigmoid(base + 1.5 * x1));
        let p = if treated { p1 } else { p0 };
        rows.push(vec![x1, x2]);
        y.push(f64::from(u8::from(rng.random::<f64>() < p)));
        t.push(treated);
        true_uplift.push(p1 - p0);
    }
    (Matrix::from_rows(&rows).unwrap(), y, t, true_uplift)
}

#[test]
fn meta_learners_recover_the_ranking_of_a_known_effect() {
    let (x, y, t, _) = campaign(11, 6000);
    let (x_test, _, _, truth) = campaign(12, 2000);
    let names = vec!["x1".to_string(), "x2".to_string()];
    let outcome = Target::Binary(y);
    let data = UpliftData::new(&x, &names, &outcome, &t).unwrap();
    let logistic = Learner(LogisticRegressionParams::new().check().unwrap());
    let ridge = Learner(RidgeRegressionParams::new().check().unwrap());
    let learners: [&dyn UpliftLearner; 3] = [
        &TLearner::new(&logistic),
        &XLearner::new(&logistic, &ridge),
        &ClassTransformation::new(&logistic, &ridge),
    ];
    for learner in learners {
        let pred = learner.fit_predict(&data, &x_test).unwrap();
        let rho = spearman(&truth, &pred).unwrap();
        // The class transformation's single model of the sign-flipped label
        // is the noisiest of the three.
        assert!(rho > 0.8, "{}: Spearman {rho}", learner.name());
        let mean_pred = pred.iter().sum::<f64>() / pred.len() as f64;
        let mean_true = truth.iter().sum::<f64>() / truth.len() as f64;
        assert!(
            (mean_pred - mean_true).abs() < 0.05,
            "{}: mean uplift {mean_pred} vs {mean_true}",
            learner.name()
        );
    }
}

#[test]
fn meta_learners_on_gradient_boosting_recover_the_ranking() {
    let (x, y, t, _) = campaign(21, 8000);
    let (x_test, _, _, truth) = campaign(22, 2000);
    let names = vec!["x1".to_string(), "x2".to_string()];
    let outcome = Target::Binary(y);
    let data = UpliftData::new(&x, &names, &outcome, &t).unwrap();
    let gbdt = |objective| {
        Learner(
            GbdtParams::new()
                .with(|c| {
                    c.objective = objective;
                    c.num_iterations = 60;
                    c.learning_rate = 0.05;
                    c.num_leaves = 7;
                    c.min_data_in_leaf = 50;
                })
                .check()
                .unwrap(),
        )
    };
    let (classifier, regressor) = (gbdt(Objective::Binary), gbdt(Objective::Regression));
    let learners: [&dyn UpliftLearner; 3] = [
        &TLearner::new(&classifier),
        &XLearner::new(&classifier, &regressor),
        &ClassTransformation::new(&classifier, &regressor),
    ];
    for learner in learners {
        let pred = learner.fit_predict(&data, &x_test).unwrap();
        let rho = spearman(&truth, &pred).unwrap();
        // Trees approximate the smooth effect in steps: looser than the
        // well-specified logistic model, far above chance.
        assert!(rho > 0.6, "{} on gbdt: Spearman {rho}", learner.name());
    }
}

#[test]
fn bad_inputs_are_explained() {
    let x = Matrix::from_rows(&[vec![1.0], vec![2.0], vec![3.0]]).unwrap();
    let names = vec!["x".to_string()];
    let y = Target::Binary(vec![1.0, 0.0, 1.0]);
    assert!(matches!(
        UpliftData::new(&x, &names, &y, &[true, true, true]),
        Err(UpliftError::OneArm {
            treated: 3,
            control: 0
        })
    ));
    let survival = Target::Survival {
        time: vec![1.0; 3],
        event: vec![true; 3],
    };
    assert!(matches!(
        UpliftData::new(&x, &names, &survival, &[true, false, true]),
        Err(UpliftError::WrongOutcome { got: "survival" })
    ));
    assert!(matches!(
        UpliftData::new(&x, &names, &y, &[true, false]),
        Err(UpliftError::Core(_))
    ));
    let data = UpliftData::new(&x, &names, &y, &[true, false, true]).unwrap();
    let err = TLearner::new(&ShortLearner)
        .fit_predict(&data, &x)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("returned 2 predictions for 3 rows"),
        "{err}"
    );
    // A base model's own failure is passed on with the stage that failed.
    let logistic = Learner(LogisticRegressionParams::new().check().unwrap());
    let one_class = Target::Binary(vec![1.0, 1.0, 1.0]);
    let data = UpliftData::new(&x, &names, &one_class, &[true, false, true]).unwrap();
    let err = TLearner::new(&logistic).fit_predict(&data, &x).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("t_learner: the treated outcome model failed"),
        "{err}"
    );
}
