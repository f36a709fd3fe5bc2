//! Times training on dense synthetic binary data:
//! `cargo run --release -p tenure-gbdt --example speed -- ROWS ROUNDS THREADS [QUANT_BINS]`.

use std::time::Instant;

use tenure_core::ParamGuard;
use tenure_gbdt::synthetic::{binary as data, feature_names};
use tenure_gbdt::{GbdtParams, Objective, TrainLabels, TrainSet, train};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (n, rounds, threads) = (args[0], args[1], args[2]);
    let (x, y) = data(n, 50, 1);
    let (xt, yt) = data(100_000, 50, 2);
    let names = feature_names(50);
    let p = GbdtParams::new()
        .with(|c| {
            c.objective = Objective::Binary;
            c.num_iterations = rounds;
            c.num_leaves = 255;
            c.num_threads = threads;
            c.use_quantized_grad = args.get(3).is_some_and(|&q| q > 0);
            if let Some(&q) = args.get(3).filter(|&&q| q > 1) {
                c.num_grad_quant_bins = q;
            }
        })
        .check()
        .unwrap();
    let t = Instant::now();
    let b = train(
        &p,
        &names,
        TrainSet {
            x: &x,
            labels: TrainLabels::Values(&y),
            weights: None,
        },
        None,
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let pred = b.predict(&xt).unwrap();
    let auc = tenure_metrics::roc_auc(&yt, &pred).unwrap();
    println!("rows {n} rounds {rounds} threads {threads}: train {secs:.2} s, test auc {auc:.5}");
}
