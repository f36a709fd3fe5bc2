use tenure_report::{
    HtmlReport, Interval, IntervalChart, LineChart, MAX_SVG_POINTS, PALETTE, Series,
    svg_interval_chart, svg_line_chart,
};

/// Number of vertices in all `<path d=...>` of an SVG.
fn vertices(svg: &str) -> usize {
    svg.split("<path d=\"")
        .skip(1)
        .map(|rest| {
            let d = &rest[..rest.find('"').unwrap()];
            d.matches(['M', 'L']).count()
        })
        .sum()
}

fn assert_no_bad_numbers(svg: &str) {
    for bad in ["NaN", "nan", "inf"] {
        assert!(!svg.contains(bad), "{bad} in svg:\n{svg}");
    }
}

#[test]
fn nan_points_break_the_line_but_never_reach_the_svg() {
    let chart = LineChart::new("step", "loss").with_series(
        "train",
        vec![
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, 0.5),
            (3.0, 0.4),
            (f64::INFINITY, 0.3),
            (5.0, 0.2),
        ],
    );
    let svg = svg_line_chart(&chart, 600, 300);
    assert_no_bad_numbers(&svg);
    // (0,1) and (5,0.2) stand alone between gaps: dots. (2..3) is a line.
    assert_eq!(svg.matches("<circle").count(), 2);
    assert_eq!(vertices(&svg), 2);
}

#[test]
fn empty_and_all_nan_charts_say_no_data() {
    for chart in [
        LineChart::new("x", "y"),
        LineChart::new("x", "y").with_series("s", vec![]),
        LineChart::new("x", "y").with_series("s", vec![(f64::NAN, f64::NAN), (1.0, f64::NAN)]),
    ] {
        let svg = svg_line_chart(&chart, 400, 300);
        assert!(svg.contains("no data"));
        assert_no_bad_numbers(&svg);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}

#[test]
fn extreme_values_and_fixed_ranges_stay_finite() {
    let chart = LineChart {
        series: vec![Series::new(
            "wild",
            vec![(0.0, 1e300), (0.5, -1e300), (1.0, 0.5), (2.0, 1e-300)],
        )],
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
        ..LineChart::new("x", "y")
    };
    assert_no_bad_numbers(&svg_line_chart(&chart, 500, 300));
    let unbounded = LineChart::new("x", "y")
        .with_series("s", vec![(-f64::MAX, f64::MAX), (f64::MAX, -f64::MAX)]);
    assert_no_bad_numbers(&svg_line_chart(&unbounded, 500, 300));
    // A constant series and a degenerate fixed range still draw.
    let flat = LineChart {
        y_range: Some((2.0, 2.0)),
        ..LineChart::new("x", "y").with_series("c", vec![(0.0, 2.0), (1.0, 2.0)])
    };
    let svg = svg_line_chart(&flat, 500, 300);
    assert_no_bad_numbers(&svg);
    assert_eq!(vertices(&svg), 2);
}

#[test]
fn legend_colours_and_diagonal() {
    let series: Vec<Series> = (0..12)
        .map(|i| {
            Series::new(
                format!("model <{i}>"),
                vec![(0.0, 0.0), (1.0, f64::from(i) / 12.0)],
            )
        })
        .collect();
    let chart = LineChart {
        series,
        diagonal: true,
        ..LineChart::new("fpr", "tpr")
    };
    let svg = svg_line_chart(&chart, 900, 500);
    for colour in PALETTE {
        assert!(
            svg.contains(&format!("stroke=\"{colour}\"")),
            "{colour} unused"
        );
    }
    // Series past the palette repeat a colour with a dash pattern.
    assert!(svg.matches("stroke-dasharray").count() >= 3);
    assert!(svg.contains("model &lt;11&gt;"));
    assert!(!svg.contains("model <"));
    assert!(svg.contains(">fpr</text>") && svg.contains(">tpr</text>"));
    // The diagonal is the only dashed grey line.
    assert_eq!(
        svg.matches("stroke=\"#9ca3af\" stroke-width=\"1.5\" stroke-dasharray")
            .count(),
        1
    );
    let without = LineChart {
        diagonal: false,
        ..chart
    };
    assert!(!svg_line_chart(&without, 900, 500).contains("stroke-width=\"1.5\" stroke-dasharray"));
}

#[test]
fn long_series_are_thinned_keeping_their_ends() {
    let n = 50_000;
    let points: Vec<(f64, f64)> = (0..n).map(|i| (f64::from(i), f64::from(i % 97))).collect();
    let chart = LineChart::new("x", "y").with_series("long", points);
    let svg = svg_line_chart(&chart, 800, 400);
    let v = vertices(&svg);
    assert!(
        (MAX_SVG_POINTS / 2..=MAX_SVG_POINTS).contains(&v),
        "{v} vertices"
    );
    // The path spans the whole x range: first and last points kept.
    let d_start = svg.find("<path d=\"M").unwrap() + "<path d=\"M".len();
    let first_x: f64 = svg[d_start..].split(',').next().unwrap().parse().unwrap();
    // Same axes and legend, only the first, the highest and the last point.
    let short = LineChart::new("x", "y").with_series(
        "long",
        vec![
            (0.0, 0.0),
            (1.0, 96.0),
            (f64::from(n - 1), f64::from((n - 1) % 97)),
        ],
    );
    let short_svg = svg_line_chart(&short, 800, 400);
    let s_start = short_svg.find("<path d=\"M").unwrap() + "<path d=\"M".len();
    let short_first_x: f64 = short_svg[s_start..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((first_x - short_first_x).abs() < 0.05);
    let last_of = |svg: &str| -> String {
        let start = svg.find("<path d=\"").unwrap();
        let d = &svg[start + 9..];
        let d = &d[..d.find('"').unwrap()];
        d.rsplit('L').next().unwrap().to_string()
    };
    assert_eq!(last_of(&svg), last_of(&short_svg));
}

#[test]
fn charts_on_one_page_get_distinct_clip_ids() {
    let a = LineChart::new("x", "y").with_series("a", vec![(0.0, 0.0), (1.0, 1.0)]);
    let b = LineChart::new("x", "y").with_series("b", vec![(0.0, 1.0), (1.0, 0.0)]);
    let mut report = HtmlReport::new("two charts");
    report.line_chart("A", &a).line_chart("B", &b);
    let html = report.render();
    let ids: Vec<&str> = html
        .match_indices("<clipPath id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    // Deterministic: the same chart renders byte-identically.
    assert_eq!(svg_line_chart(&a, 400, 300), svg_line_chart(&a, 400, 300));
}

#[test]
fn bands_are_shaded_polygons_in_their_series_colour_and_gaps_break_them() {
    use tenure_report::{Band, svg_line_chart_with_bands};
    let chart = LineChart::new("predicted", "observed")
        .with_series("model", vec![(0.1, 0.12), (0.5, 0.45), (0.9, 0.8)]);
    let band = Band::new(
        "95% interval",
        vec![
            (0.1, 0.05, 0.2),
            (0.3, f64::NAN, 0.4),
            (0.5, 0.4, 0.5),
            (0.9, 0.7, 1.3),
        ],
    );
    let svg = svg_line_chart_with_bands(&chart, &[band], 600, 300);
    assert_no_bad_numbers(&svg);
    let polygons: Vec<&str> = svg
        .split("<path d=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find("</path>").unwrap()])
        .filter(|p| p.contains("fill-opacity"))
        .collect();
    // Two stretches around the NaN: two closed polygons.
    assert_eq!(polygons.len(), 2, "{svg}");
    assert!(
        polygons
            .iter()
            .all(|p| p.contains('Z') && p.contains(PALETTE[0]))
    );
    // The axis reaches the band's top (1.3), not only the line's.
    assert!(svg.contains(">1.4<") || svg.contains(">1.5<"), "{svg}");
}

#[test]
fn bar_charts_draw_one_rect_per_finite_bar_from_zero() {
    use tenure_report::{BarChart, Bars, svg_bar_chart};
    let chart = BarChart {
        x_label: "predicted probability".into(),
        y_label: "customers".into(),
        series: vec![
            Bars::new("before", vec![(0.0, 0.5, 30.0), (0.5, 1.0, 10.0)]),
            Bars::new("after", vec![(0.0, 0.5, 25.0), (0.5, 1.0, f64::NAN)]),
        ],
        x_range: Some((0.0, 1.0)),
    };
    let svg = svg_bar_chart(&chart, 600, 300);
    assert_no_bad_numbers(&svg);
    let bars = svg.matches("fill-opacity=\"0.45\"").count();
    assert_eq!(bars, 3);
    assert!(svg.contains(PALETTE[0]) && svg.contains(PALETTE[1]));
    assert!(svg.contains(">before<") && svg.contains(">after<"));
    assert!(svg.contains(">0<"), "the y axis starts at 0: {svg}");
    let empty = svg_bar_chart(&BarChart::default(), 600, 300);
    assert!(empty.contains("no data"));
}

/// The numeric value of attribute `name` in each element starting `tag`.
fn attrs(svg: &str, tag: &str, name: &str) -> Vec<f64> {
    svg.split(tag)
        .skip(1)
        .map(|rest| {
            let at = rest.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            rest[at..at + rest[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn intervals_sit_on_one_axis_with_the_reference_line() {
    let chart = IntervalChart {
        x_label: "effect".into(),
        rows: vec![
            Interval::new("difference", 0.02, -0.01, 0.05),
            Interval::new("CUPED difference", 0.025, 0.005, 0.045),
            Interval::new("undefined", f64::NAN, f64::NAN, f64::NAN),
        ],
        reference: Some(0.0),
    };
    let svg = svg_interval_chart(&chart, 600, 200);
    assert_no_bad_numbers(&svg);
    assert!(svg.contains(">n/a</text>"), "the NaN row is listed as n/a");
    // One dot per finite row, top to bottom, each inside its bar.
    let cx = attrs(&svg, "<circle", "cx");
    let cy = attrs(&svg, "<circle", "cy");
    assert_eq!(cx.len(), 2);
    assert!(cy[0] < cy[1], "rows keep their order: {cy:?}");
    // Bars are the 4-pixel-high rects; the x of the axis is linear, so the
    // estimates' positions within their bars follow the data.
    let bars: Vec<(f64, f64)> = svg
        .split("<rect")
        .skip(1)
        .filter(|r| r.contains("height=\"4\""))
        .map(|r| {
            let x: f64 = attrs(&format!("<rect{r}"), "<rect", "x")[0];
            let w: f64 = attrs(&format!("<rect{r}"), "<rect", "width")[0];
            (x, x + w)
        })
        .collect();
    assert_eq!(bars.len(), 2);
    let scale = (bars[0].1 - bars[0].0) / 0.06;
    for ((lo, hi), (x, (est, low))) in bars
        .iter()
        .zip(cx.iter().zip([(0.02, -0.01), (0.025, 0.005)]))
    {
        assert!(lo < x && x < hi, "dot {x} in bar [{lo}, {hi}]");
        assert!(
            ((x - lo) - (est - low) * scale).abs() < 0.3,
            "dot at its estimate"
        );
    }
    // The dashed reference line is at 0 on that axis.
    let zero = bars[0].0 + 0.01 * scale;
    let reference = svg
        .split("<line")
        .find(|l| l.contains("stroke-dasharray"))
        .map(|l| attrs(&format!("<line{l}"), "<line", "x1")[0])
        .expect("a reference line");
    assert!((reference - zero).abs() < 0.3, "{reference} vs {zero}");

    let mut report = HtmlReport::new("ab");
    report.interval_chart("Effect", &chart);
    let html = report.render();
    assert_eq!(html.matches("<figure class=\"chart\">").count(), 1);
}
