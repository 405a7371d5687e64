//! `gauntlet conformance`: protocol probes against one path, or two side by side, with the
//! recording origin listening where the proxies forward when `--origin` is given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::conformance::probes::{ProxyPolicy, ViaPolicy, XffPolicy};
use crate::conformance::run::{Quirks, Selection};
use crate::conformance::scenario::{embedded, probe_all, proxied};
use crate::conformance::{check, probes};
use crate::model::conformance::Suite;
use crate::model::results::{Meta, ResultsFile, SCHEMA_VERSION};
use crate::model::verdict::{code, Verdict};
use crate::origin::raw::RawOrigin;
use crate::origin::recording::Recorder;
use crate::proto::raw::RawTarget;
use crate::report::{probes as probe_report, publish};
use crate::scenario::model::parse_cli_duration;
use crate::scenario::TlsOptions;

/// `gauntlet conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The path under test: URL, NAME=URL, or `embedded` (the in-process origin).
    #[arg(long, value_name = "[NAME=]URL", required_unless_present = "list")]
    pub target: Option<String>,
    /// Print the probes (id, RFC section, what each checks) and exit.
    #[arg(long)]
    pub list: bool,
    /// A second path, probed the same way and judged for parity: [NAME=]URL.
    #[arg(long, value_name = "[NAME=]URL")]
    pub baseline: Option<String>,
    /// Families to run, comma-separated: h1,h2,h3,proxy (default: all).
    #[arg(long, value_delimiter = ',')]
    pub suite: Vec<String>,
    /// Run only probes whose id starts with this (repeatable).
    #[arg(long)]
    pub probe: Vec<String>,
    /// Serve as the recording origin on ADDR while probing: the proxies under test forward
    /// there, and smuggling verdicts look at what arrived.
    #[arg(long, value_name = "ADDR")]
    pub origin: Option<SocketAddr>,
    /// A shell command that reloads the target gracefully (for `proxy.reload.in-flight`).
    #[arg(long, value_name = "CMD")]
    pub reload: Option<String>,
    /// The same for the baseline.
    #[arg(long, value_name = "CMD")]
    pub baseline_reload: Option<String>,
    /// Via policy for proxy probes: any, required or forbidden.
    #[arg(long, default_value = "any")]
    pub via: String,
    /// X-Forwarded-For policy for proxy probes: any, append, replace or forbidden.
    #[arg(long, default_value = "any")]
    pub x_forwarded_for: String,
    /// CA bundle (PEM) to trust for https targets.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Accept any certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Known, accepted parity differences (YAML: quirks: [{path, probe, reason}]).
    #[arg(long)]
    pub quirks: Option<PathBuf>,
    /// Output folder (default: reports/conformance-UTCTIME/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Deadline of each step of a probe.
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// A host outside loopback and private networks that may be probed (repeatable).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Keep the values of authorization and cookie headers in the reports (redacted by
    /// default).
    #[arg(long)]
    pub show_secrets: bool,
}

fn named(s: &str, default: &str) -> (String, String) {
    match s.split_once('=') {
        Some((n, u)) if !n.contains("://") => (n.to_string(), u.to_string()),
        _ => (default.to_string(), s.to_string()),
    }
}

/// Parses `--suite` values.
pub fn suites(names: &[String]) -> Result<Vec<Suite>, String> {
    names
        .iter()
        .map(|n| {
            Suite::parse(n.trim())
                .ok_or_else(|| format!("unknown suite `{n}` (expected h1, h2, h3 or proxy)"))
        })
        .collect()
}

fn policy(a: &ConformanceArgs) -> Result<ProxyPolicy, String> {
    let via = match a.via.as_str() {
        "any" => ViaPolicy::Any,
        "required" => ViaPolicy::Required,
        "forbidden" => ViaPolicy::Forbidden,
        v => return Err(format!("--via `{v}`: expected any, required or forbidden")),
    };
    let x_forwarded_for = match a.x_forwarded_for.as_str() {
        "any" => XffPolicy::Any,
        "append" => XffPolicy::Append,
        "replace" => XffPolicy::Replace,
        "forbidden" => XffPolicy::Forbidden,
        v => {
            return Err(format!(
                "--x-forwarded-for `{v}`: expected any, append, replace or forbidden"
            ))
        }
    };
    Ok(ProxyPolicy {
        via,
        x_forwarded_for,
    })
}

fn harness(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(code::HARNESS)
}

/// The runtime probes run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// The probe catalogue, one line each.
fn list(sel: &Selection) -> ExitCode {
    for p in probes::selected(sel) {
        outln!(
            "{:<36} {:<6} {:<34} {}",
            p.id,
            p.suite.as_str(),
            p.rfc,
            p.title
        );
    }
    ExitCode::SUCCESS
}

/// Runs `gauntlet conformance`.
pub fn conformance(a: &ConformanceArgs) -> ExitCode {
    let timeout = match parse_cli_duration(&a.timeout) {
        Ok(t) => t,
        Err(e) => return harness(format!("--timeout: {e}")),
    };
    let sel = match suites(&a.suite) {
        Ok(s) => Selection {
            suites: s,
            only: a.probe.clone(),
        },
        Err(e) => return harness(e),
    };
    if probes::selected(&sel).is_empty() {
        return harness("no probe matches --suite/--probe");
    }
    let Some(target) = a.target.as_ref().filter(|_| !a.list) else {
        return list(&sel);
    };
    let policy = match policy(a) {
        Ok(p) => p,
        Err(e) => return harness(e),
    };
    let quirks = match &a.quirks {
        Some(p) => match Quirks::load(p).and_then(|q| check::quirks(&q).map(|()| q)) {
            Ok(q) => q,
            Err(e) => return harness(e),
        },
        None => Quirks::default(),
    };
    let tls = TlsOptions {
        ca: a.ca.clone(),
        insecure: a.insecure,
        resumption: true,
        ..Default::default()
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return harness(e),
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| super::default_out("conformance"));
    if let Err(e) = crate::model::files::prepare_dir(&out) {
        return harness(format!("--out {}: cannot write there: {e}", out.display()));
    }
    let stop = CancellationToken::new();
    super::cancel_on_signal(stop.clone());
    rt.block_on(async {
        let started = SystemTime::now();
        let raw = match a.origin {
            Some(addr) => match RawOrigin::start(addr, Recorder::default()).await {
                Ok(o) => Some(o),
                Err(e) => return harness(format!("--origin {addr}: {e}")),
            },
            None => None,
        };
        let mut origins = Vec::new();
        let mut specs = Vec::new();
        let given = [
            Some((target, "target", &a.reload)),
            a.baseline
                .as_ref()
                .map(|b| (b, "baseline", &a.baseline_reload)),
        ];
        for (s, default, reload) in given.into_iter().flatten() {
            let (name, url) = named(s, default);
            if url == "embedded" {
                match embedded(&name, tls.clone(), timeout, reload.clone()).await {
                    Ok((spec, o)) => {
                        specs.push(spec);
                        origins.push(o);
                    }
                    Err(e) => return harness(e),
                }
            } else {
                let t = match RawTarget::from_url(&url, tls.clone(), timeout) {
                    Ok(t) => t,
                    Err(e) => return harness(format!("--{default} {url}: {e}")),
                };
                let (host, port) = t.dial();
                if let Some(why) = crate::scenario::reach::refusal(host, port, &a.allow_hosts) {
                    return harness(format!(
                        "--{default} {url}: {why}; add --allow-host {host} if you mean to probe it"
                    ));
                }
                specs.push(proxied(&name, t, raw.as_ref(), reload.clone(), policy));
            }
        }
        for spec in &specs {
            eprintln!("probing {} ({})", spec.name, spec.target.url);
        }
        let pair = (specs.len() == 2).then(|| (specs[0].name.as_str(), specs[1].name.as_str()));
        let c = probe_all(&specs, &sel, pair, &quirks, &stop).await;
        let mut meta = Meta::probes_only("conformance", started, SystemTime::now());
        meta.interrupted = c.interrupted;
        meta.insecure = a.insecure;
        let mut results = ResultsFile {
            schema_version: SCHEMA_VERSION,
            meta,
            lanes: Vec::new(),
            comparison: None,
            gates: Vec::new(),
            differential: None,
            verdict: Verdict::default(),
            conformance: Some(c),
        };
        crate::verdict::conclude(
            &mut results,
            crate::verdict::Rules {
                gates: &[],
                roles: crate::compare::evaluate::Roles {
                    candidate: None,
                    baseline: None,
                },
                differences: 0,
                allow_inconclusive: false,
                harness: Vec::new(),
            },
        );
        if let Some(o) = raw {
            o.shutdown().await;
        }
        for o in origins {
            o.shutdown().await;
        }
        let secrets = crate::model::redact::Secrets::default();
        if let Err(e) = super::keep_secrets(&mut results, &secrets, a.show_secrets) {
            return harness(e);
        }
        out!("{}", crate::report::console::caveats(&results));
        out!("{}", probe_report::console(&results));
        match publish::write_all(&out, &results) {
            Ok(files) => {
                eprintln!("results: {}", out.display());
                for f in files {
                    eprintln!("  {}", f.display());
                }
            }
            Err(e) => return harness(format!("cannot write {}: {e}", out.display())),
        }
        ExitCode::from(results.verdict.exit_code)
    })
}
