//! Pathological data through the whole binary (issue 12, hardening): every
//! case ends in a clear error (exit 2, one `error:` line naming the file,
//! column or key and what was expected) or in correct, finite results —
//! never a panic, a NaN metric or a silently wrong model.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::tenure;

/// One transaction: customer id, day since 1970-01-01, amount.
type Row = (String, i64, f64);

/// `2020-01-01` as days since the epoch.
const BASE_DAY: i64 = 18_262;

/// SplitMix64: a deterministic stream without a dev-dependency.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

/// A small log over 2020–2021 where customers buy at their own pace and some
/// stop early, so that churn labels have both classes at every cutoff.
fn base_log(customers: usize) -> Vec<Row> {
    let mut rng = Mix(12);
    let mut rows = Vec::new();
    for c in 0..customers {
        let id = format!("c{c:04}");
        let start = rng.below(200);
        let end = (start + 60 + rng.below(700)).min(729);
        let gap = 5 + rng.below(40);
        let mut day = start;
        while day <= end {
            rows.push((id.clone(), BASE_DAY + day, 5.0 + rng.below(95) as f64));
            day += 1 + gap / 2 + rng.below(gap as u64);
        }
    }
    rows
}

/// Cutoffs (days after 2020-01-01) of [`experiment`]: three CV cutoffs and
/// a test cutoff, with 60-day label windows inside the two years.
const CUTOFFS: [i64; 4] = [366, 426, 486, 546];

/// `YYYY-MM-DD` of a day since the epoch (proleptic Gregorian, any sign:
/// H. Hinnant's `civil_from_days`).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn write_csv(path: &Path, rows: &[Row]) {
    let mut text = String::from("customer_id,date,amount\n");
    for (id, day, amount) in rows {
        text.push_str(&format!("{id},{},{amount}\n", civil(*day)));
    }
    std::fs::write(path, text).unwrap();
}

/// A churn experiment over `tx.csv` in `dir`, its cutoffs shifted by
/// `shift` days (the log is shifted by the caller).
fn experiment(dir: &Path, shift: i64, models: &str) -> PathBuf {
    let date = |d: i64| format!("\"{}\"", civil(BASE_DAY + d + shift));
    let text = format!(
        "name = \"pathological\"\nseed = 3\n\n\
         [data.transactions]\npath = \"tx.csv\"\ntimestamp = \"date\"\n\n\
         [labels]\ntask = \"churn\"\nhorizon_days = 60\nchurn = \"inactivity\"\n\n\
         [cv]\ncutoffs = [{}, {}, {}]\nfolds = 2\ntest_cutoff = {}\n\n\
         {models}\n[tracking]\nuri = \"store\"\n",
        date(CUTOFFS[0]),
        date(CUTOFFS[1]),
        date(CUTOFFS[2]),
        date(CUTOFFS[3]),
    );
    let path = dir.join("exp.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const LOGISTIC: &str = "[[models]]\nname = \"logreg\"\nkind = \"logistic\"\n";
const BOTH: &str = "[[models]]\nname = \"logreg\"\nkind = \"logistic\"\n\n\
                    [[models]]\nname = \"gbdt\"\nkind = \"gbdt\"\nparams = { num_iterations = 20 }\n";

fn run_json(dir: &Path, config: &Path) -> Output {
    tenure()
        .args(["run", "--json", "--quiet"])
        .arg(config)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs the experiment of `rows` and returns its JSON summary, checking
/// that it succeeded and that every metric is a finite number.
fn run_ok(rows: &[Row], shift: i64, models: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("tx.csv"), rows);
    let config = experiment(dir.path(), shift, models);
    let out = run_json(dir.path(), &config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tenure run failed: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_finite_metrics(&json);
    json
}

fn assert_finite_metrics(json: &Value) {
    let models = json["models"].as_array().unwrap();
    assert!(!models.is_empty());
    for m in models {
        let metrics = m["metrics"].as_object().unwrap();
        assert!(metrics.contains_key("auc"), "{m}");
        for (name, s) in metrics {
            // json_summary writes non-finite values as null.
            for v in s["folds"].as_array().unwrap().iter().chain([&s["test"]]) {
                assert!(v.is_f64(), "{} {name}: {v} in {s}", m["name"]);
            }
        }
    }
}

/// The metrics of every model, without run ids, timings or paths.
fn metrics(json: &Value) -> Vec<(String, Value)> {
    json["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["metrics"].clone(),
            )
        })
        .collect()
}

/// Expects exit 2 with exactly one `error:` line and no panic; returns it.
fn fails(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    stderr
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "`{n}` not in: {text}");
    }
}

fn run_fails(rows: &[Row], models: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("tx.csv"), rows);
    let config = experiment(dir.path(), 0, models);
    fails(&run_json(dir.path(), &config))
}

#[test]
fn the_base_log_runs_with_finite_metrics() {
    // The harness the cases below perturb: it must work as it is.
    let json = run_ok(&base_log(400), 0, BOTH);
    assert_eq!(json["customers"], 400);
}

#[test]
fn all_zero_labels_are_an_error_naming_the_fold() {
    // Every customer buys every 10 days to the end: nobody churns.
    let rows: Vec<Row> = (0..50)
        .flat_map(|c| (0..73).map(move |k| (format!("c{c}"), BASE_DAY + k * 10 + c % 10, 10.0)))
        .collect();
    let err = run_fails(&rows, LOGISTIC);
    assert_mentions(&err, &["label", "0", "churn"]);
}

#[test]
fn a_single_customer_is_an_error_not_a_model() {
    // The customer who buys longest, so that the log still covers every
    // label window: the only fault left is being alone.
    let log = base_log(400);
    let (last, _, _) = log.iter().max_by_key(|(_, day, _)| *day).unwrap().clone();
    let rows: Vec<Row> = log.into_iter().filter(|(id, _, _)| *id == last).collect();
    assert!(rows.len() > 5);
    let err = run_fails(&rows, LOGISTIC);
    assert_mentions(&err, &["1 customer"]);
}

#[test]
fn huge_amounts_are_refused_at_the_row_that_has_them() {
    let mut rows = base_log(100);
    rows[7].2 = 1e308;
    let err = run_fails(&rows, LOGISTIC);
    assert_mentions(&err, &["tx.csv", "`amount`", "row 8", "1e308"]);
    // Two amounts that are finite alone but overflow when summed.
    let mut rows = base_log(100);
    rows[0].2 = 1.7e308;
    rows[1].2 = 1.7e308;
    let err = run_fails(&rows, LOGISTIC);
    assert_mentions(&err, &["tx.csv", "`amount`", "row 1"]);
}

#[test]
fn dates_before_1970_and_after_2100_give_the_same_models() {
    // Features and labels depend on time differences only: shifting the
    // log and its cutoffs by whole days must not change a single metric.
    let rows = base_log(300);
    let shifted = |shift: i64| -> Vec<Row> {
        rows.iter()
            .map(|(id, day, amount)| (id.clone(), day + shift, *amount))
            .collect()
    };
    let reference = metrics(&run_ok(&rows, 0, BOTH));
    // 1969-01-…: the log straddles the epoch (negative timestamps).
    let before = -(BASE_DAY + 365);
    assert!(civil(BASE_DAY + before).starts_with("1969-"));
    assert_eq!(metrics(&run_ok(&shifted(before), before, BOTH)), reference);
    // 2131-…: past 2100 (and past 2038's 32-bit limit).
    let after = 40_000;
    assert!(civil(BASE_DAY + after).as_str() > "2100");
    assert_eq!(metrics(&run_ok(&shifted(after), after, BOTH)), reference);
}

#[test]
fn unicode_customer_ids_are_ids_like_any_other() {
    let rows = base_log(300);
    let renamed: Vec<Row> = rows
        .iter()
        .map(|(id, day, amount)| (format!("客户-é-{id}-🦀"), *day, *amount))
        .collect();
    // Renaming keeps the id order (a common prefix), so the models agree.
    assert_eq!(
        metrics(&run_ok(&renamed, 0, BOTH)),
        metrics(&run_ok(&rows, 0, BOTH))
    );
}

#[test]
fn an_empty_customer_id_names_its_row() {
    let mut rows = base_log(50);
    rows[4].0 = String::new();
    let err = run_fails(&rows, LOGISTIC);
    assert_mentions(&err, &["tx.csv", "`customer_id`", "row 5", "customer id"]);
}

#[test]
fn duplicated_rows_count_as_purchases_and_keep_the_labels() {
    let rows = base_log(300);
    let doubled: Vec<Row> = rows.iter().flat_map(|r| [r.clone(), r.clone()]).collect();
    let a = run_ok(&rows, 0, LOGISTIC);
    let b = run_ok(&doubled, 0, LOGISTIC);
    // Same customers, same label windows: the split is identical…
    assert_eq!(a["split"], b["split"]);
    assert_eq!(a["customers"], b["customers"]);
    assert_eq!(b["events"].as_u64(), a["events"].as_u64().map(|n| 2 * n));
}

#[test]
fn out_of_order_events_give_the_same_run_as_sorted_ones() {
    let rows = base_log(300);
    let mut shuffled = rows.clone();
    let mut rng = Mix(99);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    assert_ne!(shuffled, rows);
    assert_eq!(
        metrics(&run_ok(&shuffled, 0, BOTH)),
        metrics(&run_ok(&rows, 0, BOTH))
    );
}

/// A ready table for `tenure fit`: `n` rows, a 0/1 `churned` label that
/// depends on `x0`, and the given extra columns.
fn fit_table(dir: &Path, n: usize, extra: &[(&str, &dyn Fn(usize) -> f64)]) -> PathBuf {
    let mut rng = Mix(5);
    let mut text = String::from("x0");
    for (name, _) in extra {
        text.push(',');
        text.push_str(name);
    }
    text.push_str(",churned\n");
    for i in 0..n {
        let x0 = rng.below(1000) as f64 / 100.0;
        let noise = rng.below(400) as f64 / 100.0;
        let y = u8::from(x0 + noise > 7.0);
        text.push_str(&format!("{x0}"));
        for (_, f) in extra {
            text.push_str(&format!(",{}", f(i)));
        }
        text.push_str(&format!(",{y}\n"));
    }
    let path = dir.join("table.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn fit(args: &[&str], table: &Path) -> Output {
    tenure()
        .arg("fit")
        .arg(table)
        .args(args)
        .arg("--json")
        .output()
        .unwrap()
}

fn fit_ok(args: &[&str], table: &Path) -> Value {
    let out = fit(args, table);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every number anywhere in `v` is finite (serde_json has no NaN: a
/// non-finite value would be null, or the output would not parse).
fn all_numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        Value::Array(a) => a.iter().for_each(|x| all_numbers(x, out)),
        Value::Object(o) => o.values().for_each(|x| all_numbers(x, out)),
        _ => {}
    }
}

#[test]
fn a_constant_feature_gets_a_zero_coefficient() {
    let dir = tempfile::tempdir().unwrap();
    let table = fit_table(dir.path(), 500, &[("flat", &|_| 3.5)]);
    let json = fit_ok(&["--model", "logistic", "--target", "churned"], &table);
    let coef = &json["coef"];
    assert_eq!(coef["flat"].as_f64(), Some(0.0), "{json}");
    assert!(coef["x0"].as_f64().unwrap() > 0.5, "{json}");
    assert!(json["train"]["auc"].as_f64().unwrap() > 0.8, "{json}");
    let mut numbers = Vec::new();
    all_numbers(&json, &mut numbers);
    assert!(numbers.iter().all(|v| v.is_finite()));
    // gbdt never splits on it.
    let json = fit_ok(
        &[
            "--model",
            "gbdt",
            "--task",
            "binary",
            "--target",
            "churned",
            "--param",
            "num_iterations=10",
        ],
        &table,
    );
    let gain = &json["feature_importance_gain"];
    assert!(gain["x0"].as_f64().unwrap() > 0.0, "{json}");
    assert_eq!(gain["flat"].as_f64().unwrap_or(0.0), 0.0, "{json}");
}

#[test]
fn ten_thousand_features_fit() {
    let dir = tempfile::tempdir().unwrap();
    let cols: Vec<String> = (1..10_000).map(|j| format!("f{j}")).collect();
    let fns: Vec<Box<dyn Fn(usize) -> f64>> = (1..10_000usize)
        .map(|j| Box::new(move |i: usize| ((i * 7919 + j * 104_729) % 1000) as f64) as Box<_>)
        .collect();
    let extra: Vec<(&str, &dyn Fn(usize) -> f64)> = cols
        .iter()
        .zip(&fns)
        .map(|(c, f)| (c.as_str(), f.as_ref()))
        .collect();
    let table = fit_table(dir.path(), 300, &extra);
    let json = fit_ok(
        &[
            "--model",
            "gbdt",
            "--task",
            "binary",
            "--target",
            "churned",
            "--param",
            "num_iterations=5",
        ],
        &table,
    );
    assert_eq!(json["features"], 10_000);
    let mut numbers = Vec::new();
    all_numbers(&json, &mut numbers);
    assert!(numbers.iter().all(|v| v.is_finite()));
    // x0 carries the label: the first tree splits on it.
    let gain = json["feature_importance_gain"].as_object().unwrap();
    let best = gain
        .iter()
        .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap();
    assert_eq!(best.0, "x0");
}

/// Output into a pipe whose reader has gone (`tenure … | head -c 1`) ends
/// the process as SIGPIPE does, the Unix way, not in a panic with a
/// backtrace ("failed printing to stdout: Broken pipe").
#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    // 6,000 feature columns: the JSON's importances pass a pipe's 64 KiB,
    // so writing it meets the closed pipe whatever the timing.
    let f = 6_000;
    let mut csv: Vec<String> = vec![(0..f).map(|j| format!("f{j},")).collect::<String>() + "y"];
    for i in 0..40 {
        let row: String = (0..f).map(|j| format!("{},", (i * 7 + j) % 11)).collect();
        csv.push(format!("{row}{}", i % 2));
    }
    let table = dir.path().join("wide.csv");
    std::fs::write(&table, csv.join("\n") + "\n").unwrap();
    let mut child = tenure()
        .args([
            "fit", "--model", "gbdt", "--task", "binary", "--target", "y",
        ])
        .args([
            "--param",
            "num_iterations=1",
            "--param",
            "min_data_in_leaf=5",
            "--json",
        ])
        .arg(&table)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{status:?}: {err}");
    assert_eq!(status.signal(), Some(13), "{status:?}: {err}");
}
