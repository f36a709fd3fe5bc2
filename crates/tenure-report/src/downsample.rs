//! Thinning long series before drawing them: an SVG path with a point per
//! boosting round or per ROC threshold can run to hundreds of thousands of
//! points, far more than the pixels it is drawn on.

/// Series longer than this are thinned before drawing.
pub const MAX_SVG_POINTS: usize = 2000;

/// Reduces `points` to about `max_points` (never fewer than the finite
/// points when there are at most that many), keeping the first and last
/// point of every finite stretch and the visual shape, with
/// largest-triangle-three-buckets. Non-finite points split the series into
/// stretches; one `(NaN, NaN)` marks each gap in the output so the line still
/// breaks there.
pub fn downsample(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points {
        return points.to_vec();
    }
    let stretches: Vec<&[(f64, f64)]> = points
        .split(|&(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|s| !s.is_empty())
        .collect();
    let finite: usize = stretches.iter().map(|s| s.len()).sum();
    let mut out = Vec::with_capacity(max_points + 2 * stretches.len());
    for (i, stretch) in stretches.iter().enumerate() {
        if i > 0 {
            out.push((f64::NAN, f64::NAN));
        }
        // Each stretch gets its share of the budget, at least enough for its
        // two ends and one point between.
        let budget = (max_points * stretch.len() / finite.max(1)).max(3);
        out.extend(lttb(stretch, budget));
    }
    out
}

/// Largest-triangle-three-buckets (Steinarsson 2013): keeps the first and
/// last point and, from each of `threshold - 2` buckets, the point forming
/// the largest triangle with the previously kept point and the mean of the
/// next bucket. Peaks and troughs survive; flat stretches thin out.
pub fn lttb(data: &[(f64, f64)], threshold: usize) -> Vec<(f64, f64)> {
    let n = data.len();
    if threshold >= n || threshold < 3 {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(threshold);
    out.push(data[0]);
    let bucket = (n - 2) as f64 / (threshold - 2) as f64;
    let mut kept = 0usize;
    for i in 0..threshold - 2 {
        let next_start = ((i + 1) as f64 * bucket) as usize + 1;
        let next_end = (((i + 2) as f64 * bucket) as usize + 1).min(n);
        // Buckets are wider than one point (n > threshold), so neither this
        // bucket nor the next is ever empty.
        let next = &data[next_start..next_end];
        let len = next.len() as f64;
        let avg_x = next.iter().map(|p| p.0).sum::<f64>() / len;
        let avg_y = next.iter().map(|p| p.1).sum::<f64>() / len;

        let start = (i as f64 * bucket) as usize + 1;
        let end = (((i + 1) as f64 * bucket) as usize + 1).min(n - 1);
        let (ax, ay) = data[kept];
        let mut best = start;
        let mut best_area = -1.0;
        for (j, &(x, y)) in data.iter().enumerate().take(end).skip(start) {
            let area = ((ax - avg_x) * (y - ay) - (ax - x) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        out.push(data[best]);
        kept = best;
    }
    out.push(data[n - 1]);
    out
}
