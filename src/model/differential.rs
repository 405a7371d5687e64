//! The response differential as results.json holds it: what differed between the two paths, how
//! often, against how often the baseline differed from itself.

use serde::{Deserialize, Serialize};

use super::Protocol;

/// One reported difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Difference {
    /// Protocol.
    pub protocol: Protocol,
    /// Request name.
    pub request: String,
    /// `status`, `header:NAME`, `body` or `body:$.path`.
    pub field: String,
    /// The candidate's value (first differing sample).
    pub candidate: String,
    /// The baseline's value in that sample.
    pub baseline: String,
    /// Fraction of samples where the candidate differs from the baseline.
    pub candidate_rate: f64,
    /// Fraction of samples where the baseline differs from its second sample.
    pub noise_rate: f64,
    /// `curl` commands that reproduce the request on each path.
    pub reproducers: Reproducers,
}

/// A reproducer per path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reproducers {
    /// On the candidate.
    pub candidate: String,
    /// On the baseline.
    pub baseline: String,
}

/// The differential in `results.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DifferentialJson {
    /// Samples per request, protocol and path.
    pub samples: u32,
    /// Headers ignored.
    pub ignored_headers: Vec<String>,
    /// Fields compared in all.
    pub fields_compared: u64,
    /// What differs.
    pub differences: Vec<Difference>,
}
