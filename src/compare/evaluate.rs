//! Checking gates against a run's results: each gate is evaluated once per protocol it covers,
//! and every evaluation is recorded with both sides' values.

use serde::{Deserialize, Serialize};

use super::analyze::ComparisonJson;
use super::gate::{Gate, MetricRef, Operand, Role, VerdictRef};
use super::metric::Metric;
use crate::report::json::{ResultsFile, Summary};

/// One evaluation of one gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateResult {
    /// The gate as written.
    pub gate: String,
    /// The protocol it was evaluated for.
    pub protocol: Option<String>,
    /// The left side's value.
    pub lhs: serde_json::Value,
    /// The right side's value.
    pub rhs: serde_json::Value,
    /// Whether it held.
    pub passed: bool,
    /// Why it could not be evaluated, when it could not (it then fails).
    pub note: Option<String>,
}

/// A gate value for people: numbers to four significant decimals, verdicts as words.
pub fn show(v: &serde_json::Value) -> String {
    match (v.as_f64(), v.as_str()) {
        (Some(x), _) if x.fract() != 0.0 => format!("{x:.4}").trim_end_matches('0').to_string(),
        (Some(x), _) => format!("{x}"),
        (None, Some(s)) => s.to_string(),
        _ => v.to_string(),
    }
}

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
    protocol: &str,
) -> Result<f64, String> {
    let target = match &m.role {
        Role::Candidate => roles.candidate.ok_or("no candidate")?,
        Role::Baseline => roles.baseline.ok_or("no baseline")?,
        Role::Target(t) => t.as_str(),
    };
    let protocol = m.protocol.map_or(protocol, |p| p.as_str());
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

fn verdict_value(
    c: Option<&ComparisonJson>,
    v: &VerdictRef,
    protocol: &str,
) -> Result<String, String> {
    let c = c.ok_or("the run compared no paths")?;
    let protocol = v.protocol.map_or(protocol, |p| p.as_str());
    c.verdicts
        .iter()
        .find(|row| {
            row.protocol == protocol && row.request == v.request && row.judgement.metric == v.metric
        })
        .map(|row| row.judgement.verdict.name().to_string())
        .ok_or_else(|| format!("no verdict on {} over {protocol}", v.metric.name()))
}

fn probed(r: &ResultsFile) -> Result<&crate::conformance::run::ConformanceJson, String> {
    r.conformance
        .as_ref()
        .ok_or_else(|| "no conformance probes ran (add a `conformance` section)".to_string())
}

fn value(
    r: &ResultsFile,
    roles: &Roles<'_>,
    o: &Operand,
    protocol: &str,
    differences: u64,
) -> Result<serde_json::Value, String> {
    Ok(match o {
        Operand::Number(n) => serde_json::json!(n),
        Operand::Metric(m, factor) => {
            serde_json::json!(metric_value(r, roles, m, protocol)? * factor)
        }
        Operand::Verdict(v) => {
            serde_json::json!(verdict_value(r.comparison.as_ref(), v, protocol)?)
        }
        Operand::VerdictName(v) => serde_json::json!(v.name()),
        Operand::Differences => serde_json::json!(differences),
        Operand::ConformanceFailures => serde_json::json!(probed(r)?.failures),
        Operand::ConformanceRegressions => serde_json::json!(probed(r)?.regressions),
    })
}

fn explicit_protocol(o: &Operand) -> Option<&'static str> {
    match o {
        Operand::Metric(m, _) => m.protocol.map(|p| p.as_str()),
        Operand::Verdict(v) => v.protocol.map(|p| p.as_str()),
        _ => None,
    }
}

/// Evaluates every gate; `differences` is the number of response differences found.
pub fn evaluate(
    gates: &[Gate],
    r: &ResultsFile,
    roles: &Roles<'_>,
    differences: u64,
) -> Vec<GateResult> {
    let mut protocols: Vec<String> = Vec::new();
    for l in &r.lanes {
        if !protocols.contains(&l.protocol) {
            protocols.push(l.protocol.clone());
        }
    }
    let mut out = Vec::new();
    for g in gates {
        let per_protocol = matches!(g.lhs, Operand::Metric(..) | Operand::Verdict(_))
            || matches!(g.rhs, Operand::Metric(..) | Operand::Verdict(_));
        let fixed = explicit_protocol(&g.lhs).or_else(|| explicit_protocol(&g.rhs));
        let over: Vec<Option<String>> = match (per_protocol, fixed) {
            (false, _) => vec![None],
            (true, Some(p)) => vec![Some(p.to_string())],
            (true, None) => protocols.iter().cloned().map(Some).collect(),
        };
        for p in over {
            let proto = p.clone().unwrap_or_default();
            let l = value(r, roles, &g.lhs, &proto, differences);
            let rr = value(r, roles, &g.rhs, &proto, differences);
            let (lhs, rhs, passed, note) = match (l, rr) {
                (Ok(a), Ok(b)) => {
                    let passed = match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => g.op.holds(x, y),
                        _ => g.op.holds(a.as_str(), b.as_str()),
                    };
                    (a, b, passed, None)
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
            out.push(GateResult {
                gate: g.text.clone(),
                protocol: p,
                lhs,
                rhs,
                passed,
                note,
            });
        }
    }
    out
}
