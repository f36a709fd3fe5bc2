//! What a bench prints and writes for people: a text table for the
//! terminal and a Markdown summary for a pull-request comment, with a
//! unicode sparkline of each value over the history when one is given.

use std::path::PathBuf;

use super::compare::{Check, Comparison, Status, read_results};
use super::run::{BenchResults, ModelRecord};
use super::spread::Spread;
use crate::output::text_table;
use crate::{Result, RunnerError};

/// Previous results files, oldest first (by their `started` time, then
/// name). Each path is a results file or a directory of them (`*.json`).
pub fn load_history(paths: &[PathBuf]) -> Result<Vec<BenchResults>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let listing = std::fs::read_dir(p).map_err(|source| RunnerError::Io {
                context: format!("cannot list history directory {}", p.display()),
                source,
            })?;
            for f in listing {
                let f = f
                    .map_err(|source| RunnerError::Io {
                        context: format!("cannot list history directory {}", p.display()),
                        source,
                    })?
                    .path();
                if f.extension().is_some_and(|e| e == "json") {
                    files.push(f);
                }
            }
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(RunnerError::Io {
                context: format!("history {}", p.display()),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
    }
    let mut history: Vec<(PathBuf, BenchResults)> = files
        .into_iter()
        .map(|f| Ok((f.clone(), read_results(&f)?)))
        .collect::<Result<_>>()?;
    history.sort_by(|a, b| (&a.1.started, &a.0).cmp(&(&b.1.started, &b.0)));
    Ok(history.into_iter().map(|h| h.1).collect())
}

/// Eight levels of a unicode sparkline, low to high.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `values` scaled between their minimum and maximum;
/// a gap (`None`) is a space, a flat series sits mid-height.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    values
        .iter()
        .map(|v| match v {
            Some(v) if v.is_finite() => {
                if hi > lo {
                    let k = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                    BARS[k.min(7)]
                } else {
                    BARS[3]
                }
            }
            _ => ' ',
        })
        .collect()
}

/// The values of `metric` of record `id` over the history, then now.
fn trend(history: &[BenchResults], current: &BenchResults, id: &str, metric: &str) -> String {
    if history.is_empty() {
        return String::new();
    }
    let value = |r: &BenchResults| {
        r.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.values().get(metric).copied())
    };
    let series: Vec<Option<f64>> = history.iter().chain([current]).map(value).collect();
    sparkline(&series)
}

/// A value in its metric's customary precision.
pub fn format_value(metric: &str, v: f64) -> String {
    match metric {
        "train_seconds" | "train_cpu_seconds" => format_seconds(v),
        "predict_rows_per_second" => format_rate(v),
        "peak_rss_mb" => format!("{v:.0}"),
        _ => format!("{v:.4}"),
    }
}

fn format_delta(metric: &str, d: f64, base: f64) -> String {
    match metric {
        "train_seconds" | "train_cpu_seconds" | "predict_rows_per_second" | "peak_rss_mb"
            if base != 0.0 =>
        {
            format!("{:+.1}%", d / base.abs() * 100.0)
        }
        _ => format!("{d:+.4}"),
    }
}

fn format_seconds(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}")
    } else if s >= 0.01 {
        format!("{s:.3}")
    } else if s >= 1e-4 {
        format!("{:.2}ms", s * 1e3)
    } else {
        format!("{:.1}µs", s * 1e6)
    }
}

fn format_rate(r: f64) -> String {
    if r >= 1e9 {
        format!("{:.2}G", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

fn spread_cell(s: &Spread, f: fn(f64) -> String) -> String {
    format!("{} [{}–{}]", f(s.median), f(s.min), f(s.max))
}

/// The headline quality metric of a record: the first of the task's usual
/// ones that it has.
fn headline(r: &ModelRecord) -> Option<(&'static str, f64)> {
    ["auc", "c_index", "rmse", "gini"]
        .into_iter()
        .find_map(|m| r.quality.get(m).map(|&v| (m, v)))
}

fn measurement_rows(r: &BenchResults, history: &[BenchResults]) -> Vec<Vec<String>> {
    r.entries
        .iter()
        .map(|e| {
            let quality = e
                .quality
                .iter()
                .map(|(k, v)| format!("{k} {v:.4}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut row = vec![
                e.id.clone(),
                e.kind.clone(),
                e.train_rows.to_string(),
                e.test_rows.to_string(),
                quality,
                spread_cell(&e.train_seconds, format_seconds),
                e.train_cpu_seconds
                    .as_ref()
                    .map_or("-".into(), |c| format_seconds(c.median)),
                e.predict_rows_per_second
                    .as_ref()
                    .map_or("-".into(), |s| spread_cell(s, format_rate)),
                e.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}")),
            ];
            if !history.is_empty() {
                let (metric, _) = headline(e).unwrap_or(("train_seconds", 0.0));
                row.push(format!("{metric} {}", trend(history, r, &e.id, metric)));
                row.push(trend(history, r, &e.id, "train_seconds"));
            }
            row
        })
        .collect()
}

const MEASUREMENT_HEADER: [&str; 9] = [
    "model",
    "kind",
    "train rows",
    "test rows",
    "quality (test cutoff)",
    "train s median [min–max]",
    "train CPU s",
    "predict rows/s",
    "peak MiB",
];

/// The terminal table of every record's measurements.
pub fn results_table(r: &BenchResults) -> String {
    text_table(&MEASUREMENT_HEADER, &measurement_rows(r, &[]))
}

fn comparison_rows(c: &Comparison, speed: bool) -> Vec<Vec<String>> {
    c.checks
        .iter()
        .filter(|k| k.speed == speed)
        .map(|k| {
            vec![
                k.id.clone(),
                k.metric.clone(),
                format_value(&k.metric, k.baseline),
                k.current.map_or("-".into(), |v| format_value(&k.metric, v)),
                k.delta
                    .map_or("-".into(), |d| format_delta(&k.metric, d, k.baseline)),
                k.tolerance.to_string(),
                k.status.as_str().to_string(),
            ]
        })
        .collect()
}

const COMPARISON_HEADER: [&str; 7] = [
    "model",
    "metric",
    "baseline",
    "current",
    "delta",
    "tolerance",
    "status",
];

/// The terminal table of the comparison: quality, then speed.
pub fn comparison_table(c: &Comparison) -> String {
    let mut rows = comparison_rows(c, false);
    rows.extend(comparison_rows(c, true));
    let mut out = format!("baseline: {}\n", c.baseline);
    out.push_str(&text_table(&COMPARISON_HEADER, &rows));
    for id in &c.missing_records {
        out.push_str(&format!("not in this run: {id}\n"));
    }
    for id in &c.new_records {
        out.push_str(&format!("new (no baseline): {id}\n"));
    }
    out
}

/// `|`-separated Markdown table, the columns `right` right-aligned; pipes
/// inside cells are escaped.
fn md_table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        out.push_str(if right.contains(&i) {
            " ---: |"
        } else {
            " --- |"
        });
    }
    out.push('\n');
    for row in rows {
        out.push_str("| ");
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
        out.push_str(" |\n");
    }
    out
}

/// The Markdown summary: a verdict, the comparison (regressions first)
/// with a trend per value when history is given, and every measurement.
pub fn markdown(
    r: &BenchResults,
    comparison: Option<&Comparison>,
    history: &[BenchResults],
    gate_speed: bool,
) -> String {
    let mut out = String::new();
    let verdict = match comparison {
        None => "measured (no baseline)".to_string(),
        Some(c) => {
            let failing = c.failures(gate_speed).count();
            if failing == 0 && c.speed_regressions == 0 {
                "✅ no regression".to_string()
            } else if failing == 0 {
                format!(
                    "✅ no quality regression · ⚠️ {} speed regression{}",
                    c.speed_regressions,
                    if c.speed_regressions == 1 { "" } else { "s" }
                )
            } else {
                let names: Vec<String> = c
                    .failures(gate_speed)
                    .map(|k| format!("`{}` of {}", k.metric, k.id))
                    .collect();
                format!(
                    "❌ {failing} regression{}: {}",
                    if failing == 1 { "" } else { "s" },
                    names.join(", ")
                )
            }
        }
    };
    out.push_str(&format!("### tenure bench `{}`: {verdict}\n\n", r.suite));
    let commit = r
        .git_commit
        .as_deref()
        .map_or("unknown commit".to_string(), |c| {
            format!("commit `{}`", &c[..c.len().min(10)])
        });
    out.push_str(&format!(
        "{commit} · tenure {} · device {} · {} repeat{} · {}\n\n",
        r.tenure_version,
        r.device,
        r.repeat,
        if r.repeat == 1 { "" } else { "s" },
        r.started
    ));
    if let Some(c) = comparison {
        out.push_str(&format!("Baseline: {}\n\n", c.baseline));
        let mut header = COMPARISON_HEADER.to_vec();
        if !history.is_empty() {
            header.push("trend");
        }
        // In view: every failure or improvement, and each record's headline
        // metric and train time; the other checks fold away.
        let headlines: std::collections::BTreeMap<&str, &str> = r
            .entries
            .iter()
            .filter_map(|e| Some((e.id.as_str(), headline(e)?.0)))
            .collect();
        let key = |k: &Check| {
            k.status != Status::Ok
                || k.metric == "train_seconds"
                || headlines.get(k.id.as_str()) == Some(&k.metric.as_str())
        };
        let mut checks: Vec<&Check> = c.checks.iter().collect();
        checks.sort_by_key(|k| (!k.status.is_bad(), k.status == Status::Ok, k.speed));
        let row = |k: &Check| {
            let status = if k.status.is_bad() && (gate_speed || !k.speed) {
                format!("**{}**", k.status.as_str())
            } else {
                k.status.as_str().to_string()
            };
            let mut row = vec![
                k.id.clone(),
                k.metric.clone(),
                format_value(&k.metric, k.baseline),
                k.current.map_or("-".into(), |v| format_value(&k.metric, v)),
                k.delta
                    .map_or("-".into(), |d| format_delta(&k.metric, d, k.baseline)),
                k.tolerance.to_string(),
                status,
            ];
            if !history.is_empty() {
                row.push(trend(history, r, &k.id, &k.metric));
            }
            row
        };
        let (shown, folded): (Vec<&Check>, Vec<&Check>) = checks.into_iter().partition(|k| key(k));
        let rows: Vec<Vec<String>> = shown.into_iter().map(row).collect();
        out.push_str(&md_table(&header, &rows, &[2, 3, 4]));
        if !folded.is_empty() {
            let rows: Vec<Vec<String>> = folded.into_iter().map(row).collect();
            out.push_str(&format!(
                "\n<details><summary>{} more checks, all within tolerance</summary>\n\n",
                rows.len()
            ));
            out.push_str(&md_table(&header, &rows, &[2, 3, 4]));
            out.push_str("\n</details>\n");
        }
        if !c.missing_records.is_empty() {
            out.push_str(&format!(
                "\nIn the baseline, not in this run: {}\n",
                c.missing_records.join(", ")
            ));
        }
        if !c.new_records.is_empty() {
            out.push_str(&format!(
                "\nNew in this run (no baseline): {}\n",
                c.new_records.join(", ")
            ));
        }
        out.push_str("\n<details><summary>All measurements</summary>\n\n");
    }
    let mut header = MEASUREMENT_HEADER.to_vec();
    if !history.is_empty() {
        header.extend(["quality trend", "train time trend"]);
    }
    out.push_str(&md_table(
        &header,
        &measurement_rows(r, history),
        &[2, 3, 5, 6, 7, 8],
    ));
    if !history.is_empty() {
        out.push_str(&format!(
            "\nTrends: {} earlier run{} and this one, oldest left.\n",
            history.len(),
            if history.len() == 1 { "" } else { "s" }
        ));
    }
    if comparison.is_some() {
        out.push_str("\n</details>\n");
    }
    out
}

pub use crate::output::write_atomic;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_between_extremes_and_keep_gaps() {
        assert_eq!(sparkline(&[Some(0.0), Some(0.5), Some(1.0)]), "▁▅█");
        assert_eq!(sparkline(&[Some(2.0), None, Some(2.0)]), "▄ ▄");
        assert_eq!(sparkline(&[]), "");
    }
}
