//! Resolution of the `compare` section (roles, fairness, tolerance, differential) and of the
//! `gates`, each problem reported at its node with a hint.

use http::HeaderName;

use super::model::{FairnessName, ScenarioFile};
use super::validate::{hint_for, Checker};
use super::{Comparison, DifferentialOptions, Fairness, Request, Target};
use crate::model::Protocol;
use crate::scenario::gate::{self, Gate, GateContext};

/// Resolves `compare`, if present.
pub(super) fn resolve_compare(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    targets: &[Target],
) -> Option<Comparison> {
    let spec = f.compare.as_ref()?;
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    for (key, name) in [("candidate", &spec.candidate), ("baseline", &spec.baseline)] {
        if !f.targets.contains_key(name) {
            c.err(
                &format!("compare.{key}"),
                format!("no target named `{name}`"),
                Some(hint_for(name, &names)),
            );
        }
    }
    if spec.candidate == spec.baseline {
        c.err(
            "compare.baseline",
            "the baseline must be another target than the candidate",
            None,
        );
    }
    if let Some(t) = spec.tolerance {
        if !(t.0 > 0.0 && t.0 < 10.0) {
            c.err(
                "compare.tolerance",
                "the tolerance must be a fraction above zero, like `10%`",
                None,
            );
        }
    }
    let differential = match &spec.differential {
        Some(d) if d.enabled == Some(false) => None,
        d => {
            let d = d.clone().unwrap_or_default();
            let mut ignore = Vec::new();
            for (i, h) in d.ignore_headers.iter().enumerate() {
                match HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()) {
                    Ok(n) => ignore.push(n),
                    Err(_) => c.err(
                        &format!("compare.differential.ignore_headers[{i}]"),
                        format!("`{h}` is not a header name"),
                        None,
                    ),
                }
            }
            if d.samples == Some(0) {
                c.err(
                    "compare.differential.samples",
                    "at least one sample is needed (or `enabled: false`)",
                    None,
                );
            }
            Some(DifferentialOptions {
                samples: d.samples.unwrap_or(5).max(1),
                ignore_headers: ignore,
            })
        }
    };
    Some(Comparison {
        candidate: spec.candidate.clone(),
        baseline: spec.baseline.clone(),
        fairness: match spec.fairness {
            Some(FairnessName::Simultaneous) => Fairness::Simultaneous,
            _ => Fairness::Interleaved,
        },
        calibrate: spec.calibrate,
        tolerance: spec.tolerance.map(|t| t.0),
        resamples: spec.resamples.unwrap_or(1000).clamp(100, 100_000),
        allow_inconclusive: spec.allow_inconclusive,
        differential,
    })
}

/// Parses every gate against the scenario's targets, protocols and requests.
pub(super) fn resolve_gates(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    targets: &[Target],
    has_roles: bool,
    protocols: &[Protocol],
    requests: &[Request],
) -> Vec<Gate> {
    let target_names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let request_names: Vec<String> = requests.iter().map(|r| r.name.clone()).collect();
    let ctx = GateContext {
        targets: &target_names,
        has_roles,
        protocols,
        requests: &request_names,
    };
    let mut out = Vec::new();
    for (i, text) in f.gates.iter().enumerate() {
        match gate::parse(text, &ctx) {
            Ok(g) => out.push(g),
            Err(e) => c.err(&format!("gates[{i}]"), e.message, e.hint),
        }
    }
    out
}
