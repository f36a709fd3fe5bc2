//! Every kind of bad input gets one clear error naming the file, column and
//! row, a non-zero exit, and leaves no run behind.

use std::path::{Path, PathBuf};

use crate::common::tenure;

const GOOD_TX: &str =
    "customer_id,date,amount\n1,2023-01-05,10.0\n1,2023-02-01,12.5\n2,2023-01-20,8.0\n";
const GOOD_CU: &str = "customer_id,signup\n1,2022-12-01\n2,2023-01-02\n";

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(tx: &str, customers: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tx.csv"), tx).unwrap();
        if let Some(cu) = customers {
            std::fs::write(dir.path().join("customers.csv"), cu).unwrap();
        }
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self, extra_tx: &str, with_customers: bool, tail: &str) -> PathBuf {
        let customers = if with_customers {
            "[data.customers]\npath = \"customers.csv\"\nsignup = \"signup\"\n"
        } else {
            ""
        };
        let text = format!(
            "name = \"bad\"\n\n[data.transactions]\npath = \"tx.csv\"\ntimestamp = \"date\"\n{extra_tx}\n{customers}\n\
             [labels]\ntask = \"churn\"\nhorizon_days = 30\n\n\
             [cv]\ncutoffs = [\"2023-02-01\", \"2023-03-01\"]\nfolds = 1\ntest_cutoff = \"2023-04-01\"\n\n\
             [[models]]\nkind = \"logistic\"\n\n[tracking]\nuri = \"store\"\n{tail}"
        );
        let path = self.path().join("exp.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the experiment, expects failure, returns stderr.
    fn fails(&self, config: &Path) -> String {
        let out = tenure()
            .arg("run")
            .arg(config)
            .current_dir(self.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success(),
            "expected a failure, stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(
            stderr
                .trim()
                .lines()
                .filter(|l| l.starts_with("error"))
                .count(),
            1,
            "one error: {stderr}"
        );
        assert!(
            !self.path().join("store").exists()
                || std::fs::read_dir(self.path().join("store"))
                    .unwrap()
                    .all(|e| {
                        let e = e.unwrap();
                        // Only the default experiment and the lock may exist: no run.
                        e.file_name() == "0" || e.file_name() == ".lock"
                    }),
            "a failed input left something in the store"
        );
        stderr
    }
}

fn assert_mentions(stderr: &str, needles: &[&str]) {
    for n in needles {
        assert!(stderr.contains(n), "`{n}` not in: {stderr}");
    }
}

#[test]
fn missing_file() {
    let case = Case::new(GOOD_TX, None);
    std::fs::remove_file(case.path().join("tx.csv")).unwrap();
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(&err, &["tx.csv"]);
}

#[test]
fn missing_column() {
    let case = Case::new(GOOD_TX, None);
    let err = case.fails(&case.config("amount = \"amt\"", false, ""));
    assert_mentions(&err, &["tx.csv", "`amt`", "customer_id"]);
}

#[test]
fn mistyped_column() {
    let case = Case::new(
        "customer_id,date,amount\n1,2023-01-05,10\n1,2023-01-06,ten\n",
        None,
    );
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(
        &err,
        &[
            "tx.csv",
            "`amount`",
            "row 2",
            "\"ten\"",
            "expected a number",
        ],
    );
}

#[test]
fn unparsable_date_names_the_row() {
    let case = Case::new(
        "customer_id,date,amount\n1,2023-01-05,10\n2,2023-01-06,10\n3,2023-13-45,10\n",
        None,
    );
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(&err, &["tx.csv", "`date`", "row 3", "2023-13-45"]);
}

#[test]
fn negative_amount() {
    let case = Case::new(
        "customer_id,date,amount\n1,2023-01-05,10\n2,2023-01-06,-4.5\n",
        None,
    );
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(
        &err,
        &["tx.csv", "`amount`", "row 2", "allow_negative_amounts"],
    );
}

#[test]
fn nan_amount() {
    let case = Case::new(
        "customer_id,date,amount\n1,2023-01-05,10\n2,2023-01-06,NaN\n",
        None,
    );
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(&err, &["tx.csv", "`amount`", "row 2"]);
}

#[test]
fn duplicate_customer_ids() {
    let case = Case::new(
        GOOD_TX,
        Some("customer_id,signup\n1,2022-12-01\n2,2023-01-02\n1,2022-11-01\n"),
    );
    let err = case.fails(&case.config("", true, ""));
    assert_mentions(&err, &["customers.csv", "row 3", "`1`", "row 1"]);
}

#[test]
fn empty_table() {
    let case = Case::new("customer_id,date,amount\n", None);
    let err = case.fails(&case.config("", false, ""));
    assert_mentions(&err, &["tx.csv", "empty"]);
}

#[test]
fn good_input_passes_the_same_harness() {
    // The fixtures above differ from a working experiment only in the fault.
    let case = Case::new(GOOD_TX, Some(GOOD_CU));
    let cfg = case.config("", true, "");
    let out = tenure()
        .arg("split")
        .arg(&cfg)
        .current_dir(case.path())
        .output()
        .unwrap();
    // Too little data for these folds is itself a clear config error, not a panic.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || stderr.contains("cv"), "{stderr}");
}

#[test]
fn unknown_config_key_names_key_and_file() {
    let case = Case::new(GOOD_TX, None);
    let err = case.fails(&case.config("", false, "\n[extras]\nfoo = 1\n"));
    assert_mentions(&err, &["exp.toml", "extras"]);
    let cfg = case.config("colour = \"red\"", false, "");
    let err = case.fails(&cfg);
    assert_mentions(&err, &["exp.toml", "colour"]);
}

#[test]
fn bad_model_configs_name_the_key() {
    let case = Case::new(GOOD_TX, None);
    let cfg = case.config("", false, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    for (from, to, needles) in [
        (
            "kind = \"logistic\"",
            "kind = \"xgboost\"",
            vec!["models[0].kind", "xgboost", "logistic"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"kaplan_meier\"",
            vec!["models[0].kind", "survival", "churn"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"logistic\"\nparams = { l2 = -1.0 }",
            vec!["models[0].params", "l2"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"logistic\"\nparams = { l3 = 1.0 }",
            vec!["models[0].params", "l3"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"gbdt\"\nparams = { learning_rate = -0.1 }",
            vec!["models[0].params.learning_rate", "positive"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"gbdt\"\nparams = { num_leaves = 1 }",
            vec!["models[0].params.num_leaves", "between 2"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"gbdt\"\nparams = { num_leafs = 31 }",
            vec!["models[0].params", "num_leafs", "num_leaves"],
        ),
        (
            "kind = \"logistic\"",
            "kind = \"gbdt\"\nparams = { objective = \"cox\" }",
            vec!["models[0].params.objective", "churn"],
        ),
        ("horizon_days = 30", "horizon_days = 0", vec!["horizon"]),
    ] {
        std::fs::write(&cfg, text.replace(from, to)).unwrap();
        let err = case.fails(&cfg);
        assert_mentions(&err, &needles);
    }
}

#[test]
fn bad_calibration_and_evaluation_settings_name_the_key() {
    let case = Case::new(GOOD_TX, None);
    for (tail, needles) in [
        (
            "[calibration]\nmethod = \"sigmoid\"\n",
            vec!["exp.toml", "calibration.method", "sigmoid", "isotonic"],
        ),
        (
            "[calibration]\nbins = 1\n",
            vec!["calibration.bins", "3 to 1000"],
        ),
        (
            "[calibration]\nbins = \"ten\"\n",
            vec!["calibration.bins", "integer"],
        ),
        (
            "[calibration]\ncost_fp = 5.0\n",
            vec!["calibration.value_tp", "both"],
        ),
        (
            "[calibration]\ncost_fp = -1.0\nvalue_tp = 3.0\n",
            vec!["calibration.cost_fp", ">= 0"],
        ),
        (
            "[calibration]\ntop_k_percent = [10, 120]\n",
            vec!["calibration.top_k_percent", "120"],
        ),
        (
            "[calibration]\nmetod = \"platt\"\n",
            vec!["calibration.metod", "unknown key", "method"],
        ),
        (
            "[evaluation]\nsurvival_times_days = [30]\n",
            vec![
                "evaluation.survival_times_days",
                "survival experiments only",
            ],
        ),
    ] {
        let err = case.fails(&case.config("", false, &format!("\n{tail}")));
        assert_mentions(&err, &needles);
    }
}
