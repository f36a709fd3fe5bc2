//! Renders a report with every kind of block, for looking at in a browser:
//! `cargo run -p tenure-report --example sample_report -- /tmp/report_sample.html`

use std::path::PathBuf;

use tenure_report::{HtmlReport, LineChart, Series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "report_sample.html".into()),
    );

    // Training curves with a gap (a diverged round logged as NaN) and one
    // curve long enough to be thinned.
    let train: Vec<(f64, f64)> = (0..5000)
        .map(|i| {
            let t = f64::from(i);
            (
                t,
                0.35 + 0.34 * (-t / 700.0).exp() + 0.01 * (t / 37.0).sin(),
            )
        })
        .collect();
    let mut valid: Vec<(f64, f64)> = (0..5000)
        .step_by(50)
        .map(|i| {
            let t = f64::from(i);
            (t, 0.41 + 0.3 * (-t / 600.0).exp() + 0.00001 * t)
        })
        .collect();
    valid[40].1 = f64::NAN;
    let curves = LineChart {
        x_label: "boosting round".into(),
        y_label: "log loss".into(),
        series: vec![
            Series::new("train", train),
            Series::new("validation", valid),
        ],
        ..LineChart::default()
    };

    let roc_curve = |power: f64| -> Vec<(f64, f64)> {
        (0..=100)
            .map(|i| {
                let x = f64::from(i) / 100.0;
                (x, x.powf(power))
            })
            .collect()
    };
    let roc = LineChart {
        x_label: "false positive rate".into(),
        y_label: "true positive rate".into(),
        series: vec![
            Series::new("gbdt (AUC 0.847)", roc_curve(0.18)),
            Series::new("logistic (AUC 0.812)", roc_curve(0.23)),
            Series::new("cox → churn@90d (AUC 0.795)", roc_curve(0.26)),
        ],
        diagonal: true,
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
    };

    let mut report = HtmlReport::new("Churn model comparison — telco <holdout 2024-Q4>");
    report
        .paragraph(
            "Three model families trained on 12 months of subscription history and \
             evaluated on the following 90 days.\nAll numbers are on the holdout set.",
        )
        .key_values(
            "Run",
            &[
                ("run id".into(), "5e4d100954a54b1a90b5ca5ce10ad496".into()),
                (
                    "dataset".into(),
                    "telco_churn.parquet (7,043 customers)".into(),
                ),
                ("target".into(), "churned within 90 days".into()),
                ("seed".into(), "42".into()),
            ],
        )
        .table(
            "Holdout metrics",
            &[
                "model".into(),
                "AUC".into(),
                "log loss".into(),
                "Brier".into(),
                "lift@10%".into(),
            ],
            &[
                vec![
                    "gbdt".into(),
                    "0.847".into(),
                    "0.412".into(),
                    "0.131".into(),
                    "3.1".into(),
                ],
                vec![
                    "logistic".into(),
                    "0.812".into(),
                    "0.447".into(),
                    "0.142".into(),
                    "2.7".into(),
                ],
                vec![
                    "cox → churn@90d".into(),
                    "0.795".into(),
                    "0.465".into(),
                    "0.148".into(),
                    "2.5".into(),
                ],
                vec!["<script>alert(1)</script>".into(), "n/a".into()],
            ],
        )
        .line_chart("Learning curves", &curves)
        .line_chart("ROC", &roc)
        .line_chart(
            "Empty chart",
            &LineChart::new("x", "y").with_series("nothing", vec![(f64::NAN, 1.0)]),
        )
        .preformatted("[model]\nfamily = \"gbdt\"\nlearning_rate = 0.05\nmax_depth = 6");
    report.write(&path)?;
    println!("wrote {}", path.display());
    Ok(())
}
