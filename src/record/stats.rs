//! Counters and histograms of one target × protocol ("lane"), per request name. Each client thread
//! owns one [`LaneStats`] per lane and records without locks; [`LaneStats::merge`] adds them up.

use std::collections::BTreeMap;

use super::compact::{CompactHist, Precision};
use super::errors::{ErrorClass, RequestError};
use super::peer::{ControlFrames, PeerLimits, PeerReport};
use super::timeline::Timeline;
use crate::model::hist::{self, new_hist, Hist};

/// A start more than this late against its intended time counts as a late start (µs).
pub const LATE_START_US: u64 = 1_000;

/// One slice of a lane's own time: what comparisons resample.
#[derive(Debug, Clone)]
pub struct SliceStats {
    /// Corrected latency of the responses (coarse: 2 significant digits).
    pub latency: CompactHist,
    /// Completed requests.
    pub count: u64,
    /// Of which failed.
    pub errors: u64,
}

impl Default for SliceStats {
    fn default() -> Self {
        SliceStats {
            latency: CompactHist::dense(Precision::Slice),
            count: 0,
            errors: 0,
        }
    }
}

impl SliceStats {
    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &SliceStats) {
        self.latency.merge(&o.latency);
        self.count += o.count;
        self.errors += o.errors;
    }
}

/// Adds `from` into `into`, slice by slice.
pub fn merge_slices(into: &mut Vec<SliceStats>, from: &[SliceStats]) {
    if into.len() < from.len() {
        // Empty sparse slices: a whole histogram each would be allocated only to be compacted.
        into.resize_with(from.len(), || SliceStats {
            latency: CompactHist::empty_sparse(Precision::Slice),
            count: 0,
            errors: 0,
        });
    }
    for (a, b) in into.iter_mut().zip(from) {
        a.merge(b);
    }
}

/// One measured exchange, as [`RequestStats::record`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Latency from the intended start (coordinated-omission corrected), µs.
    pub corrected_us: u64,
    /// Latency from the actual send, µs.
    pub uncorrected_us: u64,
    /// Status and time to the response head (µs), when a response came.
    pub response: Option<(u16, u64)>,
    /// Body bytes received.
    pub bytes: u64,
    /// Whether it was sent again because the server had not processed it.
    pub retried: bool,
    /// The slice of the lane's own time it belongs to.
    pub slice: u32,
}

/// Figures for one request name.
#[derive(Debug, Clone)]
pub struct RequestStats {
    /// Latency from the intended start (coordinated-omission corrected), µs.
    pub latency: Hist,
    /// Latency from the actual send, µs.
    pub latency_uncorrected: Hist,
    /// Time from send to the response head, µs.
    pub ttfb: Hist,
    /// Measured requests that completed (with a response or an error).
    pub count: u64,
    /// Of which passed every check.
    pub ok: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Failures by class and code.
    pub errors: BTreeMap<(ErrorClass, String), u64>,
    /// One example message per class and code.
    pub error_examples: BTreeMap<(ErrorClass, String), String>,
    /// Body bytes received.
    pub bytes: u64,
    /// Warm-up requests completed (not in the figures above).
    pub warmup: u64,
    /// Measured requests sent a second time because the server had not processed the first
    /// (graceful GOAWAY, REFUSED_STREAM, H3_REQUEST_REJECTED, a connection closing under it).
    pub retried: u64,
    /// Per slice of the lane's own time, measured requests only.
    pub slices: Vec<SliceStats>,
    /// A `curl` command for the first failure of a flow or flow step, with that iteration's
    /// variables filled in (a step's path and headers differ by iteration, so the lane's
    /// reproducer, built from the template, would not reproduce it).
    pub reproducer: Option<String>,
    /// The figures of a whole flow: its exchanges are counted by its steps, so lane totals
    /// leave it out.
    pub flow: bool,
    /// Slices below this index are compacted to their occupied buckets.
    compacted: usize,
}

impl RequestStats {
    /// Counters and corrected latency only (see [`LaneStats::live_view`]).
    pub fn live_view(&self) -> RequestStats {
        RequestStats {
            latency: self.latency.clone(),
            count: self.count,
            ok: self.ok,
            statuses: self.statuses.clone(),
            errors: self.errors.clone(),
            bytes: self.bytes,
            warmup: self.warmup,
            retried: self.retried,
            // A compared lane's slices: what the verdict so far is judged from.
            slices: self.slices.clone(),
            flow: self.flow,
            ..RequestStats::default()
        }
    }
}

impl Default for RequestStats {
    fn default() -> Self {
        RequestStats {
            latency: new_hist(),
            latency_uncorrected: new_hist(),
            ttfb: new_hist(),
            count: 0,
            ok: 0,
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            error_examples: BTreeMap::new(),
            bytes: 0,
            warmup: 0,
            retried: 0,
            slices: Vec::new(),
            reproducer: None,
            flow: false,
            compacted: 0,
        }
    }
}

impl RequestStats {
    /// Failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Records a measured request in its slice.
    pub fn record_slice(&mut self, slice: u32, latency_us: Option<u64>, ok: bool) {
        let i = slice as usize;
        if self.slices.len() <= i {
            self.slices.resize_with(i + 1, SliceStats::default);
            // Slices two behind the newest rarely see another request (one that started then
            // and completes late still can): keep only their occupied buckets.
            let upto = i.saturating_sub(1);
            for s in &mut self.slices[self.compacted.min(upto)..upto] {
                s.latency.compact();
            }
            self.compacted = self.compacted.max(upto);
        }
        let s = &mut self.slices[i];
        s.count += 1;
        if !ok {
            s.errors += 1;
        }
        if let Some(us) = latency_us {
            s.latency.record(us);
        }
    }

    /// Records a measured sample: its counters, latency histograms, status and slice, and
    /// `outcome`, whether it passed its checks.
    pub fn record(&mut self, s: &Sample, outcome: Result<(), &RequestError>) {
        self.count += 1;
        self.bytes += s.bytes;
        self.retried += u64::from(s.retried);
        if let Some((status, ttfb_us)) = s.response {
            *self.statuses.entry(status).or_default() += 1;
            hist::record_us(&mut self.latency, s.corrected_us);
            hist::record_us(&mut self.latency_uncorrected, s.uncorrected_us);
            hist::record_us(&mut self.ttfb, ttfb_us);
        }
        // Every lane keeps its slices: a run saved today is compared with `gauntlet compare`
        // tomorrow, and the verdict is judged from slices.
        self.record_slice(s.slice, s.response.map(|_| s.corrected_us), outcome.is_ok());
        match outcome {
            Ok(()) => self.ok += 1,
            Err(e) => self.record_error(e),
        }
    }

    /// Records an error.
    pub fn record_error(&mut self, e: &RequestError) {
        let key = (e.class, e.code.clone());
        *self.errors.entry(key.clone()).or_default() += 1;
        self.error_examples
            .entry(key)
            .or_insert_with(|| e.message.clone());
    }

    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &RequestStats) {
        hist::merge(&mut self.latency, &o.latency);
        hist::merge(&mut self.latency_uncorrected, &o.latency_uncorrected);
        hist::merge(&mut self.ttfb, &o.ttfb);
        self.count += o.count;
        self.ok += o.ok;
        for (k, v) in &o.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.error_examples {
            self.error_examples
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        self.bytes += o.bytes;
        self.warmup += o.warmup;
        self.retried += o.retried;
        self.flow |= o.flow;
        if self.reproducer.is_none() {
            self.reproducer.clone_from(&o.reproducer);
        }
        merge_slices(&mut self.slices, &o.slices);
    }
}

/// Figures for one target × protocol.
#[derive(Debug, Clone)]
pub struct LaneStats {
    /// Per request, indexed like the scenario's requests.
    pub requests: Vec<RequestStats>,
    /// TCP connect times, µs.
    pub connect: Hist,
    /// TLS or QUIC handshake times, µs.
    pub handshake: Hist,
    /// Connections opened.
    pub connections_opened: u64,
    /// Connection attempts that failed.
    pub connections_failed: u64,
    /// TLS sessions resumed.
    pub resumed: u64,
    /// Connections that sent 0-RTT early data.
    pub early_data_attempted: u64,
    /// Of which the server accepted the early data.
    pub early_data_accepted: u64,
    /// Requests that started more than [`LATE_START_US`] after their intended time.
    pub late_starts: u64,
    /// The largest start lag seen, µs.
    pub max_lag_us: u64,
    /// Arrivals the plan intended but that were never sent because the run ended first.
    pub not_sent: u64,
    /// Requests still in flight when the run reached its deadline (or was interrupted), cut
    /// off: neither errors of the target nor samples.
    pub cancelled: u64,
    /// Per-second figures.
    pub timeline: Timeline,
    /// Control frames the server sent, over every connection.
    pub peer_frames: ControlFrames,
    /// The smallest limits the server announced.
    pub peer_limits: PeerLimits,
    /// Connections replaced because the server ended them (GOAWAY, `Connection: close`, a
    /// close, a refusal), as opposed to a request quota.
    pub recycled: u64,
}

impl LaneStats {
    /// Empty figures for `n` request names.
    pub fn new(n: usize) -> Self {
        LaneStats {
            requests: (0..n).map(|_| RequestStats::default()).collect(),
            connect: new_hist(),
            handshake: new_hist(),
            connections_opened: 0,
            connections_failed: 0,
            resumed: 0,
            early_data_attempted: 0,
            early_data_accepted: 0,
            late_starts: 0,
            max_lag_us: 0,
            not_sent: 0,
            cancelled: 0,
            timeline: Timeline::default(),
            peer_frames: ControlFrames::default(),
            peer_limits: PeerLimits::default(),
            recycled: 0,
        }
    }

    /// Records a connection that opened.
    pub fn record_connect(&mut self, t: &ConnectTimings) {
        self.connections_opened += 1;
        hist::record_us(&mut self.connect, t.connect.as_micros() as u64);
        if let Some(h) = t.handshake {
            hist::record_us(&mut self.handshake, h.as_micros() as u64);
        }
        if t.resumed {
            self.resumed += 1;
        }
    }

    /// Adds what the server did on one connection; `recycled` when the server ended it.
    pub fn record_peer(&mut self, r: &PeerReport, recycled: bool) {
        self.peer_frames.add(&r.frames);
        self.peer_limits.add(&r.limits);
        self.recycled += u64::from(recycled);
    }

    /// Records how late a request started against its intended time.
    pub fn record_lag(&mut self, lag_us: u64) {
        if lag_us > LATE_START_US {
            self.late_starts += 1;
        }
        self.max_lag_us = self.max_lag_us.max(lag_us);
    }

    /// What the live metrics read: counters, corrected latency and a compared lane's slices;
    /// the timeline and the other histograms stay behind, so a copy a second stays cheap.
    pub fn live_view(&self) -> LaneStats {
        let mut v = LaneStats::new(0);
        v.requests = self.requests.iter().map(RequestStats::live_view).collect();
        v.connections_opened = self.connections_opened;
        v.connections_failed = self.connections_failed;
        v.late_starts = self.late_starts;
        v.max_lag_us = self.max_lag_us;
        v.cancelled = self.cancelled;
        v
    }

    /// All request names merged into one.
    pub fn total(&self) -> RequestStats {
        let mut t = RequestStats::default();
        for r in self.requests.iter().filter(|r| !r.flow) {
            t.merge(r);
        }
        t
    }

    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &LaneStats) {
        for (a, b) in self.requests.iter_mut().zip(&o.requests) {
            a.merge(b);
        }
        hist::merge(&mut self.connect, &o.connect);
        hist::merge(&mut self.handshake, &o.handshake);
        self.connections_opened += o.connections_opened;
        self.connections_failed += o.connections_failed;
        self.resumed += o.resumed;
        self.early_data_attempted += o.early_data_attempted;
        self.early_data_accepted += o.early_data_accepted;
        self.late_starts += o.late_starts;
        self.max_lag_us = self.max_lag_us.max(o.max_lag_us);
        self.not_sent += o.not_sent;
        self.cancelled += o.cancelled;
        self.timeline.merge(&o.timeline);
        self.peer_frames.add(&o.peer_frames);
        self.peer_limits.add(&o.peer_limits);
        self.recycled += o.recycled;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacted_slices_lose_no_count_and_take_late_requests() {
        let mut r = RequestStats::default();
        let mut whole = hist::new_coarse_hist();
        // Three slices, then a late request for the first, compacted by then.
        for (slice, us) in [
            (0, 1500),
            (0, 2500),
            (1, 900),
            (2, 12_000),
            (3, 7),
            (0, 1499),
        ] {
            r.record_slice(slice, Some(us), true);
            if slice == 0 {
                hist::record_us(&mut whole, us);
            }
        }
        assert!(r.slices[0].latency.is_sparse());
        assert!(!r.slices[3].latency.is_sparse());
        let back = r.slices[0].latency.to_hist();
        assert_eq!(back.len(), 3);
        for q in [0.0, 50.0, 99.0, 100.0] {
            assert_eq!(
                back.value_at_quantile(q / 100.0),
                whole.value_at_quantile(q / 100.0)
            );
        }
        // Merged with another thread's dense slices, nothing is lost either way round.
        let mut other = RequestStats::default();
        other.record_slice(0, Some(1500), true);
        let mut into: Vec<SliceStats> = Vec::new();
        merge_slices(&mut into, &r.slices);
        merge_slices(&mut into, &other.slices);
        assert_eq!(into[0].latency.to_hist().len(), 4);
        assert_eq!(into[0].count, 4);
        assert_eq!(into[2].latency.to_hist().max(), whole_max(12_000));
    }

    fn whole_max(us: u64) -> u64 {
        let mut h = hist::new_coarse_hist();
        hist::record_us(&mut h, us);
        h.max()
    }
}

/// Timings of opening one connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectTimings {
    /// TCP connect (or nothing for QUIC, whose handshake is the connect).
    pub connect: std::time::Duration,
    /// TLS or QUIC handshake, when there was one.
    pub handshake: Option<std::time::Duration>,
    /// Whether the TLS session was resumed.
    pub resumed: bool,
}
