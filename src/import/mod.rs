//! `gauntlet import`: recorded traffic (an nginx access log, a HAR file) turned into a scenario.
//! Requests are grouped by method and normalised path (`normalise`), weighted by how often each
//! group was seen, sent to one representative path with its headers and body where the source has
//! them, secrets replaced by environment references (`redact`). With `--timing original` the
//! recorded per-second arrivals become open-model stages (`timing`). Logs are read line by line
//! in bounded memory (`read`, `aggregate`); a line that cannot be used is counted and shown as an
//! example (`summary`), never fatal, unless nothing at all could be used.

mod aggregate;
mod clock;
pub mod har;
pub mod nginx;
mod normalise;
pub mod read;
mod redact;
mod summary;
pub mod timing;
mod write;

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use aggregate::MAX_GROUPS;

use crate::scenario::bounds::MAX_RATE;
use aggregate::Aggregate;
use read::{shown, Line, Lines};
use summary::Summary;

/// One recorded request, as a source gives it.
#[derive(Debug, Clone)]
pub struct Record {
    /// When it arrived, in seconds since the Unix epoch, if the source says.
    pub at: Option<f64>,
    /// The method.
    pub method: String,
    /// Path and query (origin form).
    pub target: String,
    /// Request headers the source recorded.
    pub headers: Vec<(String, String)>,
    /// The body, with its media type, if the source recorded it.
    pub body: Option<(String, String)>,
    /// The recorded response status.
    pub status: Option<u16>,
}

/// What is read.
#[derive(Debug)]
pub enum Source {
    /// An nginx access log in this format (`combined`, `json` or a `log_format`).
    NginxLog {
        /// The format, compiled.
        format: nginx::Format,
        /// As given, for the summary.
        spec: String,
    },
    /// A HAR 1.2 file.
    Har,
}

/// How the scenario paces its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The recorded mix at the recorded mean rate, for 30 s.
    Mix,
    /// The recorded per-second arrival rate, stage by stage.
    Original,
}

/// A validated import request (the CLI's flags after their checks).
#[derive(Debug)]
pub struct Options {
    /// The source and its format.
    pub source: Source,
    /// How arrivals are paced.
    pub timing: Timing,
    /// With `Timing::Original`, the replay runs this many times faster than recorded.
    pub speed: f64,
    /// The target's URL.
    pub target: String,
    /// Keep recorded secrets instead of replacing them.
    pub keep_secrets: bool,
    /// At most this many requests (groups) in the scenario, the most frequent.
    pub max_requests: usize,
}

/// An import's result.
#[derive(Debug)]
pub struct Imported {
    /// The scenario's YAML, its summary as the leading comment.
    pub yaml: String,
    /// The summary.
    pub summary: Vec<String>,
}

/// Why an import produced no scenario.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HAR file was refused (too large, not UTF-8, not a regular file).
    #[error(transparent)]
    Input(#[from] crate::model::files::InputError),
    /// The input is not a HAR document.
    #[error("{0}")]
    NotHar(String),
    /// Not one request could be used; the summary says what was skipped.
    #[error("no request could be read from {path}:\n  {}", .summary.join("\n  "))]
    Nothing {
        /// The input.
        path: String,
        /// What was read and skipped.
        summary: Vec<String>,
    },
    /// The recorded timing cannot be replayed as asked.
    #[error("--timing original: {0}")]
    Timing(String),
    /// The scenario could not be serialised.
    #[error("writing the scenario: {0}")]
    Write(String),
}

/// The mean-rate run of `Timing::Mix`.
const MIX_DURATION_S: u64 = 30;
/// Groups listed in the summary.
const TOP: usize = 10;

/// What reading a source gathered.
struct Gathered {
    agg: Aggregate,
    sum: Summary,
}

/// Imports `path`.
pub fn import(path: &Path, o: &Options) -> Result<Imported, ImportError> {
    let shown_path = path.display().to_string();
    let mut g = Gathered {
        agg: Aggregate::new(o.keep_secrets),
        sum: Summary::default(),
    };
    match &o.source {
        Source::NginxLog { format, spec } => nginx_log(path, format, spec, &mut g)?,
        Source::Har => har_file(path, &mut g)?,
    }
    let Gathered { agg, mut sum } = g;
    if sum.parsed == 0 {
        return Err(ImportError::Nothing {
            path: shown_path,
            summary: sum.input_lines(),
        });
    }
    sum.overflow = agg.overflow;
    let untimed = agg.untimed;
    let (mut groups, profile, redactor) = agg.into_groups();
    let rare = groups.split_off(groups.len().min(o.max_requests));
    sum.rare = (rare.len(), rare.iter().map(|g| g.count).sum());
    sum.groups = groups.len();
    sum.kept = groups.iter().map(|g| g.count).sum();
    sum.top = groups
        .iter()
        .take(TOP)
        .map(|g| (g.key.clone(), g.count))
        .collect();
    sum.secrets = (!o.keep_secrets).then(|| redactor.variables.iter().cloned().collect());
    sum.replaced = redactor.replaced;
    let load = match o.timing {
        Timing::Mix => {
            let span = profile.span_s().max(1) as f64;
            let mean = profile.total() as f64 / span;
            // A sparse log's mean would send next to nothing in a short run; at least 1/s.
            let rate = ((mean * 1000.0).round() / 1000.0).clamp(1.0, MAX_RATE);
            sum.timing = format!(
                "load: the mix at {rate}/s for {MIX_DURATION_S}s (recorded mean {mean:.3}/s over {span} s); --timing original replays the recorded rate"
            );
            write::Load::Mix {
                rate,
                duration_s: MIX_DURATION_S,
            }
        }
        Timing::Original => {
            let r = timing::replay(&profile, o.speed).map_err(ImportError::Timing)?;
            let length: f64 = r.stages.iter().map(|s| s.duration_s).sum();
            sum.timing = format!(
                "load: the recorded arrivals, {} requests over {} recorded seconds, at speed {} ({} stages, {length:.1} s); the mix is drawn by weight, not in the recorded order",
                profile.total(),
                profile.span_s(),
                o.speed,
                r.stages.len()
            );
            if r.window_s > 1 {
                sum.notes.push(format!(
                    "the rate is averaged over windows of {} s to keep the scenario under {} stages",
                    r.window_s,
                    timing::MAX_STAGES
                ));
            }
            if profile.outside > 0 {
                sum.notes.push(format!(
                    "{} requests more than {} days from the others are not in the timing",
                    profile.outside,
                    timing::MAX_SPAN_S / 86_400
                ));
            }
            if sum.rare.1 + sum.overflow > 0 {
                sum.notes.push(
                    "the rate counts the requests of dropped groups too: the replay sends them as \
                     requests of the kept groups, by weight"
                        .into(),
                );
            }
            if untimed > 0 {
                sum.notes.push(format!(
                    "{untimed} requests had no time and are not in the timing"
                ));
            }
            write::Load::Stages(r.stages)
        }
    };
    let summary = sum.lines();
    let name = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect()
        })
        .filter(|s: &String| !s.trim().is_empty())
        .unwrap_or_else(|| "imported".to_string());
    let yaml =
        write::scenario(&name, &o.target, &summary, &load, &groups).map_err(ImportError::Write)?;
    Ok(Imported { yaml, summary })
}

/// Counts a parsed request in, unless its target cannot be sent; `at` names the line or entry
/// (made only when a line is skipped: formatting it for every line of a large log would cost).
fn accept(g: &mut Gathered, at: impl Fn() -> String, r: Record) {
    if r.target.parse::<http::uri::PathAndQuery>().is_err() {
        g.sum.skips.skip(
            &at(),
            "the path is not a valid URI path",
            &shown(r.target.as_bytes()),
        );
        return;
    }
    g.sum.parsed += 1;
    g.agg.add(r);
}

fn nginx_log(
    path: &Path,
    format: &nginx::Format,
    spec: &str,
    g: &mut Gathered,
) -> Result<(), ImportError> {
    let read_err = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let spec: String = spec.chars().take(60).collect();
    g.sum.source = format!("{} (nginx, {spec})", path.display());
    let mut lines = Lines::new(BufReader::with_capacity(256 * 1024, file));
    loop {
        let n = lines.number + 1;
        let at = || format!("line {n}");
        let Some(line) = lines.next_line().map_err(read_err)? else {
            break;
        };
        g.sum.read += 1;
        match line {
            Line::Text(t) if t.trim().is_empty() => {
                g.sum.skips.skip(&at(), "blank", "");
            }
            Line::Text(t) => match format.record(t) {
                Ok(r) => accept(g, at, r),
                Err(why) => g.sum.skips.skip(&at(), why, &shown(t.as_bytes())),
            },
            Line::TooLong(b) => g.sum.skips.skip(&at(), "longer than 16 KiB", &shown(b)),
            Line::NotText(b) => g.sum.skips.skip(&at(), "not text", &shown(b)),
        }
    }
    Ok(())
}

fn har_file(path: &Path, g: &mut Gathered) -> Result<(), ImportError> {
    let text = crate::model::files::read_text(path, "HAR file", har::MAX_HAR)?;
    let entries = har::entries(&text).map_err(ImportError::NotHar)?;
    drop(text);
    g.sum.source = format!("{} (HAR)", path.display());
    let mut parsed = Vec::new();
    let mut hosts: BTreeMap<String, u64> = BTreeMap::new();
    for (i, v) in entries.into_iter().enumerate() {
        g.sum.read += 1;
        match har::entry(v) {
            Ok(p) => {
                *hosts.entry(p.host.clone()).or_default() += 1;
                parsed.push((i, p));
            }
            Err((why, example)) => g.sum.skips.skip(&format!("entry {i}"), why, &example),
        }
    }
    // The host with the most requests; on a tie, the first in order.
    let Some(main) = hosts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(h, _)| h.clone())
    else {
        return Ok(());
    };
    let others: Vec<String> = hosts
        .iter()
        .filter(|(h, _)| **h != main)
        .map(|(h, n)| format!("{h} ({n})"))
        .collect();
    if !others.is_empty() {
        g.sum.notes.push(format!(
            "kept the requests to {main}; dropped those to other hosts: {}",
            others.join(", ")
        ));
    }
    for (i, p) in parsed {
        if p.host == main {
            accept(g, || format!("entry {i}"), p.record);
        }
    }
    Ok(())
}
