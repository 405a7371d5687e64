//! `results.json`: the wire form of a run, kept apart from the in-memory stats. Histograms are
//! stored whole (HdrHistogram V2, deflated, base64), so a later `compare` or `merge` re-analyses
//! them without loss; the percentiles beside them are for readers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::comparison::{ComparisonJson, GateResult};
use super::conformance::ConformanceJson;
use super::differential::DifferentialJson;
use super::hist::{self, Hist, StoredHist};
use super::peer::{ControlFrames, PeerLimits};
use super::verdict::Verdict;
use super::{ErrorClass, Protocol};

/// Bumped when a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResultsFile {
    /// Format version.
    pub schema_version: u32,
    /// Who ran what, where and when.
    pub meta: Meta,
    /// One entry per target × protocol.
    pub lanes: Vec<LaneJson>,
    /// The two paths compared, when the scenario names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonJson>,
    /// Each gate's value and outcome.
    #[serde(default)]
    pub gates: Vec<GateResult>,
    /// Response differences between the paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differential: Option<DifferentialJson>,
    /// Protocol probe verdicts per path, and parity between the paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<ConformanceJson>,
    /// The verdict and exit code.
    pub verdict: Verdict,
}

/// Run metadata.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Meta {
    /// `gauntlet`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Commit under test, from the usual CI variables.
    pub commit: Option<String>,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub scenario_path: String,
    /// SHA-256 of the scenario text.
    pub scenario_digest: String,
    /// The scenario text.
    pub scenario_text: String,
    /// Host name.
    pub host: String,
    /// RFC 3339 start.
    pub started: String,
    /// RFC 3339 end.
    pub finished: String,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// Measured time (without warm-up), seconds; the denominator of rates.
    pub measured_s: f64,
    /// Seconds of warm-up at the start of the timeline.
    pub warmup_s: f64,
    /// How load was generated.
    pub model: RunModel,
    /// Client threads.
    pub threads: u32,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// TLS certificates were not verified (`insecure: true`): every report says so, since a
    /// man in the middle would have gone unnoticed.
    #[serde(default)]
    pub insecure: bool,
    /// Secret header values were left in (`--show-secrets`); by default they are redacted.
    #[serde(default)]
    pub secrets_shown: bool,
    /// The slice length, seconds: the unit comparisons resample (0 in files from before it was
    /// recorded).
    #[serde(default)]
    pub slice_s: f64,
    /// Which part of a sharded plan this run was (`--shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardJson>,
    /// How many shards were added into these results (`gauntlet merge`); 0 for a single run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub merged_shards: u32,
    /// Open-model stages, in the lanes' own time.
    #[serde(default)]
    pub stages: Vec<StageJson>,
}

/// One part of a plan split over several processes: arrivals `index`, `index + count`, … of
/// every lane, with connections, concurrency and request counts divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardJson {
    /// From 0 (like Kubernetes' `JOB_COMPLETION_INDEX`).
    pub index: u32,
    /// How many shards the plan was split into.
    pub count: u32,
}

impl std::fmt::Display for ShardJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One open-model stage.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageJson {
    /// Start, seconds.
    pub start_s: f64,
    /// Length, seconds.
    pub duration_s: f64,
    /// Rate at the start.
    pub rate_start: f64,
    /// Rate at the end.
    pub rate_end: f64,
    /// A warm-up stage.
    pub warmup: bool,
}

/// Percentiles in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pcts {
    /// Samples.
    pub count: u64,
    /// Minimum.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th.
    pub p90: u64,
    /// 95th.
    #[serde(default)]
    pub p95: u64,
    /// 99th.
    pub p99: u64,
    /// 99.9th.
    pub p999: u64,
    /// Maximum.
    pub max: u64,
}

impl Pcts {
    /// Summarises a histogram.
    pub fn of(h: &Hist) -> Self {
        if h.is_empty() {
            return Pcts::default();
        }
        Pcts {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: hist::pct(h, 50.0),
            p90: hist::pct(h, 90.0),
            p95: hist::pct(h, 95.0),
            p99: hist::pct(h, 99.0),
            p999: hist::pct(h, 99.9),
            max: h.max(),
        }
    }
}

/// Counts and percentiles of a request name or a whole lane.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Measured requests completed.
    pub count: u64,
    /// Passed every check.
    pub ok: u64,
    /// Failed.
    pub errors: u64,
    /// errors / count.
    pub error_rate: f64,
    /// Completed per measured second.
    pub rps: f64,
    /// Body bytes.
    pub bytes: u64,
    /// Warm-up requests (not counted above).
    pub warmup: u64,
    /// Requests sent a second time because the server had not processed the first (graceful
    /// GOAWAY, REFUSED_STREAM, H3_REQUEST_REJECTED); each counts once in `count`.
    #[serde(default)]
    pub retried: u64,
    /// Failures by class.
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// Responses by status.
    pub statuses: BTreeMap<String, u64>,
    /// Latency from the intended start.
    pub latency_us: Pcts,
    /// Latency from the actual send.
    pub latency_uncorrected_us: Pcts,
    /// Time to the response head.
    pub ttfb_us: Pcts,
}

/// One error class and code.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorJson {
    /// Class.
    pub class: ErrorClass,
    /// Code within the class.
    pub code: String,
    /// How many.
    pub count: u64,
    /// One example message.
    pub example: String,
}

/// Serialized histograms of one request name.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestHists {
    /// Corrected latency.
    pub latency_us: StoredHist,
    /// Uncorrected latency.
    pub latency_uncorrected_us: StoredHist,
    /// Time to first byte.
    pub ttfb_us: StoredHist,
}

/// One slice of a lane's own time.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SliceJson {
    /// Completed measured requests.
    pub count: u64,
    /// Of which failed.
    pub errors: u64,
    /// Corrected latency, coarse histogram (2 significant digits), V2-deflate base64.
    pub latency_us: StoredHist,
}

/// One request name within a lane.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestJson {
    /// Name.
    pub name: String,
    /// Figures.
    pub summary: Summary,
    /// Failures.
    pub errors: Vec<ErrorJson>,
    /// Histograms.
    pub histograms: RequestHists,
    /// Per slice (index = slice of the lane's own time), for comparisons.
    #[serde(default)]
    pub slices: Vec<SliceJson>,
    /// A `curl` command that sends this request to this path.
    #[serde(default)]
    pub reproducer: String,
    /// A whole flow: its requests are counted under its steps (`flow/step`), so lane totals
    /// leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flow: bool,
}

/// Connection figures of a lane.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConnectionsJson {
    /// Opened.
    pub opened: u64,
    /// Failed attempts.
    pub failed: u64,
    /// TLS sessions resumed.
    pub resumed: u64,
    /// Connections that sent 0-RTT early data (HTTP/3 with `tls.early_data`).
    pub early_data_attempted: u64,
    /// Of which the server accepted it.
    pub early_data_accepted: u64,
    /// Requests per opened connection (reuse).
    pub requests_per_connection: f64,
    /// Connections replaced because the server ended them: a GOAWAY, `Connection: close`, a
    /// close or a refused request.
    #[serde(default)]
    pub recycled: u64,
    /// Control frames the server sent (HTTP/1.1: `goaway` counts `Connection: close`).
    #[serde(default)]
    pub control_frames: ControlFrames,
    /// The smallest limits the server announced in its SETTINGS.
    #[serde(default)]
    pub peer_limits: PeerLimits,
    /// What the server did that deserves a look although no request failed (control-frame
    /// floods).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// TCP connect time.
    pub connect_us: Pcts,
    /// Handshake time.
    pub handshake_us: Pcts,
    /// Serialized connect histogram.
    pub connect_hist: StoredHist,
    /// Serialized handshake histogram.
    pub handshake_hist: StoredHist,
}

/// Whether the client kept the schedule (open model).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PacingJson {
    /// Requests that started more than 1 ms after their intended time.
    pub late_starts: u64,
    /// Largest start lag, µs.
    pub max_lag_us: u64,
    /// Planned arrivals never sent because the run ended first.
    pub not_sent: u64,
    /// Requests in flight at the run's deadline (or its interruption), cancelled then: not
    /// errors, and not in the latency figures.
    #[serde(default)]
    pub cancelled: u64,
    /// Open model: the rate achieved against the rate planned, over the measured time; absent
    /// for the closed model, which has no plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanKeptJson>,
}

/// How much of its plan an open-model lane sent (past the warm-up): what tells a run the
/// target slowed from one the client could not drive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanKeptJson {
    /// Arrivals the plan held by the end of the run (or its interruption).
    pub planned: u64,
    /// Of which the client sent.
    pub sent: u64,
    /// `planned` over the measured seconds.
    pub planned_rps: f64,
    /// `sent` over the measured seconds: the arrival rate achieved.
    pub sent_rps: f64,
    /// The part of the plan not sent, 0 to 1: `1 - sent / planned`.
    pub shortfall: f64,
}

impl PlanKeptJson {
    /// The figures of `planned` and `sent` arrivals over `measured_s` seconds.
    pub fn new(planned: u64, sent: u64, measured_s: f64) -> Self {
        let per_s = |n: u64| {
            if measured_s > 0.0 {
                n as f64 / measured_s
            } else {
                0.0
            }
        };
        PlanKeptJson {
            planned,
            sent,
            planned_rps: per_s(planned),
            sent_rps: per_s(sent),
            shortfall: if planned == 0 {
                0.0
            } else {
                1.0 - sent.min(planned) as f64 / planned as f64
            },
        }
    }

    /// Whether the client fell short of the plan by more than the 1% it promises to keep.
    pub fn short(&self) -> bool {
        self.shortfall > 0.01
    }

    /// "achieved 41,200/s of 50,000/s planned: 17.6% short", the same words everywhere.
    pub fn describe(&self) -> String {
        format!(
            "achieved {}/s of {}/s planned: {:.1}% short",
            thousands(self.sent_rps),
            thousands(self.planned_rps),
            self.shortfall * 100.0
        )
    }
}

/// A rate rounded to a whole number with thousands separators.
fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One second of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecondJson {
    /// Seconds since start.
    pub t: u64,
    /// Whether this second is warm-up.
    pub warmup: bool,
    /// Completed.
    pub requests: u64,
    /// Failed.
    pub errors: u64,
    /// Bytes.
    pub bytes: u64,
    /// Median corrected latency.
    pub p50_us: u64,
    /// 99th percentile corrected latency.
    pub p99_us: u64,
    /// Maximum corrected latency.
    pub max_us: u64,
    /// Corrected latency of the second, coarse histogram (V2-deflate, base64): the source of the
    /// `.hlog` interval logs.
    #[serde(default = "StoredHist::empty_timeline")]
    pub latency_us: StoredHist,
    /// Uncorrected latency of the second, the same way.
    #[serde(default = "StoredHist::empty_timeline")]
    pub latency_uncorrected_us: StoredHist,
}

/// How a run generated its load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunModel {
    /// Arrivals at a planned rate, whatever the answers do (wrk2, k6's arrival-rate executors).
    Open,
    /// N users each sending the next request when the last one is answered.
    Closed,
    /// No load: protocol probes only (`gauntlet conformance`).
    Probes,
}

impl std::fmt::Display for RunModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunModel::Open => "open",
            RunModel::Closed => "closed",
            RunModel::Probes => "probes",
        })
    }
}

/// A target's part in a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The path under test.
    Candidate,
    /// The path it is judged against.
    Baseline,
}

/// One target × protocol.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LaneJson {
    /// Target name.
    pub target: String,
    /// Target URL.
    pub url: String,
    /// The target's part in a comparison, when the run compares two paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `h1`, `h2` or `h3`.
    pub protocol: Protocol,
    /// All requests together.
    pub summary: Summary,
    /// Connections.
    pub connections: ConnectionsJson,
    /// Pacing.
    pub pacing: PacingJson,
    /// Per request name.
    pub requests: Vec<RequestJson>,
    /// Per second.
    pub timeline: Vec<SecondJson>,
    /// Alt-Svc discovery, for HTTP/3 lanes with `alt_svc: discover`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_svc: Option<AltSvcReport>,
    /// The lane's own clock on its timeline. A saved comparison puts lanes of two runs side by
    /// side, and each keeps the clock of the run it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockJson>,
}

/// Where a lane's timeline (in seconds of its run's wall clock) stops being warm-up and stops
/// being measured, and how long its turns were when it took turns with another path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockJson {
    /// The end of the warm-up.
    pub warmup_s: f64,
    /// The end of the measured part: what comes after is the run's ending.
    pub end_s: f64,
    /// The length of each turn, when the lane alternated with another path (interleaved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_s: Option<f64>,
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The commit under test, from the variables GitHub, GitLab and others set.
pub fn commit_from_env() -> Option<String> {
    [
        "GAUNTLET_COMMIT",
        "GITHUB_SHA",
        "CI_COMMIT_SHA",
        "GIT_COMMIT",
        "BUILD_VCS_NUMBER",
    ]
    .iter()
    .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

impl Meta {
    /// Metadata of a run that only probed (`gauntlet conformance`).
    pub fn probes_only(name: &str, started: SystemTime, finished: SystemTime) -> Meta {
        Meta {
            tool: "gauntlet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            commit: commit_from_env(),
            scenario: name.into(),
            scenario_path: String::new(),
            scenario_digest: String::new(),
            scenario_text: String::new(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            started: rfc3339(started),
            finished: rfc3339(finished),
            duration_s: finished
                .duration_since(started)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64(),
            measured_s: 0.0,
            warmup_s: 0.0,
            model: RunModel::Probes,
            threads: 1,
            interrupted: false,
            insecure: false,
            secrets_shown: false,
            slice_s: 0.0,
            shard: None,
            merged_shards: 0,
            stages: Vec::new(),
        }
    }
}

/// Writes `results.json` into `dir`, creating it.
pub fn write(dir: &Path, r: &ResultsFile) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("results.json");
    let text = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    super::files::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Why a results file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not JSON, or JSON that is not a gauntlet results file.
    #[error("not a gauntlet results file: {0}")]
    Foreign(String),
    /// A results file of another schema version.
    #[error(
        "a results file of schema version {found}; this gauntlet reads version {SCHEMA_VERSION}"
    )]
    Version {
        /// The file's version.
        found: u32,
    },
    /// A field that does not hold what it should: a damaged histogram, a wrong type.
    #[error("{field}: {message}")]
    Damaged {
        /// The field's path in the file (`lanes[0].requests[1].slices[3].latency_us`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl TryFrom<&str> for ResultsFile {
    type Error = ReadError;

    /// Decodes a results file once, histograms included: a foreign file, another schema version
    /// or a damaged field is an error naming what is wrong, never an empty value in its place.
    fn try_from(text: &str) -> Result<Self, ReadError> {
        // The version first, so that a file of another version is named as such rather than by
        // the first field that changed.
        #[derive(Deserialize)]
        struct Header {
            schema_version: Option<u32>,
            meta: Option<HeaderMeta>,
        }
        #[derive(Deserialize)]
        struct HeaderMeta {
            tool: Option<String>,
        }
        let h: Header =
            serde_json::from_str(text).map_err(|e| ReadError::Foreign(e.to_string()))?;
        let tool = h.meta.and_then(|m| m.tool);
        match (h.schema_version, tool.as_deref()) {
            (Some(SCHEMA_VERSION), Some("gauntlet")) => {}
            (Some(v), Some("gauntlet")) => return Err(ReadError::Version { found: v }),
            _ => {
                return Err(ReadError::Foreign(
                    "it has no `schema_version` and `meta.tool: gauntlet`".into(),
                ))
            }
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| ReadError::Damaged {
            field: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }
}

impl ResultsFile {
    /// The run's load model and rate plan as text, which differs when the plans differ.
    pub fn plan_text(&self) -> String {
        let stages: Vec<String> = self
            .meta
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{}s@{}→{}{}",
                    s.duration_s,
                    s.rate_start,
                    s.rate_end,
                    if s.warmup { " warm-up" } else { "" }
                )
            })
            .collect();
        format!("{} [{}]", self.meta.model, stages.join(", "))
    }
}

/// Reads a `results.json`: see [`ResultsFile::try_from`].
pub fn read(path: &Path) -> Result<ResultsFile, String> {
    let text = super::files::read_text(path, "a results.json", super::files::RESULTS_CAP)
        .map_err(|e| e.to_string())?;
    ResultsFile::try_from(text.as_str()).map_err(|e| format!("{}: {e}", path.display()))
}

/// The outcome of `alt_svc: discover` for one target.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct AltSvcReport {
    /// The Alt-Svc value the target sent over HTTP/2 ("" when none).
    pub header: String,
    /// The HTTP/3 endpoint used, `host:port`, when one was advertised.
    pub h3: Option<String>,
    /// Why discovery failed, when it did (the lane then dials the URL's port).
    pub error: Option<String>,
}
