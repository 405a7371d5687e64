//! Verdicts from slices, with two pieces of evidence that stay honest on a noisy machine:
//!
//! - a **paired bootstrap over slices**: each resample draws slice pairs (the candidate's slice i
//!   with the baseline's slice i, adjacent in time) with replacement and pools them; resampling
//!   whole slices keeps the bursts of a shared machine inside the resampled unit. Its standard
//!   error, on the log of the ratio (or on the difference, for error rates), gives the interval;
//! - a **paired sign test over slices**: in how many pairs the candidate's own slice figure is
//!   worse than the baseline's. It assumes nothing about the noise but that the two sides of an
//!   A/A pair are exchangeable, so it stays exact with few slices and under bursts that make the
//!   bootstrap's interval wide, and it catches a large effect on a short run.
//!
//! `worse` needs the estimate beyond the tolerance and **both** tests significant at the metric's
//! level; `better` mirrors it. Each test alone keeps to its level when its assumption holds; the
//! conjunction keeps to it when either does. That matters on a shared machine: under a parallel
//! compile, two A/A runs through nginx had their p99 bootstrap intervals at [1.04, 1.24] and
//! [1.03, 1.22] (a few bursty slices dominate a tail), while the sign test, 15 of 20 pairs, saw
//! nothing; every +30% regression run had 17 to 20 of 20 pairs worse. `same` needs the 95%
//! interval inside the tolerance the user asked for, and a calibrated noise floor no wider than
//! it. Anything else is `inconclusive`, with the run length that would resolve it.

use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};

use super::slices::{Pool, Slice, SliceSet};
use crate::model::comparison::Judgement;
use crate::model::metric::Metric;
use crate::model::metric::Verdict;

/// The absolute tolerance on error rates: 0.1 percentage points.
pub const ERROR_RATE_TOLERANCE: f64 = 0.001;
/// The tolerance on ratios when none is given.
pub const DEFAULT_TOLERANCE: f64 = 0.10;
/// Slice pairs below which the bootstrap is not trusted: over three or four blocks it claims far
/// more precision than it has (an A/A pair was called worse that way). The sign test still
/// speaks, and with so few pairs it cannot reach significance but for a huge, consistent effect.
pub const MIN_PAIRS: usize = 5;
/// What to judge and how.
pub struct JudgeConfig {
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the resampling (results are reproducible).
    pub seed: u64,
    /// Slice length, seconds (for throughput).
    pub slice_s: f64,
}

/// How one metric is judged: its tolerance, its level and its calibrated noise floor.
#[derive(Debug, Clone, Copy)]
pub struct MetricRule {
    /// The tolerance the user asked for.
    pub tolerance: f64,
    /// The one-sided level of a worse or better claim.
    pub alpha: f64,
    /// The calibrated A/A noise floor, when measured.
    pub noise_floor: Option<f64>,
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

/// One slice's own figure, for the sign test.
fn slice_value(m: Metric, s: &Slice, grid: &[u64]) -> Option<f64> {
    match m {
        Metric::ErrorRate => (s.count > 0).then(|| s.errors as f64 / s.count as f64),
        Metric::Rps | Metric::Count => Some(s.count as f64),
        Metric::Errors => Some(s.errors as f64),
        Metric::Mean => None,
        m => s.percentile(grid, m.percentile().unwrap_or(50.0)),
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

/// Puts an estimate on the scale where "up" is worse and "no change" is zero.
fn worse_scale(m: Metric, est: f64) -> f64 {
    if m.judged_by_difference() {
        est
    } else if m.higher_is_better() {
        1.0 - est
    } else {
        est - 1.0
    }
}

/// The verdict for an estimate and its 95% interval, by the interval alone.
pub fn verdict(m: Metric, est: f64, lo: f64, hi: f64, tau: f64) -> Verdict {
    let (e, l, h) = if m.higher_is_better() && !m.judged_by_difference() {
        (worse_scale(m, est), worse_scale(m, hi), worse_scale(m, lo))
    } else {
        (worse_scale(m, est), worse_scale(m, lo), worse_scale(m, hi))
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

/// The standard normal quantile.
fn z(q: f64) -> f64 {
    Normal::new(0.0, 1.0).map_or(1.96, |n| n.inverse_cdf(q))
}

/// P(X ≥ k) for X ~ Binomial(n, 1/2): the sign test's one-sided p-value.
pub fn sign_p(k: u32, n: u32) -> f64 {
    if k == 0 {
        return 1.0;
    }
    Binomial::new(0.5, u64::from(n)).map_or(1.0, |b| b.sf(u64::from(k) - 1))
}

/// Where the estimate is summarised: the log of a ratio, or a difference as it is.
fn to_scale(m: Metric, e: f64) -> Option<f64> {
    if m.judged_by_difference() {
        Some(e)
    } else {
        (e > 0.0).then(|| e.ln())
    }
}

fn from_scale(m: Metric, x: f64) -> f64 {
    if m.judged_by_difference() {
        x
    } else {
        x.exp()
    }
}

/// The sign test's counts: pairs where the candidate's own slice figure is worse, and better
/// (ties dropped).
fn sign_counts(m: Metric, set: &SliceSet, pairs: &[(usize, usize)]) -> (u32, u32) {
    let (mut worse, mut better) = (0, 0);
    for &(i, j) in pairs {
        let (Some(a), Some(b)) = (
            slice_value(m, &set.a[i], &set.grid),
            slice_value(m, &set.b[j], &set.grid),
        ) else {
            continue;
        };
        let up = if m.higher_is_better() { b - a } else { a - b };
        if up > 0.0 {
            worse += 1;
        } else if up < 0.0 {
            better += 1;
        }
    }
    (worse, better)
}

/// Judges `metrics` over slice `pairs` of `set` (indices into its candidate and baseline
/// slices); `rule` gives each metric's tolerance, level and noise floor.
pub fn judge(
    set: &SliceSet,
    pairs: &[(usize, usize)],
    metrics: &[Metric],
    rule: &dyn Fn(Metric) -> MetricRule,
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
    // Bootstrap resamples of each metric, on its summary scale.
    let mut samples: Vec<Vec<f64>> =
        vec![Vec::with_capacity(cfg.resamples as usize); metrics.len()];
    let n = pairs.len();
    let mut rng = cfg.seed ^ 0xA5A5_5A5A;
    if n >= MIN_PAIRS {
        for _ in 0..cfg.resamples {
            pa.clear();
            pb.clear();
            for _ in 0..n {
                let (i, j) = pairs[(splitmix(&mut rng) % n as u64) as usize];
                pa.add(&set.a[i]);
                pb.add(&set.b[j]);
            }
            for (k, m) in metrics.iter().enumerate() {
                let e = value(*m, &pa, &set.grid, cfg.slice_s)
                    .zip(value(*m, &pb, &set.grid, cfg.slice_s))
                    .and_then(|(x, y)| estimate(*m, x, y))
                    .and_then(|e| to_scale(*m, e));
                if let Some(e) = e {
                    samples[k].push(e);
                }
            }
        }
    }
    metrics
        .iter()
        .zip(point)
        .zip(samples.iter())
        .map(|((m, (a, b)), s)| {
            let r = rule(*m);
            let tau = if m.judged_by_difference() {
                ERROR_RATE_TOLERANCE
            } else {
                r.tolerance
            };
            let est = a.zip(b).and_then(|(a, b)| estimate(*m, a, b));
            // The bootstrap's standard error, when nearly every resample had a value.
            let se = (s.len() >= 2 && s.len() * 10 >= cfg.resamples as usize * 9).then(|| {
                let mean = s.iter().sum::<f64>() / s.len() as f64;
                (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (s.len() - 1) as f64).sqrt()
            });
            let centre = est.and_then(|e| to_scale(*m, e));
            let interval = |q: f64| {
                centre.zip(se).map(|(c, se)| {
                    let w = z(1.0 - q) * se;
                    let (lo, hi) = (from_scale(*m, c - w), from_scale(*m, c + w));
                    if m.higher_is_better() && !m.judged_by_difference() {
                        (worse_scale(*m, hi), worse_scale(*m, lo))
                    } else {
                        (worse_scale(*m, lo), worse_scale(*m, hi))
                    }
                })
            };
            let ci = centre.zip(se).map(|(c, se)| {
                let w = z(0.975) * se;
                (from_scale(*m, c - w), from_scale(*m, c + w))
            });
            let (worse_n, better_n) = sign_counts(*m, set, pairs);
            let decided = worse_n + better_n;
            let fewest = counts.0.min(counts.1);
            let starved = fewest < m.min_samples();
            let e = est.map(|e| worse_scale(*m, e));
            let boot = interval(r.alpha);
            let worse = !starved
                && e.is_some_and(|e| e > tau)
                && boot.is_some_and(|(lo, _)| lo > 0.0)
                && sign_p(worse_n, decided) <= r.alpha;
            let better = !starved
                && e.is_some_and(|e| e < -tau)
                && boot.is_some_and(|(_, hi)| hi < 0.0)
                && sign_p(better_n, decided) <= r.alpha;
            let floor_too_wide = r.noise_floor.filter(|f| *f > tau);
            let within = interval(0.025).is_some_and(|(lo, hi)| lo >= -tau && hi <= tau);
            let (verdict, note) = if worse {
                (Verdict::Worse, None)
            } else if better {
                (Verdict::Better, None)
            } else if starved {
                (
                    Verdict::Inconclusive,
                    Some(format!(
                        "fewer than {} samples per side for {}",
                        m.min_samples(),
                        m.name()
                    )),
                )
            } else if n < MIN_PAIRS {
                (
                    Verdict::Inconclusive,
                    Some(format!("{n} slice pairs; {MIN_PAIRS} are needed")),
                )
            } else if let Some(f) = floor_too_wide {
                (
                    Verdict::Inconclusive,
                    Some(format!(
                        "the A/A noise floor (±{:.0}%) is wider than the ±{:.0}% tolerance",
                        f * 100.0,
                        tau * 100.0
                    )),
                )
            } else if within {
                (Verdict::Same, None)
            } else {
                (Verdict::Inconclusive, None)
            };
            // The run length that would bring the interval's half-width to half the tolerance
            // (or, when the noise floor is the obstacle, the floor under the tolerance).
            let needed = (verdict == Verdict::Inconclusive)
                .then(|| {
                    let per_s = fewest as f64 / (n.max(1) as f64 * cfg.slice_s);
                    let for_samples = (starved && per_s > 0.0 && m.min_samples() != u64::MAX)
                        .then(|| m.min_samples() as f64 / per_s);
                    let for_pairs = (n < MIN_PAIRS).then_some(MIN_PAIRS as f64 * cfg.slice_s);
                    let spread = ci
                        .map(|(lo, hi)| (worse_scale(*m, hi) - worse_scale(*m, lo)).abs() / 2.0)
                        .into_iter()
                        .chain(floor_too_wide)
                        .fold(0.0f64, f64::max);
                    let for_noise = (spread > 0.0 && n > 0)
                        .then(|| n as f64 * (spread / (tau / 2.0)).powi(2) * cfg.slice_s);
                    [for_samples, for_pairs, for_noise]
                        .into_iter()
                        .flatten()
                        .reduce(f64::max)
                })
                .flatten();
            Judgement {
                metric: *m,
                candidate: a,
                baseline: b,
                estimate: est,
                ci_low: ci.map(|c| c.0),
                ci_high: ci.map(|c| c.1),
                tolerance: tau,
                verdict,
                slices: n,
                needed_s_per_side: needed,
                alpha: r.alpha,
                pairs_worse: worse_n,
                pairs_better: better_n,
                noise_floor: r.noise_floor,
                note,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::comparison::ALPHA;

    use super::super::slices::RawSlice;

    fn slices(n: usize, us: u64) -> Vec<RawSlice> {
        (0..n)
            .map(|_| {
                let mut h = crate::model::hist::new_coarse_hist();
                for i in 0..200 {
                    crate::model::hist::record_us(&mut h, us + i);
                }
                (h, 200, 0)
            })
            .collect()
    }

    fn cfg() -> JudgeConfig {
        JudgeConfig {
            resamples: 400,
            seed: 1,
            slice_s: 1.0,
        }
    }

    fn rule(noise_floor: Option<f64>) -> impl Fn(Metric) -> MetricRule {
        move |_| MetricRule {
            tolerance: 0.1,
            alpha: ALPHA,
            noise_floor,
        }
    }

    fn one(a: &[RawSlice], b: &[RawSlice], noise: Option<f64>) -> Judgement {
        let set = SliceSet::new(a, b);
        let pairs: Vec<(usize, usize)> = (0..a.len().min(b.len())).map(|i| (i, i)).collect();
        judge(&set, &pairs, &[Metric::P50], &rule(noise), &cfg()).remove(0)
    }

    #[test]
    fn a_doubling_is_worse_but_not_on_too_few_slices() {
        for (n, expected) in [(8, Verdict::Worse), (MIN_PAIRS - 1, Verdict::Inconclusive)] {
            let j = one(&slices(n, 2000), &slices(n, 1000), None);
            assert_eq!(j.verdict, expected, "{n} pairs: {j:?}");
            assert!((j.estimate.unwrap() - 2.0).abs() < 0.1);
        }
    }

    #[test]
    fn a_consistent_effect_under_bursts_is_worse() {
        // Bursts make every other slice 20x slower on both sides alike; the candidate is slower
        // in every one of 12 pairs, and the pooled ratio holds in every resample.
        let burst = |i: usize| if i % 2 == 0 { 1 } else { 20 };
        let a: Vec<RawSlice> = (0..12).flat_map(|i| slices(1, 2000 * burst(i))).collect();
        let b: Vec<RawSlice> = (0..12).flat_map(|i| slices(1, 1000 * burst(i))).collect();
        let j = one(&a, &b, None);
        assert_eq!(j.verdict, Verdict::Worse, "{j:?}");
        assert_eq!((j.pairs_worse, j.pairs_better), (12, 0));
    }

    #[test]
    fn same_needs_the_noise_floor_under_the_tolerance() {
        let (a, b) = (slices(10, 1000), slices(10, 1000));
        assert_eq!(one(&a, &b, Some(0.05)).verdict, Verdict::Same);
        let j = one(&a, &b, Some(0.44));
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.note.as_deref().unwrap().contains("±44%"), "{j:?}");
        assert!(j.needed_s_per_side.is_some());
    }

    #[test]
    fn a_tail_driven_by_a_few_pairs_is_not_worse() {
        // Four slow pairs on the candidate's side make its pooled p99 far higher, but in the other
        // sixteen pairs the candidate is as often faster as slower: the sign test sees no effect,
        // so neither does the verdict.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..20u64 {
            let jitter = if i % 2 == 0 { 990 } else { 1010 };
            a.extend(slices(1, if i < 4 { 5000 } else { jitter }));
            b.extend(slices(1, if i < 4 { 1000 } else { 2000 - jitter }));
        }
        let set = SliceSet::new(&a, &b);
        let pairs: Vec<(usize, usize)> = (0..20).map(|i| (i, i)).collect();
        let j = judge(&set, &pairs, &[Metric::P99], &rule(None), &cfg()).remove(0);
        assert!(j.estimate.unwrap() > 2.0, "{j:?}");
        assert_ne!(j.verdict, Verdict::Worse, "{j:?}");
    }

    #[test]
    fn the_sign_test_is_exact() {
        assert_eq!(sign_p(0, 10), 1.0);
        assert!((sign_p(10, 10) - 1.0 / 1024.0).abs() < 1e-12);
        assert!((sign_p(9, 10) - 11.0 / 1024.0).abs() < 1e-12);
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
