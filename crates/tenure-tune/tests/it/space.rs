use std::collections::BTreeMap;

use tenure_tune::{
    Direction, Distribution, ParamDef, ParamSpec, ParamValue, SampleContext, SamplerKind,
    SearchSpace, Trial, TuneError, trial_rng,
};

/// Parses a space written as JSON tables (the same serde shape as TOML).
fn parse(json: &str) -> Result<SearchSpace, TuneError> {
    let tables: BTreeMap<String, ParamSpec> = serde_json::from_str(json).expect("valid JSON");
    SearchSpace::from_specs(tables.iter().map(|(k, v)| (k.as_str(), v)))
}

fn key_of(err: TuneError) -> (String, String) {
    match err {
        TuneError::Space { key, reason } => (key, reason),
        other => panic!("expected a space error, got {other}"),
    }
}

#[test]
fn bad_spaces_name_the_key() {
    let cases = [
        (
            r#"{"l2": {"type": "float", "low": 10, "high": 1}}"#,
            "l2.low",
            "greater than high",
        ),
        (
            r#"{"l2": {"type": "float", "low": 0, "high": 1, "log": true}}"#,
            "l2.low",
            "low > 0",
        ),
        (
            r#"{"l2": {"type": "float", "low": -1, "high": 1, "log": true}}"#,
            "l2.low",
            "low > 0",
        ),
        (
            r#"{"l2": {"type": "float", "high": 1}}"#,
            "l2.low",
            "needs `low`",
        ),
        (
            r#"{"l2": {"type": "float", "low": "a", "high": 1}}"#,
            "l2.low",
            "expected a number",
        ),
        (
            r#"{"b": {"type": "categorical", "choices": []}}"#,
            "b.choices",
            "empty choices",
        ),
        (
            r#"{"b": {"type": "categorical"}}"#,
            "b.choices",
            "needs `choices`",
        ),
        (
            r#"{"b": {"type": "categorical", "choices": ["x", "x"]}}"#,
            "b.choices",
            "twice",
        ),
        (
            r#"{"b": {"type": "categorical", "choices": ["x"], "low": 1}}"#,
            "b.low",
            "does not apply",
        ),
        (
            r#"{"n": {"type": "int", "low": 5, "high": 1}}"#,
            "n.low",
            "greater than high",
        ),
        (
            r#"{"n": {"type": "int", "low": 0, "high": 10, "log": true}}"#,
            "n.low",
            "low >= 1",
        ),
        (
            r#"{"n": {"type": "int", "low": 1.5, "high": 10}}"#,
            "n.low",
            "needs an integer",
        ),
        (
            r#"{"n": {"type": "int", "low": 0, "high": 10, "step": 3}}"#,
            "n.high",
            "whole number of steps",
        ),
        (
            r#"{"n": {"type": "int", "low": 0, "high": 10, "step": 0}}"#,
            "n.step",
            ">= 1",
        ),
        (
            r#"{"x": {"type": "float", "low": 0, "high": 1, "step": -0.1}}"#,
            "x.step",
            "> 0",
        ),
        (
            r#"{"x": {"type": "uniform", "low": 0, "high": 1}}"#,
            "x.type",
            "unknown parameter type",
        ),
        (
            r#"{"x": {"type": "float", "low": 0, "high": 1, "when": {"nope": "a"}}}"#,
            "x.when.nope",
            "no parameter named `nope`",
        ),
        (
            r#"{"b": {"type": "categorical", "choices": ["gbtree", "dart"]},
                "x": {"type": "float", "low": 0, "high": 1, "when": {"b": "linear"}}}"#,
            "x.when.b",
            "`linear` is not a value",
        ),
        (
            r#"{"a": {"type": "categorical", "choices": [1, 2], "when": {"b": 1}},
                "b": {"type": "categorical", "choices": [1, 2], "when": {"a": 1}}}"#,
            "a.when",
            "cycle",
        ),
    ];
    for (json, want_key, want_reason) in cases {
        let (key, reason) = key_of(parse(json).expect_err(json));
        assert_eq!(key, want_key, "{json}: {reason}");
        assert!(reason.contains(want_reason), "{json}: reason `{reason}`");
    }
}

#[test]
fn unknown_fields_in_a_parameter_table_are_rejected() {
    let err = serde_json::from_str::<ParamSpec>(r#"{"type": "float", "lo": 1, "high": 2}"#)
        .expect_err("unknown field");
    assert!(err.to_string().contains("lo"), "{err}");
}

#[test]
fn good_space_parses_with_parents_first() {
    let space = parse(
        r#"{"rate_drop": {"type": "float", "low": 0.0, "high": 0.5, "when": {"booster": "dart"}},
            "booster": {"type": "categorical", "choices": ["gbtree", "dart"]},
            "l2": {"type": "float", "low": 1e-4, "high": 100, "log": true},
            "rounds": {"type": "int", "low": 50, "high": 500, "step": 50}}"#,
    )
    .unwrap();
    let names: Vec<&str> = space.params().iter().map(|p| p.name.as_str()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("booster") < pos("rate_drop"), "{names:?}");
    assert_eq!(
        space.get("rounds").unwrap().distribution,
        Distribution::Int {
            low: 50,
            high: 500,
            log: false,
            step: 50
        }
    );
    assert!(!space.is_flat());
}

/// A space with a two-level tree: booster → (dart → rate_drop, skip_drop;
/// gbtree → depth), and depth → wide (only for deep trees).
fn tree_space() -> SearchSpace {
    let s = |v: &str| ParamValue::Str(v.into());
    SearchSpace::new(vec![
        ParamDef::categorical("booster", vec![s("gbtree"), s("dart"), s("linear")]),
        ParamDef::float("rate_drop", 0.0, 0.5).when("booster", vec![s("dart")]),
        ParamDef::log_float("skip_drop", 1e-3, 0.5).when("booster", vec![s("dart")]),
        ParamDef::int("depth", 2, 12).when("booster", vec![s("gbtree"), s("dart")]),
        ParamDef::float("wide", 0.0, 1.0).when(
            "depth",
            vec![
                ParamValue::Int(10),
                ParamValue::Int(11),
                ParamValue::Int(12),
            ],
        ),
        ParamDef::log_float("eta", 1e-3, 1.0),
    ])
    .unwrap()
}

/// A function of the active parameters only, so samplers have something to
/// learn.
fn objective(p: &tenure_tune::Params) -> f64 {
    let eta = p["eta"].as_f64().unwrap();
    let mut v = (eta.ln() + 3.0).powi(2);
    if let Some(r) = p.get("rate_drop") {
        v += (r.as_f64().unwrap() - 0.2).powi(2);
    }
    if let Some(d) = p.get("depth") {
        v += (d.as_f64().unwrap() - 6.0).abs() * 0.1;
    }
    v
}

#[test]
fn conditional_spaces_never_sample_an_inactive_parameter() {
    let space = tree_space();
    for kind in [SamplerKind::Random, SamplerKind::Tpe, SamplerKind::Gp] {
        let mut sampler = kind.build();
        let mut history: Vec<Trial> = Vec::new();
        let mut seen_booster = BTreeMap::new();
        for number in 0..40 {
            let ctx = SampleContext::new(11, number);
            let params = sampler.sample(&space, Direction::Minimize, &history, &ctx);
            space
                .check(&params)
                .unwrap_or_else(|e| panic!("{kind} trial {number}: {e}: {params:?}"));
            // Spelled out as well as by `check`: dart-only params only for dart.
            let booster = params["booster"].to_string();
            assert_eq!(
                params.contains_key("rate_drop"),
                booster == "dart",
                "{params:?}"
            );
            assert_eq!(
                params.contains_key("depth"),
                booster != "linear",
                "{params:?}"
            );
            if let Some(ParamValue::Int(d)) = params.get("depth") {
                assert_eq!(params.contains_key("wide"), *d >= 10, "{params:?}");
            } else {
                assert!(!params.contains_key("wide"));
            }
            *seen_booster.entry(booster).or_insert(0) += 1;
            let value = objective(&params);
            history.push(Trial::complete(number, params, value));
        }
        assert_eq!(seen_booster.len(), 3, "{kind} explored {seen_booster:?}");
    }
}

#[test]
fn check_rejects_inactive_and_missing_parameters() {
    let space = tree_space();
    let s = |v: &str| ParamValue::Str(v.into());
    let mut p = tenure_tune::Params::new();
    p.insert("booster".into(), s("linear"));
    p.insert("eta".into(), ParamValue::Float(0.1));
    assert!(space.check(&p).is_ok());
    p.insert("rate_drop".into(), ParamValue::Float(0.1));
    assert!(space.check(&p).unwrap_err().contains("inactive"));
    p.remove("rate_drop");
    p.insert("booster".into(), s("dart"));
    assert!(space.check(&p).unwrap_err().contains("missing"));
}

#[test]
fn samples_respect_grids_and_log_bounds() {
    let space = SearchSpace::new(vec![
        ParamDef::new(
            "rounds",
            Distribution::Int {
                low: 50,
                high: 500,
                log: false,
                step: 50,
            },
        ),
        ParamDef::new(
            "leaves",
            Distribution::Int {
                low: 2,
                high: 256,
                log: true,
                step: 1,
            },
        ),
        ParamDef::new(
            "frac",
            Distribution::Float {
                low: 0.1,
                high: 1.0,
                log: false,
                step: Some(0.1),
            },
        ),
        ParamDef::log_float("l2", 1e-6, 1e2),
    ])
    .unwrap();
    for kind in [SamplerKind::Random, SamplerKind::Tpe, SamplerKind::Gp] {
        let mut sampler = kind.build();
        let mut history = Vec::new();
        for number in 0..30 {
            let params = sampler.sample(
                &space,
                Direction::Minimize,
                &history,
                &SampleContext::new(3, number),
            );
            space
                .check(&params)
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            let v = params["l2"].as_f64().unwrap().ln().abs();
            history.push(Trial::complete(number, params, v));
        }
    }
    // Log-uniform: half of the range in ln x lies below 1e-2.
    let draws = 2000;
    let small = (0..draws)
        .filter(|&i| {
            let p = tenure_tune::random_params(&space, &mut trial_rng(5, i));
            p["l2"].as_f64().unwrap() < 1e-2
        })
        .count();
    let frac = small as f64 / draws as f64;
    assert!((0.45..0.55).contains(&frac), "{frac} of draws below 1e-2");
}
