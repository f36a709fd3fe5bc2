use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
use tenure_gbdt::{GbdtParams, Objective};

#[test]
fn learns_a_threshold() {
    let rows: Vec<Vec<f64>> = (0..400)
        .map(|i| vec![(i % 100) as f64, (i % 13) as f64])
        .collect();
    let y: Vec<f64> = rows.iter().map(|r| f64::from(r[0] >= 50.0)).collect();
    let data = Dataset::new(
        Matrix::from_rows(&rows).unwrap(),
        vec!["a".into(), "b".into()],
        Target::Binary(y),
    )
    .unwrap();
    let m = GbdtParams::new()
        .with(|c| c.objective = Objective::Binary)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let p = m.predict(data.x()).unwrap();
    assert!(p[10] < 0.05 && p[60] > 0.95, "{} {}", p[10], p[60]);
}
