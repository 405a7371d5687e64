//! The run's verdict and exit code, reached through one pipeline ([`conclude`]) whatever produced
//! the results: 0 when everything held, 1 when a check failed, 2 when the harness could not do
//! what was asked, 3 when a comparison without gates could not tell, 130 when interrupted.

use crate::compare::analyze::{analyze, AnalysisConfig, HEADLINE};
use crate::compare::evaluate::{estimate_text, evaluate, Roles};
use crate::engine::results::build;
use crate::engine::RunOutcome;
use crate::model::comparison::VerdictRow;
use crate::model::metric::Metric;
use crate::model::metric::Verdict as GateVerdict;
use crate::model::results::ResultsFile;
use crate::model::verdict::{code, Verdict};
use crate::scenario::gate::Gate;
use crate::scenario::Scenario;

/// The comparison configuration of a scenario's `compare` section.
pub fn analysis_config(s: &Scenario) -> Option<AnalysisConfig> {
    s.compare.as_ref().map(|c| AnalysisConfig {
        candidate: c.candidate.clone(),
        baseline: c.baseline.clone(),
        fairness: c.fairness.into(),
        slice_s: s.slice.as_secs_f64(),
        resamples: c.resamples,
        calibrate: c.calibrate,
        tolerance: c.tolerance,
        seed: s.seed,
    })
}

/// Everything a run produced, in its wire form: figures, comparison, differential, conformance
/// probes, gates and the verdict. `harness` holds faults of the harness met on the way (a client
/// thread that panicked).
pub fn results(
    s: &Scenario,
    o: &RunOutcome,
    conformance: Option<crate::model::conformance::ConformanceJson>,
    harness: Vec<String>,
    allow_inconclusive: bool,
) -> ResultsFile {
    let mut r = build(s, o, &Verdict::default());
    let mut harness = harness;
    if let Some(cfg) = analysis_config(s) {
        let cand: Vec<_> = r
            .lanes
            .iter()
            .filter(|l| l.target == cfg.candidate)
            .collect();
        let base: Vec<_> = r
            .lanes
            .iter()
            .filter(|l| l.target == cfg.baseline)
            .collect();
        match analyze(&cand, &base, &cfg) {
            Ok(c) => r.comparison = Some(c),
            Err(e) => harness.push(format!("the comparison could not be made: {e}")),
        }
    }
    r.differential = o.differential.clone();
    r.conformance = conformance;
    let differences = r
        .differential
        .as_ref()
        .map_or(0, |d| d.differences.len() as u64);
    let allow = allow_inconclusive || s.compare.as_ref().is_some_and(|c| c.allow_inconclusive);
    conclude(
        &mut r,
        Rules {
            gates: &s.gates,
            roles: Roles {
                candidate: s.compare.as_ref().map(|c| c.candidate.as_str()),
                baseline: s.compare.as_ref().map(|c| c.baseline.as_str()),
            },
            differences,
            allow_inconclusive: allow,
            harness,
        },
    );
    r
}

/// What a verdict is reached from, beside the results themselves.
pub struct Rules<'a> {
    /// The gates; without any, the default rules below decide.
    pub gates: &'a [Gate],
    /// Which targets are the candidate and the baseline.
    pub roles: Roles<'a>,
    /// Response differences found (for `differences == 0`).
    pub differences: u64,
    /// Let verdict gates pass on `inconclusive`.
    pub allow_inconclusive: bool,
    /// Faults of the harness met while producing the results.
    pub harness: Vec<String>,
}

/// How one judged row reads in a reason: `p99 over h1: 1.25× [1.12, 1.40]`.
fn row_text(row: &VerdictRow) -> String {
    let j = &row.judgement;
    format!(
        "{} over {}: {}",
        j.metric.name(),
        row.protocol,
        estimate_text(j)
    )
}

fn needed(row: &VerdictRow) -> String {
    let j = &row.judgement;
    let why = j.note.clone().map(|n| format!("{n}; ")).unwrap_or_default();
    match j.needed_s_per_side {
        Some(s) => format!("{why}≈ {} s per side needed", s.ceil()),
        None => format!("{why}run longer"),
    }
}

/// What the client did not do as planned: arrivals it never sent, requests cut off at the end.
/// Neither is the target's fault, but both leave the figures short of the plan.
fn pacing_warnings(name: &str, l: &crate::model::results::LaneJson) -> Vec<String> {
    let p = &l.pacing;
    let mut out = Vec::new();
    if let Some(k) = p.plan.filter(|k| k.short()) {
        out.push(format!(
            "{name}: {}; the client could not keep up, so the target saw less load than planned",
            k.describe()
        ));
    }
    if p.not_sent > 0 {
        out.push(format!(
            "{name}: {} planned requests were never sent (the client fell behind by up to {}); the figures cover only the {} measured",
            p.not_sent,
            crate::model::metric::fmt_us(p.max_lag_us),
            l.summary.count
        ));
    }
    if p.cancelled > 0 {
        out.push(format!(
            "{name}: {} requests still in flight at the end of the run were cancelled; they are neither errors nor in the latency figures",
            p.cancelled
        ));
    }
    out
}

/// The one verdict pipeline. A live run, two saved runs (`gauntlet compare`), merged shards and a
/// probe-only run all reach their gates, verdict and exit code here. Evaluates the gates into
/// `r.gates` and sets `r.verdict`.
///
/// Exit codes, strongest first: 130 interrupted; 2 the harness could not do what was asked (a
/// target unreachable on every connection, every probe of a path unable to run, a damaged input,
/// a client thread lost); 1 a gate failed, or, without gates, a request failed, a probe failed
/// or a headline metric (all requests, per protocol: p50, p99, error rate) was judged `worse`;
/// 3 without gates, p50 or the error rate of a comparison was inconclusive (the run was too
/// short or too noisy to tell); else 0. Inconclusive tail metrics are warnings.
pub fn conclude(r: &mut ResultsFile, rules: Rules<'_>) {
    let mut failed = Vec::new();
    let mut harness = rules.harness;
    let mut undecided = Vec::new();
    let mut warnings = Vec::new();
    let have_gates = !rules.gates.is_empty();
    let interrupted = r.meta.interrupted || r.conformance.as_ref().is_some_and(|c| c.interrupted);
    for l in &r.lanes {
        let name = format!("{} {}", l.target, l.protocol);
        let s = &l.summary;
        if l.connections.opened == 0 && l.connections.failed > 0 {
            let example = l
                .requests
                .iter()
                .flat_map(|q| q.errors.iter().map(|e| e.example.clone()))
                .next()
                .unwrap_or_default();
            harness.push(format!("{name}: no connection could be opened ({example})"));
            continue;
        }
        if s.errors > 0 && !have_gates {
            let mut by_class: Vec<String> = Vec::new();
            for q in l.requests.iter().filter(|q| !q.flow) {
                for e in &q.errors {
                    by_class.push(format!("{} {}:{}", e.count, e.class, e.code));
                }
            }
            failed.push(format!(
                "{name}: {} of {} requests failed ({})",
                s.errors,
                s.count,
                by_class.join(", ")
            ));
        }
        if s.count == 0 && !interrupted {
            failed.push(format!("{name}: no request was measured"));
        }
        warnings.extend(pacing_warnings(&name, l));
    }
    if let Some(c) = &r.conformance {
        for p in &c.paths {
            if let Some(e) = &p.error {
                harness.push(format!("{}: {e}", p.name));
            }
        }
        if c.failures > 0 && !have_gates {
            failed.push(format!("{} conformance failure(s)", c.failures));
        }
    }
    if let Some(c) = &r.comparison {
        for row in c.verdicts.iter().filter(|v| v.request.is_none()) {
            let m = row.judgement.metric;
            let headline = HEADLINE.contains(&m);
            match row.judgement.verdict {
                GateVerdict::Worse if headline && !have_gates => failed.push(format!(
                    "{} is worse, beyond the ±{:.0}% tolerance",
                    row_text(row),
                    row.judgement.tolerance * 100.0
                )),
                GateVerdict::Inconclusive
                    if !have_gates && matches!(m, Metric::P50 | Metric::ErrorRate) =>
                {
                    undecided.push(format!(
                        "{} is inconclusive ({})",
                        row_text(row),
                        needed(row)
                    ))
                }
                GateVerdict::Inconclusive if m != Metric::Rps => warnings.push(format!(
                    "{} is inconclusive ({})",
                    row_text(row),
                    needed(row)
                )),
                _ => {}
            }
        }
    }
    r.gates = evaluate(
        rules.gates,
        r,
        &rules.roles,
        rules.differences,
        rules.allow_inconclusive,
    );
    for g in r.gates.iter().filter(|g| !g.passed) {
        let on = g
            .protocol
            .map(|p| p.as_str())
            .map(|p| format!(" over {p}"))
            .unwrap_or_default();
        let why = g.note.clone().unwrap_or_else(|| g.shown.clone());
        failed.push(format!("gate `{}` failed{on}: {why}", g.gate));
    }
    let (exit_code, mut reasons) = if interrupted {
        (
            code::INTERRUPTED,
            vec!["interrupted; the partial results are kept".to_string()],
        )
    } else if !harness.is_empty() {
        (code::HARNESS, std::mem::take(&mut harness))
    } else if !failed.is_empty() {
        (code::FAILED, std::mem::take(&mut failed))
    } else if !undecided.is_empty() {
        (code::INCONCLUSIVE, std::mem::take(&mut undecided))
    } else {
        (code::OK, Vec::new())
    };
    // What did not decide the exit code is still said.
    reasons.extend(harness);
    reasons.extend(failed);
    reasons.extend(undecided);
    r.verdict = Verdict {
        passed: exit_code == code::OK,
        exit_code,
        reasons,
        warnings,
    };
}
