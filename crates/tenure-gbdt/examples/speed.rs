//! Times training on dense synthetic binary data:
//! `cargo run --release -p tenure-gbdt --example speed -- ROWS ROUNDS THREADS [QUANT_BINS]`.

use std::time::Instant;

use tenure_core::{Matrix, ParamGuard};
use tenure_gbdt::{GbdtParams, Objective, TrainLabels, TrainSet, train};

fn data(n: usize, f: usize, seed: u64) -> (Matrix, Vec<f64>) {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * f);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..f).map(|_| next() * 2.0 - 1.0).collect();
        let logit = row[..10]
            .iter()
            .enumerate()
            .map(|(j, v)| v * (j as f64 - 4.5) / 3.0)
            .sum::<f64>()
            + 2.0 * row[10] * row[11]
            + (3.0 * row[12]).sin();
        y.push(f64::from(next() < 1.0 / (1.0 + (-logit).exp())));
        x.extend(row);
    }
    (Matrix::new(x, n, f).unwrap(), y)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (n, rounds, threads) = (args[0], args[1], args[2]);
    let (x, y) = data(n, 50, 1);
    let (xt, yt) = data(100_000, 50, 2);
    let names: Vec<String> = (0..50).map(|j| format!("f{j}")).collect();
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
