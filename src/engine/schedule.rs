//! Schedulers: what the next request of a lane is and when it should start. The open model hands
//! out arrivals from the rate plan; the closed model hands out work whenever a slot is free. Both
//! are shared by every thread of a lane and stop on the same conditions: end of plan or time,
//! request count, or interruption.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::plan::RatePlan;

/// Tokio's timer fires on millisecond ticks, rounding deadlines up; waking one tick early and
/// measuring from the actual start (when that is earlier) keeps timer slop out of the latency.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// One unit of work.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Which request of the mix.
    pub request: usize,
    /// When it was meant to start (open model).
    pub intended: Option<Instant>,
    /// Whether it belongs to the warm-up.
    pub warmup: bool,
}

/// How a lane is paced.
pub enum Pacing {
    /// Arrivals at planned times.
    Open(RatePlan),
    /// Back-to-back work for a time (after a warm-up) or a count.
    Closed {
        /// Warm-up length.
        warmup: Duration,
        /// Measured length, if bounded by time.
        duration: Option<Duration>,
    },
}

/// The shared scheduler of one lane.
pub struct Schedule {
    pacing: Pacing,
    t0: Instant,
    /// Stop issuing after this instant even if the plan is not done (open model backlog bound).
    deadline: Option<Instant>,
    limit: Option<u64>,
    next: AtomicU64,
    measured: AtomicU64,
    issued: AtomicU64,
    weights: Vec<(u64, usize)>,
    total_weight: u64,
    seed: u64,
    stop: CancellationToken,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Schedule {
    /// A scheduler starting at `t0`. `weights` are the request weights; `drain` is how long
    /// after the plan's end a backlog may still be sent.
    pub fn new(
        pacing: Pacing,
        t0: Instant,
        limit: Option<u64>,
        weights: &[u32],
        seed: u64,
        drain: Duration,
        stop: CancellationToken,
    ) -> Self {
        let mut cum = 0u64;
        let mut table = Vec::new();
        for (i, w) in weights.iter().enumerate() {
            if *w > 0 {
                cum += u64::from(*w);
                table.push((cum, i));
            }
        }
        let deadline = match &pacing {
            Pacing::Open(plan) => Some(t0 + plan.length() + drain),
            Pacing::Closed { .. } => None,
        };
        Schedule {
            pacing,
            t0,
            deadline,
            limit,
            next: AtomicU64::new(0),
            measured: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            weights: table,
            total_weight: cum.max(1),
            seed,
            stop,
        }
    }

    /// The request of arrival `i`: a weighted choice that depends only on the seed and `i`, so
    /// every lane (and every path, later) sees the same sequence.
    pub fn pick(&self, i: u64) -> usize {
        let r = splitmix64(self.seed ^ splitmix64(i)) % self.total_weight;
        let k = self.weights.partition_point(|(c, _)| *c <= r);
        self.weights.get(k).map_or(0, |(_, i)| *i)
    }

    /// Arrivals the plan intended that were never issued (open model).
    pub fn not_sent(&self) -> u64 {
        match &self.pacing {
            Pacing::Open(plan) => {
                let planned = match self.limit {
                    Some(l) => (plan.warmup_count() + l).min(plan.total()),
                    None => plan.total(),
                };
                planned.saturating_sub(self.issued.load(Ordering::Relaxed))
            }
            Pacing::Closed { .. } => 0,
        }
    }

    /// Whether the lane's requests are over.
    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// The next job, waiting until it is due; `None` when the lane is done.
    pub async fn next(&self) -> Option<Job> {
        if self.stop.is_cancelled() {
            return None;
        }
        let job = match &self.pacing {
            Pacing::Open(plan) => {
                if self.deadline.is_some_and(|d| Instant::now() > d) {
                    return None;
                }
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                let (offset, warmup) = plan.offset_of(i)?;
                if let Some(limit) = self.limit {
                    if !warmup && i - plan.warmup_count() >= limit {
                        return None;
                    }
                }
                let intended = self.t0 + offset;
                let wake = intended.checked_sub(TIMER_TICK).unwrap_or(intended);
                if wake > Instant::now() {
                    tokio::select! {
                        _ = self.stop.cancelled() => return None,
                        _ = tokio::time::sleep_until(wake.into()) => {}
                    }
                }
                Job {
                    request: self.pick(i),
                    intended: Some(intended),
                    warmup,
                }
            }
            Pacing::Closed { warmup, duration } => {
                let elapsed = self.t0.elapsed();
                let in_warmup = elapsed < *warmup;
                if duration.is_some_and(|d| elapsed >= *warmup + d) {
                    return None;
                }
                if !in_warmup {
                    if let Some(limit) = self.limit {
                        if self.measured.fetch_add(1, Ordering::Relaxed) >= limit {
                            return None;
                        }
                    }
                }
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                Job {
                    request: self.pick(i),
                    intended: None,
                    warmup: in_warmup,
                }
            }
        };
        self.issued.fetch_add(1, Ordering::Relaxed);
        Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_pick_follows_weights_and_skips_zero() {
        let s = Schedule::new(
            Pacing::Closed {
                warmup: Duration::ZERO,
                duration: None,
            },
            Instant::now(),
            None,
            &[3, 0, 1],
            7,
            Duration::ZERO,
            CancellationToken::new(),
        );
        let mut counts = [0u32; 3];
        for i in 0..40_000 {
            counts[s.pick(i)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = f64::from(counts[0]) / f64::from(counts[2]);
        assert!((2.8..3.2).contains(&ratio), "{counts:?}");
    }
}
