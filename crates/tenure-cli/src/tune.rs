//! `tenure tune`: hyperparameter search over one model of an experiment.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use tenure_runner::hpo::{Pruner, SamplerKind};
use tenure_runner::tune::{self, Objective, TuneOptions, TuneOutcome, TuneTarget};
use tenure_runner::{Experiment, Progress};

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Experiment config with a [tune] table.
    config: PathBuf,
    /// Trials in the study in all (a resumed study runs only the rest).
    #[arg(long)]
    trials: Option<u64>,
    /// Start no new trial after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// auto (default: GP for small flat spaces, then TPE), tpe, gp or random.
    #[arg(long)]
    sampler: Option<String>,
    /// none (default), median or asha.
    #[arg(long)]
    pruner: Option<String>,
    /// Worker processes sharing the study (this one included).
    #[arg(long, default_value_t = 1)]
    workers: u32,
    /// Study name (default: [tune] study, else the experiment's name).
    #[arg(long)]
    study: Option<String>,
    /// SQLite file of the study (default: tune.db in the tracking store).
    #[arg(long)]
    storage: Option<PathBuf>,
    /// Tracking store directory (overrides the config's tracking.uri).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bars or per-trial lines.
    #[arg(long, short)]
    quiet: bool,
    /// Run trials only (a helper started by --workers): no refit, no report.
    #[arg(long, hide = true)]
    worker: bool,
}

pub fn run(args: TuneArgs) -> Result<()> {
    let started = Instant::now();
    let exp = Experiment::load(&args.config)?;
    anyhow::ensure!(args.workers >= 1, "--workers must be at least 1");
    if let Some(t) = args.timeout {
        anyhow::ensure!(
            t.is_finite() && t > 0.0,
            "--timeout must be a positive number of seconds, got {t}"
        );
    }
    let opts = TuneOptions {
        trials: args.trials,
        timeout: args.timeout.map(Duration::from_secs_f64),
        sampler: args
            .sampler
            .as_deref()
            .map(str::parse::<SamplerKind>)
            .transpose()
            .context("--sampler")?,
        pruner: args
            .pruner
            .as_deref()
            .map(str::parse::<Pruner>)
            .transpose()
            .context("--pruner")?,
        study: args.study.clone(),
        storage: args.storage.clone(),
        tracking_dir: args.store.clone(),
        progress: !args.quiet && !args.json && std::io::stderr().is_terminal(),
        log_trials: !args.quiet && !args.json,
    };
    let target = TuneTarget::resolve(&exp, &opts)?;
    let objective = Objective::load(&exp, &Progress::new(opts.progress))?;
    // The timeout bounds the search, not the loading of the data.
    let search_started = Instant::now();
    if args.worker {
        tune::run_worker(&exp, &target, &objective, search_started, opts.log_trials)?;
        return Ok(());
    }
    let mut helpers: Vec<Child> = (1..args.workers)
        .map(|_| spawn_helper(&args, &target))
        .collect::<Result<_>>()?;
    let own = tune::run_worker(&exp, &target, &objective, search_started, opts.log_trials);
    let mut failed = Vec::new();
    for child in &mut helpers {
        let status = child.wait().context("waiting for a worker process")?;
        if !status.success() {
            failed.push(status.to_string());
        }
    }
    own?;
    anyhow::ensure!(
        failed.is_empty(),
        "{} worker process(es) failed ({}); rerun the same command to resume the study",
        failed.len(),
        failed.join(", ")
    );
    // A helper that died mid-trial left it running: finish it here.
    tune::run_worker(&exp, &target, &objective, search_started, opts.log_trials)?;
    let out = tune::finish(&exp, &target, &objective, started)?;
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_summary(&out);
    }
    Ok(())
}

/// Starts another `tenure tune --worker` on the same study, with the
/// settings this process resolved so every worker agrees.
fn spawn_helper(args: &TuneArgs, target: &TuneTarget) -> Result<Child> {
    let exe = std::env::current_exe().context("locating the tenure executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("tune")
        .arg(&args.config)
        .arg("--worker")
        .arg("--quiet")
        .args(["--trials", &target.trials.to_string()])
        .args(["--sampler", target.sampler.as_str()])
        .args(["--pruner", target.pruner.name()])
        .args(["--study", &target.study])
        .arg("--storage")
        .arg(&target.storage)
        .arg("--store")
        .arg(&target.store_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(t) = args.timeout {
        cmd.args(["--timeout", &t.to_string()]);
    }
    cmd.spawn().context("starting a worker process")
}

fn print_summary(out: &TuneOutcome) {
    let count = |s: &str| out.counts.get(s).copied().unwrap_or(0);
    println!(
        "study {} · {} ({}) · {} trials: {} complete, {} pruned, {} failed · {} · {:.1} s",
        out.study,
        out.model,
        out.kind,
        out.trials.len(),
        count("complete"),
        count("pruned"),
        count("fail"),
        out.sampler,
        out.seconds
    );
    match &out.best {
        Some(b) => {
            let params: Vec<String> = b.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "best CV {} {:.5} (trial {}): {}",
                out.metric,
                b.value,
                b.number,
                params.join(" ")
            );
            if let Some(t) = out.test.get(&out.metric) {
                println!(
                    "test {} {t:.5} (best configuration refitted on all training data)",
                    out.metric
                );
            }
        }
        None => println!("no trial completed"),
    }
    let importance: Vec<String> = out
        .importance
        .iter()
        .map(|(k, v)| format!("{k} {v:.3}"))
        .collect();
    println!("importance (PED-ANOVA): {}", importance.join(", "));
    println!("report:  {}", out.report.display());
    println!("storage: {} (study {})", out.storage.display(), out.study);
}
