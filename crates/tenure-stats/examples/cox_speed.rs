//! Times a Cox fit on synthetic data: `cargo run --release -p tenure-stats
//! --example cox_speed -- [rows] [covariates]` (default 1,000,000 × 20).

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
use tenure_stats::CoxParams;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(1_000_000, |a| a.parse().expect("rows"));
    let p: usize = args.next().map_or(20, |a| a.parse().expect("covariates"));
    let mut rng = StdRng::seed_from_u64(7);
    let mut x = Vec::with_capacity(n * p);
    let (mut time, mut event) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let mut eta = 0.0;
        for j in 0..p {
            let v: f64 = rng.random::<f64>() * 2.0 - 1.0;
            eta += v * if j % 2 == 0 { 0.3 } else { -0.2 };
            x.push(v);
        }
        let u: f64 = rng.random::<f64>().max(1e-300);
        let t = -u.ln() / eta.exp() * 200.0;
        let c = rng.random::<f64>() * 400.0;
        // Whole days: ties, as in real tenure data.
        time.push(t.min(c).ceil());
        event.push(t <= c);
    }
    let names = (0..p).map(|j| format!("x{j}")).collect();
    let data = Dataset::new(
        Matrix::new(x, n, p).expect("matrix"),
        names,
        Target::Survival { time, event },
    )
    .expect("dataset");
    for ties in [tenure_stats::Ties::Efron, tenure_stats::Ties::Breslow] {
        let start = Instant::now();
        let model = CoxParams::new()
            .ties(ties)
            .check()
            .expect("params")
            .fit(&data)
            .expect("fit");
        println!(
            "{ties:?}: {n} x {p} fitted in {:.2} s ({} Newton steps, converged {}, C = {:.4})",
            start.elapsed().as_secs_f64(),
            model.n_iter(),
            model.converged(),
            model.concordance()
        );
    }
}
