//! Shards added into one run (`gauntlet merge`): histograms, counters, timelines and comparison
//! slices added exactly, percentiles read again from the added histograms, and every figure that
//! is a ratio (rates, error rates, reuse) computed again from the sums. Only shards of one plan
//! are added: the same scenario, rate plan, protocols, targets and request mix, each index once.
//! The verdict is not made here: the merged results go through the same pipeline as a live run.

use std::collections::BTreeMap;

use super::hist::{self, StoredHist};
use super::results::{
    ConnectionsJson, LaneJson, Pcts, PlanKeptJson, RequestJson, ResultsFile, SecondJson, ShardJson,
    Summary,
};
use super::verdict::Verdict;

/// What is checked of a shard before anything is added: read once and kept while the file's
/// figures are dropped, so that checking N shards holds one file at a time.
pub struct Head {
    /// File name, for messages.
    pub name: String,
    /// Which shard it is.
    pub shard: Option<ShardJson>,
    schema_version: u32,
    digest: String,
    plan: String,
    shape: Vec<String>,
}

impl Head {
    /// The head of `r`, known as `name`.
    pub fn of(name: &str, r: &ResultsFile) -> Head {
        Head {
            name: name.to_string(),
            shard: r.meta.shard,
            schema_version: r.schema_version,
            digest: r.meta.scenario_digest.clone(),
            plan: r.plan_text(),
            shape: shape(r),
        }
    }
}

/// What a lane is known by: target and protocol.
fn lane_key(l: &LaneJson) -> String {
    format!("{} {}", l.target, l.protocol)
}

/// Lanes and request names: what must match for figures to be added name by name.
fn shape(r: &ResultsFile) -> Vec<String> {
    r.lanes
        .iter()
        .map(|l| {
            let names: Vec<&str> = l.requests.iter().map(|q| q.name.as_str()).collect();
            format!("{} [{}]", lane_key(l), names.join(", "))
        })
        .collect()
}

/// Every reason `shards` cannot be added, each naming the files concerned.
pub fn problems(shards: &[Head]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(first) = shards.first() else {
        return vec!["no shard given".into()];
    };
    let mut count = None;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for s in shards {
        let Some(ShardJson { index, count: n }) = s.shard else {
            out.push(format!(
                "{}: not a shard (a run without --shard I/N)",
                s.name
            ));
            continue;
        };
        match count {
            None => count = Some((n, s.name.as_str())),
            Some((c, by)) if c != n => out.push(format!(
                "{}: shard {index}/{n}, but {by} is one of {c}",
                s.name
            )),
            _ => {}
        }
        if let Some(other) = seen.insert(index, &s.name) {
            out.push(format!("shard {index} given twice: {other} and {}", s.name));
        }
        let checks = [
            (
                "schema version",
                first.schema_version.to_string(),
                s.schema_version.to_string(),
            ),
            ("scenario", first.digest.clone(), s.digest.clone()),
            ("rate plan", first.plan.clone(), s.plan.clone()),
            (
                "lanes and requests",
                first.shape.join("; "),
                s.shape.join("; "),
            ),
        ];
        for (what, a, b) in checks {
            if a != b {
                let short = |t: &str| t.chars().take(80).collect::<String>();
                out.push(format!(
                    "{what} differs: {} has {}, {} has {}",
                    first.name,
                    short(&a),
                    s.name,
                    short(&b)
                ));
            }
        }
    }
    if let Some((n, _)) = count {
        let missing: Vec<String> = (0..n)
            .filter(|i| !seen.contains_key(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            out.push(format!("shard {} of {n} missing", missing.join(", ")));
        }
    }
    out
}

fn add_hist(into: &mut StoredHist, from: &StoredHist) {
    hist::merge(&mut into.0, &from.0);
}

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Adds the counters of `b` into `a`; percentiles and ratios are made again by [`finish`].
fn add_summary(a: &mut Summary, b: &Summary) {
    a.count += b.count;
    a.ok += b.ok;
    a.errors += b.errors;
    a.bytes += b.bytes;
    a.warmup += b.warmup;
    a.retried += b.retried;
    add_map(&mut a.errors_by_class, &b.errors_by_class);
    add_map(&mut a.statuses, &b.statuses);
}

fn add_request(a: &mut RequestJson, b: &RequestJson) {
    add_summary(&mut a.summary, &b.summary);
    for e in &b.errors {
        match a
            .errors
            .iter_mut()
            .find(|x| x.class == e.class && x.code == e.code)
        {
            Some(x) => x.count += e.count,
            None => a.errors.push(e.clone()),
        }
    }
    let (h, o) = (&mut a.histograms, &b.histograms);
    add_hist(&mut h.latency_us, &o.latency_us);
    add_hist(&mut h.latency_uncorrected_us, &o.latency_uncorrected_us);
    add_hist(&mut h.ttfb_us, &o.ttfb_us);
    if a.slices.len() < b.slices.len() {
        a.slices
            .resize_with(b.slices.len(), || super::results::SliceJson {
                count: 0,
                errors: 0,
                latency_us: StoredHist(hist::new_coarse_hist()),
            });
    }
    for (x, y) in a.slices.iter_mut().zip(&b.slices) {
        x.count += y.count;
        x.errors += y.errors;
        add_hist(&mut x.latency_us, &y.latency_us);
    }
}

fn add_connections(a: &mut ConnectionsJson, b: &ConnectionsJson) {
    a.opened += b.opened;
    a.failed += b.failed;
    a.resumed += b.resumed;
    a.early_data_attempted += b.early_data_attempted;
    a.early_data_accepted += b.early_data_accepted;
    a.recycled += b.recycled;
    a.control_frames.add(&b.control_frames);
    a.peer_limits.add(&b.peer_limits);
    for w in &b.warnings {
        if !a.warnings.contains(w) {
            a.warnings.push(w.clone());
        }
    }
    add_hist(&mut a.connect_hist, &b.connect_hist);
    add_hist(&mut a.handshake_hist, &b.handshake_hist);
}

fn add_timeline(a: &mut Vec<SecondJson>, b: &[SecondJson]) {
    for s in b {
        match a.iter_mut().find(|x| x.t == s.t) {
            Some(x) => {
                x.requests += s.requests;
                x.errors += s.errors;
                x.bytes += s.bytes;
                x.warmup |= s.warmup;
                add_hist(&mut x.latency_us, &s.latency_us);
                add_hist(&mut x.latency_uncorrected_us, &s.latency_uncorrected_us);
            }
            None => a.push(s.clone()),
        }
    }
    a.sort_by_key(|s| s.t);
}

fn add_lane(a: &mut LaneJson, b: &LaneJson) {
    add_summary(&mut a.summary, &b.summary);
    add_connections(&mut a.connections, &b.connections);
    a.pacing.late_starts += b.pacing.late_starts;
    a.pacing.max_lag_us = a.pacing.max_lag_us.max(b.pacing.max_lag_us);
    a.pacing.not_sent += b.pacing.not_sent;
    a.pacing.cancelled += b.pacing.cancelled;
    // Rates are set again over the merged measured time (`finish`).
    a.pacing.plan = match (a.pacing.plan, b.pacing.plan) {
        (Some(x), Some(y)) => Some(PlanKeptJson::new(
            x.planned + y.planned,
            x.sent + y.sent,
            0.0,
        )),
        (x, y) => x.or(y),
    };
    for (x, y) in a.requests.iter_mut().zip(&b.requests) {
        add_request(x, y);
    }
    add_timeline(&mut a.timeline, &b.timeline);
    if a.alt_svc.is_none() {
        a.alt_svc = b.alt_svc.clone();
    }
}

/// Rates, error rates and percentiles of a summary from its sums and `hists`.
fn finish_summary(s: &mut Summary, hists: &super::results::RequestHists, measured_s: f64) {
    s.error_rate = if s.count == 0 {
        0.0
    } else {
        s.errors as f64 / s.count as f64
    };
    s.rps = if measured_s > 0.0 {
        s.count as f64 / measured_s
    } else {
        0.0
    };
    s.latency_us = Pcts::of(&hists.latency_us.0);
    s.latency_uncorrected_us = Pcts::of(&hists.latency_uncorrected_us.0);
    s.ttfb_us = Pcts::of(&hists.ttfb_us.0);
}

/// Everything that is not a sum, made again from the sums.
fn finish(l: &mut LaneJson, measured_s: f64) {
    let mut all = super::results::RequestHists {
        latency_us: StoredHist::default(),
        latency_uncorrected_us: StoredHist::default(),
        ttfb_us: StoredHist::default(),
    };
    for q in &mut l.requests {
        finish_summary(&mut q.summary, &q.histograms, measured_s);
        // A flow's exchanges are counted by its steps: the lane's latency leaves it out.
        if q.flow {
            continue;
        }
        add_hist(&mut all.latency_us, &q.histograms.latency_us);
        add_hist(
            &mut all.latency_uncorrected_us,
            &q.histograms.latency_uncorrected_us,
        );
        add_hist(&mut all.ttfb_us, &q.histograms.ttfb_us);
    }
    finish_summary(&mut l.summary, &all, measured_s);
    if let Some(p) = l.pacing.plan {
        l.pacing.plan = Some(PlanKeptJson::new(p.planned, p.sent, measured_s));
    }
    let c = &mut l.connections;
    c.requests_per_connection = if c.opened == 0 {
        0.0
    } else {
        (l.summary.count + l.summary.warmup) as f64 / c.opened as f64
    };
    c.connect_us = Pcts::of(&c.connect_hist.0);
    c.handshake_us = Pcts::of(&c.handshake_hist.0);
    for s in &mut l.timeline {
        s.p50_us = hist::pct(&s.latency_us.0, 50.0);
        s.p99_us = hist::pct(&s.latency_us.0, 99.0);
        s.max_us = s.latency_us.0.max();
    }
}

/// Shards added one at a time (each file can be dropped once added), after [`problems`]
/// found none.
#[derive(Default)]
pub struct Merger {
    out: Option<ResultsFile>,
    hosts: Vec<String>,
}

impl Merger {
    /// Adds one shard's figures.
    pub fn add(&mut self, r: ResultsFile) {
        if !self.hosts.contains(&r.meta.host) {
            self.hosts.push(r.meta.host.clone());
        }
        let Some(out) = self.out.as_mut() else {
            self.out = Some(r);
            return;
        };
        let m = &r.meta;
        out.meta.started = out.meta.started.clone().min(m.started.clone());
        out.meta.finished = out.meta.finished.clone().max(m.finished.clone());
        out.meta.duration_s = out.meta.duration_s.max(m.duration_s);
        // Shards run side by side over the same plan time: the measured time is theirs, not
        // their sum.
        out.meta.measured_s = out.meta.measured_s.max(m.measured_s);
        out.meta.threads += m.threads;
        out.meta.interrupted |= m.interrupted;
        out.meta.insecure |= m.insecure;
        out.meta.secrets_shown |= m.secrets_shown;
        for (a, b) in out.lanes.iter_mut().zip(&r.lanes) {
            add_lane(a, b);
        }
        if out.differential.is_none() {
            out.differential = r.differential;
        }
        if out.conformance.is_none() {
            out.conformance = r.conformance;
        }
    }

    /// The sum, with every figure that is not a sum made again. The comparison, gates and
    /// verdict are left for the verdict pipeline (the first shard's comparison stays for its
    /// settings); the first shard's differential and conformance findings are kept as they are
    /// (each shard probed the same paths). `None` when nothing was added.
    pub fn finish(self) -> Option<ResultsFile> {
        let mut out = self.out?;
        out.meta.merged_shards = out.meta.shard.map_or(1, |s| s.count);
        out.meta.shard = None;
        out.meta.host = self.hosts.join(", ");
        let measured_s = out.meta.measured_s.max(0.001);
        for l in &mut out.lanes {
            finish(l, measured_s);
        }
        out.gates = Vec::new();
        out.verdict = Verdict::default();
        Some(out)
    }
}
