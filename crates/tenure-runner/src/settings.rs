//! The `[evaluation]` and `[calibration]` tables of an experiment, checked
//! key by key so that every error names the key at fault.

use tenure_calibration::{Costs, Method};
use tenure_core::Task;

/// What `[calibration]` asks for, checked.
///
/// ```toml
/// [calibration]
/// method = "isotonic"        # none | platt (default) | isotonic | temperature
/// bins = 10                  # reliability bins, Brier decomposition, Hosmer-Lemeshow groups
/// cost_fp = 5.0              # cost of targeting a customer who would have stayed
/// value_tp = 40.0            # value of targeting one who would have churned
/// top_k_percent = [5, 10, 20]
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationSpec {
    pub method: Method,
    pub bins: usize,
    /// Both `cost_fp` and `value_tp`, or neither (no profit curve).
    pub costs: Option<Costs>,
    pub top_k_percent: Vec<f64>,
}

impl Default for CalibrationSpec {
    fn default() -> Self {
        Self {
            method: Method::Platt,
            bins: 10,
            costs: None,
            top_k_percent: vec![5.0, 10.0, 20.0],
        }
    }
}

const CALIBRATION_KEYS: &[&str] = &["method", "bins", "cost_fp", "value_tp", "top_k_percent"];

/// Errors are `(key, reason)` with the key's full dotted name.
pub fn calibration(table: Option<&toml::Table>) -> Result<CalibrationSpec, (String, String)> {
    let mut spec = CalibrationSpec::default();
    let Some(table) = table else {
        return Ok(spec);
    };
    let key = |k: &str| format!("calibration.{k}");
    let (mut cost_fp, mut value_tp) = (None, None);
    for (k, v) in table {
        match k.as_str() {
            "method" => {
                let s = v.as_str().ok_or_else(|| {
                    (key(k), format!("expected a string, found {}", v.type_str()))
                })?;
                spec.method = s.parse().map_err(|e| (key(k), e))?;
            }
            "bins" => {
                let n = v.as_integer().ok_or_else(|| {
                    (
                        key(k),
                        format!("expected an integer, found {}", v.type_str()),
                    )
                })?;
                if !(3..=1000).contains(&n) {
                    return Err((key(k), format!("{n} bins: expected 3 to 1000")));
                }
                spec.bins = n as usize;
            }
            "cost_fp" => cost_fp = Some(number(v).map_err(|e| (key(k), e))?),
            "value_tp" => value_tp = Some(number(v).map_err(|e| (key(k), e))?),
            "top_k_percent" => {
                let items = v.as_array().ok_or_else(|| {
                    (
                        key(k),
                        format!("expected a list of percentages, found {}", v.type_str()),
                    )
                })?;
                let mut percents = Vec::with_capacity(items.len());
                for item in items {
                    let p = number(item).map_err(|e| (key(k), e))?;
                    if !(p > 0.0 && p <= 100.0) {
                        return Err((key(k), format!("{p}% is not in (0, 100]")));
                    }
                    percents.push(p);
                }
                spec.top_k_percent = percents;
            }
            _ => {
                return Err((
                    key(k),
                    format!(
                        "unknown key (expected one of: {})",
                        CALIBRATION_KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    spec.costs = match (cost_fp, value_tp) {
        (None, None) => None,
        (Some(c), Some(v)) => Some(Costs::new(c, v).map_err(|e| {
            let which = if c.is_finite() && c >= 0.0 {
                "value_tp"
            } else {
                "cost_fp"
            };
            (key(which), e.to_string())
        })?),
        (Some(_), None) => {
            return Err((
                key("value_tp"),
                "missing: a profit curve needs both cost_fp and value_tp".into(),
            ));
        }
        (None, Some(_)) => {
            return Err((
                key("cost_fp"),
                "missing: a profit curve needs both cost_fp and value_tp".into(),
            ));
        }
    };
    Ok(spec)
}

fn number(v: &toml::Value) -> Result<f64, String> {
    match v {
        toml::Value::Float(f) => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(format!("expected a number, found {}", other.type_str())),
    }
}

/// The days after a cutoff at which survival models are asked for
/// `S(t | x)`: `[evaluation] survival_times_days`, by default a quarter, a
/// half, three quarters of the horizon and the horizon itself.
pub fn survival_times(
    table: Option<&toml::Table>,
    task: Task,
    horizon_days: u32,
) -> Result<Vec<f64>, (String, String)> {
    let h = f64::from(horizon_days);
    let mut times = if task == Task::Survival {
        vec![h / 4.0, h / 2.0, 3.0 * h / 4.0, h]
    } else {
        Vec::new()
    };
    let Some(table) = table else {
        return Ok(times);
    };
    for (k, v) in table {
        let key = format!("evaluation.{k}");
        if k != "survival_times_days" {
            return Err((key, "unknown key (expected: survival_times_days)".into()));
        }
        if task != Task::Survival {
            return Err((
                key,
                format!("applies to survival experiments only; this one's task is {task}"),
            ));
        }
        let items = v.as_array().ok_or_else(|| {
            (
                key.clone(),
                format!("expected a list of days, found {}", v.type_str()),
            )
        })?;
        if items.is_empty() {
            return Err((key, "expected at least one day".into()));
        }
        times.clear();
        for item in items {
            let t = number(item).map_err(|e| (key.clone(), e))?;
            if !(t > 0.0 && t <= h) {
                return Err((
                    key,
                    format!("{t} is not in (0, {horizon_days}] (labels.horizon_days)"),
                ));
            }
            if times.last().is_some_and(|&last| t <= last) {
                return Err((
                    key,
                    format!(
                        "days must increase, but {t} follows {}",
                        times[times.len() - 1]
                    ),
                ));
            }
            times.push(t);
        }
    }
    Ok(times)
}
