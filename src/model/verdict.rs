//! The verdict of a run and its exit code: the last thing every pipeline writes.

use serde::{Deserialize, Serialize};

impl Verdict {
    /// The one word for the outcome: `PASSED`, `INCONCLUSIVE` (exit 3) or `FAILED`.
    pub fn word(&self) -> &'static str {
        match (self.passed, self.exit_code) {
            (true, _) => "PASSED",
            (false, code::INCONCLUSIVE) => "INCONCLUSIVE",
            _ => "FAILED",
        }
    }
}

/// Exit codes, as documented in the README.
pub mod code {
    /// Everything passed.
    pub const OK: u8 = 0;
    /// A check failed.
    pub const FAILED: u8 = 1;
    /// The harness could not run as asked.
    pub const HARNESS: u8 = 2;
    /// A comparison could not judge p50 or the error rate (no gates): the run was too short or
    /// too noisy to tell, which is not a pass.
    pub const INCONCLUSIVE: u8 = 3;
    /// Interrupted; partial results were written.
    pub const INTERRUPTED: u8 = 130;
}

/// The verdict of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Whether everything held.
    pub passed: bool,
    /// The process exit code.
    pub exit_code: u8,
    /// Why it did not pass, one line each, the one that decided the exit code first.
    pub reasons: Vec<String>,
    /// What deserves a look although it decided nothing: inconclusive tail metrics, with the
    /// run length each would need.
    #[serde(default)]
    pub warnings: Vec<String>,
}
