//! The command line: clap's raw arguments, their conversion into validated configurations
//! (`TryFrom`), and the subcommands. Nothing past this module sees clap.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

/// `print!` that ends quietly on a closed standard output (`gauntlet conformance --list |
/// head -1`): the reader has what it wanted, and a run still writes its results.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `println!` that ends quietly on a closed standard output; see `out!`.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

pub mod conformance;
pub mod import;
pub mod merge;
pub mod origin;
pub mod quick;

use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::engine::{self, RunOptions};
use crate::model::results as json;
use crate::model::verdict::code;
use crate::report::{console, html, junit, markdown, publish};
use crate::scenario::bounds;
use crate::scenario::model::{parse_cli_duration, ProtocolName};
use crate::scenario::{self, Overrides, ScenarioError};
use crate::verdict;

/// Protocol conformance and load testing of HTTP proxies.
#[derive(Debug, Parser)]
#[command(name = "gauntlet", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write results.
    Run(Box<RunArgs>),
    /// Check scenario files; exit 2 with positioned diagnostics when one is invalid.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A target's URL, as `run --target` gives it: NAME=URL.
        #[arg(long = "target", value_name = "NAME=URL")]
        targets: Vec<String>,
        /// The path under test, as `run --candidate` gives it: NAME=URL.
        #[arg(long, value_name = "NAME=URL")]
        candidate: Option<String>,
        /// The path it is judged against, as `run --baseline` gives it: NAME=URL.
        #[arg(long, value_name = "NAME=URL")]
        baseline: Option<String>,
        /// A host outside loopback and private networks that may be loaded, as `run
        /// --allow-host` gives it (repeatable).
        #[arg(long = "allow-host", value_name = "HOST")]
        allow_hosts: Vec<String>,
    },
    /// Run protocol conformance probes (h1, h2, h3, proxy) against a target, or two side by side.
    Conformance(conformance::ConformanceArgs),
    /// Serve the embedded reference origin until SIGINT or SIGTERM.
    Origin(origin::OriginArgs),
    /// Write a throwaway CA, a server certificate for localhost/127.0.0.1/::1 and a client
    /// certificate into a folder (ca.pem, cert.pem, key.pem, client.pem, client-key.pem).
    Certs {
        /// The folder.
        #[arg(long)]
        out: PathBuf,
        /// More names for the server certificate.
        #[arg(long = "name")]
        names: Vec<String>,
    },
    /// Print the JSON Schema of the scenario format (for editors through yaml-language-server),
    /// or with --results that of results.json.
    Schema {
        /// The schema of results.json instead.
        #[arg(long)]
        results: bool,
    },
    /// Re-render a saved run's reports from its results.json alone.
    Report {
        /// The results.json (not needed with --index alone).
        result: Option<PathBuf>,
        /// Write the HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write the Markdown summary here (`-`: standard output).
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Write every artefact (as `run` does) into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Regenerate the index.html of this reports folder.
        #[arg(long)]
        index: Option<PathBuf>,
    },
    /// Turn recorded traffic (an nginx access log, a HAR file) into a scenario.
    Import(import::ImportArgs),
    /// Add the results of `run --shard I/N` processes into one run, judged and reported like a
    /// live one.
    Merge(merge::MergeArgs),
    /// Compare two saved runs (BASE is the baseline, NEW the candidate) with the same verdicts and
    /// gates as a live comparison.
    Compare {
        /// The baseline run's results.json.
        base: PathBuf,
        /// The candidate run's results.json.
        new: PathBuf,
        /// Write the comparison's results.json and every report into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Compare runs that are not comparable (another scenario, request mix, rate plan or
        /// protocol set); the report says so.
        #[arg(long)]
        force: bool,
        /// Let verdict gates pass on an inconclusive verdict.
        #[arg(long)]
        allow_inconclusive: bool,
        /// Which path of a two-path BASE run is the baseline: `baseline` (the legacy path: is the
        /// new candidate as good as what it replaces?) or `candidate` (BASE's own candidate: did
        /// this change make the candidate worse than the main branch's?).
        #[arg(long, value_enum, default_value = "baseline")]
        base_role: crate::compare::saved::BaseRole,
    },
}

/// `gauntlet run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file, `-` for standard input, or a URL (quick mode).
    #[arg(value_name = "SCENARIO|URL")]
    pub scenario: String,
    /// Quick mode: a second URL, the baseline the first is compared with.
    #[arg(value_name = "URL2")]
    pub baseline_url: Option<String>,
    /// Replace a target's URL: NAME=URL (repeatable).
    #[arg(long = "target", value_name = "NAME=URL")]
    pub targets: Vec<String>,
    /// Output folder (default: reports/SCENARIO-UTCTIME/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Protocols, comma-separated: h1,h2,h3.
    #[arg(long, value_delimiter = ',')]
    pub protocol: Option<Vec<String>>,
    /// Measured duration (e.g. 30s).
    #[arg(long, short = 'z')]
    pub duration: Option<String>,
    /// Arrival rate per target × protocol (open model).
    // Negative numbers are taken as values, so that `--rate -5` is told what is wrong with it
    // rather than to write `-- -5`.
    #[arg(long, short = 'q', allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Requests in flight per target × protocol (closed model).
    #[arg(long, short = 'c', allow_negative_numbers = true)]
    pub concurrency: Option<i64>,
    /// Client threads (default: the CPUs this process may run on, from its affinity mask and
    /// cgroup quota).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<i64>,
    /// Stop after this many measured requests per target × protocol.
    #[arg(long, short = 'n', allow_negative_numbers = true)]
    pub requests: Option<i64>,
    /// Seed of the weighted request sequence (and of the comparison's resampling).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The target under test: NAME=URL (added, or replacing the scenario's).
    #[arg(long, value_name = "NAME=URL")]
    pub candidate: Option<String>,
    /// The target it is judged against: NAME=URL.
    #[arg(long, value_name = "NAME=URL")]
    pub baseline: Option<String>,
    /// A host outside loopback and private networks that may be loaded (repeatable); without
    /// it such a target is refused.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// No live view (`-q` is the rate, as in oha).
    #[arg(long)]
    pub quiet: bool,
    /// Quick mode: a request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Quick mode: the request method (default GET, or POST with -d).
    #[arg(short = 'm', long)]
    pub method: Option<String>,
    /// Quick mode: the request body; `@FILE` reads it from a file.
    #[arg(short = 'd', long)]
    pub data: Option<String>,
    /// Quick mode: over HTTP/1.1 (the default).
    #[arg(long = "http1.1")]
    pub http1: bool,
    /// Quick mode: over HTTP/2 (ALPN over TLS, prior knowledge over h2c://).
    #[arg(long)]
    pub http2: bool,
    /// Quick mode: over HTTP/3.
    #[arg(long)]
    pub http3: bool,
    /// Quick mode: accept any certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Quick mode: trust this CA bundle (PEM).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Quick mode: dial HOST:PORT, keeping the URL's host for Host and SNI.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect_to: Option<String>,
    /// Print the summary as JSON on standard output (instead of the table).
    #[arg(long)]
    pub json: bool,
    /// Let verdict gates pass on an inconclusive verdict (by default one fails its gate).
    #[arg(long)]
    pub allow_inconclusive: bool,
    /// Keep the values of secret headers (authorization, cookies, `secret_headers`) in the
    /// reports; by default they are redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Run only part I of N of the load (I from 0, like JOB_COMPLETION_INDEX): every N-th
    /// arrival, a share of the users and connections. `gauntlet merge` adds the parts up.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Begin the load at this instant (RFC 3339 in UTC, like 2026-12-03T10:00:00Z) or after
    /// this long (`+30s`), so that shards start together.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Serve live metrics for Prometheus at http://ADDR/metrics while the run lasts.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Keep serving /metrics this long after the run, for a last scrape.
    #[arg(long, value_name = "D", default_value = "0s")]
    pub metrics_linger: String,
    /// Push live metrics with the Prometheus remote-write protocol to this URL (Prometheus's
    /// /api/v1/write, Thanos Receive).
    #[arg(long, value_name = "URL")]
    pub remote_write: Option<String>,
    /// How often to push with --remote-write.
    #[arg(long, value_name = "D", default_value = "5s")]
    pub remote_write_every: String,
}

/// Where a run's scenario comes from.
#[derive(Debug, Clone)]
pub enum ScenarioSource {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Built from quick-mode flags.
    Quick(String),
}

/// A validated `run` request.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Where the scenario comes from.
    pub scenario: ScenarioSource,
    /// Print the JSON summary on standard output instead of the table.
    pub json: bool,
    /// Values that replace the file's.
    pub overrides: Overrides,
    /// Output folder, if given.
    pub out: Option<PathBuf>,
    /// Show progress.
    pub progress: bool,
    /// Let verdict gates pass on `inconclusive`.
    pub allow_inconclusive: bool,
    /// Leave secret header values in the reports.
    pub show_secrets: bool,
    /// The part of the plan to run.
    pub shard: Option<crate::model::results::ShardJson>,
    /// When the load begins.
    pub start_at: Option<SystemTime>,
    /// Live metrics, when asked for.
    pub metrics: Option<crate::metrics::MetricsConfig>,
}

impl TryFrom<&RunArgs> for RunConfig {
    type Error = String;

    fn try_from(a: &RunArgs) -> Result<Self, String> {
        let mut o = paths(&a.targets, a.candidate.as_deref(), a.baseline.as_deref())?;
        if let Some(d) = &a.duration {
            let d = parse_cli_duration(d).map_err(|e| format!("--duration: {e}"))?;
            if let Some(why) = bounds::too_long(d, bounds::MAX_RUN) {
                return Err(format!("--duration: {why}"));
            }
            o.duration = Some(d);
        }
        if let Some(r) = a.rate {
            if let Some(why) = bounds::bad_rate(r) {
                return Err(format!("--rate {}: {why}", bounds::show_rate(r)));
            }
            o.rate = Some(r);
        }
        if a.rate.is_some() && a.concurrency.is_some() {
            return Err(
                "--rate (open model) and --concurrency (closed model) exclude each other".into(),
            );
        }
        let count = |flag: &str, v: Option<i64>, max: u64, unit: &str| match v {
            None => Ok(None),
            Some(n) if n < 1 => Err(format!("--{flag} {n}: must be at least 1")),
            Some(n) => match bounds::above(n as u64, max, unit) {
                Some(why) => Err(format!("--{flag}: {why}")),
                None => Ok(Some(n as u64)),
            },
        };
        o.concurrency = count(
            "concurrency",
            a.concurrency,
            bounds::MAX_CONCURRENCY,
            "requests in flight",
        )?
        .map(|c| c as u32);
        o.requests = count("requests", a.requests, bounds::MAX_REQUESTS, "requests")?;
        o.threads = count("threads", a.threads, bounds::MAX_THREADS, "threads")?.map(|t| t as u32);
        o.seed = a.seed;
        o.allow_hosts = a.allow_hosts.clone();
        if let Some(list) = &a.protocol {
            let mut ps = Vec::new();
            for p in list {
                ps.push(match p.trim() {
                    "h1" => ProtocolName::H1,
                    "h2" => ProtocolName::H2,
                    "h3" => ProtocolName::H3,
                    other => {
                        return Err(format!(
                            "--protocol: unknown protocol `{other}` (h1, h2, h3)"
                        ))
                    }
                });
            }
            o.protocols = Some(ps);
        }
        Ok(RunConfig {
            scenario: source(a)?,
            json: a.json,
            overrides: o,
            out: a.out.clone(),
            progress: !a.quiet && std::io::stderr().is_terminal(),
            allow_inconclusive: a.allow_inconclusive,
            show_secrets: a.show_secrets,
            shard: a
                .shard
                .as_deref()
                .map(scenario::shard::parse)
                .transpose()
                .map_err(|e| format!("--shard {e}"))?,
            start_at: a.start_at.as_deref().map(start_at).transpose()?,
            metrics: metrics_config(a)?,
        })
    }
}

/// The scenario of `run`: a file, standard input, or quick mode's flags.
fn source(a: &RunArgs) -> Result<ScenarioSource, String> {
    if quick::is_url(&a.scenario) {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        return quick::scenario(a, &cwd).map(ScenarioSource::Quick);
    }
    let quick_only = [
        (!a.headers.is_empty(), "-H"),
        (a.method.is_some(), "-m"),
        (a.data.is_some(), "-d"),
        (a.http1, "--http1.1"),
        (a.http2, "--http2"),
        (a.http3, "--http3"),
        (a.insecure, "--insecure"),
        (a.ca.is_some(), "--ca"),
        (a.connect_to.is_some(), "--connect-to"),
        (a.baseline_url.is_some(), "a second URL"),
    ];
    if let Some((_, flag)) = quick_only.iter().find(|(on, _)| *on) {
        return Err(format!(
            "{flag} goes with a URL (quick mode: gauntlet run URL [URL2]); a scenario file says it in the file"
        ));
    }
    Ok(match a.scenario.as_str() {
        "-" => ScenarioSource::Stdin,
        f => ScenarioSource::File(PathBuf::from(f)),
    })
}

/// `--target NAME=URL`, `--candidate NAME=URL` and `--baseline NAME=URL`, as `run` and
/// `validate` take them.
fn paths(
    targets: &[String],
    candidate: Option<&str>,
    baseline: Option<&str>,
) -> Result<Overrides, String> {
    let mut o = Overrides::default();
    let name_url = |flag: &str, t: &str| {
        t.split_once('=')
            .map(|(n, u)| (n.to_string(), u.to_string()))
            .ok_or_else(|| format!("--{flag} `{t}`: write it as NAME=URL"))
    };
    for t in targets {
        o.targets.push(name_url("target", t)?);
    }
    o.candidate = candidate.map(|t| name_url("candidate", t)).transpose()?;
    o.baseline = baseline.map(|t| name_url("baseline", t)).transpose()?;
    Ok(o)
}

/// `--metrics-addr`, `--metrics-linger`, `--remote-write` and `--remote-write-every`.
fn metrics_config(a: &RunArgs) -> Result<Option<crate::metrics::MetricsConfig>, String> {
    let dur = |flag: &str, v: &str| {
        parse_cli_duration(v)
            .map_err(|e| format!("--{flag} `{v}`: {e}"))
            .and_then(|d| {
                if d > bounds::MAX_TIMEOUT {
                    Err(format!("--{flag} `{v}`: at most an hour"))
                } else {
                    Ok(d)
                }
            })
    };
    let linger = dur("metrics-linger", &a.metrics_linger)?;
    let every = dur("remote-write-every", &a.remote_write_every)?;
    if every < std::time::Duration::from_secs(1) {
        return Err(format!(
            "--remote-write-every `{}`: at least 1s",
            a.remote_write_every
        ));
    }
    let remote_write = match &a.remote_write {
        None => None,
        Some(u) => {
            let uri: http::Uri = u
                .parse()
                .map_err(|e| format!("--remote-write `{u}`: {e}"))?;
            if uri.scheme_str() != Some("http") || uri.host().is_none() {
                return Err(format!(
                    "--remote-write `{u}`: write http://HOST:PORT/api/v1/write"
                ));
            }
            let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
            if let Some(why) =
                scenario::reach::refusal(host, uri.port_u16().unwrap_or(80), &a.allow_hosts)
            {
                return Err(format!(
                    "--remote-write `{u}`: {why}; add --allow-host {host}"
                ));
            }
            Some(uri)
        }
    };
    if a.metrics_addr.is_none() && remote_write.is_none() {
        return Ok(None);
    }
    Ok(Some(crate::metrics::MetricsConfig {
        addr: a.metrics_addr,
        linger,
        remote_write,
        push_every: every,
    }))
}

/// `--start-at`: an RFC 3339 instant in UTC, or `+D` from now; at most a day ahead.
fn start_at(text: &str) -> Result<SystemTime, String> {
    let now = SystemTime::now();
    let at = match text.strip_prefix('+') {
        Some(d) => humantime::parse_duration(d)
            .map(|d| now + d)
            .map_err(|e| format!("--start-at `{text}`: {e} (write +30s, +2m)"))?,
        None => humantime::parse_rfc3339_weak(text).map_err(|e| {
            format!("--start-at `{text}`: {e} (write an instant in UTC like 2026-12-03T10:00:00Z, or +30s)")
        })?,
    };
    if at.duration_since(now).unwrap_or_default() > bounds::MAX_RUN {
        return Err(format!("--start-at `{text}`: more than a day ahead"));
    }
    Ok(at)
}

/// Cancels `token` on SIGINT or SIGTERM (from a thread of its own, so any runtime may run).
pub(crate) fn cancel_on_signal(token: CancellationToken) {
    let _ = std::thread::Builder::new().name("gauntlet-signal".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            eprintln!("\ninterrupted: stopping and writing what was collected");
            token.cancel();
        });
    });
}

pub(crate) fn default_out(name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    // Bounded: a 5,000-character scenario name must not make a file name the system refuses.
    let safe: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new("reports").join(format!("{safe}-{stamp}"))
}

fn scenario_error(e: &ScenarioError) -> ExitCode {
    match e {
        ScenarioError::Io(_) => eprintln!("error: {e}"),
        _ => eprint!("{e}"),
    }
    ExitCode::from(code::HARNESS)
}

/// Loads a scenario and checks the probe ids it names against the catalogue.
fn load_scenario(path: &Path, overrides: &Overrides) -> Result<scenario::Scenario, ScenarioError> {
    let s = scenario::load_file(path, overrides)?;
    crate::conformance::check::scenario(&s)?;
    Ok(s)
}

/// A scenario from standard input, capped like a file.
fn read_stdin() -> Result<String, ScenarioError> {
    use std::io::Read;
    let mut text = String::new();
    let cap = crate::model::files::SCENARIO_CAP;
    std::io::stdin()
        .take(cap + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            ScenarioError::Io(crate::model::files::InputError::Io {
                path: "<stdin>".into(),
                source: e,
            })
        })?;
    if text.len() as u64 > cap {
        return Err(ScenarioError::Io(
            crate::model::files::InputError::TooLarge {
                path: "<stdin>".into(),
                what: "a scenario",
                cap,
            },
        ));
    }
    Ok(text)
}

/// A scenario from text, with relative paths taken from the current folder.
fn load_text(
    name: &str,
    text: &str,
    overrides: &Overrides,
) -> Result<scenario::Scenario, ScenarioError> {
    let s = scenario::load_str(name, text, Path::new("."), overrides)?;
    crate::conformance::check::scenario(&s)?;
    Ok(s)
}

/// `gauntlet run`.
pub fn run(cfg: RunConfig) -> ExitCode {
    let loaded = match &cfg.scenario {
        ScenarioSource::File(p) => load_scenario(p, &cfg.overrides),
        ScenarioSource::Stdin => {
            read_stdin().and_then(|text| load_text("<stdin>", &text, &cfg.overrides))
        }
        ScenarioSource::Quick(text) => load_text("command line", text, &cfg.overrides),
    };
    let mut s = match loaded {
        Ok(s) => s,
        Err(e) => return scenario_error(&e),
    };
    if let Some(sh) = cfg.shard {
        if let Err(e) = scenario::shard::apply(&mut s, sh) {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    }
    // The folder is made and proved writable before any load: an unwritable --out found after
    // the run would lose it.
    let out = cfg.out.clone().unwrap_or_else(|| match s.shard {
        // Shards run side by side on one machine must not share a folder.
        Some(sh) => default_out(&format!("{}-shard-{}-of-{}", s.name, sh.index, sh.count)),
        None => default_out(&s.name),
    });
    if let Err(e) = crate::model::files::prepare_dir(&out) {
        eprintln!("error: --out {}: cannot write there: {e}", out.display());
        return ExitCode::from(code::HARNESS);
    }
    if let Some(why) = engine::limits::current().and_then(|l| engine::limits::check(&s, l)) {
        eprintln!("warning: {why}");
    }
    let stop = CancellationToken::new();
    cancel_on_signal(stop.clone());
    let watch = cfg.metrics.is_some() || cfg.progress;
    let live = Arc::new(if watch {
        engine::Live::publishing()
    } else {
        engine::Live::default()
    });
    let observer = if watch {
        match crate::metrics::Observer::start(
            cfg.metrics.clone(),
            cfg.progress,
            live.clone(),
            Arc::new(s.clone()),
        ) {
            Ok(o) => Some(o),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(code::HARNESS);
            }
        }
    } else {
        None
    };
    let mut outcome = match engine::run(
        &s,
        RunOptions {
            stop: stop.clone(),
            start_at: cfg.start_at,
            live: Some(live),
        },
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    if let Some(o) = observer {
        if let Some(m) = cfg.metrics.as_ref().filter(|m| m.addr.is_some()) {
            if !m.linger.is_zero() && !stop.is_cancelled() {
                eprintln!("serving the final metrics for {:?}…", m.linger);
                std::thread::sleep(m.linger);
            }
        }
        // Metrics that did not arrive are something the run was asked to do and did not.
        if let Err(why) = o.finish() {
            outcome.faults.push(format!("live metrics: {why}"));
        }
    }
    let probes = match (&s.conformance, outcome.interrupted) {
        (Some(c), false) => {
            eprintln!("probing conformance…");
            match conformance::runtime().and_then(|rt| {
                rt.block_on(crate::conformance::scenario::probe_scenario(&s, c, &stop))
            }) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("error: conformance probes: {e}");
                    return ExitCode::from(code::HARNESS);
                }
            }
        }
        _ => None,
    };
    let mut results = verdict::results(
        &s,
        &outcome,
        probes,
        outcome.faults.clone(),
        cfg.allow_inconclusive,
    );
    if let Err(e) = keep_secrets(&mut results, &s.secrets, cfg.show_secrets) {
        eprintln!("error: {e}");
        return ExitCode::from(code::HARNESS);
    }
    if cfg.json {
        out!("{}\n", quick::summary(&results));
    } else {
        out!("{}", console::render(&results));
        out!("{}", crate::report::probes::console(&results));
    }
    match publish::write_all(&out, &results) {
        Ok(paths) => {
            eprintln!("results: {}", out.display());
            for p in paths {
                eprintln!("  {}", p.display());
            }
            // A run folder under reports/ keeps the published list up to date.
            if let Some(parent) = out
                .parent()
                .filter(|p| p.file_name().is_some_and(|n| n == "reports"))
            {
                if let Ok(index) = publish::write_index(parent) {
                    eprintln!("  {}", index.display());
                }
            }
        }
        Err(e) => {
            eprintln!("error: cannot write results to {}: {e}", out.display());
            return ExitCode::from(code::HARNESS);
        }
    }
    ExitCode::from(results.verdict.exit_code)
}

/// Redacts `secrets` from `results` before anything is shown or written, or marks them shown.
pub(crate) fn keep_secrets(
    results: &mut crate::model::results::ResultsFile,
    secrets: &crate::model::redact::Secrets,
    show: bool,
) -> Result<(), String> {
    if show {
        results.meta.secrets_shown = true;
        return Ok(());
    }
    secrets
        .redact(results)
        .map_err(|e| format!("cannot redact the secrets of the results: {e}"))
}

/// Where `gauntlet report` writes.
pub struct ReportTargets {
    html: Option<PathBuf>,
    junit: Option<PathBuf>,
    markdown: Option<PathBuf>,
    out: Option<PathBuf>,
    index: Option<PathBuf>,
}

/// `gauntlet report`.
pub fn report(result: Option<&Path>, t: ReportTargets) -> ExitCode {
    let fail = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(code::HARNESS)
    };
    // `--index` alone rebuilds a reports folder's list: no results file is needed for that.
    let r = match result.map(json::read).transpose() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let Some(r) = r else {
        let Some(dir) = t.index else {
            return fail("give a results.json, or --index REPORTS alone".into());
        };
        return match publish::write_index(&dir) {
            Ok(p) => {
                eprintln!("wrote {}", p.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("cannot index {}: {e}", dir.display())),
        };
    };
    let nothing_asked = t.html.is_none()
        && t.junit.is_none()
        && t.markdown.is_none()
        && t.out.is_none()
        && t.index.is_none();
    let mut jobs: Vec<(PathBuf, String)> = Vec::new();
    if let Some(p) = t.html {
        jobs.push((p, html::render(&r)));
    }
    if let Some(p) = t.junit {
        jobs.push((p, junit::render(&r)));
    }
    if let Some(p) = t.markdown {
        jobs.push((p, markdown::render(&r)));
    }
    for (p, text) in jobs {
        // `-` is standard output, as curl and most tools read it.
        if p.as_os_str() == "-" {
            out!("{text}");
            continue;
        }
        if let Err(e) = crate::model::files::write_atomic(&p, text.as_bytes()) {
            return fail(format!("cannot write {}: {e}", p.display()));
        }
        eprintln!("wrote {}", p.display());
    }
    if let Some(dir) = t.out {
        match publish::write_all(&dir, &r) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
            }
            Err(e) => return fail(format!("cannot write into {}: {e}", dir.display())),
        }
    }
    if let Some(dir) = t.index {
        match publish::write_index(&dir) {
            Ok(p) => eprintln!("wrote {}", p.display()),
            Err(e) => return fail(format!("cannot index {}: {e}", dir.display())),
        }
    }
    if nothing_asked {
        out!("{}", markdown::render(&r));
    }
    ExitCode::SUCCESS
}

/// `gauntlet certs`.
pub fn certs(out: &Path, names: &[String]) -> ExitCode {
    let write = || -> Result<(), String> {
        let set = crate::origin::certs::generate(names).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
        for (file, text) in [
            ("ca.pem", &set.ca_pem),
            ("cert.pem", &set.cert_pem),
            ("key.pem", &set.key_pem),
            ("client.pem", &set.client_cert_pem),
            ("client-key.pem", &set.client_key_pem),
        ] {
            std::fs::write(out.join(file), text).map_err(|e| format!("{file}: {e}"))?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => {
            outln!("{}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(code::HARNESS)
        }
    }
}

/// `gauntlet compare`.
pub fn compare(
    base: &Path,
    new: &Path,
    out: Option<&Path>,
    force: bool,
    allow_inconclusive: bool,
    base_role: crate::compare::saved::BaseRole,
) -> ExitCode {
    let read = |p: &Path| json::read(p);
    let (b, n) = match (read(base), read(new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    let saved = match crate::compare::saved::compare(&b, &n, force, base_role) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    let mut r = saved.results;
    // Titles name the files and commits, not `candidate (candidate)`.
    let source = |p: &Path, f: &json::ResultsFile| match &f.meta.commit {
        Some(c) => format!("{} @ {}", p.display(), c.get(..12).unwrap_or(c)),
        None => format!("{} ({})", p.display(), f.meta.started),
    };
    if let Some(c) = r.comparison.as_mut() {
        c.sources = vec![source(new, &n), source(base, &b)];
    }
    verdict::conclude(
        &mut r,
        verdict::Rules {
            gates: &saved.gates,
            roles: crate::compare::evaluate::Roles {
                candidate: Some("candidate"),
                baseline: Some("baseline"),
            },
            differences: 0,
            allow_inconclusive: allow_inconclusive || saved.allow_inconclusive,
            harness: Vec::new(),
        },
    );
    let mut text = String::new();
    console::render_comparison(&mut text, &r);
    out!("{text}");
    let mut verdict_text = String::new();
    console::render_verdict(&mut verdict_text, &r);
    out!("{verdict_text}");
    if let Some(dir) = out {
        // Every report, as a run writes them: the comparison is published like one.
        match publish::write_all(dir, &r) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", dir.display());
                return ExitCode::from(code::HARNESS);
            }
        }
    }
    ExitCode::from(r.verdict.exit_code)
}

/// `gauntlet validate`.
pub fn validate(files: &[PathBuf], overrides: &Overrides) -> ExitCode {
    let mut worst = code::OK;
    for f in files {
        match load_scenario(f, overrides) {
            Ok(s) => outln!(
                "{}: ok ({} targets, {} protocols, {} requests)",
                f.display(),
                s.targets.len(),
                s.protocols.len(),
                s.requests.len()
            ),
            Err(e) => {
                scenario_error(&e);
                worst = code::HARNESS;
            }
        }
    }
    ExitCode::from(worst)
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    // Before anything opens a socket: every command that loads or serves benefits, and the
    // origin (`gauntlet origin`) holds one descriptor per client connection too.
    let _ = engine::limits::raise_fd_limit();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                code::HARNESS
            } else {
                code::OK
            });
        }
    };
    match cli.command {
        Command::Run(a) => match RunConfig::try_from(a.as_ref()) {
            Ok(cfg) => run(cfg),
            Err(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(code::HARNESS)
            }
        },
        Command::Validate {
            files,
            targets,
            candidate,
            baseline,
            allow_hosts,
        } => match paths(&targets, candidate.as_deref(), baseline.as_deref()) {
            Ok(mut o) => {
                o.allow_hosts = allow_hosts;
                validate(&files, &o)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(code::HARNESS)
            }
        },
        Command::Origin(a) => origin::origin(&a),
        Command::Conformance(a) => conformance::conformance(&a),
        Command::Merge(a) => merge::merge(&a),
        Command::Import(a) => import::import(a),
        Command::Compare {
            base,
            new,
            out,
            force,
            allow_inconclusive,
            base_role,
        } => compare(
            &base,
            &new,
            out.as_deref(),
            force,
            allow_inconclusive,
            base_role,
        ),
        Command::Certs { out, names } => certs(&out, &names),
        Command::Schema { results } => {
            outln!(
                "{}",
                if results {
                    crate::schema::results()
                } else {
                    crate::schema::scenario()
                }
            );
            ExitCode::SUCCESS
        }
        Command::Report {
            result,
            html,
            junit,
            markdown,
            out,
            index,
        } => report(
            result.as_deref(),
            ReportTargets {
                html,
                junit,
                markdown,
                out,
                index,
            },
        ),
    }
}
