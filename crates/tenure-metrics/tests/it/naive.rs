//! Obvious O(n²) definitions that the fast metrics must agree with.

/// Counts every (positive, negative) pair.
pub fn roc_auc(y: &[f64], score: &[f64]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for i in (0..y.len()).filter(|&i| y[i] == 1.0) {
        for j in (0..y.len()).filter(|&j| y[j] == 0.0) {
            pairs += 1.0;
            if score[i] > score[j] {
                wins += 1.0;
            } else if score[i] == score[j] {
                wins += 0.5;
            }
        }
    }
    wins / pairs
}

fn distinct_desc(score: &[f64]) -> Vec<f64> {
    let mut t = score.to_vec();
    t.sort_by(|a, b| b.partial_cmp(a).unwrap());
    t.dedup();
    t
}

/// Precision at each distinct threshold times the recall it adds.
pub fn average_precision(y: &[f64], score: &[f64]) -> f64 {
    let positives = y.iter().filter(|&&v| v == 1.0).count() as f64;
    distinct_desc(score)
        .into_iter()
        .map(|t| {
            let called = (0..y.len()).filter(|&i| score[i] >= t);
            let (n_called, tp) = called.fold((0.0, 0.0), |(n, tp), i| (n + 1.0, tp + y[i]));
            let new_tp: f64 = (0..y.len()).filter(|&i| score[i] == t).map(|i| y[i]).sum();
            new_tp / positives * (tp / n_called)
        })
        .sum()
}

/// (fpr, tpr) after calling positive every row with `score >= t`.
pub fn roc_point(y: &[f64], score: &[f64], t: f64) -> (f64, f64) {
    let positives = y.iter().filter(|&&v| v == 1.0).count() as f64;
    let negatives = y.len() as f64 - positives;
    let tp = (0..y.len())
        .filter(|&i| score[i] >= t && y[i] == 1.0)
        .count() as f64;
    let fp = (0..y.len())
        .filter(|&i| score[i] >= t && y[i] == 0.0)
        .count() as f64;
    (fp / negatives, tp / positives)
}

pub fn roc_thresholds(score: &[f64]) -> Vec<f64> {
    distinct_desc(score)
}

/// Harrell's C with lifelines' comparable pairs, by looking at every pair.
pub fn concordance_index(time: &[f64], event: &[bool], risk: &[f64]) -> Option<f64> {
    let (mut num, mut pairs) = (0.0, 0.0);
    for i in 0..time.len() {
        if !event[i] {
            continue;
        }
        for j in 0..time.len() {
            let comparable = time[j] > time[i] || (time[j] == time[i] && !event[j]);
            if j == i || !comparable {
                continue;
            }
            pairs += 1.0;
            if risk[i] > risk[j] {
                num += 1.0;
            } else if risk[i] == risk[j] {
                num += 0.5;
            }
        }
    }
    (pairs > 0.0).then(|| num / pairs)
}

/// Kaplan–Meier estimate of the censoring survival `G(t) = P(C > t)` by its
/// definition: a product over distinct times `u <= t` of
/// `1 - censored(u) / (at risk at u - events at u)`.
pub fn censoring_survival(time: &[f64], event: &[bool], t: f64) -> f64 {
    let mut distinct: Vec<f64> = time.iter().copied().filter(|&u| u <= t).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    distinct
        .into_iter()
        .map(|u| {
            let at =
                |want: bool| (0..time.len()).filter(move |&i| time[i] == u && event[i] == want);
            let at_risk = time.iter().filter(|&&s| s >= u).count() - at(true).count();
            1.0 - at(false).count() as f64 / at_risk as f64
        })
        .product()
}

/// Uno's C by looking at every pair, weights `1 / G(t_i)²`, risks compared
/// exactly (use risks whose distinct values are far apart).
pub fn uno_concordance(
    train: (&[f64], &[bool]),
    time: &[f64],
    event: &[bool],
    risk: &[f64],
) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for i in (0..time.len()).filter(|&i| event[i]) {
        let w = censoring_survival(train.0, train.1, time[i]).powi(-2);
        for j in 0..time.len() {
            let comparable = time[j] > time[i] || (time[j] == time[i] && !event[j]);
            if j == i || !comparable {
                continue;
            }
            den += w;
            if risk[i] > risk[j] {
                num += w;
            } else if risk[i] == risk[j] {
                num += w / 2.0;
            }
        }
    }
    (den > 0.0).then(|| num / den)
}

/// Cumulative/dynamic AUC at `t` as the weighted share of (case, control)
/// pairs ranked correctly, ties counting one half.
pub fn dynamic_auc(
    train: (&[f64], &[bool]),
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for i in (0..time.len()).filter(|&i| event[i] && time[i] <= t) {
        let w = 1.0 / censoring_survival(train.0, train.1, time[i]);
        for j in (0..time.len()).filter(|&j| time[j] > t) {
            den += w;
            if risk[i] > risk[j] {
                num += w;
            } else if risk[i] == risk[j] {
                num += w / 2.0;
            }
        }
    }
    num / den
}

/// Kaggle's normalized Gini (ties broken by row order; use distinct `pred`).
pub fn kaggle_normalized_gini(actual: &[f64], pred: &[f64]) -> f64 {
    let gini = |key: &[f64]| {
        let mut order: Vec<usize> = (0..key.len()).collect();
        order.sort_by(|&a, &b| key[b].total_cmp(&key[a]).then(a.cmp(&b)));
        let total: f64 = actual.iter().sum();
        let mut cum = 0.0;
        let mut sum = 0.0;
        for i in order {
            cum += actual[i];
            sum += cum / total;
        }
        let n = actual.len() as f64;
        (sum - (n + 1.0) / 2.0) / n
    };
    gini(pred) / gini(actual)
}

/// Pearson correlation of average ranks, ranks found by counting.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let ranks = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|&x| {
                let below = v.iter().filter(|&&y| y < x).count() as f64;
                let equal = v.iter().filter(|&&y| y == x).count() as f64;
                below + (equal + 1.0) / 2.0
            })
            .collect()
    };
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}
