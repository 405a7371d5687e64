//! The load engine: turns a [`Scenario`] into lanes (target × protocol), spreads their
//! connections over client threads, runs them, and merges what each thread recorded.
//!
//! Each client thread runs its own single-threaded tokio runtime and records into its own
//! histograms, as wrk and h2load do: no locks and no cross-thread traffic on the hot path. A
//! control runtime on the calling thread hosts the embedded origin and watches for the end.

pub mod flow;
pub mod limits;
pub mod plan;
pub mod results;
pub mod sample;
pub mod schedule;
pub mod thread;
pub mod transport;
pub mod worker;

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, Uri};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_util::sync::CancellationToken;

use crate::model::results::AltSvcReport;
use crate::origin::{Origin, OriginConfig};
use crate::proto::hyper_io::StreamDialer;
use crate::proto::{alt_svc, tls, Protocol};
use crate::record::stats::LaneStats;
use crate::scenario::{Endpoint, Fairness, Model, Scenario, TargetUrl};
use plan::RatePlan;
use schedule::{Pacing, Schedule, ScheduleConfig, Share};
use worker::PreparedRequest;

/// Live counters read by the progress display, and (when asked for) each client thread's
/// figures so far, for the live metrics.
#[derive(Debug, Default)]
pub struct Live {
    /// Requests completed.
    pub done: AtomicU64,
    /// Requests failed.
    pub errors: AtomicU64,
    /// Requests in flight.
    pub inflight: AtomicI64,
    /// Whether client threads publish their figures every second (`--metrics-addr`,
    /// `--remote-write`); off, the hot loop pays nothing for it.
    pub publish: bool,
    /// What each lane is, set when the run starts.
    pub lanes: std::sync::OnceLock<Vec<LaneInfo>>,
    /// When the plan began.
    pub t0: std::sync::OnceLock<Instant>,
    /// Each client thread's latest figures, by lane.
    pub snapshots: std::sync::Mutex<Vec<Vec<LaneStats>>>,
    /// Set once every client thread has finished.
    pub finished: std::sync::atomic::AtomicBool,
}

/// What a lane is, for labels.
#[derive(Debug, Clone)]
pub struct LaneInfo {
    /// Target name.
    pub target: String,
    /// Target URL as reached.
    pub url: String,
    /// Its part in a comparison.
    pub role: Option<crate::model::results::Role>,
    /// Protocol.
    pub protocol: Protocol,
    /// Request names, by index.
    pub requests: Vec<String>,
}

impl Live {
    /// Live figures that client threads publish into.
    pub fn publishing() -> Self {
        Live {
            publish: true,
            ..Live::default()
        }
    }

    /// Every thread's latest figures added up, by lane; empty before the first publication.
    pub fn figures(&self) -> Vec<LaneStats> {
        let Some(lanes) = self.lanes.get() else {
            return Vec::new();
        };
        // Full figures for every lane: a thread's are empty for the lanes it does not run.
        let mut out: Vec<LaneStats> = lanes
            .iter()
            .map(|l| LaneStats::new(l.requests.len()))
            .collect();
        let snaps = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        for per_thread in snaps.iter() {
            for (a, b) in out.iter_mut().zip(per_thread) {
                a.merge(b);
            }
        }
        out
    }

    /// Stores thread `i`'s figures.
    pub fn store(&self, i: usize, figures: Vec<LaneStats>) {
        let mut snaps = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        if snaps.len() <= i {
            snaps.resize_with(i + 1, Vec::new);
        }
        snaps[i] = figures;
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A TLS setting could not be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsConfigError),
    /// The embedded origin did not start.
    #[error("the embedded origin did not start: {0}")]
    Origin(String),
    /// A target's TLS server name is not usable.
    #[error("target {target}: {message}")]
    Target {
        /// The target.
        target: String,
        /// What is wrong.
        message: String,
    },
    /// The runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Cancelled to stop the run early (Ctrl-C).
    pub stop: CancellationToken,
    /// When the load begins (`--start-at`); now when unset or past.
    pub start_at: Option<SystemTime>,
    /// Live figures to share with an observer (the metrics exporter); `None` for the run's own.
    pub live: Option<Arc<Live>>,
}

/// The results of one lane.
#[derive(Debug, Clone)]
pub struct LaneResult {
    /// Target name.
    pub target: String,
    /// Target URL as reached.
    pub url: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Merged figures.
    pub stats: LaneStats,
    /// What Alt-Svc discovery found, for HTTP/3 lanes with `alt_svc: discover`.
    pub alt_svc: Option<AltSvcReport>,
    /// A `curl` command per request, reproducing it on this lane's path.
    pub reproducers: Vec<String>,
    /// Open model: how much of the plan the client sent; `None` for the closed model.
    pub plan: Option<schedule::Shortfall>,
}

struct Discovery {
    report: AltSvcReport,
    dial: Option<(String, u16)>,
}

/// Asks `url` over HTTP/2 for its Alt-Svc header and picks the advertised HTTP/3 endpoint.
fn discover_h3(
    control: &tokio::runtime::Runtime,
    s: &Scenario,
    url: &TargetUrl,
    extra_ca: &[CertificateDer<'static>],
) -> Result<Discovery, EngineError> {
    let cfg = tls::client_config(&s.tls, &[b"h2"], extra_ca)?;
    let name = tls::server_name(&s.tls, &url.host).map_err(|e| EngineError::Target {
        target: url.display(),
        message: e.message,
    })?;
    let dialer = StreamDialer::new(
        url.dial(),
        Some((cfg, name)),
        Protocol::H2,
        s.connect_timeout,
    );
    let uri: Uri = format!("https://{}{}/", url.authority(), url.base_path)
        .parse()
        .unwrap_or_else(|_| Uri::from_static("/"));
    let local = tokio::task::LocalSet::new();
    let found = control.block_on(local.run_until(alt_svc::discover(dialer, uri)));
    Ok(match found {
        Ok(d) => {
            // An empty host means "the same host": keep the address we dial for TCP.
            let dial = d.h3.as_ref().map(|(h, p)| {
                (
                    if h.is_empty() {
                        url.dial().0
                    } else {
                        h.clone()
                    },
                    *p,
                )
            });
            Discovery {
                report: AltSvcReport {
                    header: d.header,
                    h3: dial.as_ref().map(|(h, p)| format!("{h}:{p}")),
                    error: None,
                },
                dial,
            }
        }
        Err(e) => Discovery {
            report: AltSvcReport {
                header: String::new(),
                h3: None,
                error: Some(e),
            },
            dial: None,
        },
    })
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// One entry per target × protocol.
    pub lanes: Vec<LaneResult>,
    /// Wall-clock start.
    pub started: SystemTime,
    /// Wall-clock end.
    pub finished: SystemTime,
    /// Whether it was interrupted.
    pub interrupted: bool,
    /// Client threads used.
    pub threads: u32,
    /// The warm-up at the start of the run.
    pub warmup: Duration,
    /// The measured part of the run (the denominator of rates).
    pub measured: Duration,
    /// The response differential, when two paths were compared.
    pub differential: Option<crate::model::differential::DifferentialJson>,
    /// Faults of the harness during the run (a client thread that panicked): its requests are
    /// lost, so the run cannot pass.
    pub faults: Vec<String>,
}

/// Everything a thread needs to build one lane's transport and slots.
pub struct LaneSetup {
    /// Lane index.
    pub index: usize,
    /// Protocol.
    pub protocol: Protocol,
    /// Address to dial.
    pub dial: (String, u16),
    /// TLS client configuration and server name, for TLS targets.
    pub tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    /// Connect + handshake timeout.
    pub connect_timeout: Duration,
    /// Shared schedule.
    pub schedule: Arc<Schedule>,
    /// Requests.
    pub requests: Arc<Vec<PreparedRequest>>,
    /// Requests per connection.
    pub requests_per_connection: Option<u64>,
    /// Closed model (back off after failed connects).
    pub closed_model: bool,
    /// Try 0-RTT on resumed QUIC connections.
    pub early_data: bool,
    /// Limits our stacks enforce on the server's frames and heads.
    pub limits: crate::proto::ClientLimits,
    /// What running flows needs; `None` when the scenario has none.
    pub flow: Option<Arc<flow::FlowCtx>>,
}

fn prepare_requests(
    s: &Scenario,
    target_headers: &[(http::HeaderName, http::HeaderValue)],
    url: &TargetUrl,
) -> Vec<PreparedRequest> {
    let scheme = if url.tls { "https" } else { "http" };
    s.requests
        .iter()
        .map(|r| {
            let mut headers = HeaderMap::new();
            for (k, v) in target_headers.iter().chain(&r.headers) {
                headers.append(k.clone(), v.clone());
            }
            let uri: Uri = format!("{scheme}://{}{}{}", url.authority(), url.base_path, r.path)
                .parse()
                .unwrap_or_else(|_| Uri::from_static("/"));
            PreparedRequest {
                method: r.method.clone(),
                uri,
                headers,
                body: r.body.clone(),
                timeout: r.timeout,
                expect: r.expect.clone(),
                max_body: r.max_body,
                wire: None,
            }
        })
        .collect()
}

/// Connections of a lane and the slots (concurrent streams) of each.
fn connection_slots(s: &Scenario, protocol: Protocol) -> Vec<usize> {
    match &s.load.model {
        Model::Open { .. } => {
            let streams = if protocol.multiplexed() {
                s.load.max_streams as usize
            } else {
                1
            };
            vec![streams; s.load.connections as usize]
        }
        Model::Closed { concurrency, .. } => {
            let c = *concurrency as usize;
            let conns = if protocol.multiplexed() {
                (s.load.connections as usize).clamp(1, c)
            } else {
                c
            };
            (0..conns)
                .map(|i| c / conns + usize::from(i < c % conns))
                .collect()
        }
    }
}

/// Runs `s` to completion (or interruption) and returns the merged results.
pub fn run(s: &Scenario, opts: RunOptions) -> Result<RunOutcome, EngineError> {
    let control = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let needs_origin = s.targets.iter().any(|t| t.endpoint == Endpoint::Embedded);
    let origin = if needs_origin {
        Some(
            control
                .block_on(Origin::start(OriginConfig::loopback()))
                .map_err(|e| EngineError::Origin(e.to_string()))?,
        )
    } else {
        None
    };
    let extra_ca: Vec<CertificateDer<'static>> = origin.iter().map(|o| o.ca_der()).collect();

    // Shards begin together: the plan's time zero is the agreed instant, whatever the setup took.
    let wait = opts
        .start_at
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .unwrap_or_default();
    let t0 = Instant::now() + wait.max(Duration::from_millis(20));
    let weights: Vec<u32> = s.requests.iter().map(|r| r.weight).collect();
    let flows = Arc::new(s.flows.clone());
    let mut lanes = Vec::new();
    let mut setups = Vec::new();
    for t in &s.targets {
        let url = match &t.endpoint {
            Endpoint::Embedded => {
                let o = origin
                    .as_ref()
                    .expect("origin started for embedded targets");
                TargetUrl {
                    tls: true,
                    host: "127.0.0.1".into(),
                    port: o.https_addr().port(),
                    base_path: String::new(),
                    connect_to: None,
                }
            }
            Endpoint::Url(u) => u.clone(),
        };
        let alt_svc = if s.alt_svc_discover && url.tls && s.protocols.contains(&Protocol::H3) {
            Some(discover_h3(&control, s, &url, &extra_ca)?)
        } else {
            None
        };
        for &protocol in &s.protocols {
            let h3_alt = alt_svc.as_ref().filter(|_| protocol == Protocol::H3);
            let index = lanes.len();
            let tls = if url.tls {
                let alpn: &[&[u8]] = match protocol {
                    // Offer HTTP/1.1 too, so a server without h2 is caught as a protocol error.
                    Protocol::H2 => &[b"h2", b"http/1.1"],
                    p => &[p.alpn()],
                };
                let cfg = tls::client_config(&s.tls, alpn, &extra_ca)?;
                let name =
                    tls::server_name(&s.tls, &url.host).map_err(|e| EngineError::Target {
                        target: t.name.clone(),
                        message: e.message,
                    })?;
                if protocol == Protocol::H3 {
                    // QUIC needs TLS 1.3; say so before any thread starts rather than per request.
                    quinn::crypto::rustls::QuicClientConfig::try_from(cfg.clone()).map_err(
                        |e| EngineError::Target {
                            target: t.name.clone(),
                            message: format!("cannot use this TLS configuration for QUIC: {e}"),
                        },
                    )?;
                }
                Some((cfg, name))
            } else {
                None
            };
            let (pacing, closed) = match &s.load.model {
                Model::Open { stages } => (Pacing::Open(RatePlan::new(stages)), false),
                Model::Closed {
                    warmup, duration, ..
                } => (
                    Pacing::Closed {
                        warmup: *warmup,
                        duration: *duration,
                    },
                    true,
                ),
            };
            let share = match &s.compare {
                Some(c) if t.name == c.candidate || t.name == c.baseline => {
                    let k = u32::from(t.name == c.baseline);
                    match c.fairness {
                        Fairness::Interleaved => Share::Interleaved {
                            phase: k,
                            order: s.seed,
                        },
                        Fairness::Simultaneous if !closed => Share::Alternate { k: u64::from(k) },
                        // A closed model has no arrival stream to split: both run at once.
                        Fairness::Simultaneous => Share::Whole,
                    }
                }
                _ => Share::Whole,
            };
            let schedule = Arc::new(Schedule::new(ScheduleConfig {
                pacing,
                t0,
                limit: s.load.requests,
                weights: weights.clone(),
                seed: s.seed,
                shard: s
                    .shard
                    .map_or((0, 1), |sh| (u64::from(sh.index), u64::from(sh.count))),
                stop: opts.stop.child_token(),
                share,
                slice: s.slice,
            }));
            setups.push((
                Arc::new(LaneSetup {
                    index,
                    protocol,
                    dial: h3_alt
                        .and_then(|a| a.dial.clone())
                        .unwrap_or_else(|| url.dial()),
                    tls,
                    connect_timeout: s.connect_timeout,
                    schedule,
                    requests: Arc::new(prepare_requests(s, &t.headers, &url)),
                    requests_per_connection: s.load.requests_per_connection,
                    closed_model: closed,
                    early_data: s.tls.early_data,
                    limits: s.limits,
                    flow: None,
                }),
                connection_slots(s, protocol),
            ));
            let embedded = t.endpoint == Endpoint::Embedded;
            if !flows.flows.is_empty() {
                let (setup, _) = setups.last_mut().expect("pushed above");
                let fc = flow::FlowCtx {
                    flows: flows.clone(),
                    prefix: format!(
                        "{}://{}{}",
                        if url.tls { "https" } else { "http" },
                        url.authority(),
                        url.base_path
                    ),
                    seed: s.seed,
                    iterations: AtomicU64::new(0),
                    curl: sample::curl_target(setup, &s.tls, embedded),
                    names: s.requests.iter().map(|r| r.name.clone()).collect(),
                };
                Arc::get_mut(setup)
                    .expect("the setup is not shared yet")
                    .flow = Some(Arc::new(fc));
            }
            lanes.push(LaneResult {
                target: t.name.clone(),
                url: url.display(),
                protocol,
                stats: LaneStats::new(s.requests.len()),
                alt_svc: h3_alt.map(|a| a.report.clone()),
                reproducers: sample::reproducers(
                    &setups.last().expect("pushed above").0,
                    &s.tls,
                    embedded,
                ),
                plan: None,
            });
        }
    }

    let threads = s.load.threads.max(1) as usize;
    let live = opts.live.clone().unwrap_or_default();
    let _ = live.lanes.set(
        lanes
            .iter()
            .map(|l| LaneInfo {
                target: l.target.clone(),
                url: l.url.clone(),
                role: s.role_of(&l.target),
                protocol: l.protocol,
                requests: s.requests.iter().map(|r| r.name.clone()).collect(),
            })
            .collect(),
    );
    let _ = live.t0.set(t0);
    let started = SystemTime::now();
    // A run bounded by time ends at its deadline: requests still in flight then are cut off.
    let deadline = match &s.load.model {
        Model::Closed { duration: None, .. } => None,
        _ => Some(t0 + expected_length(s)),
    };
    let work = thread::distribute(&setups, threads);
    let handles: Vec<_> = work
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let live = live.clone();
            let stop = opts.stop.clone();
            let n = lanes.len();
            let nreq = s.requests.len();
            std::thread::Builder::new()
                .name("gauntlet-client".into())
                .spawn(move || thread::run_thread(w, i, n, nreq, t0, deadline, live, stop))
        })
        .collect::<Result<_, _>>()?;

    let stopped_at = control.block_on(async {
        let mut stopped_at = None;
        while !handles.iter().all(|h| h.is_finished()) {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = opts.stop.cancelled(), if stopped_at.is_none() => stopped_at = Some(Instant::now()),
            }
        }
        stopped_at
    });
    let ended = Instant::now();
    live.finished
        .store(true, std::sync::atomic::Ordering::Release);
    let mut faults = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(per_thread) => {
                for (lane, st) in lanes.iter_mut().zip(per_thread.iter()) {
                    lane.stats.merge(st);
                }
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                faults.push(format!(
                    "client thread {i} panicked ({why}): its requests are lost, so the figures \
                     are incomplete"
                ));
            }
        }
    }
    let open = matches!(s.load.model, Model::Open { .. });
    for ((setup, _), lane) in setups.iter().zip(lanes.iter_mut()) {
        let f = setup.schedule.shortfall(stopped_at);
        lane.stats.not_sent = f.owed;
        lane.stats.max_lag_us = lane.stats.max_lag_us.max(f.waited_us);
        lane.plan = open.then_some(f);
    }
    let interrupted = opts.stop.is_cancelled();
    let differential = match s
        .compare
        .as_ref()
        .and_then(|c| c.differential.as_ref().map(|d| (c, d)))
    {
        Some((c, d)) if !interrupted => {
            let setup_of = |name: &str, p: Protocol| {
                lanes
                    .iter()
                    .position(|l| l.target == name && l.protocol == p)
                    .map(|i| setups[i].0.as_ref())
            };
            let pairs: Vec<(&LaneSetup, &LaneSetup)> = s
                .protocols
                .iter()
                .filter_map(|p| setup_of(&c.candidate, *p).zip(setup_of(&c.baseline, *p)))
                .collect();
            let names: Vec<String> = s.requests.iter().map(|r| r.name.clone()).collect();
            let embedded = |n: &str| {
                s.targets
                    .iter()
                    .any(|t| t.name == n && t.endpoint == Endpoint::Embedded)
            };
            let local = tokio::task::LocalSet::new();
            Some(control.block_on(local.run_until(sample::run(
                &pairs,
                &names,
                d,
                &s.tls,
                (embedded(&c.candidate), embedded(&c.baseline)),
            ))))
        }
        _ => None,
    };
    if let Some(o) = origin {
        control.block_on(o.shutdown());
    }
    let (warmup, planned) = match &s.load.model {
        Model::Open { stages } => (
            stages.iter().filter(|s| s.warmup).map(|s| s.duration).sum(),
            Some(
                stages
                    .iter()
                    .filter(|s| !s.warmup)
                    .map(|s| s.duration)
                    .sum::<Duration>(),
            ),
        ),
        Model::Closed {
            warmup, duration, ..
        } => (*warmup, *duration),
    };
    // Interleaved paths take turns: each lane's own time runs at half the wall clock.
    let turns = if s
        .compare
        .as_ref()
        .is_some_and(|c| c.fairness == Fairness::Interleaved)
    {
        2
    } else {
        1
    };
    let warmup = warmup * turns;
    let ran = ended.saturating_duration_since(t0).saturating_sub(warmup) / turns;
    let measured = planned.map_or(ran, |p| p.min(ran));
    Ok(RunOutcome {
        lanes,
        started,
        finished: SystemTime::now(),
        interrupted,
        threads: threads as u32,
        warmup,
        measured,
        differential,
        faults,
    })
}

/// The planned length of the run, for the progress display (zero when bounded by count only).
pub fn expected_length(s: &Scenario) -> Duration {
    let own = match &s.load.model {
        Model::Open { stages } => stages.iter().map(|s| s.duration).sum(),
        Model::Closed {
            warmup, duration, ..
        } => *warmup + duration.unwrap_or_default(),
    };
    let turns = if s
        .compare
        .as_ref()
        .is_some_and(|c| c.fairness == Fairness::Interleaved)
    {
        2
    } else {
        1
    };
    own * turns
}
