//! The comparison of two paths as results.json holds it: every judged metric with its interval,
//! the A/A calibration, and each gate's value and outcome.

use serde::{Deserialize, Serialize};

use super::metric::{Metric, Verdict};
use super::Protocol;

/// The comparison in `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ComparisonJson {
    /// Candidate target.
    pub candidate: String,
    /// Baseline target.
    pub baseline: String,
    /// How the paths shared the run.
    pub fairness: Sharing,
    /// Slice length, seconds.
    pub slice_s: f64,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// The A/A noise floor per protocol and metric, when calibrated.
    #[serde(default)]
    pub calibration: Vec<CalibrationRow>,
    /// One row per protocol × request (`None` = all requests) × metric.
    pub verdicts: Vec<VerdictRow>,
    /// For saved runs compared with `--force`: what made them incomparable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forced: Vec<String>,
    /// For saved runs: where the candidate's and the baseline's figures came from (file and
    /// commit), which titles say instead of the role names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

impl ComparisonJson {
    /// What the candidate and the baseline are called in titles: their sources when the runs
    /// were saved ones, else the targets' names.
    pub fn names(&self) -> (&str, &str) {
        match self.sources.as_slice() {
            [c, b] => (c, b),
            _ => (&self.candidate, &self.baseline),
        }
    }
}

/// How two paths shared the time they were measured in: what the verdict's fairness rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Sharing {
    /// Alternating slices from one pacer, in pairs whose order was drawn.
    #[serde(rename = "interleaved")]
    Interleaved,
    /// One arrival stream split between the paths.
    #[serde(rename = "simultaneous")]
    Simultaneous,
    /// Two saved runs, made at different times (`gauntlet compare`).
    #[serde(rename = "separate runs")]
    SeparateRuns,
}

impl Sharing {
    /// Its name in results and reports.
    pub fn name(self) -> &'static str {
        match self {
            Sharing::Interleaved => "interleaved",
            Sharing::Simultaneous => "simultaneous",
            Sharing::SeparateRuns => "separate runs",
        }
    }
}

impl std::fmt::Display for Sharing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A verdict with where it applies.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VerdictRow {
    /// Protocol.
    pub protocol: Protocol,
    /// Request name, or `None` for all requests together.
    pub request: Option<String>,
    /// The judgement.
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// The A/A result of one protocol and metric.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CalibrationRow {
    /// Protocol.
    pub protocol: Protocol,
    /// The baseline's even slices against its odd slices.
    #[serde(flatten)]
    pub judgement: Judgement,
    /// The noise floor: the larger of the A/A deviation and the interval's half-width.
    pub noise: f64,
}

/// The one-sided level of a `worse` or `better` claim about one metric on its own.
pub const ALPHA: f64 = 0.025;

/// The judgement of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Judgement {
    /// The metric.
    pub metric: Metric,
    /// The candidate's pooled value.
    pub candidate: Option<f64>,
    /// The baseline's pooled value.
    pub baseline: Option<f64>,
    /// candidate / baseline, or candidate − baseline for error rates.
    pub estimate: Option<f64>,
    /// 95% interval, low end.
    pub ci_low: Option<f64>,
    /// 95% interval, high end.
    pub ci_high: Option<f64>,
    /// The change treated as real: the tolerance the user asked for (default 10%).
    pub tolerance: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Slice pairs behind it.
    pub slices: usize,
    /// When inconclusive: measured seconds per side that would resolve a change of the tolerance.
    pub needed_s_per_side: Option<f64>,
    /// The one-sided level of a worse or better claim (smaller for the headline metrics, whose
    /// family decides the exit code).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Slice pairs in which the candidate's own figure was worse, and better.
    #[serde(default)]
    pub pairs_worse: u32,
    /// See `pairs_worse`.
    #[serde(default)]
    pub pairs_better: u32,
    /// The A/A noise floor of this metric, when calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_floor: Option<f64>,
    /// Why the verdict is inconclusive, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn default_alpha() -> f64 {
    ALPHA
}

/// One evaluation of one gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateResult {
    /// The gate as written.
    pub gate: String,
    /// The protocol it was evaluated for.
    pub protocol: Option<Protocol>,
    /// The left side's value.
    pub lhs: serde_json::Value,
    /// The right side's value.
    pub rhs: serde_json::Value,
    /// Whether it held.
    pub passed: bool,
    /// Why it could not be evaluated, when it could not (it then fails).
    pub note: Option<String>,
    /// Both sides for people, with units (`8.56ms vs 4.43ms`, `63.400% vs 1.000%`).
    #[serde(default)]
    pub shown: String,
    /// It failed closed: a verdict it reads was inconclusive (a check that did not hold, not a
    /// fault of the harness).
    #[serde(default)]
    pub undecided: bool,
}

/// A gate value for people: numbers to four significant decimals, verdicts as words.
pub fn show(v: &serde_json::Value) -> String {
    match (v.as_f64(), v.as_str()) {
        (Some(x), _) if x.fract() != 0.0 => format!("{x:.4}").trim_end_matches('0').to_string(),
        (Some(x), _) => format!("{x}"),
        (None, Some(s)) => s.to_string(),
        _ => v.to_string(),
    }
}
