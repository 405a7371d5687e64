//! Resolution of the `load` section: the open model's stages (with the `rate`/`duration`/`warmup`
//! shorthand), the closed model, and the connection settings, each problem reported at its node.

use std::time::Duration;

use super::bounds::{
    bad_rate, too_long, MAX_CONCURRENCY, MAX_CONNECTIONS, MAX_RATE, MAX_REQUESTS, MAX_RUN,
    MAX_STREAMS, MAX_THREADS,
};
use super::model::{ModelName, ScenarioFile, StageSpec};
use super::validate::{Checker, DEFAULT_DURATION};
use super::{Load, Model, Stage};

/// Resolves `load`, defaults filled in.
pub(super) fn resolve_load(c: &mut Checker<'_>, f: &ScenarioFile) -> Load {
    let l = f.load.clone().unwrap_or_default();
    let counts = [
        (
            "connections",
            l.connections.map(u64::from),
            MAX_CONNECTIONS,
            "connections",
        ),
        (
            "max_streams",
            l.max_streams.map(u64::from),
            MAX_STREAMS,
            "streams per connection",
        ),
        ("requests", l.requests, MAX_REQUESTS, "requests"),
        (
            "requests_per_connection",
            l.requests_per_connection,
            MAX_REQUESTS,
            "requests",
        ),
        ("threads", l.threads.map(u64::from), MAX_THREADS, "threads"),
        (
            "concurrency",
            l.concurrency.map(u64::from),
            MAX_CONCURRENCY,
            "requests in flight",
        ),
    ];
    for (key, v, max, unit) in counts {
        c.count(&format!("load.{key}"), v, max, unit);
    }
    c.positive_duration("load.duration", l.duration);
    let model = match l.model {
        ModelName::Open => {
            if l.concurrency.is_some() {
                c.err_key(
                    "load.concurrency",
                    "`concurrency` belongs to the closed model",
                    Some("set `model: closed`, or give a `rate` for the open model".into()),
                );
            }
            let mut stages = Vec::new();
            if let Some(w) = l.warmup {
                if let Some(rate) = l.rate {
                    stages.push(Stage {
                        duration: w,
                        rate_start: rate,
                        rate_end: rate,
                        warmup: true,
                    });
                }
            }
            match (&l.stages, l.rate) {
                (Some(_), Some(_)) => c.err_key(
                    "load.rate",
                    "give either `rate` or `stages`, not both",
                    None,
                ),
                (None, Some(rate)) => {
                    if let Some(why) = bad_rate(rate) {
                        c.err("load.rate", why, None);
                    }
                    let duration = if l.requests.is_some() {
                        // Bounded by the count; the clock only keeps it within the run limit.
                        l.duration
                            .unwrap_or(MAX_RUN.saturating_sub(l.warmup.unwrap_or_default()))
                    } else {
                        l.duration.unwrap_or(DEFAULT_DURATION)
                    };
                    stages.push(Stage {
                        duration,
                        rate_start: rate,
                        rate_end: rate,
                        warmup: false,
                    });
                }
                (Some(list), None) => {
                    if l.duration.is_some() {
                        c.err_key(
                            "load.duration",
                            "with `stages`, each stage has its own `duration`",
                            None,
                        );
                    }
                    if l.warmup.is_some() {
                        c.err_key(
                            "load.warmup",
                            "with `stages`, the warm-up is a stage",
                            Some("mark a stage `warmup: true`".into()),
                        );
                    }
                    if list.is_empty() {
                        c.err("load.stages", "at least one stage is needed", None);
                    }
                    for (i, s) in list.iter().enumerate() {
                        let p = format!("load.stages[{i}]");
                        if s.duration.is_zero() {
                            c.err(&format!("{p}.duration"), "must be longer than zero", None);
                        }
                        let end = s.ramp_to.unwrap_or(s.rate);
                        let valid = |r: f64| r.is_finite() && (0.0..=MAX_RATE).contains(&r);
                        // A flat stage at zero is a pause (a replayed log's quiet seconds); the
                        // plan as a whole must still send something, checked below.
                        if !(valid(s.rate) && valid(end)) {
                            c.err(
                                &format!("{p}.rate"),
                                format!("the rate must be between zero (a pause) and {MAX_RATE} per second"),
                                None,
                            );
                        }
                        stages.push(Stage {
                            duration: s.duration,
                            rate_start: s.rate,
                            rate_end: end,
                            warmup: s.warmup,
                        });
                    }
                    let sends = |s: &&StageSpec| s.rate > 0.0 || s.ramp_to.is_some_and(|r| r > 0.0);
                    let mut measured = list.iter().filter(|s| !s.warmup).peekable();
                    if measured.peek().is_some() && !measured.any(|s| sends(&s)) {
                        c.err(
                            "load.stages",
                            "every measured stage is at rate zero, so nothing would be sent",
                            Some("a stage at `rate: 0` is a pause between stages that send".into()),
                        );
                    }
                    if !list.is_empty() && list.iter().all(|s| s.warmup) {
                        c.err(
                            "load.stages",
                            "every stage is a warm-up, so nothing would be measured",
                            None,
                        );
                    }
                }
                (None, None) => c.err(
                    "load",
                    "the open model needs a `rate` (requests per second) or `stages`",
                    Some("add `rate: 100`, or `model: closed` with `concurrency`".into()),
                ),
            }
            Model::Open { stages }
        }
        ModelName::Closed => {
            if l.rate.is_some() {
                c.err_key(
                    "load.rate",
                    "`rate` belongs to the open model",
                    Some("use `concurrency` with `model: closed`".into()),
                );
            }
            if l.stages.is_some() {
                c.err_key("load.stages", "`stages` belong to the open model", None);
            }
            let duration = match (l.duration, l.requests) {
                (d, Some(_)) => d,
                (d, None) => Some(d.unwrap_or(DEFAULT_DURATION)),
            };
            Model::Closed {
                concurrency: l.concurrency.unwrap_or(10),
                warmup: l.warmup.unwrap_or_default(),
                duration,
            }
        }
    };
    let whole = match &model {
        // Saturating: a typo'd duration of a million years must be reported, not overflow.
        Model::Open { stages } => stages
            .iter()
            .fold(Duration::ZERO, |a, s| a.saturating_add(s.duration)),
        Model::Closed {
            warmup, duration, ..
        } => warmup.saturating_add(duration.unwrap_or_default()),
    };
    if let Some(why) = too_long(whole, MAX_RUN) {
        let at = if l.stages.is_none() && l.duration.is_some() {
            "load.duration"
        } else {
            "load"
        };
        c.err(
            at,
            format!("the whole run, warm-up included: {why}"),
            Some("split it into shorter runs".into()),
        );
    }
    let threads = l.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    Load {
        model,
        requests: l.requests,
        connections: l
            .connections
            .unwrap_or(match l.model {
                ModelName::Open => 8,
                ModelName::Closed => l.concurrency.unwrap_or(10),
            })
            .max(1),
        max_streams: l.max_streams.unwrap_or(16).max(1),
        requests_per_connection: l.requests_per_connection,
        threads: threads.max(1),
    }
}
