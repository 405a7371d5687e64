//! Probe ids named by a scenario or the command line, checked against the catalogue: a prefix
//! that selects nothing, or a quirk for a probe that does not exist, would silently judge nothing.
//! The catalogue is code in this layer, so the check runs here, after the scenario has loaded,
//! and reports at the scenario's own positions.

use super::probes;
use crate::scenario::diagnostic::did_you_mean;
use crate::scenario::probing::Quirks;
use crate::scenario::validate::hint_for;
use crate::scenario::{Scenario, ScenarioError};

fn ids() -> Vec<&'static str> {
    probes::all().iter().map(|p| p.id).collect()
}

/// Each `only` prefix that starts no probe id: its index, the message and a hint.
pub fn unknown_prefixes(only: &[String]) -> Vec<(usize, String, String)> {
    let ids = ids();
    only.iter()
        .enumerate()
        .filter(|(_, prefix)| !ids.iter().any(|id| id.starts_with(prefix.as_str())))
        .map(|(i, prefix)| {
            (
                i,
                format!("no probe id starts with `{prefix}`"),
                hint_for(prefix, &ids),
            )
        })
        .collect()
}

/// Fails on the first quirk whose probe does not exist, naming the file and the entry.
pub fn quirks(q: &Quirks) -> Result<(), String> {
    let ids = ids();
    for (i, quirk) in q.quirks.iter().enumerate() {
        if !ids.contains(&quirk.probe.as_str()) {
            let hint = match did_you_mean(&quirk.probe, &ids) {
                Some(id) => format!("did you mean `{id}`?"),
                None => "`gauntlet conformance --list` lists them".into(),
            };
            return Err(format!(
                "{}: quirks[{i}].probe: no probe `{}` ({hint})",
                q.file, quirk.probe
            ));
        }
    }
    Ok(())
}

/// Checks the probe ids of a loaded scenario's `conformance` section.
pub fn scenario(s: &Scenario) -> Result<(), ScenarioError> {
    let Some(c) = &s.conformance else {
        return Ok(());
    };
    let mut problems: Vec<(String, String, Option<String>)> = unknown_prefixes(&c.selection.only)
        .into_iter()
        .map(|(i, message, hint)| (format!("conformance.probes[{i}]"), message, Some(hint)))
        .collect();
    if let Err(e) = quirks(&c.quirks) {
        problems.push(("conformance.quirks".into(), e, None));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(s.source.invalid(problems))
    }
}
