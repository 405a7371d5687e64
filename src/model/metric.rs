//! The metrics that gates and verdicts speak of, with their names and which direction is better,
//! and the four words a verdict on one metric can be.

use serde::{Deserialize, Serialize};

/// A metric of one target × protocol (× request).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median latency, µs.
    P50,
    /// 90th percentile latency, µs.
    P90,
    /// 95th percentile latency, µs.
    P95,
    /// 99th percentile latency, µs.
    P99,
    /// 99.9th percentile latency, µs.
    P999,
    /// Maximum latency, µs.
    Max,
    /// Mean latency, µs.
    Mean,
    /// Failed / completed.
    ErrorRate,
    /// Completed per measured second.
    Rps,
    /// Completed requests.
    Count,
    /// Failed requests.
    Errors,
}

impl Metric {
    /// Every metric, by name.
    pub const ALL: [(&'static str, Metric); 11] = [
        ("p50", Metric::P50),
        ("p90", Metric::P90),
        ("p95", Metric::P95),
        ("p99", Metric::P99),
        ("p999", Metric::P999),
        ("max", Metric::Max),
        ("mean", Metric::Mean),
        ("error_rate", Metric::ErrorRate),
        ("rps", Metric::Rps),
        ("count", Metric::Count),
        ("errors", Metric::Errors),
    ];

    /// The metrics a comparison judges.
    pub const JUDGED: [Metric; 7] = [
        Metric::P50,
        Metric::P90,
        Metric::P95,
        Metric::P99,
        Metric::P999,
        Metric::ErrorRate,
        Metric::Rps,
    ];

    /// Parses a name (`p99.9` is accepted for `p999`).
    pub fn parse(s: &str) -> Option<Metric> {
        let s = if s == "p99.9" { "p999" } else { s };
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, m)| *m)
    }

    /// The name used in gates and results.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(n, _)| n)
    }

    /// The percentile for latency metrics.
    pub fn percentile(self) -> Option<f64> {
        match self {
            Metric::P50 => Some(50.0),
            Metric::P90 => Some(90.0),
            Metric::P95 => Some(95.0),
            Metric::P99 => Some(99.0),
            Metric::P999 => Some(99.9),
            Metric::Max => Some(100.0),
            _ => None,
        }
    }

    /// Whether a larger value is better (throughput) rather than worse (latency, errors).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Rps | Metric::Count)
    }

    /// Samples a side needs before this metric can be judged: ten beyond the percentile, so an
    /// extreme percentile of a short run is called inconclusive rather than guessed from its
    /// few slowest requests.
    pub fn min_samples(self) -> u64 {
        match self.percentile() {
            Some(p) if p < 100.0 => (10.0 / (1.0 - p / 100.0)).ceil() as u64,
            Some(_) => u64::MAX,
            None => 1,
        }
    }

    /// Whether the metric is judged on a difference (rates near zero) rather than a ratio.
    pub fn judged_by_difference(self) -> bool {
        matches!(self, Metric::ErrorRate)
    }
}

/// A latency in µs for people: µs, ms or s.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// A metric's value for people: latencies in µs/ms/s, error rates in %, counts as numbers.
pub fn fmt_metric(m: Metric, v: Option<f64>) -> String {
    match (m, v) {
        (_, None) => "–".into(),
        (Metric::ErrorRate, Some(x)) => format!("{:.3}%", x * 100.0),
        (Metric::Rps, Some(x)) => format!("{x:.1}/s"),
        (Metric::Count | Metric::Errors, Some(x)) => format!("{x:.0}"),
        (_, Some(x)) => fmt_us(x.round() as u64),
    }
}

/// A verdict on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The candidate is better by more than the tolerance.
    Better,
    /// Within the tolerance, with confidence.
    Same,
    /// The candidate is worse by more than the tolerance.
    Worse,
    /// The run is too short to tell.
    Inconclusive,
}

impl Verdict {
    /// Parses a verdict name.
    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "better" => Some(Verdict::Better),
            "same" => Some(Verdict::Same),
            "worse" => Some(Verdict::Worse),
            "inconclusive" => Some(Verdict::Inconclusive),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Same => "same",
            Verdict::Worse => "worse",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}
