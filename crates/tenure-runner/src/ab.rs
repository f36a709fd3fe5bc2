//! `tenure ab`: an A/B test on a table of one row per unit (CSV or
//! Parquet): which arm each unit was in, its outcome, and optionally a
//! pre-period covariate for CUPED. The statistics are
//! [`tenure_metrics::ab_test`]; this module reads and checks the table.

use std::path::PathBuf;

use serde_json::{Value, json};
use tenure_data::DataError;
use tenure_data::io::read_columns;
use tenure_metrics::{AbOptions, AbReport, OutcomeKind, SRM_ALPHA, ab_test, z_two_sided};
use tenure_report::{HtmlReport, Interval, IntervalChart};

use crate::output::p_value;
use crate::{Result, RunnerError};

/// The columns and settings of one analysis.
#[derive(Debug, Clone)]
pub struct AbRequest {
    pub table: PathBuf,
    pub treatment: String,
    pub outcome: String,
    pub covariate: Option<String>,
    /// Which value of the treatment column marks the treated units; needed
    /// only when the two values are not a known pair (0/1, false/true,
    /// control/treatment, …).
    pub treated_value: Option<String>,
    pub options: AbOptions,
}

/// Value pairs whose treated member is known: (control, treated).
const KNOWN_ARMS: &[(&str, &str)] = &[
    ("0", "1"),
    ("false", "true"),
    ("control", "treatment"),
    ("control", "treated"),
    ("control", "test"),
    ("control", "variant"),
    ("a", "b"),
    ("c", "t"),
];

/// The analysis and the labels of the two arms.
#[derive(Debug, Clone)]
pub struct AbOutcome {
    pub request: AbRequest,
    pub treated_label: String,
    pub control_label: String,
    pub report: AbReport,
}

pub fn ab(req: &AbRequest) -> Result<AbOutcome> {
    let o = &req.options;
    for (flag, value) in [
        ("--expected-split", o.expected_treatment_share),
        ("--alpha", o.alpha),
        ("--power", o.power),
    ] {
        if !(value > 0.0 && value < 1.0) {
            return Err(RunnerError::AbOption {
                flag,
                value,
                expected: "strictly between 0 and 1",
            });
        }
    }
    let mut numeric = vec![req.outcome.as_str()];
    numeric.extend(req.covariate.as_deref());
    let table = read_columns(&req.table, &numeric, &[req.treatment.as_str()])?;
    let bad = |column: &str, row: usize, found: String, expected: &str| {
        RunnerError::Data(DataError::BadValue {
            path: req.table.clone(),
            column: column.to_string(),
            row: row + 1,
            found,
            expected: expected.to_string(),
        })
    };

    let labels = table.text(&req.treatment).expect("read");
    let mut seen: Vec<&str> = Vec::new();
    for (row, label) in labels.iter().enumerate() {
        let Some(label) = label.as_deref() else {
            return Err(bad(
                &req.treatment,
                row,
                "a missing value".into(),
                "the arm of the unit",
            ));
        };
        if !seen.contains(&label) {
            if seen.len() == 2 {
                return Err(bad(
                    &req.treatment,
                    row,
                    format!("a third value `{label}`"),
                    &format!("one of the two arms `{}` and `{}`", seen[0], seen[1]),
                ));
            }
            seen.push(label);
        }
    }
    let (treated_label, control_label) = arms(req, &seen)?;
    let treated: Vec<bool> = labels
        .iter()
        .map(|l| l.as_deref() == Some(treated_label.as_str()))
        .collect();

    let outcome = table.numeric(&req.outcome).expect("read");
    if let Some(row) = outcome.iter().position(|v| !v.is_finite()) {
        return Err(bad(
            &req.outcome,
            row,
            describe(outcome[row]),
            "a finite number",
        ));
    }
    let covariate = match &req.covariate {
        Some(c) => {
            let x = table.numeric(c).expect("read");
            if let Some(row) = x.iter().position(|v| !v.is_finite()) {
                return Err(bad(c, row, describe(x[row]), "a finite number"));
            }
            Some(x)
        }
        None => None,
    };
    let report = ab_test(&treated, outcome, covariate, &req.options).map_err(|source| {
        RunnerError::AbTest {
            path: req.table.clone(),
            source,
        }
    })?;
    Ok(AbOutcome {
        request: req.clone(),
        treated_label,
        control_label,
        report,
    })
}

fn describe(v: f64) -> String {
    if v.is_nan() {
        "a missing value or NaN".into()
    } else {
        v.to_string()
    }
}

/// Which of the (at most two) values seen is the treatment.
fn arms(req: &AbRequest, seen: &[&str]) -> Result<(String, String)> {
    let empty = |arm: &str, present: &str| RunnerError::EmptyArm {
        path: req.table.clone(),
        column: req.treatment.clone(),
        arm: arm.to_string(),
        present: present.to_string(),
    };
    if let Some(t) = &req.treated_value {
        let Some(&control) = seen.iter().find(|&&v| v != t.as_str()) else {
            return Err(empty("control", t));
        };
        if !seen.contains(&t.as_str()) {
            return Err(empty(&format!("treatment (`{t}`)"), control));
        }
        return Ok((t.clone(), control.to_string()));
    }
    let lower: Vec<String> = seen.iter().map(|s| s.to_ascii_lowercase()).collect();
    let known = |v: &str| {
        KNOWN_ARMS
            .iter()
            .find(|(c, t)| *c == v || *t == v)
            .map(|&(c, t)| (c, t, v == t))
    };
    match lower.as_slice() {
        [only] => {
            let missing = match known(only) {
                Some((_, _, true)) => "control",
                Some((_, _, false)) => "treatment",
                None => "second",
            };
            Err(empty(missing, seen[0]))
        }
        [a, b] => match known(a) {
            Some((c, t, a_treated))
                if (a_treated && b.as_str() == c) || (!a_treated && b.as_str() == t) =>
            {
                let (treated, control) = if a_treated { (0, 1) } else { (1, 0) };
                Ok((seen[treated].to_string(), seen[control].to_string()))
            }
            _ => Err(RunnerError::AbArms {
                path: req.table.clone(),
                column: req.treatment.clone(),
                values: format!("`{}`, `{}`", seen[0], seen[1]),
            }),
        },
        _ => unreachable!("the table has at least one row and at most two arms"),
    }
}

impl AbOutcome {
    /// `--json`: `{"srm": {"chi2", "p"}, "ate": {"estimate", "ci_low",
    /// "ci_high", "p"}, "cuped": {"estimate", "ci_low", "ci_high",
    /// "variance_reduction"}, "lift", "power", …}`; a value that is not a
    /// finite number is `null`.
    pub fn json(&self) -> Value {
        let r = &self.report;
        let f = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
        let group = |g: &tenure_metrics::GroupStats, label: &str| json!({"label": label, "n": g.n, "mean": f(g.mean), "variance": f(g.variance)});
        json!({
            "table": self.request.table.display().to_string(),
            "treatment_column": self.request.treatment,
            "outcome_column": self.request.outcome,
            "outcome_kind": match r.outcome_kind {
                OutcomeKind::Binary => "binary",
                OutcomeKind::Continuous => "continuous",
            },
            "treatment": group(&r.treatment, &self.treated_label),
            "control": group(&r.control, &self.control_label),
            "srm": {
                "chi2": f(r.srm.chi2),
                "p": f(r.srm.p),
                "expected_split": r.srm.expected_treatment_share,
                "mismatch": r.srm.mismatch,
            },
            "ate": {
                "estimate": f(r.ate.estimate),
                "ci_low": f(r.ate.ci_low),
                "ci_high": f(r.ate.ci_high),
                "p": f(r.ate.p),
                "std_error": f(r.ate.std_error),
                "statistic": f(r.ate.statistic),
                "df": r.ate.df.map(f),
                "method": match r.outcome_kind {
                    OutcomeKind::Binary => "difference of proportions (z test; Wald interval)",
                    OutcomeKind::Continuous => "Welch t test",
                },
            },
            "cuped": r.cuped.as_ref().map(|c| json!({
                "covariate": self.request.covariate,
                "estimate": f(c.effect.estimate),
                "ci_low": f(c.effect.ci_low),
                "ci_high": f(c.effect.ci_high),
                "p": f(c.effect.p),
                "std_error": f(c.effect.std_error),
                "theta": f(c.theta),
                "variance_reduction": f(c.variance_reduction),
            })),
            "lift": r.lift.as_ref().map(|l| json!({
                "estimate": f(l.estimate),
                "ci_low": f(l.ci_low),
                "ci_high": f(l.ci_high),
            })),
            "power": {
                "alpha": r.power.alpha,
                "power": r.power.power,
                "mde": f(r.power.mde),
                "mde_relative": r.power.mde_relative.map(f),
                "observed_power": f(r.power.observed_power),
            },
        })
    }

    /// The human-readable report, starting with the mismatch warning when
    /// there is one.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(warning) = self.srm_warning() {
            out.push_str(&warning);
            out.push_str("\n\n");
        }
        out.push_str(&self.setup_line());
        out.push_str("\n\n");
        let rows = self.summary_rows();
        out.push_str(&crate::output::text_table(&["quantity", "value"], &rows));
        out
    }

    /// Which table, arms and outcome, and the test used.
    fn setup_line(&self) -> String {
        let kind = match self.report.outcome_kind {
            OutcomeKind::Binary => "binary outcome: difference of proportions",
            OutcomeKind::Continuous => "continuous outcome: Welch t test",
        };
        format!(
            "{} · treatment `{}` = {} vs {} · outcome `{}` ({kind})",
            self.request.table.display(),
            self.request.treatment,
            self.treated_label,
            self.control_label,
            self.request.outcome,
        )
    }

    /// The quantities of the analysis as (name, value) rows, shared by the
    /// text, HTML and Markdown reports.
    fn summary_rows(&self) -> Vec<Vec<String>> {
        let r = &self.report;
        let conf = format!("{:.0}% CI", (1.0 - r.power.alpha) * 100.0);
        let mut rows = vec![
            vec![
                "units (treated / control)".into(),
                format!("{} / {}", r.treatment.n, r.control.n),
            ],
            vec![
                "mean (treated / control)".into(),
                format!("{:.6} / {:.6}", r.treatment.mean, r.control.mean),
            ],
            vec![
                "sample ratio (chi2, p)".into(),
                format!("{:.4}, p = {}", r.srm.chi2, p_value(r.srm.p)),
            ],
            vec![
                format!("effect ({conf}, p)"),
                format!(
                    "{:+.6} [{:+.6}, {:+.6}], p = {}",
                    r.ate.estimate,
                    r.ate.ci_low,
                    r.ate.ci_high,
                    p_value(r.ate.p)
                ),
            ],
        ];
        if let Some(l) = &r.lift {
            rows.push(vec![
                format!("relative lift ({conf})"),
                format!(
                    "{:+.2}% [{:+.2}%, {:+.2}%]",
                    l.estimate * 100.0,
                    l.ci_low * 100.0,
                    l.ci_high * 100.0
                ),
            ]);
        }
        if let Some(c) = &r.cuped {
            rows.push(vec![
                format!("CUPED effect ({conf}, p)"),
                format!(
                    "{:+.6} [{:+.6}, {:+.6}], p = {}",
                    c.effect.estimate,
                    c.effect.ci_low,
                    c.effect.ci_high,
                    p_value(c.effect.p)
                ),
            ]);
            rows.push(vec![
                "CUPED variance reduction".into(),
                format!(
                    "{:.1}% (theta {:.4})",
                    c.variance_reduction * 100.0,
                    c.theta
                ),
            ]);
        }
        rows.push(vec![
            format!(
                "minimum detectable effect (power {:.0}%)",
                r.power.power * 100.0
            ),
            match r.power.mde_relative {
                Some(rel) => format!("{:.6} ({:+.2}%)", r.power.mde, rel * 100.0),
                None => format!("{:.6}", r.power.mde),
            },
        ]);
        rows.push(vec![
            "power at the observed effect".into(),
            format!("{:.1}%", r.power.observed_power * 100.0),
        ]);
        rows
    }

    fn srm_warning(&self) -> Option<String> {
        let r = &self.report;
        r.srm.mismatch.then(|| {
            format!(
                "WARNING: SAMPLE RATIO MISMATCH (p = {} < {SRM_ALPHA}): {} treated vs {} \
                 control where {:.0}% treated was planned. The assignment or the logging is \
                 broken; do not trust the effects below until it is explained.",
                p_value(r.srm.p),
                r.treatment.n,
                r.control.n,
                r.srm.expected_treatment_share * 100.0
            )
        })
    }

    /// The report as a self-contained HTML page (and, through
    /// [`HtmlReport::render_markdown`], Markdown): the mismatch warning,
    /// the quantities, and forest plots of each arm's mean, the effect
    /// (with CUPED's) and the relative lift, all at the analysis' level.
    pub fn html(&self) -> HtmlReport {
        let r = &self.report;
        let z = z_two_sided(r.power.alpha);
        let conf = format!("{:.0}% CI", (1.0 - r.power.alpha) * 100.0);
        let name = self.request.table.file_name().map_or_else(
            || self.request.table.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut page = HtmlReport::new(format!("A/B test: {name}"));
        if let Some(warning) = self.srm_warning() {
            page.paragraph(warning);
        }
        page.paragraph(self.setup_line());
        let rows = self.summary_rows();
        page.table("Analysis", &["quantity".into(), "value".into()], &rows);
        let arm = |label: &str, g: &tenure_metrics::GroupStats| {
            let half = z * (g.variance / g.n as f64).sqrt();
            Interval::new(
                format!("{label} (n = {})", g.n),
                g.mean,
                g.mean - half,
                g.mean + half,
            )
        };
        page.interval_chart(
            &format!("Mean outcome per arm ({conf})"),
            &IntervalChart {
                x_label: self.request.outcome.clone(),
                rows: vec![
                    arm(&self.treated_label, &r.treatment),
                    arm(&self.control_label, &r.control),
                ],
                reference: None,
            },
        );
        let mut effects = vec![Interval::new(
            "difference",
            r.ate.estimate,
            r.ate.ci_low,
            r.ate.ci_high,
        )];
        if let Some(c) = &r.cuped {
            effects.push(Interval::new(
                "CUPED difference",
                c.effect.estimate,
                c.effect.ci_low,
                c.effect.ci_high,
            ));
        }
        page.interval_chart(
            &format!("Treatment effect ({conf}; dashed: no effect)"),
            &IntervalChart {
                x_label: format!("treated − control mean of {}", self.request.outcome),
                rows: effects,
                reference: Some(0.0),
            },
        );
        if let Some(l) = &r.lift {
            page.interval_chart(
                &format!("Relative lift ({conf})"),
                &IntervalChart {
                    x_label: "lift over control (%)".into(),
                    rows: vec![Interval::new(
                        "lift",
                        l.estimate * 100.0,
                        l.ci_low * 100.0,
                        l.ci_high * 100.0,
                    )],
                    reference: Some(0.0),
                },
            );
        }
        page
    }
}
