//! `[uplift]` end to end on synthetic data whose campaign has a known
//! effect per customer: every meta-learner is scored on held-out customers,
//! ranks them in agreement with the true effects, and lands in the report
//! and the tracking store; bad `[uplift]` tables are config errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tenure_runner::data::parse_date;
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::{Experiment, RunOptions, RunnerError};

/// Synthetic customers with their truth at 2023-07-01, generated once.
fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner-uplift-synth");
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = SynthConfig {
            customers: 12_000,
            seed: 5,
            truth_cutoff: parse_date("2023-07-01").unwrap(),
            truth_horizon_days: 90,
            ..SynthConfig::default()
        };
        synth::write(&cfg, &dir).unwrap();
        dir
    })
}

fn experiment(dir: &Path, uplift: &str) -> PathBuf {
    let data = data_dir();
    let text = format!(
        r#"
name = "uplift-test"
seed = 3
[data.transactions]
path = "{tx}"
category = "category"
[data.customers]
path = "{cu}"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "channel", "region", "campaign"]
[labels]
task = "churn"
horizon_days = 90
churn = "cancel"
[cv]
cutoffs = ["2023-01-01", "2023-04-01"]
folds = 1
test_cutoff = "2023-07-01"
[[models]]
kind = "logistic"
[uplift]
{uplift}
"#,
        tx = data.join("transactions.parquet").display(),
        cu = data.join("customers.parquet").display(),
    );
    let path = dir.join("exp.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the test experiment with `[uplift]` on the campaign, scored against
/// the truth; `extra` adds keys to the table.
fn run_uplift(dir: &Path, extra: &str) -> tenure_runner::RunOutcome {
    let truth = data_dir().join("truth.parquet");
    let path = experiment(
        dir,
        &format!(
            "treatment = \"campaign\"\ncutoff = \"2023-07-01\"\ntruth = {{ path = \"{}\" }}\n{extra}",
            truth.display()
        ),
    );
    let exp = Experiment::load(&path).unwrap();
    tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.join("store")),
            ..RunOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn linear_base_learners_recover_the_linear_effect() {
    // The true effect is linear in age plus a premium-plan shift: the
    // logistic outcome models and ridge effect models are well specified.
    let dir = tempfile::tempdir().unwrap();
    let out = run_uplift(
        dir.path(),
        "base = { kind = \"logistic\" }\nregressor = { kind = \"ridge\" }",
    );
    for l in &out.uplift.as_ref().unwrap().learners {
        let rho = l.truth.as_ref().unwrap().spearman;
        eprintln!("{} (logistic/ridge): Spearman {rho:.3}", l.name);
        assert!(rho > 0.35, "{}: Spearman {rho}", l.name);
    }
}

#[test]
fn uplift_models_rank_customers_like_the_true_effects() {
    // Default base learners: gradient boosting.
    let dir = tempfile::tempdir().unwrap();
    let out = run_uplift(dir.path(), "");
    let u = out.uplift.as_ref().expect("the experiment has [uplift]");
    let names: Vec<&str> = u.learners.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["t_learner", "x_learner", "class_transformation"]);
    assert!(
        u.test_rows > 1000 && u.train_rows > 2 * u.test_rows,
        "{u:?}"
    );
    // The campaign prevents churn on average (ite < 0, so retention uplift > 0).
    let mean_true = u.mean_true_uplift.unwrap();
    assert!(mean_true > 0.0, "mean true uplift {mean_true}");
    let oracle = u.oracle.as_ref().unwrap();
    for l in &u.learners {
        let t = l.truth.as_ref().unwrap();
        eprintln!(
            "{}: qini {:.4} auuc {:.4} spearman {:.3} top10 {:.2} (oracle qini {:.4})",
            l.name,
            l.qini_coefficient,
            l.auuc.unwrap(),
            t.spearman,
            t.top_decile_true_uplift,
            oracle.qini_coefficient
        );
        // The true effect depends on plan and age, both features: every
        // learner's ranking agrees with it (a random one scores about 0).
        assert!(t.spearman > 0.2, "{}: Spearman {}", l.name, t.spearman);
        assert!(t.top_decile_true_uplift > 1.0, "{}", l.name);
        assert_eq!(l.deciles.len(), 10);
        assert_eq!(
            l.deciles
                .iter()
                .map(|d| d.n_treatment + d.n_control)
                .sum::<usize>(),
            u.test_rows
        );
        // Treating no one / everyone are the arms' observed means.
        let (none, all) = (&l.policy[0], &l.policy[l.policy.len() - 1]);
        assert_eq!((none.fraction, all.fraction), (0.0, 1.0));
        assert!((none.gain_over_none).abs() < 1e-12 && all.gain_over_all.abs() < 1e-12);
    }
    // The truth's own ranking is a ceiling no learner beats by much.
    assert_eq!(oracle.truth.as_ref().unwrap().spearman, 1.0);

    let report = std::fs::read_to_string(&out.report).unwrap();
    for heading in ["Qini curve", "Observed uplift by decile", "Policy value"] {
        assert!(report.contains(heading), "report lacks {heading}");
    }
    assert!(report.matches("<svg").count() >= 5, "charts are inline SVG");
    assert!(!report.contains("<script"), "self-contained, no scripts");

    let run_dir = out.store.join(&out.experiment_id).join(&out.run_id);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("artifacts/uplift.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["learners"].as_array().unwrap().len(), 3);
    assert!(
        json["learners"][0]["qini_curve"]["n"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    let summary = tenure_runner::output::json_summary(&out);
    assert!(
        summary["uplift"]["learners"][0]["spearman_true"]
            .as_f64()
            .unwrap()
            > 0.2
    );
}

#[test]
fn uplift_on_spend_uses_the_continuous_variants() {
    let dir = tempfile::tempdir().unwrap();
    let path = experiment(
        dir.path(),
        "treatment = \"campaign\"\ncutoff = \"2023-07-01\"\npolicy_fractions = [0.0, 0.5, 1.0]",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("task = \"churn\"", "task = \"clv\"")
        .replace("churn = \"cancel\"\n", "")
        .replace("kind = \"logistic\"", "kind = \"historical_average\"");
    std::fs::write(&path, text).unwrap();
    let exp = Experiment::load(&path).unwrap();
    let out = tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("store")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let u = out.uplift.unwrap();
    assert!(
        u.outcome.starts_with("spend within 90 days"),
        "{}",
        u.outcome
    );
    assert_eq!(
        u.ab.outcome_kind,
        tenure_runner::metrics::OutcomeKind::Continuous
    );
    for l in &u.learners {
        // scikit-uplift's AUUC normalisation is defined for 0/1 outcomes only.
        assert!(l.auuc.is_none(), "{}", l.name);
        assert!(l.qini_coefficient.is_finite(), "{}", l.name);
        assert_eq!(l.policy.len(), 3);
        // Treating everyone is worth the treated arm's mean spend.
        let treated: f64 = l
            .deciles
            .iter()
            .map(|d| d.response_rate_treatment * d.n_treatment as f64)
            .sum::<f64>()
            / l.deciles.iter().map(|d| d.n_treatment as f64).sum::<f64>();
        assert!((l.policy[2].value - treated).abs() < 1e-9 * treated.max(1.0));
    }
    assert!(u.oracle.is_none());
}

fn load_error(uplift: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let err = Experiment::load(&experiment(dir.path(), uplift)).unwrap_err();
    assert!(matches!(err, RunnerError::Config { .. }), "{err}");
    err.to_string()
}

#[test]
fn bad_uplift_tables_are_config_errors_naming_the_key() {
    let base = "treatment = \"campaign\"\ncutoff = \"2023-07-01\"\n";
    let err = load_error(&format!("{base}learners = [\"s_learner\"]"));
    assert!(err.contains("`uplift.learners[0]`"), "{err}");
    assert!(
        err.contains("t_learner, x_learner, class_transformation"),
        "{err}"
    );
    let err = load_error(&format!("{base}base = {{ kind = \"cox\" }}"));
    assert!(err.contains("`uplift.base.kind`"), "{err}");
    let err = load_error(&format!("{base}test_share = 1.5"));
    assert!(err.contains("`uplift.test_share`"), "{err}");
    let err = load_error("treatment = \"campaign\"\ncutoff = \"July\"");
    assert!(err.contains("`uplift.cutoff`"), "{err}");
    // Regressors must model a continuous outcome.
    let err = load_error(&format!("{base}regressor = {{ kind = \"logistic\" }}"));
    assert!(err.contains("`uplift.regressor.kind`"), "{err}");
}

#[test]
fn bad_uplift_data_is_explained_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let run = |uplift: &str| {
        let exp = Experiment::load(&experiment(dir.path(), uplift)).unwrap();
        tenure_runner::run(
            &exp,
            &RunOptions {
                tracking_dir: Some(dir.path().join("store")),
                ..RunOptions::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    let err = run("treatment = \"arm\"\ncutoff = \"2023-07-01\"");
    assert!(
        err.contains("`uplift.treatment`") && err.contains("campaign"),
        "{err}"
    );
    // `plan` has three values: a third arm.
    let err = run(
        "treatment = \"plan\"\ntreated_value = \"premium\"\ncontrol_value = \"basic\"\ncutoff = \"2023-07-01\"",
    );
    assert!(err.contains("`standard`"), "{err}");
    // A truth evaluated at another cutoff would score the wrong effects.
    let truth = data_dir().join("truth.parquet");
    let err = run(&format!(
        "treatment = \"campaign\"\ncutoff = \"2023-04-01\"\ntruth = {{ path = \"{}\" }}",
        truth.display()
    ));
    assert!(
        err.contains("`uplift.truth`") && err.contains("2023-07-01"),
        "{err}"
    );
}
