//! The run's HTML report: what was run, how the data was split, how every
//! model scored, and the curves behind the numbers.

use tenure_core::{Target, Task};
use tenure_report::{HtmlReport, LineChart, Series};

use crate::output::label_name;
use crate::{Experiment, RunOutcome};

/// The run's report; `render()` gives the HTML page, `render_markdown()`
/// the Markdown version.
pub fn build(exp: &Experiment, out: &RunOutcome, feature_names: &[String]) -> HtmlReport {
    let mut r = HtmlReport::new(format!("tenure · {}", out.experiment));
    if let Some(d) = &exp.file.description {
        r.paragraph(d.clone());
    }
    r.key_values(
        "Run",
        &[
            ("experiment".into(), out.experiment.clone()),
            ("run id".into(), out.run_id.clone()),
            ("task".into(), out.task.to_string()),
            (
                "horizon".into(),
                format!("{} days", exp.file.labels.horizon_days),
            ),
            ("customers".into(), out.n_customers.to_string()),
            ("events".into(), out.n_events.to_string()),
            ("features".into(), feature_names.len().to_string()),
            ("device".into(), out.device.clone()),
            ("config".into(), exp.path.display().to_string()),
        ],
    );

    let header: Vec<String> = [
        "fold",
        "train cutoffs",
        "train rows",
        "valid cutoff",
        "valid rows",
        label_name(out.task),
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = out
        .split
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                match (f.train_cutoffs.first(), f.train_cutoffs.last()) {
                    (Some(a), Some(b)) if a != b => {
                        format!("{a} … {b} ({} snapshots)", f.train_cutoffs.len())
                    }
                    (Some(a), _) => a.clone(),
                    _ => "—".into(),
                },
                f.train_rows.to_string(),
                f.valid_cutoff.clone(),
                f.valid_rows.to_string(),
                format!("{:.4}", f.valid_label_mean),
            ]
        })
        .collect();
    r.table("Time-split folds", &header, &rows);

    let mut header = vec!["model".to_string(), "metric".into(), "cv mean ± std".into()];
    let n_folds = out.split.iter().filter(|f| f.name != "test").count();
    header.extend((1..=n_folds).map(|i| format!("fold {i}")));
    header.push("test".into());
    let mut rows = Vec::new();
    for m in &out.models {
        for (metric, s) in &m.metrics {
            let mut row = vec![
                m.name.clone(),
                metric.clone(),
                format!("{:.4} ± {:.4}", s.mean, s.std),
            ];
            row.extend(s.folds.iter().map(|v| format!("{v:.4}")));
            row.push(format!("{:.4}", s.test));
            rows.push(row);
        }
    }
    r.table("Metrics", &header, &rows);

    match out.task {
        Task::Churn => {
            let roc = test_series(out, |y, p| {
                let roc = tenure_metrics::roc_curve(y, p).ok()?;
                Some(roc.fpr.into_iter().zip(roc.tpr).collect())
            });
            chart(
                &mut r,
                "ROC curve on the test cutoff",
                "false positive rate",
                "true positive rate",
                roc,
                Some((0.0, 1.0)),
            );
            let calibration = test_series(out, |y, p| {
                let rows = tenure_metrics::decile_chart(y, p).ok()?;
                Some(
                    rows.iter()
                        .map(|d| (d.mean_predicted, d.mean_actual))
                        .collect(),
                )
            });
            let top = calibration
                .iter()
                .flat_map(|s| s.points.iter().map(|&(x, y)| x.max(y)))
                .fold(0.0_f64, f64::max);
            let hi = (top * 1.1).clamp(0.05, 1.0);
            chart(
                &mut r,
                "Calibration on the test cutoff: observed churn rate by decile of predicted probability",
                "mean predicted probability",
                "observed churn rate",
                calibration,
                Some((0.0, hi)),
            );
        }
        Task::Clv => {
            let deciles = test_series(out, |y, p| {
                let rows = tenure_metrics::decile_chart(y, p).ok()?;
                Some(
                    rows.iter()
                        .map(|d| (d.decile as f64, d.mean_actual))
                        .collect(),
                )
            });
            chart(
                &mut r,
                "Mean actual spend by decile of predicted spend (test cutoff)",
                "decile of prediction",
                "mean actual spend",
                deciles,
                None,
            );
        }
        Task::Survival => survival_calibration(&mut r, out),
    }
    crate::report_calibration::calibration_sections(&mut r, out);
    if let Some(u) = &out.uplift {
        crate::uplift::report_section(&mut r, u);
    }
    r.paragraph(format!(
        "Features ({}): {}",
        feature_names.len(),
        feature_names.join(", ")
    ));
    r
}

/// Predicted against Kaplan–Meier-observed probability of an event by the
/// horizon, per decile of prediction on the test cutoff; calibrated models
/// also as they are after calibration.
fn survival_calibration(r: &mut HtmlReport, out: &RunOutcome) {
    let (Some(&days), Some(&t)) = (
        out.survival_times_days.last(),
        crate::pipeline::query_times(&out.survival_times_days).last(),
    ) else {
        return;
    };
    let mut series = Vec::new();
    for m in &out.models {
        let Some(test) = m.predictions.iter().find(|p| p.fold == "test") else {
            continue;
        };
        let (Target::Survival { time, event }, Some(s)) = (&test.target, &test.survival) else {
            continue;
        };
        let Some(last) = s.last() else { continue };
        let f: Vec<f64> = last.iter().map(|v| 1.0 - v).collect();
        let Ok(bins) = tenure_metrics::calibration_at_horizon(
            time,
            event,
            &f,
            t,
            tenure_metrics::HORIZON_CALIBRATION_BINS,
        ) else {
            continue;
        };
        series.push(Series::new(
            m.name.clone(),
            bins.iter()
                .map(|b| (b.mean_predicted, b.observed))
                .collect(),
        ));
        let calibrated = m
            .calibration
            .as_ref()
            .and_then(|c| c.survival.last())
            .filter(|h| h.calibrator.is_some());
        if let Some(h) = calibrated {
            series.push(Series::new(
                format!("{} (calibrated)", m.name),
                h.bins_after
                    .iter()
                    .map(|b| (b.mean_predicted, b.observed))
                    .collect(),
            ));
        }
    }
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(x, y)| x.max(y)))
        .fold(0.0_f64, f64::max);
    chart(
        r,
        &format!(
            "Survival calibration at {days} days (test cutoff): Kaplan-Meier observed against \
             predicted probability of an event, by decile of prediction"
        ),
        "predicted probability of an event (1 - S(t | x))",
        "observed (Kaplan-Meier)",
        series,
        Some((0.0, (top * 1.1).clamp(0.05, 1.0))),
    );
}

/// One series per model, from its test-fold labels and predictions (binary
/// or continuous labels as plain values); models whose points cannot be
/// computed are left out.
fn test_series(
    out: &RunOutcome,
    points: impl Fn(&[f64], &[f64]) -> Option<Vec<(f64, f64)>>,
) -> Vec<Series> {
    out.models
        .iter()
        .filter_map(|m| {
            let test = m.predictions.iter().find(|p| p.fold == "test")?;
            let (Target::Binary(y) | Target::Continuous(y)) = &test.target else {
                return None;
            };
            Some(Series {
                name: m.name.clone(),
                points: points(y, &test.prediction)?,
            })
        })
        .collect()
}

/// A line chart, when there is anything to draw; a range given for x is
/// used for y too (square charts: ROC, calibration), with the diagonal.
pub(crate) fn chart(
    r: &mut HtmlReport,
    heading: &str,
    x_label: &str,
    y_label: &str,
    series: Vec<Series>,
    square: Option<(f64, f64)>,
) {
    if series.is_empty() {
        return;
    }
    r.line_chart(
        heading,
        &LineChart {
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            diagonal: square.is_some(),
            x_range: square,
            y_range: square,
        },
    );
}
