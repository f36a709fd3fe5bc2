use std::collections::BTreeMap;

use tenure_core::ParamGuard;
use tenure_tune::{AshaParams, Direction, MedianParams, Params, Pruner, Trial, TrialState};

fn trial(number: u64, state: TrialState, steps: &[f64]) -> Trial {
    Trial {
        number,
        state,
        params: Params::new(),
        value: steps.last().copied(),
        intermediate: steps
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as u64 + 1, v))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn median_prunes_below_the_median_of_completed_trials() {
    let pruner = Pruner::Median(MedianParams::new().n_startup_trials(3).check().unwrap());
    let others: Vec<Trial> = [0.70, 0.75, 0.80, 0.85]
        .iter()
        .enumerate()
        .map(|(i, &v)| trial(i as u64, TrialState::Complete, &[v, v + 0.01, v + 0.02]))
        .collect();
    // Maximising AUC: 0.74 at step 1 is below the median 0.775.
    let bad = trial(9, TrialState::Running, &[0.74]);
    assert!(pruner.should_prune(&bad, 1, &others, Direction::Maximize));
    let good = trial(9, TrialState::Running, &[0.78]);
    assert!(!pruner.should_prune(&good, 1, &others, Direction::Maximize));
    // The same numbers as losses: 0.74 is good.
    assert!(!pruner.should_prune(&bad, 1, &others, Direction::Minimize));
    // Too few completed trials: never prune.
    assert!(!pruner.should_prune(&bad, 1, &others[..2], Direction::Maximize));
    // Running or pruned trials do not count towards the median.
    let mixed: Vec<Trial> = others
        .iter()
        .cloned()
        .map(|mut t| {
            t.state = TrialState::Pruned;
            t
        })
        .collect();
    assert!(!pruner.should_prune(&bad, 1, &mixed, Direction::Maximize));
}

#[test]
fn median_warmup_skips_early_steps() {
    let pruner = Pruner::Median(
        MedianParams::new()
            .n_startup_trials(1)
            .n_warmup_steps(1)
            .check()
            .unwrap(),
    );
    let others = vec![trial(0, TrialState::Complete, &[1.0, 1.0])];
    let t = trial(1, TrialState::Running, &[0.1, 0.1]);
    assert!(!pruner.should_prune(&t, 1, &others, Direction::Maximize));
    assert!(pruner.should_prune(&t, 2, &others, Direction::Maximize));
}

#[test]
fn asha_promotes_the_top_third_at_each_rung() {
    let pruner = Pruner::Asha(AshaParams::new().reduction_factor(3).check().unwrap());
    // Rungs at steps 1, 3, 9.
    let others: Vec<Trial> = (0..8)
        .map(|i| trial(i, TrialState::Complete, &[i as f64]))
        .collect();
    // Minimising: with 9 values at rung 1 (8 others + own), the top 3 go on.
    let keep = trial(20, TrialState::Running, &[1.5]);
    assert!(!pruner.should_prune(&keep, 1, &others, Direction::Minimize));
    let cut = trial(20, TrialState::Running, &[2.5]);
    assert!(pruner.should_prune(&cut, 1, &others, Direction::Minimize));
    // Step 2 is not a rung: no decision.
    let t = trial(20, TrialState::Running, &[1.5, 100.0]);
    assert!(!pruner.should_prune(&t, 2, &others, Direction::Minimize));
    // The first trial at a rung is promoted.
    assert!(!pruner.should_prune(&cut, 1, &[], Direction::Minimize));
}

#[test]
fn nan_intermediate_values_are_pruned() {
    let t = trial(0, TrialState::Running, &[f64::NAN]);
    assert!(
        Pruner::Median(MedianParams::new().check().unwrap()).should_prune(
            &t,
            1,
            &[],
            Direction::Minimize
        )
    );
    assert!(!Pruner::None.should_prune(&t, 1, &[], Direction::Minimize));
}

#[test]
fn pruners_parse_by_name() {
    for name in Pruner::NAMES {
        assert_eq!(name.parse::<Pruner>().unwrap().name(), *name);
    }
    assert!("hyperband".parse::<Pruner>().is_err());
    assert!(AshaParams::new().reduction_factor(1).check().is_err());
}
