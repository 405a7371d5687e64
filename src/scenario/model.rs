//! The scenario file's data model, exactly as written in YAML.
//!
//! These types mirror the file; they reject unknown keys so that a misspelt key is an error with a
//! position rather than a silently ignored setting. Checks that need more than one field (a rate of
//! zero, a weight of zero everywhere, a target that is not a URL) live in `validate.rs`, which turns
//! this model into the resolved [`crate::scenario::Scenario`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The whole scenario file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A short name; it names the output folder.
    pub name: String,
    /// Targets by name: a URL, `embedded`, or a map with `url`, `connect_to` and `headers`.
    /// May be left out when `--candidate` and `--baseline` (or `--target`) give them.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetSpec>,
    /// Protocols to run every request over; default `[h1]`.
    #[serde(default)]
    pub protocols: Option<Vec<ProtocolName>>,
    /// TLS settings shared by every target.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// Per-request timeout; on by default.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<Duration>,
    /// Timeout for TCP connect plus the TLS handshake.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub connect_timeout: Option<Duration>,
    /// The load shape.
    #[serde(default)]
    pub load: Option<LoadSpec>,
    /// Seed for the weighted choice of requests.
    #[serde(default)]
    pub seed: Option<u64>,
    /// `discover`: learn each target's HTTP/3 endpoint from Alt-Svc on an HTTP/2 response.
    #[serde(default)]
    pub alt_svc: Option<AltSvcMode>,
    /// The requests, chosen by weight.
    pub requests: Vec<RequestSpec>,
    /// Two paths side by side: which target is the candidate and which the baseline.
    #[serde(default)]
    pub compare: Option<CompareSpec>,
    /// Conditions the run must meet, k6-style: `candidate.p99 <= baseline.p99 * 1.10`.
    #[serde(default)]
    pub gates: Vec<String>,
    /// Protocol probes against every target (or the compared pair) after the load.
    #[serde(default)]
    pub conformance: Option<ConformanceSpec>,
    /// Limits gauntlet's own protocol stacks enforce on what servers send.
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
    /// Hosts outside loopback and private networks that this scenario may load (names or
    /// addresses, as written in the URLs); any other such host is refused.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Headers whose values are secret, besides `authorization`, `proxy-authorization`,
    /// `cookie` and `set-cookie`: their values are redacted in every report unless
    /// `--show-secrets`.
    #[serde(default)]
    pub secret_headers: Vec<String>,
    /// Rows that feed flow variables, one row per flow iteration.
    #[serde(default)]
    pub data: Option<super::flow_spec::DataSpec>,
    /// Generated flow variables: `{ sequence: 1 }`, `{ random_int: [1, 100] }` or `uuid`.
    #[serde(default)]
    pub vars: BTreeMap<String, super::flow_spec::GeneratorSpec>,
}

/// The `limits` section: what gauntlet accepts from a server before it calls the response
/// broken. Sizes are bytes, or text like `64KiB` or `1MiB`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// The largest response header list accepted (default 256KiB; 1KiB to 16MiB): HTTP/2
    /// SETTINGS_MAX_HEADER_LIST_SIZE, HTTP/3 SETTINGS_MAX_FIELD_SECTION_SIZE, the HTTP/1.1 head
    /// buffer. A larger head fails with `h2:local:header-list-too-large` (or its h1/h3 kin).
    #[serde(default, deserialize_with = "opt_size")]
    #[schemars(with = "Option<SizeText>")]
    pub max_header_list_size: Option<u64>,
    /// The largest HTTP/2 frame accepted, SETTINGS_MAX_FRAME_SIZE (default 16KiB; 16KiB to
    /// 16MiB - 1 byte). A larger frame fails with `h2:local:frame-size`.
    #[serde(default, deserialize_with = "opt_size")]
    #[schemars(with = "Option<SizeText>")]
    pub max_frame_size: Option<u64>,
    /// The cap on a response body that an expectation reads (default 1MiB; at most 1GiB). A
    /// longer body fails with the expectation code `body:over-cap`; bodies no expectation reads
    /// are counted, never kept. `requests[].max_body` overrides it per request.
    #[serde(default, deserialize_with = "opt_size")]
    #[schemars(with = "Option<SizeText>")]
    pub max_body: Option<u64>,
}

/// The `conformance` section: which probes, where the recording origin listens, known quirks.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConformanceSpec {
    /// Probe families (default: all of h1, h2, h3, proxy).
    #[serde(default)]
    pub suites: Option<Vec<crate::model::conformance::Suite>>,
    /// Only probes whose id starts with one of these.
    #[serde(default)]
    pub probes: Vec<String>,
    /// `host:port` where the proxies under test forward: gauntlet serves the recording origin
    /// there while probing, and judges smuggling by what reached it.
    #[serde(default)]
    pub origin: Option<String>,
    /// A quirks file (known, accepted parity differences), relative to the scenario.
    #[serde(default)]
    pub quirks: Option<String>,
    /// What the proxies are expected to do with Via and X-Forwarded-For.
    #[serde(default)]
    pub policy: Option<crate::scenario::probing::ProxyPolicy>,
    /// A shell command per target name that reloads it gracefully (for the reload probe).
    #[serde(default)]
    pub reload: BTreeMap<String, String>,
    /// Deadline of each probe step (default 5s).
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<Duration>,
}

/// How the two paths share the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FairnessName {
    /// Short alternating slices from one pacer, in pairs whose order is drawn: A B, B A, A B …
    Interleaved,
    /// One arrival stream split between the paths, both running at once.
    Simultaneous,
}

/// The `compare` section.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// The target under test.
    pub candidate: String,
    /// The target it is judged against (the legacy path).
    pub baseline: String,
    /// `interleaved` (default) or `simultaneous`.
    #[serde(default)]
    pub fairness: Option<FairnessName>,
    /// Slice length (default 1s): the unit of pacing alternation and of resampling.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub slice: Option<Duration>,
    /// Split the baseline's slices in two (A/A) to measure the noise floor; a metric whose floor
    /// is wider than the tolerance is never called `same`.
    #[serde(default)]
    pub calibrate: bool,
    /// The change a verdict treats as real (default 10%).
    #[serde(default)]
    pub tolerance: Option<Percent>,
    /// Let verdict gates pass on an `inconclusive` verdict (by default one fails its gate).
    #[serde(default)]
    pub allow_inconclusive: bool,
    /// Bootstrap resamples (default 1000).
    #[serde(default)]
    pub resamples: Option<u32>,
    /// The response differential.
    #[serde(default)]
    pub differential: Option<DifferentialSpec>,
}

/// The response differential.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DifferentialSpec {
    /// Off with `false` (default on).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Responses sampled per request, protocol and path (default 5).
    #[serde(default)]
    pub samples: Option<u32>,
    /// Headers to ignore besides date, server, via, age and alt-svc.
    #[serde(default)]
    pub ignore_headers: Vec<String>,
}

/// A fraction written `10%` or `0.1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fraction like `10%` or `0.1`")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                Ok(Percent(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                Ok(Percent(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                Ok(Percent(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                let t = v.trim();
                let (num, scale) = match t.strip_suffix('%') {
                    Some(n) => (n.trim(), 0.01),
                    None => (t, 1.0),
                };
                num.parse::<f64>().map(|n| Percent(n * scale)).map_err(|_| {
                    E::custom(format_args!("`{v}` is not a fraction like `10%` or `0.1`"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A target: a bare URL string, or a map.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// `embedded`, `http://…`, `https://…` or `h2c://…`.
    pub url: String,
    /// Dial this `host:port` instead of the URL's, keeping the URL's host for Host and SNI.
    pub connect_to: Option<String>,
    /// Headers added to every request sent to this target.
    pub headers: BTreeMap<String, String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TargetMap {
    url: String,
    #[serde(default)]
    connect_to: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TargetSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a URL string or a map with `url`, `connect_to`, `headers`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TargetSpec, E> {
                Ok(TargetSpec {
                    url: v.to_string(),
                    connect_to: None,
                    headers: BTreeMap::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TargetSpec, A::Error> {
                let m = TargetMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(TargetSpec {
                    url: m.url,
                    connect_to: m.connect_to,
                    headers: m.headers,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A protocol as spelt in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolName {
    /// HTTP/1.1, over TCP or TLS.
    H1,
    /// HTTP/2: by ALPN over TLS, or with prior knowledge (h2c) over cleartext.
    H2,
    /// HTTP/3 over QUIC.
    H3,
}

/// How HTTP/3 endpoints are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AltSvcMode {
    /// Dial the URL's port over UDP (the default).
    Off,
    /// Ask the target over HTTP/2 first and use the `h3` alternative it advertises.
    Discover,
}

/// TLS settings.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// PEM file with the CA certificates to trust (relative to the scenario file).
    #[serde(default)]
    pub ca: Option<String>,
    /// The name to send as SNI and to verify the certificate against.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Accept any server certificate.
    #[serde(default)]
    pub insecure: bool,
    /// PEM client certificate chain, for mutual TLS.
    #[serde(default)]
    pub client_cert: Option<String>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub client_key: Option<String>,
    /// Resume TLS sessions on new connections (default true).
    #[serde(default)]
    pub resumption: Option<bool>,
    /// HTTP/3: send the first request as 0-RTT early data on resumed connections (default false).
    #[serde(default)]
    pub early_data: bool,
}

/// Load model names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelName {
    /// Arrival rate: requests start on a schedule, whatever the responses do.
    #[default]
    Open,
    /// Fixed concurrency: a new request starts when one finishes.
    Closed,
}

/// The `load` section.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// `open` (default) or `closed`.
    #[serde(default)]
    pub model: ModelName,
    /// Open model shorthand: one stage at this rate (requests per second per target × protocol;
    /// at most 1,000,000).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = super::bounds::MAX_RATE))]
    pub rate: Option<f64>,
    /// Length of the measured part of the run.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub duration: Option<Duration>,
    /// Open model: stages, run in order.
    #[serde(default)]
    pub stages: Option<Vec<StageSpec>>,
    /// Warm-up before the measured part (excluded from statistics).
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub warmup: Option<Duration>,
    /// Closed model: requests in flight per target × protocol (at most 100,000).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_CONCURRENCY))]
    pub concurrency: Option<u32>,
    /// Stop after this many measured requests per target × protocol (at most 10^9).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_REQUESTS))]
    pub requests: Option<u64>,
    /// Connections per target × protocol (at most 10,000).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_CONNECTIONS))]
    pub connections: Option<u32>,
    /// Concurrent streams per connection, HTTP/2 and HTTP/3 (at most 1,000).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_STREAMS))]
    pub max_streams: Option<u32>,
    /// Close a connection after this many requests (1 = a new connection per request).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_REQUESTS))]
    pub requests_per_connection: Option<u64>,
    /// Client threads; default: the number of available cores (at most 256).
    #[serde(default)]
    #[schemars(range(min = 1, max = super::bounds::MAX_THREADS))]
    pub threads: Option<u32>,
}

/// One open-model stage.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// How long the stage lasts.
    #[serde(deserialize_with = "duration")]
    #[schemars(with = "DurationText")]
    pub duration: Duration,
    /// Requests per second at the start of the stage (at most 1,000,000).
    #[schemars(range(min = 0.0, max = super::bounds::MAX_RATE))]
    pub rate: f64,
    /// Requests per second at the end of the stage; the rate ramps linearly.
    #[serde(default)]
    pub ramp_to: Option<f64>,
    /// A warm-up stage is excluded from statistics.
    #[serde(default)]
    pub warmup: bool,
}

/// One request in the mix.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Name used in results; default: method and path.
    #[serde(default)]
    pub name: Option<String>,
    /// Relative weight in the mix (default 1).
    #[serde(default)]
    pub weight: Option<u32>,
    /// The method, with `path`.
    #[serde(default)]
    pub method: Option<String>,
    /// The path and query, with `method`.
    #[serde(default)]
    pub path: Option<String>,
    /// Shorthand: `get: /path`.
    #[serde(default)]
    pub get: Option<String>,
    /// Shorthand: `post: /path`.
    #[serde(default)]
    pub post: Option<String>,
    /// Shorthand: `put: /path`.
    #[serde(default)]
    pub put: Option<String>,
    /// Shorthand: `delete: /path`.
    #[serde(default)]
    pub delete: Option<String>,
    /// Shorthand: `patch: /path`.
    #[serde(default)]
    pub patch: Option<String>,
    /// Shorthand: `head: /path`.
    #[serde(default)]
    pub head: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body, sent as is.
    #[serde(default)]
    pub body: Option<String>,
    /// Request body read from this file (relative to the scenario), sent as is; at most 64 MiB.
    #[serde(default)]
    pub body_file: Option<String>,
    /// Per-request timeout.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<Duration>,
    /// What the response must look like.
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
    /// The cap on the body an expectation reads, for this request (see `limits.max_body`).
    #[serde(default, deserialize_with = "opt_size")]
    #[schemars(with = "Option<SizeText>")]
    pub max_body: Option<u64>,
    /// A flow instead of one request: these steps in order, one virtual user's session; each
    /// step is a request that may `capture` variables and `think`.
    #[serde(default)]
    pub flow: Option<Vec<RequestSpec>>,
    /// In a flow step: variables taken from the response, used as `{{name}}` by later steps.
    #[serde(default)]
    pub capture: BTreeMap<String, super::flow_spec::CaptureSpec>,
    /// In a flow step: a pause after the response, before the next step.
    #[serde(default, deserialize_with = "opt_duration")]
    #[schemars(with = "Option<DurationText>")]
    pub think: Option<Duration>,
}

/// Expectations on a response.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// A status, a class like `2xx`, or a list of them.
    #[serde(default)]
    pub status: Option<StatusSpec>,
    /// Header name → glob (`text/html*`) or `/regex/`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body checks.
    #[serde(default)]
    pub body: Option<BodyExpectSpec>,
}

/// Body checks.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyExpectSpec {
    /// The body contains this text.
    #[serde(default)]
    pub contains: Option<String>,
    /// The body matches this regular expression.
    #[serde(default)]
    pub regex: Option<String>,
}

/// One accepted status or status class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    /// Exactly this code.
    Code(u16),
    /// Any code of this class: 2 for `2xx`.
    Class(u8),
    /// A value that is neither; `validate` reports it with its position.
    Invalid,
}

/// `status: 200`, `status: 2xx` or `status: [200, 201]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<StatusItem>);

fn status_item_from_str(v: &str) -> StatusItem {
    let b = v.as_bytes();
    if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && v[1..].eq_ignore_ascii_case("xx") {
        return StatusItem::Class(b[0] - b'0');
    }
    v.parse::<u16>()
        .map(StatusItem::Code)
        .unwrap_or(StatusItem::Invalid)
}

fn status_item_from_u64(v: u64) -> StatusItem {
    u16::try_from(v)
        .map(StatusItem::Code)
        .unwrap_or(StatusItem::Invalid)
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status code, a class like `2xx`, or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![status_item_from_u64(v)]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![u64::try_from(v)
                    .map(status_item_from_u64)
                    .unwrap_or(StatusItem::Invalid)]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![status_item_from_str(v)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(one) = seq.next_element::<StatusSpec>()? {
                    out.extend(one.0);
                }
                Ok(StatusSpec(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses `5s`, `250ms`, `1m 30s`, or a bare number of seconds.
fn parse_duration_value<E: de::Error>(v: &str) -> Result<Duration, E> {
    let t = v.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs);
    }
    humantime::parse_duration(t).map_err(|e| {
        E::custom(format_args!(
            "invalid duration `{v}`: {e} (write it like `5s`, `250ms` or `1m 30s`)"
        ))
    })
}

fn secs_to_duration<E: de::Error>(secs: f64) -> Result<Duration, E> {
    if secs.is_finite() && secs >= 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(E::custom(
            "a duration must be a non-negative number of seconds",
        ))
    }
}

struct DurationVisitor;
impl Visitor<'_> for DurationVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration like `5s` or `250ms`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration_value(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        secs_to_duration(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        secs_to_duration(v)
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(DurationVisitor).map(Some)
}

/// Parses a duration given on the command line, with the same rules as the file.
pub fn parse_cli_duration(v: &str) -> Result<Duration, String> {
    parse_duration_value::<de::value::Error>(v).map_err(|e| e.to_string())
}

struct SizeVisitor;
impl Visitor<'_> for SizeVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a size like `64KiB`, `1MiB` or a number of bytes")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse::<bytesize::ByteSize>()
            .map(|b| b.as_u64())
            .map_err(|e| {
                E::custom(format_args!(
                    "invalid size `{v}`: {e} (write it like `64KiB`, `1MiB` or `16384`)"
                ))
            })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom("a size cannot be negative"))
    }
}

fn opt_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(SizeVisitor).map(Some)
}

/// The schema of a size: bytes, or text with a unit.
pub struct SizeText;

impl schemars::JsonSchema for SizeText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "A size like `64KiB` or `1MiB`, or a number of bytes", "type": ["string", "integer"] })
    }
}

/// The schema of a duration: `5s`, `250ms`, `1m 30s`, or a number of seconds.
pub struct DurationText;

impl schemars::JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "A duration like `5s`, `250ms` or `1m 30s`, or a number of seconds", "type": ["string", "number"] })
    }
}

impl schemars::JsonSchema for TargetSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Target".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`embedded`, a URL (http://, https://, h2c://), or a map",
            "anyOf": [
                { "type": "string" },
                { "type": "object", "additionalProperties": false, "required": ["url"], "properties": {
                    "url": { "type": "string" },
                    "connect_to": { "type": "string", "description": "host:port to dial instead of the URL's" },
                    "headers": { "type": "object", "additionalProperties": { "type": "string" } }
                } }
            ]
        })
    }
}

impl schemars::JsonSchema for StatusSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Status".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A status code, a class like `2xx`, or a list of them",
            "anyOf": [ { "type": ["integer", "string"] }, { "type": "array", "items": { "type": ["integer", "string"] } } ]
        })
    }
}

impl schemars::JsonSchema for Percent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Fraction".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "A fraction like `10%` or `0.1`", "type": ["string", "number"] })
    }
}
