//! `tenure fit`: one model on a ready table (one row per customer), outside
//! an experiment — for a quick look at a model's parameters, and for users
//! comparing with lifelines, lifetimes or scikit-learn on their own tables.

use std::path::PathBuf;

use serde_json::{Value, json};
use tenure_core::spec::{Model, SavedSpec};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target, Task};
use tenure_data::io::{ColumnTable, column_names, read_columns};
use tenure_data::io::{TransactionsSource, load};
use tenure_data::{TimeUnit, parse_date, rfm_summary};
use tenure_stats::{
    BgNbdParams, CoxParams, GammaGammaParams, KaplanMeierParams, LogisticRegressionParams, Ties,
    log_rank_test,
};

use crate::{Result, RunnerError};

/// Which columns play which role; what a model needs is checked by the model.
#[derive(Debug, Clone, Default)]
pub struct FitRequest {
    pub model: String,
    pub data: PathBuf,
    /// Binary label column (logistic).
    pub target: Option<String>,
    /// Survival: duration and event columns.
    pub duration: Option<String>,
    pub event: Option<String>,
    /// Feature columns; empty = every numeric column not used in another role.
    pub features: Vec<String>,
    /// Kaplan–Meier: horizon at which risk is read.
    pub horizon_days: f64,
    /// Kaplan–Meier: a group column; adds a curve per group and a log-rank test.
    pub group: Option<String>,
    pub l2: Option<f64>,
    /// Cox: tie handling (`efron` or `breslow`).
    pub ties: Option<String>,
    /// BG/NBD and Gamma-Gamma: where the RFM summary comes from.
    pub rfm: RfmSource,
    /// Where neural models run.
    pub device: tenure_core::DeviceRequest,
    /// gbdt: binary, regression, tweedie or survival.
    pub task: Option<String>,
    /// Hyperparameters as `KEY=VALUE`: gbdt by LightGBM's names, neural
    /// models by the keys of an experiment's `params` table (TOML values).
    pub params: Vec<String>,
    /// gbdt: a table to validate on (early stopping, reported metrics).
    pub eval: Option<PathBuf>,
    /// gbdt: score this table and write `out`.
    pub predict: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub save_model: Option<PathBuf>,
    pub threads: Option<usize>,
    /// Export the fitted model to this ONNX file (model card beside it).
    pub save_onnx: Option<PathBuf>,
    /// Survival models exported with `save_onnx`: add `S(t | x)` at these
    /// days as the `survival` output (baseline fitted on the training rows).
    pub survival_days: Vec<f64>,
}

/// An RFM summary table as it is, or one computed from transactions.
#[derive(Debug, Clone, Default)]
pub struct RfmSource {
    pub frequency: Option<String>,
    pub recency: Option<String>,
    pub t: Option<String>,
    pub monetary: Option<String>,
    /// Transactions mode: the first day after the calibration period.
    pub calibration_end: Option<String>,
    pub time_unit: Option<String>,
    pub customer_id: Option<String>,
    pub timestamp: Option<String>,
    pub amount: Option<String>,
}

/// Frequency, recency, T and monetary value per customer.
struct Rfm {
    frequency: Vec<f64>,
    recency: Vec<f64>,
    t: Vec<f64>,
    monetary: Option<Vec<f64>>,
    source: String,
}

fn read_rfm(req: &FitRequest, model: &str, need_monetary: bool) -> Result<Rfm> {
    let r = &req.rfm;
    if let Some(end) = &r.calibration_end {
        let end = parse_date(end).ok_or_else(|| {
            model_error(
                model,
                format!("--calibration-end `{end}` is not a date like 1997-10-01"),
            )
        })?;
        let unit = match r.time_unit.as_deref() {
            None | Some("weeks") => TimeUnit::Weeks,
            Some("days") => TimeUnit::Days,
            Some(other) => {
                return Err(model_error(
                    model,
                    format!("--time-unit `{other}`: expected days or weeks"),
                ));
            }
        };
        let src = TransactionsSource {
            customer_id: r
                .customer_id
                .clone()
                .unwrap_or_else(|| "customer_id".into()),
            timestamp: r.timestamp.clone().unwrap_or_else(|| "timestamp".into()),
            amount: r.amount.clone().unwrap_or_else(|| "amount".into()),
            ..TransactionsSource::new(&req.data)
        };
        let log = load(&src, None)?;
        // BG/NBD needs T > 0: a customer first seen on the last calibration
        // day has no observation window yet.
        let rows: Vec<_> = rfm_summary(&log, end, unit)
            .rows
            .into_iter()
            .filter(|row| row.t > 0.0)
            .collect();
        return Ok(Rfm {
            frequency: rows.iter().map(|r| r.frequency).collect(),
            recency: rows.iter().map(|r| r.recency).collect(),
            t: rows.iter().map(|r| r.t).collect(),
            monetary: Some(rows.iter().map(|r| r.monetary_value).collect()),
            source: format!(
                "transactions, calibration before {}",
                tenure_data::format_date(end)
            ),
        });
    }
    fn col<'a>(model: &str, name: &'a Option<String>, flag: &str) -> Result<&'a str> {
        name.as_deref().ok_or_else(|| {
            role_error(
                model,
                &format!("{flag} COLUMN (or --calibration-end DATE to summarise transactions)"),
            )
        })
    }
    let frequency = col(model, &r.frequency, "--frequency")?;
    let monetary = if need_monetary {
        Some(col(model, &r.monetary, "--monetary")?)
    } else {
        r.monetary.as_deref()
    };
    let (recency, t) = if need_monetary {
        (r.recency.as_deref(), r.t.as_deref())
    } else {
        (
            Some(col(model, &r.recency, "--recency")?),
            Some(col(model, &r.t, "--t")?),
        )
    };
    let wanted: Vec<&str> = [Some(frequency), recency, t, monetary]
        .into_iter()
        .flatten()
        .collect();
    let table = read_columns(&req.data, &wanted, &[])?;
    let get = |c: Option<&str>| c.map(|c| table.numeric(c).expect("read").to_vec());
    Ok(Rfm {
        frequency: get(Some(frequency)).expect("frequency"),
        recency: get(recency).unwrap_or_default(),
        t: get(t).unwrap_or_default(),
        monetary: get(monetary),
        source: "RFM summary table".into(),
    })
}

pub const FIT_MODELS: &[&str] = &[
    "logistic",
    "kaplan_meier",
    "cox",
    "bgnbd",
    "gamma_gamma",
    "mlp",
    "deepsurv",
    "ziln",
    "gbdt",
];

fn role_error(model: &str, flag: &str) -> RunnerError {
    RunnerError::Model {
        model: model.to_string(),
        message: format!("needs {flag}"),
    }
}

fn model_error(model: &str, e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Model {
        model: model.to_string(),
        message: e.to_string(),
    }
}

/// Fits the requested model and describes it as JSON.
pub fn fit(req: &FitRequest) -> Result<Value> {
    if !req.survival_days.is_empty() && req.save_onnx.is_none() {
        return Err(model_error(
            &req.model,
            "--survival-days describes the exported file: add --save-onnx PATH",
        ));
    }
    let kind = req.model.as_str();
    if req.save_onnx.is_some()
        && FIT_MODELS.contains(&kind)
        && !crate::export::EXPORTABLE_KINDS.contains(&kind)
    {
        return Err(model_error(
            kind,
            format!(
                "--save-onnx: this model does not export to ONNX (models that do: {})",
                crate::export::EXPORTABLE_KINDS.join(", ")
            ),
        ));
    }
    match kind {
        "logistic" => fit_logistic(req),
        "kaplan_meier" => fit_kaplan_meier(req),
        "cox" => fit_cox(req),
        "bgnbd" => fit_bgnbd(req),
        "gamma_gamma" => fit_gamma_gamma(req),
        "mlp" | "deepsurv" | "ziln" => fit_neural(req),
        "gbdt" => crate::fit_gbdt::fit(req),
        other => Err(RunnerError::Model {
            model: other.to_string(),
            message: format!(
                "unknown model for `tenure fit` (expected one of: {})",
                FIT_MODELS.join(", ")
            ),
        }),
    }
}

/// The feature columns: as given, or every column not used in a role.
pub(crate) fn feature_columns(req: &FitRequest, roles: &[&str]) -> Result<Vec<String>> {
    if !req.features.is_empty() {
        return Ok(req.features.clone());
    }
    Ok(column_names(&req.data)?
        .into_iter()
        .filter(|c| !roles.contains(&c.as_str()))
        .collect())
}

pub(crate) fn design(table: &ColumnTable, features: &[String]) -> Result<Matrix> {
    let cols: Vec<&[f64]> = features
        .iter()
        .map(|f| table.numeric(f).expect("feature columns were read"))
        .collect();
    let mut data = Vec::with_capacity(table.n_rows * cols.len());
    for r in 0..table.n_rows {
        data.extend(cols.iter().map(|c| c[r]));
    }
    Ok(Matrix::new(data, table.n_rows, cols.len())?)
}

fn fit_logistic(req: &FitRequest) -> Result<Value> {
    let target = req
        .target
        .as_deref()
        .ok_or_else(|| role_error("logistic", "--target COLUMN (0/1 labels)"))?;
    let features = feature_columns(req, &[target])?;
    let mut wanted: Vec<&str> = features.iter().map(String::as_str).collect();
    wanted.push(target);
    let table = read_columns(&req.data, &wanted, &[])?;
    let y = table.numeric(target).expect("read").to_vec();
    if let Some(row) = y.iter().position(|v| *v != 0.0 && *v != 1.0) {
        return Err(tenure_data::DataError::BadValue {
            path: req.data.clone(),
            column: target.to_string(),
            row: row + 1,
            found: y[row].to_string(),
            expected: "0 or 1".into(),
        }
        .into());
    }
    let x = design(&table, &features)?;
    let data = Dataset::new(x, features.clone(), Target::Binary(y.clone()))?;
    let params = LogisticRegressionParams::new()
        .l2(req.l2.unwrap_or(1.0))
        .check()
        .map_err(|e| model_error("logistic", e))?;
    let model = params.fit(&data).map_err(|e| model_error("logistic", e))?;
    let p = model
        .predict(data.x())
        .map_err(|e| model_error("logistic", e))?;
    let coef: serde_json::Map<String, Value> = features
        .iter()
        .zip(model.coefficients())
        .map(|(n, c)| (n.clone(), json!(c)))
        .collect();
    let mut out = json!({
        "model": "logistic",
        "rows": table.n_rows,
        "coef": coef,
        "intercept": model.intercept(),
        "converged": model.converged(),
        "iterations": model.n_iter(),
        "train": {
            "auc": tenure_metrics::roc_auc(&y, &p).ok(),
            "log_loss": tenure_metrics::log_loss(&y, &p).ok(),
        },
    });
    save_onnx(req, &mut out, Task::Churn, &data, || {
        Model::Linear(model.to_spec())
    })?;
    Ok(out)
}

/// With `--save-onnx PATH`: exports the fitted model there, its card
/// beside it, and adds both paths to the JSON description. With
/// `--survival-days`, a survival model's file also gives `S(t | x)` there.
pub(crate) fn save_onnx(
    req: &FitRequest,
    out: &mut Value,
    task: Task,
    train: &Dataset,
    spec: impl FnOnce() -> Model,
) -> Result<()> {
    let Some(path) = &req.save_onnx else {
        return Ok(());
    };
    let info = crate::export::model_info(&req.model, &req.model, "1", task, None, train, None);
    let model = spec();
    let curves = survival_curves(req, train, &model)?;
    let spec = SavedSpec::new(info, model).with_survival(curves);
    let card = crate::export::save_onnx(path, &spec)?;
    out["onnx"] = json!({
        "path": path.display().to_string(),
        "model_card": card.display().to_string(),
    });
    if let Some(c) = &spec.survival {
        out["onnx"]["survival_days"] = json!(c.days);
    }
    Ok(())
}

/// `--survival-days`: the Breslow baseline of the model's log hazard ratios
/// on the training rows, read just before each day as `tenure run` reads it.
fn survival_curves(
    req: &FitRequest,
    train: &Dataset,
    model: &Model,
) -> Result<Option<tenure_core::spec::SurvivalCurves>> {
    if req.survival_days.is_empty() {
        return Ok(None);
    }
    let Target::Survival { time, event } = train.target() else {
        return Err(model_error(
            &req.model,
            "--survival-days needs a survival model (cox, deepsurv, gbdt --task survival)",
        ));
    };
    if let Some(d) = req
        .survival_days
        .iter()
        .find(|d| !(d.is_finite() && **d > 0.0))
    {
        return Err(model_error(
            &req.model,
            format!("--survival-days {d}: expected positive days"),
        ));
    }
    let eta = model
        .predict_raw(train.x())
        .map_err(|e| model_error(&req.model, e))?;
    let baseline = tenure_stats::BreslowBaseline::fit(time, event, &eta, train.weights())
        .map_err(|e| model_error(&req.model, e))?;
    let cumulative_hazard = crate::pipeline::query_times(&req.survival_days)
        .iter()
        .map(|&t| baseline.cumulative_hazard_at(t))
        .collect();
    Ok(Some(tenure_core::spec::SurvivalCurves {
        days: req.survival_days.clone(),
        cumulative_hazard,
        calibrators: Vec::new(),
    }))
}

fn fit_kaplan_meier(req: &FitRequest) -> Result<Value> {
    let (duration, event) = survival_roles(req, "kaplan_meier")?;
    let text: Vec<&str> = req.group.as_deref().into_iter().collect();
    let table = read_columns(&req.data, &[duration, event], &text)?;
    let target = survival_target(req, &table, duration, event)?;
    let curve = |target: Target| -> Result<Value> {
        let n = target.len();
        let data = Dataset::new(Matrix::zeros(n, 0), Vec::new(), target)?;
        let model = KaplanMeierParams::new(req.horizon_days)
            .check()
            .map_err(|e| model_error("kaplan_meier", e))?
            .fit(&data)
            .map_err(|e| model_error("kaplan_meier", e))?;
        let ci = model
            .confidence_interval(0.05)
            .map_err(|e| model_error("kaplan_meier", e))?;
        Ok(json!({
            "rows": n,
            "median": model.median(),
            "times": model.times(),
            "survival": model.survival(),
            "ci95_lower": ci.iter().map(|c| c.0).collect::<Vec<_>>(),
            "ci95_upper": ci.iter().map(|c| c.1).collect::<Vec<_>>(),
            "at_risk": model.at_risk(),
            "events": model.events(),
        }))
    };
    let mut out = curve(target.clone())?;
    out["model"] = json!("kaplan_meier");
    if let Some(group) = req.group.as_deref() {
        let labels = table.text(group).expect("group column read");
        let mut levels: Vec<String> = labels.iter().flatten().cloned().collect();
        levels.sort();
        levels.dedup();
        let missing = labels.iter().position(Option::is_none);
        if let Some(row) = missing {
            return Err(tenure_data::DataError::BadValue {
                path: req.data.clone(),
                column: group.to_string(),
                row: row + 1,
                found: "null".into(),
                expected: "a group label".into(),
            }
            .into());
        }
        let codes: Vec<usize> = labels
            .iter()
            .map(|l| {
                levels
                    .binary_search(l.as_ref().expect("checked"))
                    .expect("level")
            })
            .collect();
        let Target::Survival { time, event } = &target else {
            unreachable!("survival_target builds a survival target")
        };
        let test =
            log_rank_test(time, event, &codes).map_err(|e| model_error("kaplan_meier", e))?;
        let mut groups = serde_json::Map::new();
        for (k, level) in levels.iter().enumerate() {
            let idx: Vec<usize> = (0..codes.len()).filter(|&i| codes[i] == k).collect();
            groups.insert(level.clone(), curve(target.select(&idx))?);
        }
        out["groups"] = Value::Object(groups);
        out["log_rank"] = json!({"statistic": test.statistic, "df": test.df, "p": test.p_value});
    }
    Ok(out)
}

pub(crate) fn survival_roles<'a>(req: &'a FitRequest, model: &str) -> Result<(&'a str, &'a str)> {
    let duration = req
        .duration
        .as_deref()
        .ok_or_else(|| role_error(model, "--duration COLUMN"))?;
    let event = req
        .event
        .as_deref()
        .ok_or_else(|| role_error(model, "--event COLUMN (1 = event, 0 = censored)"))?;
    Ok((duration, event))
}

/// Durations must be finite and non-negative, events 0 or 1.
pub(crate) fn survival_target(
    req: &FitRequest,
    table: &ColumnTable,
    duration: &str,
    event: &str,
) -> Result<Target> {
    let time = table.numeric(duration).expect("read").to_vec();
    let ev = table.numeric(event).expect("read");
    let bad = |column: &str, row: usize, found: f64, expected: &str| {
        RunnerError::Data(tenure_data::DataError::BadValue {
            path: req.data.clone(),
            column: column.to_string(),
            row: row + 1,
            found: found.to_string(),
            expected: expected.to_string(),
        })
    };
    if let Some(r) = time.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(bad(duration, r, time[r], "a finite, non-negative duration"));
    }
    if let Some(r) = ev.iter().position(|e| *e != 0.0 && *e != 1.0) {
        return Err(bad(event, r, ev[r], "0 (censored) or 1 (event)"));
    }
    Ok(Target::Survival {
        time,
        event: ev.iter().map(|e| *e == 1.0).collect(),
    })
}

fn fit_cox(req: &FitRequest) -> Result<Value> {
    let (duration, event) = survival_roles(req, "cox")?;
    let features = feature_columns(req, &[duration, event])?;
    let mut wanted: Vec<&str> = features.iter().map(String::as_str).collect();
    wanted.extend([duration, event]);
    let table = read_columns(&req.data, &wanted, &[])?;
    let target = survival_target(req, &table, duration, event)?;
    let data = Dataset::new(design(&table, &features)?, features.clone(), target)?;
    let ties = match req.ties.as_deref() {
        None | Some("efron") => Ties::Efron,
        Some("breslow") => Ties::Breslow,
        Some(other) => {
            return Err(model_error(
                "cox",
                format!("--ties `{other}`: expected efron or breslow"),
            ));
        }
    };
    let model = CoxParams::new()
        .ties(ties)
        .l2(req.l2.unwrap_or(0.0))
        .check()
        .map_err(|e| model_error("cox", e))?
        .fit(&data)
        .map_err(|e| model_error("cox", e))?;
    let by_name = |values: &[f64]| -> serde_json::Map<String, Value> {
        features
            .iter()
            .zip(values)
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect()
    };
    let ci = model
        .confidence_intervals(0.05)
        .map_err(|e| model_error("cox", e))?;
    let (lr, df, lr_p) = model.likelihood_ratio_test();
    let ph: Vec<Value> = model
        .proportional_hazards_test()
        .iter()
        .map(|t| json!({"feature": t.feature, "statistic": t.statistic, "p": t.p_value}))
        .collect();
    let mut out = json!({
        "model": "cox",
        "rows": table.n_rows,
        "ties": format!("{ties:?}").to_lowercase(),
        "coef": by_name(model.coefficients()),
        "se": by_name(&model.standard_errors()),
        "hazard_ratio": by_name(&model.hazard_ratios()),
        "hazard_ratio_ci95": features.iter().zip(&ci).map(|(n, (lo, hi))| (n.clone(), json!([lo, hi]))).collect::<serde_json::Map<_, _>>(),
        "z": by_name(&model.z()),
        "p": by_name(&model.p_values()),
        "log_likelihood": model.log_likelihood(),
        "null_log_likelihood": model.null_log_likelihood(),
        "likelihood_ratio_test": {"statistic": lr, "df": df, "p": lr_p},
        "concordance": model.concordance(),
        "proportional_hazards_test": ph,
        "converged": model.converged(),
        "iterations": model.n_iter(),
    });
    save_onnx(req, &mut out, Task::Survival, &data, || {
        Model::Linear(model.to_spec())
    })?;
    Ok(out)
}

fn named<const N: usize>(names: [&str; N], values: [f64; N]) -> serde_json::Map<String, Value> {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| ((*n).to_string(), json!(v)))
        .collect()
}

fn fit_bgnbd(req: &FitRequest) -> Result<Value> {
    let rfm = read_rfm(req, "bgnbd", false)?;
    let model = BgNbdParams::new()
        .l2(req.l2.unwrap_or(0.0))
        .check()
        .map_err(|e| model_error("bgnbd", e))?
        .fit(&rfm.frequency, &rfm.recency, &rfm.t)
        .map_err(|e| model_error("bgnbd", e))?;
    let names = ["r", "alpha", "a", "b"];
    Ok(json!({
        "model": "bgnbd",
        "customers": model.n_customers(),
        "source": rfm.source,
        "params": named(names, [model.r, model.alpha, model.a, model.b]),
        "se": model.standard_errors().map(|se| named(names, se)),
        "log_likelihood": model.log_likelihood(),
        "iterations": model.n_iter(),
    }))
}

fn fit_gamma_gamma(req: &FitRequest) -> Result<Value> {
    let rfm = read_rfm(req, "gamma_gamma", true)?;
    let monetary = rfm
        .monetary
        .as_deref()
        .expect("monetary read for gamma_gamma");
    let model = GammaGammaParams::new()
        .check()
        .map_err(|e| model_error("gamma_gamma", e))?
        .fit(&rfm.frequency, monetary)
        .map_err(|e| model_error("gamma_gamma", e))?;
    let names = ["p", "q", "gamma"];
    Ok(json!({
        "model": "gamma_gamma",
        "customers": model.n_customers(),
        "source": rfm.source,
        "params": named(names, [model.p, model.q, model.v]),
        "se": model.standard_errors().map(|se| named(names, se)),
        "log_likelihood": model.log_likelihood(),
    }))
}

/// `key=value` pairs (TOML values) into a table.
fn param_table(model: &str, pairs: &[String]) -> Result<toml::Table> {
    let mut table = toml::Table::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| model_error(model, format!("--param `{pair}`: expected KEY=VALUE")))?;
        let key = key.trim();
        let parsed: toml::Table = format!("v = {}", value.trim())
            .parse()
            .or_else(|_| format!("v = \"{}\"", value.trim()).parse())
            .map_err(|e: toml::de::Error| {
                model_error(model, format!("--param {key}: {}", e.message()))
            })?;
        table.insert(key.to_string(), parsed["v"].clone());
    }
    Ok(table)
}

fn fit_neural(req: &FitRequest) -> Result<Value> {
    let model = req.model.as_str();
    let table = param_table(model, &req.params)?;
    let config =
        <tenure_neural::NeuralConfig as serde::Deserialize>::deserialize(toml::Value::Table(table))
            .map_err(|e| model_error(model, format!("--param: {}", e.message().trim())))?;
    let resolution = tenure_device::resolve_here(req.device)?;
    let device = resolution.device.clone();
    let seed = config.seed.unwrap_or(42);
    type Reader<'a> = Box<dyn Fn(&ColumnTable) -> Result<Target> + 'a>;
    let (roles, target): (Vec<&str>, Reader<'_>) = match model {
        "deepsurv" => {
            let (duration, event) = survival_roles(req, model)?;
            (
                vec![duration, event],
                Box::new(move |t: &ColumnTable| survival_target(req, t, duration, event)),
            )
        }
        _ => {
            let what = if model == "mlp" {
                "0/1 labels"
            } else {
                "amounts >= 0"
            };
            let target = req
                .target
                .as_deref()
                .ok_or_else(|| role_error(model, &format!("--target COLUMN ({what})")))?;
            let binary = model == "mlp";
            (
                vec![target],
                Box::new(move |t: &ColumnTable| {
                    let y = t.numeric(target).expect("read").to_vec();
                    let bad = y.iter().position(|v| {
                        if binary {
                            *v != 0.0 && *v != 1.0
                        } else {
                            !(v.is_finite() && *v >= 0.0)
                        }
                    });
                    if let Some(row) = bad {
                        return Err(tenure_data::DataError::BadValue {
                            path: req.data.clone(),
                            column: target.to_string(),
                            row: row + 1,
                            found: y[row].to_string(),
                            expected: what.into(),
                        }
                        .into());
                    }
                    Ok(if binary {
                        Target::Binary(y)
                    } else {
                        Target::Continuous(y)
                    })
                }),
            )
        }
    };
    let features = feature_columns(req, &roles)?;
    let mut wanted: Vec<&str> = features.iter().map(String::as_str).collect();
    wanted.extend(&roles);
    let table = read_columns(&req.data, &wanted, &[])?;
    let target = target(&table)?;
    let data = Dataset::new(design(&table, &features)?, features.clone(), target.clone())?;
    let err = |e: tenure_neural::NeuralError| model_error(model, e);
    let started = std::time::Instant::now();
    let (report, spec, pred) = match model {
        "mlp" => {
            let m = config
                .mlp(seed, device)
                .map_err(err)?
                .fit(&data)
                .map_err(err)?;
            let p = m.predict(data.x()).map_err(err)?;
            (m.report().clone(), m.to_spec(), p)
        }
        "deepsurv" => {
            let m = config
                .deepsurv(seed, device)
                .map_err(err)?
                .fit(&data)
                .map_err(err)?;
            let p = m.predict(data.x()).map_err(err)?;
            (m.report().clone(), m.to_spec(), p)
        }
        _ => {
            let m = config
                .ziln(seed, device)
                .map_err(err)?
                .fit(&data)
                .map_err(err)?;
            let p = m.predict(data.x()).map_err(err)?;
            (m.report().clone(), m.to_spec(), p)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let train = match &target {
        Target::Binary(y) => json!({
            "auc": tenure_metrics::roc_auc(y, &pred).ok(),
            "log_loss": tenure_metrics::log_loss(y, &pred).ok(),
        }),
        Target::Survival { time, event } => json!({
            "concordance": tenure_metrics::concordance_index(time, event, &pred).ok(),
        }),
        Target::Continuous(y) => json!({
            "rmse": tenure_metrics::rmse(y, &pred).ok(),
            "normalized_gini": tenure_metrics::normalized_gini(y, &pred).ok(),
        }),
    };
    let mut layers = vec![
        spec.hidden
            .first()
            .map_or(spec.output.n_in, |l| l.dense.n_in),
    ];
    layers.extend(spec.hidden.iter().map(|l| l.dense.n_out));
    layers.push(spec.output.n_out);
    let mut out = json!({
        "model": model,
        "rows": table.n_rows,
        "features": features,
        "device": resolution.device.kind(),
        "device_name": resolution.device.to_string(),
        "device_reason": resolution.reason,
        "layers": layers,
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "train_loss": report.train_loss.last(),
        "valid_loss": report.valid_loss.get(report.best_epoch.saturating_sub(1)),
        "seconds": seconds,
        "train": train,
    });
    let task = match model {
        "mlp" => Task::Churn,
        "deepsurv" => Task::Survival,
        _ => Task::Clv,
    };
    save_onnx(req, &mut out, task, &data, || Model::Network(spec))?;
    Ok(out)
}
