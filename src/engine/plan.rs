//! The open model's rate plan: when the i-th request of a lane is meant to start.
//!
//! Stages run back to back; within a stage the rate is flat or ramps linearly. Arrival i is due
//! when the cumulative count N(t) = ∫ rate reaches i, so the plan is exact for ramps as well and
//! never drifts however long the run.

use std::time::Duration;

use crate::scenario::Stage;

#[derive(Debug, Clone)]
struct PlannedStage {
    start_s: f64,
    duration_s: f64,
    r0: f64,
    r1: f64,
    warmup: bool,
    /// Arrivals due before this stage starts.
    before: f64,
}

/// Intended start offsets for every arrival of an open-model run.
#[derive(Debug, Clone)]
pub struct RatePlan {
    stages: Vec<PlannedStage>,
    total: f64,
}

impl RatePlan {
    /// Plans `stages`.
    pub fn new(stages: &[Stage]) -> Self {
        let mut out = Vec::new();
        let (mut t, mut n) = (0.0, 0.0);
        for s in stages {
            let d = s.duration.as_secs_f64();
            out.push(PlannedStage {
                start_s: t,
                duration_s: d,
                r0: s.rate_start,
                r1: s.rate_end,
                warmup: s.warmup,
                before: n,
            });
            t += d;
            n += (s.rate_start + s.rate_end) / 2.0 * d;
        }
        RatePlan {
            stages: out,
            total: n,
        }
    }

    /// How many arrivals the plan holds.
    pub fn total(&self) -> u64 {
        self.total.floor() as u64
    }

    /// Arrivals in warm-up stages (which come first).
    pub fn warmup_count(&self) -> u64 {
        let n: f64 = self
            .stages
            .iter()
            .filter(|s| s.warmup)
            .map(|s| (s.r0 + s.r1) / 2.0 * s.duration_s)
            .sum();
        n.floor() as u64
    }

    /// The plan's length.
    pub fn length(&self) -> Duration {
        Duration::from_secs_f64(self.stages.last().map_or(0.0, |s| s.start_s + s.duration_s))
    }

    /// When arrival `i` is due and whether it falls in a warm-up stage; `None` past the end.
    pub fn offset_of(&self, i: u64) -> Option<(Duration, bool)> {
        let n = i as f64;
        if n >= self.total.floor() {
            return None;
        }
        let s = self.stages.iter().rev().find(|s| s.before <= n)?;
        let k = n - s.before;
        let tau = if (s.r1 - s.r0).abs() < f64::EPSILON {
            k / s.r0
        } else {
            // Solve r0·τ + a·τ² = k with a = (r1 − r0) / (2·D), in the form stable for a < 0.
            let a = (s.r1 - s.r0) / (2.0 * s.duration_s);
            2.0 * k / (s.r0 + (s.r0 * s.r0 + 4.0 * a * k).max(0.0).sqrt())
        };
        let tau = tau.min(s.duration_s);
        Some((Duration::from_secs_f64(s.start_s + tau), s.warmup))
    }

    /// Whether an offset falls in a warm-up stage (for the timeline).
    pub fn is_warmup_at(&self, offset: Duration) -> bool {
        let t = offset.as_secs_f64();
        self.stages
            .iter()
            .any(|s| s.warmup && t >= s.start_s && t < s.start_s + s.duration_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: u64, r0: f64, r1: f64, warmup: bool) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            rate_start: r0,
            rate_end: r1,
            warmup,
        }
    }

    #[test]
    fn flat_stage_is_evenly_spaced() {
        let p = RatePlan::new(&[stage(2, 100.0, 100.0, false)]);
        assert_eq!(p.total(), 200);
        assert_eq!(p.offset_of(0).unwrap().0, Duration::ZERO);
        assert_eq!(p.offset_of(150).unwrap().0, Duration::from_millis(1500));
        assert!(p.offset_of(200).is_none());
    }

    #[test]
    fn ramp_follows_the_integral() {
        // 0 → 200/s over 2 s: N(t) = 50·t², so 100 arrivals are due by t = √2 s.
        let p = RatePlan::new(&[stage(2, 0.0, 200.0, false)]);
        assert_eq!(p.total(), 200);
        let t = p.offset_of(100).unwrap().0.as_secs_f64();
        assert!((t - 2f64.sqrt()).abs() < 1e-9, "{t}");
        // A falling ramp: 200 → 0 over 2 s, N(t) = 200t − 50t²; N(1) = 150.
        let p = RatePlan::new(&[stage(2, 200.0, 0.0, false)]);
        let t = p.offset_of(150).unwrap().0.as_secs_f64();
        assert!((t - 1.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn a_pause_stage_sends_nothing() {
        // A replayed log's quiet seconds: the arrivals after the pause start when it ends.
        let p = RatePlan::new(&[
            stage(1, 10.0, 10.0, false),
            stage(2, 0.0, 0.0, false),
            stage(1, 10.0, 10.0, false),
            stage(1, 0.0, 0.0, false),
        ]);
        assert_eq!(p.total(), 20);
        assert_eq!(p.offset_of(9).unwrap().0, Duration::from_millis(900));
        assert_eq!(p.offset_of(10).unwrap().0, Duration::from_secs(3));
        assert_eq!(p.offset_of(19).unwrap().0, Duration::from_millis(3900));
        assert!(p.offset_of(20).is_none());
    }

    #[test]
    fn warmup_comes_first_and_is_marked() {
        let p = RatePlan::new(&[stage(1, 10.0, 10.0, true), stage(1, 20.0, 20.0, false)]);
        assert_eq!(p.warmup_count(), 10);
        assert!(p.offset_of(9).unwrap().1);
        let (t, w) = p.offset_of(10).unwrap();
        assert!(!w);
        assert_eq!(t, Duration::from_secs(1));
        assert_eq!(p.offset_of(20).unwrap().0, Duration::from_millis(1500));
    }
}
