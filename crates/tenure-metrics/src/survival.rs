//! Survival metrics.

use std::cmp::Ordering;

use crate::error::{MetricsError, check_finite, ensure};

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
