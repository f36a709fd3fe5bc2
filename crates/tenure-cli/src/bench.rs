//! `tenure bench`: benchmarks runnable from the command line. `run` runs
//! a suite and gates on a baseline (CI), `gbdt` times the booster on
//! synthetic data, `hpo` runs a sampler on standard test functions.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use tenure_runner::bench::{
    self as suite_bench, Baseline, BaselineRef, BenchOptions, Champion, Suite, render,
};
use tenure_runner::core::DeviceRequest;
use tenure_runner::hpo::SamplerKind;
use tenure_runner::hpo::bench::{self, TestFunction};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Run a benchmark suite; compare with a baseline. Exit 1 on a quality
    /// regression (or a speed one with --fail-on-speed), 2 on an error.
    Run(Box<RunArgs>),
    /// Our booster on dense synthetic data: train time, predict
    /// throughput, test AUC, peak memory.
    Gbdt(GbdtArgs),
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

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite file (TOML), e.g. benches/suite.toml.
    suite: PathBuf,
    /// A previous results file, or a registered model version NAME@ALIAS
    /// (or NAME/VERSION) whose test metrics are the baseline.
    #[arg(long)]
    baseline: Option<String>,
    /// Write the results (and the comparison) as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write a Markdown summary for a pull-request comment here.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Earlier results files, or directories of them, for trend lines
    /// (repeatable).
    #[arg(long)]
    history: Vec<PathBuf>,
    /// Timed fits and predictions per model (overrides the suite's).
    #[arg(long)]
    repeat: Option<usize>,
    /// Where models run: auto takes a GPU when one answers, else the CPU.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceRequest,
    /// Speed and memory regressions fail the run too (exit 1).
    #[arg(long)]
    fail_on_speed: bool,
    /// Print the results JSON on stdout instead of tables.
    #[arg(long)]
    json: bool,
    /// No progress spinners.
    #[arg(long, short)]
    quiet: bool,
    /// The tracking store holding the registry (for a NAME@ALIAS baseline).
    #[command(flatten)]
    at: crate::registry::StoreArgs,
}

#[derive(Debug, Args)]
pub struct GbdtArgs {
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    #[arg(long, default_value_t = 50)]
    features: usize,
    #[arg(long, default_value_t = 100)]
    rounds: usize,
    #[arg(long, default_value_t = 255)]
    leaves: usize,
    /// Training threads; 0: all cores (trees do not depend on it).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Held-out rows for the AUC and the prediction throughput.
    #[arg(long, default_value_t = 100_000)]
    test_rows: usize,
    /// Timed trainings (median and spread reported).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to train: on wgpu or cuda the histograms are summed on the
    /// GPU from quantised gradients.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    device: DeviceRequest,
    /// Quantised gradients on the CPU too (the GPU path's CPU twin).
    #[arg(long)]
    quantized: bool,
    /// The last this many features as 32 scrambled category codes,
    /// trained as categorical features.
    #[arg(long, default_value_t = 0)]
    categorical: usize,
    /// `binary` (churn labels, AUC) or `cox` (survival times, C-index).
    #[arg(long, default_value = "binary")]
    objective: suite_bench::gbdt::BenchObjective,
    #[arg(long)]
    json: bool,
}

/// A gate failed: the results were written, the exit status is 1.
#[derive(Debug)]
pub struct Regressed(pub String);

impl std::fmt::Display for Regressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Regressed {}

fn parse_device(s: &str) -> Result<DeviceRequest, String> {
    s.parse()
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Run(args) => run_suite(*args),
        BenchCommand::Gbdt(args) => gbdt(args),
        BenchCommand::Hpo(args) => hpo(args),
    }
}

fn run_suite(args: RunArgs) -> Result<()> {
    let suite = Suite::load(&args.suite)?;
    // The baseline and history are read before the (long) run, so that a
    // typo fails at once.
    enum Pending {
        Ready(Baseline),
        Champion(Champion),
    }
    let baseline = match args
        .baseline
        .as_deref()
        .map(BaselineRef::parse)
        .transpose()?
    {
        None => None,
        Some(BaselineRef::File(path)) => Some(Pending::Ready(Baseline::from_file(&path)?)),
        Some(BaselineRef::Registry(reference)) => {
            let tracking = args.at.open()?;
            Some(Pending::Champion(Champion::resolve(
                tracking.registry.as_ref(),
                tracking.store.as_ref(),
                &reference,
            )?))
        }
    };
    let history = render::load_history(&args.history)?;
    let opts = BenchOptions {
        repeat: args.repeat,
        device: args.device,
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let mut results = suite_bench::run_suite(&suite, &opts)?;
    let baseline = match baseline {
        None => None,
        Some(Pending::Ready(b)) => Some(b),
        Some(Pending::Champion(c)) => Some(c.baseline_for(&results)?),
    };
    results.comparison = baseline.map(|b| suite_bench::compare(&results, &b, &suite));
    if let Some(path) = &args.out {
        render::write_atomic(path, &serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("--out {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        let md = render::markdown(
            &results,
            results.comparison.as_ref(),
            &history,
            args.fail_on_speed,
        );
        render::write_atomic(path, &md)
            .with_context(|| format!("--markdown {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        println!(
            "suite {} · {} model{} · device {} · {} repeat{} · {:.1} s\n",
            results.suite,
            results.entries.len(),
            if results.entries.len() == 1 { "" } else { "s" },
            results.device,
            results.repeat,
            if results.repeat == 1 { "" } else { "s" },
            results.seconds
        );
        print!("{}", render::results_table(&results));
        if let Some(c) = &results.comparison {
            println!();
            print!("{}", render::comparison_table(c));
        }
    }
    if let Some(c) = &results.comparison {
        let failed: Vec<String> = c
            .failures(args.fail_on_speed)
            .map(|k| format!("{} of {} ({})", k.metric, k.id, k.status.as_str()))
            .collect();
        if !failed.is_empty() {
            return Err(Regressed(format!(
                "{} regression{} against {}: {}",
                failed.len(),
                if failed.len() == 1 { "" } else { "s" },
                c.baseline,
                failed.join(", ")
            ))
            .into());
        }
        if c.speed_regressions > 0 {
            eprintln!(
                "warning: {} speed regression{} (not gated; --fail-on-speed gates them)",
                c.speed_regressions,
                if c.speed_regressions == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

fn gbdt(args: GbdtArgs) -> Result<()> {
    let r = suite_bench::gbdt::run(&suite_bench::gbdt::GbdtBench {
        rows: args.rows,
        features: args.features,
        rounds: args.rounds,
        num_leaves: args.leaves,
        threads: args.threads,
        test_rows: args.test_rows,
        repeat: args.repeat,
        seed: args.seed,
        device: args.device,
        quantized: args.quantized,
        categorical: args.categorical,
        objective: args.objective,
        ..Default::default()
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let s = &r.settings;
    println!(
        "gbdt {} · {} rows x {} features · {} rounds · {} leaves · threads {}",
        s.objective.as_str(),
        s.rows,
        s.features,
        s.rounds,
        s.num_leaves,
        if s.threads == 0 {
            "all".to_string()
        } else {
            s.threads.to_string()
        }
    );
    if s.categorical > 0 {
        println!(
            "categorical {} features of 32 codes (the last ones)",
            s.categorical
        );
    }
    println!(
        "train      {:.3} s (median of {}; min {:.3}, max {:.3})",
        r.train_seconds.median, s.repeat, r.train_seconds.min, r.train_seconds.max
    );
    if let Some(cpu) = &r.train_cpu_seconds {
        println!(
            "train CPU  {:.3} s (median; {:.2} cores busy)",
            cpu.median,
            cpu.median / r.train_seconds.median
        );
    }
    println!(
        "predict    {:.0} rows/s ({} rows in {:.4} s)",
        r.predict_rows_per_second, s.test_rows, r.predict_seconds.median
    );
    if let Some(auc) = r.test_auc {
        println!("test AUC   {auc:.5} ({} trees)", r.num_trees);
    }
    if let Some(c) = r.test_cindex {
        println!("C-index    {c:.5} ({} trees, Cox)", r.num_trees);
    }
    println!("device     {}", r.device_name);
    if let Some(b) = r.device_bytes {
        println!("on device  {:.1} MiB", b as f64 / (1024.0 * 1024.0));
    }
    if let Some(t) = r.device_traffic {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        println!(
            "moved      {:.1} MiB up at start, {:.2} MiB up a round, {:.2} MiB back a round \
             ({:.0} reads a round)",
            mib(t.uploaded_at_start),
            mib(t.uploaded_in_rounds) / t.rounds.max(1) as f64,
            mib(t.read_back) / t.rounds.max(1) as f64,
            t.reads as f64 / t.rounds.max(1) as f64
        );
    }
    if let Some(m) = r.peak_rss_mb {
        println!("peak RSS   {m:.0} MiB");
    }
    Ok(())
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
