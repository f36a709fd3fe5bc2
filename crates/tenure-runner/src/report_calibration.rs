//! The calibration and decision sections of the run report.

use tenure_calibration::{Measures, ReliabilityBin};
use tenure_core::Calibrator;
use tenure_report::{Band, BarChart, Bars, HtmlReport, LineChart, Series};

use crate::RunOutcome;
use crate::calibrate::{BinaryCalibration, ModelCalibration};

pub fn calibration_sections(r: &mut HtmlReport, out: &RunOutcome) {
    let calibrated: Vec<(&str, &ModelCalibration)> = out
        .models
        .iter()
        .filter_map(|m| Some((m.name.as_str(), m.calibration.as_ref()?)))
        .collect();
    if calibrated.is_empty() {
        return;
    }
    for (name, c) in &calibrated {
        if let Some(e) = &c.error {
            r.paragraph(format!("Calibration of `{name}` failed: {e}"));
        }
    }
    let binary: Vec<(&str, &ModelCalibration, &BinaryCalibration)> = calibrated
        .iter()
        .filter_map(|&(n, c)| Some((n, c, c.binary.as_ref()?)))
        .collect();
    for &(name, c, b) in &binary {
        binary_model(r, name, c, b);
    }
    if !binary.is_empty() {
        top_k_table(r, &binary);
        decisions(r, &binary);
    }
    let survival: Vec<(&str, &ModelCalibration)> = calibrated
        .iter()
        .copied()
        .filter(|(_, c)| !c.survival.is_empty())
        .collect();
    if !survival.is_empty() {
        survival_table(r, &survival);
    }
}

fn describe(c: Option<&Calibrator>) -> String {
    match c {
        None => "none (the model's own probabilities)".into(),
        Some(Calibrator::Platt { a, b }) => {
            let sign = if *b < 0.0 { '-' } else { '+' };
            format!("Platt: sigmoid({a:.4} * logit(p) {sign} {:.4})", b.abs())
        }
        Some(Calibrator::Temperature { t }) => format!("temperature: sigmoid(logit(p) / {t:.4})"),
        Some(Calibrator::Isotonic { x, .. }) => {
            format!("isotonic: piecewise linear through {} points", x.len())
        }
    }
}

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

fn measure_rows(before: &Measures, after: &Measures) -> Vec<Vec<String>> {
    let row = |name: &str, f: &dyn Fn(&Measures) -> f64| {
        vec![name.to_string(), f4(f(before)), f4(f(after))]
    };
    vec![
        row("ECE (equal width)", &|m| m.ece_equal_width),
        row("MCE (equal width)", &|m| m.mce_equal_width),
        row("ECE (equal mass)", &|m| m.ece_equal_mass),
        row("MCE (equal mass)", &|m| m.mce_equal_mass),
        row("Brier score", &|m| m.brier.brier),
        row("  reliability", &|m| m.brier.reliability),
        row("  resolution", &|m| m.brier.resolution),
        row("  uncertainty", &|m| m.brier.uncertainty),
        row("  within bins", &|m| m.brier.within_bin),
        row("log loss", &|m| m.log_loss),
        row("calibration slope", &|m| m.slope),
        row("calibration intercept", &|m| m.intercept),
        row("Hosmer-Lemeshow statistic", &|m| {
            m.hosmer_lemeshow.statistic
        }),
        row("Hosmer-Lemeshow p-value", &|m| m.hosmer_lemeshow.p_value),
        row("mean predicted", &|m| m.mean_predicted),
        row("observed rate", &|m| m.base_rate),
    ]
}

/// A reliability diagram's line and its 95% band.
fn diagram(name: &str, bins: &[ReliabilityBin]) -> (Series, Band) {
    (
        Series::new(
            name,
            bins.iter()
                .map(|b| (b.mean_predicted, b.observed))
                .collect(),
        ),
        Band::new(
            format!("{name}: 95% interval"),
            bins.iter()
                .map(|b| (b.mean_predicted, b.observed_low, b.observed_high))
                .collect(),
        ),
    )
}

fn binary_model(r: &mut HtmlReport, name: &str, c: &ModelCalibration, b: &BinaryCalibration) {
    r.key_values(
        &format!("Calibration of {name}"),
        &[
            ("method".into(), c.method.as_str().into()),
            ("calibrator".into(), describe(b.calibrator.as_ref())),
            (
                "fitted on".into(),
                format!(
                    "{} out-of-fold rows (the validation folds)",
                    c.fitted_on_rows
                ),
            ),
            (
                "measured on".into(),
                format!("{} rows of the test cutoff", c.test_rows),
            ),
        ],
    );
    r.table(
        &format!("{name}: calibration on the test cutoff ({} bins)", c.bins),
        &["measure".into(), "before".into(), "after".into()],
        &measure_rows(&b.before, &b.after),
    );
    let (before, before_band) = diagram("before calibration", &b.reliability_before);
    let (after, after_band) = diagram("after calibration", &b.reliability_after);
    let mut chart = LineChart::new("mean predicted probability", "observed churn rate");
    chart.diagonal = true;
    chart.x_range = Some((0.0, 1.0));
    chart.y_range = Some((0.0, 1.0));
    chart.series = vec![before, after];
    r.line_chart_with_bands(
        &format!("{name}: reliability diagram (test cutoff), with 95% Wilson intervals"),
        &chart,
        &[before_band, after_band],
    );
    let bars = |h: &[(f64, f64, usize)]| -> Vec<(f64, f64, f64)> {
        h.iter().map(|&(lo, hi, n)| (lo, hi, n as f64)).collect()
    };
    r.bar_chart(
        &format!("{name}: histogram of predicted probabilities (test cutoff)"),
        &BarChart {
            x_label: "predicted probability".into(),
            y_label: "customers".into(),
            series: vec![
                Bars::new("before calibration", bars(&b.histogram_before)),
                Bars::new("after calibration", bars(&b.histogram_after)),
            ],
            x_range: Some((0.0, 1.0)),
        },
    );
}

fn top_k_table(r: &mut HtmlReport, models: &[(&str, &ModelCalibration, &BinaryCalibration)]) {
    let mut rows = Vec::new();
    for &(name, _, b) in models {
        for t in &b.top_k {
            rows.push(vec![
                name.to_string(),
                format!("{}%", t.percent),
                t.targeted.to_string(),
                f4(t.precision),
                f4(t.recall),
                format!("{:.2}", t.lift),
            ]);
        }
    }
    r.table(
        "Precision and recall among the customers ranked highest (test cutoff)",
        &["model", "top", "customers", "precision", "recall", "lift"].map(String::from),
        &rows,
    );
}

fn decisions(r: &mut HtmlReport, models: &[(&str, &ModelCalibration, &BinaryCalibration)]) {
    let with: Vec<_> = models
        .iter()
        .filter_map(|&(n, _, b)| Some((n, b.decision.as_ref()?)))
        .collect();
    let Some((_, first)) = with.first() else {
        return;
    };
    r.paragraph(format!(
        "Decision: targeting a customer who would have churned is worth {}, one who would \
         have stayed costs {}; on calibrated probabilities targeting pays above {:.4}. The \
         threshold is chosen on the out-of-fold predictions and applied to the test cutoff.",
        first.value_tp, first.cost_fp, first.bayes_threshold
    ));
    let point = |p: Option<&tenure_calibration::ProfitPoint>| match p {
        Some(p) => (
            f4(p.threshold),
            p.targeted.to_string(),
            format!("{:.2}", p.profit),
        ),
        None => ("—".into(), "0".into(), "0.00".into()),
    };
    let mut rows = Vec::new();
    for (name, d) in &with {
        for (what, p) in [
            ("chosen out of fold", d.test_at_chosen.as_ref()),
            ("Bayes threshold", Some(&d.test_at_bayes)),
            ("target everyone", Some(&d.test_target_everyone)),
            ("best in hindsight", d.test_best.as_ref()),
        ] {
            let (t, n, profit) = point(p);
            rows.push(vec![name.to_string(), what.into(), t, n, profit]);
        }
    }
    r.table(
        "Profit on the test cutoff (calibrated probabilities)",
        &["model", "threshold", "value", "targeted", "profit"].map(String::from),
        &rows,
    );
    let series = with
        .iter()
        .map(|(name, d)| {
            let mut points = vec![(0.0, 0.0)];
            points.extend(d.curve.iter().map(|p| (p.fraction, p.profit)));
            Series::new(*name, points)
        })
        .collect();
    crate::report::chart(
        r,
        "Profit curve on the test cutoff: profit of targeting the customers most likely to churn",
        "share of customers targeted",
        "profit",
        series,
        None,
    );
}

fn survival_table(r: &mut HtmlReport, models: &[(&str, &ModelCalibration)]) {
    let mut rows = Vec::new();
    for (name, c) in models {
        for h in &c.survival {
            let opt = |v: Option<f64>| v.map_or("—".into(), f4);
            rows.push(vec![
                name.to_string(),
                format!("{}", h.days),
                describe(h.calibrator.as_ref()),
                f4(h.ece_before),
                f4(h.ece_after),
                opt(h.brier_before),
                opt(h.brier_after),
            ]);
        }
    }
    r.table(
        "Survival calibration on the test cutoff: 1 - S(t | x) against Kaplan-Meier per decile, \
         calibrators fitted out of fold",
        &[
            "model",
            "days",
            "calibrator",
            "ECE before",
            "ECE after",
            "Brier before",
            "Brier after",
        ]
        .map(String::from),
        &rows,
    );
}
