//! Progress bars for long steps, drawn only for a person at a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Hands out bars that are hidden when progress is off, so call sites never
/// branch on it.
#[derive(Debug, Clone)]
pub struct Progress {
    enabled: bool,
}

#[derive(Debug)]
pub struct Bar(ProgressBar);

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    fn make(&self, bar: ProgressBar) -> ProgressBar {
        if self.enabled {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar
    }

    pub fn bar(&self, len: u64, message: &str) -> Bar {
        let bar = self.make(ProgressBar::with_draw_target(
            Some(len),
            ProgressDrawTarget::hidden(),
        ));
        bar.set_style(
            ProgressStyle::with_template("{msg:>20} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        Bar(bar)
    }

    pub fn spinner(&self, message: String) -> Bar {
        let bar = self.make(ProgressBar::with_draw_target(
            None,
            ProgressDrawTarget::hidden(),
        ));
        bar.set_message(message);
        if self.enabled {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Bar(bar)
    }
}

impl Bar {
    pub fn inc(&self) {
        self.0.inc(1);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
