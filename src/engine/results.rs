//! Building the results model from a finished run: the engine's figures in their wire form.

use std::collections::BTreeMap;
use std::time::Duration;

use super::RunOutcome;
use crate::model::hist::{self, StoredHist};
use crate::model::results::{
    commit_from_env, rfc3339, ClockJson, ConnectionsJson, ErrorJson, LaneJson, Meta, PacingJson,
    Pcts, PlanKeptJson, RequestHists, RequestJson, ResultsFile, RunModel, SecondJson, SliceJson,
    StageJson, Summary, SCHEMA_VERSION,
};
use crate::model::verdict::Verdict;
use crate::record::stats::RequestStats;
use crate::scenario::{Model, Scenario};

/// Builds the wire form of a run.
pub fn build(s: &Scenario, o: &RunOutcome, verdict: &Verdict) -> ResultsFile {
    let wall = o
        .finished
        .duration_since(o.started)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64();
    let measured_s = o.measured.as_secs_f64().max(0.001);
    // Interleaved lanes take turns: their measured part spans twice its own length of wall time.
    let turn_s = s
        .compare
        .as_ref()
        .filter(|c| c.fairness == crate::scenario::Fairness::Interleaved)
        .map(|_| s.slice.as_secs_f64());
    let clock = ClockJson {
        warmup_s: o.warmup.as_secs_f64(),
        end_s: o.warmup.as_secs_f64() + measured_s * if turn_s.is_some() { 2.0 } else { 1.0 },
        turn_s,
    };
    let lanes = o
        .lanes
        .iter()
        .map(|l| {
            let st = &l.stats;
            let total = st.total();
            let requests = s
                .requests
                .iter()
                .zip(&st.requests)
                .enumerate()
                .map(|(i, (r, rs))| RequestJson {
                    reproducer: rs
                        .reproducer
                        .clone()
                        .or_else(|| l.reproducers.get(i).cloned())
                        .unwrap_or_default(),
                    name: r.name.clone(),
                    flow: s.flows.flows.iter().any(|f| f.entry == i),
                    summary: summary_of(rs, measured_s),
                    errors: rs
                        .errors
                        .iter()
                        .map(|((class, code), n)| ErrorJson {
                            class: *class,
                            code: code.clone(),
                            count: *n,
                            example: rs
                                .error_examples
                                .get(&(*class, code.clone()))
                                .cloned()
                                .unwrap_or_default(),
                        })
                        .collect(),
                    histograms: RequestHists {
                        latency_us: StoredHist(rs.latency.clone()),
                        latency_uncorrected_us: StoredHist(rs.latency_uncorrected.clone()),
                        ttfb_us: StoredHist(rs.ttfb.clone()),
                    },
                    slices: rs
                        .slices
                        .iter()
                        .map(|sl| SliceJson {
                            count: sl.count,
                            errors: sl.errors,
                            latency_us: StoredHist(sl.latency.to_hist()),
                        })
                        .collect(),
                })
                .collect();
            let timeline = st
                .timeline
                .seconds
                .iter()
                .enumerate()
                .map(|(t, sec)| {
                    let latency = sec.latency.to_hist();
                    SecondJson {
                        t: t as u64,
                        warmup: (t as f64) < o.warmup.as_secs_f64(),
                        requests: sec.requests,
                        errors: sec.errors,
                        bytes: sec.bytes,
                        p50_us: hist::pct(&latency, 50.0),
                        p99_us: hist::pct(&latency, 99.0),
                        max_us: latency.max(),
                        latency_us: StoredHist(latency),
                        latency_uncorrected_us: StoredHist(sec.latency_uncorrected.to_hist()),
                    }
                })
                .collect();
            LaneJson {
                target: l.target.clone(),
                url: l.url.clone(),
                role: s.role_of(&l.target),
                protocol: l.protocol,
                summary: summary_of(&total, measured_s),
                connections: ConnectionsJson {
                    opened: st.connections_opened,
                    failed: st.connections_failed,
                    resumed: st.resumed,
                    early_data_attempted: st.early_data_attempted,
                    early_data_accepted: st.early_data_accepted,
                    requests_per_connection: if st.connections_opened == 0 {
                        0.0
                    } else {
                        (total.count + total.warmup) as f64 / st.connections_opened as f64
                    },
                    recycled: st.recycled,
                    control_frames: st.peer_frames,
                    peer_limits: st.peer_limits,
                    warnings: crate::model::peer::floods(
                        &st.peer_frames,
                        st.connections_opened,
                        measured_s + o.warmup.as_secs_f64(),
                    )
                    .into_iter()
                    .map(|(kind, rate)| {
                        format!(
                            "the server sent {kind} frames at {rate:.0}/s ({} over {} connections): \
                             a control-frame flood (CVE-2019-9512/9515 style)",
                            if kind == "PING" { st.peer_frames.ping } else { st.peer_frames.settings },
                            st.connections_opened
                        )
                    })
                    .collect(),
                    connect_us: Pcts::of(&st.connect),
                    handshake_us: Pcts::of(&st.handshake),
                    connect_hist: StoredHist(st.connect.clone()),
                    handshake_hist: StoredHist(st.handshake.clone()),
                },
                pacing: PacingJson {
                    late_starts: st.late_starts,
                    max_lag_us: st.max_lag_us,
                    not_sent: st.not_sent,
                    cancelled: st.cancelled,
                    plan: l
                        .plan
                        .map(|f| PlanKeptJson::new(f.planned, f.sent, measured_s)),
                },
                requests,
                timeline,
                alt_svc: l.alt_svc.clone(),
                clock: Some(clock),
            }
        })
        .collect();
    ResultsFile {
        schema_version: SCHEMA_VERSION,
        meta: Meta {
            tool: "gauntlet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            commit: commit_from_env(),
            scenario: s.name.clone(),
            scenario_path: s.source.path.clone(),
            scenario_digest: s.source.digest.clone(),
            scenario_text: s.source.text.clone(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            started: rfc3339(o.started),
            finished: rfc3339(o.finished),
            duration_s: wall,
            measured_s,
            warmup_s: o.warmup.as_secs_f64(),
            model: match s.load.model {
                Model::Open { .. } => RunModel::Open,
                Model::Closed { .. } => RunModel::Closed,
            },
            threads: o.threads,
            interrupted: o.interrupted,
            insecure: s.tls.insecure,
            secrets_shown: false,
            slice_s: s.slice.as_secs_f64(),
            shard: s.shard,
            merged_shards: 0,
            stages: match &s.load.model {
                Model::Open { stages } => {
                    let mut t = 0.0;
                    stages
                        .iter()
                        .map(|st| {
                            let j = StageJson {
                                start_s: t,
                                duration_s: st.duration.as_secs_f64(),
                                rate_start: st.rate_start,
                                rate_end: st.rate_end,
                                warmup: st.warmup,
                            };
                            t += st.duration.as_secs_f64();
                            j
                        })
                        .collect()
                }
                Model::Closed { .. } => Vec::new(),
            },
        },
        lanes,
        comparison: None,
        gates: Vec::new(),
        differential: None,
        conformance: None,
        verdict: verdict.clone(),
    }
}

/// A request name's (or a whole lane's) figures over the measured time.
fn summary_of(r: &RequestStats, measured_s: f64) -> Summary {
    let errors = r.error_count();
    let mut by_class = BTreeMap::new();
    for ((class, _), n) in &r.errors {
        *by_class.entry(*class).or_default() += n;
    }
    Summary {
        count: r.count,
        ok: r.ok,
        errors,
        error_rate: if r.count == 0 {
            0.0
        } else {
            errors as f64 / r.count as f64
        },
        rps: if measured_s > 0.0 {
            r.count as f64 / measured_s
        } else {
            0.0
        },
        bytes: r.bytes,
        warmup: r.warmup,
        retried: r.retried,
        errors_by_class: by_class,
        statuses: r
            .statuses
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        latency_us: Pcts::of(&r.latency),
        latency_uncorrected_us: Pcts::of(&r.latency_uncorrected),
        ttfb_us: Pcts::of(&r.ttfb),
    }
}
