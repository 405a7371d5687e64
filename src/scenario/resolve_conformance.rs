//! Resolution of the `conformance` section: the recording origin's address, the quirks file and
//! reload commands for targets that do not exist are reported at their node. Probe ids, in
//! `probes` and in the quirks file, are checked against the catalogue by `conformance::check`.

use std::path::Path;
use std::time::Duration;

use super::model::ScenarioFile;
use super::probing::{Quirks, Selection};
use super::validate::{hint_for, Checker};
use super::ConformanceOptions;

/// The probe step deadline when the scenario names none.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves `conformance`, if present.
pub(super) fn resolve(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    dir: &Path,
) -> Option<ConformanceOptions> {
    let spec = f.conformance.as_ref()?;
    let selection = Selection {
        suites: spec.suites.clone().unwrap_or_default(),
        only: spec.probes.clone(),
    };
    let origin = spec.origin.as_ref().and_then(|o| match o.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            c.err(
                "conformance.origin",
                format!("`{o}` is not an address"),
                Some("write it as `127.0.0.1:19090`".into()),
            );
            None
        }
    });
    let quirks = match &spec.quirks {
        Some(q) => match Quirks::load(&dir.join(q)) {
            Ok(q) => q,
            Err(e) => {
                c.err("conformance.quirks", e, None);
                Quirks::default()
            }
        },
        None => Quirks::default(),
    };
    let names: Vec<&str> = f.targets.keys().map(String::as_str).collect();
    for name in spec.reload.keys() {
        if !f.targets.contains_key(name) {
            c.err_key(
                &format!("conformance.reload.{name}"),
                format!("no target named `{name}`"),
                Some(hint_for(name, &names)),
            );
        }
    }
    if spec.timeout.is_some_and(|t| t.is_zero()) {
        c.err("conformance.timeout", "must be longer than zero", None);
    }
    Some(ConformanceOptions {
        selection,
        origin,
        quirks,
        policy: spec.policy.unwrap_or_default(),
        reload: spec.reload.clone(),
        timeout: spec.timeout.unwrap_or(DEFAULT_PROBE_TIMEOUT),
    })
}
