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
