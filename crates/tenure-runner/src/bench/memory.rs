//! Peak memory per benchmarked model: the kernel's high-water mark, reset
//! before each model so that one model's peak is not charged to the next.

/// Resets this process's peak resident set size (`VmHWM`) to its current
/// size, where Linux allows (`/proc/self/clear_refs`, value 5); elsewhere
/// peaks stay process-wide.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
