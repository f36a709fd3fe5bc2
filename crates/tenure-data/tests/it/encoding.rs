use proptest::prelude::*;
use tenure_data::{DataError, TargetEncoder};

fn codes_and_labels() -> impl Strategy<Value = (usize, Vec<(Option<u32>, f64)>)> {
    (1usize..6).prop_flat_map(|n_levels| {
        (
            Just(n_levels),
            prop::collection::vec(
                (
                    prop::option::weighted(0.9, 0..n_levels as u32),
                    prop_oneof![Just(0.0), Just(1.0), -10.0..10.0f64],
                ),
                5..60,
            ),
        )
    })
}

proptest! {
    #[test]
    fn out_of_fold_value_never_uses_its_own_label(
        (n_levels, rows) in codes_and_labels(),
        pick in any::<prop::sample::Index>(),
        new_y in -100.0..100.0f64,
        folds in 2usize..6,
        smoothing in 0.0..30.0f64,
        seed in any::<u64>(),
    ) {
        let (codes, y): (Vec<Option<u32>>, Vec<f64>) = rows.into_iter().unzip();
        prop_assume!(y.len() >= folds);
        let i = pick.index(y.len());
        let (_, before) = TargetEncoder::fit_transform_oof(&codes, n_levels, &y, folds, smoothing, seed).unwrap();
        let mut y2 = y.clone();
        y2[i] = new_y;
        let (_, after) = TargetEncoder::fit_transform_oof(&codes, n_levels, &y2, folds, smoothing, seed).unwrap();
        prop_assert_eq!(before[i].to_bits(), after[i].to_bits());
    }

    #[test]
    fn encoder_matches_smoothed_means((n_levels, rows) in codes_and_labels(), smoothing in 0.0..30.0f64) {
        let (codes, y): (Vec<Option<u32>>, Vec<f64>) = rows.into_iter().unzip();
        let enc = TargetEncoder::fit(&codes, n_levels, &y, smoothing).unwrap();
        let prior = y.iter().sum::<f64>() / y.len() as f64;
        prop_assert!((enc.prior() - prior).abs() < 1e-9);
        let all: Vec<Option<u32>> = (0..n_levels as u32).map(Some).collect();
        for (level, got) in enc.transform(&all).into_iter().enumerate() {
            let mine: Vec<f64> = codes
                .iter()
                .zip(&y)
                .filter(|(c, _)| **c == Some(level as u32))
                .map(|(_, &v)| v)
                .collect();
            let want = if mine.is_empty() {
                prior
            } else {
                (mine.iter().sum::<f64>() + smoothing * prior) / (mine.len() as f64 + smoothing)
            };
            prop_assert!((got - want).abs() < 1e-9, "level {}: {} vs {}", level, got, want);
        }
    }

    #[test]
    fn the_returned_encoder_is_fitted_on_all_rows(
        (n_levels, rows) in codes_and_labels(),
        seed in any::<u64>(),
    ) {
        let (codes, y): (Vec<Option<u32>>, Vec<f64>) = rows.into_iter().unzip();
        let (full, oof) = TargetEncoder::fit_transform_oof(&codes, n_levels, &y, 3, 5.0, seed).unwrap();
        prop_assert_eq!(&full, &TargetEncoder::fit(&codes, n_levels, &y, 5.0).unwrap());
        prop_assert_eq!(oof.len(), y.len());
        // Same seed, same folds.
        let (_, again) = TargetEncoder::fit_transform_oof(&codes, n_levels, &y, 3, 5.0, seed).unwrap();
        prop_assert_eq!(oof, again);
    }
}

#[test]
fn unseen_and_missing_levels_get_the_prior() {
    let codes = [Some(0), Some(0), Some(2), Some(2)];
    let y = [1.0, 0.0, 1.0, 1.0];
    let enc = TargetEncoder::fit(&codes, 4, &y, 1.0).unwrap();
    assert_eq!(enc.prior(), 0.75);
    // Level 1 and 3 are unseen; 9 is beyond the levels known at fit time.
    assert_eq!(enc.transform(&[Some(1), Some(3), None, Some(9)]), [0.75; 4]);
    // (2 + 0.75) / 3
    assert!((enc.transform(&[Some(2)])[0] - 2.75 / 3.0).abs() < 1e-15);
}

#[test]
fn smoothing_limits() {
    let codes = [Some(0), Some(0), Some(1), Some(1), Some(1)];
    let y = [1.0, 1.0, 0.0, 0.0, 1.0];
    let raw = TargetEncoder::fit(&codes, 2, &y, 0.0).unwrap();
    assert_eq!(raw.transform(&[Some(0), Some(1)]), [1.0, 1.0 / 3.0]);
    let flat = TargetEncoder::fit(&codes, 2, &y, 1e12).unwrap();
    for v in flat.transform(&[Some(0), Some(1)]) {
        assert!((v - 0.6).abs() < 1e-9);
    }
}

#[test]
fn out_of_fold_values_by_hand() {
    // Two folds of one row each: each row is encoded by the other's label.
    let (full, oof) =
        TargetEncoder::fit_transform_oof(&[Some(0), Some(0)], 1, &[1.0, 0.0], 2, 0.0, 7).unwrap();
    assert_eq!(oof, [0.0, 1.0]);
    assert_eq!(full.transform(&[Some(0)]), [0.5]);
}

#[test]
fn bad_inputs_are_refused() {
    let err = |r: tenure_data::Result<TargetEncoder>| r.unwrap_err().to_string();
    assert!(
        err(TargetEncoder::fit(&[Some(0)], 1, &[1.0, 2.0], 1.0))
            .contains("1 level codes for 2 labels")
    );
    assert!(err(TargetEncoder::fit(&[Some(3)], 2, &[1.0], 1.0)).contains("level code 3"));
    assert!(err(TargetEncoder::fit(&[Some(0)], 1, &[1.0], -1.0)).contains("smoothing"));
    assert!(err(TargetEncoder::fit(&[Some(0)], 1, &[f64::NAN], 1.0)).contains("row 0"));
    assert!(err(TargetEncoder::fit(&[], 1, &[], 1.0)).contains("no training rows"));
    let oof = TargetEncoder::fit_transform_oof(&[Some(0)], 1, &[1.0], 1, 1.0, 0);
    assert!(matches!(oof, Err(DataError::Core(_))));
    let oof = TargetEncoder::fit_transform_oof(&[Some(0); 2], 1, &[1.0; 2], 3, 1.0, 0);
    assert!(
        oof.unwrap_err()
            .to_string()
            .contains("2 rows cannot fill 3 folds")
    );
}
