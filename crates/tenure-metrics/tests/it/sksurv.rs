//! Agreement with scikit-survival on fixed data, recorded by
//! `scripts/reference/sksurv_metrics.py` (see scripts/reference/README.md).

use serde::Deserialize;
use tenure_metrics::{
    SKSURV_TIED_TOL, brier_score_at, concordance_index, cumulative_dynamic_auc,
    integrated_brier_score, uno_concordance,
};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sksurv_metrics.json"
));
const TOL: f64 = 1e-12;

#[derive(Deserialize)]
struct Golden {
    versions: Versions,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Versions {
    #[serde(rename = "scikit-survival")]
    scikit_survival: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    train_time: Vec<f64>,
    train_event: Vec<bool>,
    test_time: Vec<f64>,
    test_event: Vec<bool>,
    risk: Vec<f64>,
    harrell_c: f64,
    uno_c: f64,
    uno_c_tau: Vec<TauCase>,
    auc_times: Vec<f64>,
    auc: Vec<f64>,
    mean_auc: f64,
    /// Time-dependent risks, per time point, with their AUCs.
    risk_at_times: Option<Vec<Vec<f64>>>,
    auc_td: Option<Vec<f64>>,
    mean_auc_td: Option<f64>,
    brier_times: Vec<f64>,
    survival_prob: Vec<Vec<f64>>,
    brier: Vec<f64>,
    integrated_brier: f64,
}

#[derive(Deserialize)]
struct TauCase {
    tau: f64,
    c: f64,
}

fn golden() -> Golden {
    serde_json::from_str(GOLDEN).expect("sksurv_metrics.json parses")
}

#[track_caller]
fn assert_close(case: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{case}: {what} = {got}, scikit-survival says {want}"
    );
}

#[test]
fn golden_file_covers_censoring_patterns() {
    let g = golden();
    assert_eq!(g.versions.scikit_survival, "0.28.0");
    assert!(g.cases.len() >= 5);
    // Uncensored training data (G = 1) and train = test are both present.
    assert!(g.cases.iter().any(|c| c.train_event.iter().all(|&e| e)));
    assert!(g.cases.iter().any(|c| c.train_time == c.test_time));
    assert!(g.cases.iter().filter(|c| c.risk_at_times.is_some()).count() >= 2);
}

#[test]
fn uno_concordance_matches_concordance_index_ipcw() {
    for c in golden().cases {
        let got = uno_concordance(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            &c.risk,
            None,
        )
        .unwrap();
        assert_close(&c.name, "uno_c", got, c.uno_c);
        for t in &c.uno_c_tau {
            let got = uno_concordance(
                &c.train_time,
                &c.train_event,
                &c.test_time,
                &c.test_event,
                &c.risk,
                Some(t.tau),
            )
            .unwrap();
            assert_close(&c.name, &format!("uno_c(tau = {})", t.tau), got, t.c);
        }
    }
}

#[test]
fn harrell_c_matches_concordance_index_censored() {
    for c in golden().cases {
        // sksurv ties risks within 1e-8, lifelines (and concordance_index)
        // only equal ones: compare where no two risks are that close.
        let mut sorted = c.risk.clone();
        sorted.sort_by(f64::total_cmp);
        let near_tie = sorted
            .windows(2)
            .any(|w| w[1] != w[0] && w[1] - w[0] <= SKSURV_TIED_TOL);
        if near_tie {
            continue;
        }
        let got = concordance_index(&c.test_time, &c.test_event, &c.risk).unwrap();
        assert_close(&c.name, "harrell_c", got, c.harrell_c);
    }
}

#[test]
fn uno_with_uncensored_training_data_is_sksurv_harrell() {
    // G = 1 everywhere, so every weight is 1.
    for c in golden()
        .cases
        .iter()
        .filter(|c| c.train_event.iter().all(|&e| e))
    {
        assert_close(&c.name, "harrell_c", c.uno_c, c.harrell_c);
    }
}

#[test]
fn cumulative_dynamic_auc_matches_sksurv() {
    for c in golden().cases {
        let (auc, mean) = cumulative_dynamic_auc(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            &c.risk,
            &c.auc_times,
        )
        .unwrap();
        assert_eq!(auc.len(), c.auc.len(), "{}", c.name);
        for (k, (&got, &want)) in auc.iter().zip(&c.auc).enumerate() {
            assert_close(&c.name, &format!("auc[{k}]"), got, want);
        }
        assert_close(&c.name, "mean_auc", mean, c.mean_auc);
    }
}

#[test]
fn time_dependent_risk_auc_matches_sksurv() {
    let mut seen = 0;
    for c in golden().cases {
        let (Some(risk), Some(want), Some(want_mean)) =
            (&c.risk_at_times, &c.auc_td, c.mean_auc_td)
        else {
            continue;
        };
        seen += 1;
        let (auc, mean) = cumulative_dynamic_auc(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            risk,
            &c.auc_times,
        )
        .unwrap();
        for (k, (&got, &want)) in auc.iter().zip(want).enumerate() {
            assert_close(&c.name, &format!("auc_td[{k}]"), got, want);
        }
        assert_close(&c.name, "mean_auc_td", mean, want_mean);
    }
    assert!(seen >= 2);
}

#[test]
fn single_time_auc_is_its_own_mean() {
    let c = &golden().cases[0];
    let t = [c.auc_times[1]];
    let (auc, mean) = cumulative_dynamic_auc(
        &c.train_time,
        &c.train_event,
        &c.test_time,
        &c.test_event,
        &c.risk,
        &t,
    )
    .unwrap();
    assert_close(&c.name, "auc at one time", auc[0], c.auc[1]);
    assert_eq!(mean, auc[0]);
}

#[test]
fn brier_scores_match_sksurv() {
    for c in golden().cases {
        assert_eq!(c.survival_prob.len(), c.brier_times.len(), "{}", c.name);
        for (k, &t) in c.brier_times.iter().enumerate() {
            let got = brier_score_at(
                &c.train_time,
                &c.train_event,
                &c.test_time,
                &c.test_event,
                &c.survival_prob[k],
                t,
            )
            .unwrap();
            assert_close(&c.name, &format!("brier(t = {t})"), got, c.brier[k]);
        }
        let ibs = integrated_brier_score(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            &c.survival_prob,
            &c.brier_times,
        )
        .unwrap();
        assert_close(&c.name, "integrated_brier", ibs, c.integrated_brier);
    }
}

/// The runner's survival-curve metrics are scikit-survival's on the usable
/// times; a time outside the test follow-up is left out, not an error.
#[test]
fn survival_curve_metrics_are_sksurvs() {
    use tenure_metrics::{RiskScores, cumulative_dynamic_auc, evaluate_survival_curves};
    for c in golden().cases {
        let got = evaluate_survival_curves(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            &c.survival_prob,
            &c.brier_times,
        )
        .unwrap();
        let get = |name: &str| got.iter().find(|(n, _)| *n == name).map(|&(_, v)| v);
        assert_close(&c.name, "ibs", get("ibs").unwrap(), c.integrated_brier);
        let last = c.brier.len() - 1;
        assert_close(
            &c.name,
            "brier_horizon",
            get("brier_horizon").unwrap(),
            c.brier[last],
        );
        let risk: Vec<Vec<f64>> = c
            .survival_prob
            .iter()
            .map(|s| s.iter().map(|p| 1.0 - p).collect())
            .collect();
        let (_, mean) = cumulative_dynamic_auc(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            RiskScores::PerTime(&risk),
            &c.brier_times,
        )
        .unwrap();
        assert_close(&c.name, "td_auc", get("td_auc").unwrap(), mean);
        let ece = get("ece_horizon").unwrap();
        assert!((0.0..=1.0).contains(&ece), "{}: ece {ece}", c.name);

        // One more time, past the test follow-up: skipped. It is the last
        // time, so the horizon metrics go too.
        let max = c.test_time.iter().copied().fold(f64::MIN, f64::max);
        let mut times = c.brier_times.clone();
        times.push(max + 1.0);
        let mut probs = c.survival_prob.clone();
        probs.push(vec![0.5; c.test_time.len()]);
        let beyond = evaluate_survival_curves(
            &c.train_time,
            &c.train_event,
            &c.test_time,
            &c.test_event,
            &probs,
            &times,
        )
        .unwrap();
        let names: Vec<&str> = beyond.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["ibs", "td_auc"], "{}", c.name);
        assert_eq!(beyond[0].1, get("ibs").unwrap());
    }
}

#[test]
fn status_at_a_horizon_by_hand() {
    use tenure_metrics::status_at;
    // Censored at 2 (unknown at 3), event at 1 and 4, follow-up past 3 at 5.
    let time = [1.0, 2.0, 4.0, 5.0];
    let event = [true, false, true, false];
    let s = status_at(&time, &event, 3.0).unwrap();
    // Censoring curve G: 1 until 2, then 1 - 1/3 (three at risk, the event
    // at 1 has left): G(1) = 1, G(3) = 2/3.
    assert_eq!(s[0], Some((1.0, 1.0)));
    assert_eq!(s[1], None);
    let (label, w) = s[2].unwrap();
    assert_eq!(label, 0.0);
    assert!((w - 1.5).abs() < 1e-12, "{w}");
    assert_eq!(s[3].map(|x| x.0), Some(0.0));
    assert!(status_at(&time, &event[..3], 3.0).is_err());
}
