//! Line charts as standalone SVG: axes with round tick values, a legend,
//! gaps where data is missing.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::downsample::{MAX_SVG_POINTS, downsample};
use crate::escape;

/// A line chart: one or more named series over shared axes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Draw the dashed `y = x` reference line (the chance line of a ROC
    /// curve, the ideal of a calibration plot).
    pub diagonal: bool,
    /// Fixed axis range; `None` fits the data and rounds out to ticks.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
}

impl LineChart {
    pub fn new(x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Self {
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }

    /// Adds a series (builder style).
    pub fn with_series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.series.push(Series::new(name, points));
        self
    }
}

/// One line. Points with a non-finite coordinate are gaps in the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// A shaded interval around a line, such as a confidence band: at each
/// `x`, the range `[low, high]`. Band `i` of a chart takes the colour of
/// series `i`. Points with a non-finite value are gaps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub name: String,
    /// `(x, low, high)`.
    pub points: Vec<(f64, f64, f64)>,
}

impl Band {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// Line colours: Tableau 10, distinguishable for the common forms of colour
/// blindness and in greyscale print. Past ten series the colours repeat with
/// a dash pattern.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];
const DASHES: [&str; 4] = ["", "7 4", "2 3", "9 3 2 3"];

const FONT_PX: f64 = 12.0;
/// Average advance of a character of the sans-serif UI fonts at 12 px; used to
/// size margins without measuring text.
const CHAR_PX: f64 = 6.8;
const LEGEND_ROW_PX: f64 = 18.0;
const MAX_LEGEND_CHARS: usize = 28;
/// Mapped coordinates are clamped to this many pixels: a point far outside a
/// fixed range must not print as `inf` (it is clipped from view anyway).
const COORD_LIMIT: f64 = 1e5;

/// Round tick values inside `[lo, hi]`: multiples of a step that is 1, 2 or 5
/// times a power of ten, at most `target + 1` of them when `target` is 5 or
/// more, and never fewer than two for a non-empty interval.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return Vec::new();
    }
    if lo == hi {
        return vec![lo];
    }
    let mut step = nice_step((hi - lo) / target.max(1) as f64);
    let mut ticks = ticks_with_step(lo, hi, step);
    // A small target can leave a single multiple inside the interval; finer
    // steps always find two.
    while ticks.len() < 2 && step.is_finite() && step > 0.0 {
        step = finer_step(step);
        ticks = ticks_with_step(lo, hi, step);
    }
    ticks
}

/// The next smaller 1/2/5 × 10^k step.
fn finer_step(step: f64) -> f64 {
    let base = 10f64.powf((step.log10() + 1e-9).floor());
    let mantissa = (step / base).round();
    if mantissa >= 5.0 {
        2.0 * base
    } else if mantissa >= 2.0 {
        base
    } else {
        0.5 * base
    }
}

/// The smallest 1/2/5 × 10^k step at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let mantissa = raw / base;
    let nice = if mantissa <= 1.0 + 1e-9 {
        1.0
    } else if mantissa <= 2.0 + 1e-9 {
        2.0
    } else if mantissa <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * base
}

fn ticks_with_step(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(step.is_finite() && step > 0.0) {
        return vec![lo, hi];
    }
    // The tolerance keeps an end that is a tick up to rounding (0.3 vs
    // 0.30000000000000004) from being dropped.
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| {
            let t = k as f64 * step;
            if t.abs() < step * 1e-9 { 0.0 } else { t }
        })
        .collect()
}

/// Labels for evenly spaced ticks, all with the same number of decimals
/// (enough to tell neighbours apart), in scientific notation for very large
/// or very small magnitudes.
pub fn format_ticks(ticks: &[f64]) -> Vec<String> {
    let max_abs = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => max_abs,
    };
    let step_exp = if step > 0.0 {
        (step.log10() + 1e-9).floor()
    } else {
        0.0
    };
    let scientific = max_abs >= 1e6 || (max_abs > 0.0 && max_abs < 1e-3);
    ticks
        .iter()
        .map(|&t| {
            let s = if scientific {
                if t == 0.0 {
                    return "0".to_string();
                }
                let digits = ((t.abs().log10() + 1e-9).floor() - step_exp).clamp(0.0, 15.0);
                format!("{:.*e}", digits as usize, t)
            } else {
                format!("{:.*}", (-step_exp).clamp(0.0, 15.0) as usize, t)
            };
            // Rounding can leave "-0.00" for a tiny negative.
            if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                s[1..].to_string()
            } else {
                s
            }
        })
        .collect()
}

/// An axis: its data range after rounding, and its ticks.
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    labels: Vec<String>,
}

impl Axis {
    fn new(fixed: Option<(f64, f64)>, values: impl Iterator<Item = f64>, target: usize) -> Self {
        if let Some((lo, hi)) = fixed.filter(|(a, b)| a.is_finite() && b.is_finite() && a < b) {
            return Self::with_ticks(lo, hi, nice_ticks(lo, hi, target));
        }
        let (mut lo, mut hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        if lo == hi {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = (lo - pad, hi + pad);
        }
        if !(hi - lo).is_finite() {
            // Data spanning most of f64: no round ticks worth drawing.
            return Self::with_ticks(lo, hi, vec![lo, hi]);
        }
        // Round the ends out to whole steps so the data never touches a
        // frame edge at an odd value.
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
        Self::with_ticks(lo, hi, ticks_with_step(lo, hi, step))
    }

    fn with_ticks(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        let labels = format_ticks(&ticks);
        Self {
            lo,
            hi,
            ticks,
            labels,
        }
    }

    /// Pixel position of `v` on an axis drawn from `from` to `to`.
    fn map(&self, v: f64, from: f64, to: f64) -> f64 {
        // Halved so that data spanning most of f64 does not overflow to inf.
        let t = (v * 0.5 - self.lo * 0.5) / (self.hi * 0.5 - self.lo * 0.5);
        (from + t * (to - from)).clamp(-COORD_LIMIT, COORD_LIMIT)
    }
}

fn truncate_label(name: &str) -> String {
    if name.chars().count() <= MAX_LEGEND_CHARS {
        name.to_string()
    } else {
        let head: String = name.chars().take(MAX_LEGEND_CHARS - 1).collect();
        format!("{head}…")
    }
}

/// Renders `chart` as a standalone SVG document of `width` × `height` pixels
/// (it scales, keeping its aspect, when CSS resizes it).
///
/// Non-finite points break the line instead of reaching the output, a point
/// with no finite neighbour is drawn as a dot, series longer than 2000 points
/// are thinned (see [`crate::downsample()`]) and a chart without any finite
/// point says "no data".
pub fn svg_line_chart(chart: &LineChart, width: u32, height: u32) -> String {
    svg_line_chart_with_bands(chart, &[], width, height)
}

/// [`svg_line_chart`] with shaded [`Band`]s under the lines (band `i` in
/// the colour of series `i`); the axes fit the bands too.
pub fn svg_line_chart_with_bands(
    chart: &LineChart,
    bands: &[Band],
    width: u32,
    height: u32,
) -> String {
    let w = f64::from(width.max(240));
    let h = f64::from(height.max(160));

    let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
    let band_points = bands
        .iter()
        .flat_map(|b| b.points.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]));
    let all_points = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .chain(band_points.clone())
    };
    let has_data = all_points().any(|p| finite(&p));

    // Vertical layout first: the y tick labels decide the left margin.
    let top = 12.0;
    let bottom = if chart.x_label.is_empty() { 30.0 } else { 48.0 };
    let y_target = ((h - top - bottom) / 45.0).clamp(2.0, 8.0) as usize;
    let y_axis = Axis::new(
        chart.y_range,
        all_points().filter(finite).map(|p| p.1),
        y_target,
    );
    let y_label_chars = y_axis
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let left =
        if chart.y_label.is_empty() { 8.0 } else { 26.0 } + y_label_chars as f64 * CHAR_PX + 8.0;

    let legend_chars = chart
        .series
        .iter()
        .map(|s| truncate_label(&s.name).chars().count())
        .max();
    let legend_w = legend_chars.map_or(0.0, |c| (34.0 + c as f64 * CHAR_PX).min(w * 0.35));
    let (x0, x1) = (left, w - 14.0 - legend_w);
    let (y0, y1) = (top, h - bottom);

    let x_target = ((x1 - x0) / 80.0).clamp(2.0, 10.0) as usize;
    let x_axis = Axis::new(
        chart.x_range,
        all_points().filter(finite).map(|p| p.0),
        x_target,
    );
    let sx = |x: f64| x_axis.map(x, x0, x1);
    let sy = |y: f64| y_axis.map(y, y1, y0);

    // The series paths come first so the clip-path id can be derived from
    // them: several charts on one page must not share an id with different
    // geometry.
    let mut series_svg = String::new();
    for (i, band) in bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let name = escape(&band.name);
        for d in band_paths(&band.points, &sx, &sy) {
            let _ = writeln!(
                series_svg,
                r#"<path d="{d}" fill="{color}" fill-opacity="0.18" stroke="none"><title>{name}</title></path>"#
            );
        }
    }
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let dash = DASHES[(i / PALETTE.len()) % DASHES.len()];
        let points = downsample(&s.points, MAX_SVG_POINTS);
        let (path, dots) = path_data(&points, &sx, &sy);
        let name = escape(&s.name);
        if !path.is_empty() {
            let _ = write!(
                series_svg,
                r#"<path d="{path}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round""#
            );
            if !dash.is_empty() {
                let _ = write!(series_svg, r#" stroke-dasharray="{dash}""#);
            }
            let _ = writeln!(series_svg, "><title>{name}</title></path>");
        }
        for (cx, cy) in dots {
            let _ = writeln!(
                series_svg,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="2.5" fill="{color}"><title>{name}</title></circle>"#
            );
        }
    }
    let clip_id = format!(
        "tenure-clip-{:016x}",
        fnv1a(format!("{w}x{h}|{x0}|{x1}|{series_svg}").as_bytes())
    );

    let mut svg = String::with_capacity(series_svg.len() + 4096);
    let aria = escape(&format!("{} vs {}", chart.y_label, chart.x_label));
    write_svg_start(&mut svg, w, h, &aria);
    let (pw, ph) = (x1 - x0, y1 - y0);
    let _ = writeln!(
        svg,
        r#"<defs><clipPath id="{clip_id}"><rect x="{x0:.1}" y="{y0:.1}" width="{pw:.1}" height="{ph:.1}"/></clipPath></defs>"#
    );
    write_plot_background(&mut svg, (x0, x1, y0, y1));

    write_grid(&mut svg, &x_axis, Some(&y_axis), &sx, &sy, (x0, x1, y0, y1));
    write_axis_titles(
        &mut svg,
        &chart.x_label,
        &chart.y_label,
        (x0, x1, y0, y1),
        h,
    );

    // Data, clipped to the frame so fixed ranges may cut lines.
    let _ = writeln!(svg, r#"<g clip-path="url(#{clip_id})">"#);
    if chart.diagonal {
        let a = x_axis.lo.max(y_axis.lo);
        let b = x_axis.hi.min(y_axis.hi);
        if a < b {
            let _ = writeln!(
                svg,
                r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#9ca3af" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
                sx(a),
                sy(a),
                sx(b),
                sy(b)
            );
        }
    }
    svg.push_str(&series_svg);
    let _ = writeln!(svg, "</g>");
    write_plot_end(&mut svg, has_data, (x0, x1, y0, y1));

    let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
    write_legend(&mut svg, &names, x1 + 14.0, y0, y1);
    svg.push_str("</svg>\n");
    svg
}

/// A bar chart over intervals of x (a histogram): one or more named sets of
/// bars drawn over each other, translucent, so that distributions compare.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Bars>,
    /// Fixed x range; `None` fits the bars.
    pub x_range: Option<(f64, f64)>,
}

/// One set of bars: `(lower, upper, height)` per interval. Bars with a
/// non-finite value are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bars {
    pub name: String,
    pub bars: Vec<(f64, f64, f64)>,
}

impl Bars {
    pub fn new(name: impl Into<String>, bars: Vec<(f64, f64, f64)>) -> Self {
        Self {
            name: name.into(),
            bars,
        }
    }
}

/// Renders a [`BarChart`] as a standalone SVG document, with the same axes,
/// grid and legend as [`svg_line_chart`]; the y axis starts at 0.
pub fn svg_bar_chart(chart: &BarChart, width: u32, height: u32) -> String {
    let w = f64::from(width.max(240));
    let h = f64::from(height.max(160));
    let finite = |b: &&(f64, f64, f64)| b.0.is_finite() && b.1.is_finite() && b.2.is_finite();
    let all = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.bars.iter())
            .filter(finite)
    };
    let has_data = all().next().is_some();

    let top = 12.0;
    let bottom = if chart.x_label.is_empty() { 30.0 } else { 48.0 };
    let y_target = ((h - top - bottom) / 45.0).clamp(2.0, 8.0) as usize;
    let y_axis = Axis::new(None, all().map(|b| b.2).chain([0.0]), y_target);
    let y_label_chars = y_axis
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let left =
        if chart.y_label.is_empty() { 8.0 } else { 26.0 } + y_label_chars as f64 * CHAR_PX + 8.0;
    let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
    let legend_w = names
        .iter()
        .map(|n| truncate_label(n).chars().count())
        .max()
        .map_or(0.0, |c| (34.0 + c as f64 * CHAR_PX).min(w * 0.35));
    let (x0, x1) = (left, w - 14.0 - legend_w);
    let (y0, y1) = (top, h - bottom);
    let x_target = ((x1 - x0) / 80.0).clamp(2.0, 10.0) as usize;
    let x_axis = Axis::new(chart.x_range, all().flat_map(|b| [b.0, b.1]), x_target);
    let sx = |x: f64| x_axis.map(x, x0, x1);
    let sy = |y: f64| y_axis.map(y, y1, y0);

    let mut svg = String::with_capacity(8192);
    let aria = escape(&format!("{} by {}", chart.y_label, chart.x_label));
    write_svg_start(&mut svg, w, h, &aria);
    write_plot_background(&mut svg, (x0, x1, y0, y1));
    write_grid(&mut svg, &x_axis, Some(&y_axis), &sx, &sy, (x0, x1, y0, y1));
    write_axis_titles(
        &mut svg,
        &chart.x_label,
        &chart.y_label,
        (x0, x1, y0, y1),
        h,
    );
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let name = escape(&s.name);
        for &(lo, hi, v) in s.bars.iter().filter(finite) {
            let (bx0, bx1) = (sx(lo.min(hi)), sx(lo.max(hi)));
            let (by0, by1) = (sy(v.max(0.0)), sy(v.min(0.0)));
            let _ = writeln!(
                svg,
                r#"<rect x="{bx0:.1}" y="{by0:.1}" width="{:.1}" height="{:.1}" fill="{color}" fill-opacity="0.45" stroke="{color}" stroke-width="1"><title>{name}: {v} in [{lo}, {hi}]</title></rect>"#,
                (bx1 - bx0).max(0.5),
                (by1 - by0).max(0.0),
            );
        }
    }
    write_plot_end(&mut svg, has_data, (x0, x1, y0, y1));
    write_legend(&mut svg, &names, x1 + 14.0, y0, y1);
    svg.push_str("</svg>\n");
    svg
}

/// The `<svg>` element's opening tag.
fn write_svg_start(svg: &mut String, w: f64, h: f64, aria: &str) {
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{aria}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" font-size="{FONT_PX}">"#
    );
}

/// The white plot area under the grid.
fn write_plot_background(svg: &mut String, (x0, x1, y0, y1): (f64, f64, f64, f64)) {
    let (pw, ph) = (x1 - x0, y1 - y0);
    let _ = writeln!(
        svg,
        r##"<rect x="{x0:.1}" y="{y0:.1}" width="{pw:.1}" height="{ph:.1}" fill="#ffffff"/>"##
    );
}

/// "no data" across an empty plot, and the frame, drawn over the data so
/// that lines ending on the edge look crisp.
fn write_plot_end(svg: &mut String, has_data: bool, (x0, x1, y0, y1): (f64, f64, f64, f64)) {
    if !has_data {
        let (x, y) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#9ca3af" font-size="14">no data</text>"##
        );
    }
    let (pw, ph) = (x1 - x0, y1 - y0);
    let _ = writeln!(
        svg,
        r##"<rect x="{x0:.1}" y="{y0:.1}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#9ca3af" stroke-width="1"/>"##
    );
}

/// Grid lines and tick labels of the x axis and, when given, the y axis.
fn write_grid(
    svg: &mut String,
    x_axis: &Axis,
    y_axis: Option<&Axis>,
    sx: &impl Fn(f64) -> f64,
    sy: &impl Fn(f64) -> f64,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) {
    let _ = writeln!(svg, r##"<g stroke="#e5e7eb" stroke-width="1">"##);
    for &t in &x_axis.ticks {
        let x = sx(t);
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}"/>"#
        );
    }
    for &t in y_axis.iter().flat_map(|a| &a.ticks) {
        let y = sy(t);
        let _ = writeln!(
            svg,
            r#"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}"/>"#
        );
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, r##"<g fill="#4b5563">"##);
    for (&t, label) in x_axis.ticks.iter().zip(&x_axis.labels) {
        let (x, y) = (sx(t), y1 + 17.0);
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle">{}</text>"#,
            escape(label)
        );
    }
    for (&t, label) in y_axis.iter().flat_map(|a| a.ticks.iter().zip(&a.labels)) {
        let (x, y) = (x0 - 7.0, sy(t) + 4.0);
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end">{}</text>"#,
            escape(label)
        );
    }
    let _ = writeln!(svg, "</g>");
}

fn write_axis_titles(
    svg: &mut String,
    x_label: &str,
    y_label: &str,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    h: f64,
) {
    if !x_label.is_empty() {
        let (x, y) = ((x0 + x1) / 2.0, h - 10.0);
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#111827" font-weight="600">{}</text>"##,
            escape(x_label)
        );
    }
    if !y_label.is_empty() {
        let (x, y) = (16.0, (y0 + y1) / 2.0);
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#111827" font-weight="600" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"##,
            escape(y_label)
        );
    }
}

/// Closed polygons (upper edge forward, lower edge back) for each finite
/// stretch of a band.
fn band_paths(
    points: &[(f64, f64, f64)],
    sx: &impl Fn(f64) -> f64,
    sy: &impl Fn(f64) -> f64,
) -> Vec<String> {
    points
        .split(|&(x, lo, hi)| !(x.is_finite() && lo.is_finite() && hi.is_finite()))
        .filter(|s| !s.is_empty())
        .map(|stretch| {
            let mut d = String::new();
            for (k, &(x, _, hi)) in stretch.iter().enumerate() {
                let cmd = if k == 0 { 'M' } else { 'L' };
                let _ = write!(d, "{cmd}{:.1},{:.1}", sx(x), sy(hi));
            }
            for &(x, lo, _) in stretch.iter().rev() {
                let _ = write!(d, "L{:.1},{:.1}", sx(x), sy(lo));
            }
            d.push('Z');
            d
        })
        .collect()
}

fn write_legend(svg: &mut String, names: &[&str], lx: f64, y0: f64, y1: f64) {
    let capacity = (((y1 - y0) / LEGEND_ROW_PX).floor() as usize).max(1);
    let n = names.len();
    // With more series than rows, the last row says how many are not listed.
    let shown = if n > capacity { capacity - 1 } else { n };
    for (i, s) in names.iter().take(shown).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let dash = DASHES[(i / PALETTE.len()) % DASHES.len()];
        let y = y0 + 9.0 + i as f64 * LEGEND_ROW_PX;
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = writeln!(
            svg,
            r##"<g><title>{}</title><line x1="{lx:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-width="3"{dash_attr}/><text x="{:.1}" y="{:.1}" fill="#111827">{}</text></g>"##,
            escape(s),
            lx + 20.0,
            lx + 26.0,
            y + 4.0,
            escape(&truncate_label(s))
        );
    }
    if shown < n {
        let y = y0 + 9.0 + shown as f64 * LEGEND_ROW_PX + 4.0;
        let _ = writeln!(
            svg,
            r##"<text x="{lx:.1}" y="{y:.1}" fill="#6b7280">+{} more</text>"##,
            n - shown
        );
    }
}

/// SVG path commands for the finite stretches of `points`, plus the
/// positions of points that stand alone between gaps (a path of one point
/// draws nothing, so those become dots).
fn path_data(
    points: &[(f64, f64)],
    sx: &impl Fn(f64) -> f64,
    sy: &impl Fn(f64) -> f64,
) -> (String, Vec<(f64, f64)>) {
    let mut d = String::new();
    let mut dots = Vec::new();
    for stretch in points
        .split(|&(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|s| !s.is_empty())
    {
        if let [(x, y)] = stretch {
            dots.push((sx(*x), sy(*y)));
            continue;
        }
        for (i, &(x, y)) in stretch.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(d, "{cmd}{:.1},{:.1}", sx(x), sy(y));
        }
    }
    (d, dots)
}

/// FNV-1a: a stable, dependency-free hash for element ids.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_have_no_float_noise() {
        let ticks = nice_ticks(0.0, 1.0, 10);
        assert_eq!(
            format_ticks(&ticks),
            [
                "0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"
            ]
        );
        assert_eq!(
            format_ticks(&nice_ticks(0.0, 2000.0, 4)),
            ["0", "500", "1000", "1500", "2000"]
        );
        assert_eq!(
            format_ticks(&[-0.000_000_1, 0.05, 0.1]),
            ["0.00", "0.05", "0.10"]
        );
        assert_eq!(format_ticks(&[0.0, 2e6, 4e6]), ["0", "2e6", "4e6"]);
        assert_eq!(
            format_ticks(&[1e-5, 1.5e-5, 2e-5]),
            ["1.0e-5", "1.5e-5", "2.0e-5"]
        );
    }

    #[test]
    fn auto_axis_rounds_out_to_ticks() {
        let axis = Axis::new(None, [0.47, 0.69].into_iter(), 5);
        assert!(axis.lo <= 0.47 && axis.hi >= 0.69);
        assert!((axis.lo - axis.ticks[0]).abs() < 1e-12);
        assert!((axis.hi - axis.ticks[axis.ticks.len() - 1]).abs() < 1e-12);
        // A constant series still gets an axis with some height.
        let flat = Axis::new(None, [3.0, 3.0].into_iter(), 5);
        assert!(flat.lo < 3.0 && flat.hi > 3.0);
        // An invalid fixed range falls back to the data.
        let bad = Axis::new(Some((1.0, 1.0)), [5.0, 6.0].into_iter(), 5);
        assert!(bad.lo <= 5.0 && bad.hi >= 6.0);
    }
}

/// A forest plot: one horizontal interval per row (an estimate with its
/// confidence interval) over a shared x axis, with an optional vertical
/// reference line (0 for a difference: no effect).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalChart {
    pub x_label: String,
    /// Drawn top to bottom.
    pub rows: Vec<Interval>,
    pub reference: Option<f64>,
}

/// One row of an [`IntervalChart`]. A row with a non-finite value is
/// listed with "n/a" instead of a mark.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn new(label: impl Into<String>, estimate: f64, low: f64, high: f64) -> Self {
        Self {
            label: label.into(),
            estimate,
            low,
            high,
        }
    }

    fn is_finite(&self) -> bool {
        self.estimate.is_finite() && self.low.is_finite() && self.high.is_finite()
    }
}

const INTERVAL_ROW_PX: f64 = 34.0;

/// The height [`svg_interval_chart`] needs for `rows` rows.
pub fn interval_chart_height(rows: usize) -> u32 {
    // Two rows at least: one interval alone in a sliver reads as a rule.
    (12.0 + 48.0 + INTERVAL_ROW_PX * rows.max(2) as f64) as u32
}

/// Renders an [`IntervalChart`] as a standalone SVG document: the row
/// labels on the left, each interval as a bar with the estimate as a dot,
/// grid and ticks as in [`svg_line_chart`].
pub fn svg_interval_chart(chart: &IntervalChart, width: u32, height: u32) -> String {
    let w = f64::from(width.max(240));
    let h = f64::from(height.max(interval_chart_height(chart.rows.len())));
    let finite = || chart.rows.iter().filter(|r| r.is_finite());
    let has_data = finite().next().is_some();

    let top = 12.0;
    let bottom = if chart.x_label.is_empty() { 30.0 } else { 48.0 };
    let label_chars = chart
        .rows
        .iter()
        .map(|r| truncate_label(&r.label).chars().count())
        .max()
        .unwrap_or(1);
    let (x0, x1) = ((label_chars as f64 * CHAR_PX + 16.0).min(w * 0.4), w - 18.0);
    let (y0, y1) = (top, h - bottom);
    let x_target = ((x1 - x0) / 80.0).clamp(2.0, 10.0) as usize;
    let x_axis = Axis::new(
        None,
        finite()
            .flat_map(|r| [r.low, r.high, r.estimate])
            .chain(chart.reference),
        x_target,
    );
    let sx = |x: f64| x_axis.map(x, x0, x1);
    let row_y = |i: usize| y0 + (i as f64 + 0.5) * (y1 - y0) / chart.rows.len().max(1) as f64;

    let mut svg = String::with_capacity(4096);
    let aria = escape(&format!("intervals of {}", chart.x_label));
    write_svg_start(&mut svg, w, h, &aria);
    write_plot_background(&mut svg, (x0, x1, y0, y1));
    write_grid(&mut svg, &x_axis, None, &sx, &|y: f64| y, (x0, x1, y0, y1));
    write_axis_titles(&mut svg, &chart.x_label, "", (x0, x1, y0, y1), h);
    if let Some(r) = chart.reference.filter(|r| r.is_finite()) {
        let x = sx(r);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="5 4"/>"##
        );
    }
    for (i, row) in chart.rows.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = row_y(i);
        let name = escape(&row.label);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#111827"><title>{name}</title>{}</text>"##,
            x0 - 8.0,
            y + 4.0,
            escape(&truncate_label(&row.label))
        );
        if !row.is_finite() {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" fill="#9ca3af">n/a</text>"##,
                x0 + 8.0,
                y + 4.0
            );
            continue;
        }
        let (bx0, bx1) = (sx(row.low.min(row.high)), sx(row.low.max(row.high)));
        let _ = writeln!(
            svg,
            r##"<g><title>{name}: {} [{}, {}]</title><rect x="{bx0:.1}" y="{:.1}" width="{:.1}" height="4" fill="{color}"/><rect x="{bx0:.1}" y="{:.1}" width="1.5" height="12" fill="{color}"/><rect x="{:.1}" y="{:.1}" width="1.5" height="12" fill="{color}"/><circle cx="{:.1}" cy="{y:.1}" r="5" fill="{color}" stroke="#ffffff" stroke-width="1.5"/></g>"##,
            row.estimate,
            row.low,
            row.high,
            y - 2.0,
            (bx1 - bx0).max(1.0),
            y - 6.0,
            bx1 - 1.5,
            y - 6.0,
            sx(row.estimate),
        );
    }
    write_plot_end(&mut svg, has_data, (x0, x1, y0, y1));
    svg.push_str("</svg>\n");
    svg
}
