//! Self-contained HTML reports with inline SVG plots.
//!
//! [`HtmlReport`] collects paragraphs, key/value lists, tables and
//! [`LineChart`]s and renders them to one HTML file: CSS inline, no scripts,
//! no external assets, every piece of text escaped. Charts are plain SVG
//! ([`svg_line_chart`]) with round tick values, a legend, gaps where values
//! are missing, and long series thinned to what the pixels can show.
//!
//! ```
//! use tenure_report::{HtmlReport, LineChart, Series};
//!
//! let roc = LineChart {
//!     x_label: "false positive rate".into(),
//!     y_label: "true positive rate".into(),
//!     series: vec![Series::new("gbdt (AUC 0.83)", vec![(0.0, 0.0), (0.1, 0.6), (0.4, 0.9), (1.0, 1.0)])],
//!     diagonal: true,
//!     x_range: Some((0.0, 1.0)),
//!     y_range: Some((0.0, 1.0)),
//! };
//! let mut report = HtmlReport::new("Churn model <v2>");
//! report
//!     .paragraph("Holdout: last 90 days.")
//!     .key_values("Data", &[("rows".into(), "7043".into())])
//!     .table("Metrics", &["model".into(), "AUC".into()], &[vec!["gbdt".into(), "0.83".into()]])
//!     .line_chart("ROC", &roc);
//! let html = report.render();
//! assert!(html.contains("<title>Churn model &lt;v2&gt;</title>"));
//! assert!(html.contains("<svg"));
//!
//! let dir = tempfile::tempdir()?;
//! report.write(&dir.path().join("report.html"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chart;
mod downsample;
mod error;
mod html;

pub use chart::{
    Band, BarChart, Bars, Interval, IntervalChart, LineChart, PALETTE, Series, format_ticks,
    interval_chart_height, nice_ticks, svg_bar_chart, svg_interval_chart, svg_line_chart,
    svg_line_chart_with_bands,
};
pub use downsample::{MAX_SVG_POINTS, downsample, lttb};
pub use error::ReportError;
pub use html::{HtmlReport, escape, looks_numeric};
