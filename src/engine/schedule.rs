//! Schedulers: what the next request of a lane is and when it should start. The open model hands
//! out arrivals from the rate plan; the closed model hands out work whenever a slot is free. Both
//! are shared by every thread of a lane and stop on the same conditions: end of plan or time,
//! request count, or interruption.
//!
//! When two paths are compared, a lane shares the run with its counterpart: interleaved (the two
//! take turns slice by slice, each lane's own clock advancing only while it is active) or
//! simultaneous (one arrival stream split between them). Every job is tagged with the slice of
//! its lane's own time, the unit that comparisons resample.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::plan::RatePlan;
use crate::model::seed::splitmix64;

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
    /// The slice of the lane's own time it belongs to.
    pub slice: u32,
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

/// How a lane shares the run with its counterpart on the other path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// The lane has the run to itself.
    Whole,
    /// Alternating slices, in pairs: pair k takes wall slices 2k and 2k + 1, and which side goes
    /// first in each pair is drawn from `order` (a crossover design). A fixed A B A B order lets
    /// any disturbance with the period of a pair (another run alternating at the same slice
    /// length, say) fall on one side every time; a drawn order makes it noise that hits both
    /// sides alike, which is what the paired tests assume.
    Interleaved {
        /// 0 for the candidate, 1 for the baseline.
        phase: u32,
        /// The seed of the order within each pair; both sides of a comparison share it.
        order: u64,
    },
    /// One arrival stream split in two: the lane takes arrivals `k`, `k + 2`, …
    Alternate {
        /// 0 or 1.
        k: u64,
    },
}

/// Everything a schedule is built from.
pub struct ScheduleConfig {
    /// Open or closed.
    pub pacing: Pacing,
    /// Run start.
    pub t0: Instant,
    /// Measured requests after which the lane stops.
    pub limit: Option<u64>,
    /// Request weights.
    pub weights: Vec<u32>,
    /// Seed of the request sequence.
    pub seed: u64,
    /// Cancelled to stop.
    pub stop: CancellationToken,
    /// Sharing with the other path.
    pub share: Share,
    /// Slice length.
    pub slice: Duration,
    /// This process's part of a sharded plan: (index, count); (0, 1) for the whole plan.
    pub shard: (u64, u64),
}

/// How much of its plan an open-model lane carried out, counted when it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shortfall {
    /// Planned arrivals due by the end and never sent, warm-up included.
    pub owed: u64,
    /// How long the oldest of them had waited by the end, µs.
    pub waited_us: u64,
    /// Measured (past the warm-up) arrivals the plan held by the end.
    pub planned: u64,
    /// Of which the client sent.
    pub sent: u64,
}

/// The shared scheduler of one lane.
pub struct Schedule {
    pacing: Pacing,
    share: Share,
    slice: Duration,
    t0: Instant,
    /// Stop issuing after this instant even if the plan is not done (the open model's end).
    deadline: Option<Instant>,
    limit: Option<u64>,
    next: AtomicU64,
    measured: AtomicU64,
    issued: AtomicU64,
    weights: Vec<(u64, usize)>,
    total_weight: u64,
    seed: u64,
    stop: CancellationToken,
    shard: (u64, u64),
}

/// Which of the two wall slices of pair `k` a lane of `phase` takes: 0 or 1.
fn slot(phase: u32, order: u64, k: f64) -> f64 {
    f64::from(phase ^ (splitmix64(order ^ k as u64) & 1) as u32)
}

/// Maps a lane's own time to wall time since the start.
fn to_wall(own: Duration, share: Share, slice: Duration) -> Duration {
    match share {
        Share::Interleaved { phase, order } => {
            let l = slice.as_secs_f64();
            let v = own.as_secs_f64();
            let k = (v / l).floor();
            Duration::from_secs_f64((2.0 * k + slot(phase, order, k)) * l + (v - k * l))
        }
        _ => own,
    }
}

fn slice_of(own: Duration, slice: Duration) -> u32 {
    (own.as_secs_f64() / slice.as_secs_f64()) as u32
}

impl Schedule {
    /// A scheduler for one lane.
    pub fn new(c: ScheduleConfig) -> Self {
        let mut cum = 0u64;
        let mut table = Vec::new();
        for (i, w) in c.weights.iter().enumerate() {
            if *w > 0 {
                cum += u64::from(*w);
                table.push((cum, i));
            }
        }
        let slice = c.slice.max(Duration::from_millis(1));
        let deadline = match &c.pacing {
            // Nothing is sent after the plan's end: what the client could not send by then is
            // owed (`shortfall`), not sent late into a run that is over.
            Pacing::Open(plan) => Some(c.t0 + to_wall(plan.length(), c.share, slice)),
            Pacing::Closed { .. } => None,
        };
        Schedule {
            pacing: c.pacing,
            share: c.share,
            slice,
            t0: c.t0,
            deadline,
            limit: c.limit,
            next: AtomicU64::new(0),
            measured: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            weights: table,
            total_weight: cum.max(1),
            seed: c.seed,
            stop: c.stop,
            shard: (c.shard.0, c.shard.1.max(1)),
        }
    }

    /// The request of arrival `i`: a weighted choice that depends only on the seed and `i`, so
    /// every lane, and both paths, see the same sequence.
    pub fn pick(&self, i: u64) -> usize {
        let r = splitmix64(self.seed ^ splitmix64(i)) % self.total_weight;
        let k = self.weights.partition_point(|(c, _)| *c <= r);
        self.weights.get(k).map_or(0, |(_, i)| *i)
    }

    /// This process's `i`-th job of the lane as the whole lane's (`j`: what picks the request,
    /// the same on both paths and over all shards together) and as the plan's arrival (`g`).
    fn global(&self, i: u64) -> (u64, u64) {
        let (index, count) = self.shard;
        let j = i * count + index;
        let g = match self.share {
            Share::Alternate { k } => 2 * j + k,
            _ => j,
        };
        (j, g)
    }

    /// Of a lane's `n` arrivals, how many are this shard's.
    fn in_shard(&self, n: u64) -> u64 {
        let (index, count) = self.shard;
        n.saturating_sub(index).div_ceil(count)
    }

    /// When this lane's arrival `i` is due, in wall time; `None` past the plan.
    fn due_at(&self, plan: &RatePlan, i: u64) -> Option<Instant> {
        let (_, g) = self.global(i);
        let (offset, _) = plan.offset_of(g)?;
        Some(self.t0 + to_wall(offset, self.share, self.slice))
    }

    /// What the client owed when the lane ended (open model): the planned arrivals that were due
    /// by `until` (an interruption; `None` for the whole plan) and never sent, and how long the
    /// oldest of them had waited by then, in µs. An interrupted run owes only what was due
    /// before the interrupt; a queue of arrivals the client never got to is lag, even though
    /// none of them started.
    pub fn shortfall(&self, until: Option<Instant>) -> Shortfall {
        let Pacing::Open(plan) = &self.pacing else {
            return Shortfall::default();
        };
        let (total, warmup) = match self.share {
            Share::Alternate { k } => (
                plan.total().saturating_sub(k).div_ceil(2),
                plan.warmup_count().saturating_sub(k).div_ceil(2),
            ),
            _ => (plan.total(), plan.warmup_count()),
        };
        let (total, warmup) = (self.in_shard(total), self.in_shard(warmup));
        let planned = match self.limit {
            Some(l) => (warmup + l).min(total),
            None => total,
        };
        let due = match until {
            None => planned,
            // Arrival times rise with the index: the due ones are a prefix.
            Some(t) => {
                let (mut lo, mut hi) = (0u64, planned);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.due_at(plan, mid).is_some_and(|d| d <= t) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            }
        };
        let issued = self.issued.load(Ordering::Relaxed);
        let owed = due.saturating_sub(issued);
        let end = until.or(self.deadline).unwrap_or_else(Instant::now);
        let waited = match owed {
            0 => 0,
            _ => self
                .due_at(plan, issued)
                .map_or(0, |d| end.saturating_duration_since(d).as_micros() as u64),
        };
        // Warm-up arrivals come first in the plan and are handed out first, so the measured part
        // of each count is what lies past the warm-up's.
        Shortfall {
            owed,
            waited_us: waited,
            planned: due.saturating_sub(warmup),
            sent: issued.min(due).saturating_sub(warmup),
        }
    }

    /// The lane's own elapsed time (closed model). An interleaved lane waits here while the other
    /// path's slice runs; `None` if the run stops meanwhile.
    async fn own_elapsed(&self) -> Option<Duration> {
        let Share::Interleaved { phase, order } = self.share else {
            return Some(self.t0.elapsed());
        };
        let l = self.slice.as_secs_f64();
        let e = self.t0.elapsed().as_secs_f64();
        let k = (e / (2.0 * l)).floor();
        let r = e - k * 2.0 * l;
        let start = slot(phase, order, k) * l;
        let (wait_until, own) = if r < start {
            (Some(k * 2.0 * l + start), k * l)
        } else if r >= start + l {
            let next = slot(phase, order, k + 1.0) * l;
            (Some((k + 1.0) * 2.0 * l + next), (k + 1.0) * l)
        } else {
            (None, k * l + (r - start))
        };
        if let Some(w) = wait_until {
            tokio::select! {
                _ = self.stop.cancelled() => return None,
                _ = tokio::time::sleep_until((self.t0 + Duration::from_secs_f64(w)).into()) => {}
            }
        }
        Some(Duration::from_secs_f64(own))
    }

    /// The next job, waiting until it is due; `None` when the lane is done.
    pub async fn next(&self) -> Option<Job> {
        if self.stop.is_cancelled() {
            return None;
        }
        // A run told to begin later (`--start-at`) waits here, in either model.
        if Instant::now() < self.t0 {
            tokio::select! {
                _ = self.stop.cancelled() => return None,
                _ = tokio::time::sleep_until(self.t0.into()) => {}
            }
        }
        let job = match &self.pacing {
            Pacing::Open(plan) => {
                if self.deadline.is_some_and(|d| Instant::now() > d) {
                    return None;
                }
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                let (j, g) = self.global(i);
                let (offset, warmup) = plan.offset_of(g)?;
                if let Some(limit) = self.limit {
                    if !warmup && self.measured.fetch_add(1, Ordering::Relaxed) >= limit {
                        return None;
                    }
                }
                let intended = self.t0 + to_wall(offset, self.share, self.slice);
                let wake = intended.checked_sub(TIMER_TICK).unwrap_or(intended);
                if wake > Instant::now() {
                    tokio::select! {
                        _ = self.stop.cancelled() => return None,
                        _ = tokio::time::sleep_until(wake.into()) => {}
                    }
                }
                Job {
                    request: self.pick(j),
                    intended: Some(intended),
                    warmup,
                    slice: slice_of(offset, self.slice),
                }
            }
            Pacing::Closed { warmup, duration } => {
                let own = self.own_elapsed().await?;
                let in_warmup = own < *warmup;
                if duration.is_some_and(|d| own >= *warmup + d) {
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
                    request: self.pick(self.global(i).0),
                    intended: None,
                    warmup: in_warmup,
                    slice: slice_of(own, self.slice),
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

    fn closed(weights: Vec<u32>) -> Schedule {
        Schedule::new(ScheduleConfig {
            pacing: Pacing::Closed {
                warmup: Duration::ZERO,
                duration: None,
            },
            t0: Instant::now(),
            limit: None,
            weights,
            seed: 7,
            stop: CancellationToken::new(),
            share: Share::Whole,
            slice: Duration::from_secs(1),
            shard: (0, 1),
        })
    }

    #[test]
    fn weighted_pick_follows_weights_and_skips_zero() {
        let s = closed(vec![3, 0, 1]);
        let mut counts = [0u32; 3];
        for i in 0..40_000 {
            counts[s.pick(i)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = f64::from(counts[0]) / f64::from(counts[2]);
        assert!((2.8..3.2).contains(&ratio), "{counts:?}");
    }

    #[test]
    fn interleaved_lanes_take_turns_by_slice_in_a_drawn_order() {
        let l = Duration::from_secs(1);
        let order = 7;
        let a = Share::Interleaved { phase: 0, order };
        let b = Share::Interleaved { phase: 1, order };
        let mut a_first = 0;
        for k in 0..64u64 {
            // Own time k + 0.5 s is slice k: the two sides fill wall [2k, 2k + 2) between them.
            let own = Duration::from_millis(k * 1000 + 500);
            let (wa, wb) = (to_wall(own, a, l), to_wall(own, b, l));
            let mut both = [wa.as_millis(), wb.as_millis()];
            both.sort();
            assert_eq!(
                both,
                [
                    u128::from(2 * k) * 1000 + 500,
                    u128::from(2 * k + 1) * 1000 + 500
                ]
            );
            a_first += u32::from(wa < wb);
        }
        // Neither side always goes first.
        assert!((16..=48).contains(&a_first), "{a_first}");
        assert_eq!(
            to_wall(Duration::from_millis(2500), Share::Whole, l),
            Duration::from_millis(2500)
        );
        assert_eq!(slice_of(Duration::from_millis(2500), l), 2);
    }
}
