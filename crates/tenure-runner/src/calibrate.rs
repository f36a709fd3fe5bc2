//! Calibration of each model on its out-of-fold predictions, applied to the
//! held-out test cutoff, with the measures before and after and the
//! decisions the calibrated probabilities support.
//!
//! The calibrator is fitted on the validation folds' predictions only: each
//! comes from a model trained on earlier snapshots, never on those rows.
//! The test cutoff's model is trained on everything before it, and its
//! predictions are calibrated with that calibrator and judged against the
//! test labels, which neither the model nor the calibrator has seen.

use serde::Serialize;
use tenure_calibration::{
    Binning, CalibrationError, Costs, Measures, Method, ProfitPoint, ReliabilityBin, TopK,
    best_threshold, fit, fit_survival, histogram, measure, profit_at, profit_curve, reliability,
    top_k,
};
use tenure_core::{Calibrator, Target};
use tenure_metrics::{CalibrationBin, HORIZON_CALIBRATION_BINS, MetricsError};

use crate::pipeline::FoldPrediction;
use crate::settings::CalibrationSpec;

/// Points kept of a profit curve in reports (one per distinct prediction
/// otherwise).
const PROFIT_CURVE_POINTS: usize = 400;

/// One model's calibration, as `calibration.json` records it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCalibration {
    pub method: Method,
    pub bins: usize,
    /// Out-of-fold rows the calibrator was fitted on (the validation folds).
    pub fitted_on_rows: usize,
    /// Rows of the test cutoff the measures are computed on.
    pub test_rows: usize,
    /// Why calibration could not be done or measured for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryCalibration>,
    /// Survival models: one entry per evaluation time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub survival: Vec<HorizonCalibration>,
}

/// A churn model's calibration on the test cutoff.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryCalibration {
    /// What `tenure` applies to the model's probabilities (none for
    /// `method = "none"`).
    pub calibrator: Option<Calibrator>,
    pub before: Measures,
    pub after: Measures,
    /// Equal-width bins with Wilson 95% intervals.
    pub reliability_before: Vec<ReliabilityBin>,
    pub reliability_after: Vec<ReliabilityBin>,
    /// `(lower, upper, count)` per equal-width bin.
    pub histogram_before: Vec<(f64, f64, usize)>,
    pub histogram_after: Vec<(f64, f64, usize)>,
    /// Precision and recall among the customers ranked highest by the
    /// model's own predictions.
    pub top_k: Vec<TopK>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// Whom to target, for the configured cost of a false positive and value of
/// a true positive, on calibrated probabilities.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub cost_fp: f64,
    pub value_tp: f64,
    /// `cost_fp / (cost_fp + value_tp)`: where targeting pays in
    /// expectation if the probabilities are calibrated.
    pub bayes_threshold: f64,
    /// The threshold of highest profit on the out-of-fold predictions;
    /// `None` when targeting no one paid best.
    pub chosen_threshold: Option<f64>,
    /// On the test cutoff: the realised result of the chosen threshold, of
    /// the Bayes threshold, of targeting everyone, and the best any
    /// threshold would have done in hindsight.
    pub test_at_chosen: Option<ProfitPoint>,
    pub test_at_bayes: ProfitPoint,
    pub test_target_everyone: ProfitPoint,
    pub test_best: Option<ProfitPoint>,
    /// The test cutoff's profit curve, thinned to at most 400 points.
    pub curve: Vec<ProfitPoint>,
}

/// A survival model's calibration of `1 − S(t | x)` at one time.
#[derive(Debug, Clone, Serialize)]
pub struct HorizonCalibration {
    /// Days after the cutoff.
    pub days: f64,
    pub calibrator: Option<Calibrator>,
    /// Predicted against Kaplan–Meier-observed event probability per group
    /// of similar predictions, on the test cutoff.
    pub bins_before: Vec<CalibrationBin>,
    pub bins_after: Vec<CalibrationBin>,
    /// Bin-size-weighted mean of `|predicted − observed|` over those bins.
    pub ece_before: f64,
    pub ece_after: f64,
    /// IPCW Brier score at the time, censoring weights from the test
    /// cutoff itself; absent when the time is not inside its follow-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brier_before: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brier_after: Option<f64>,
}

/// Calibrates one model from its predictions on every fold. `query_times`
/// are the times its survival curves were asked at, `days` the same times
/// as configured. `None` for tasks without probabilities (CLV) or without a
/// test fold.
pub fn calibrate_model(
    spec: &CalibrationSpec,
    predictions: &[FoldPrediction],
    query_times: &[f64],
    days: &[f64],
) -> Option<ModelCalibration> {
    let test = predictions.iter().find(|p| p.fold == "test")?;
    let oof: Vec<&FoldPrediction> = predictions.iter().filter(|p| p.fold != "test").collect();
    let mut out = ModelCalibration {
        method: spec.method,
        bins: spec.bins,
        fitted_on_rows: oof.iter().map(|p| p.prediction.len()).sum(),
        test_rows: test.prediction.len(),
        error: None,
        binary: None,
        survival: Vec::new(),
    };
    match &test.target {
        Target::Binary(test_y) => {
            let oof_p: Vec<f64> = oof
                .iter()
                .flat_map(|p| p.prediction.iter().copied())
                .collect();
            let oof_y: Vec<f64> = oof
                .iter()
                .flat_map(|p| match &p.target {
                    Target::Binary(y) => y.clone(),
                    _ => Vec::new(),
                })
                .collect();
            match binary(spec, &oof_p, &oof_y, &test.prediction, test_y) {
                Ok(b) => out.binary = Some(b),
                Err(e) => out.error = Some(e.to_string()),
            }
        }
        Target::Survival { time, event } => {
            let Some(test_s) = &test.survival else {
                return None;
            };
            for (k, (&t, &d)) in query_times.iter().zip(days).enumerate() {
                match horizon(spec.method, &oof, k, t, d, time, event, &test_s[k]) {
                    Ok(h) => out.survival.push(h),
                    Err(e) => {
                        out.error = Some(format!("at {d} days: {e}"));
                        break;
                    }
                }
            }
        }
        Target::Continuous(_) => return None,
    }
    Some(out)
}

fn binary(
    spec: &CalibrationSpec,
    oof_p: &[f64],
    oof_y: &[f64],
    test_p: &[f64],
    test_y: &[f64],
) -> Result<BinaryCalibration, CalibrationError> {
    let calibrator = fit(spec.method, oof_p, oof_y, None)?;
    let apply = |p: &[f64]| match &calibrator {
        Some(c) => c.apply_all(p),
        None => p.to_vec(),
    };
    let after_p = apply(test_p);
    let decision = match spec.costs {
        Some(costs) => Some(decide(costs, &apply(oof_p), oof_y, &after_p, test_y)?),
        None => None,
    };
    Ok(BinaryCalibration {
        before: measure(test_p, test_y, spec.bins)?,
        after: measure(&after_p, test_y, spec.bins)?,
        reliability_before: reliability(test_p, test_y, spec.bins, Binning::EqualWidth)?,
        reliability_after: reliability(&after_p, test_y, spec.bins, Binning::EqualWidth)?,
        histogram_before: histogram(test_p, spec.bins)?,
        histogram_after: histogram(&after_p, spec.bins)?,
        top_k: top_k(test_p, test_y, &spec.top_k_percent)?,
        decision,
        calibrator,
    })
}

fn decide(
    costs: Costs,
    oof_p: &[f64],
    oof_y: &[f64],
    test_p: &[f64],
    test_y: &[f64],
) -> Result<Decision, CalibrationError> {
    let chosen = best_threshold(&profit_curve(oof_p, oof_y, costs)?).map(|p| p.threshold);
    let curve = profit_curve(test_p, test_y, costs)?;
    Ok(Decision {
        cost_fp: costs.cost_fp,
        value_tp: costs.value_tp,
        bayes_threshold: costs.bayes_threshold(),
        chosen_threshold: chosen,
        test_at_chosen: chosen
            .map(|t| profit_at(test_p, test_y, costs, t))
            .transpose()?,
        test_at_bayes: profit_at(test_p, test_y, costs, costs.bayes_threshold())?,
        test_target_everyone: profit_at(test_p, test_y, costs, f64::NEG_INFINITY)?,
        test_best: best_threshold(&curve),
        curve: thin(&curve, PROFIT_CURVE_POINTS),
    })
}

/// At most `max` points, evenly spaced by index, first and last kept.
fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max)
        .map(|k| points[(k * last + (max - 1) / 2) / (max - 1)])
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn horizon(
    method: Method,
    oof: &[&FoldPrediction],
    k: usize,
    t: f64,
    days: f64,
    test_time: &[f64],
    test_event: &[bool],
    test_s: &[f64],
) -> Result<HorizonCalibration, CalibrationError> {
    let (mut p, mut time, mut event) = (Vec::new(), Vec::new(), Vec::new());
    for fold in oof {
        let (
            Target::Survival {
                time: ft,
                event: fe,
            },
            Some(s),
        ) = (&fold.target, &fold.survival)
        else {
            continue;
        };
        p.extend(s[k].iter().map(|v| 1.0 - v));
        time.extend_from_slice(ft);
        event.extend_from_slice(fe);
    }
    let calibrator = fit_survival(method, &p, &time, &event, t)?;
    let before: Vec<f64> = test_s.iter().map(|s| 1.0 - s).collect();
    let after = match &calibrator {
        Some(c) => c.apply_all(&before),
        None => before.clone(),
    };
    let bins = |f: &[f64]| {
        tenure_metrics::calibration_at_horizon(
            test_time,
            test_event,
            f,
            t,
            HORIZON_CALIBRATION_BINS,
        )
    };
    let ece = |b: &[CalibrationBin]| {
        let n: usize = b.iter().map(|x| x.n).sum();
        b.iter()
            .map(|x| x.n as f64 / n.max(1) as f64 * (x.mean_predicted - x.observed).abs())
            .sum::<f64>()
    };
    let brier = |f: &[f64]| -> Result<Option<f64>, MetricsError> {
        let s: Vec<f64> = f.iter().map(|v| 1.0 - v).collect();
        match tenure_metrics::brier_score_at(test_time, test_event, test_time, test_event, &s, t) {
            Ok(b) => Ok(Some(b)),
            Err(MetricsError::TimeOutsideFollowUp { .. } | MetricsError::AllCensored { .. }) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    let (bins_before, bins_after) = (bins(&before)?, bins(&after)?);
    Ok(HorizonCalibration {
        days,
        calibrator,
        ece_before: ece(&bins_before),
        ece_after: ece(&bins_after),
        bins_before,
        bins_after,
        brier_before: brier(&before)?,
        brier_after: brier(&after)?,
    })
}
