//! The run's HTML report: what was run, how the data was split, how every
//! model scored, and the curves behind the numbers.

use tenure_core::{Target, Task};
use tenure_report::{HtmlReport, LineChart, Series};

use crate::output::label_name;
use crate::{Experiment, RunOutcome};

pub fn render(exp: &Experiment, out: &RunOutcome, feature_names: &[String]) -> String {
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

    if out.task == Task::Churn {
        let series: Vec<Series> = out
            .models
            .iter()
            .filter_map(|m| {
                let test = m.predictions.iter().find(|p| p.fold == "test")?;
                let Target::Binary(y) = &test.target else {
                    return None;
                };
                let roc = tenure_metrics::roc_curve(y, &test.prediction).ok()?;
                Some(Series {
                    name: m.name.clone(),
                    points: roc.fpr.into_iter().zip(roc.tpr).collect(),
                })
            })
            .collect();
        if !series.is_empty() {
            r.line_chart(
                "ROC curve on the test cutoff",
                &LineChart {
                    x_label: "false positive rate".into(),
                    y_label: "true positive rate".into(),
                    series,
                    diagonal: true,
                    x_range: Some((0.0, 1.0)),
                    y_range: Some((0.0, 1.0)),
                },
            );
        }
    }
    if out.task == Task::Churn {
        let series: Vec<Series> = out
            .models
            .iter()
            .filter_map(|m| {
                let test = m.predictions.iter().find(|p| p.fold == "test")?;
                let Target::Binary(y) = &test.target else {
                    return None;
                };
                Some(Series {
                    name: m.name.clone(),
                    points: decile_pairs(&test.prediction, y),
                })
            })
            .collect();
        if !series.is_empty() {
            let top = series
                .iter()
                .flat_map(|s| s.points.iter().map(|&(x, y)| x.max(y)))
                .fold(0.0_f64, f64::max);
            let hi = (top * 1.1).clamp(0.05, 1.0);
            r.line_chart(
                "Calibration on the test cutoff: observed churn rate by decile of predicted probability",
                &LineChart {
                    x_label: "mean predicted probability".into(),
                    y_label: "observed churn rate".into(),
                    series,
                    diagonal: true,
                    x_range: Some((0.0, hi)),
                    y_range: Some((0.0, hi)),
                },
            );
        }
    }
    if out.task == Task::Clv {
        let series: Vec<Series> = out
            .models
            .iter()
            .filter_map(|m| {
                let test = m.predictions.iter().find(|p| p.fold == "test")?;
                let Target::Continuous(y) = &test.target else {
                    return None;
                };
                Some(Series {
                    name: m.name.clone(),
                    points: decile_means(&test.prediction, y),
                })
            })
            .collect();
        if !series.is_empty() {
            r.line_chart(
                "Mean actual spend by decile of predicted spend (test cutoff)",
                &LineChart {
                    x_label: "decile of prediction".into(),
                    y_label: "mean actual spend".into(),
                    series,
                    diagonal: false,
                    x_range: None,
                    y_range: None,
                },
            );
        }
    }
    r.paragraph(format!(
        "Features ({}): {}",
        feature_names.len(),
        feature_names.join(", ")
    ));
    r.render()
}

/// (mean prediction, mean outcome) per decile of the prediction.
fn decile_pairs(pred: &[f64], actual: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..pred.len()).collect();
    idx.sort_by(|&a, &b| pred[a].total_cmp(&pred[b]));
    let n = idx.len();
    (0..10)
        .filter_map(|d| {
            let (lo, hi) = (d * n / 10, (d + 1) * n / 10);
            (hi > lo).then(|| {
                let k = (hi - lo) as f64;
                let p = idx[lo..hi].iter().map(|&i| pred[i]).sum::<f64>() / k;
                let a = idx[lo..hi].iter().map(|&i| actual[i]).sum::<f64>() / k;
                (p, a)
            })
        })
        .collect()
}

fn decile_means(pred: &[f64], actual: &[f64]) -> Vec<(f64, f64)> {
    decile_pairs(pred, actual)
        .into_iter()
        .enumerate()
        .map(|(d, (_, a))| ((d + 1) as f64, a))
        .collect()
}
