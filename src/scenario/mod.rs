//! Scenarios: the YAML file, its validation with positioned diagnostics, and the resolved form the
//! engine runs.
//!
//! `model` is the file as written; `validate` checks it and produces [`Scenario`], in which every
//! default is filled in, every URL parsed, every header and pattern compiled. The engine sees only
//! [`Scenario`].

pub mod bounds;
pub mod diagnostic;
pub mod env;
pub mod expect;
pub mod flow;
pub mod flow_spec;
pub mod gate;
pub mod limits;
pub mod load;
pub mod model;
pub mod probing;
pub mod reach;
mod resolve_compare;
mod resolve_conformance;
mod resolve_flow;
mod resolve_load;
mod secrets;
pub mod shard;
pub mod spans;
pub mod validate;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use crate::model::Protocol;
use crate::scenario::expect::Expect;
use crate::scenario::gate::Gate;

pub use load::{load_file, load_str, Overrides, ScenarioError};

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// The file it came from, its text and digest.
    pub source: Source,
    /// The targets, in file order.
    pub targets: Vec<Target>,
    /// The protocols every request runs over.
    pub protocols: Vec<Protocol>,
    /// TLS settings.
    pub tls: TlsOptions,
    /// Timeout for connect plus handshake.
    pub connect_timeout: Duration,
    /// The load shape.
    pub load: Load,
    /// The request mix.
    pub requests: Vec<Request>,
    /// Seed for the request mix.
    pub seed: u64,
    /// Learn HTTP/3 endpoints from Alt-Svc before the run.
    pub alt_svc_discover: bool,
    /// Two paths side by side, when the scenario names them.
    pub compare: Option<Comparison>,
    /// Conditions the run must meet.
    pub gates: Vec<Gate>,
    /// Slice length: the unit of interleaving and of resampling.
    pub slice: Duration,
    /// Protocol probes after the load, when the scenario asks for them.
    pub conformance: Option<ConformanceOptions>,
    /// Limits gauntlet's own stacks enforce on what servers send.
    pub limits: limits::ClientLimits,
    /// Header names and values that reports redact.
    pub secrets: crate::model::redact::Secrets,
    /// The part of the plan this process runs (`--shard I/N`); `None` for all of it.
    pub shard: Option<crate::model::results::ShardJson>,
    /// The flows among the requests, with their variables; empty when there are none.
    pub flows: flow::Flows,
}

impl Scenario {
    /// The part `target` plays in the comparison, if any.
    pub fn role_of(&self, target: &str) -> Option<crate::model::results::Role> {
        let c = self.compare.as_ref()?;
        if c.candidate == target {
            Some(crate::model::results::Role::Candidate)
        } else if c.baseline == target {
            Some(crate::model::results::Role::Baseline)
        } else {
            None
        }
    }
}

/// The resolved `conformance` section.
#[derive(Debug, Clone)]
pub struct ConformanceOptions {
    /// Which probes.
    pub selection: crate::scenario::probing::Selection,
    /// Where the recording origin listens while probing.
    pub origin: Option<std::net::SocketAddr>,
    /// Known, accepted parity differences.
    pub quirks: crate::scenario::probing::Quirks,
    /// Via and X-Forwarded-For expectations.
    pub policy: crate::scenario::probing::ProxyPolicy,
    /// Reload commands by target name.
    pub reload: std::collections::BTreeMap<String, String>,
    /// Deadline of each probe step.
    pub timeout: Duration,
}

/// How the two paths share the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fairness {
    /// Alternating slices from one pacer, in pairs whose order is drawn (A B, B A, …).
    Interleaved,
    /// One arrival stream split between the paths.
    Simultaneous,
}

impl From<Fairness> for crate::model::comparison::Sharing {
    fn from(f: Fairness) -> Self {
        match f {
            Fairness::Interleaved => Self::Interleaved,
            Fairness::Simultaneous => Self::Simultaneous,
        }
    }
}

/// The resolved `compare` section.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Candidate target name.
    pub candidate: String,
    /// Baseline target name.
    pub baseline: String,
    /// How the paths share the run.
    pub fairness: Fairness,
    /// Measure the noise floor with an A/A split of the baseline.
    pub calibrate: bool,
    /// The change treated as real; `None` for the default (or calibrated) value.
    pub tolerance: Option<f64>,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Let verdict gates pass on `inconclusive`.
    pub allow_inconclusive: bool,
    /// The response differential, unless turned off.
    pub differential: Option<DifferentialOptions>,
}

/// Response differential settings.
#[derive(Debug, Clone)]
pub struct DifferentialOptions {
    /// Responses per request, protocol and path.
    pub samples: u32,
    /// Headers ignored besides the default ones.
    pub ignore_headers: Vec<HeaderName>,
}

/// Where a scenario came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given.
    pub path: String,
    /// The text.
    pub text: String,
    /// SHA-256 of the text, hex.
    pub digest: String,
}

/// A target to send traffic to.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name in the scenario.
    pub name: String,
    /// Where it is.
    pub endpoint: Endpoint,
    /// Headers added to every request to it.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// A target's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The embedded origin, started in-process for the run.
    Embedded,
    /// A URL.
    Url(TargetUrl),
}

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl {
    /// TLS or not.
    pub tls: bool,
    /// The host as in the URL, without IPv6 brackets.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The path prefix, without a trailing slash ("" for none).
    pub base_path: String,
    /// Dial this `host:port` instead.
    pub connect_to: Option<(String, u16)>,
}

impl TargetUrl {
    /// `host:port` for the Host header and `:authority`, with IPv6 brackets.
    pub fn authority(&self) -> String {
        let default_port = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL as a user would write it.
    pub fn display(&self) -> String {
        format!(
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.authority(),
            self.base_path
        )
    }

    /// The address to dial.
    pub fn dial(&self) -> (String, u16) {
        self.connect_to
            .clone()
            .unwrap_or_else(|| (self.host.clone(), self.port))
    }
}

/// TLS settings, with file paths resolved against the scenario's folder.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM CA bundle to trust instead of the web roots.
    pub ca: Option<PathBuf>,
    /// SNI and verification name override.
    pub server_name: Option<String>,
    /// Accept any certificate.
    pub insecure: bool,
    /// Client certificate chain and key (PEM).
    pub client_auth: Option<(PathBuf, PathBuf)>,
    /// Resume sessions on new connections.
    pub resumption: bool,
    /// Send requests as QUIC 0-RTT early data on resumed HTTP/3 connections.
    pub early_data: bool,
}

/// How load is generated.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Arrival-rate stages; latency is measured from each request's intended start.
    Open {
        /// The stages in order, warm-up first if any.
        stages: Vec<Stage>,
    },
    /// Fixed concurrency.
    Closed {
        /// Requests in flight per target × protocol.
        concurrency: u32,
        /// Warm-up time excluded from statistics.
        warmup: Duration,
        /// Measured time, if the run is bounded by time.
        duration: Option<Duration>,
    },
}

/// One open-model stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// How long it lasts.
    pub duration: Duration,
    /// Rate at its start (requests/s).
    pub rate_start: f64,
    /// Rate at its end; equal to `rate_start` for a flat stage.
    pub rate_end: f64,
    /// Excluded from statistics.
    pub warmup: bool,
}

/// The load section, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Open or closed, with its shape.
    pub model: Model,
    /// Stop after this many measured requests per target × protocol.
    pub requests: Option<u64>,
    /// Connections per target × protocol.
    pub connections: u32,
    /// Streams per connection for multiplexed protocols.
    pub max_streams: u32,
    /// Requests per connection before it is replaced; `None` for no limit.
    pub requests_per_connection: Option<u64>,
    /// Client threads.
    pub threads: u32,
}

/// One request of the mix.
#[derive(Debug, Clone)]
pub struct Request {
    /// Name in results.
    pub name: String,
    /// Relative weight.
    pub weight: u32,
    /// Method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body.
    pub body: Bytes,
    /// Timeout for the whole exchange.
    pub timeout: Duration,
    /// What the response must satisfy.
    pub expect: Expect,
    /// The cap on a body an expectation reads, bytes.
    pub max_body: usize,
}
