//! Kaplan–Meier curves of the survival and of the censoring distribution,
//! with scikit-survival's conventions, and the input checks shared by the
//! censoring-weighted (IPCW) metrics.

use std::cmp::Ordering;

use crate::error::{MetricsError, check_finite, ensure};

/// A right-continuous step function: `values[k]` holds on
/// `[times[k], times[k + 1])`. `times[0]` is `-∞` with value 1, as in
/// sksurv's `SurvivalFunctionEstimator`.
#[derive(Debug, Clone)]
pub(crate) struct StepCurve {
    times: Vec<f64>,
    values: Vec<f64>,
}

/// Distinct times in increasing order with, at each, the number of subjects
/// still at risk (exit time `>=` it), of events and of censorings.
struct Counts {
    times: Vec<f64>,
    at_risk: Vec<usize>,
    events: Vec<usize>,
    censored: Vec<usize>,
}

fn counts(time: &[f64], event: &[bool]) -> Counts {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].partial_cmp(&time[b]).unwrap_or(Ordering::Equal));
    let mut c = Counts {
        times: Vec::new(),
        at_risk: Vec::new(),
        events: Vec::new(),
        censored: Vec::new(),
    };
    let mut remaining = time.len();
    let mut start = 0;
    while start < order.len() {
        let t = time[order[start]];
        let end = start + order[start..].iter().take_while(|&&i| time[i] == t).count();
        let events = order[start..end].iter().filter(|&&i| event[i]).count();
        c.times.push(t);
        c.at_risk.push(remaining);
        c.events.push(events);
        c.censored.push(end - start - events);
        remaining -= end - start;
        start = end;
    }
    c
}

/// Product-limit curve from the hazards `d_k / n_k`, computed as sksurv does
/// (`cumprod(1 - d / n)`) so that the values agree to the last bits.
fn product_limit(times: Vec<f64>, d: &[usize], n: &[usize]) -> StepCurve {
    let mut values = Vec::with_capacity(times.len() + 1);
    values.push(1.0);
    let mut s = 1.0;
    for (&d, &n) in d.iter().zip(n) {
        let ratio = if d == 0 { 0.0 } else { d as f64 / n as f64 };
        s *= 1.0 - ratio;
        values.push(s);
    }
    let mut all_times = Vec::with_capacity(times.len() + 1);
    all_times.push(f64::NEG_INFINITY);
    all_times.extend(times);
    StepCurve {
        times: all_times,
        values,
    }
}

impl StepCurve {
    /// Kaplan–Meier estimate of `P(T > t)`.
    pub(crate) fn survival(time: &[f64], event: &[bool]) -> Self {
        let c = counts(time, event);
        product_limit(c.times, &c.events, &c.at_risk)
    }

    /// Kaplan–Meier estimate of the censoring survival `G(t) = P(C > t)`:
    /// censorings are the events and, at a tied time, events leave the risk
    /// set first (sksurv's `kaplan_meier_estimator(reverse=True)`).
    pub(crate) fn censoring(time: &[f64], event: &[bool]) -> Self {
        let c = counts(time, event);
        let at_risk: Vec<usize> = c
            .at_risk
            .iter()
            .zip(&c.events)
            .map(|(n, d)| n - d)
            .collect();
        product_limit(c.times, &c.censored, &at_risk)
    }

    fn last_time(&self) -> f64 {
        self.times[self.times.len() - 1]
    }

    fn last_value(&self) -> f64 {
        self.values[self.values.len() - 1]
    }

    /// The curve at `t`, or `None` past the last time while the curve is
    /// still positive (the estimate is unknown there). A time within machine
    /// epsilon of a jump counts as the jump, as in sksurv's `predict_proba`.
    pub(crate) fn at(&self, t: f64) -> Option<f64> {
        if t > self.last_time() {
            return (self.last_value() == 0.0).then_some(0.0);
        }
        let idx = self.times.partition_point(|&u| u < t);
        if (self.times[idx] - t).abs() < f64::EPSILON {
            Some(self.values[idx])
        } else {
            Some(self.values[idx - 1])
        }
    }

    /// The curve at `t`, carried forward flat past the last time.
    pub(crate) fn at_or_last(&self, t: f64) -> f64 {
        self.at(t).unwrap_or(self.last_value())
    }

    /// `G(t)` for a censoring curve, with the sksurv error when `t` lies
    /// beyond the training follow-up.
    pub(crate) fn censoring_at(&self, t: f64) -> Result<f64, MetricsError> {
        self.at(t).ok_or(MetricsError::BeyondCensoringSupport {
            time: t,
            last: self.last_time(),
        })
    }

    /// Inverse-probability-of-censoring weight `1 / G(t)` of an event at `t`.
    pub(crate) fn ipcw(&self, t: f64) -> Result<f64, MetricsError> {
        let g = self.censoring_at(t)?;
        if g <= 0.0 {
            return Err(MetricsError::ZeroCensoringSurvival { time: t });
        }
        Ok(1.0 / g)
    }
}

/// One survival sample: equal lengths, non-empty, finite times.
pub(crate) fn check_survival(
    metric: &'static str,
    time_name: &'static str,
    time: &[f64],
    event_name: &'static str,
    event: &[bool],
) -> Result<(), MetricsError> {
    ensure!(
        time.len() == event.len(),
        MetricsError::LengthMismatch {
            left_name: time_name,
            left: time.len(),
            right_name: event_name,
            right: event.len(),
        }
    );
    ensure!(!time.is_empty(), MetricsError::Empty { metric });
    check_finite(time_name, time)
}

pub(crate) fn check_has_event(name: &'static str, event: &[bool]) -> Result<(), MetricsError> {
    ensure!(event.contains(&true), MetricsError::AllCensored { name });
    Ok(())
}

/// `values` has one entry per test subject.
pub(crate) fn check_per_subject(
    name: &'static str,
    values: &[f64],
    n: usize,
) -> Result<(), MetricsError> {
    ensure!(
        values.len() == n,
        MetricsError::LengthMismatch {
            left_name: "test_time",
            left: n,
            right_name: name,
            right: values.len(),
        }
    );
    check_finite(name, values)
}

/// Train and test samples of an IPCW metric: the censoring curve comes from
/// train, which needs an event (sksurv's requirement), as does test.
pub(crate) fn censoring_from_train(
    metric: &'static str,
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
) -> Result<StepCurve, MetricsError> {
    check_survival(metric, "train_time", train_time, "train_event", train_event)?;
    check_survival(metric, "test_time", test_time, "test_event", test_event)?;
    check_has_event("train_event", train_event)?;
    check_has_event("test_event", test_event)?;
    Ok(StepCurve::censoring(train_time, train_event))
}

/// Evaluation times: strictly increasing, within `[min, max)` of the test
/// follow-up (sksurv's rule, so that every time has a control).
pub(crate) fn check_times(times: &[f64], test_time: &[f64]) -> Result<(), MetricsError> {
    check_finite("times", times)?;
    if let Some(index) = (1..times.len()).find(|&k| times[k] <= times[k - 1]) {
        return Err(MetricsError::TimesNotIncreasing { index });
    }
    let min = test_time.iter().copied().fold(f64::INFINITY, f64::min);
    let max = test_time.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(&time) = times.iter().find(|&&t| t < min || t >= max) {
        return Err(MetricsError::TimeOutsideFollowUp { time, min, max });
    }
    Ok(())
}
