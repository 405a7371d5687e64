//! `gauntlet compare BASE.json NEW.json`: the verdict machinery applied to two saved runs, such as
//! the main branch's last run against this commit's. The baseline is BASE's baseline path (or,
//! with `--base-role candidate`, BASE's candidate path; or its only target), the candidate NEW's
//! candidate path (or its only target); the comparison
//! settings, gates and seed come from NEW's scenario. Given one two-path run twice, it reproduces
//! that run's verdicts exactly. Runs of another scenario, request mix, rate plan or protocol set
//! are refused, with what differs, unless forced (and then the report says so); the verdict
//! itself is reached by the same pipeline as a live run's.

use super::analyze::{analyze, AnalysisConfig};
use crate::model::comparison::Sharing;
use crate::model::results::{LaneJson, ResultsFile, Role};
use crate::scenario::gate::{self, Gate, GateContext};
use crate::scenario::model::ScenarioFile;

/// Two saved runs side by side, ready for the verdict pipeline.
pub struct Saved {
    /// Both paths (named `candidate` and `baseline`) and the comparison; no verdict yet.
    pub results: ResultsFile,
    /// NEW's gates, about the two roles.
    pub gates: Vec<Gate>,
    /// NEW's scenario lets verdict gates pass on `inconclusive`.
    pub allow_inconclusive: bool,
    /// The targets in the roles of candidate and baseline, when the results compare two paths.
    pub roles: Option<(String, String)>,
}

/// What makes two runs incomparable: each difference, said plainly.
pub fn differences(base: &ResultsFile, new: &ResultsFile) -> Vec<String> {
    let mut out = Vec::new();
    let (b, n) = (&base.meta, &new.meta);
    if b.scenario_digest != n.scenario_digest {
        out.push(format!(
            "scenario: {} ({}) vs {} ({})",
            b.scenario_path,
            &b.scenario_digest.get(..12).unwrap_or(&b.scenario_digest),
            n.scenario_path,
            &n.scenario_digest.get(..12).unwrap_or(&n.scenario_digest)
        ));
    }
    let mix = |r: &ResultsFile| -> Vec<(String, u32)> {
        let file: Option<ScenarioFile> = serde_saphyr::from_str(&r.meta.scenario_text).ok();
        let weights: Vec<u32> = file
            .map(|f| f.requests.iter().map(|q| q.weight.unwrap_or(1)).collect())
            .unwrap_or_default();
        r.lanes
            .first()
            .map(|l| {
                l.requests
                    .iter()
                    .enumerate()
                    .map(|(i, q)| (q.name.clone(), weights.get(i).copied().unwrap_or(1)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let show_mix = |m: &[(String, u32)]| {
        m.iter()
            .map(|(n, w)| format!("{n}×{w}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (mb, mn) = (mix(base), mix(new));
    if mb != mn {
        out.push(format!(
            "request mix: [{}] vs [{}]",
            show_mix(&mb),
            show_mix(&mn)
        ));
    }
    let plan = ResultsFile::plan_text;
    if base.meta.slice_s != new.meta.slice_s {
        out.push(format!(
            "slice length: {} s vs {} s",
            base.meta.slice_s, new.meta.slice_s
        ));
    }
    if plan(base) != plan(new) {
        out.push(format!("rate plan: {} vs {}", plan(base), plan(new)));
    }
    let protocols = |r: &ResultsFile| {
        let mut p: Vec<&str> = r.lanes.iter().map(|l| l.protocol.as_str()).collect();
        p.sort();
        p.dedup();
        p.join(",")
    };
    if protocols(base) != protocols(new) {
        out.push(format!(
            "protocols: {} vs {}",
            protocols(base),
            protocols(new)
        ));
    }
    out
}

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

/// Renames the targets used as roles in a reference (`name.p99` → `role.p99`), whole words
/// only, all in one pass: a target named like the other role (`candidate` as the baseline) is
/// not renamed twice.
fn rename_roles(text: &str, names: &[(&str, &str)]) -> String {
    let alternatives: Vec<String> = names.iter().map(|(n, _)| regex::escape(n)).collect();
    match regex::Regex::new(&format!(r"\b({})\.", alternatives.join("|"))) {
        Ok(re) => re
            .replace_all(text, |c: &regex::Captures| {
                let role = names
                    .iter()
                    .find(|(n, _)| *n == &c[1])
                    .map_or(&c[1], |(_, r)| *r);
                format!("{role}.")
            })
            .into_owned(),
        Err(_) => text.to_string(),
    }
}

/// Which path of a two-path BASE run a saved comparison takes as its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaseRole {
    /// BASE's baseline path (the legacy path a migration replaces).
    Baseline,
    /// BASE's candidate path (the main branch's proxy, against this change's).
    Candidate,
}

/// Compares two saved runs: both paths (named `candidate` and `baseline`), the comparison and
/// NEW's gates, for the verdict pipeline (`verdict::conclude`). Refuses runs that are not comparable unless
/// `force`.
pub fn compare(
    base: &ResultsFile,
    new: &ResultsFile,
    force: bool,
    base_role: BaseRole,
) -> Result<Saved, String> {
    let differ = differences(base, new);
    if !differ.is_empty() && !force {
        return Err(format!(
            "the runs are not comparable:\n  - {}\n(--force compares them anyway, and the report says so)",
            differ.join("\n  - ")
        ));
    }
    let (base_name, mut base_lanes) = side(
        base,
        base.comparison.as_ref().map(|c| match base_role {
            BaseRole::Baseline => c.baseline.as_str(),
            BaseRole::Candidate => c.candidate.as_str(),
        }),
    )?;
    let (cand_name, mut cand_lanes) =
        side(new, new.comparison.as_ref().map(|c| c.candidate.as_str()))?;
    let file: Option<ScenarioFile> = serde_saphyr::from_str(&new.meta.scenario_text).ok();
    let spec = file.as_ref().and_then(|f| f.compare.clone());
    let seed = file.as_ref().and_then(|f| f.seed).unwrap_or(1);
    // The slice length the runs recorded with: a rate over slices of another length is wrong.
    let slice_s = match (new.meta.slice_s, new.comparison.as_ref()) {
        (s, _) if s > 0.0 => s,
        (_, Some(c)) => c.slice_s,
        _ => 1.0,
    };
    let same_run = base.meta.started == new.meta.started
        && base.meta.scenario_digest == new.meta.scenario_digest;
    let cfg = AnalysisConfig {
        candidate: "candidate".into(),
        baseline: "baseline".into(),
        fairness: if same_run {
            new.comparison
                .as_ref()
                .map_or(Sharing::SeparateRuns, |c| c.fairness)
        } else {
            Sharing::SeparateRuns
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
        l.role = Some(Role::Baseline);
    }
    for l in &mut cand_lanes {
        l.target = "candidate".into();
        l.role = Some(Role::Candidate);
    }
    let mut comparison = analyze(
        &cand_lanes.iter().collect::<Vec<_>>(),
        &base_lanes.iter().collect::<Vec<_>>(),
        &cfg,
    )?;
    comparison.forced = differ;
    let mut out = new.clone();
    out.lanes = cand_lanes;
    out.lanes.extend(base_lanes);
    out.comparison = Some(comparison);
    out.differential = None;
    // Gates from NEW's scenario, about the two roles; without gates, the pipeline's default
    // rules judge the headline metrics.
    let texts: Vec<String> = file
        .as_ref()
        .map(|f| f.gates.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|g| !g.contains("differences"))
        .collect();
    let mut protocols = Vec::new();
    for l in &out.lanes {
        if !protocols.contains(&l.protocol) {
            protocols.push(l.protocol);
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
    // The gates are NEW's, so they name NEW's baseline target (BASE's target when NEW had one).
    let gate_base = new
        .comparison
        .as_ref()
        .map_or(base_name.as_str(), |c| c.baseline.as_str());
    let mut gates = Vec::new();
    for t in &texts {
        // A gate naming a target of the original run has no meaning here: say so, do not drop it.
        let text = rename_roles(t, &[(&cand_name, "candidate"), (gate_base, "baseline")]);
        gates.push(gate::parse(&text, &ctx).map_err(|e| format!("gate `{t}`: {}", e.message))?);
    }
    Ok(Saved {
        results: out,
        gates,
        allow_inconclusive: spec.as_ref().is_some_and(|c| c.allow_inconclusive),
        roles: Some(("candidate".into(), "baseline".into())),
    })
}

/// A run judged again from its own figures, such as shards added by `gauntlet merge`: the
/// comparison made again from the added slices with the settings the run had, and the gates of
/// its scenario, for the verdict pipeline. The verdict cannot differ from what a live run of the
/// same figures would have reached.
pub fn rejudge(mut r: ResultsFile) -> Result<Saved, String> {
    let file: ScenarioFile = serde_saphyr::from_str(&r.meta.scenario_text)
        .map_err(|e| format!("the scenario kept in the results does not read: {e}"))?;
    let spec = file.compare.clone();
    let mut roles = None;
    if let Some(prev) = r.comparison.take() {
        let cfg = AnalysisConfig {
            candidate: prev.candidate.clone(),
            baseline: prev.baseline.clone(),
            fairness: prev.fairness,
            slice_s: prev.slice_s,
            resamples: prev.resamples,
            calibrate: !prev.calibration.is_empty(),
            tolerance: spec.as_ref().and_then(|c| c.tolerance).map(|t| t.0),
            seed: file.seed.unwrap_or(1),
        };
        let pick = |name: &str| -> Vec<&LaneJson> {
            r.lanes.iter().filter(|l| l.target == name).collect()
        };
        let comparison = analyze(&pick(&cfg.candidate), &pick(&cfg.baseline), &cfg)?;
        roles = Some((prev.candidate, prev.baseline));
        r.comparison = Some(comparison);
    }
    let mut targets: Vec<String> = Vec::new();
    let mut protocols = Vec::new();
    for l in &r.lanes {
        if !targets.contains(&l.target) {
            targets.push(l.target.clone());
        }
        if !protocols.contains(&l.protocol) {
            protocols.push(l.protocol);
        }
    }
    let requests: Vec<String> = r
        .lanes
        .first()
        .map(|l| l.requests.iter().map(|q| q.name.clone()).collect())
        .unwrap_or_default();
    let ctx = GateContext {
        targets: &targets,
        has_roles: roles.is_some(),
        protocols: &protocols,
        requests: &requests,
    };
    let gates = file
        .gates
        .iter()
        .map(|t| gate::parse(t, &ctx).map_err(|e| format!("gate `{t}`: {}", e.message)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Saved {
        results: r,
        gates,
        allow_inconclusive: spec.as_ref().is_some_and(|c| c.allow_inconclusive),
        roles,
    })
}

#[cfg(test)]
mod rename_tests {
    use super::rename_roles;

    #[test]
    fn roles_are_renamed_in_one_pass() {
        // BASE's candidate as the baseline: `candidate.` must not become `baseline.` twice over.
        let names = [("candidate", "candidate"), ("legacy", "baseline")];
        assert_eq!(
            rename_roles("candidate.p50 <= legacy.p50 * 5", &names),
            "candidate.p50 <= baseline.p50 * 5"
        );
        let swapped = [("new", "candidate"), ("candidate", "baseline")];
        assert_eq!(
            rename_roles("new.p99 < candidate.p99 && mycandidate.x", &swapped),
            "candidate.p99 < baseline.p99 && mycandidate.x"
        );
    }
}
