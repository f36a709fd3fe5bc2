use std::fs;

use tenure_report::{HtmlReport, LineChart, ReportError};

fn sample() -> HtmlReport {
    let mut r = HtmlReport::new("Report <b>&</b> \"quoted\"");
    r.paragraph("<script>alert('x')</script>\nsecond line")
        .key_values("Run <id>", &[("k<1>".into(), "v&1".into())])
        .table(
            "Scores",
            &["model".into(), "AUC".into(), "note".into()],
            &[
                vec!["gbdt".into(), "0.83".into(), "best".into()],
                vec!["<img src=x onerror=alert(1)>".into(), "1,024".into()],
            ],
        )
        .line_chart(
            "Loss",
            &LineChart::new("epoch", "loss").with_series("train", vec![(0.0, 1.0), (1.0, 0.5)]),
        )
        .preformatted("a < b && c > d");
    r
}

#[test]
fn render_is_a_complete_self_contained_document() {
    let html = sample().render();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<style>"));
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("</svg>"));
    // No scripts, no external resources.
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains("<img") && !html.contains("url(http"));
    // The only URL is the SVG namespace, which is a name, not a fetch.
    assert_eq!(
        html.matches("http").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

#[test]
fn all_text_is_escaped() {
    let html = sample().render();
    assert!(html.contains("<title>Report &lt;b&gt;&amp;&lt;/b&gt; &quot;quoted&quot;</title>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("<h2>Run &lt;id&gt;</h2>"));
    assert!(html.contains("<th scope=\"row\">k&lt;1&gt;</th><td>v&amp;1</td>"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("a &lt; b &amp;&amp; c &gt; d"));
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
}

#[test]
fn numeric_cells_are_right_aligned_and_short_rows_padded() {
    let html = sample().render();
    assert!(html.contains("<td class=\"num\">0.83</td>"));
    assert!(html.contains("<td class=\"num\">1,024</td>"));
    assert!(html.contains("<td>gbdt</td>"));
    // The AUC column is all numbers, so its header aligns with them.
    assert!(html.contains("<th scope=\"col\" class=\"num\">AUC</th>"));
    assert!(html.contains("<th scope=\"col\">model</th>"));
    // The second row had two cells; the third is filled in empty.
    assert!(html.contains("<td class=\"num\">1,024</td><td></td></tr>"));

    let mut empty = HtmlReport::new("t");
    empty.table("none", &["a".into(), "b".into()], &[]);
    assert!(empty.render().contains("colspan=\"2\">no rows</td>"));
}

#[test]
fn write_is_atomic_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reports").join("report.html");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, "old contents").unwrap();

    let report = sample();
    report.write(&path).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), report.render());
    let names: Vec<String> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.html"]);

    // Missing directories are created.
    let nested = dir.path().join("a").join("b").join("r.html");
    report.write(&nested).unwrap();
    assert!(nested.is_file());
}

#[test]
fn write_failure_names_the_path_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    // The target is an existing directory: the final rename must fail.
    let target = dir.path().join("taken");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), "x").unwrap();
    let err = sample().write(&target).unwrap_err();
    let ReportError::Io { path, .. } = &err;
    assert_eq!(path, &target);
    assert!(err.to_string().contains("taken"), "{err}");
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["taken"], "temporary file left behind");
}

#[test]
fn markdown_has_the_same_tables_with_numbers_right_aligned() {
    let mut r = HtmlReport::new("Run *x*");
    r.paragraph("two\nlines")
        .key_values("Run", &[("model".into(), "cox_1".into())])
        .table(
            "Metrics",
            &["model".into(), "auc".into()],
            &[
                vec!["a|b".into(), "0.81".into()],
                vec!["c".into(), "0.7".into()],
            ],
        )
        .line_chart("ROC", &tenure_report::LineChart::new("x", "y"));
    let md = r.render_markdown();
    assert!(md.starts_with("# Run \\*x\\*\n"), "{md}");
    assert!(md.contains("two  \nlines"), "{md}");
    assert!(md.contains("| model | cox\\_1 |"), "{md}");
    assert!(
        md.contains(
            "## Metrics\n\n| model | auc |\n| --- | ---: |\n| a\\|b | 0.81 |\n| c | 0.7 |\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("## ROC\n\n*Chart: see the HTML report.*"),
        "{md}"
    );
}
