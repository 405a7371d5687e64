//! The series gauntlet exports, computed from the live figures at the moment of a scrape or a
//! push: request, response and error counters by target, role, protocol and request; latency as
//! Prometheus histograms with buckets chosen for latency; in-flight requests; the planned and
//! achieved rates, late starts and connections per lane.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::engine::Live;
use crate::model::hist::Hist;

/// Latency bucket bounds, seconds: 0.25 ms to 60 s, about three per decade.
pub const BUCKETS: [f64; 17] = [
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];

/// How a family is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, sum and count.
    Histogram,
}

/// One sample's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A counter or gauge.
    Number(f64),
    /// Buckets (upper bound in seconds, count above the bound before), sum in seconds,
    /// count; the last bound is +∞, so the counts add up to `count`.
    Histogram {
        /// Per-bucket counts, not cumulative (the exposition adds them up).
        buckets: Vec<(f64, u64)>,
        /// Sum of the observations, seconds.
        sum: f64,
        /// Observations.
        count: u64,
    },
}

/// Label pairs.
pub type Labels = Vec<(String, String)>;

/// A metric family: its base name (counters get `_total` on the wire), help, type, samples.
#[derive(Debug, Clone)]
pub struct Family {
    /// Base name.
    pub name: &'static str,
    /// Help text.
    pub help: &'static str,
    /// Type.
    pub kind: Kind,
    /// Samples.
    pub samples: Vec<(Labels, Value)>,
}

/// What every series says about the run, and how the planned rate goes.
pub struct Context {
    /// Labels on every series: `run`, and `shard` for a shard.
    pub common: Labels,
    /// The planned rate per lane at a time since the plan's start (open model).
    pub planned_rate: Box<dyn Fn(Duration) -> Option<f64> + Send + Sync>,
    /// The last totals seen, for the achieved rate.
    last: Mutex<Option<(Instant, Vec<u64>)>>,
    /// The scenario, when the verdict so far is wanted (two paths compared).
    scenario: Option<std::sync::Arc<crate::scenario::Scenario>>,
    /// The latest results so far.
    pub so_far: super::so_far::SoFar,
}

impl Context {
    /// A context with these common labels and planned rate.
    pub fn new(
        common: Labels,
        planned_rate: Box<dyn Fn(Duration) -> Option<f64> + Send + Sync>,
    ) -> Self {
        Context {
            common,
            planned_rate,
            last: Mutex::new(None),
            scenario: None,
            so_far: Default::default(),
        }
    }

    /// The context of a run of `s`: its name (and shard) on every series, its open-model plan.
    pub fn for_scenario(s: std::sync::Arc<crate::scenario::Scenario>) -> Self {
        let mut common: Labels = vec![("run".into(), s.name.clone())];
        if let Some(sh) = s.shard {
            common.push(("shard".into(), sh.to_string()));
        }
        // Each lane's share of the plan's rate: a shard takes 1/N of the arrivals, and paths
        // sharing one arrival stream half each.
        let mut share = s.shard.map_or(1.0, |sh| 1.0 / f64::from(sh.count));
        let interleaved = match s.compare.as_ref().map(|c| c.fairness) {
            Some(crate::scenario::Fairness::Simultaneous) => {
                share /= 2.0;
                false
            }
            Some(crate::scenario::Fairness::Interleaved) => true,
            None => false,
        };
        let stages = match &s.load.model {
            crate::scenario::Model::Open { stages } => stages.clone(),
            crate::scenario::Model::Closed { .. } => Vec::new(),
        };
        let planned = move |wall: Duration| {
            // Interleaved paths take turns: a lane's own clock runs at half the wall's.
            let mut t = wall.as_secs_f64() / if interleaved { 2.0 } else { 1.0 };
            for st in &stages {
                let d = st.duration.as_secs_f64();
                if t < d {
                    let r = st.rate_start + (st.rate_end - st.rate_start) * t / d;
                    return Some(r * share);
                }
                t -= d;
            }
            None
        };
        let mut ctx = Context::new(common, Box::new(planned));
        if s.compare.is_some() {
            ctx.scenario = Some(s.clone());
        }
        ctx
    }

    /// Completed requests per second per lane since the last call at least a second ago.
    fn achieved(&self, totals: &[u64]) -> Vec<f64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let rates = match last.as_ref() {
            Some((t, prev)) if prev.len() == totals.len() => {
                let dt = now.duration_since(*t).as_secs_f64().max(1e-3);
                totals
                    .iter()
                    .zip(prev)
                    .map(|(a, b)| a.saturating_sub(*b) as f64 / dt)
                    .collect()
            }
            _ => vec![0.0; totals.len()],
        };
        let stale = last
            .as_ref()
            .is_none_or(|(t, _)| now.duration_since(*t) >= Duration::from_secs(1));
        if stale {
            *last = Some((now, totals.to_vec()));
        }
        rates
    }
}

fn status_class(code: u16) -> String {
    format!("{}xx", code / 100)
}

/// Per-bucket counts, sum and count of a µs histogram, in seconds.
pub fn buckets_of(h: &Hist) -> Value {
    let mut below = 0;
    let mut buckets: Vec<(f64, u64)> = BUCKETS
        .iter()
        .map(|b| {
            let upto = h.count_between(0, (b * 1e6) as u64);
            let n = upto - below;
            below = upto;
            (*b, n)
        })
        .collect();
    buckets.push((f64::INFINITY, h.len() - below));
    Value::Histogram {
        buckets,
        sum: h.mean() * h.len() as f64 / 1e6,
        count: h.len(),
    }
}

/// Every family, from the live figures now.
pub fn collect(live: &Live, ctx: &Context) -> Vec<Family> {
    let lanes = live.lanes.get().cloned().unwrap_or_default();
    let figures = live.figures();
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    let mut errors = Vec::new();
    let mut latency = Vec::new();
    let mut late = Vec::new();
    let mut conns = Vec::new();
    let mut planned = Vec::new();
    let mut achieved = Vec::new();
    let with = |base: &Labels, more: &[(&str, String)]| -> Labels {
        let mut l = ctx.common.clone();
        l.extend(base.iter().cloned());
        l.extend(more.iter().map(|(k, v)| (k.to_string(), v.clone())));
        l
    };
    let elapsed = live.t0.get().map(|t| t.elapsed());
    let totals: Vec<u64> = figures.iter().map(|f| f.total().count).collect();
    let rates = ctx.achieved(&totals);
    for (i, (info, st)) in lanes.iter().zip(&figures).enumerate() {
        let lane: Labels = vec![
            ("target".into(), info.target.clone()),
            (
                "role".into(),
                info.role
                    .map_or(String::new(), |r| format!("{r:?}").to_lowercase()),
            ),
            ("protocol".into(), info.protocol.as_str().into()),
        ];
        late.push((with(&lane, &[]), Value::Number(st.late_starts as f64)));
        conns.push((
            with(&lane, &[]),
            Value::Number(st.connections_opened as f64),
        ));
        if let Some(rate) = elapsed.and_then(|e| (ctx.planned_rate)(e)) {
            planned.push((with(&lane, &[]), Value::Number(rate)));
        }
        achieved.push((with(&lane, &[]), Value::Number(rates[i])));
        for (name, q) in info.requests.iter().zip(&st.requests) {
            let r = [("request", name.clone())];
            let failed = q.count.saturating_sub(q.ok);
            for (outcome, n) in [("ok", q.ok), ("failed", failed)] {
                let l = with(&lane, &[r[0].clone(), ("outcome", outcome.into())]);
                requests.push((l, Value::Number(n as f64)));
            }
            let mut by_class = std::collections::BTreeMap::<String, u64>::new();
            for (code, n) in &q.statuses {
                *by_class.entry(status_class(*code)).or_default() += n;
            }
            for (class, n) in by_class {
                let l = with(&lane, &[r[0].clone(), ("status_class", class)]);
                responses.push((l, Value::Number(n as f64)));
            }
            let mut by_error = std::collections::BTreeMap::<String, u64>::new();
            for ((class, _), n) in &q.errors {
                *by_error.entry(class.to_string()).or_default() += n;
            }
            for (class, n) in by_error {
                let l = with(&lane, &[r[0].clone(), ("class", class)]);
                errors.push((l, Value::Number(n as f64)));
            }
            latency.push((with(&lane, &r), buckets_of(&q.latency)));
        }
    }
    let verdicts = verdict_so_far(live, ctx);
    let inflight = live
        .inflight
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(0);
    vec![
        family(
            "gauntlet_requests",
            "Measured requests completed, by outcome (ok: passed every check).",
            Kind::Counter,
            requests,
        ),
        family(
            "gauntlet_responses",
            "Measured responses by status class.",
            Kind::Counter,
            responses,
        ),
        family(
            "gauntlet_errors",
            "Measured requests that failed, by error class.",
            Kind::Counter,
            errors,
        ),
        family(
            "gauntlet_request_duration_seconds",
            "Latency from the intended start (coordinated-omission corrected).",
            Kind::Histogram,
            latency,
        ),
        family(
            "gauntlet_in_flight",
            "Requests in flight, every lane together.",
            Kind::Gauge,
            vec![(ctx.common.clone(), Value::Number(inflight as f64))],
        ),
        family(
            "gauntlet_planned_rate",
            "Requests per second the plan asks of a lane now (open model).",
            Kind::Gauge,
            planned,
        ),
        family(
            "gauntlet_achieved_rate",
            "Requests per second a lane completed over the last second or so.",
            Kind::Gauge,
            achieved,
        ),
        family(
            "gauntlet_late_starts",
            "Requests that started more than 1 ms after their planned time.",
            Kind::Counter,
            late,
        ),
        family(
            "gauntlet_connections_opened",
            "Connections opened.",
            Kind::Counter,
            conns,
        ),
        family(
            "gauntlet_verdict_so_far",
            "1 for the verdict a comparison reaches on the figures so far, per protocol and headline metric (remade every few seconds).",
            Kind::Gauge,
            verdicts,
        ),
    ]
}

/// The verdicts of the comparison so far on all requests, as a state set: one series per
/// verdict word, 1 for the current one.
fn verdict_so_far(live: &Live, ctx: &Context) -> Vec<(Labels, Value)> {
    let Some(s) = ctx.scenario.as_deref() else {
        return Vec::new();
    };
    let Some(c) = ctx.so_far.get(s, live).and_then(|r| r.comparison.clone()) else {
        return Vec::new();
    };
    let words = ["better", "same", "worse", "inconclusive"];
    let mut out = Vec::new();
    for v in c.verdicts.iter().filter(|v| v.request.is_none()) {
        let now = v.judgement.verdict.name();
        for w in words {
            let mut l = ctx.common.clone();
            l.push(("protocol".into(), v.protocol.to_string()));
            l.push(("metric".into(), v.judgement.metric.name().to_string()));
            l.push(("verdict".into(), w.to_string()));
            out.push((l, Value::Number(if now == w { 1.0 } else { 0.0 })));
        }
    }
    out
}

fn family(
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Labels, Value)>,
) -> Family {
    Family {
        name,
        help,
        kind,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hist;

    #[test]
    fn buckets_count_every_sample_once() {
        let mut h = hist::new_hist();
        for us in [100, 800, 3_000, 40_000, 2_000_000] {
            hist::record_us(&mut h, us);
        }
        let Value::Histogram {
            buckets,
            count,
            sum,
        } = buckets_of(&h)
        else {
            panic!()
        };
        assert_eq!(count, 5);
        assert!((sum - 2.0439).abs() < 0.01, "{sum}");
        let at = |b: f64| {
            buckets
                .iter()
                .take_while(|(x, _)| *x <= b)
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        assert_eq!(at(0.00025), 1);
        assert_eq!(at(0.001), 2);
        assert_eq!(at(0.005), 3);
        assert_eq!(at(0.05), 4);
        assert_eq!(at(2.5), 5);
        assert_eq!(at(f64::INFINITY), 5);
        assert_eq!(buckets.last().unwrap().0, f64::INFINITY);
    }
}
