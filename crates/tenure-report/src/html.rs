use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use crate::chart::{
    Band, BarChart, IntervalChart, LineChart, interval_chart_height, svg_bar_chart,
    svg_interval_chart, svg_line_chart, svg_line_chart_with_bands,
};
use crate::error::ReportError;

/// Size charts are drawn at; CSS scales them down on narrow screens.
const CHART_WIDTH: u32 = 820;
const CHART_HEIGHT: u32 = 380;

/// Escapes text for HTML (and SVG) element content and quoted attribute
/// values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a table cell reads as a number (and so is right-aligned): plain
/// or scientific numbers, with optional sign, thousands separators, a
/// trailing `%`, `nan`/`inf`, or an `a ± b` pair of those.
pub fn looks_numeric(cell: &str) -> bool {
    let cell = cell.trim();
    if let Some((a, b)) = cell.split_once('±') {
        return looks_numeric(a) && looks_numeric(b);
    }
    let body = cell.strip_suffix('%').unwrap_or(cell).trim_end();
    let body = body.strip_prefix(['+', '-', '−']).unwrap_or(body);
    if body.eq_ignore_ascii_case("nan")
        || body.eq_ignore_ascii_case("inf")
        || body.eq_ignore_ascii_case("infinity")
    {
        return true;
    }
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.replace(',', "").parse::<f64>().is_ok()
}

#[derive(Debug, Clone)]
enum Block {
    Paragraph(String),
    Preformatted(String),
    KeyValues {
        heading: String,
        pairs: Vec<(String, String)>,
    },
    Table {
        heading: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Chart {
        heading: String,
        svg: String,
    },
}

/// A single-file HTML report: text, tables and SVG charts, with inline CSS
/// and no scripts, so it opens anywhere, offline, and can be attached to a
/// run as one artifact. All text is escaped.
#[derive(Debug, Clone)]
pub struct HtmlReport {
    title: String,
    blocks: Vec<Block>,
}

impl HtmlReport {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// A paragraph; line breaks in `text` are kept.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// A monospaced block (a config dump, a command line).
    pub fn preformatted(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Preformatted(text.into()));
        self
    }

    /// A two-column list of names and values under a heading.
    pub fn key_values(&mut self, heading: &str, pairs: &[(String, String)]) -> &mut Self {
        self.blocks.push(Block::KeyValues {
            heading: heading.to_string(),
            pairs: pairs.to_vec(),
        });
        self
    }

    /// A table; cells that look numeric are right-aligned, as are headers of
    /// all-numeric columns. Short rows are padded with empty cells.
    pub fn table(&mut self, heading: &str, header: &[String], rows: &[Vec<String>]) -> &mut Self {
        self.blocks.push(Block::Table {
            heading: heading.to_string(),
            header: header.to_vec(),
            rows: rows.to_vec(),
        });
        self
    }

    /// A line chart (rendered now, as inline SVG).
    pub fn line_chart(&mut self, heading: &str, chart: &LineChart) -> &mut Self {
        self.blocks.push(Block::Chart {
            heading: heading.to_string(),
            svg: svg_line_chart(chart, CHART_WIDTH, CHART_HEIGHT),
        });
        self
    }

    /// A line chart with shaded bands (confidence intervals) under its
    /// lines; band `i` takes the colour of series `i`.
    pub fn line_chart_with_bands(
        &mut self,
        heading: &str,
        chart: &LineChart,
        bands: &[Band],
    ) -> &mut Self {
        self.blocks.push(Block::Chart {
            heading: heading.to_string(),
            svg: svg_line_chart_with_bands(chart, bands, CHART_WIDTH, CHART_HEIGHT),
        });
        self
    }

    /// A bar chart (a histogram), rendered now as inline SVG.
    pub fn bar_chart(&mut self, heading: &str, chart: &BarChart) -> &mut Self {
        self.blocks.push(Block::Chart {
            heading: heading.to_string(),
            svg: svg_bar_chart(chart, CHART_WIDTH, CHART_HEIGHT / 4 * 3),
        });
        self
    }

    /// A forest plot of estimates with their intervals, as inline SVG.
    pub fn interval_chart(&mut self, heading: &str, chart: &IntervalChart) -> &mut Self {
        self.blocks.push(Block::Chart {
            heading: heading.to_string(),
            svg: svg_interval_chart(chart, CHART_WIDTH, interval_chart_height(chart.rows.len())),
        });
        self
    }

    /// The same report as GitHub-flavoured Markdown, for CI comments and
    /// terminals: paragraphs, key/value lists and tables as text and tables;
    /// each chart as its heading with a pointer to the HTML version.
    pub fn render_markdown(&self) -> String {
        let mut out = format!("# {}\n", markdown_text(&self.title));
        for block in &self.blocks {
            out.push('\n');
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "{}", markdown_text(text));
                }
                Block::Preformatted(text) => {
                    let _ = writeln!(out, "```\n{}\n```", text.trim_end());
                }
                Block::KeyValues { heading, pairs } => {
                    markdown_heading(&mut out, heading);
                    let rows: Vec<Vec<String>> = pairs
                        .iter()
                        .map(|(k, v)| vec![k.clone(), v.clone()])
                        .collect();
                    markdown_table(&mut out, &[String::new(), String::new()], &rows);
                }
                Block::Table {
                    heading,
                    header,
                    rows,
                } => {
                    markdown_heading(&mut out, heading);
                    markdown_table(&mut out, header, rows);
                }
                Block::Chart { heading, .. } => {
                    markdown_heading(&mut out, heading);
                    let _ = writeln!(out, "*Chart: see the HTML report.*");
                }
            }
        }
        out
    }

    /// The whole document.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let title = escape(&self.title);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
             <h1>{title}</h1>\n"
        );
        for block in &self.blocks {
            render_block(&mut out, block);
        }
        out.push_str("<footer>Generated by tenure</footer>\n</main>\n</body>\n</html>\n");
        out
    }

    /// Writes the report to `path` atomically (a temporary file in the same
    /// directory, synced, then renamed over `path`), so a reader or a crash
    /// never leaves half a report. Creates the directory if needed.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir).map_err(ReportError::io("create directory", dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-report-")
            .tempfile_in(dir)
            .map_err(ReportError::io("create a temporary file in", dir))?;
        tmp.write_all(self.render().as_bytes())
            .map_err(ReportError::io("write a temporary file for", path))?;
        tmp.as_file()
            .sync_all()
            .map_err(ReportError::io("sync a temporary file for", path))?;
        // On failure the temporary file is deleted when `tmp` drops.
        tmp.persist(path)
            .map_err(|e| ReportError::io("rename a temporary file onto", path)(e.error))?;
        Ok(())
    }
}

/// Markdown inline text: characters that would start markup are escaped
/// and line breaks kept.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("  \n"),
            c => out.push(c),
        }
    }
    out
}

fn markdown_heading(out: &mut String, text: &str) {
    if !text.is_empty() {
        let _ = writeln!(out, "## {}\n", markdown_text(text));
    }
}

/// A GitHub-flavoured table; numeric columns right-aligned.
fn markdown_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0)
        .max(1);
    let cell = |row: &[String], c: usize| {
        markdown_text(row.get(c).map_or("", String::as_str)).replace("  \n", " ")
    };
    let numeric: Vec<bool> = (0..columns)
        .map(|c| {
            let cells: Vec<&str> = rows
                .iter()
                .filter_map(|r| r.get(c).map(String::as_str))
                .filter(|s| !s.trim().is_empty())
                .collect();
            !cells.is_empty() && cells.iter().all(|s| looks_numeric(s))
        })
        .collect();
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let _ = writeln!(
        out,
        "{}",
        line((0..columns).map(|c| cell(header, c)).collect())
    );
    let _ = writeln!(
        out,
        "{}",
        line(
            numeric
                .iter()
                .map(|&n| if n {
                    "---:".to_string()
                } else {
                    "---".to_string()
                })
                .collect()
        )
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{}",
            line((0..columns).map(|c| cell(row, c)).collect())
        );
    }
}

fn heading(out: &mut String, text: &str) {
    if !text.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(text));
    }
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text) => {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
        Block::Preformatted(text) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(text));
        }
        Block::KeyValues { heading: h, pairs } => {
            out.push_str("<section>\n");
            heading(out, h);
            out.push_str("<table class=\"kv\">\n<tbody>\n");
            for (k, v) in pairs {
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                    escape(k),
                    escape(v)
                );
            }
            out.push_str("</tbody>\n</table>\n</section>\n");
        }
        Block::Table {
            heading: h,
            header,
            rows,
        } => {
            out.push_str("<section>\n");
            heading(out, h);
            render_table(out, header, rows);
            out.push_str("</section>\n");
        }
        Block::Chart { heading: h, svg } => {
            out.push_str("<section>\n");
            heading(out, h);
            let _ = write!(
                out,
                "<figure class=\"chart\">\n{svg}</figure>\n</section>\n"
            );
        }
    }
}

fn render_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    let cell = |row: &[String], c: usize| row.get(c).map_or("", String::as_str).to_string();
    let numeric_column: Vec<bool> = (0..columns)
        .map(|c| {
            let mut cells = rows
                .iter()
                .map(|r| cell(r, c))
                .filter(|s| !s.trim().is_empty());
            let mut any = false;
            let all = cells.all(|s| {
                any = true;
                looks_numeric(&s)
            });
            all && any
        })
        .collect();
    let class = |numeric: bool| if numeric { " class=\"num\"" } else { "" };

    out.push_str("<div class=\"table-wrap\">\n<table class=\"data\">\n");
    if !header.is_empty() {
        out.push_str("<thead><tr>");
        for (c, numeric) in numeric_column.iter().enumerate() {
            let _ = write!(
                out,
                "<th scope=\"col\"{}>{}</th>",
                class(*numeric),
                escape(&cell(header, c))
            );
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">no rows</td></tr>",
            columns.max(1)
        );
    }
    for row in rows {
        out.push_str("<tr>");
        for c in 0..columns {
            let text = cell(row, c);
            let _ = write!(
                out,
                "<td{}>{}</td>",
                class(looks_numeric(&text)),
                escape(&text)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 920px; margin: 32px auto; padding: 32px 40px; background: #fff;
  border: 1px solid #e5e7eb; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.06); }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 20px; padding-bottom: 12px;
  border-bottom: 2px solid #e5e7eb; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 30px 0 10px; color: #1f2937; overflow-wrap: anywhere; }
p { margin: 10px 0; white-space: pre-line; overflow-wrap: anywhere; }
pre { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table.data { width: 100%; }
table.data th, table.data td { padding: 6px 12px; text-align: left; border-bottom: 1px solid #e5e7eb; }
table.data thead th { background: #f9fafb; border-bottom: 2px solid #d1d5db; font-weight: 600;
  white-space: nowrap; }
table.data tbody tr:nth-child(even) { background: #fafafa; }
table.data tbody tr:hover { background: #eef2ff; }
table.data .num { text-align: right; white-space: nowrap; }
table.data td.empty { color: #6b7280; font-style: italic; text-align: center; }
table.kv th, table.kv td { padding: 4px 16px 4px 0; text-align: left; vertical-align: top;
  border-bottom: 1px solid #f3f4f6; }
table.kv th { color: #4b5563; font-weight: 500; white-space: nowrap; }
table.kv td { overflow-wrap: anywhere; }
figure.chart { margin: 8px 0 0; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid #e5e7eb; color: #9ca3af;
  font-size: 12px; }
@media (max-width: 700px) { main { margin: 0; padding: 20px; border-radius: 0; } }
@media print { body { background: #fff; } main { border: 0; box-shadow: none; margin: 0; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_cells() {
        for yes in [
            "1",
            "-2.5",
            "+3",
            "1e-5",
            "1,234.5",
            "12%",
            " 0.81 ± 0.02 ",
            "NaN",
            "-inf",
            ".5",
        ] {
            assert!(looks_numeric(yes), "{yes}");
        }
        for no in [
            "",
            "abc",
            "1.2.3",
            "v2",
            "e5",
            "-",
            "%",
            "12 apples",
            "inf-ish",
        ] {
            assert!(!looks_numeric(no), "{no}");
        }
    }
}
