//! The live view on a terminal: elapsed time and an ETA that counts both paths' turns, then per
//! target and protocol the rate, p50 and p99 of the last second and the errors so far, and, when
//! two paths are compared, the verdict so far on the headline metrics. Off when standard error is
//! not a terminal, or with `--quiet`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::so_far::SoFar;
use crate::engine::Live;
use crate::model::hist::{self, Hist};
use crate::model::metric::Metric;
use crate::scenario::Scenario;

/// One lane's figures at the last refresh: latency so far, completed, failed.
struct Seen {
    latency: Hist,
    count: u64,
}

/// The live view.
pub struct Terminal {
    bar: ProgressBar,
    total: Duration,
    seen: Vec<Seen>,
    at: Instant,
    lines: Vec<String>,
}

impl Terminal {
    /// A view of a run planned to last `total` (zero when bounded by a count only).
    pub fn new(total: Duration) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some((total.as_secs_f64() * 10.0) as u64),
            ProgressDrawTarget::stderr_with_hz(4),
        );
        // The time left is the plan's, not an estimate from the pace so far: a two-path run's
        // length (both paths' turns) is known from the start.
        let style = ProgressStyle::with_template("{spinner} {prefix} {wide_bar}\n{msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Terminal {
            bar,
            total,
            seen: Vec::new(),
            at: Instant::now(),
            lines: Vec::new(),
        }
    }

    /// Refreshes the bar; the per-lane lines once a second, from the figures the client threads
    /// published.
    pub fn update(&mut self, live: &Live, s: &Scenario, so_far: &SoFar) {
        if let Some(t0) = live.t0.get() {
            let e = t0.elapsed();
            self.bar.set_position((e.as_secs_f64() * 10.0) as u64);
            self.bar.set_prefix(if self.total.is_zero() {
                format!("{}s", e.as_secs())
            } else {
                format!(
                    "{}s of {}s, {}s left",
                    e.as_secs().min(self.total.as_secs()),
                    self.total.as_secs(),
                    self.total.saturating_sub(e).as_secs()
                )
            });
        }
        let dt = self.at.elapsed();
        if dt < Duration::from_secs(1) {
            return;
        }
        self.at = Instant::now();
        let lanes = live.lanes.get().cloned().unwrap_or_default();
        let figures = live.figures();
        let mut lines = Vec::new();
        for (i, (info, st)) in lanes.iter().zip(&figures).enumerate() {
            let mut latency = hist::new_hist();
            let (mut count, mut failed) = (0, 0);
            // A flow's exchanges are counted by its steps.
            for q in st.requests.iter().filter(|q| !q.flow) {
                hist::merge(&mut latency, &q.latency);
                count += q.count;
                failed += q.count.saturating_sub(q.ok);
            }
            // The last second: what was added since the previous refresh.
            let mut recent = latency.clone();
            if let Some(prev) = self.seen.get(i) {
                if recent.subtract(&prev.latency).is_err() {
                    recent = latency.clone();
                }
            }
            let done = count - self.seen.get(i).map_or(0, |p| p.count.min(count));
            let rate = done as f64 / dt.as_secs_f64();
            lines.push(format!(
                "  {:<12} {:<3} {:>8.0} req/s   last second p50 {:>9} p99 {:>9}   {} errors",
                info.target,
                info.protocol.as_str(),
                rate,
                crate::model::metric::fmt_us(hist::pct(&recent, 50.0)),
                crate::model::metric::fmt_us(hist::pct(&recent, 99.0)),
                failed
            ));
            if self.seen.len() <= i {
                self.seen.push(Seen { latency, count });
            } else {
                self.seen[i] = Seen { latency, count };
            }
        }
        if s.compare.is_some() {
            if let Some(c) = so_far.get(s, live).and_then(|r| r.comparison.clone()) {
                let rows: Vec<String> = c
                    .verdicts
                    .iter()
                    .filter(|v| v.request.is_none())
                    .filter(|v| {
                        matches!(
                            v.judgement.metric,
                            Metric::P50 | Metric::P99 | Metric::ErrorRate
                        )
                    })
                    .map(|v| {
                        format!(
                            "{} {} {}",
                            v.protocol,
                            v.judgement.metric.name(),
                            v.judgement.verdict.name()
                        )
                    })
                    .collect();
                lines.push(format!(
                    "  so far ({} vs {}): {}",
                    c.candidate,
                    c.baseline,
                    rows.join(" · ")
                ));
            }
        }
        lines.push(format!(
            "  {} in flight",
            live.inflight.load(Ordering::Relaxed).max(0)
        ));
        self.lines = lines;
        self.bar.set_message(self.lines.join("\n"));
    }

    /// Clears the view.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
