//! JSON Schemas, generated from the types themselves so they cannot drift: the scenario format
//! (for editors, through yaml-language-server) and `results.json` (for consumers of the results).
//! Both are committed under `schema/` and a test keeps the committed files equal to these.

use crate::model::results::ResultsFile;
use crate::scenario::model::ScenarioFile;

fn pretty(s: schemars::Schema) -> String {
    serde_json::to_string_pretty(&s).unwrap_or_default()
}

/// The schema of a scenario file.
pub fn scenario() -> String {
    pretty(schemars::schema_for!(ScenarioFile))
}

/// The schema of `results.json`.
pub fn results() -> String {
    pretty(schemars::schema_for!(ResultsFile))
}
