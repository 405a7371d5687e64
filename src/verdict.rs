//! The run's verdict and exit code: 0 when everything held, 1 when a request failed a check or a
//! transport error occurred, 2 when the harness could not do what was asked (a target unreachable
//! on every connection), 130 when interrupted.

use serde::{Deserialize, Serialize};

use crate::compare::analyze::{analyze, AnalysisConfig};
use crate::compare::evaluate::{evaluate, show, GateResult, Roles};
use crate::engine::RunOutcome;
use crate::report::json::{self, ResultsFile};
use crate::scenario::Scenario;

/// The comparison configuration of a scenario's `compare` section.
pub fn analysis_config(s: &Scenario) -> Option<AnalysisConfig> {
    s.compare.as_ref().map(|c| AnalysisConfig {
        candidate: c.candidate.clone(),
        baseline: c.baseline.clone(),
        fairness: c.fairness.name().to_string(),
        slice_s: s.slice.as_secs_f64(),
        resamples: c.resamples,
        calibrate: c.calibrate,
        tolerance: c.tolerance,
        seed: s.seed,
    })
}

/// Everything a run produced, in its wire form: figures, comparison, differential, conformance
/// probes, gates and the verdict.
pub fn results(
    s: &Scenario,
    o: &RunOutcome,
    conformance: Option<crate::conformance::run::ConformanceJson>,
) -> ResultsFile {
    let placeholder = Verdict {
        passed: true,
        exit_code: code::OK,
        reasons: Vec::new(),
    };
    let mut r = json::build(s, o, &placeholder);
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
        r.comparison = Some(analyze(&cand, &base, &cfg));
    }
    r.differential = o.differential.clone();
    r.conformance = conformance;
    let differences = r
        .differential
        .as_ref()
        .map_or(0, |d| d.differences.len() as u64);
    let roles = Roles {
        candidate: s.compare.as_ref().map(|c| c.candidate.as_str()),
        baseline: s.compare.as_ref().map(|c| c.baseline.as_str()),
    };
    r.gates = evaluate(&s.gates, &r, &roles, differences);
    r.verdict = judge(o, &r.gates, !s.gates.is_empty());
    // Like failed requests: without gates any probe failure fails the run; with gates, a gate
    // such as `conformance.failures == 0` decides.
    if let Some(c) = r
        .conformance
        .as_ref()
        .filter(|c| c.failures > 0 && s.gates.is_empty())
    {
        r.verdict
            .reasons
            .push(format!("{} conformance failure(s)", c.failures));
        if r.verdict.exit_code == code::OK {
            r.verdict.exit_code = code::FAILED;
            r.verdict.passed = false;
        }
    }
    r
}

/// Exit codes, as documented in the README.
pub mod code {
    /// Everything passed.
    pub const OK: u8 = 0;
    /// A check failed.
    pub const FAILED: u8 = 1;
    /// The harness could not run as asked.
    pub const HARNESS: u8 = 2;
    /// Interrupted; partial results were written.
    pub const INTERRUPTED: u8 = 130;
}

/// The verdict of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Whether everything held.
    pub passed: bool,
    /// The process exit code.
    pub exit_code: u8,
    /// Why it did not pass, one line each.
    pub reasons: Vec<String>,
}

/// Judges a run. With gates, the gates decide whether failed requests matter (a gate such as
/// `candidate.error_rate < 0.1%` tolerates some); without gates, any failed request fails the run.
pub fn judge(o: &RunOutcome, gates: &[GateResult], have_gates: bool) -> Verdict {
    let mut reasons = Vec::new();
    let mut unreachable = false;
    for l in &o.lanes {
        let s = &l.stats;
        let name = format!("{} {}", l.target, l.protocol.as_str());
        if s.connections_opened == 0 && s.connections_failed > 0 {
            unreachable = true;
            let example = s
                .requests
                .iter()
                .flat_map(|r| r.error_examples.values())
                .next()
                .cloned()
                .unwrap_or_default();
            reasons.push(format!("{name}: no connection could be opened ({example})"));
            continue;
        }
        let t = s.total();
        let failed = t.error_count();
        if failed > 0 && !have_gates {
            let mut by_class: Vec<String> = Vec::new();
            for ((class, code), n) in &t.errors {
                by_class.push(format!("{} {}:{code}", n, class.as_str()));
            }
            reasons.push(format!(
                "{name}: {failed} of {} requests failed ({})",
                t.count,
                by_class.join(", ")
            ));
        }
        if t.count == 0 && !o.interrupted {
            reasons.push(format!("{name}: no request was measured"));
        }
    }
    for g in gates.iter().filter(|g| !g.passed) {
        let on = g
            .protocol
            .as_deref()
            .map(|p| format!(" over {p}"))
            .unwrap_or_default();
        let why = g
            .note
            .clone()
            .unwrap_or_else(|| format!("{} vs {}", show(&g.lhs), show(&g.rhs)));
        reasons.push(format!("gate `{}` failed{on}: {why}", g.gate));
    }
    let exit_code = if o.interrupted {
        reasons.insert(0, "interrupted".into());
        code::INTERRUPTED
    } else if unreachable {
        code::HARNESS
    } else if reasons.is_empty() {
        code::OK
    } else {
        code::FAILED
    };
    Verdict {
        passed: exit_code == code::OK,
        exit_code,
        reasons,
    }
}
