//! The run report as a user opens it: `report.html` in headless Chromium,
//! every plot laid out with a non-zero size and marks drawn inside it; the
//! Markdown and JSON versions beside it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{run_ok, synth_dir, tenure, write_experiment};

/// Measures every chart after layout and writes the result into the page,
/// which `--dump-dom` then prints.
const PROBE: &str = r#"<script>
(function () {
  var charts = [];
  document.querySelectorAll('figure.chart > svg').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var marks = 0;
    svg.querySelectorAll('path, rect, circle').forEach(function (el) {
      if (el.closest('defs')) { return; }
      var b = el.getBBox();
      if (b.width > 0 || b.height > 0) { marks += 1; }
    });
    var section = svg.closest('section');
    var heading = section ? section.querySelector('h2') : null;
    charts.push({
      title: heading ? heading.textContent : '',
      width: box.width,
      height: box.height,
      marks: marks,
      no_data: svg.textContent.indexOf('no data') >= 0
    });
  });
  var pre = document.createElement('pre');
  pre.id = 'tenure-probe';
  pre.textContent = JSON.stringify(charts);
  document.body.appendChild(pre);
})();
</script>"#;

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("TENURE_CHROMIUM") {
        return PathBuf::from(p);
    }
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "headless Chromium is needed to check that the report's plots render, and none was \
         found (looked at /usr/bin/chromium and /usr/bin/chromium-browser; TENURE_CHROMIUM \
         overrides): install Debian's `chromium` package, e.g. with \
         `source scripts/testenv/setup.sh`, which installs scripts/testenv/apt-packages.txt"
    );
}

#[derive(Debug)]
pub struct Chart {
    pub title: String,
    width: f64,
    height: f64,
    marks: u64,
    no_data: bool,
}

/// Opens a copy of `report` with [`PROBE`] in headless Chromium and returns
/// what it measured of each chart.
pub fn render(report: &Path) -> Vec<Chart> {
    let html = std::fs::read_to_string(report).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let probed = html.replacen("</body>", &format!("{PROBE}\n</body>"), 1);
    assert_ne!(probed, html, "the report has a </body>");
    std::fs::File::create(&page)
        .unwrap()
        .write_all(probed.as_bytes())
        .unwrap();
    let profile = dir.path().join("profile");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"tenure-probe\">").unwrap_or_else(|| {
        panic!(
            "chromium printed no probe result ({:?}); stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let body = &dom[start + "<pre id=\"tenure-probe\">".len()..];
    let body = &body[..body.find("</pre>").unwrap()];
    let json = body
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let charts: Vec<Value> = serde_json::from_str(&json).expect("probe JSON");
    let expected = html.matches("<figure class=\"chart\">").count();
    assert_eq!(
        charts.len(),
        expected,
        "every chart of the file is in the DOM"
    );
    charts
        .iter()
        .map(|c| Chart {
            title: c["title"].as_str().unwrap_or_default().to_string(),
            width: c["width"].as_f64().unwrap(),
            height: c["height"].as_f64().unwrap(),
            marks: c["marks"].as_u64().unwrap(),
            no_data: c["no_data"].as_bool().unwrap(),
        })
        .collect()
}

/// Every chart laid out at a visible size with data drawn in it.
pub fn assert_all_render(charts: &[Chart], needed: &[&str]) {
    for c in charts {
        assert!(
            c.width >= 200.0 && c.height >= 100.0,
            "chart `{}` is laid out at {} x {}",
            c.title,
            c.width,
            c.height
        );
        assert!(!c.no_data, "chart `{}` says no data", c.title);
        // Frame, plot background and at least one data mark.
        assert!(c.marks >= 3, "chart `{}` draws {} marks", c.title, c.marks);
    }
    for n in needed {
        assert!(
            charts.iter().any(|c| c.title.contains(n)),
            "no chart titled `{n}` among {:?}",
            charts.iter().map(|c| &c.title).collect::<Vec<_>>()
        );
    }
}

fn artifacts(run: &Value) -> PathBuf {
    PathBuf::from(run["report"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn churn_report_with_calibration_renders_every_plot_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "calibrated");
    let mut f = std::fs::OpenOptions::new().append(true).open(&exp).unwrap();
    writeln!(
        f,
        "\n[calibration]\nmethod = \"isotonic\"\nbins = 10\ncost_fp = 5\nvalue_tp = 40\ntop_k_percent = [5, 10, 20]"
    )
    .unwrap();
    let out = run_ok(tenure().arg("run").arg(&exp).arg("--json"));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &run["models"][0]["calibration"];
    assert_eq!(summary["method"], "isotonic", "{summary}");
    assert_eq!(summary["calibrator"]["method"], "isotonic", "{summary}");
    assert!(summary["ece_after"].as_f64().unwrap() >= 0.0);

    let charts = render(Path::new(run["report"].as_str().unwrap()));
    assert_all_render(
        &charts,
        &[
            "ROC curve",
            "reliability diagram",
            "histogram of predicted probabilities",
            "Profit curve",
        ],
    );

    let dir = artifacts(&run);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.starts_with("# tenure · calibrated"), "{md}");
    assert!(md.contains("| ECE (equal width) |"), "{md}");
    assert!(md.contains("## Profit on the test cutoff"), "{md}");
    let cal: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("calibration.json")).unwrap())
            .unwrap();
    assert_eq!(cal["settings"]["method"], "isotonic");
    assert_eq!(cal["settings"]["cost_fp"], 5.0);
    let model = &cal["models"][0];
    assert_eq!(model["name"], "logreg");
    let binary = &model["binary"];
    let iso = &binary["calibrator"];
    let (x, y) = (iso["x"].as_array().unwrap(), iso["y"].as_array().unwrap());
    assert!(!x.is_empty() && x.len() == y.len());
    for key in [
        "ece_equal_width",
        "ece_equal_mass",
        "mce_equal_mass",
        "log_loss",
        "slope",
    ] {
        assert!(binary["before"][key].is_f64(), "{key} in {binary}");
        assert!(binary["after"][key].is_f64(), "{key} in {binary}");
    }
    assert!(binary["after"]["brier"]["reliability"].is_f64());
    assert!(binary["before"]["hosmer_lemeshow"]["p_value"].is_f64());
    assert_eq!(binary["top_k"].as_array().unwrap().len(), 3);
    assert!((binary["decision"]["bayes_threshold"].as_f64().unwrap() - 5.0 / 45.0).abs() < 1e-12);
    assert!(model["fitted_on_rows"].as_u64().unwrap() > 1000);
}

#[test]
fn survival_report_renders_its_calibration_plot_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = synth_dir();
    let path = dir.path().join("survival.toml");
    std::fs::write(
        &path,
        format!(
            r#"
name = "survival-report"
[data.transactions]
path = "{tx}"
[data.customers]
path = "{cu}"
signup = "signup_date"
end = "cancel_date"
categorical = ["plan"]
[labels]
task = "survival"
horizon_days = 120
survival_event = "cancel"
[cv]
cutoffs = ["2022-07-01", "2022-11-01", "2023-03-01"]
folds = 2
test_cutoff = "2023-07-01"
[evaluation]
survival_times_days = [30, 60, 90, 120]
[calibration]
method = "platt"
[[models]]
name = "km"
kind = "kaplan_meier"
[[models]]
name = "cox"
kind = "cox"
[tracking]
uri = "{store}"
"#,
            tx = data.join("transactions.parquet").display(),
            cu = data.join("customers.parquet").display(),
            store = dir.path().join("store").display(),
        ),
    )
    .unwrap();
    let out = run_ok(tenure().arg("run").arg(&path).arg("--json"));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cox = &run["models"][1];
    for metric in [
        "ibs",
        "td_auc",
        "brier_horizon",
        "ece_horizon",
        "c_index",
        "uno_c",
    ] {
        assert!(cox["metrics"][metric]["test"].is_f64(), "{metric}: {cox}");
        assert_eq!(cox["metrics"][metric]["folds"].as_array().unwrap().len(), 2);
    }
    assert_eq!(cox["calibration"]["horizon_days"], 120.0, "{cox}");
    // Kaplan-Meier ranks no one: a time-dependent AUC of exactly one half,
    // which the covariates of the Cox model beat.
    let km = &run["models"][0]["metrics"];
    assert_eq!(km["td_auc"]["test"].as_f64(), Some(0.5), "{km}");
    let cox_auc = cox["metrics"]["td_auc"]["test"].as_f64().unwrap();
    assert!(cox_auc > 0.5, "cox td_auc {cox_auc}");
    let ibs = cox["metrics"]["ibs"]["test"].as_f64().unwrap();
    assert!(ibs > 0.0 && ibs < 0.25, "ibs {ibs}");
    let charts = render(Path::new(run["report"].as_str().unwrap()));
    assert_all_render(&charts, &["Survival calibration at 120 days"]);
    let cal: Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts(&run).join("calibration.json")).unwrap(),
    )
    .unwrap();
    let horizons = cal["models"][1]["survival"].as_array().unwrap();
    let days: Vec<f64> = horizons
        .iter()
        .map(|h| h["days"].as_f64().unwrap())
        .collect();
    assert_eq!(days, [30.0, 60.0, 90.0, 120.0]);
    assert_eq!(horizons[3]["calibrator"]["method"], "platt");
}

#[test]
fn uplift_report_renders_its_plots_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "uplift-report");
    let mut f = std::fs::OpenOptions::new().append(true).open(&exp).unwrap();
    writeln!(
        f,
        "\n[uplift]\ntreatment = \"campaign\"\ncutoff = \"2023-07-01\"\ntruth = {{ path = \"{}\" }}",
        synth_dir().join("truth.parquet").display()
    )
    .unwrap();
    let out = run_ok(tenure().arg("run").arg(&exp).arg("--json"));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["uplift"]["learners"].as_array().unwrap().len(), 3);

    let charts = render(Path::new(run["report"].as_str().unwrap()));
    assert_all_render(
        &charts,
        &["Qini curve", "Observed uplift by decile", "Policy value"],
    );
    let dir = artifacts(&run);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("Uplift models on the held-out customers"),
        "{md}"
    );
    let uplift: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("uplift.json")).unwrap()).unwrap();
    assert_eq!(uplift["oracle"]["name"], "true effect");
}
