//! Checks that the data can train and score the experiment's models at
//! all, before a run exists: one customer, a fold without rows, or labels
//! of one class only would otherwise surface as a model that learnt nothing
//! or as undefined (NaN) metrics deep in the pipeline.

use tenure_core::Target;
use tenure_data::{Fold, format_date};

use crate::pipeline::Prepared;
use crate::{Experiment, Result, RunnerError};

/// Fails with an error naming the file or key to change when the prepared
/// data cannot give a model and finite metrics on every fold.
pub fn check(exp: &Experiment, prepared: &Prepared) -> Result<()> {
    let n = prepared.log.n_customers();
    if n < 2 {
        let who = prepared
            .log
            .customer_ids()
            .first()
            .map_or(String::new(), |id| format!(" (`{id}`)"));
        return Err(RunnerError::Insufficient {
            path: exp.file.data.transactions.path.clone(),
            reason: format!(
                "{n} customer{}{who} in the log: a model needs at least 2 customers",
                if n == 1 { "" } else { "s" }
            ),
        });
    }
    for fold in prepared.plan.all_folds() {
        let train: Vec<&Target> = fold
            .train_cutoffs
            .iter()
            .map(|c| prepared.snapshots[c].dataset.target())
            .collect();
        let valid = prepared.snapshots[&fold.valid_cutoff].dataset.target();
        check_rows(exp, fold, "training", &train)?;
        check_rows(exp, fold, "validation", &[valid])?;
    }
    Ok(())
}

fn check_rows(exp: &Experiment, fold: &Fold, role: &str, targets: &[&Target]) -> Result<()> {
    let cutoffs = if role == "training" {
        fold.train_cutoffs
            .iter()
            .map(|&c| format_date(c))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format_date(fold.valid_cutoff)
    };
    let error = |key: &str, reason: String| RunnerError::Config {
        path: exp.path.clone(),
        key: key.into(),
        reason: format!(
            "{}: its {role} rows (cutoffs {cutoffs}) {reason}",
            fold.name
        ),
    };
    let rows: usize = targets.iter().map(|t| t.len()).sum();
    if rows == 0 {
        return Err(error(
            "cv",
            "hold no customer: use later cutoffs, or check that the log covers them".into(),
        ));
    }
    let horizon = exp.file.labels.horizon_days;
    match targets[0] {
        Target::Binary(_) => {
            let ones: usize = targets
                .iter()
                .filter_map(|t| match t {
                    Target::Binary(y) => Some(y.iter().filter(|&&v| v == 1.0).count()),
                    _ => None,
                })
                .sum();
            if ones == 0 || ones == rows {
                let (label, what) = if ones == 0 {
                    (0, "no customer churned")
                } else {
                    (1, "every customer churned")
                };
                return Err(error(
                    "labels",
                    format!(
                        "all have churn label {label} ({what} within {horizon} days): a churn \
                         model and its AUC need both classes; change labels.horizon_days, the \
                         churn definition or the cutoffs"
                    ),
                ));
            }
        }
        Target::Survival { .. } => {
            let events: usize = targets
                .iter()
                .filter_map(|t| match t {
                    Target::Survival { event, .. } => Some(event.iter().filter(|&&e| e).count()),
                    _ => None,
                })
                .sum();
            if events == 0 {
                return Err(error(
                    "labels",
                    format!(
                        "have no event within {horizon} days (all censored): survival models \
                         and the C-index need events; change labels.horizon_days or the cutoffs"
                    ),
                ));
            }
        }
        Target::Continuous(_) => {}
    }
    Ok(())
}
