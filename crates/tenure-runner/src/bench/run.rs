//! Running a suite: for each model of each entry, quality on the test
//! cutoff and timed, repeated fits and predictions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tenure_core::{Dataset, DeviceRequest, Fit, Matrix, Predict};
use tenure_data::format_date;
use tenure_device::ResolvedDevice;

use super::spread::Spread;
use super::suite::{self, Suite};
use crate::models::{EarlyStop, Family, ModelSpec};
use crate::pipeline::{self, FoldData};
use crate::{Experiment, Progress, Result, RunnerError};

/// The version of the results file layout; a baseline of another version
/// is refused.
pub const SCHEMA: &str = "tenure-bench/1";

/// What the command line adds to a suite.
#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    /// Overrides the suite's `repeat`.
    pub repeat: Option<usize>,
    pub device: DeviceRequest,
    pub progress: bool,
}

/// One results file: the run's context and one record per model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResults {
    pub schema: String,
    pub suite: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub tenure_version: String,
    pub git_commit: Option<String>,
    pub device: String,
    pub device_note: String,
    pub repeat: usize,
    pub seconds: f64,
    pub entries: Vec<ModelRecord>,
    /// Against the baseline, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::compare::Comparison>,
}

/// One model of one suite entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelRecord {
    /// `<entry>/<model>`: what baselines are matched by.
    pub id: String,
    pub entry: String,
    pub experiment: String,
    pub dataset: Option<String>,
    pub model: String,
    pub kind: String,
    pub task: String,
    pub test_cutoff: String,
    pub train_rows: usize,
    pub test_rows: usize,
    pub features: usize,
    /// The task's metrics on the test cutoff (finite values only), as
    /// `tenure run` reports them.
    pub quality: BTreeMap<String, f64>,
    /// Seconds per fit of the test cutoff's model, over `repeat` samples
    /// (a sample of a fast fit is the mean of as many fits as take 50 ms).
    pub train_seconds: Spread,
    /// CPU seconds (all threads) per fit: less inflated than wall time by
    /// other processes on a busy machine. `None` where `/proc` is missing.
    #[serde(default)]
    pub train_cpu_seconds: Option<Spread>,
    /// Seconds per prediction of the test rows; `None` for families whose
    /// fit and prediction are one step (their `train_seconds` include it).
    pub predict_seconds: Option<Spread>,
    pub predict_rows_per_second: Option<Spread>,
    /// Peak resident memory of the process while this model was benched
    /// (the loaded data included), MiB.
    pub peak_rss_mb: Option<f64>,
    pub device: String,
}

impl ModelRecord {
    /// Every comparable value: quality metrics, then the medians of the
    /// timings and the peak memory.
    pub fn values(&self) -> BTreeMap<String, f64> {
        let mut v = self.quality.clone();
        v.insert("train_seconds".into(), self.train_seconds.median);
        if let Some(c) = &self.train_cpu_seconds {
            v.insert("train_cpu_seconds".into(), c.median);
        }
        if let Some(p) = &self.predict_rows_per_second {
            v.insert("predict_rows_per_second".into(), p.median);
        }
        if let Some(m) = self.peak_rss_mb {
            v.insert("peak_rss_mb".into(), m);
        }
        v
    }
}

/// Runs every entry of the suite. Data errors, model errors and metric
/// errors stop the bench: a benchmark that silently skips a model would
/// pass a gate it should fail.
pub fn run_suite(suite: &Suite, opts: &BenchOptions) -> Result<BenchResults> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let repeat = opts.repeat.unwrap_or(suite.repeat).max(1);
    let resolution = pipeline::resolve_device(opts.device)?;
    let progress = Progress::new(opts.progress);
    // Generated datasets live as long as the bench.
    let scratch = tempfile::tempdir().map_err(|source| RunnerError::Io {
        context: "cannot create a scratch directory for generated datasets".into(),
        source,
    })?;
    let mut generated: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut entries = Vec::new();
    for entry in &suite.entries {
        let mut exp = Experiment::load(&entry.experiment)?;
        if let Some((name, dataset)) = &entry.dataset {
            let (tx, cu) = match dataset {
                suite::Dataset::Synthetic { customers, seed } => {
                    let dir = scratch.path().join(name);
                    if !generated.contains_key(name) {
                        let spin = progress.spinner(format!("generating dataset {name}"));
                        tenure_data::synth::write(
                            &tenure_data::synth::SynthConfig {
                                customers: *customers,
                                seed: *seed,
                                ..Default::default()
                            },
                            &dir,
                        )?;
                        spin.finish();
                        generated.insert(name.clone(), dir.clone());
                    }
                    (
                        dir.join("transactions.parquet"),
                        Some(dir.join("customers.parquet")),
                    )
                }
                suite::Dataset::Files {
                    transactions,
                    customers,
                } => (transactions.clone(), customers.clone()),
            };
            exp.file.data.transactions.path = tx;
            match (&mut exp.file.data.customers, cu) {
                (Some(c), Some(path)) => c.path = path,
                // A log without a customers table (CDNOW) keeps none.
                (Some(_), None) => unreachable!("checked when the suite was loaded"),
                (None, _) => {}
            }
        }
        entries.extend(run_entry(
            &exp,
            entry,
            repeat,
            &resolution.device,
            &progress,
        )?);
    }
    Ok(BenchResults {
        schema: SCHEMA.into(),
        suite: suite.name.clone(),
        started: started_at,
        tenure_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: crate::tracking::git_commit(
            suite
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new(".")),
        ),
        device: resolution.device.to_string(),
        device_note: resolution.reason,
        repeat,
        seconds: started.elapsed().as_secs_f64(),
        entries,
        comparison: None,
    })
}

fn run_entry(
    exp: &Experiment,
    entry: &suite::Entry,
    repeat: usize,
    device: &ResolvedDevice,
    progress: &Progress,
) -> Result<Vec<ModelRecord>> {
    let prepared = pipeline::prepare(exp, progress)?;
    let test_fold = &prepared.plan.test;
    let test = pipeline::fold_data(exp, &prepared, test_fold)?;
    let query_times = pipeline::query_times(&exp.survival_times_days);
    let mut cv_folds: Option<Vec<FoldData>> = None;
    let mut out = Vec::new();
    for name in &entry.models {
        let spec = exp
            .models
            .iter()
            .find(|m| &m.name == name)
            .expect("the suite checked the entry's model names");
        let model_err = |message: String| RunnerError::Model {
            model: spec.name.clone(),
            message,
        };
        let spin = progress.spinner(format!("{}/{}", entry.name, spec.name));
        // As `tenure run` trains the test cutoff's model: with early
        // stopping, for the mean of the rounds the CV folds kept.
        let rounds = if uses_early_stopping(spec) {
            if cv_folds.is_none() {
                cv_folds = Some(
                    prepared
                        .plan
                        .folds
                        .iter()
                        .map(|f| pipeline::fold_data(exp, &prepared, f))
                        .collect::<Result<_>>()?,
                );
            }
            let mut kept = Vec::new();
            for fold in cv_folds.iter().flatten() {
                let pred = spec
                    .fit_predict_full_on(
                        &fold.train,
                        fold.valid.x(),
                        &[],
                        EarlyStop::OnValid(&fold.valid),
                        device,
                    )
                    .map_err(model_err)?;
                kept.extend(pred.best_iteration);
            }
            (!kept.is_empty())
                .then(|| (kept.iter().sum::<usize>() as f64 / kept.len() as f64).round() as usize)
        } else {
            None
        };
        let stop = rounds.map_or(EarlyStop::Off, EarlyStop::Rounds);
        super::memory::reset_peak_rss();
        // The untimed first fit gives the quality metrics and warms caches.
        let pred = spec
            .fit_predict_full_on(&test.train, test.valid.x(), &query_times, stop, device)
            .map_err(|m| model_err(format!("test: {m}")))?;
        let quality = pipeline::score(&test, &pred, &query_times)
            .map_err(|source| RunnerError::Metrics {
                model: spec.name.clone(),
                fold: "test".into(),
                source,
            })?
            .into_iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let mut train_s = Vec::with_capacity(repeat);
        let mut predict_s = Vec::with_capacity(repeat);
        let x = test.valid.x();
        let mut train_cpu = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let mut scorer = None;
            let (fit, cpu) = timed_loop(|| {
                match fit_scorer(spec, &test.train, stop, device) {
                    Some(fitted) => scorer = Some(fitted?),
                    None => {
                        spec.fit_predict_full_on(&test.train, x, &query_times, stop, device)?;
                    }
                }
                Ok(())
            })
            .map_err(&model_err)?;
            train_s.push(fit);
            train_cpu.extend(cpu);
            if let Some(scorer) = &scorer {
                let (predict, _) = timed_loop(|| {
                    std::hint::black_box(scorer(std::hint::black_box(x))?);
                    Ok(())
                })
                .map_err(&model_err)?;
                predict_s.push(predict);
            }
        }
        let rows = x.n_rows() as f64;
        let predict_seconds = Spread::of(&predict_s);
        let predict_rows_per_second = predict_seconds
            .as_ref()
            .and_then(|_| Spread::of(&predict_s.iter().map(|s| rows / s).collect::<Vec<_>>()));
        out.push(ModelRecord {
            id: format!("{}/{}", entry.name, spec.name),
            entry: entry.name.clone(),
            experiment: exp.name().to_string(),
            dataset: entry.dataset.as_ref().map(|(n, _)| n.clone()),
            model: spec.name.clone(),
            kind: spec.kind.to_string(),
            task: exp.task().as_str().to_string(),
            test_cutoff: format_date(test_fold.valid_cutoff),
            train_rows: test.train.n_rows(),
            test_rows: x.n_rows(),
            features: x.n_cols(),
            quality,
            train_seconds: Spread::of(&train_s)
                .ok_or_else(|| model_err("a fit took a non-finite time".into()))?,
            train_cpu_seconds: Spread::of(&train_cpu).filter(|_| train_cpu.len() == repeat),
            predict_seconds,
            predict_rows_per_second,
            peak_rss_mb: crate::output::peak_rss_mb(),
            // Models without GPU code run on the CPU whatever was asked.
            device: if spec.uses_device() {
                device.to_string()
            } else {
                ResolvedDevice::Cpu.to_string()
            },
        });
        spin.finish();
    }
    Ok(out)
}

fn uses_early_stopping(spec: &ModelSpec) -> bool {
    matches!(&spec.family, Family::Gbdt(p) if p.early_stopping_round > 0)
}

/// A fitted model's prediction of raw feature rows.
type Scorer = Box<dyn Fn(&Matrix) -> std::result::Result<Vec<f64>, String>>;

/// Fits a model whose prediction is a separate step; `None` for families
/// that fit and predict in one (their time is measured as a whole).
fn fit_scorer(
    spec: &ModelSpec,
    train: &Dataset,
    stop: EarlyStop<'_>,
    device: &ResolvedDevice,
) -> Option<std::result::Result<Scorer, String>> {
    fn boxed<P>(p: &P, train: &Dataset) -> std::result::Result<Scorer, String>
    where
        P: Fit,
        P::Error: std::fmt::Display,
        P::Model: 'static,
        <P::Model as Predict>::Error: std::fmt::Display,
    {
        let model = p.fit(train).map_err(|e| e.to_string())?;
        Ok(Box::new(move |x: &Matrix| {
            model.predict(x).map_err(|e| e.to_string())
        }))
    }
    Some(match &spec.family {
        Family::Logistic(p) => boxed(p, train),
        Family::KaplanMeier(p) => boxed(p, train),
        Family::HistoricalAverage(p) => boxed(p, train),
        Family::Ridge(p) => boxed(p, train),
        Family::Cox(p) => (|| -> std::result::Result<Scorer, String> {
            // As `ModelSpec::fit_predict_full`: scaled on the training rows;
            // scaling is part of every prediction.
            let scaler = crate::models::Scaler::fit(train.x());
            let names = scaler
                .keep
                .iter()
                .map(|&j| train.feature_names()[j].clone())
                .collect();
            let scaled = Dataset::new(scaler.transform(train.x()), names, train.target().clone())
                .map_err(|e| e.to_string())?;
            let model = p.fit(&scaled).map_err(|e| e.to_string())?;
            Ok(Box::new(move |x: &Matrix| {
                model
                    .predict(&scaler.transform(x))
                    .map_err(|e| e.to_string())
            }))
        })(),
        Family::Gbdt(p) => crate::models::fit_booster(p, train, stop, None, device).map(|b| {
            let scorer: Scorer =
                Box::new(move |x: &Matrix| b.predict(x).map_err(|e| e.to_string()));
            scorer
        }),
        _ => return None,
    })
}

/// Wall and CPU seconds per call of `f`: calls repeated for at least
/// 100 ms (at most 1000 of them), so that fast fits and small test sets are
/// not timed at the clocks' resolution (CPU time counts 10 ms ticks); a
/// slow call is timed once.
fn timed_loop(
    mut f: impl FnMut() -> std::result::Result<(), String>,
) -> std::result::Result<(f64, Option<f64>), String> {
    let budget = Duration::from_millis(100);
    let cpu = crate::output::CpuTimer::start();
    let t0 = Instant::now();
    let mut calls = 0u32;
    while calls == 0 || (t0.elapsed() < budget && calls < 1000) {
        f()?;
        calls += 1;
    }
    let wall = t0.elapsed().as_secs_f64() / f64::from(calls);
    let cpu = cpu.elapsed().map(|s| s / f64::from(calls));
    Ok((wall, cpu))
}
