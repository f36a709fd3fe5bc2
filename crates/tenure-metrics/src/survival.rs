//! Survival metrics.

use std::cmp::Ordering;

use crate::censoring::{censoring_from_train, check_per_subject};
use crate::error::{MetricsError, check_finite, ensure};

/// Risk scores closer than this are tied, as in scikit-survival (`tied_tol`).
pub const SKSURV_TIED_TOL: f64 = 1e-8;

/// Harrell's concordance index of a risk score (higher = event sooner).
///
/// Comparable pairs follow lifelines: subject `i` with an event at `t_i` is
/// compared with every subject that exits strictly later, and with subjects
/// *censored* at `t_i` (they were still event-free then); two events at the
/// same time are not compared. A pair is concordant when the earlier event has
/// the higher risk; tied risks count one half. lifelines scores predicted
/// survival times, so its `concordance_index(time, -risk, event)` equals this.
///
/// `O(n log n)`: subjects are visited in decreasing exit time while a Fenwick
/// tree over risk ranks counts the later-exiting ones by risk.
pub fn concordance_index(time: &[f64], event: &[bool], risk: &[f64]) -> Result<f64, MetricsError> {
    let n = time.len();
    for (name, len) in [("event", event.len()), ("risk", risk.len())] {
        ensure!(
            len == n,
            MetricsError::LengthMismatch {
                left_name: "time",
                left: n,
                right_name: name,
                right: len,
            }
        );
    }
    ensure!(
        n > 0,
        MetricsError::Empty {
            metric: "concordance_index"
        }
    );
    check_finite("time", time)?;
    check_finite("risk", risk)?;

    let rank = dense_ranks(risk);
    let n_ranks = rank.iter().max().map_or(0, |&r| r + 1);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| time[b].partial_cmp(&time[a]).unwrap_or(Ordering::Equal));

    let mut later = Fenwick::new(n_ranks);
    let (mut pairs, mut concordant, mut tied) = (0u64, 0u64, 0u64);
    let mut start = 0;
    while start < n {
        let t = time[order[start]];
        let end = start + order[start..].iter().take_while(|&&i| time[i] == t).count();
        let group = &order[start..end];
        // Censored at t: comparable with the events at t, so in the pool first.
        for &i in group.iter().filter(|&&i| !event[i]) {
            later.add(rank[i]);
        }
        for &i in group.iter().filter(|&&i| event[i]) {
            let below = later.count_below(rank[i]);
            let at_or_below = later.count_below(rank[i] + 1);
            pairs += later.total();
            concordant += below;
            tied += at_or_below - below;
        }
        for &i in group.iter().filter(|&&i| event[i]) {
            later.add(rank[i]);
        }
        start = end;
    }
    ensure!(pairs > 0, MetricsError::NoComparablePairs);
    Ok((concordant as f64 + tied as f64 / 2.0) / pairs as f64)
}

/// Uno's concordance index: Harrell's C with every comparable pair weighted
/// by `1 / G(t_i)²`, the inverse squared probability that the earlier
/// subject `i` is still uncensored at its event time, so that the estimate
/// does not depend on the censoring of the test data. Matches
/// scikit-survival's `concordance_index_ipcw(train, test, risk, tau)`.
///
/// - `G` is the Kaplan–Meier estimate of the censoring distribution fitted
///   on the *training* sample, so every test event time must lie within the
///   training follow-up (or before `tau`).
/// - With `tau`, only events strictly before `tau` count (their later
///   partners may lie past it): the C of predicting events in `[0, tau)`.
/// - Comparable pairs are those of [`concordance_index`]; risks within
///   [`SKSURV_TIED_TOL`] of each other are tied and count one half.
///
/// Both samples need an event (and with `tau`, the test sample one before
/// `tau`). `O(n log n)` in the test size.
pub fn uno_concordance(
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
    risk: &[f64],
    tau: Option<f64>,
) -> Result<f64, MetricsError> {
    let cens = censoring_from_train(
        "uno_concordance",
        train_time,
        train_event,
        test_time,
        test_event,
    )?;
    check_per_subject("risk", risk, test_time.len())?;
    if let Some(tau) = tau {
        check_finite("tau", &[tau])?;
        let before_tau = test_time
            .iter()
            .zip(test_event)
            .any(|(&t, &e)| e && t < tau);
        ensure!(
            before_tau,
            MetricsError::AllCensored {
                name: "test_event before tau"
            }
        );
    }
    let n = test_time.len();
    let mut weight = vec![0.0; n];
    for i in 0..n {
        if test_event[i] && tau.is_none_or(|tau| test_time[i] < tau) {
            weight[i] = cens.ipcw(test_time[i])?.powi(2);
        }
    }

    // Risks sorted and deduplicated: `fl(v - r)` is monotone in `v`, so the
    // risks that are below `r` (beyond the tolerance) and those tied with it
    // are each a contiguous range of this list, found by binary search.
    let mut values = risk.to_vec();
    values.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    values.dedup();
    let rank = |r: f64| values.partition_point(|&v| v < r);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| {
        test_time[b]
            .partial_cmp(&test_time[a])
            .unwrap_or(Ordering::Equal)
    });

    let mut later = Fenwick::new(values.len());
    let (mut numerator, mut denominator) = (0.0, 0.0);
    let mut start = 0;
    while start < n {
        let t = test_time[order[start]];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| test_time[i] == t)
                .count();
        let group = &order[start..end];
        for &i in group.iter().filter(|&&i| !test_event[i]) {
            later.add(rank(risk[i]));
        }
        for &i in group.iter().filter(|&&i| test_event[i]) {
            let r = risk[i];
            let below = later.count_below(values.partition_point(|&v| v - r < -SKSURV_TIED_TOL));
            let tied_or_below =
                later.count_below(values.partition_point(|&v| v - r <= SKSURV_TIED_TOL));
            let w = weight[i];
            numerator += w * below as f64 + 0.5 * w * (tied_or_below - below) as f64;
            denominator += w * later.total() as f64;
        }
        for &i in group.iter().filter(|&&i| test_event[i]) {
            later.add(rank(risk[i]));
        }
        start = end;
    }
    if denominator <= 0.0 {
        return Err(MetricsError::NoComparablePairs);
    }
    Ok(numerator / denominator)
}

/// 0-based ranks with equal values sharing a rank.
fn dense_ranks(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut rank = vec![0; values.len()];
    let mut current = 0;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && values[i] != values[order[k - 1]] {
            current += 1;
        }
        rank[i] = current;
    }
    rank
}

/// Counts of inserted ranks with prefix sums in `O(log n)`.
#[derive(Debug)]
struct Fenwick {
    tree: Vec<u64>,
    total: u64,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self {
            tree: vec![0; n + 1],
            total: 0,
        }
    }

    fn add(&mut self, rank: usize) {
        self.total += 1;
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// How many inserted ranks are `< rank`.
    fn count_below(&self, rank: usize) -> u64 {
        let mut sum = 0;
        let mut i = rank;
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    fn total(&self) -> u64 {
        self.total
    }
}
