//! Everything rendered from a run, all from the one results model (`results.json`): the wire
//! types, the HTML report with its charts, the console summary and the live progress line.

pub mod charts;
pub mod console;
pub mod hlog;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod probes;
pub mod probes_html;
pub mod publish;

use crate::model::comparison::Judgement;
use crate::model::metric::Metric;

pub use crate::model::metric::{fmt_metric, fmt_us};

/// What a reader must know before trusting a report, as (property name, sentence): TLS
/// verification was off, or secrets were left in. Every rendering shows them.
pub fn caveats(r: &crate::model::results::ResultsFile) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if r.meta.insecure {
        out.push((
            "insecure",
            "TLS certificates were not verified (insecure: true): a wrong or intercepted server would have gone unnoticed",
        ));
    }
    if r.meta.secrets_shown {
        out.push((
            "secrets-shown",
            "secret header values are shown (--show-secrets): do not publish this report",
        ));
    }
    out
}

/// A ratio, or for error rates a difference in percentage points.
pub fn fmt_estimate(m: Metric, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if m.judged_by_difference() => format!("{:+.3} pp", x * 100.0),
        Some(x) => format!("{x:.3}"),
    }
}

/// A judgement's cells as text, shared by the console, HTML and Markdown renderings.
pub struct JudgementText {
    /// Candidate value.
    pub candidate: String,
    /// Baseline value.
    pub baseline: String,
    /// Ratio or difference.
    pub estimate: String,
    /// `[low, high]`.
    pub interval: String,
    /// `±10%` or `±0.10 pp`.
    pub tolerance: String,
    /// ` (≈ N s per side needed)` when inconclusive, else empty.
    pub needed: String,
}

impl JudgementText {
    /// The cells of `j`.
    pub fn of(j: &Judgement) -> Self {
        let m = j.metric;
        JudgementText {
            candidate: fmt_metric(m, j.candidate),
            baseline: fmt_metric(m, j.baseline),
            estimate: fmt_estimate(m, j.estimate),
            interval: match (j.ci_low, j.ci_high) {
                (Some(l), Some(h)) => format!(
                    "[{}, {}]",
                    fmt_estimate(m, Some(l)),
                    fmt_estimate(m, Some(h))
                ),
                _ => "–".into(),
            },
            tolerance: if m.judged_by_difference() {
                format!("±{:.2} pp", j.tolerance * 100.0)
            } else {
                format!("±{:.0}%", j.tolerance * 100.0)
            },
            needed: j
                .needed_s_per_side
                .map(|s| format!(" (≈ {:.0} s per side needed)", s.ceil()))
                .unwrap_or_default(),
        }
    }
}
