//! Protocol probe results as results.json holds them: the RFC verdict of each probe on each
//! path, and the parity of two paths.

use serde::{Deserialize, Serialize};

/// A probe family.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// HTTP/1.1 framing and parsing (smuggling).
    H1,
    /// HTTP/2 frames, HPACK and stream states.
    H2,
    /// HTTP/3 frames, QPACK and streams.
    H3,
    /// What a proxy does to messages between client and origin.
    Proxy,
}

impl Suite {
    /// Every suite, in report order.
    pub const ALL: [Suite; 4] = [Suite::H1, Suite::H2, Suite::H3, Suite::Proxy];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::H1 => "h1",
            Suite::H2 => "h2",
            Suite::H3 => "h3",
            Suite::Proxy => "proxy",
        }
    }

    /// Parses a suite name.
    pub fn parse(s: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The RFC verdict of one probe on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rfc {
    /// The behaviour the RFC asks for.
    Pass,
    /// Another behaviour the RFC allows (e.g. a 400 where a stream reset is preferred).
    Variant,
    /// A behaviour the RFC forbids, or one that let a request through that must not pass.
    Fail,
    /// No verdict: the probe could not run (connection refused, handshake failed), or it saw
    /// nothing to judge (silence, a hang, a peer that does not speak the protocol, a request
    /// that never reached the origin when the verdict needs it there). Never a pass.
    Error,
    /// Not run: it needs something this run does not have (the recording origin, a reload
    /// command, a TLS target).
    Skipped,
}

impl Rfc {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rfc::Pass => "pass",
            Rfc::Variant => "variant",
            Rfc::Fail => "fail",
            Rfc::Error => "error",
            Rfc::Skipped => "skipped",
        }
    }
}

/// The bytes of a failing probe and a way to send them again.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reproducer {
    /// What the probe sent, in hex (for HTTP/3, the request stream's bytes).
    pub hex: String,
    /// The same, with C escapes, to read.
    pub text: String,
    /// One shell line that sends them again.
    pub replay: String,
}

/// One probe's verdict on one path.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeResult {
    /// Probe id.
    pub id: String,
    /// Family.
    pub suite: Suite,
    /// RFC section.
    pub rfc_ref: String,
    /// What it checks.
    pub title: String,
    /// The RFC verdict.
    pub verdict: Rfc,
    /// What the client saw, in a few words.
    pub observed: String,
    /// Why the verdict.
    pub why: String,
    /// Present for failures and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproducer: Option<Reproducer>,
    /// What the verdict rests on: the bytes the client got back and what the origin received.
    #[serde(default, skip_serializing_if = "Evidence::is_empty")]
    pub evidence: Evidence,
    /// How long the probe took, in milliseconds (its canary not included).
    #[serde(default)]
    pub duration_ms: u64,
}

/// Some bytes, shown two ways, cut at [`Capture::LIMIT`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capture {
    /// Lower-case hex.
    pub hex: String,
    /// With C escapes, to read.
    pub text: String,
    /// How many bytes there were in all (more than shown when cut).
    pub len: u64,
}

impl Capture {
    /// The most bytes a capture keeps: evidence enough, and a results file that stays small.
    pub const LIMIT: usize = 2048;
}

/// What a probe's verdict rests on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// What came back to the client (HTTP/1.1 probes: the bytes as received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_received: Option<Capture>,
    /// Each request of the probe as the origin received it, in arrival order (for HTTP/2 and
    /// HTTP/3 origins, the decoded fields written out as text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_received: Vec<Capture>,
    /// What the canary sent after the probe found, when it found something wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<String>,
}

impl Evidence {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self == &Evidence::default()
    }
}

/// Every probe's verdict on one path.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PathResults {
    /// The path's name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// Whether the origin behind it was watched (decisive smuggling checks ran).
    pub origin_watched: bool,
    /// Why this path as a whole has no verdict, when it has none: its canary never got through,
    /// it stopped serving, or most of its probes could not run. A path with an error fails the
    /// run with exit 2, whatever its probes say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Results in probe order.
    pub probes: Vec<ProbeResult>,
}

impl PathResults {
    /// The probes that got `v`, in probe order.
    pub fn with(&self, v: Rfc) -> impl Iterator<Item = &ProbeResult> {
        self.probes.iter().filter(move |p| p.verdict == v)
    }

    /// How many probes got `v`.
    pub fn count(&self, v: Rfc) -> usize {
        self.with(v).count()
    }

    /// How many probes reached a verdict (pass, variant or fail).
    pub fn judged(&self) -> usize {
        self.count(Rfc::Pass) + self.count(Rfc::Variant) + self.count(Rfc::Fail)
    }

    /// How many probes did not run or reached no verdict, with their reasons, most common
    /// first: `(count, reason)`.
    pub fn not_run(&self) -> Vec<(usize, String)> {
        let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
        for p in self
            .probes
            .iter()
            .filter(|p| matches!(p.verdict, Rfc::Skipped | Rfc::Error))
        {
            *by.entry(p.why.as_str()).or_default() += 1;
        }
        let mut v: Vec<(usize, String)> = by.into_iter().map(|(w, n)| (n, w.to_string())).collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v
    }
}

/// One probe's parity verdict.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Parity {
    /// Probe id.
    pub id: String,
    /// The candidate's verdict and observation.
    pub candidate: String,
    /// The baseline's verdict and observation.
    pub baseline: String,
    /// Whether they agree.
    pub agree: bool,
    /// The quirk that accepts this difference, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quirk: Option<String>,
    /// Whether this difference is a regression that fails the run: the candidate's verdict is
    /// worse than the baseline's (pass, then variant, then fail) and no quirk names it.
    pub failure: bool,
}

/// Conformance results of a run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConformanceJson {
    /// One entry per path.
    pub paths: Vec<PathResults>,
    /// Candidate vs baseline, per probe, when two paths were probed.
    #[serde(default)]
    pub parity: Vec<Parity>,
    /// Candidate (or single-path) RFC failures plus parity failures.
    pub failures: u64,
    /// Parity failures alone: probes where the candidate does worse than the baseline and no
    /// quirk accepts it (the migration question).
    #[serde(default)]
    pub regressions: u64,
    /// Whether probing was interrupted (the paths hold the probes that finished).
    #[serde(default)]
    pub interrupted: bool,
}
