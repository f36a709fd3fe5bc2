use proptest::prelude::*;
use tenure_core::{CoreError, Dataset, DeviceRequest, Matrix, Target, Task};

fn matrix(rows: usize, cols: usize, seed: f64) -> Matrix {
    let data = (0..rows * cols).map(|i| i as f64 * seed).collect();
    Matrix::new(data, rows, cols).unwrap()
}

#[test]
fn shapes_are_checked() {
    assert!(matches!(
        Matrix::new(vec![1.0; 5], 2, 3),
        Err(CoreError::Shape(_))
    ));
    assert!(Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
    let x = matrix(2, 2, 1.0);
    assert!(Dataset::new(x.clone(), vec!["a".into()], Target::Binary(vec![0.0, 1.0])).is_err());
    assert!(
        Dataset::new(
            x.clone(),
            vec!["a".into(), "b".into()],
            Target::Binary(vec![0.0])
        )
        .is_err()
    );
    let d = Dataset::new(
        x,
        vec!["a".into(), "b".into()],
        Target::Binary(vec![0.0, 1.0]),
    )
    .unwrap();
    assert!(d.clone().with_weights(vec![1.0]).is_err());
    assert_eq!(
        d.with_weights(vec![1.0, 2.0]).unwrap().weights(),
        Some(&[1.0, 2.0][..])
    );
}

#[test]
fn target_kind_fixes_the_task() {
    assert_eq!(Target::Binary(vec![]).task(), Task::Churn);
    assert_eq!(Target::Continuous(vec![]).task(), Task::Clv);
    let s = Target::Survival {
        time: vec![1.0],
        event: vec![true],
    };
    assert_eq!(s.task(), Task::Survival);
    assert!(Target::concat(&[&s, &Target::Binary(vec![1.0])]).is_err());
    assert!(Target::concat(&[]).is_err());
}

#[test]
fn task_and_device_parse_and_print() {
    for t in Task::ALL {
        assert_eq!(t.to_string().parse::<Task>().unwrap(), t);
    }
    assert!(
        "churny"
            .parse::<Task>()
            .unwrap_err()
            .contains("churn, survival or clv")
    );
    for d in ["auto", "cpu", "wgpu", "cuda"] {
        assert_eq!(d.parse::<DeviceRequest>().unwrap().to_string(), d);
    }
    assert!("tpu".parse::<DeviceRequest>().is_err());
}

proptest! {
    #[test]
    fn select_vstack_hstack_agree_with_indexing(
        rows in 1usize..20, cols in 1usize..6, extra in 1usize..4,
        picks in proptest::collection::vec(0usize..1000, 0..30),
    ) {
        let a = matrix(rows, cols, 1.5);
        let b = matrix(rows, extra, -2.0);
        let idx: Vec<usize> = picks.iter().map(|p| p % rows).collect();

        let sel = a.select_rows(&idx);
        for (r, &i) in idx.iter().enumerate() {
            prop_assert_eq!(sel.row(r), a.row(i));
        }
        let stacked = Matrix::vstack(&[&a, &sel]).unwrap();
        prop_assert_eq!(stacked.n_rows(), rows + idx.len());
        prop_assert_eq!(stacked.row(rows.min(stacked.n_rows() - 1)), if idx.is_empty() { a.row(rows - 1) } else { sel.row(0) });
        let wide = a.hstack(&b).unwrap();
        for r in 0..rows {
            for c in 0..cols + extra {
                let expect = if c < cols { a.get(r, c) } else { b.get(r, c - cols) };
                prop_assert_eq!(wide.get(r, c).to_bits(), expect.to_bits());
            }
        }
        prop_assert_eq!(a.rows().count(), rows);
        prop_assert_eq!(a.column(cols - 1).count(), rows);

        let y: Vec<f64> = (0..rows).map(|i| (i % 2) as f64).collect();
        let t = Target::Binary(y.clone());
        let picked = t.select(&idx);
        prop_assert_eq!(picked, Target::Binary(idx.iter().map(|&i| y[i]).collect()));
    }
}
