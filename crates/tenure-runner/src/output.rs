//! What a run prints: a summary table for people, one JSON object for tools.

use std::path::Path;

use serde_json::{Value, json};

use crate::RunOutcome;
use crate::calibrate::ModelCalibration;
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
            let mut model = json!({
                "name": m.name,
                "kind": m.kind,
                "task": m.task.as_str(),
                "metrics": metrics,
                "fit_seconds": m.fit_seconds,
            });
            if let Some(c) = &m.calibration {
                model["calibration"] = calibration_summary(c);
            }
            if let Some(onnx) = &m.onnx {
                model["onnx"] = json!(onnx.display().to_string());
            }
            model
        })
        .collect();
    json!({
        "run_id": out.run_id,
        "experiment": out.experiment,
        "experiment_id": out.experiment_id,
        "report": out.report.display().to_string(),
        "store": out.store.display().to_string(),
        "device": out.device,
        "device_note": out.device_note,
        "task": out.task.as_str(),
        "customers": out.n_customers,
        "events": out.n_events,
        "seconds": out.seconds,
        "split": out.split,
        "models": models,
        "uplift": out.uplift.as_ref().map(crate::uplift::json_summary),
        "registration": out.registration,
    })
}

/// The headline of a model's calibration: method, calibrator and the test
/// cutoff's calibration error before and after.
fn calibration_summary(c: &ModelCalibration) -> Value {
    let mut v = json!({"method": c.method.as_str()});
    if let Some(e) = &c.error {
        v["error"] = json!(e);
    }
    if let Some(b) = &c.binary {
        v["calibrator"] = json!(b.calibrator);
        v["ece_before"] = finite(b.before.ece_equal_width);
        v["ece_after"] = finite(b.after.ece_equal_width);
        v["brier_before"] = finite(b.before.brier.brier);
        v["brier_after"] = finite(b.after.brier.brier);
    }
    if let Some(h) = c.survival.last() {
        v["horizon_days"] = json!(h.days);
        v["calibrator"] = json!(h.calibrator);
        v["ece_before"] = finite(h.ece_before);
        v["ece_after"] = finite(h.ece_after);
    }
    v
}

/// `calibration.json`: the calibration settings and, per model, the fitted
/// calibrator with every measure before and after on the test cutoff.
pub fn calibration_json(exp: &crate::Experiment, out: &RunOutcome) -> Value {
    let spec = &exp.calibration;
    let models: Vec<Value> = out
        .models
        .iter()
        .filter_map(|m| {
            let c = m.calibration.as_ref()?;
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            v["name"] = json!(m.name);
            v["kind"] = json!(m.kind);
            Some(v)
        })
        .collect();
    json!({
        "run_id": out.run_id,
        "experiment": out.experiment,
        "task": out.task.as_str(),
        "settings": {
            "method": spec.method.as_str(),
            "bins": spec.bins,
            "cost_fp": spec.costs.map(|c| c.cost_fp),
            "value_tp": spec.costs.map(|c| c.value_tp),
            "top_k_percent": spec.top_k_percent,
            "survival_times_days": out.survival_times_days,
        },
        "models": models,
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

/// A p-value for people: four decimals, or two significant digits in
/// scientific notation below 0.0001.
pub fn p_value(p: f64) -> String {
    if p >= 1e-4 || p == 0.0 || !p.is_finite() {
        format!("{p:.4}")
    } else {
        format!("{p:.1e}")
    }
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU time (user + system, every thread) of this process so far, in
/// seconds: Linux `/proc/self/stat`, in clock ticks of 1/100 s (`USER_HZ`,
/// fixed by the kernel ABI on every architecture we build for). A
/// benchmark on a busy machine compares CPU time, which other processes
/// do not inflate the way they inflate wall time.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A stopwatch of this process's CPU time ([`cpu_seconds`]); `None` where
/// `/proc` is not readable.
#[derive(Debug, Clone, Copy)]
pub struct CpuTimer(Option<f64>);

impl CpuTimer {
    pub fn start() -> Self {
        Self(cpu_seconds())
    }

    /// CPU seconds since [`CpuTimer::start`].
    pub fn elapsed(&self) -> Option<f64> {
        self.0.zip(cpu_seconds()).map(|(a, b)| b - a)
    }
}

/// Per calibrated model: the method and the test cutoff's calibration error
/// before and after (ECE over equal-width bins; for survival, against
/// Kaplan–Meier at the horizon); `None` when no model was calibrated.
pub fn calibration_table(out: &RunOutcome) -> Option<String> {
    let rows: Vec<Vec<String>> = out
        .models
        .iter()
        .filter_map(|m| {
            let c = m.calibration.as_ref()?;
            let (before, after) = if let Some(b) = &c.binary {
                (b.before.ece_equal_width, b.after.ece_equal_width)
            } else if let Some(h) = c.survival.last() {
                (h.ece_before, h.ece_after)
            } else {
                (f64::NAN, f64::NAN)
            };
            Some(vec![
                m.name.clone(),
                c.method.as_str().to_string(),
                format!("{before:.4}"),
                format!("{after:.4}"),
                c.error.clone().unwrap_or_default(),
            ])
        })
        .collect();
    (!rows.is_empty()).then(|| {
        text_table(
            &["model", "calibration", "test ece", "calibrated", "note"],
            &rows,
        )
    })
}

/// Writes `text` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, text: &str) -> crate::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| crate::RunnerError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_seconds_grows_with_work() {
        let start = super::cpu_seconds().expect("/proc/self/stat is readable on Linux");
        assert!(start >= 0.0);
        // Work, not a clock, bounds the loop: a few hundred ms of CPU at most.
        let mut acc = 0u64;
        let mut now = start;
        for i in 0..2_000_000_000u64 {
            acc = acc.wrapping_mul(6364136223846793005).wrapping_add(i);
            if i % 1_000_000 == 0 {
                now = super::cpu_seconds().unwrap();
                if now > start {
                    break;
                }
            }
        }
        std::hint::black_box(acc);
        assert!(now > start, "CPU time did not advance: {start} -> {now}");
    }
}
