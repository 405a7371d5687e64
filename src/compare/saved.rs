//! `gauntlet compare BASE.json NEW.json`: the verdict machinery applied to two saved runs, such as
//! the main branch's last run against this commit's. The baseline is BASE's baseline path (or
//! its only target), the candidate NEW's candidate path (or its only target); the comparison
//! settings, gates and seed come from NEW's scenario. Given one two-path run twice, it reproduces
//! that run's verdicts exactly.

use super::analyze::{analyze, AnalysisConfig};
use super::evaluate::{evaluate, show, Roles};
use super::gate::{self, GateContext};
use crate::report::json::{LaneJson, ResultsFile};
use crate::scenario::model::ScenarioFile;
use crate::verdict::{code, Verdict};

fn side(r: &ResultsFile, role_name: Option<&str>) -> Result<(String, Vec<LaneJson>), String> {
    let name = match role_name {
        Some(n) => n.to_string(),
        None => r
            .lanes
            .first()
            .map(|l| l.target.clone())
            .ok_or("the results hold no lanes")?,
    };
    let lanes: Vec<LaneJson> = r
        .lanes
        .iter()
        .filter(|l| l.target == name)
        .cloned()
        .collect();
    if lanes.is_empty() {
        return Err(format!("no lanes for target `{name}`"));
    }
    Ok((name, lanes))
}

/// Renames a target used as the role of a reference (`name.p99` → `role.p99`), whole words only.
fn rename(text: &str, name: &str, role: &str) -> String {
    match regex::Regex::new(&format!(r"\b{}\.", regex::escape(name))) {
        Ok(re) => re.replace_all(text, format!("{role}.")).into_owned(),
        Err(_) => text.to_string(),
    }
}

/// Compares two saved runs; the result holds both paths (named `candidate` and `baseline`), the
/// comparison, the gates and the verdict.
pub fn compare(base: &ResultsFile, new: &ResultsFile) -> Result<ResultsFile, String> {
    let (base_name, mut base_lanes) =
        side(base, base.comparison.as_ref().map(|c| c.baseline.as_str()))?;
    let (cand_name, mut cand_lanes) =
        side(new, new.comparison.as_ref().map(|c| c.candidate.as_str()))?;
    let file: Option<ScenarioFile> = serde_saphyr::from_str(&new.meta.scenario_text).ok();
    let spec = file.as_ref().and_then(|f| f.compare.clone());
    let seed = file.as_ref().and_then(|f| f.seed).unwrap_or(1);
    let slice_s = new.comparison.as_ref().map_or(1.0, |c| c.slice_s);
    let same_run = base.meta.started == new.meta.started
        && base.meta.scenario_digest == new.meta.scenario_digest;
    let cfg = AnalysisConfig {
        candidate: "candidate".into(),
        baseline: "baseline".into(),
        fairness: if same_run {
            new.comparison
                .as_ref()
                .map_or_else(|| "separate runs".into(), |c| c.fairness.clone())
        } else {
            "separate runs".into()
        },
        slice_s,
        resamples: spec
            .as_ref()
            .and_then(|c| c.resamples)
            .unwrap_or(1000)
            .clamp(100, 100_000),
        calibrate: spec.as_ref().is_some_and(|c| c.calibrate),
        tolerance: spec.as_ref().and_then(|c| c.tolerance).map(|t| t.0),
        seed,
    };
    for l in &mut base_lanes {
        l.target = "baseline".into();
    }
    for l in &mut cand_lanes {
        l.target = "candidate".into();
    }
    let comparison = analyze(
        &cand_lanes.iter().collect::<Vec<_>>(),
        &base_lanes.iter().collect::<Vec<_>>(),
        &cfg,
    );
    let mut out = new.clone();
    out.lanes = cand_lanes;
    out.lanes.extend(base_lanes);
    out.comparison = Some(comparison);
    out.differential = None;
    // Gates from NEW's scenario, about the two roles; without gates, no metric may be worse.
    let texts: Vec<String> = match file
        .as_ref()
        .map(|f| f.gates.clone())
        .filter(|g| !g.is_empty())
    {
        Some(g) => g
            .into_iter()
            .filter(|g| !g.contains("differences"))
            .collect(),
        None => vec![
            "verdict(p50) != worse".into(),
            "verdict(p90) != worse".into(),
            "verdict(p99) != worse".into(),
            "verdict(error_rate) != worse".into(),
        ],
    };
    let mut protocols = Vec::new();
    for l in &out.lanes {
        if let Some(p) = [
            crate::proto::Protocol::H1,
            crate::proto::Protocol::H2,
            crate::proto::Protocol::H3,
        ]
        .into_iter()
        .find(|p| p.as_str() == l.protocol)
        {
            if !protocols.contains(&p) {
                protocols.push(p);
            }
        }
    }
    let requests: Vec<String> = out
        .lanes
        .first()
        .map(|l| l.requests.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let targets = vec!["candidate".to_string(), "baseline".to_string()];
    let ctx = GateContext {
        targets: &targets,
        has_roles: true,
        protocols: &protocols,
        requests: &requests,
    };
    let mut gates = Vec::new();
    for t in &texts {
        // A gate naming a target of the original run has no meaning here: say so, do not drop it.
        let text = rename(&rename(t, &cand_name, "candidate"), &base_name, "baseline");
        gates.push(gate::parse(&text, &ctx).map_err(|e| format!("gate `{t}`: {}", e.message))?);
    }
    out.gates = evaluate(
        &gates,
        &out,
        &Roles {
            candidate: Some("candidate"),
            baseline: Some("baseline"),
        },
        0,
    );
    let failed: Vec<String> = out
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| {
            format!(
                "gate `{}` failed{}: {} vs {}",
                g.gate,
                g.protocol
                    .as_deref()
                    .map(|p| format!(" over {p}"))
                    .unwrap_or_default(),
                show(&g.lhs),
                show(&g.rhs)
            )
        })
        .collect();
    out.verdict = Verdict {
        passed: failed.is_empty(),
        exit_code: if failed.is_empty() {
            code::OK
        } else {
            code::FAILED
        },
        reasons: failed,
    };
    Ok(out)
}
