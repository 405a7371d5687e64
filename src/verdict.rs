//! The run's verdict and exit code: 0 when everything held, 1 when a request failed a check or a
//! transport error occurred, 2 when the harness could not do what was asked (a target unreachable
//! on every connection), 130 when interrupted.

use serde::{Deserialize, Serialize};

use crate::engine::RunOutcome;

/// Exit codes, as documented in the README.
pub mod code {
    /// Everything passed.
    pub const OK: u8 = 0;
    /// A check failed.
    pub const FAILED: u8 = 1;
    /// The harness could not run as asked.
    pub const HARNESS: u8 = 2;
    /// Interrupted; partial results were written.
    pub const INTERRUPTED: u8 = 130;
}

/// The verdict of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether everything held.
    pub passed: bool,
    /// The process exit code.
    pub exit_code: u8,
    /// Why it did not pass, one line each.
    pub reasons: Vec<String>,
}

/// Judges a run.
pub fn judge(o: &RunOutcome) -> Verdict {
    let mut reasons = Vec::new();
    let mut unreachable = false;
    for l in &o.lanes {
        let s = &l.stats;
        let name = format!("{} {}", l.target, l.protocol.as_str());
        if s.connections_opened == 0 && s.connections_failed > 0 {
            unreachable = true;
            let example = s
                .requests
                .iter()
                .flat_map(|r| r.error_examples.values())
                .next()
                .cloned()
                .unwrap_or_default();
            reasons.push(format!("{name}: no connection could be opened ({example})"));
            continue;
        }
        let t = s.total();
        let failed = t.error_count();
        if failed > 0 {
            let mut by_class: Vec<String> = Vec::new();
            for ((class, code), n) in &t.errors {
                by_class.push(format!("{} {}:{code}", n, class.as_str()));
            }
            reasons.push(format!(
                "{name}: {failed} of {} requests failed ({})",
                t.count,
                by_class.join(", ")
            ));
        }
        if t.count == 0 && !o.interrupted {
            reasons.push(format!("{name}: no request was measured"));
        }
    }
    let exit_code = if o.interrupted {
        reasons.insert(0, "interrupted".into());
        code::INTERRUPTED
    } else if unreachable {
        code::HARNESS
    } else if reasons.is_empty() {
        code::OK
    } else {
        code::FAILED
    };
    Verdict {
        passed: exit_code == code::OK,
        exit_code,
        reasons,
    }
}
