//! The study's HTML report: the best configuration, how the search got
//! there (trial history), which parameters mattered, every trial.

use tenure_report::{HtmlReport, LineChart, Series};
use tenure_tune::TrialState;

use super::TuneOutcome;
use crate::Experiment;

pub fn render(exp: &Experiment, out: &TuneOutcome) -> String {
    let mut r = HtmlReport::new(format!("tenure tune · {}", out.study));
    if let Some(d) = &exp.file.description {
        r.paragraph(d.clone());
    }
    let count = |s: &str| out.counts.get(s).copied().unwrap_or(0).to_string();
    let mut summary = vec![
        ("study".to_string(), out.study.clone()),
        ("storage".into(), out.storage.display().to_string()),
        ("run id".into(), out.run_id.clone()),
        ("model".into(), format!("{} ({})", out.model, out.kind)),
        (
            "objective".into(),
            format!("{} of {} (time-split CV mean)", out.direction, out.metric),
        ),
        ("sampler".into(), out.sampler.clone()),
        ("pruner".into(), out.pruner.clone()),
        (
            "trials".into(),
            format!(
                "{} complete, {} pruned, {} failed, {} running",
                count("complete"),
                count("pruned"),
                count("fail"),
                count("running")
            ),
        ),
        (
            "sampler time".into(),
            format!("{:.2} ms per trial (mean)", out.sampler_ms_mean),
        ),
    ];
    if let Some(b) = &out.best {
        summary.push((
            format!("best CV {}", out.metric),
            format!("{:.5} (trial {})", b.value, b.number),
        ));
        for (k, v) in &out.test {
            summary.push((format!("test {k} (refit)"), format!("{v:.5}")));
        }
    }
    r.key_values("Search", &summary);

    if let Some(b) = &out.best {
        let rows: Vec<Vec<String>> = b
            .params
            .iter()
            .map(|(k, v)| vec![k.clone(), v.to_string()])
            .collect();
        r.table(
            "Best configuration",
            &["parameter".into(), "value".into()],
            &rows,
        );
        r.preformatted(out.best_config.clone());
    }

    let mut values = Vec::new();
    let mut best_so_far = Vec::new();
    let mut best: Option<f64> = None;
    for t in &out.trials {
        let x = t.number as f64;
        match (t.state, t.value) {
            (TrialState::Complete, Some(v)) => {
                values.push((x, v));
                if best.is_none_or(|b| out.direction.better(v, b)) {
                    best = Some(v);
                }
            }
            // A gap in the line: the trial has no final value.
            _ => values.push((x, f64::NAN)),
        }
        if let Some(b) = best {
            best_so_far.push((x, b));
        }
    }
    let chart = LineChart {
        x_label: "trial".into(),
        y_label: format!("CV {}", out.metric),
        series: vec![
            Series::new("trial value", values),
            Series::new("best so far", best_so_far),
        ],
        ..LineChart::default()
    };
    r.line_chart("Trial history", &chart);

    let rows: Vec<Vec<String>> = out
        .importance
        .iter()
        .map(|(k, v)| {
            vec![
                k.clone(),
                format!("{v:.3}"),
                "█".repeat((v * 40.0).round() as usize),
            ]
        })
        .collect();
    r.table(
        "Parameter importance (PED-ANOVA: how much each parameter's distribution in the top 10 % of trials differs from all trials)",
        &["parameter".into(), "importance".into(), String::new()],
        &rows,
    );

    let names: Vec<String> = exp
        .tune
        .as_ref()
        .map(|t| t.space.params().iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let mut header = vec!["trial".to_string(), "state".into(), out.metric.clone()];
    header.extend(names.iter().cloned());
    header.push("sampler ms".into());
    let rows: Vec<Vec<String>> = out
        .trials
        .iter()
        .map(|t| {
            let mut row = vec![
                t.number.to_string(),
                t.state.to_string(),
                t.value.map_or("—".into(), |v| format!("{v:.5}")),
            ];
            row.extend(
                names
                    .iter()
                    .map(|n| t.params.get(n).map_or("—".into(), ToString::to_string)),
            );
            row.push(format!("{:.2}", t.sampler_ms));
            row
        })
        .collect();
    r.table("Trials", &header, &rows);
    r.render()
}
