//! Verdicts from slices. The ratio (or, for error rates, the difference) of pooled figures is
//! given a 95% interval by a paired bootstrap over slices: each resample draws slice pairs (the
//! candidate's slice i with the baseline's slice i, adjacent in time) with replacement and pools
//! them. Resampling whole slices rather than single requests keeps the bursts of a shared machine
//! inside the resampled unit, so the interval reflects how much a run of this length really
//! varies.

use serde::{Deserialize, Serialize};

use super::gate::Verdict;
use super::metric::Metric;
use super::slices::{Pool, SliceSet};

/// The absolute tolerance on error rates: 0.1 percentage points.
pub const ERROR_RATE_TOLERANCE: f64 = 0.001;
/// The tolerance on ratios when none is given and none is calibrated.
pub const DEFAULT_TOLERANCE: f64 = 0.10;
/// The smallest tolerance calibration may set.
pub const MIN_TOLERANCE: f64 = 0.10;
/// Slice pairs below which no verdict but `inconclusive` is given: a bootstrap over three or four
/// blocks claims far more precision than it has (an A/A pair was called worse that way).
pub const MIN_PAIRS: usize = 5;

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
    /// The change treated as real.
    pub tolerance: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Slice pairs behind it.
    pub slices: usize,
    /// When inconclusive: measured seconds per side that would resolve a change of the tolerance.
    pub needed_s_per_side: Option<f64>,
}

/// What to judge and how.
pub struct JudgeConfig {
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the resampling (results are reproducible).
    pub seed: u64,
    /// Slice length, seconds (for throughput).
    pub slice_s: f64,
}

fn value(m: Metric, p: &Pool, grid: &[u64], slice_s: f64) -> Option<f64> {
    match m {
        Metric::Mean => p.mean(grid),
        Metric::ErrorRate => (p.count > 0).then(|| p.errors as f64 / p.count as f64),
        Metric::Rps => (p.slices > 0).then(|| p.count as f64 / (p.slices as f64 * slice_s)),
        Metric::Count => Some(p.count as f64),
        Metric::Errors => Some(p.errors as f64),
        m => p.percentile(grid, m.percentile().unwrap_or(50.0)),
    }
}

fn estimate(m: Metric, a: f64, b: f64) -> Option<f64> {
    if m.judged_by_difference() {
        Some(a - b)
    } else if b > 0.0 {
        Some(a / b)
    } else if a == 0.0 {
        Some(1.0)
    } else {
        None
    }
}

/// The verdict for an estimate and its interval.
pub fn verdict(m: Metric, est: f64, lo: f64, hi: f64, tau: f64) -> Verdict {
    // Put every metric on one scale where "up" is worse and "no change" is zero.
    let (e, l, h) = if m.judged_by_difference() {
        (est, lo, hi)
    } else if m.higher_is_better() {
        (1.0 - est, 1.0 - hi, 1.0 - lo)
    } else {
        (est - 1.0, lo - 1.0, hi - 1.0)
    };
    if l > 0.0 && e > tau {
        Verdict::Worse
    } else if h < 0.0 && e < -tau {
        Verdict::Better
    } else if l >= -tau && h <= tau {
        Verdict::Same
    } else {
        Verdict::Inconclusive
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Judges `metrics` over slice `pairs` of `set` (indices into its candidate and baseline
/// slices); `tolerance` gives each metric's tolerance.
pub fn judge(
    set: &SliceSet,
    pairs: &[(usize, usize)],
    metrics: &[Metric],
    tolerance: &dyn Fn(Metric) -> f64,
    cfg: &JudgeConfig,
) -> Vec<Judgement> {
    let g = set.grid.len();
    let (mut pa, mut pb) = (Pool::new(g), Pool::new(g));
    for &(i, j) in pairs {
        pa.add(&set.a[i]);
        pb.add(&set.b[j]);
    }
    let latency_samples = |p: &Pool| p.cells.iter().sum::<u64>();
    let counts = (latency_samples(&pa), latency_samples(&pb));
    let point: Vec<(Option<f64>, Option<f64>)> = metrics
        .iter()
        .map(|m| {
            (
                value(*m, &pa, &set.grid, cfg.slice_s),
                value(*m, &pb, &set.grid, cfg.slice_s),
            )
        })
        .collect();
    let mut samples: Vec<Vec<f64>> =
        vec![Vec::with_capacity(cfg.resamples as usize); metrics.len()];
    let n = pairs.len();
    let mut rng = cfg.seed ^ 0xA5A5_5A5A;
    if n > 0 {
        for _ in 0..cfg.resamples {
            pa.clear();
            pb.clear();
            for _ in 0..n {
                let (i, j) = pairs[(splitmix(&mut rng) % n as u64) as usize];
                pa.add(&set.a[i]);
                pb.add(&set.b[j]);
            }
            for (k, m) in metrics.iter().enumerate() {
                if let (Some(x), Some(y)) = (
                    value(*m, &pa, &set.grid, cfg.slice_s),
                    value(*m, &pb, &set.grid, cfg.slice_s),
                ) {
                    if let Some(e) = estimate(*m, x, y) {
                        samples[k].push(e);
                    }
                }
            }
        }
    }
    metrics
        .iter()
        .zip(point)
        .zip(samples.iter_mut())
        .map(|((m, (a, b)), s)| {
            let tau = if m.judged_by_difference() {
                ERROR_RATE_TOLERANCE
            } else {
                tolerance(*m)
            };
            let est = a.zip(b).and_then(|(a, b)| estimate(*m, a, b));
            s.sort_by(f64::total_cmp);
            // Too few resamples with a value (an empty side): no interval, no verdict.
            let ci = (s.len() * 10 >= cfg.resamples as usize * 9 && !s.is_empty())
                .then(|| (quantile(s, 0.025), quantile(s, 0.975)));
            // Too few samples for this percentile: say how long a run would need to be.
            let fewest = counts.0.min(counts.1);
            let starved = fewest < m.min_samples();
            let per_s = fewest as f64 / (n.max(1) as f64 * cfg.slice_s);
            let for_samples = (starved && per_s > 0.0 && m.min_samples() != u64::MAX)
                .then(|| m.min_samples() as f64 / per_s);
            let too_few_pairs = n < MIN_PAIRS;
            let for_pairs = too_few_pairs.then_some(MIN_PAIRS as f64 * cfg.slice_s);
            let (v, needed) = match (est, ci) {
                _ if too_few_pairs => (
                    Verdict::Inconclusive,
                    for_samples.map_or(for_pairs, |s| for_pairs.map(|p| p.max(s))),
                ),
                (Some(e), Some((lo, hi))) if !starved => {
                    let v = verdict(*m, e, lo, hi, tau);
                    let half = (hi - lo) / 2.0;
                    let needed = (v == Verdict::Inconclusive && half > 0.0)
                        .then(|| n as f64 * (half / (tau / 2.0)).powi(2) * cfg.slice_s);
                    (v, needed)
                }
                _ => (Verdict::Inconclusive, for_samples),
            };
            Judgement {
                metric: *m,
                candidate: a,
                baseline: b,
                estimate: est,
                ci_low: ci.map(|c| c.0),
                ci_high: ci.map(|c| c.1),
                tolerance: tau,
                verdict: v,
                slices: n,
                needed_s_per_side: needed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(n: usize, us: u64) -> Vec<super::super::slices::RawSlice> {
        (0..n)
            .map(|_| {
                let mut h = crate::record::hist::new_coarse_hist();
                for i in 0..200 {
                    crate::record::hist::record_us(&mut h, us + i);
                }
                (h, 200, 0)
            })
            .collect()
    }

    #[test]
    fn a_doubling_is_worse_but_not_on_too_few_slices() {
        let cfg = JudgeConfig {
            resamples: 200,
            seed: 1,
            slice_s: 1.0,
        };
        let tol = |_: Metric| 0.1;
        for (n, expected) in [(8, Verdict::Worse), (MIN_PAIRS - 1, Verdict::Inconclusive)] {
            let (a, b) = (slices(n, 2000), slices(n, 1000));
            let set = SliceSet::new(&a, &b);
            let pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
            let j = judge(&set, &pairs, &[Metric::P50], &tol, &cfg);
            assert_eq!(j[0].verdict, expected, "{n} pairs: {:?}", j[0]);
            assert!((j[0].estimate.unwrap() - 2.0).abs() < 0.1);
        }
    }

    #[test]
    fn verdicts_follow_interval_and_tolerance() {
        let t = 0.10;
        assert_eq!(verdict(Metric::P99, 1.25, 1.12, 1.40, t), Verdict::Worse);
        assert_eq!(verdict(Metric::P99, 1.05, 0.98, 1.08, t), Verdict::Same);
        assert_eq!(verdict(Metric::P99, 0.80, 0.70, 0.90, t), Verdict::Better);
        assert_eq!(
            verdict(Metric::P99, 1.08, 0.90, 1.30, t),
            Verdict::Inconclusive
        );
        // Throughput: lower is worse.
        assert_eq!(verdict(Metric::Rps, 0.80, 0.75, 0.85, t), Verdict::Worse);
        // Error rates are judged on the difference.
        assert_eq!(
            verdict(Metric::ErrorRate, 0.0, 0.0, 0.0, ERROR_RATE_TOLERANCE),
            Verdict::Same
        );
        assert_eq!(
            verdict(Metric::ErrorRate, 0.02, 0.01, 0.03, ERROR_RATE_TOLERANCE),
            Verdict::Worse
        );
    }
}
