//! The file's model of flows (multi-step sessions), exactly as written: what a step captures
//! from its response, the data file that feeds variables, and the generators.

use serde::Deserialize;

/// One variable a step takes from its response. Give exactly one source: `header`, `json`,
/// `regex` (over the body) or `status`; `regex` may also narrow a `header`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// Take this response header's (first) value.
    #[serde(default)]
    pub header: Option<String>,
    /// Take the value at this JSONPath (RFC 9535) of the JSON body, like `$.token`.
    #[serde(default)]
    pub json: Option<String>,
    /// Take the first group (or the whole match) of this regular expression, over the header's
    /// value with `header`, over the body without.
    #[serde(default)]
    pub regex: Option<String>,
    /// Take the status code.
    #[serde(default)]
    pub status: bool,
}

/// The `data` section: rows that feed variables, one row per flow iteration.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// A CSV file with a header row (`.csv`), or JSON lines, one object per line (`.jsonl`,
    /// `.ndjson`); relative to the scenario.
    pub file: String,
    /// `sequential` (default: rows in order, wrapping) or `random` (drawn with the seed).
    #[serde(default)]
    pub order: Option<DataOrder>,
}

/// The order rows are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataOrder {
    /// Row k for iteration k, wrapping at the end.
    Sequential,
    /// A row drawn from the seed and the iteration number: the same rows on both paths.
    Random,
}

/// A generated variable, fresh per flow iteration.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GeneratorSpec {
    /// `{ sequence: 1 }`: 1, 2, 3 … by iteration.
    Sequence(i64),
    /// `{ random_int: [1, 100] }`: an integer in the range, both ends included, from the seed.
    RandomInt([i64; 2]),
    /// `uuid`: a version-4 UUID, drawn from the seed.
    Uuid,
}
