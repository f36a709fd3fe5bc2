use tenure_tune::importance::ped_anova;
use tenure_tune::{Direction, ParamDef, ParamValue, SearchSpace, Trial, random_params, trial_rng};

#[test]
fn the_parameter_that_drives_the_objective_ranks_first() {
    let space = SearchSpace::new(vec![
        ParamDef::float("matters", 0.0, 1.0),
        ParamDef::log_float("noise", 1e-3, 1.0),
        ParamDef::categorical(
            "flavour",
            vec![ParamValue::Str("a".into()), ParamValue::Str("b".into())],
        ),
    ])
    .unwrap();
    let trials: Vec<Trial> = (0..200)
        .map(|n| {
            let p = random_params(&space, &mut trial_rng(3, n));
            let v = (p["matters"].as_f64().unwrap() - 0.3).powi(2);
            Trial::complete(n, p, v)
        })
        .collect();
    let imp = ped_anova(&space, &trials, Direction::Minimize);
    assert_eq!(imp[0].0, "matters", "{imp:?}");
    assert!(imp[0].1 > 0.8, "{imp:?}");
    let total: f64 = imp.iter().map(|(_, v)| v).sum();
    assert!((total - 1.0).abs() < 1e-12);
    // Maximising the same values flips what the top trials look like but
    // `matters` still decides them.
    let imp = ped_anova(&space, &trials, Direction::Maximize);
    assert_eq!(imp[0].0, "matters", "{imp:?}");
}

#[test]
fn a_categorical_parameter_can_be_the_important_one() {
    let s = |v: &str| ParamValue::Str(v.into());
    let space = SearchSpace::new(vec![
        ParamDef::float("x", 0.0, 1.0),
        ParamDef::categorical("kind", vec![s("good"), s("bad"), s("ugly")]),
    ])
    .unwrap();
    let trials: Vec<Trial> = (0..150)
        .map(|n| {
            let p = random_params(&space, &mut trial_rng(8, n));
            // Only the choice matters: every "good" trial ties for best.
            let v = if p["kind"] == s("good") { 0.0 } else { 1.0 };
            Trial::complete(n, p, v)
        })
        .collect();
    let imp = ped_anova(&space, &trials, Direction::Minimize);
    assert_eq!(imp[0].0, "kind", "{imp:?}");
    assert!(imp[0].1 > 0.9, "{imp:?}");
}

#[test]
fn too_few_trials_give_zero_importance() {
    let space = SearchSpace::new(vec![ParamDef::float("x", 0.0, 1.0)]).unwrap();
    let imp = ped_anova(&space, &[], Direction::Minimize);
    assert_eq!(imp, vec![("x".to_string(), 0.0)]);
}
