//! What a run prints: a summary table for people, one JSON object for tools.

use serde_json::{Value, json};

use crate::RunOutcome;
use crate::pipeline::FoldSummary;

/// The `--json` object: `{"run_id", "experiment", "report", "models": [...]}`.
pub fn json_summary(out: &RunOutcome) -> Value {
    let models: Vec<Value> = out
        .models
        .iter()
        .map(|m| {
            let metrics: serde_json::Map<String, Value> = m
                .metrics
                .iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        json!({
                            "mean": finite(s.mean),
                            "std": finite(s.std),
                            "folds": s.folds.iter().map(|v| finite(*v)).collect::<Vec<_>>(),
                            "test": finite(s.test),
                        }),
                    )
                })
                .collect();
            json!({
                "name": m.name,
                "kind": m.kind,
                "task": m.task.as_str(),
                "metrics": metrics,
                "fit_seconds": m.fit_seconds,
            })
        })
        .collect();
    json!({
        "run_id": out.run_id,
        "experiment": out.experiment,
        "experiment_id": out.experiment_id,
        "report": out.report.display().to_string(),
        "store": out.store.display().to_string(),
        "device": out.device,
        "task": out.task.as_str(),
        "customers": out.n_customers,
        "events": out.n_events,
        "seconds": out.seconds,
        "split": out.split,
        "models": models,
        "registration": out.registration,
    })
}

fn finite(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// A plain-text table with right-aligned numeric columns.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = |s: &str| s.parse::<f64>().is_ok() || s.starts_with(char::is_numeric);
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                if numeric(c) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

pub fn split_table(split: &[FoldSummary], label: &str) -> String {
    let rows: Vec<Vec<String>> = split
        .iter()
        .map(|f| {
            let train = match (f.train_cutoffs.first(), f.train_cutoffs.last()) {
                (Some(a), Some(b)) if a != b => format!("{a} .. {b}"),
                (Some(a), _) => a.clone(),
                _ => "-".into(),
            };
            vec![
                f.name.clone(),
                train,
                f.train_cutoffs.len().to_string(),
                f.train_rows.to_string(),
                f.valid_cutoff.clone(),
                f.valid_rows.to_string(),
                format!("{:.4}", f.valid_label_mean),
            ]
        })
        .collect();
    text_table(
        &[
            "fold",
            "train cutoffs",
            "snapshots",
            "train rows",
            "valid cutoff",
            "valid rows",
            label,
        ],
        &rows,
    )
}

/// Per model: each metric's mean ± std over the folds, and on the test cutoff.
pub fn metrics_table(out: &RunOutcome) -> String {
    let mut rows = Vec::new();
    for m in &out.models {
        for (metric, s) in &m.metrics {
            rows.push(vec![
                m.name.clone(),
                m.kind.clone(),
                metric.clone(),
                format!("{:.4}", s.mean),
                format!("{:.4}", s.std),
                format!("{:.4}", s.test),
            ]);
        }
    }
    text_table(
        &["model", "kind", "metric", "cv mean", "cv std", "test"],
        &rows,
    )
}

pub fn label_name(task: tenure_core::Task) -> &'static str {
    match task {
        tenure_core::Task::Churn => "churn rate",
        tenure_core::Task::Survival => "event rate",
        tenure_core::Task::Clv => "mean spend",
    }
}
