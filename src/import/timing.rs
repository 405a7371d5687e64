//! `--timing original`: the recorded arrivals as a per-second rate profile, replayed as open-model
//! stages. Logs write times to the second (nginx) or the millisecond (HAR), so one count per
//! recorded second is what the source can tell; the rate plan's exact integral then sends, in
//! each replayed second, as many requests as that second of the log held (divided by the speed
//! factor's stretch). The profile is a dense array of counts over at most [`MAX_SPAN_S`] seconds
//! (2.4 MB), whatever the number of lines.

use std::collections::VecDeque;

use crate::scenario::bounds::{MAX_RATE, MAX_RUN};

/// The longest recorded span kept: a week. Requests further from the first one are counted as
/// outside the window.
pub const MAX_SPAN_S: usize = 7 * 86_400;
/// Above this many stages, neighbouring seconds are averaged together (windows of 2, 4, 8 … s)
/// so that the scenario stays small enough to read and to load.
pub const MAX_STAGES: usize = 10_000;

/// Requests per recorded second.
#[derive(Debug, Default)]
pub struct Profile {
    /// The first second held, in seconds since the epoch.
    base: i64,
    counts: VecDeque<u32>,
    /// Requests too far from the others to be kept.
    pub outside: u64,
}

impl Profile {
    /// Counts one request at `t` (seconds since the epoch).
    pub fn add(&mut self, t: f64) {
        let s = t.floor() as i64;
        if self.counts.is_empty() {
            self.base = s;
            self.counts.push_back(1);
            return;
        }
        // Lines are written when a request ends, so a log is only roughly in order.
        if s < self.base {
            let shift = (self.base - s) as usize;
            if shift + self.counts.len() > MAX_SPAN_S {
                self.outside += 1;
                return;
            }
            for _ in 0..shift {
                self.counts.push_front(0);
            }
            self.base = s;
        }
        let i = (s - self.base) as usize;
        if i >= MAX_SPAN_S {
            self.outside += 1;
            return;
        }
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    /// Requests counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Seconds from the first request's to the last one's, inclusive.
    pub fn span_s(&self) -> usize {
        self.counts.len()
    }

    /// Requests per second, from the first recorded second.
    pub fn counts(&self) -> impl Iterator<Item = u32> + '_ {
        self.counts.iter().copied()
    }
}

/// One replayed stage: its length in seconds and its flat rate (zero: a pause).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Seconds.
    pub duration_s: f64,
    /// Requests per second.
    pub rate: f64,
}

/// The replay of a profile.
#[derive(Debug)]
pub struct Replay {
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Recorded seconds per averaged window (1 unless the profile had to be coarsened).
    pub window_s: usize,
}

/// The stages that replay `p` at `speed` times the recorded pace.
pub fn replay(p: &Profile, speed: f64) -> Result<Replay, String> {
    let span = p.span_s();
    if span == 0 {
        return Err("no request has a recorded time, so there is no load shape to keep".into());
    }
    let length = span as f64 / speed;
    if length > MAX_RUN.as_secs_f64() {
        let need = span as f64 / MAX_RUN.as_secs_f64();
        return Err(format!(
            "the log spans {span} s, so at --speed {speed} the replay would last {length:.0} s, \
             past the one-day limit of a run: give --speed {need:.2} or more"
        ));
    }
    let counts: Vec<u32> = p.counts().collect();
    let mut window = 1;
    loop {
        let mut stages: Vec<Stage> = Vec::new();
        for chunk in counts.chunks(window) {
            let n: u64 = chunk.iter().map(|&c| u64::from(c)).sum();
            let s = Stage {
                duration_s: chunk.len() as f64 / speed,
                rate: n as f64 * speed / chunk.len() as f64,
            };
            if s.rate > MAX_RATE {
                return Err(format!(
                    "at --speed {speed} the busiest second needs {:.0} requests/s, past the \
                     limit of {MAX_RATE}/s: give a lower --speed",
                    s.rate
                ));
            }
            match stages.last_mut() {
                Some(last) if last.rate == s.rate => last.duration_s += s.duration_s,
                _ => stages.push(s),
            }
        }
        if stages.len() <= MAX_STAGES {
            return Ok(Replay {
                stages,
                window_s: window,
            });
        }
        window *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(times: &[f64]) -> Profile {
        let mut p = Profile::default();
        times.iter().for_each(|&t| p.add(t));
        p
    }

    #[test]
    fn seconds_out_of_order_and_gaps() {
        let p = profile(&[100.2, 100.9, 99.5, 103.0]);
        assert_eq!(p.counts().collect::<Vec<_>>(), [1, 2, 0, 0, 1]);
        assert_eq!(p.total(), 4);
        let far = profile(&[0.0, (MAX_SPAN_S + 5) as f64]);
        assert_eq!((far.total(), far.outside), (1, 1));
    }

    #[test]
    fn stages_keep_each_second_and_merge_equal_ones() {
        let p = profile(&[0.0, 0.1, 1.0, 1.5, 4.0]);
        let r = replay(&p, 1.0).unwrap();
        let st = |d: f64, r: f64| Stage {
            duration_s: d,
            rate: r,
        };
        assert_eq!(r.stages, [st(2.0, 2.0), st(2.0, 0.0), st(1.0, 1.0)]);
        // Twice as fast: half the time, twice the rate, the same number of requests.
        let r = replay(&p, 2.0).unwrap();
        assert_eq!(r.stages, [st(1.0, 4.0), st(1.0, 0.0), st(0.5, 2.0)]);
        let sent: f64 = r.stages.iter().map(|s| s.duration_s * s.rate).sum();
        assert_eq!(sent, 5.0);
    }

    #[test]
    fn a_long_varied_profile_is_coarsened() {
        let times: Vec<f64> = (0..30_000u32)
            .flat_map(|s| std::iter::repeat_n(f64::from(s), (s % 3) as usize + 1))
            .collect();
        let r = replay(&profile(&times), 1.0).unwrap();
        assert!(r.stages.len() <= MAX_STAGES);
        assert_eq!(r.window_s, 4);
        let sent: f64 = r.stages.iter().map(|s| s.duration_s * s.rate).sum();
        assert!((sent - times.len() as f64).abs() < 1e-6, "{sent}");
    }

    #[test]
    fn too_long_or_too_fast_is_refused_with_the_way_out() {
        let p = profile(&[0.0, 3.0 * 86_400.0]);
        assert!(replay(&p, 1.0).unwrap_err().contains("--speed 3.00"));
        assert!(replay(&p, 3.1).is_ok());
    }
}
