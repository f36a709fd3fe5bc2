//! `tenure bench`: benchmarks runnable from the command line. `hpo` runs a
//! sampler on standard test functions; other families can be added as
//! further subcommands.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use tenure_runner::hpo::SamplerKind;
use tenure_runner::hpo::bench::{self, TestFunction};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// A hyperparameter sampler on a test function: median best value over
    /// seeds after N/3, 2N/3 and N trials.
    Hpo(HpoArgs),
}

#[derive(Debug, Args)]
pub struct HpoArgs {
    /// branin, goldstein_price, hartmann3 or hartmann6.
    #[arg(long)]
    function: String,
    /// auto, tpe, gp or random.
    #[arg(long, default_value = "auto")]
    sampler: String,
    #[arg(long, default_value_t = 60)]
    trials: usize,
    /// Seeds 0..K, one independent search each.
    #[arg(long, default_value_t = 10)]
    seeds: usize,
    /// Print {"function", "sampler", "trials", "seeds", "median_best": {"<n>": value}}.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Hpo(args) => hpo(args),
    }
}

fn hpo(args: HpoArgs) -> Result<()> {
    let function: TestFunction = args.function.parse().context("--function")?;
    let sampler: SamplerKind = args.sampler.parse().context("--sampler")?;
    anyhow::ensure!(args.trials >= 1, "--trials must be at least 1");
    anyhow::ensure!(args.seeds >= 1, "--seeds must be at least 1");
    let r = bench::run(function, sampler, args.trials, args.seeds);
    let n = r.sampler_ms.len();
    let all = r.sampler_ms.iter().sum::<f64>() / n as f64;
    let tail = &r.sampler_ms[n.saturating_sub(10)..];
    // On stderr so that --json stays exactly the documented object.
    eprintln!(
        "sampler time per trial: mean {all:.3} ms; last 10 trials: {:.3} ms",
        tail.iter().sum::<f64>() / tail.len() as f64
    );
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    println!(
        "{} · {} · {} trials · {} seeds (minimum {})",
        r.function,
        r.sampler,
        r.trials,
        r.seeds,
        function.optimum()
    );
    println!("{:>8}  {:>14}", "trials", "median best");
    for (n, v) in &r.median_best {
        println!("{n:>8}  {v:>14.6}");
    }
    Ok(())
}
