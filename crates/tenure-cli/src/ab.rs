//! `tenure ab`: analyse an A/B test from a table of one row per unit.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tenure_runner::ab::{AbRequest, ab};
use tenure_runner::metrics::{AbOptions, OutcomeKind};
use tenure_runner::output::write_atomic;

#[derive(Debug, Args)]
pub struct AbArgs {
    /// Table of one row per unit (CSV or Parquet).
    #[arg(long)]
    table: PathBuf,
    /// Column with each unit's arm (two values: 0/1, control/treatment, …).
    #[arg(long)]
    treatment: String,
    /// Outcome column: 0/1 (a conversion) or a quantity (revenue).
    #[arg(long)]
    outcome: String,
    /// Pre-period covariate for CUPED (the same metric before the test).
    #[arg(long)]
    covariate: Option<String>,
    /// Planned share of units in the treatment arm.
    #[arg(long, default_value_t = 0.5)]
    expected_split: f64,
    /// Value of the treatment column that marks a treated unit, when the
    /// two values are not a known pair.
    #[arg(long)]
    treated: Option<String>,
    /// Significance level of the tests and intervals.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Target power of the minimum detectable effect.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    /// Treat the outcome as binary or continuous (default: binary when
    /// every value is 0 or 1).
    #[arg(long, value_parser = ["binary", "continuous"])]
    outcome_kind: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write the report as a self-contained HTML page (inline SVG
    /// plots of the arms' means, the effect and the lift).
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// Also write the report as Markdown (for CI comments).
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
}

pub fn run(args: AbArgs) -> Result<()> {
    let request = AbRequest {
        table: args.table,
        treatment: args.treatment,
        outcome: args.outcome,
        covariate: args.covariate,
        treated_value: args.treated,
        options: AbOptions {
            expected_treatment_share: args.expected_split,
            alpha: args.alpha,
            power: args.power,
            outcome_kind: args.outcome_kind.map(|k| match k.as_str() {
                "binary" => OutcomeKind::Binary,
                _ => OutcomeKind::Continuous,
            }),
        },
    };
    let out = ab(&request)?;
    if out.report.srm.mismatch {
        // Loud on stderr too, so a pipeline reading --json still shows it.
        eprintln!(
            "WARNING: sample ratio mismatch (p = {}): {} treated vs {} control, {:.0}% treated planned",
            tenure_runner::output::p_value(out.report.srm.p),
            out.report.treatment.n,
            out.report.control.n,
            out.report.srm.expected_treatment_share * 100.0
        );
    }
    if args.html.is_some() || args.markdown.is_some() {
        let page = out.html();
        if let Some(path) = &args.html {
            page.write(path)?;
        }
        if let Some(path) = &args.markdown {
            write_atomic(path, &page.render_markdown())?;
        }
    }
    if args.json {
        println!("{}", out.json());
    } else {
        print!("{}", out.text());
    }
    Ok(())
}
