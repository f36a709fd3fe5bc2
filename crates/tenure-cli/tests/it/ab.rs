//! `tenure ab` end to end: the printed JSON equals statsmodels' and scipy's
//! values recorded by `scripts/reference/statsmodels_ab.py`, a broken split
//! is shouted about, and bad tables get one clear error with exit code 2.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{run_ok, synth_dir, tenure};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/statsmodels_ab.json"
));

/// Writes one golden case as a CSV table; returns its path.
fn write_case(dir: &Path, case: &Value) -> PathBuf {
    let treatment = case["treatment"].as_array().unwrap();
    let outcome = case["outcome"].as_array().unwrap();
    let covariate = case["covariate"].as_array();
    let mut text = String::from(if covariate.is_some() {
        "unit,treatment,outcome,covariate\n"
    } else {
        "unit,treatment,outcome\n"
    });
    for i in 0..treatment.len() {
        // `{}` of an f64 is the shortest text that parses back to it.
        text.push_str(&format!(
            "u{i},{},{}",
            treatment[i].as_u64().unwrap(),
            outcome[i].as_f64().unwrap()
        ));
        if let Some(x) = covariate {
            text.push_str(&format!(",{}", x[i].as_f64().unwrap()));
        }
        text.push('\n');
    }
    let path = dir.join(format!("{}.csv", case["name"].as_str().unwrap()));
    std::fs::write(&path, text).unwrap();
    path
}

fn ab_json(table: &Path, case: &Value) -> (Value, String) {
    let mut cmd = tenure();
    cmd.args(["ab", "--table"])
        .arg(table)
        .args(["--treatment", "treatment", "--outcome", "outcome"])
        .args(["--expected-split", &case["expected_split"].to_string()])
        .arg("--json");
    if !case["covariate"].is_null() {
        cmd.args(["--covariate", "covariate"]);
    }
    let out = run_ok(&mut cmd);
    (
        serde_json::from_slice(&out.stdout).expect("one JSON object"),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[track_caller]
fn same(what: &str, got: &Value, want: &Value, rel: f64) {
    let (g, w) = (got.as_f64(), want.as_f64());
    let (Some(g), Some(w)) = (g, w) else {
        panic!("{what}: got {got}, statsmodels {want}");
    };
    assert!(
        (g - w).abs() <= rel * w.abs().max(1e-300),
        "{what}: got {g:e}, statsmodels {w:e}"
    );
}

#[test]
fn ab_json_equals_the_statsmodels_golden_values() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for case in golden["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (got, stderr) = ab_json(&write_case(dir.path(), case), case);
        let want = &case["expected"];
        assert_eq!(got["outcome_kind"], want["outcome_kind"], "{name}");
        assert_eq!(got["treatment"]["n"], want["n_treatment"], "{name}");
        assert_eq!(got["control"]["n"], want["n_control"], "{name}");
        let fields: [(&str, &str, f64); 14] = [
            ("srm", "chi2", 1e-12),
            ("srm", "p", 1e-10),
            ("ate", "estimate", 1e-12),
            ("ate", "ci_low", 1e-10),
            ("ate", "ci_high", 1e-10),
            ("ate", "p", 1e-9),
            ("ate", "std_error", 1e-12),
            ("ate", "statistic", 1e-11),
            ("lift", "estimate", 1e-12),
            ("lift", "ci_low", 1e-10),
            ("lift", "ci_high", 1e-10),
            ("power", "mde", 1e-7),
            ("power", "mde_relative", 1e-7),
            ("power", "observed_power", 1e-9),
        ];
        for (group, field, rel) in fields {
            same(
                &format!("{name} {group}.{field}"),
                &got[group][field],
                &want[group][field],
                rel,
            );
        }
        assert_eq!(got["srm"]["mismatch"], want["srm"]["mismatch"], "{name}");
        if want["cuped"].is_null() {
            assert!(got["cuped"].is_null(), "{name}: {}", got["cuped"]);
        } else {
            for field in [
                "estimate",
                "ci_low",
                "ci_high",
                "variance_reduction",
                "theta",
            ] {
                same(
                    &format!("{name} cuped.{field}"),
                    &got["cuped"][field],
                    &want["cuped"][field],
                    1e-9,
                );
            }
        }
        let warned = stderr.contains("WARNING: sample ratio mismatch");
        assert_eq!(warned, want["srm"]["mismatch"].as_bool().unwrap(), "{name}");
    }
}

#[test]
fn the_text_report_shouts_about_a_broken_split() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let case = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "srm_mismatch")
        .unwrap();
    let table = write_case(dir.path(), case);
    let out = run_ok(tenure().args(["ab", "--table"]).arg(&table).args([
        "--treatment",
        "treatment",
        "--outcome",
        "outcome",
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("WARNING: SAMPLE RATIO MISMATCH"),
        "{stdout}"
    );
    assert!(stdout.contains("2650 treated vs 2350 control"), "{stdout}");
    assert!(stdout.contains("minimum detectable effect"), "{stdout}");
}

/// `--html` and `--markdown` beside `--json`: the page renders its three
/// forest plots in Chromium, and both versions carry the JSON's numbers and
/// the mismatch warning when there is one.
#[test]
fn ab_html_and_markdown_reports_render_and_match_the_json() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["continuous_cuped", "srm_mismatch"] {
        let case = golden["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let table = write_case(dir.path(), case);
        let html = dir.path().join(format!("reports/{name}.html"));
        let md = dir.path().join(format!("reports/{name}.md"));
        let mut cmd = tenure();
        cmd.args(["ab", "--table"])
            .arg(&table)
            .args(["--treatment", "treatment", "--outcome", "outcome", "--json"])
            .arg("--html")
            .arg(&html)
            .arg("--markdown")
            .arg(&md);
        if !case["covariate"].is_null() {
            cmd.args(["--covariate", "covariate"]);
        }
        let json: Value = serde_json::from_slice(&run_ok(&mut cmd).stdout).unwrap();

        let charts = crate::report::render(&html);
        crate::report::assert_all_render(
            &charts,
            &["Mean outcome per arm", "Treatment effect", "Relative lift"],
        );
        assert_eq!(charts.len(), 3, "{name}");
        let page = std::fs::read_to_string(&html).unwrap();
        let markdown = std::fs::read_to_string(&md).unwrap();
        let effect = format!(
            "{:+.6} [{:+.6}, {:+.6}]",
            json["ate"]["estimate"].as_f64().unwrap(),
            json["ate"]["ci_low"].as_f64().unwrap(),
            json["ate"]["ci_high"].as_f64().unwrap()
        );
        // Markdown escapes the interval's brackets.
        let unescaped = markdown.replace('\\', "");
        for (what, text) in [("html", &page), ("markdown", &unescaped)] {
            assert!(text.contains(&effect), "{name} {what} lacks {effect}");
            assert_eq!(
                text.contains("WARNING: SAMPLE RATIO MISMATCH"),
                json["srm"]["mismatch"].as_bool().unwrap(),
                "{name} {what}"
            );
            assert_eq!(
                text.contains("CUPED effect"),
                !json["cuped"].is_null(),
                "{name} {what}"
            );
        }
        assert!(markdown.starts_with("# A/B test: "), "{markdown}");
        // The effect's dot sits inside its interval on the page.
        assert!(page.contains(&format!(
            "<title>difference: {} [{}, {}]</title>",
            json["ate"]["estimate"].as_f64().unwrap(),
            json["ate"]["ci_low"].as_f64().unwrap(),
            json["ate"]["ci_high"].as_f64().unwrap()
        )));
    }
}

#[test]
fn ab_reads_parquet_and_text_arms() {
    // The synthetic customers table: arms `control` / `treatment`, and age
    // as a (continuous) outcome.
    let table = synth_dir().join("customers.parquet");
    let out = run_ok(tenure().args(["ab", "--table"]).arg(&table).args([
        "--treatment",
        "campaign",
        "--outcome",
        "age",
        "--json",
    ]));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["treatment"]["label"], "treatment");
    assert_eq!(got["control"]["label"], "control");
    assert_eq!(got["outcome_kind"], "continuous");
    let n = got["treatment"]["n"].as_u64().unwrap() + got["control"]["n"].as_u64().unwrap();
    assert_eq!(n, 3000);
    // Age does not depend on the arm: no effect to speak of.
    assert!(got["ate"]["p"].as_f64().unwrap() > 0.001, "{got}");
}

/// Runs `tenure ab` on a CSV table; expects exit code 2 and returns stderr.
fn fails(csv: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("units.csv");
    std::fs::write(&table, csv).unwrap();
    let out = tenure()
        .args(["ab", "--table"])
        .arg(&table)
        .args(["--treatment", "arm", "--outcome", "y"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("units.csv"), "names the file: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn a_third_treatment_value_is_an_error_naming_column_and_row() {
    let err = fails("arm,y\n0,1.5\n1,2.0\n0,1.0\n2,3.0\n1,2.5\n", &[]);
    assert!(err.contains("column `arm`, row 4"), "{err}");
    assert!(err.contains("third value `2`"), "{err}");
}

#[test]
fn a_nan_or_missing_outcome_is_an_error_naming_column_and_row() {
    let err = fails("arm,y\n0,1.5\n1,NaN\n0,1.0\n1,2.5\n", &[]);
    assert!(err.contains("column `y`, row 2"), "{err}");
    let err = fails("arm,y\n0,1.5\n1,2.0\n0,\n1,2.5\n", &[]);
    assert!(err.contains("column `y`, row 3"), "{err}");
    let err = fails(
        "arm,y,pre\n0,1.5,1\n1,2.0,2\n0,1.0,NaN\n1,2.5,3\n",
        &["--covariate", "pre"],
    );
    assert!(err.contains("column `pre`, row 3"), "{err}");
}

#[test]
fn a_group_with_zero_rows_is_an_error() {
    let err = fails("arm,y\n1,1.5\n1,2.0\n1,1.0\n", &[]);
    assert!(err.contains("column `arm` holds only `1`"), "{err}");
    assert!(err.contains("the control group has no rows"), "{err}");
    let err = fails("arm,y\nA,1.5\nB,2.0\n", &["--treated", "T"]);
    assert!(err.contains("treatment (`T`) group has no rows"), "{err}");
}

#[test]
fn unknown_arm_names_ask_which_is_treated() {
    let csv = "arm,y\nblue,1.5\ngreen,2.0\nblue,1.0\ngreen,2.5\n";
    let err = fails(csv, &[]);
    assert!(err.contains("`blue`, `green`"), "{err}");
    assert!(err.contains("--treated"), "{err}");
    // Naming it is enough.
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("units.csv");
    std::fs::write(&table, csv).unwrap();
    let out = run_ok(tenure().args(["ab", "--table"]).arg(&table).args([
        "--treatment",
        "arm",
        "--outcome",
        "y",
        "--treated",
        "green",
        "--json",
    ]));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["ate"]["estimate"].as_f64().unwrap(), 1.0);
}

#[test]
fn a_missing_column_lists_the_available_ones() {
    let err = fails("arm,outcome\n0,1\n1,2\n", &[]);
    assert!(err.contains("missing column `y`"), "{err}");
    assert!(err.contains("arm, outcome"), "{err}");
}

#[test]
fn options_out_of_range_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("units.csv");
    std::fs::write(&table, "arm,y\n0,1\n1,2\n0,1.5\n1,2.5\n").unwrap();
    for (flag, value) in [
        ("--expected-split", "1.2"),
        ("--alpha", "0"),
        ("--power", "1"),
    ] {
        let out = tenure()
            .args(["ab", "--table"])
            .arg(&table)
            .args(["--treatment", "arm", "--outcome", "y", flag, value])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("{flag} {value}")), "{stderr}");
    }
}
