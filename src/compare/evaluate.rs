//! Checking gates against a run's results: each gate is evaluated once per protocol it covers,
//! and every evaluation is recorded with both sides' values. A gate on a verdict that meets
//! `inconclusive` fails closed (the run could not tell, so it cannot pass), saying how long a run
//! would have to be, unless inconclusive verdicts are explicitly allowed.

use crate::model::comparison::{show, ComparisonJson, GateResult, Judgement};
use crate::model::metric::{fmt_metric, Metric};
use crate::model::results::{ResultsFile, Summary};
use crate::model::Protocol;
use crate::scenario::gate::{Gate, MetricRef, Operand, Role, VerdictRef};

/// Names of the compared targets, if any.
pub struct Roles<'a> {
    /// Candidate target.
    pub candidate: Option<&'a str>,
    /// Baseline target.
    pub baseline: Option<&'a str>,
}

fn summary_value(s: &Summary, m: Metric) -> f64 {
    let l = &s.latency_us;
    match m {
        Metric::P50 => l.p50 as f64,
        Metric::P90 => l.p90 as f64,
        Metric::P95 => l.p95 as f64,
        Metric::P99 => l.p99 as f64,
        Metric::P999 => l.p999 as f64,
        Metric::Max => l.max as f64,
        Metric::Mean => l.mean,
        Metric::ErrorRate => s.error_rate,
        Metric::Rps => s.rps,
        Metric::Count => s.count as f64,
        Metric::Errors => s.errors as f64,
    }
}

fn metric_value(
    r: &ResultsFile,
    roles: &Roles<'_>,
    m: &MetricRef,
    protocol: Option<Protocol>,
) -> Result<f64, String> {
    let target = match &m.role {
        Role::Candidate => roles.candidate.ok_or("no candidate")?,
        Role::Baseline => roles.baseline.ok_or("no baseline")?,
        Role::Target(t) => t.as_str(),
    };
    let protocol = m.protocol.or(protocol).ok_or("no protocol")?;
    let lane = r
        .lanes
        .iter()
        .find(|l| l.target == target && l.protocol == protocol)
        .ok_or_else(|| format!("no results for {target} over {protocol}"))?;
    let summary = match &m.request {
        None => &lane.summary,
        Some(name) => {
            &lane
                .requests
                .iter()
                .find(|q| &q.name == name)
                .ok_or_else(|| format!("no request {name}"))?
                .summary
        }
    };
    Ok(summary_value(summary, m.metric))
}

fn verdict_row<'a>(
    c: Option<&'a ComparisonJson>,
    v: &VerdictRef,
    protocol: Option<Protocol>,
) -> Result<&'a crate::model::comparison::VerdictRow, String> {
    let c = c.ok_or("the run compared no paths")?;
    let protocol = v.protocol.or(protocol).ok_or("no protocol")?;
    c.verdicts
        .iter()
        .find(|row| {
            row.protocol == protocol && row.request == v.request && row.judgement.metric == v.metric
        })
        .ok_or_else(|| format!("no verdict on {} over {protocol}", v.metric.name()))
}

/// Why a verdict operand that came out inconclusive fails its gate: what the run lacked.
fn inconclusive_note(
    c: Option<&ComparisonJson>,
    o: &Operand,
    protocol: Option<Protocol>,
) -> Option<String> {
    let Operand::Verdict(v) = o else { return None };
    let row = verdict_row(c, v, protocol).ok()?;
    let j = &row.judgement;
    (j.verdict == crate::model::metric::Verdict::Inconclusive).then(|| {
        let why = j
            .note
            .clone()
            .unwrap_or_else(|| "the interval is too wide".into());
        let need = j
            .needed_s_per_side
            .map(|s| format!("; ≈ {} s per side needed", s.ceil()))
            .unwrap_or_default();
        format!(
            "{} over {} is inconclusive ({why}{need}): a verdict gate fails closed; allow it with \
             `compare.allow_inconclusive: true` or `--allow-inconclusive`",
            v.metric.name(),
            row.protocol
        )
    })
}

/// An estimate with its interval for people: `1.53× [1.40, 1.67]`, or in percentage points.
pub fn estimate_text(j: &Judgement) -> String {
    match (j.estimate, j.ci_low.zip(j.ci_high)) {
        (Some(e), Some((l, h))) if j.metric.judged_by_difference() => format!(
            "{:+.3} pp [{:+.3}, {:+.3}]",
            e * 100.0,
            l * 100.0,
            h * 100.0
        ),
        (Some(e), Some((l, h))) => format!("{e:.2}× [{l:.2}, {h:.2}]"),
        (Some(e), None) => format!("{e:.2}×"),
        _ => "no estimate".into(),
    }
}

fn metric_of(o: &Operand) -> Option<Metric> {
    match o {
        Operand::Metric(m, _) => Some(m.metric),
        _ => None,
    }
}

fn probed(r: &ResultsFile) -> Result<&crate::model::conformance::ConformanceJson, String> {
    r.conformance
        .as_ref()
        .ok_or_else(|| "no conformance probes ran (add a `conformance` section)".to_string())
}

fn value(
    r: &ResultsFile,
    roles: &Roles<'_>,
    o: &Operand,
    protocol: Option<Protocol>,
    differences: u64,
) -> Result<serde_json::Value, String> {
    Ok(match o {
        Operand::Number(n) => serde_json::json!(n),
        Operand::Metric(m, factor) => {
            serde_json::json!(metric_value(r, roles, m, protocol)? * factor)
        }
        Operand::Verdict(v) => serde_json::json!(verdict_row(r.comparison.as_ref(), v, protocol)?
            .judgement
            .verdict
            .name()),
        Operand::VerdictName(v) => serde_json::json!(v.name()),
        Operand::Differences => serde_json::json!(differences),
        Operand::ConformanceFailures => serde_json::json!(probed(r)?.failures),
        Operand::ConformanceRegressions => serde_json::json!(probed(r)?.regressions),
    })
}

fn explicit_protocol(o: &Operand) -> Option<Protocol> {
    match o {
        Operand::Metric(m, _) => m.protocol,
        Operand::Verdict(v) => v.protocol,
        _ => None,
    }
}

/// Evaluates every gate; `differences` is the number of response differences found;
/// `allow_inconclusive` lets a verdict gate pass on an inconclusive verdict.
pub fn evaluate(
    gates: &[Gate],
    r: &ResultsFile,
    roles: &Roles<'_>,
    differences: u64,
    allow_inconclusive: bool,
) -> Vec<GateResult> {
    let mut protocols: Vec<Protocol> = Vec::new();
    for l in &r.lanes {
        if !protocols.contains(&l.protocol) {
            protocols.push(l.protocol);
        }
    }
    let mut out = Vec::new();
    for g in gates {
        let per_protocol = matches!(g.lhs, Operand::Metric(..) | Operand::Verdict(_))
            || matches!(g.rhs, Operand::Metric(..) | Operand::Verdict(_));
        let fixed = explicit_protocol(&g.lhs).or_else(|| explicit_protocol(&g.rhs));
        let over: Vec<Option<Protocol>> = match (per_protocol, fixed) {
            (false, _) => vec![None],
            (true, Some(p)) => vec![Some(p)],
            (true, None) => protocols.iter().copied().map(Some).collect(),
        };
        for p in over {
            let proto = p;
            let l = value(r, roles, &g.lhs, proto, differences);
            let rr = value(r, roles, &g.rhs, proto, differences);
            let asks_inconclusive = [&g.lhs, &g.rhs].into_iter().any(|o| {
                matches!(o, Operand::VerdictName(v) if *v == crate::model::metric::Verdict::Inconclusive)
            });
            let mut undecided = false;
            let (lhs, rhs, passed, note) = match (l, rr) {
                (Ok(a), Ok(b)) => {
                    let passed = match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => g.op.holds(x, y),
                        _ => g.op.holds(a.as_str(), b.as_str()),
                    };
                    let closed = (!allow_inconclusive && !asks_inconclusive)
                        .then(|| {
                            inconclusive_note(r.comparison.as_ref(), &g.lhs, proto)
                                .or_else(|| inconclusive_note(r.comparison.as_ref(), &g.rhs, proto))
                        })
                        .flatten();
                    match closed {
                        Some(why) => {
                            undecided = true;
                            (a, b, false, Some(why))
                        }
                        None => (a, b, passed, None),
                    }
                }
                (a, b) => {
                    let note = [a.as_ref().err(), b.as_ref().err()]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ");
                    (
                        a.unwrap_or_default(),
                        b.unwrap_or_default(),
                        false,
                        Some(note),
                    )
                }
            };
            let unit = metric_of(&g.lhs).or_else(|| metric_of(&g.rhs));
            let side = |o: &Operand, v: &serde_json::Value| match (o, unit, v.as_f64()) {
                (Operand::Verdict(vr), _, _) => {
                    match verdict_row(r.comparison.as_ref(), vr, proto) {
                        Ok(row) => format!("{} ({})", show(v), estimate_text(&row.judgement)),
                        Err(_) => show(v),
                    }
                }
                (_, Some(m), Some(x)) => fmt_metric(m, Some(x)),
                _ => show(v),
            };
            out.push(GateResult {
                gate: g.text.clone(),
                protocol: p,
                shown: format!("{} vs {}", side(&g.lhs, &lhs), side(&g.rhs, &rhs)),
                lhs,
                rhs,
                passed,
                note,
                undecided,
            });
        }
    }
    out
}
