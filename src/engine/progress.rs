//! The live progress line on a terminal: elapsed and remaining time, request rate, requests in
//! flight and errors. Quiet when standard error is not a terminal or with `--quiet`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Live;

/// A progress bar over the planned run length.
pub struct Progress {
    bar: ProgressBar,
    last: (Instant, u64),
}

impl Progress {
    /// A bar for a run planned to last `total_secs` (0 when bounded by a count only).
    pub fn new(total_secs: f64) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some((total_secs * 10.0) as u64),
            ProgressDrawTarget::stderr_with_hz(4),
        );
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}, {eta} left] {wide_bar} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress {
            bar,
            last: (Instant::now(), 0),
        }
    }

    /// Refreshes from the live counters.
    pub fn update(&mut self, live: &Live, t0: Instant) {
        let now = Instant::now();
        let done = live.done.load(Ordering::Relaxed);
        let dt = now.duration_since(self.last.0);
        if dt >= Duration::from_millis(500) {
            let rate = (done - self.last.1) as f64 / dt.as_secs_f64();
            self.bar.set_message(format!(
                "{rate:.0} req/s  {} in flight  {} done  {} errors",
                live.inflight.load(Ordering::Relaxed).max(0),
                done,
                live.errors.load(Ordering::Relaxed)
            ));
            self.last = (now, done);
        }
        self.bar
            .set_position((now.saturating_duration_since(t0).as_secs_f64() * 10.0) as u64);
    }

    /// Clears the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
