//! The comparison of two paths from their results: per protocol, per request and for all
//! requests together, a verdict on each judged metric; with `calibrate`, an A/A split of the
//! baseline's slices first measures the noise floor, and a metric whose floor is wider than the
//! tolerance cannot be called `same`.
//!
//! The headline metrics (all requests together, per protocol: p50, p99, error rate) decide the
//! exit code of a run without gates, so they are judged as one family: each at the family's
//! level divided by the family's size (Bonferroni), which bounds the chance that an A/A run exits
//! non-zero however many protocols it covers. Every other row is judged at its own level and
//! decides nothing unless a gate names it.
//!
//! It works on the wire form (`results.json`), so a live run and `gauntlet compare` on saved runs
//! go through the same code and reach the same verdicts.

use super::judge::{judge, JudgeConfig, MetricRule, DEFAULT_TOLERANCE};
use super::slices::{RawSlice, SliceSet};
use crate::model::comparison::{
    CalibrationRow, ComparisonJson, Judgement, Sharing, VerdictRow, ALPHA,
};
use crate::model::hist;
use crate::model::metric::Metric;
use crate::model::results::{LaneJson, SliceJson};

/// How to compare.
#[derive(Debug, Clone)]
pub struct AnalysisConfig {
    /// Candidate name.
    pub candidate: String,
    /// Baseline name.
    pub baseline: String,
    /// Fairness, for the record.
    pub fairness: Sharing,
    /// Slice length, seconds.
    pub slice_s: f64,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Measure the noise floor first.
    pub calibrate: bool,
    /// A tolerance given by the scenario.
    pub tolerance: Option<f64>,
    /// Seed of the resampling.
    pub seed: u64,
}

/// The chance, over the headline family, that an A/A run is judged worse somewhere.
pub const FAMILY_ALPHA: f64 = 0.05;
/// The headline metrics: all requests together, per protocol.
pub const HEADLINE: [Metric; 3] = [Metric::P50, Metric::P99, Metric::ErrorRate];

/// A side's slices, as the judge takes them (the model decoded them when the file was read).
fn raw(slices: &[SliceJson]) -> Vec<RawSlice> {
    slices
        .iter()
        .map(|s| (s.latency_us.0.clone(), s.count, s.errors))
        .collect()
}

/// All requests of a lane together, slice by slice.
fn lane_total(l: &LaneJson) -> Result<Vec<RawSlice>, String> {
    let mut out: Vec<RawSlice> = Vec::new();
    // A flow's exchanges are its steps': counting the flow too would count them twice.
    for r in l.requests.iter().filter(|r| !r.flow) {
        for (i, s) in raw(&r.slices).into_iter().enumerate() {
            if out.len() <= i {
                out.resize_with(i + 1, || (hist::new_coarse_hist(), 0, 0));
            }
            hist::merge(&mut out[i].0, &s.0);
            out[i].1 += s.1;
            out[i].2 += s.2;
        }
    }
    Ok(out)
}

/// Pairs slice i of one side with slice i of the other, skipping slices with no request on either
/// side (warm-up, or the tail of a shorter run).
fn pairs(a: &[RawSlice], b: &[RawSlice]) -> Vec<(usize, usize)> {
    (0..a.len().min(b.len()))
        .filter(|&i| a[i].1 > 0 && b[i].1 > 0)
        .map(|i| (i, i))
        .collect()
}

fn run_judge(
    a: &[RawSlice],
    b: &[RawSlice],
    rule: &dyn Fn(Metric) -> MetricRule,
    jc: &JudgeConfig,
) -> Vec<Judgement> {
    let set = SliceSet::new(a, b);
    judge(&set, &pairs(a, b), &Metric::JUDGED, rule, jc)
}

/// Compares the candidate's lanes with the baseline's, protocol by protocol. A damaged slice
/// histogram is an error.
pub fn analyze(
    candidate: &[&LaneJson],
    baseline: &[&LaneJson],
    cfg: &AnalysisConfig,
) -> Result<ComparisonJson, String> {
    let jc = JudgeConfig {
        resamples: cfg.resamples,
        seed: cfg.seed,
        slice_s: cfg.slice_s,
    };
    let mut verdicts = Vec::new();
    let mut calibration = Vec::new();
    let tolerance = cfg.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    let compared = candidate
        .iter()
        .filter(|a| baseline.iter().any(|b| b.protocol == a.protocol))
        .count()
        .max(1);
    let headline_alpha = FAMILY_ALPHA / (HEADLINE.len() * compared) as f64;
    for a in candidate {
        let Some(b) = baseline.iter().find(|b| b.protocol == a.protocol) else {
            continue;
        };
        let base_total = lane_total(b)?;
        let mut floors: Vec<(Metric, f64)> = Vec::new();
        if cfg.calibrate {
            // A/A: the baseline's even slices against its odd slices, measured on the same occasion.
            let even: Vec<RawSlice> = base_total.iter().step_by(2).cloned().collect();
            let odd: Vec<RawSlice> = base_total.iter().skip(1).step_by(2).cloned().collect();
            let fixed = |_: Metric| MetricRule {
                tolerance,
                alpha: ALPHA,
                noise_floor: None,
            };
            for j in run_judge(&even, &odd, &fixed, &jc) {
                let half = j
                    .ci_low
                    .zip(j.ci_high)
                    .map_or(f64::INFINITY, |(l, h)| (h - l) / 2.0);
                let centre = if j.metric.judged_by_difference() {
                    0.0
                } else {
                    1.0
                };
                let noise = j
                    .estimate
                    .map_or(f64::INFINITY, |e| (e - centre).abs())
                    .max(half);
                floors.push((j.metric, noise));
                calibration.push(CalibrationRow {
                    protocol: a.protocol,
                    judgement: j,
                    noise,
                });
            }
        }
        let floor = |m: Metric| {
            floors
                .iter()
                .find(|(k, _)| *k == m)
                .map(|(_, f)| if f.is_finite() { *f } else { f64::MAX })
        };
        let headline = |m: Metric| MetricRule {
            tolerance,
            alpha: if HEADLINE.contains(&m) {
                headline_alpha
            } else {
                ALPHA
            },
            noise_floor: floor(m),
        };
        let other = |m: Metric| MetricRule {
            tolerance,
            alpha: ALPHA,
            noise_floor: floor(m),
        };
        for j in run_judge(&lane_total(a)?, &base_total, &headline, &jc) {
            verdicts.push(VerdictRow {
                protocol: a.protocol,
                request: None,
                judgement: j,
            });
        }
        for ra in &a.requests {
            let Some(rb) = b.requests.iter().find(|r| r.name == ra.name) else {
                continue;
            };
            for j in run_judge(&raw(&ra.slices), &raw(&rb.slices), &other, &jc) {
                verdicts.push(VerdictRow {
                    protocol: a.protocol,
                    request: Some(ra.name.clone()),
                    judgement: j,
                });
            }
        }
    }
    Ok(ComparisonJson {
        candidate: cfg.candidate.clone(),
        baseline: cfg.baseline.clone(),
        fairness: cfg.fairness,
        slice_s: cfg.slice_s,
        resamples: cfg.resamples,
        calibration,
        verdicts,
        forced: Vec::new(),
        sources: Vec::new(),
    })
}
