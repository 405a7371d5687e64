//! Protocol probes: byte- and frame-level requests that a conforming proxy must refuse or handle
//! in one of a few acceptable ways. Each probe is data (an id, an RFC section, a title) plus the
//! code that sends it and judges what came back — on the client's side and, decisively for
//! smuggling and malformed requests, on the origin's side through the [`Recorder`].
//!
//! One family per file or two: [`h1`] and [`h1_framing`], [`h2`] and [`h2_frames`] (its floods
//! in [`h2_flood`]), [`h3`], [`proxy`] (its
//! malformed and bodiless origin responses in [`proxy_response`]).

pub mod h1;
pub mod h1_framing;
pub mod h2;
pub mod h2_flood;
pub mod h2_frames;
pub mod h3;
pub mod proxy;
pub mod proxy_response;

use std::future::Future;
use std::pin::Pin;

pub use crate::model::conformance::{Rfc, Suite};
use crate::origin::recording::{contains, Recorder};
use crate::proto::raw::h1::Reply;
use crate::proto::raw::{End, RawTarget};
use crate::record::errors::RequestError;
pub use crate::scenario::probing::{ProxyPolicy, Selection, ViaPolicy, XffPolicy};

/// What one probe found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The verdict.
    pub rfc: Rfc,
    /// What the client saw, in a few words (`400 close`, `rst:PROTOCOL_ERROR`); two paths agree
    /// when these are equal.
    pub observed: String,
    /// Why the verdict is what it is.
    pub why: String,
    /// What came back to the client, kept as evidence.
    pub received: Option<Vec<u8>>,
}

impl Outcome {
    /// An outcome.
    pub fn new(rfc: Rfc, observed: impl Into<String>, why: impl Into<String>) -> Self {
        Outcome {
            rfc,
            observed: observed.into(),
            why: why.into(),
            received: None,
        }
    }

    /// The same outcome, keeping what the client received as evidence.
    pub fn with_received(self, bytes: &[u8]) -> Self {
        Outcome {
            received: Some(bytes.to_vec()),
            ..self
        }
    }
}

/// What a probe run needs.
#[derive(Debug, Clone)]
pub struct Cx {
    /// Where probes go.
    pub target: RawTarget,
    /// What the origin behind the target received, when this run can see it.
    pub origin: Option<Recorder>,
    /// A string unique to this probe run, carried in its paths and headers.
    pub nonce: String,
    /// A shell command that reloads the proxy gracefully.
    pub reload: Option<String>,
    /// Whether the recorder watches an origin behind the target (a proxy), rather than the
    /// target itself.
    pub proxied: bool,
    /// What the operator expects of Via and X-Forwarded-For.
    pub policy: ProxyPolicy,
}

impl Cx {
    /// The path of the probe's main request, ending in the raw origin's answer `kind`.
    pub fn path(&self, kind: &str) -> String {
        format!("/probe/{}/{kind}", self.nonce)
    }

    /// The path a smuggled request uses.
    pub fn smuggled(&self) -> String {
        format!("/smuggled/{}", self.nonce)
    }

    /// Whether the origin received a request whose line or headers mention `needle`; `None` when
    /// the origin cannot be seen.
    pub fn reached(&self, needle: &str) -> Option<bool> {
        self.origin
            .as_ref()
            .map(|o| !o.mentioning(needle).is_empty())
    }

    /// Whether any request of this probe reaching the origin carried `bytes` (raw listener).
    pub fn forwarded_bytes(&self, bytes: &[u8]) -> bool {
        self.origin.as_ref().is_some_and(|o| {
            o.mentioning(&self.nonce)
                .iter()
                .any(|r| contains(&r.raw, bytes) || contains(&r.body, bytes))
        })
    }

    /// The requests of this probe that reached the origin.
    pub fn received(&self) -> Vec<crate::origin::recording::Received> {
        self.origin
            .as_ref()
            .map(|o| o.mentioning(&self.nonce))
            .unwrap_or_default()
    }
}

/// What a probe sends, built for a context.
pub type Bytes = fn(&Cx) -> Vec<u8>;
/// How a probe sends and judges.
pub type Run = for<'a> fn(&'a Cx, Probe) -> ProbeFuture<'a>;

/// A boxed probe future.
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, RequestError>> + Send + 'a>>;

/// One probe: data and the code that runs it.
#[derive(Clone, Copy)]
pub struct Probe {
    /// Stable id, `family.topic.case`.
    pub id: &'static str,
    /// Its family.
    pub suite: Suite,
    /// The RFC section it checks.
    pub rfc: &'static str,
    /// What it sends and what must happen, in a sentence.
    pub title: &'static str,
    /// Whether its verdict needs the recording origin (smuggling, forwarding checks).
    pub needs_origin: bool,
    /// Whether it judges only what a proxy forwards (an origin probed directly acts on the
    /// message out of sight).
    pub proxied_only: bool,
    /// What it sends (for the reproducer), built for a context.
    pub bytes: Bytes,
    /// Sends [`Probe::bytes`] (and anything else it needs) and judges what came back.
    pub run: Run,
}

impl Probe {
    /// A probe of `suite` judged from what the client saw (and the origin, when watched).
    pub fn new(
        suite: Suite,
        id: &'static str,
        rfc: &'static str,
        title: &'static str,
        bytes: Bytes,
        run: Run,
    ) -> Probe {
        Probe {
            id,
            suite,
            rfc,
            title,
            needs_origin: false,
            proxied_only: false,
            bytes,
            run,
        }
    }

    /// The same probe, run only through a proxy in front of the watched origin.
    pub fn proxied_only(self) -> Probe {
        Probe {
            needs_origin: true,
            proxied_only: true,
            ..self
        }
    }

    /// The same probe, skipped unless the origin behind the target is watched.
    pub fn needing_origin(self) -> Probe {
        Probe {
            needs_origin: true,
            ..self
        }
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// Every probe, in report order.
pub fn all() -> Vec<Probe> {
    let mut v = h1::probes();
    v.extend(h1_framing::probes());
    v.extend(h2::probes());
    v.extend(h2_frames::probes());
    v.extend(h2_flood::probes());
    v.extend(h3::probes());
    v.extend(proxy::probes());
    v
}

/// The probes `sel` selects, in report order.
pub fn selected(sel: &Selection) -> Vec<Probe> {
    all()
        .into_iter()
        .filter(|p| sel.suites.is_empty() || sel.suites.contains(&p.suite))
        .filter(|p| sel.only.is_empty() || sel.only.iter().any(|o| p.id.starts_with(o.as_str())))
        .collect()
}

/// Whether what reached the origin is a sound repair of a malformed request, or what is wrong.
pub type Repair = dyn Fn(&Cx) -> Result<(), String>;

/// Judges a malformed request: rejected (a 4xx, or closed without an answer) and never reaching
/// the origin passes; reaching the origin fails. `normalised` says whether what reached the
/// origin was repaired (the RFC allows, say, replacing obs-fold with a space). Silence is no
/// rejection: a connection still open without an answer has no verdict.
pub fn judge_rejected(cx: &Cx, reply: &Reply, normalised: Option<&Repair>) -> Outcome {
    let observed = reply.signature();
    let status = reply.statuses().first().copied();
    // Probing an origin directly, its record shows the head reached its application; a 4xx
    // then means the server itself refused the message (say, on reading the body).
    let refused_itself = !cx.proxied && status.is_some_and(|s| (400..500).contains(&s));
    let judged = if cx.reached(&cx.nonce) == Some(true) && !refused_itself {
        // A streaming proxy sends the head on before it reads the body; refusing the body
        // then, it abandons the upstream request. If the client got a 4xx and every request
        // the origin saw was cut short with nothing malformed in it, the refusal is whole.
        let abandoned = status.is_some_and(|s| (400..500).contains(&s))
            && cx.received().iter().all(|r| r.cut_short);
        match normalised.map(|f| f(cx)) {
            Some(Ok(())) if abandoned => Outcome::new(
                Rfc::Pass,
                observed,
                "rejected with a 4xx; the head already sent on was abandoned before the body's end",
            ),
            Some(Ok(())) => Outcome::new(
                Rfc::Variant,
                observed,
                "forwarded after repairing the malformed part, as the RFC allows",
            ),
            Some(Err(why)) => Outcome::new(
                Rfc::Fail,
                observed,
                format!("forwarded without a sound repair: {why}"),
            ),
            None => Outcome::new(
                Rfc::Fail,
                observed,
                "the origin received the malformed request",
            ),
        }
    } else {
        match status {
            Some(s) if (400..500).contains(&s) => {
                Outcome::new(Rfc::Pass, observed, "rejected with a 4xx")
            }
            Some(s) if s >= 500 => Outcome::new(
                Rfc::Variant,
                observed,
                format!("refused with {s} (a 400 is what the RFC asks for)"),
            ),
            Some(s) => Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {s} to a request it must reject"),
            ),
            None if reply.end == End::Open => Outcome::new(
                Rfc::Error,
                observed,
                format!(
                    "no answer within {:?} and the connection still open: nothing to judge",
                    cx.target.timeout
                ),
            ),
            None => Outcome::new(
                Rfc::Variant,
                observed,
                "closed or reset without an answer (a 400 is what the RFC asks for)",
            ),
        }
    };
    judged.with_received(&reply.received)
}
