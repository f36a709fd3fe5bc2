//! From an experiment to tracked, reported results: load, snapshot, fold,
//! fit, evaluate, log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tenure_core::spec_categories::{CategoricalInputs, DerivedFeature};
use tenure_core::{Dataset, DeviceRequest, Matrix, Target, Task};
use tenure_data::encoding::TargetEncoder;
use tenure_data::{
    CustomerLog, CvPlan, Fold, HighCardinality, OneHotAttribute, Snapshot, SnapshotBuilder,
    format_date,
};
use tenure_device::{Resolution, ResolvedDevice};
use tenure_store::{Metric, RunStatus, TrackingStore};

use crate::calibrate::ModelCalibration;
use crate::models::EarlyStop;
use crate::progress::Progress;
use crate::{Experiment, Result, RunnerError};

/// How to run: what the command line adds to the experiment.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub device: DeviceRequest,
    /// Draw progress bars (the CLI turns them off when stdout is not a terminal).
    pub progress: bool,
    /// Override the experiment's tracking directory.
    pub tracking_dir: Option<PathBuf>,
    /// Override the tracking URI: a directory or an MLflow server's
    /// `http(s)://` URL. Wins over `tracking_dir`.
    pub tracking_uri: Option<String>,
}

/// Row counts of one fold, for the split table.
#[derive(Debug, Clone, Serialize)]
pub struct FoldSummary {
    pub name: String,
    pub train_cutoffs: Vec<String>,
    pub train_rows: usize,
    pub valid_cutoff: String,
    pub valid_rows: usize,
    /// Churn rate, event rate or mean spend of the validation rows.
    pub valid_label_mean: f64,
}

/// One model's scores on one fold, kept for curves and tests.
#[derive(Debug, Clone)]
pub struct FoldPrediction {
    pub fold: String,
    pub customer_ids: Vec<String>,
    pub target: Target,
    pub prediction: Vec<f64>,
    /// Survival models: `S(t | x)` at each evaluation time
    /// ([`RunOutcome::survival_times_days`]), `survival[k][i]`.
    pub survival: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricSummary {
    pub mean: f64,
    pub std: f64,
    pub folds: Vec<f64>,
    /// On the held-out test cutoff, after training on everything before it.
    pub test: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub name: String,
    pub kind: String,
    pub task: Task,
    pub metrics: BTreeMap<String, MetricSummary>,
    #[serde(skip)]
    pub predictions: Vec<FoldPrediction>,
    pub fit_seconds: f64,
    /// Calibrated on the validation folds, measured on the test cutoff
    /// (churn and survival models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<ModelCalibration>,
    /// The exported model (`models/<name>/model.onnx` in the run's
    /// artifacts), for the kinds that export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onnx: Option<PathBuf>,
}

/// What a run produced; `--json` prints a view of it.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: String,
    pub experiment: String,
    pub experiment_id: String,
    /// The store's directory, or the server's URL.
    pub store: PathBuf,
    /// The report's path, or its artifact URI on a server.
    pub report: PathBuf,
    pub device: String,
    pub device_note: String,
    pub task: Task,
    pub split: Vec<FoldSummary>,
    pub models: Vec<ModelResult>,
    pub n_customers: usize,
    pub n_events: usize,
    pub seconds: f64,
    /// The `[uplift]` models' evaluation, when the experiment has one.
    pub uplift: Option<crate::uplift::UpliftOutcome>,
    /// What `[registry]` registered and promoted, when the experiment asks.
    pub registration: Option<crate::tracking::Registration>,
    /// Survival: the days after the cutoff at which models gave `S(t | x)`.
    pub survival_times_days: Vec<f64>,
}

/// Resolves `--device` with the device discovery every GPU model shares
/// (`tenure-device`): `(resolved device, why)`. A device that is asked for
/// and absent is an error, never a fallback.
pub fn resolve_device(request: DeviceRequest) -> Result<Resolution> {
    Ok(tenure_device::resolve_here(request)?)
}

/// [`resolve_device`] for an experiment: when none of its models has GPU
/// code, every model runs on the CPU whatever was asked, and no GPU driver
/// is woken (drivers can be slow to load and noisy on stderr).
pub fn resolve_device_for(request: DeviceRequest, exp: &Experiment) -> Result<Resolution> {
    if exp.models.iter().any(|m| m.uses_device()) {
        return resolve_device(request);
    }
    Ok(Resolution {
        request,
        device: ResolvedDevice::Cpu,
        reason: format!("{request} requested"),
    })
}

/// The device line of a run: where its models run and why.
pub fn device_note(resolution: &Resolution, exp: &Experiment) -> String {
    let on_device: Vec<&str> = exp
        .models
        .iter()
        .filter(|m| m.uses_device())
        .map(|m| m.name.as_str())
        .collect();
    if on_device.is_empty() {
        format!(
            "{}; no model of this experiment has GPU code, all run on the cpu",
            resolution.reason
        )
    } else if on_device.len() == exp.models.len() || !resolution.device.is_gpu() {
        resolution.reason.clone()
    } else {
        format!(
            "{}; only {} run there, the other models on the cpu",
            resolution.reason,
            on_device.join(", ")
        )
    }
}

/// Loads the experiment's data and plans its folds, without training.
#[derive(Debug)]
pub struct Prepared {
    pub log: CustomerLog,
    pub plan: CvPlan,
    pub snapshots: BTreeMap<i64, Snapshot>,
    pub feature_names: Vec<String>,
    /// The attributes one-hot encoded among the features.
    pub onehot: Vec<OneHotAttribute>,
}

pub fn prepare(exp: &Experiment, progress: &Progress) -> Result<Prepared> {
    let f = &exp.file;
    let spin = progress.spinner(format!("loading {}", f.data.transactions.path.display()));
    let log = tenure_data::io::load(&f.data.transactions, f.data.customers.as_ref())?;
    spin.finish();
    let end = f.labels.observation_end(&log)?;
    let plan = f.cv.plan(f.labels.horizon_days, end).map_err(|e| match e {
        tenure_data::DataError::Config { key, reason } => RunnerError::Config {
            path: exp.path.clone(),
            key,
            reason,
        },
        other => other.into(),
    })?;
    let builder = SnapshotBuilder::new(&log, &f.features, &f.labels, plan.earliest())?;
    let bar = progress.bar(plan.snapshot_cutoffs.len() as u64, "building snapshots");
    let mut snapshots = BTreeMap::new();
    for &c in &plan.snapshot_cutoffs {
        crate::interrupt::check()?;
        snapshots.insert(c, builder.build(c)?);
        bar.inc();
    }
    bar.finish();
    // Target-encoded columns are appended per fold, after the builder's.
    let mut feature_names = builder.feature_names().to_vec();
    if let Some(s) = snapshots.values().next() {
        feature_names.extend(s.high_cardinality.iter().map(|h| h.name.clone()));
    }
    let onehot = builder.onehot_attributes();
    Ok(Prepared {
        log,
        plan,
        snapshots,
        feature_names,
        onehot,
    })
}

/// Train and validation sets of one fold, target encoding fitted on the
/// fold's training rows only.
#[derive(Debug)]
pub struct FoldData {
    pub train: Dataset,
    pub valid: Dataset,
    pub valid_ids: Vec<String>,
    /// The features computed from categorical attributes, as lookups on
    /// the raw levels (what an export of the fold's model reads).
    pub categories: Option<CategoricalInputs>,
}

pub fn fold_data(exp: &Experiment, prepared: &Prepared, fold: &Fold) -> Result<FoldData> {
    let valid_snap = &prepared.snapshots[&fold.valid_cutoff];
    let train_snaps: Vec<&Snapshot> = fold
        .train_cutoffs
        .iter()
        .map(|c| &prepared.snapshots[c])
        .collect();
    let x_parts: Vec<&Matrix> = train_snaps.iter().map(|s| s.dataset.x()).collect();
    let y_parts: Vec<&Target> = train_snaps.iter().map(|s| s.dataset.target()).collect();
    let mut train_x = Matrix::vstack(&x_parts)?;
    let train_y = Target::concat(&y_parts)?;
    let mut valid_x = valid_snap.dataset.x().clone();
    let mut names = valid_snap.dataset.feature_names().to_vec();

    let encoded = target_encode(
        exp,
        &valid_snap.high_cardinality,
        |k| {
            train_snaps
                .iter()
                .flat_map(|s| s.high_cardinality[k].codes.iter().copied())
                .collect()
        },
        &train_y,
    )?;
    let mut encodings = Vec::new();
    for e in encoded {
        train_x = train_x.hstack(&column(e.train))?;
        valid_x = valid_x.hstack(&column(e.valid))?;
        encodings.push((e.attribute, e.levels, names.len(), e.encoder));
        names.push(e.name);
    }
    let categories = categorical_inputs(&prepared.onehot, &encodings);
    Ok(FoldData {
        train: Dataset::new(train_x, names.clone(), train_y)?,
        valid: Dataset::new(valid_x, names, valid_snap.dataset.target().clone())?,
        valid_ids: valid_snap.customer_ids.clone(),
        categories,
    })
}

/// The one-hot and target-encoded features as lookups on their
/// attributes' raw levels; `None` without a categorical attribute.
/// `encodings`: (attribute, levels, feature index, encoder) per
/// target-encoded attribute.
fn categorical_inputs(
    onehot: &[OneHotAttribute],
    encodings: &[(String, Vec<String>, usize, TargetEncoder)],
) -> Option<CategoricalInputs> {
    let mut columns = Vec::new();
    let mut derived = Vec::new();
    for a in onehot {
        let column = columns.len() as u32;
        columns.push(a.attribute.clone());
        derived.extend(a.columns.iter().map(|(level, j)| DerivedFeature {
            feature: *j as u32,
            column,
            levels: vec![level.clone()],
            values: vec![1.0],
            unseen: 0.0,
        }));
    }
    for (attribute, levels, j, encoder) in encodings {
        derived.push(DerivedFeature {
            feature: *j as u32,
            column: columns.len() as u32,
            levels: levels.clone(),
            values: encoder.values().to_vec(),
            unseen: encoder.prior(),
        });
        columns.push(attribute.clone());
    }
    (!columns.is_empty()).then_some(CategoricalInputs { columns, derived })
}

/// A target-encoded attribute: its feature name and its values on the
/// training and validation rows.
pub(crate) struct EncodedColumn {
    pub name: String,
    pub train: Vec<f64>,
    pub valid: Vec<f64>,
    /// The attribute's column in the customers table, and its levels.
    pub attribute: String,
    pub levels: Vec<String>,
    /// Fitted on every training row: the one new rows get.
    pub encoder: TargetEncoder,
}

/// One target-encoded column per high-cardinality attribute: the encoder is
/// fitted on the training rows (whose own values are out of fold) and applied
/// to the validation rows, whose codes are in `valid`.
pub(crate) fn target_encode(
    exp: &Experiment,
    valid: &[HighCardinality],
    train_codes: impl Fn(usize) -> Vec<Option<u32>>,
    train_y: &Target,
) -> Result<Vec<EncodedColumn>> {
    let encode_y = encoding_target(train_y);
    let fc = &exp.file.features;
    valid
        .iter()
        .enumerate()
        .map(|(k, hc)| {
            let (encoder, oof) = TargetEncoder::fit_transform_oof(
                &train_codes(k),
                hc.n_levels,
                &encode_y,
                fc.target_encoding_folds,
                fc.target_encoding_smoothing,
                exp.file.seed.wrapping_add(k as u64),
            )?;
            Ok(EncodedColumn {
                name: hc.name.clone(),
                train: oof,
                valid: encoder.transform(&hc.codes),
                attribute: hc.attribute.clone(),
                levels: hc.levels.clone(),
                encoder,
            })
        })
        .collect()
}

pub(crate) fn column(values: Vec<f64>) -> Matrix {
    let n = values.len();
    Matrix::new(values, n, 1).expect("a column of n values is n x 1")
}

/// What a categorical level is encoded against: the label itself for churn
/// and CLV, the event indicator for survival.
fn encoding_target(target: &Target) -> Vec<f64> {
    match target {
        Target::Binary(y) | Target::Continuous(y) => y.clone(),
        Target::Survival { event, .. } => event.iter().map(|&e| f64::from(u8::from(e))).collect(),
    }
}

fn label_mean(target: &Target) -> f64 {
    let v = encoding_target(target);
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

pub fn split_summary(prepared: &Prepared) -> Vec<FoldSummary> {
    prepared
        .plan
        .all_folds()
        .map(|fold| {
            let valid = &prepared.snapshots[&fold.valid_cutoff];
            FoldSummary {
                name: fold.name.clone(),
                train_cutoffs: fold.train_cutoffs.iter().map(|&c| format_date(c)).collect(),
                train_rows: fold
                    .train_cutoffs
                    .iter()
                    .map(|c| prepared.snapshots[c].dataset.n_rows())
                    .sum(),
                valid_cutoff: format_date(fold.valid_cutoff),
                valid_rows: valid.dataset.n_rows(),
                valid_label_mean: label_mean(valid.dataset.target()),
            }
        })
        .collect()
}

/// Runs an experiment end to end and records it in the tracking store.
///
/// Data are loaded and the folds planned before the store is touched, so bad
/// input leaves no run behind; a failure after that marks the run FAILED.
pub fn run(exp: &Experiment, opts: &RunOptions) -> Result<RunOutcome> {
    let started = Instant::now();
    let progress = Progress::new(opts.progress);
    let resolution = resolve_device_for(opts.device, exp)?;
    let device_note = device_note(&resolution, exp);
    let device = resolution.device.kind().to_string();
    let prepared = prepare(exp, &progress)?;
    crate::sanity::check(exp, &prepared)?;

    let uri = match (&opts.tracking_uri, &opts.tracking_dir) {
        (Some(uri), _) => uri.clone(),
        (None, Some(dir)) => dir.display().to_string(),
        (None, None) => crate::tracking::resolve_uri(None, exp.file.tracking.uri.as_deref()),
    };
    let mut data_files = vec![exp.file.data.transactions.path.as_path()];
    if let Some(c) = &exp.file.data.customers {
        data_files.push(c.path.as_path());
    }
    let fingerprint = crate::tracking::data_fingerprint(&data_files)?;
    let tracking = crate::tracking::open(&uri)?;
    let store = tracking.store.as_ref();
    let store_dir = PathBuf::from(store.location());
    let experiment_id = store.get_or_create_experiment(exp.name())?;
    let source = exp.path.display().to_string();
    let device_name = resolution.device.to_string();
    let mut tags = vec![
        ("mlflow.source.name", source.as_str()),
        ("tenure.version", env!("CARGO_PKG_VERSION")),
        ("tenure.device", device.as_str()),
        ("tenure.device_name", device_name.as_str()),
        ("tenure.device_reason", device_note.as_str()),
        (
            tenure_store::registry::DATA_FINGERPRINT_TAG,
            fingerprint.as_str(),
        ),
    ];
    let commit = crate::tracking::git_commit(exp.path.parent().unwrap_or(Path::new(".")));
    if let Some(commit) = &commit {
        tags.push((tenure_store::registry::GIT_COMMIT_TAG, commit.as_str()));
    }
    let run_id = store.create_run(&experiment_id, exp.name(), &tags)?;
    let split = split_summary(&prepared);
    // Everything after the run exists either completes it or marks it FAILED.
    let finished = (|| -> Result<RunOutcome> {
        let models = train_and_log(
            exp,
            &prepared,
            &split,
            store,
            &run_id,
            &progress,
            &resolution.device,
        )?;
        crate::interrupt::check()?;
        let uplift = match &exp.uplift {
            Some(spec) => {
                let spin = progress.spinner("fitting uplift models".to_string());
                let u = crate::uplift::evaluate(exp, spec, &prepared.log)?;
                spin.finish();
                crate::uplift::log(&u, store, &run_id)?;
                Some(u)
            }
            None => None,
        };
        crate::interrupt::check()?;
        let mut out = RunOutcome {
            run_id: run_id.clone(),
            experiment: exp.name().to_string(),
            experiment_id,
            store: store_dir,
            report: PathBuf::new(),
            device,
            device_note,
            task: exp.task(),
            split,
            models,
            n_customers: prepared.log.n_customers(),
            n_events: prepared.log.n_events(),
            seconds: started.elapsed().as_secs_f64(),
            uplift,
            registration: None,
            survival_times_days: exp.survival_times_days.clone(),
        };
        store.log_artifact_bytes(
            &run_id,
            "metrics.json",
            serde_json::to_string_pretty(&crate::output::json_summary(&out))
                .unwrap_or_default()
                .as_bytes(),
        )?;
        store.log_artifact_bytes(
            &run_id,
            "calibration.json",
            serde_json::to_string_pretty(&crate::output::calibration_json(exp, &out))
                .unwrap_or_default()
                .as_bytes(),
        )?;
        let report = crate::report::build(exp, &out, &prepared.feature_names);
        store.log_artifact_bytes(&run_id, "report.md", report.render_markdown().as_bytes())?;
        out.report = store
            .log_artifact_bytes(&run_id, "report.html", report.render().as_bytes())?
            .into();
        // The last chance to stop: past it the run is complete.
        crate::interrupt::check()?;
        store.end_run(&run_id, RunStatus::Finished)?;
        Ok(out)
    })();
    // A fit that Ctrl-C stopped midway (uplift learners included) fails;
    // the failure is the stop, and the run is KILLED, not FAILED.
    let finished = finished.map_err(|e| {
        if crate::interrupt::requested() {
            RunnerError::Interrupted
        } else {
            e
        }
    });
    match finished {
        Ok(mut out) => {
            // After the run is FINISHED: only finished runs are registered,
            // and a refused registration leaves a valid run behind.
            if let Some(cfg) = &exp.file.registry {
                match crate::tracking::register_best(cfg, &tracking, &out) {
                    Ok(reg) => out.registration = Some(reg),
                    Err(e) => {
                        let _ = store.set_tag(&run_id, "tenure.registry.error", &e.to_string());
                        return Err(e);
                    }
                }
            }
            out.seconds = started.elapsed().as_secs_f64();
            Ok(out)
        }
        Err(e) => {
            // Best effort: the original error matters more than a failure to record it.
            let _ = store.set_tag(&run_id, "tenure.error", &e.to_string());
            let status = if matches!(e, RunnerError::Interrupted) {
                RunStatus::Killed
            } else {
                RunStatus::Failed
            };
            let _ = store.end_run(&run_id, status);
            Err(e)
        }
    }
}

fn train_and_log(
    exp: &Experiment,
    prepared: &Prepared,
    split: &[FoldSummary],
    store: &dyn TrackingStore,
    run_id: &str,
    progress: &Progress,
    device: &ResolvedDevice,
) -> Result<Vec<ModelResult>> {
    log_params(exp, store, run_id)?;
    store.log_artifact_bytes(run_id, "config.toml", exp.resolved_toml.as_bytes())?;
    store.log_artifact_bytes(
        run_id,
        "split.json",
        serde_json::to_string_pretty(split)
            .unwrap_or_default()
            .as_bytes(),
    )?;

    let folds: Vec<&Fold> = prepared.plan.all_folds().collect();
    let mut results: Vec<ModelResult> = exp
        .models
        .iter()
        .map(|m| ModelResult {
            name: m.name.clone(),
            kind: m.kind.to_string(),
            task: exp.task(),
            metrics: BTreeMap::new(),
            predictions: Vec::new(),
            fit_seconds: 0.0,
            calibration: None,
            onnx: None,
        })
        .collect();
    let mut exports: Vec<Option<tenure_core::spec::SavedSpec>> = vec![None; exp.models.len()];
    let query_times = query_times(&exp.survival_times_days);
    let bar = progress.bar((folds.len() * exp.models.len()) as u64, "training folds");
    let mut per_metric: Vec<BTreeMap<&'static str, Vec<f64>>> =
        vec![BTreeMap::new(); exp.models.len()];
    let mut test_metric: Vec<BTreeMap<&'static str, f64>> = vec![BTreeMap::new(); exp.models.len()];
    let mut best_rounds: Vec<Vec<usize>> = vec![Vec::new(); exp.models.len()];
    for (step, fold) in folds.iter().enumerate() {
        crate::interrupt::check()?;
        let data = fold_data(exp, prepared, fold)?;
        let is_test = fold.name == "test";
        // One batch per fold: a remote store gets one request, not one per
        // value.
        let mut batch: Vec<Metric> = Vec::new();
        for (m, spec) in exp.models.iter().enumerate() {
            crate::interrupt::check()?;
            let t0 = Instant::now();
            // The test fold may not steer training: it trains for the
            // mean of the rounds early stopping kept on the CV folds.
            let stop = match (is_test, best_rounds[m].is_empty()) {
                (false, _) => EarlyStop::OnValid(&data.valid),
                (true, true) => EarlyStop::Off,
                (true, false) => EarlyStop::Rounds(
                    (best_rounds[m].iter().sum::<usize>() as f64 / best_rounds[m].len() as f64)
                        .round() as usize,
                ),
            };
            let pred = spec
                .fit_predict_full_on(&data.train, data.valid.x(), &query_times, stop, device)
                .map_err(|message| {
                    // A fit stopped by Ctrl-C fails; the failure is the stop.
                    if crate::interrupt::requested() {
                        RunnerError::Interrupted
                    } else {
                        RunnerError::Model {
                            model: spec.name.clone(),
                            message: format!("{}: {message}", fold.name),
                        }
                    }
                })?;
            if let (false, Some(b)) = (is_test, pred.best_iteration) {
                best_rounds[m].push(b);
            }
            results[m].fit_seconds += t0.elapsed().as_secs_f64();
            // The test fold's model trained on every snapshot before the
            // test cutoff: the one to deploy.
            if let (true, Some(model)) = (is_test, &pred.spec) {
                let info = crate::export::model_info(
                    &spec.name,
                    spec.kind,
                    // Set by `export::spec_version` once the calibrator
                    // that follows the model is known (below).
                    "",
                    exp.task(),
                    Some(f64::from(exp.file.labels.horizon_days)),
                    &data.train,
                    Some(run_id),
                );
                let curves = pred
                    .baseline
                    .as_ref()
                    .map(|h| tenure_core::spec::SurvivalCurves {
                        days: exp.survival_times_days.clone(),
                        cumulative_hazard: h.clone(),
                        calibrators: Vec::new(),
                    });
                exports[m] = Some(
                    tenure_core::spec::SavedSpec::new(info, model.clone())
                        .with_survival(curves)
                        .with_categories(data.categories.clone()),
                );
            }
            let scores =
                score(&data, &pred, &query_times).map_err(|source| RunnerError::Metrics {
                    model: spec.name.clone(),
                    fold: fold.name.clone(),
                    source,
                })?;
            for (metric, value) in scores {
                if is_test {
                    test_metric[m].insert(metric, value);
                    batch.push(Metric::now(
                        format!("{}.test.{metric}", spec.name),
                        value,
                        0,
                    ));
                } else {
                    per_metric[m].entry(metric).or_default().push(value);
                    batch.push(Metric::now(
                        format!("{}.{metric}", spec.name),
                        value,
                        step as i64,
                    ));
                }
            }
            results[m].predictions.push(FoldPrediction {
                fold: fold.name.clone(),
                customer_ids: data.valid_ids.clone(),
                target: data.valid.target().clone(),
                prediction: pred.score,
                survival: pred.survival,
            });
            bar.inc();
        }
        store.log_batch(run_id, &batch, &[], &[])?;
    }
    bar.finish();

    for (m, result) in results.iter_mut().enumerate() {
        result.calibration = crate::calibrate::calibrate_model(
            &exp.calibration,
            &result.predictions,
            &query_times,
            &exp.survival_times_days,
        );
        if let Some(c) = &result.calibration {
            log_calibration(store, run_id, &result.name, c)?;
        }
        // The exported graph predicts what tenure reports after
        // calibration: the probability's calibrator follows the model.
        if let Some(saved) = exports[m].take() {
            crate::interrupt::check()?;
            let calibrator = result
                .calibration
                .as_ref()
                .and_then(|c| c.binary.as_ref())
                .and_then(|b| b.calibrator.clone());
            let mut saved = saved.with_calibrator(calibrator);
            // Each time's calibrator of 1 − S(t | x) follows its column.
            if let (Some(curves), Some(c)) = (&mut saved.survival, &result.calibration)
                && c.survival.len() == curves.days.len()
            {
                curves.calibrators = c.survival.iter().map(|h| h.calibrator.clone()).collect();
            }
            saved.info.version = crate::export::spec_version(&saved);
            result.onnx = Some(crate::export::log_bundle(store, run_id, &saved)?);
        }
        for (metric, values) in &per_metric[m] {
            let (mean, std) = mean_std(values);
            store.log_metric(run_id, &format!("{}.{metric}.mean", result.name), mean, 0)?;
            result.metrics.insert(
                (*metric).to_string(),
                MetricSummary {
                    mean,
                    std,
                    folds: values.clone(),
                    test: test_metric[m].get(metric).copied().unwrap_or(f64::NAN),
                },
            );
        }
    }
    Ok(results)
}

/// The times survival models are asked for `S(t | x)`: each configured day
/// `d` as the largest number below it. A label window is `[cutoff, cutoff +
/// horizon)`, so a subject followed to day `d` without an event is known to
/// be event-free before `d`: `S(d⁻) = P(T ≥ d)` is what the labels observe,
/// and at `d⁻` the censoring-weighted metrics count such subjects as
/// controls (at `d` itself they would be outside the follow-up).
pub fn query_times(days: &[f64]) -> Vec<f64> {
    days.iter().map(|d| d.next_down()).collect()
}

/// The task's metrics, plus those that need the training rows: Uno's C
/// weighs validation pairs by the training rows' censoring distribution, as
/// do the metrics of predicted survival curves.
pub(crate) fn score(
    data: &FoldData,
    pred: &crate::models::Prediction,
    query_times: &[f64],
) -> std::result::Result<Vec<(&'static str, f64)>, tenure_metrics::MetricsError> {
    let mut scores = tenure_metrics::evaluate(data.valid.target(), &pred.score)?;
    let curves = &pred.survival;
    let pred = &pred.score;
    if let (
        Target::Survival {
            time: train_time,
            event: train_event,
        },
        Target::Survival { time, event },
    ) = (data.train.target(), data.valid.target())
    {
        // Pairs beyond the training follow-up have no censoring weight:
        // truncate at the largest training time, as scikit-survival advises.
        let tau = train_time.iter().copied().fold(0.0, f64::max);
        let uno =
            tenure_metrics::uno_concordance(train_time, train_event, time, event, pred, Some(tau))?;
        scores.push(("uno_c", uno));
        if let Some(survival) = &curves {
            scores.extend(tenure_metrics::evaluate_survival_curves(
                train_time,
                train_event,
                time,
                event,
                survival,
                query_times,
            )?);
        }
    }
    Ok(scores)
}

/// One metric of the validation scores `pred` on `data`, as [`score`]
/// computes it, without the others: a search scores every boosting round or
/// epoch with it. `None` for the metrics that need predicted survival
/// curves (`ibs`, `td_auc`, `brier_horizon`, `ece_horizon`) or that the
/// task does not report.
pub(crate) fn score_one(
    data: &FoldData,
    metric: &str,
    pred: &[f64],
) -> Option<std::result::Result<f64, tenure_metrics::MetricsError>> {
    use tenure_metrics as m;
    Some(match (data.valid.target(), metric) {
        (Target::Binary(y), "auc") => m::roc_auc(y, pred),
        (Target::Binary(y), "pr_auc") => m::average_precision(y, pred),
        (Target::Binary(y), "log_loss") => m::log_loss(y, pred),
        (Target::Binary(y), "brier") => m::brier_score(y, pred),
        (Target::Continuous(y), "rmse") => m::rmse(y, pred),
        (Target::Continuous(y), "mae") => m::mae(y, pred),
        (Target::Continuous(y), "gini") => m::normalized_gini(y, pred),
        // As `tenure_metrics::evaluate`: a constant prediction ranks no one.
        (Target::Continuous(y), "spearman") => match m::spearman(y, pred) {
            Err(m::MetricsError::Constant { name: "pred", .. }) => Ok(0.0),
            other => other,
        },
        (Target::Continuous(y), "top_decile_lift") => m::top_decile_lift(y, pred),
        (Target::Continuous(y), "decile_mape") => m::decile_mape(y, pred),
        (Target::Survival { time, event }, "c_index") => m::concordance_index(time, event, pred),
        (Target::Survival { time, event }, "uno_c") => {
            let Target::Survival {
                time: train_time,
                event: train_event,
            } = data.train.target()
            else {
                return None;
            };
            // The same truncation as [`score`].
            let tau = train_time.iter().copied().fold(0.0, f64::max);
            m::uno_concordance(train_time, train_event, time, event, pred, Some(tau))
        }
        _ => return None,
    })
}

/// Whether [`score_one`] computes `metric` for `task`.
pub(crate) fn scores_alone(task: Task, metric: &str) -> bool {
    match task {
        Task::Churn => ["auc", "pr_auc", "log_loss", "brier"].contains(&metric),
        Task::Survival => ["c_index", "uno_c"].contains(&metric),
        Task::Clv => [
            "rmse",
            "mae",
            "gini",
            "spearman",
            "top_decile_lift",
            "decile_mape",
        ]
        .contains(&metric),
    }
}

/// The calibration measures of the test cutoff, as store metrics.
fn log_calibration(
    store: &dyn TrackingStore,
    run_id: &str,
    model: &str,
    c: &ModelCalibration,
) -> Result<()> {
    store.log_param(
        run_id,
        &format!("{model}.calibration.method"),
        c.method.as_str(),
    )?;
    let mut values: Vec<(&str, f64)> = Vec::new();
    if let Some(b) = &c.binary {
        values.extend([
            ("ece", b.before.ece_equal_width),
            ("ece_calibrated", b.after.ece_equal_width),
            ("brier_calibrated", b.after.brier.brier),
            ("log_loss_calibrated", b.after.log_loss),
        ]);
    }
    if let Some(h) = c.survival.last() {
        values.extend([
            ("ece_horizon_km", h.ece_before),
            ("ece_horizon_km_calibrated", h.ece_after),
        ]);
    }
    for (name, value) in values {
        if value.is_finite() {
            store.log_metric(run_id, &format!("{model}.test.{name}"), value, 0)?;
        }
    }
    Ok(())
}

fn log_params(exp: &Experiment, store: &dyn TrackingStore, run_id: &str) -> Result<()> {
    let f = &exp.file;
    let mut params: Vec<(String, String)> = vec![
        ("task".into(), f.labels.task.to_string()),
        ("horizon_days".into(), f.labels.horizon_days.to_string()),
        ("seed".into(), f.seed.to_string()),
        (
            "data.transactions".into(),
            f.data.transactions.path.display().to_string(),
        ),
        ("cv.folds".into(), f.cv.folds.to_string()),
        (
            "cv.scheme".into(),
            format!("{:?}", f.cv.scheme).to_lowercase(),
        ),
        (
            "features.windows_days".into(),
            format!("{:?}", f.features.windows_days),
        ),
    ];
    for m in &exp.models {
        params.push((format!("{}.kind", m.name), m.kind.to_string()));
        for (k, v) in &m.params {
            params.push((format!("{}.{k}", m.name), v.clone()));
        }
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    store.log_batch(run_id, &[], &pairs, &[])?;
    Ok(())
}

pub(crate) fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Prediction;

    fn noise(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Labels for `n` rows, drawn from the noise.
    type MakeTarget = dyn Fn(&mut dyn FnMut() -> f64, usize) -> Target;

    fn fold(target: &MakeTarget) -> (FoldData, Vec<f64>) {
        let mut r = noise(3);
        let data = |r: &mut dyn FnMut() -> f64, n: usize| {
            let x = Matrix::new((0..n).map(|_| r()).collect(), n, 1).unwrap();
            Dataset::new(x, vec!["x".into()], target(r, n)).unwrap()
        };
        let (train, valid) = (data(&mut r, 300), data(&mut r, 200));
        let pred = (0..200).map(|_| r().clamp(0.01, 0.99)).collect();
        let ids = (0..200).map(|i| i.to_string()).collect();
        (
            FoldData {
                train,
                valid,
                valid_ids: ids,
                categories: None,
            },
            pred,
        )
    }

    /// The per-round scorer of a search is the fold scorer, one metric at a
    /// time, for every metric it claims.
    #[test]
    fn score_one_is_score_for_every_metric_it_computes() {
        let binary = |r: &mut dyn FnMut() -> f64, n| {
            Target::Binary((0..n).map(|_| f64::from(r() < 0.3)).collect())
        };
        let spend = |r: &mut dyn FnMut() -> f64, n| {
            Target::Continuous(
                (0..n)
                    .map(|_| if r() < 0.4 { 0.0 } else { 100.0 * r() })
                    .collect(),
            )
        };
        let survival = |r: &mut dyn FnMut() -> f64, n| Target::Survival {
            time: (0..n).map(|_| (300.0 * r()).round()).collect(),
            event: (0..n).map(|_| r() < 0.6).collect(),
        };
        let cases: [(Task, &MakeTarget); 3] = [
            (Task::Churn, &binary),
            (Task::Clv, &spend),
            (Task::Survival, &survival),
        ];
        for (task, target) in cases {
            let (data, pred) = fold(target);
            let all = score(
                &data,
                &Prediction {
                    score: pred.clone(),
                    survival: None,
                    best_iteration: None,
                    spec: None,
                    baseline: None,
                },
                &[],
            )
            .unwrap();
            let mut checked = 0;
            for metric in crate::tune::task_metrics(task) {
                let one = score_one(&data, metric, &pred);
                assert_eq!(one.is_some(), scores_alone(task, metric), "{task} {metric}");
                // `evaluate` leaves out a CLV metric undefined on the data.
                match (one, all.iter().find(|(m, _)| m == metric)) {
                    (Some(v), Some((_, expected))) => {
                        assert_eq!(v.unwrap(), *expected, "{task} {metric}");
                        checked += 1;
                    }
                    (Some(v), None) => assert!(v.is_err(), "{task} {metric}"),
                    (None, _) => {}
                }
            }
            assert!(checked >= 2, "{task}");
        }
    }
}
