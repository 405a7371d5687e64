//! The results of a run still going: the live figures through the same pipeline as the final
//! results (comparison, gates, verdict), for the verdict-so-far series and the terminal view.
//! Computed at most every few seconds, on the observer's thread, never on a client thread.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::engine::{LaneResult, Live, RunOutcome};
use crate::model::results::ResultsFile;
use crate::scenario::Scenario;

/// How stale a verdict so far may be.
const EVERY: Duration = Duration::from_secs(5);

/// The latest results so far, remade when older than five seconds.
#[derive(Default)]
pub struct SoFar {
    last: Mutex<Option<(Instant, std::sync::Arc<ResultsFile>)>>,
}

impl SoFar {
    /// The results so far of `s`, or `None` before the first figures.
    pub fn get(&self, s: &Scenario, live: &Live) -> Option<std::sync::Arc<ResultsFile>> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, r)) = last.as_ref() {
            if at.elapsed() < EVERY {
                return Some(r.clone());
            }
        }
        let r = std::sync::Arc::new(results(s, live)?);
        *last = Some((Instant::now(), r.clone()));
        Some(r)
    }
}

/// The results the run would have if it ended now.
pub fn results(s: &Scenario, live: &Live) -> Option<ResultsFile> {
    let lanes = live.lanes.get()?;
    let t0 = *live.t0.get()?;
    let figures = live.figures();
    let elapsed = t0.elapsed();
    let warmup = match &s.load.model {
        crate::scenario::Model::Open { stages } => stages
            .iter()
            .filter(|st| st.warmup)
            .map(|st| st.duration)
            .sum(),
        crate::scenario::Model::Closed { warmup, .. } => *warmup,
    };
    // Interleaved paths take turns: each lane's own time runs at half the wall clock.
    let interleaved = s
        .compare
        .as_ref()
        .is_some_and(|c| c.fairness == crate::scenario::Fairness::Interleaved);
    let turns = if interleaved { 2 } else { 1 };
    let now = SystemTime::now();
    let outcome = RunOutcome {
        lanes: lanes
            .iter()
            .zip(figures)
            .map(|(l, stats)| LaneResult {
                target: l.target.clone(),
                url: l.url.clone(),
                protocol: l.protocol,
                stats,
                alt_svc: None,
                reproducers: Vec::new(),
                plan: None,
            })
            .collect(),
        started: now.checked_sub(elapsed).unwrap_or(now),
        finished: now,
        interrupted: false,
        threads: s.load.threads,
        warmup: warmup * turns,
        measured: (elapsed.saturating_sub(warmup * turns) / turns).max(Duration::from_millis(1)),
        differential: None,
        faults: Vec::new(),
    };
    Some(crate::verdict::results(
        s,
        &outcome,
        None,
        Vec::new(),
        false,
    ))
}
