use proptest::prelude::*;
use tenure_data::folds::Scheme;
use tenure_data::{
    CvConfig, CvPlan, DataError, SECONDS_PER_DAY, Timestamp, format_date, parse_date,
};

const D: i64 = SECONDS_PER_DAY;

fn day(s: &str) -> Timestamp {
    parse_date(s).unwrap()
}

fn grid(first: &str, every: u32, folds: usize) -> CvConfig {
    CvConfig {
        first: Some(first.into()),
        every_days: Some(every),
        folds,
        ..CvConfig::default()
    }
}

/// The key and the full message of a configuration error.
fn config_err(cfg: &CvConfig, horizon: u32, end: Timestamp) -> (String, String) {
    match cfg.plan(horizon, end).unwrap_err() {
        err @ DataError::Config { .. } => {
            let msg = err.to_string();
            let DataError::Config { key, .. } = err else {
                unreachable!()
            };
            (key, msg)
        }
        other => panic!("expected a config error, got {other}"),
    }
}

fn dates(ts: &[Timestamp]) -> Vec<String> {
    ts.iter().map(|&t| format_date(t)).collect()
}

#[test]
fn monthly_grid_plan() {
    let plan = grid("2024-01-01", 30, 2)
        .plan(60, day("2024-08-01"))
        .unwrap();
    // Grid: Jan 1, Jan 31, Mar 1, Mar 31, Apr 30, May 30, (Jun 29 + 60 > Aug 1).
    assert_eq!(plan.test.name, "test");
    assert_eq!(format_date(plan.test.valid_cutoff), "2024-05-30");
    assert_eq!(
        dates(&plan.test.train_cutoffs),
        ["2024-01-01", "2024-01-31", "2024-03-01", "2024-03-31"]
    );
    let names: Vec<&str> = plan.folds.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["fold 1", "fold 2"]);
    assert_eq!(format_date(plan.folds[0].valid_cutoff), "2024-03-31");
    assert_eq!(
        dates(&plan.folds[0].train_cutoffs),
        ["2024-01-01", "2024-01-31"]
    );
    assert_eq!(format_date(plan.folds[1].valid_cutoff), "2024-04-30");
    assert_eq!(
        dates(&plan.folds[1].train_cutoffs),
        ["2024-01-01", "2024-01-31", "2024-03-01"]
    );
    assert_eq!(
        dates(&plan.snapshot_cutoffs),
        [
            "2024-01-01",
            "2024-01-31",
            "2024-03-01",
            "2024-03-31",
            "2024-04-30",
            "2024-05-30"
        ]
    );
    assert_eq!(plan.earliest(), day("2024-01-01"));
    assert_eq!(plan.all_folds().count(), 3);
    assert_eq!(plan.all_folds().last().unwrap().name, "test");
    assert_eq!(plan.horizon_days, 60);
}

#[test]
fn sliding_keeps_the_most_recent_training_cutoffs() {
    let cfg = CvConfig {
        scheme: Scheme::Sliding,
        window: Some(2),
        ..grid("2024-01-01", 30, 2)
    };
    let plan = cfg.plan(60, day("2024-08-01")).unwrap();
    assert_eq!(
        dates(&plan.folds[1].train_cutoffs),
        ["2024-01-31", "2024-03-01"]
    );
    assert_eq!(
        dates(&plan.test.train_cutoffs),
        ["2024-03-01", "2024-03-31"]
    );
    assert_eq!(
        dates(&plan.folds[0].train_cutoffs),
        ["2024-01-01", "2024-01-31"]
    );
}

#[test]
fn explicit_cutoffs_and_test() {
    let cfg = CvConfig {
        cutoffs: Some(vec![
            "2024-03-01".into(),
            "2024-01-01".into(),
            "2024-02-01".into(),
            "2024-04-01".into(),
        ]),
        folds: 1,
        test_cutoff: Some("2024-05-15".into()),
        ..CvConfig::default()
    };
    let plan = cfg.plan(30, day("2024-07-01")).unwrap();
    assert_eq!(plan.test.valid_cutoff, day("2024-05-15"));
    assert_eq!(plan.folds.len(), 1);
    assert_eq!(format_date(plan.folds[0].valid_cutoff), "2024-04-01");
    assert_eq!(
        dates(&plan.test.train_cutoffs),
        ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    );
    // Without a test cutoff, the last listed one is the test.
    let cfg = CvConfig {
        test_cutoff: None,
        ..cfg
    };
    let plan = cfg.plan(30, day("2024-07-01")).unwrap();
    assert_eq!(format_date(plan.test.valid_cutoff), "2024-04-01");
    assert_eq!(format_date(plan.folds[0].valid_cutoff), "2024-03-01");
}

#[test]
fn errors_name_their_key() {
    let end = day("2024-08-01");
    let cases: Vec<(CvConfig, u32, &str, &str)> = vec![
        (
            CvConfig {
                cutoffs: Some(vec!["2024-01-01".into()]),
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.cutoffs",
            "not both",
        ),
        (CvConfig::default(), 30, "cv.first", "every_days"),
        (
            CvConfig {
                every_days: None,
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.every_days",
            "missing",
        ),
        (grid("2024-13-01", 30, 1), 30, "cv.first", "`2024-13-01`"),
        (
            CvConfig {
                cutoffs: Some(vec!["2024-01-01".into(), "yesterday".into()]),
                ..CvConfig::default()
            },
            30,
            "cv.cutoffs",
            "`yesterday`",
        ),
        (grid("2024-01-01", 0, 1), 30, "cv.every_days", "at least 1"),
        (grid("2024-01-01", 30, 0), 30, "cv.folds", "at least one"),
        (grid("2024-01-01", 30, 5), 60, "cv.folds", "only 3 possible"),
        (
            CvConfig {
                test_cutoff: Some("2024-07-15".into()),
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.test_cutoff",
            "2024-08-14",
        ),
        (
            CvConfig {
                test_cutoff: Some("someday".into()),
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.test_cutoff",
            "`someday`",
        ),
        (
            CvConfig {
                scheme: Scheme::Sliding,
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.window",
            "sliding",
        ),
        (
            CvConfig {
                window: Some(2),
                ..grid("2024-01-01", 30, 1)
            },
            30,
            "cv.window",
            "sliding",
        ),
        (grid("2024-07-15", 30, 1), 30, "cv.first", "2024-07-02"),
    ];
    for (cfg, horizon, key, needle) in cases {
        let (got, msg) = config_err(&cfg, horizon, end);
        assert_eq!(got, key, "{msg}");
        assert!(msg.contains(key), "{msg}");
        assert!(msg.contains(needle), "`{needle}` not in: {msg}");
    }
    let (_, msg) = config_err(&grid("2024-01-01", 30, 5), 60, end);
    assert!(
        msg.contains("earlier `cv.first`") && msg.contains("fewer `cv.folds`"),
        "{msg}"
    );
}

fn check_plan(plan: &CvPlan, h: i64, end: Timestamp) -> Result<(), TestCaseError> {
    prop_assert!(plan.test.valid_cutoff + h <= end);
    let mut last_valid = i64::MIN;
    for fold in &plan.folds {
        prop_assert!(!fold.train_cutoffs.is_empty());
        prop_assert!(fold.valid_cutoff > last_valid, "folds ascending");
        last_valid = fold.valid_cutoff;
        prop_assert!(fold.valid_cutoff + h <= end);
        prop_assert!(fold.valid_cutoff < plan.test.valid_cutoff);
        prop_assert!(fold.train_cutoffs.windows(2).all(|w| w[0] < w[1]));
        for &c in &fold.train_cutoffs {
            prop_assert!(
                c + h <= fold.valid_cutoff,
                "training label window overlaps validation"
            );
        }
    }
    for &c in &plan.test.train_cutoffs {
        prop_assert!(c + h <= plan.test.valid_cutoff);
    }
    prop_assert!(plan.snapshot_cutoffs.windows(2).all(|w| w[0] < w[1]));
    for fold in plan.all_folds() {
        for c in fold.train_cutoffs.iter().chain([&fold.valid_cutoff]) {
            prop_assert!(plan.snapshot_cutoffs.contains(c));
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn plans_never_train_on_the_validation_period(
        first_day in 0i64..400,
        every in 1u32..60,
        horizon in 1u32..120,
        folds in 1usize..6,
        span_days in 0i64..900,
        window in 1usize..5,
    ) {
        let first = day("2023-01-01") + first_day * D;
        let end = first + span_days * D;
        let h = i64::from(horizon) * D;
        let expanding = CvConfig {
            first: Some(format_date(first)),
            every_days: Some(every),
            folds,
            ..CvConfig::default()
        };
        let sliding = CvConfig { scheme: Scheme::Sliding, window: Some(window), ..expanding.clone() };
        // The rules, naively: the grid up to the last observable cutoff, the
        // last point as test, earlier points with a training cutoff as folds.
        let step = i64::from(every) * D;
        let grid: Vec<Timestamp> =
            (0..).map(|k| first + k * step).take_while(|&t| t + h <= end).collect();
        let possible: Vec<Timestamp> = grid
            .iter()
            .copied()
            .take(grid.len().saturating_sub(1))
            .filter(|&v| first + h <= v)
            .collect();
        match expanding.plan(horizon, end) {
            Ok(plan) => {
                check_plan(&plan, h, end)?;
                prop_assert_eq!(Some(&plan.test.valid_cutoff), grid.last());
                let valid: Vec<Timestamp> = plan.folds.iter().map(|f| f.valid_cutoff).collect();
                prop_assert_eq!(&valid[..], &possible[possible.len() - folds..]);
                let before_test: Vec<Timestamp> = grid
                    .iter()
                    .copied()
                    .take_while(|&t| t + h <= plan.test.valid_cutoff)
                    .collect();
                prop_assert_eq!(&plan.test.train_cutoffs, &before_test);

                let slid = sliding.plan(horizon, end).unwrap();
                check_plan(&slid, h, end)?;
                for (e, s) in plan.all_folds().zip(slid.all_folds()) {
                    prop_assert_eq!(e.valid_cutoff, s.valid_cutoff);
                    prop_assert_eq!(s.train_cutoffs.len(), e.train_cutoffs.len().min(window));
                    prop_assert!(e.train_cutoffs.ends_with(&s.train_cutoffs));
                }
            }
            Err(err @ DataError::Config { .. }) => {
                let msg = err.to_string();
                prop_assert!(sliding.plan(horizon, end).is_err());
                if grid.is_empty() {
                    prop_assert!(msg.contains("cv.first"), "{}", msg);
                } else {
                    prop_assert!(possible.len() < folds);
                    prop_assert!(msg.contains("cv.folds"), "{}", msg);
                    let needle = format!("only {} possible", possible.len());
                    prop_assert!(msg.contains(&needle), "{}", msg);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }
}
