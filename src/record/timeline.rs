//! The per-second timeline of one target × protocol: requests, errors, bytes and coarse latency
//! histograms (corrected and uncorrected) per second of wall time since the run started, at the precision a chart needs (one
//! significant digit), since a long run keeps one per second per lane and thread.

use super::compact::{CompactHist, Precision};

/// One second of the run.
#[derive(Debug, Clone)]
pub struct Second {
    /// Requests completed in this second (measured and warm-up).
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Corrected latency of the requests completed in this second.
    pub latency: CompactHist,
    /// Their latency from the actual send (for the `uncorrected` intervals of the .hlog).
    pub latency_uncorrected: CompactHist,
}

impl Default for Second {
    fn default() -> Self {
        Second {
            requests: 0,
            errors: 0,
            bytes: 0,
            latency: CompactHist::dense(Precision::Timeline),
            latency_uncorrected: CompactHist::dense(Precision::Timeline),
        }
    }
}

/// Seconds since the run started.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Index = second since start.
    pub seconds: Vec<Second>,
    /// Seconds before this one hold only their occupied buckets.
    compacted: usize,
}

impl Timeline {
    fn at(&mut self, sec: usize) -> &mut Second {
        if self.seconds.len() <= sec {
            self.seconds.resize_with(sec + 1, Second::default);
            // Seconds two behind the newest are done but for a late straggler: an hour-long run
            // keeps 3,600 per lane and thread, so only their occupied buckets stay.
            let upto = sec.saturating_sub(1);
            for s in &mut self.seconds[self.compacted.min(upto)..upto] {
                s.latency.compact();
                s.latency_uncorrected.compact();
            }
            self.compacted = self.compacted.max(upto);
        }
        &mut self.seconds[sec]
    }

    /// Records a completed request: its corrected and uncorrected latency when it got a
    /// response.
    pub fn record(&mut self, sec: usize, latency_us: Option<(u64, u64)>, ok: bool, bytes: u64) {
        let s = self.at(sec);
        s.requests += 1;
        s.bytes += bytes;
        if !ok {
            s.errors += 1;
        }
        if let Some((corrected, uncorrected)) = latency_us {
            s.latency.record(corrected);
            s.latency_uncorrected.record(uncorrected);
        }
    }

    /// Adds another thread's timeline.
    pub fn merge(&mut self, other: &Timeline) {
        for (i, o) in other.seconds.iter().enumerate() {
            let s = self.at(i);
            s.requests += o.requests;
            s.errors += o.errors;
            s.bytes += o.bytes;
            s.latency.merge(&o.latency);
            s.latency_uncorrected.merge(&o.latency_uncorrected);
        }
    }
}
