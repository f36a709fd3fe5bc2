//! `tenure fit --model gbdt` and `tenure predict`: the booster on a ready
//! feature table, with LightGBM's parameter names.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use tenure_core::spec::Model;
use tenure_core::{Dataset, Matrix, ParamGuard, Target, Task};
use tenure_data::io::{ColumnTable, read_columns};
use tenure_gbdt::{
    Booster, EvalMetric, GbdtParams, ImportanceKind, Objective, TrainLabels, TrainSet,
};

use crate::fit::FitRequest;
use crate::{Result, RunnerError};

fn err(e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Model {
        model: "gbdt".into(),
        message: e.to_string(),
    }
}

fn objective_of(task: Option<&str>) -> Result<Objective> {
    match task {
        Some("binary") => Ok(Objective::Binary),
        Some("regression") => Ok(Objective::Regression),
        Some("tweedie") => Ok(Objective::Tweedie),
        Some("survival") => Ok(Objective::Cox),
        Some(other) => Err(err(format!(
            "--task `{other}`: expected binary, regression, tweedie or survival"
        ))),
        None => Err(err("needs --task binary|regression|tweedie|survival")),
    }
}

/// Label columns and what they hold.
enum Roles<'a> {
    Label(&'a str),
    Survival { duration: &'a str, event: &'a str },
}

impl Roles<'_> {
    fn columns(&self) -> Vec<&str> {
        match self {
            Roles::Label(l) => vec![l],
            Roles::Survival { duration, event } => vec![duration, event],
        }
    }
}

/// Labels read from a table, owned.
enum OwnedLabels {
    Values(Vec<f64>),
    Survival { time: Vec<f64>, event: Vec<bool> },
}

impl OwnedLabels {
    fn borrow(&self) -> TrainLabels<'_> {
        match self {
            OwnedLabels::Values(y) => TrainLabels::Values(y),
            OwnedLabels::Survival { time, event } => TrainLabels::Survival { time, event },
        }
    }
}

fn read_labels(path: &Path, table: &ColumnTable, roles: &Roles<'_>) -> Result<OwnedLabels> {
    Ok(match roles {
        Roles::Label(l) => {
            let y = table.numeric(l).expect("label column read").to_vec();
            if let Some(row) = y.iter().position(|v| v.is_nan()) {
                return Err(tenure_data::DataError::BadValue {
                    path: path.to_path_buf(),
                    column: l.to_string(),
                    row: row + 1,
                    found: "a missing value".into(),
                    expected: "a label".into(),
                }
                .into());
            }
            OwnedLabels::Values(y)
        }
        Roles::Survival { duration, event } => {
            let time = table.numeric(duration).expect("duration read").to_vec();
            let e = table.numeric(event).expect("event read");
            if let Some(row) = e.iter().position(|&v| v != 0.0 && v != 1.0) {
                return Err(tenure_data::DataError::BadValue {
                    path: path.to_path_buf(),
                    column: event.to_string(),
                    row: row + 1,
                    found: e[row].to_string(),
                    expected: "0 (censored) or 1 (event)".into(),
                }
                .into());
            }
            OwnedLabels::Survival {
                time,
                event: e.iter().map(|&v| v == 1.0).collect(),
            }
        }
    })
}

/// Reads the named feature columns into a matrix, and the label columns;
/// the returned table holds the labels only, so the features are not kept
/// twice while the booster trains.
fn read_table(path: &Path, features: &[String], labels: &[&str]) -> Result<(ColumnTable, Matrix)> {
    let mut wanted: Vec<&str> = features.iter().map(String::as_str).collect();
    wanted.extend_from_slice(labels);
    let mut table = read_columns(path, &wanted, &[])?;
    let x = crate::fit::design(&table, features)?;
    table.numeric.retain(|(name, _)| !features.contains(name));
    Ok((table, x))
}

/// Writes one prediction per row with a header, atomically.
pub fn write_predictions(path: &Path, pred: &[f64]) -> Result<()> {
    let io = |source: std::io::Error| RunnerError::Io {
        context: format!("cannot write predictions to {}", path.display()),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        writeln!(w, "prediction").map_err(io)?;
        for p in pred {
            writeln!(w, "{p}").map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Fits a booster on `req.data` and describes it as JSON:
/// `{"model", "task", "train_seconds", "num_trees", "metrics", ...}`.
pub fn fit(req: &FitRequest) -> Result<Value> {
    let objective = objective_of(req.task.as_deref())?;
    let roles =
        match objective {
            Objective::Cox => Roles::Survival {
                duration: req.duration.as_deref().ok_or_else(|| {
                    err("--task survival needs --duration COLUMN and --event COLUMN")
                })?,
                event: req.event.as_deref().ok_or_else(|| {
                    err("--task survival needs --duration COLUMN and --event COLUMN")
                })?,
            },
            _ => Roles::Label(
                req.target
                    .as_deref()
                    .ok_or_else(|| err("needs --label COLUMN"))?,
            ),
        };
    let mut params = GbdtParams::new().with(|c| c.objective = objective);
    for kv in &req.params {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| err(format!("--param `{kv}`: expected KEY=VALUE")))?;
        if k.trim() == "objective" {
            return Err(err("set the objective with --task, not --param objective"));
        }
        params.set(k.trim(), v).map_err(err)?;
    }
    if let Some(t) = req.threads {
        params = params.with(|c| c.num_threads = t);
    }
    let params = params.check().map_err(err)?;

    let label_cols = roles.columns();
    let features = crate::fit::feature_columns(req, &label_cols)?;
    let (table, x) = read_table(&req.data, &features, &label_cols)?;
    let labels = read_labels(&req.data, &table, &roles)?;
    let eval = match &req.eval {
        Some(path) => {
            let (t, x) = read_table(path, &features, &label_cols)?;
            let y = read_labels(path, &t, &roles)?;
            Some((path, x, y))
        }
        None => None,
    };
    let train_set = TrainSet {
        x: &x,
        labels: labels.borrow(),
        weights: None,
    };
    let valid_set = eval.as_ref().map(|(_, x, y)| TrainSet {
        x,
        labels: y.borrow(),
        weights: None,
    });
    let resolution = tenure_device::resolve_here(req.device)?;
    let cpu = crate::output::CpuTimer::start();
    let booster = tenure_gbdt::train_on(
        &params,
        &features,
        train_set,
        valid_set,
        &mut |_| std::ops::ControlFlow::Continue(()),
        &resolution.device,
    )
    .map_err(err)?;
    let train_cpu_seconds = cpu.elapsed();

    let mut metrics = serde_json::Map::new();
    if let Some((_, ex, ey)) = &eval {
        let pred = booster.predict(ex).map_err(err)?;
        let labels = match ey.borrow() {
            TrainLabels::Values(y) => tenure_gbdt::metric::EvalLabels::Values(y),
            TrainLabels::Survival { time, event } => {
                tenure_gbdt::metric::EvalLabels::Survival { time, event }
            }
        };
        for m in EvalMetric::all_for(objective) {
            let v = m
                .compute(labels, &pred, params.tweedie_variance_power)
                .map_err(err)?;
            metrics.insert(m.name().into(), json!(v));
        }
    }
    if let Some(path) = &req.save_model {
        booster.save(path).map_err(err)?;
    }
    let mut predict_seconds = None;
    if let Some(path) = &req.predict {
        let out = req
            .out
            .as_ref()
            .ok_or_else(|| err("--predict FILE needs --out PRED.csv"))?;
        let (_, px) = read_table(path, booster.feature_names(), &[])?;
        let t0 = std::time::Instant::now();
        let pred = booster.predict(&px).map_err(err)?;
        predict_seconds = Some(t0.elapsed().as_secs_f64());
        write_predictions(out, &pred)?;
    }
    let task = match objective {
        Objective::Binary => Task::Churn,
        Objective::Cox => Task::Survival,
        _ => Task::Clv,
    };
    let mut onnx = Value::Null;
    if req.save_onnx.is_some() {
        let target = match labels.borrow() {
            TrainLabels::Values(y) => Target::Continuous(y.to_vec()),
            TrainLabels::Survival { time, event } => Target::Survival {
                time: time.to_vec(),
                event: event.to_vec(),
            },
        };
        let train = Dataset::new(x.clone(), features.clone(), target)?;
        crate::fit::save_onnx(req, &mut onnx, task, &train, || {
            Model::TreeEnsemble(booster.to_spec())
        })?;
    }
    let importance = |kind| {
        booster
            .feature_importance(kind)
            .into_iter()
            .map(|(n, v)| (n, json!(v)))
            .collect::<serde_json::Map<_, _>>()
    };
    Ok(json!({
        "model": "gbdt",
        "task": req.task,
        "rows": x.n_rows(),
        "features": features.len(),
        "train_seconds": booster.train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "device": resolution.device.kind(),
        "device_name": resolution.device.to_string(),
        "device_reason": resolution.reason,
        "device_bytes": booster.device_bytes,
        "device_traffic": booster.device_traffic,
        "num_trees": booster.num_trees(),
        "best_iteration": booster.best_iteration,
        "predict_seconds": predict_seconds,
        "peak_rss_mb": crate::output::peak_rss_mb(),
        "metrics": metrics,
        "feature_importance_gain": importance(ImportanceKind::Gain),
        "feature_importance_split": importance(ImportanceKind::Split),
        "onnx": onnx.get("onnx"),
    }))
}

/// Scores every row of `table` with a saved model; writes `out`.
pub fn predict_file(booster: &Booster, table: &Path, out: &Path) -> Result<usize> {
    let (_, x) = read_table(table, booster.feature_names(), &[])?;
    let pred = booster.predict(&x).map_err(err)?;
    write_predictions(out, &pred)?;
    Ok(pred.len())
}

/// `tenure predict --model PATH --table FILE --out PRED.csv`.
pub fn predict(model: &Path, table: &Path, out: &Path) -> Result<Value> {
    let booster = Booster::load(model).map_err(err)?;
    let rows = predict_file(&booster, table, out)?;
    Ok(json!({
        "model": model,
        "rows": rows,
        "out": out,
    }))
}
