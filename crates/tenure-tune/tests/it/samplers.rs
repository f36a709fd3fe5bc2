use tenure_tune::bench::{self, TestFunction, median};
use tenure_tune::{Direction, SampleContext, SamplerKind, Trial};

/// Median over the fixed seeds 0..10 of the best Branin value after 40
/// trials.
fn median_best_after_40(kind: SamplerKind) -> f64 {
    let r = bench::run(TestFunction::Branin, kind, 40, 10);
    median(&r.best_so_far.iter().map(|c| c[39]).collect::<Vec<_>>())
}

#[test]
fn tpe_beats_random_on_branin() {
    let (tpe, random) = (
        median_best_after_40(SamplerKind::Tpe),
        median_best_after_40(SamplerKind::Random),
    );
    assert!(tpe < random, "TPE {tpe} vs random {random}");
}

#[test]
fn gp_beats_random_on_branin() {
    let (gp, random) = (
        median_best_after_40(SamplerKind::Gp),
        median_best_after_40(SamplerKind::Random),
    );
    assert!(gp < random, "GP {gp} vs random {random}");
    // The GP finds the minimum (0.3979) to two decimals.
    assert!(gp < 0.41, "GP median best {gp}");
}

#[test]
fn proposals_depend_only_on_seed_number_and_history() {
    let f = TestFunction::Hartmann3;
    let space = f.space();
    for kind in [SamplerKind::Tpe, SamplerKind::Gp, SamplerKind::Random] {
        let mut history = Vec::new();
        let mut sampler = kind.build();
        for n in 0..14 {
            let p = sampler.sample(
                &space,
                Direction::Minimize,
                &history,
                &SampleContext::new(9, n),
            );
            // A fresh sampler (another worker) proposes the same point.
            let again = kind.build().sample(
                &space,
                Direction::Minimize,
                &history,
                &SampleContext::new(9, n),
            );
            if kind != SamplerKind::Gp {
                assert_eq!(p, again, "{kind} trial {n}");
            }
            let v = f.eval(&p);
            history.push(Trial::complete(n, p, v));
        }
    }
}

#[test]
fn running_trials_push_tpe_away_from_their_point() {
    // With the constant liar, a running trial at the incumbent makes TPE
    // propose elsewhere than it would without it.
    let f = TestFunction::Branin;
    let space = f.space();
    let mut history = Vec::new();
    let mut sampler = SamplerKind::Tpe.build();
    for n in 0..20 {
        let p = sampler.sample(
            &space,
            Direction::Minimize,
            &history,
            &SampleContext::new(4, n),
        );
        let v = f.eval(&p);
        history.push(Trial::complete(n, p, v));
    }
    let proposal = sampler.sample(
        &space,
        Direction::Minimize,
        &history,
        &SampleContext::new(4, 21),
    );
    let mut running = history.clone();
    running.push(Trial {
        number: 20,
        state: tenure_tune::TrialState::Running,
        params: proposal.clone(),
        value: None,
        intermediate: Default::default(),
    });
    let other = sampler.sample(
        &space,
        Direction::Minimize,
        &running,
        &SampleContext::new(4, 21),
    );
    assert_ne!(proposal, other);
}

#[test]
fn maximize_is_minimize_of_the_negation() {
    let f = TestFunction::Branin;
    let space = f.space();
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    let mut s1 = SamplerKind::Tpe.build();
    let mut s2 = SamplerKind::Tpe.build();
    for n in 0..25 {
        let a = s1.sample(&space, Direction::Minimize, &lo, &SampleContext::new(2, n));
        let b = s2.sample(&space, Direction::Maximize, &hi, &SampleContext::new(2, n));
        assert_eq!(a, b, "trial {n}");
        let v = f.eval(&a);
        lo.push(Trial::complete(n, a, v));
        hi.push(Trial::complete(n, b, -v));
    }
}

#[test]
fn auto_uses_the_gp_on_small_flat_spaces_and_tpe_otherwise() {
    use tenure_tune::{
        AUTO_GP_MAX_TRIALS, AutoSampler, ParamDef, ParamValue, Sampler, SearchSpace,
    };
    let f = TestFunction::Branin;
    let space = f.space();
    let history: Vec<Trial> = (0..8)
        .map(|n| {
            let p = tenure_tune::random_params(&space, &mut tenure_tune::trial_rng(1, n));
            let v = f.eval(&p);
            Trial::complete(n, p, v)
        })
        .collect();
    let ctx = SampleContext::new(1, 8);
    let auto = AutoSampler::default().sample(&space, Direction::Minimize, &history, &ctx);
    let gp = SamplerKind::Gp
        .build()
        .sample(&space, Direction::Minimize, &history, &ctx);
    assert_eq!(auto, gp);
    assert!(AutoSampler::uses_gp(&space, &history));
    let long: Vec<Trial> = (0..AUTO_GP_MAX_TRIALS as u64)
        .map(|n| Trial::complete(n, history[0].params.clone(), 1.0))
        .collect();
    assert!(!AutoSampler::uses_gp(&space, &long));
    let conditional = SearchSpace::new(vec![
        ParamDef::categorical("k", vec![ParamValue::Int(1), ParamValue::Int(2)]),
        ParamDef::float("x", 0.0, 1.0).when("k", vec![ParamValue::Int(2)]),
    ])
    .unwrap();
    assert!(!AutoSampler::uses_gp(&conditional, &[]));
    assert_eq!(SamplerKind::default(), SamplerKind::Auto);
}

#[test]
fn startup_trials_form_a_latin_hypercube() {
    let f = TestFunction::Hartmann6;
    let space = f.space();
    let mut sampler = SamplerKind::Tpe.build();
    let mut history = Vec::new();
    for n in 0..10 {
        let p = sampler.sample(
            &space,
            Direction::Minimize,
            &history,
            &SampleContext::new(3, n),
        );
        let v = f.eval(&p);
        history.push(Trial::complete(n, p, v));
    }
    // Each of the ten slices of every coordinate holds exactly one trial.
    for d in 1..=6 {
        let mut slices: Vec<usize> = history
            .iter()
            .map(|t| (t.params[&format!("x{d}")].as_f64().unwrap() * 10.0) as usize)
            .collect();
        slices.sort();
        assert_eq!(slices, (0..10).collect::<Vec<_>>(), "x{d}");
    }
}
