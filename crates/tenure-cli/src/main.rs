//! `tenure`: train, evaluate and track customer-analytics models from one
//! experiment config. A thin shell: it parses arguments, builds the runner's
//! inputs and prints results; every decision lives in the libraries.

mod ab;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

mod devices;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use tenure_runner::core::DeviceRequest;
use tenure_runner::data::{self, synth::SynthConfig};
use tenure_runner::output::{
    calibration_table, json_summary, label_name, metrics_table, split_table, text_table,
};
use tenure_runner::{Experiment, Progress, RunOptions};

mod bench;
mod export;
mod registry;
mod tune;

#[derive(Debug, Parser)]
#[command(
    name = "tenure",
    version,
    about = "Churn, survival and CLV models: train, compare, track."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an experiment: features, time-split CV, models, metrics, report.
    Run(RunArgs),
    /// Show how an experiment splits its data into folds, with row counts.
    Split(SplitArgs),
    /// Fit one model on a ready table (one row per customer) and print it.
    Fit(Box<FitArgs>),
    /// Score a table with a saved gbdt model (`tenure fit --save-model`).
    Predict(PredictArgs),
    /// Generate synthetic customers with known ground truth.
    Synth(SynthArgs),
    /// Analyse an A/B test: sample ratio, effect with CI, CUPED, lift, power.
    Ab(ab::AbArgs),
    /// Search a model's hyperparameters on the time-split CV score.
    Tune(Box<tune::TuneArgs>),
    /// Benchmarks: a suite gated on a baseline (CI), the booster, samplers.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Write a run's model as an ONNX file (with its model card).
    Export(export::ExportArgs),
    /// Read runs back from the tracking store (local or MLflow).
    #[command(subcommand)]
    Runs(RunsCommand),
    /// List the CPU, wgpu adapters and CUDA devices `--device` can use.
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Registered models: list, show, register, promote, pull.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Experiment config (TOML).
    config: PathBuf,
    /// Where models run: auto takes a GPU when one answers, else the CPU.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceRequest,
    /// Print one JSON object on stdout instead of tables.
    #[arg(long)]
    json: bool,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
    /// Tracking store directory (overrides the config's tracking.uri).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Tracking URI: a directory or an MLflow server (http[s]://...);
    /// overrides --store, the config's tracking.uri and MLFLOW_TRACKING_URI.
    #[arg(long)]
    tracking_uri: Option<String>,
}

#[derive(Debug, Args)]
struct SplitArgs {
    config: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct FitArgs {
    /// Table to fit on (CSV or Parquet); or give it with --table.
    #[arg(required_unless_present = "table")]
    data: Option<PathBuf>,
    /// Table to fit on (CSV or Parquet).
    #[arg(long, conflicts_with = "data")]
    table: Option<PathBuf>,
    /// Model family.
    #[arg(long)]
    model: String,
    /// Label column (logistic: 0/1; gbdt: the label of --task).
    #[arg(long, alias = "label")]
    target: Option<String>,
    /// gbdt: binary, regression, tweedie or survival.
    #[arg(long)]
    task: Option<String>,
    /// A hyperparameter as KEY=VALUE (repeatable): gbdt by LightGBM's names;
    /// neural models as TOML values (--param hidden=[64,32] --param epochs=50).
    #[arg(long = "param")]
    params: Vec<String>,
    /// gbdt: validation table (early stopping and reported metrics).
    #[arg(long)]
    eval: Option<PathBuf>,
    /// gbdt: table to score after training (needs --out).
    #[arg(long)]
    predict: Option<PathBuf>,
    /// Where --predict writes one prediction per row (CSV).
    #[arg(long)]
    out: Option<PathBuf>,
    /// gbdt: save the trained model (JSON) for `tenure predict`.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// gbdt: training threads (results do not depend on it).
    #[arg(long)]
    threads: Option<usize>,
    /// Duration column (survival models).
    #[arg(long)]
    duration: Option<String>,
    /// Event column, 1 = event, 0 = censored (survival models).
    #[arg(long)]
    event: Option<String>,
    /// Feature columns, comma-separated (default: every other column).
    #[arg(long, value_delimiter = ',')]
    features: Vec<String>,
    /// Kaplan–Meier: group column (a curve per group and a log-rank test).
    #[arg(long)]
    group: Option<String>,
    /// Horizon at which a survival model's risk is read.
    #[arg(long, default_value_t = 90.0)]
    horizon_days: f64,
    /// L2 penalty.
    #[arg(long)]
    l2: Option<f64>,
    /// Cox tie handling: efron (default) or breslow.
    #[arg(long)]
    ties: Option<String>,
    /// RFM summary columns (bgnbd, gamma_gamma).
    #[arg(long)]
    frequency: Option<String>,
    #[arg(long)]
    recency: Option<String>,
    #[arg(long = "t")]
    t: Option<String>,
    #[arg(long)]
    monetary: Option<String>,
    /// Summarise a transactions table instead: the first day after calibration.
    #[arg(long)]
    calibration_end: Option<String>,
    /// Time unit of the summary computed from transactions: days or weeks.
    #[arg(long)]
    time_unit: Option<String>,
    /// Transactions columns (with --calibration-end).
    #[arg(long)]
    customer_id: Option<String>,
    #[arg(long)]
    timestamp: Option<String>,
    #[arg(long)]
    amount: Option<String>,
    /// Where neural models (mlp, deepsurv, ziln) run.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceRequest,
    /// Print the fitted model as one JSON object.
    #[arg(long)]
    json: bool,
    /// Export the fitted model (logistic, cox, gbdt, mlp, deepsurv, ziln) to this
    /// ONNX file, its model card beside it.
    #[arg(long)]
    save_onnx: Option<PathBuf>,
    /// Survival models with --save-onnx: the file also outputs S(t | x) at these
    /// days after the cutoff (`survival`), e.g. 30,60,90.
    #[arg(long, value_delimiter = ',')]
    survival_days: Vec<f64>,
}

#[derive(Debug, Args)]
struct PredictArgs {
    /// Saved model.
    #[arg(long)]
    model: PathBuf,
    /// Table with the model's feature columns (CSV or Parquet).
    #[arg(long)]
    table: PathBuf,
    /// Predictions, one per row of the table, in its order (CSV).
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SynthArgs {
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Cutoff date at which truth.parquet gives churn probabilities and expected spend.
    #[arg(long)]
    truth_cutoff: Option<String>,
    /// Horizon of the truth's churn probabilities and expected spend.
    #[arg(long)]
    truth_horizon_days: Option<u32>,
    /// Multiplies every customer's purchase rate: more transactions per
    /// customer (about 14 at 1) for scale tests.
    #[arg(long, default_value_t = 1.0)]
    purchase_rate_scale: f64,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// List runs, newest first.
    List {
        #[command(flatten)]
        at: registry::StoreArgs,
        /// Only runs of this experiment (name).
        #[arg(long)]
        experiment: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one run: params, metrics, tags, artifacts.
    Show {
        run_id: String,
        #[command(flatten)]
        at: registry::StoreArgs,
        #[arg(long)]
        json: bool,
    },
}

fn parse_device(s: &str) -> Result<DeviceRequest, String> {
    s.parse()
}

/// The exit status of a run stopped by Ctrl-C, as shells report a SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

/// Rust starts programs with SIGPIPE ignored, so writing to a closed pipe
/// (`tenure runs … | head`) fails and `println!` panics with a backtrace.
/// The default action ends the process quietly, as other Unix tools do.
#[cfg(unix)]
#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: sets a signal's disposition at start-up, before any thread
    // is spawned, with no handler of ours involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    restore_sigpipe();
    let cli = Cli::parse();
    // The first Ctrl-C asks the pipeline to stop at its next step and mark
    // the run KILLED; a second one gives up on that and exits at once.
    let handler = ctrlc::set_handler(|| {
        if tenure_runner::interrupt::request() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!("interrupt: stopping after the current step (Ctrl-C again to quit now)");
    });
    if let Err(e) = handler {
        eprintln!("warning: Ctrl-C will not stop runs cleanly: {e}");
    }
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<bench::Regressed>().is_some() => {
            eprintln!("regression: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            let interrupted = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<tenure_runner::RunnerError>(),
                    Some(tenure_runner::RunnerError::Interrupted)
                )
            });
            ExitCode::from(if interrupted { EXIT_INTERRUPTED } else { 2 })
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Split(args) => split(args),
        Command::Fit(args) => fit(*args),
        Command::Predict(args) => predict(args),
        Command::Synth(args) => synth(args),
        Command::Ab(args) => ab::run(args),
        Command::Runs(cmd) => runs(cmd),
        Command::Devices { json } => devices::run(json),
        Command::Tune(args) => tune::run(*args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Export(args) => export::export(args),
        Command::Registry(cmd) => registry::dispatch(cmd),
    }
}

fn run(args: RunArgs) -> Result<()> {
    let exp = Experiment::load(&args.config)?;
    let opts = RunOptions {
        device: args.device,
        progress: !args.quiet && !args.json && std::io::stdout().is_terminal(),
        tracking_dir: args.store,
        tracking_uri: args.tracking_uri,
    };
    if !args.json {
        let resolution = tenure_runner::pipeline::resolve_device_for(args.device, &exp)?;
        eprintln!(
            "device: {}",
            tenure_runner::pipeline::device_note(&resolution, &exp)
        );
    }
    let out = tenure_runner::run(&exp, &opts)?;
    if args.json {
        println!("{}", json_summary(&out));
        return Ok(());
    }
    println!(
        "experiment {} · run {} · {} customers, {} events · {:.1} s\n",
        out.experiment, out.run_id, out.n_customers, out.n_events, out.seconds
    );
    print!("{}", split_table(&out.split, label_name(out.task)));
    println!();
    print!("{}", metrics_table(&out));
    if let Some(table) = calibration_table(&out) {
        print!("\n{table}");
    }
    if let Some(u) = &out.uplift {
        println!();
        print!("{}", tenure_runner::uplift::table(u));
    }
    println!("\nreport: {}", out.report.display());
    println!("store:  {}", out.store.display());
    for m in &out.models {
        if let Some(onnx) = &m.onnx {
            println!("onnx:   {} → {}", m.name, onnx.display());
        }
    }
    if let Some(reg) = &out.registration {
        println!(
            "registry: {} version {} ({}){}",
            reg.name,
            reg.version,
            reg.model,
            match (&reg.alias, reg.promoted) {
                (Some(a), true) => format!(" promoted to @{a}: {}", reg.decision),
                (Some(a), false) => format!(" not promoted to @{a}: {}", reg.decision),
                (None, _) => String::new(),
            }
        );
    }
    Ok(())
}

fn split(args: SplitArgs) -> Result<()> {
    let exp = Experiment::load(&args.config)?;
    let progress = Progress::new(!args.json && std::io::stdout().is_terminal());
    let prepared = tenure_runner::prepare(&exp, &progress)?;
    let summary = tenure_runner::split_summary(&prepared);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} · task {} · horizon {} days · {} features\n",
            exp.name(),
            exp.task(),
            exp.file.labels.horizon_days,
            prepared.feature_names.len()
        );
        print!("{}", split_table(&summary, label_name(exp.task())));
    }
    Ok(())
}

fn fit(args: FitArgs) -> Result<()> {
    let req = tenure_runner::fit::FitRequest {
        model: args.model,
        data: args.data.or(args.table).expect("clap requires a table"),
        task: args.task,
        params: args.params,
        eval: args.eval,
        predict: args.predict,
        out: args.out,
        save_model: args.save_model,
        threads: args.threads,
        target: args.target,
        duration: args.duration,
        event: args.event,
        features: args.features,
        horizon_days: args.horizon_days,
        group: args.group,
        l2: args.l2,
        ties: args.ties,
        rfm: tenure_runner::fit::RfmSource {
            frequency: args.frequency,
            recency: args.recency,
            t: args.t,
            monetary: args.monetary,
            calibration_end: args.calibration_end,
            time_unit: args.time_unit,
            customer_id: args.customer_id,
            timestamp: args.timestamp,
            amount: args.amount,
        },
        device: args.device,
        save_onnx: args.save_onnx,
        survival_days: args.survival_days,
    };
    let out = tenure_runner::fit::fit(&req)?;
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

fn predict(args: PredictArgs) -> Result<()> {
    let out = tenure_runner::fit_gbdt::predict(&args.model, &args.table, &args.out)?;
    if args.json {
        println!("{out}");
    } else {
        println!(
            "wrote {} predictions to {}",
            out["rows"],
            args.out.display()
        );
    }
    Ok(())
}

fn synth(args: SynthArgs) -> Result<()> {
    let mut cfg = SynthConfig {
        customers: args.customers,
        seed: args.seed,
        purchase_rate_scale: args.purchase_rate_scale,
        ..SynthConfig::default()
    };
    if let Some(c) = &args.truth_cutoff {
        cfg.truth_cutoff = data::parse_date(c)
            .with_context(|| format!("--truth-cutoff: `{c}` is not a date like 2023-07-01"))?;
    }
    if let Some(h) = args.truth_horizon_days {
        cfg.truth_horizon_days = h;
    }
    let t0 = std::time::Instant::now();
    let summary = data::synth::write(&cfg, &args.out)?;
    println!(
        "wrote {} customers and {} transactions to {} in {:.2} s",
        summary.customers,
        summary.transactions,
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    for f in &summary.files {
        println!("  {}", f.display());
    }
    Ok(())
}

fn runs(cmd: RunsCommand) -> Result<()> {
    match cmd {
        RunsCommand::List {
            at,
            experiment,
            json,
        } => {
            let tracking = at.open()?;
            let s = tracking.store.as_ref();
            let experiments = s.list_experiments()?;
            let exp_id = match &experiment {
                Some(name) => Some(
                    experiments
                        .iter()
                        .find(|e| &e.name == name)
                        .map(|e| e.experiment_id.clone())
                        .with_context(|| {
                            format!("no experiment named `{name}` in {}", s.location())
                        })?,
                ),
                None => None,
            };
            let runs = s.list_runs(exp_id.as_deref())?;
            let exp_name = |id: &str| {
                experiments
                    .iter()
                    .find(|e| e.experiment_id == id)
                    .map_or(id.to_string(), |e| e.name.clone())
            };
            if json {
                let items: Vec<serde_json::Value> = runs
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "run_id": r.run_id,
                            "experiment": exp_name(&r.experiment_id),
                            "run_name": r.run_name,
                            "status": format!("{:?}", r.status).to_lowercase(),
                            "start_time_ms": r.start_time_ms,
                            "end_time_ms": r.end_time_ms,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                let rows: Vec<Vec<String>> = runs
                    .iter()
                    .map(|r| {
                        vec![
                            r.run_id.clone(),
                            exp_name(&r.experiment_id),
                            format!("{:?}", r.status).to_lowercase(),
                            format_ms(r.start_time_ms),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    text_table(&["run id", "experiment", "status", "started"], &rows)
                );
            }
        }
        RunsCommand::Show { run_id, at, json } => {
            let tracking = at.open()?;
            let s = tracking.store.as_ref();
            let run = s.get_run(&run_id)?;
            let latest = |points: &[tenure_runner::store::MetricPoint]| {
                points.last().map_or(f64::NAN, |p| p.value)
            };
            if json {
                let metrics: serde_json::Map<String, serde_json::Value> = run
                    .metrics
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            serde_json::json!(v.iter().map(|p| serde_json::json!({"step": p.step, "value": p.value, "timestamp_ms": p.timestamp_ms})).collect::<Vec<_>>()),
                        )
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "run_id": run.info.run_id,
                        "experiment_id": run.info.experiment_id,
                        "run_name": run.info.run_name,
                        "status": format!("{:?}", run.info.status).to_lowercase(),
                        "params": run.params,
                        "metrics": metrics,
                        "tags": run.tags,
                        "artifacts": run.artifacts,
                    })
                );
            } else {
                println!(
                    "run {} · {} · {:?}",
                    run.info.run_id, run.info.run_name, run.info.status
                );
                let params: Vec<Vec<String>> = run
                    .params
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.clone()])
                    .collect();
                println!("\n{}", text_table(&["param", "value"], &params));
                let metrics: Vec<Vec<String>> = run
                    .metrics
                    .iter()
                    .map(|(k, v)| vec![k.clone(), format!("{:.6}", latest(v)), v.len().to_string()])
                    .collect();
                println!("{}", text_table(&["metric", "latest", "points"], &metrics));
                println!("artifacts:");
                for a in &run.artifacts {
                    println!("  {a}");
                }
            }
        }
    }
    Ok(())
}

fn format_ms(ms: i64) -> String {
    data::format_date(ms / 1000)
}
