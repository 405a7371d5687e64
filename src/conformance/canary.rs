//! Canaries: one well-formed request sent through a path before its probes of each wire
//! protocol, and again on a new connection after every probe. A probe verdict is only worth
//! something when the path demonstrably serves a plain request: a canary that gets no answer
//! makes the path an `error`, one that gets through mangled after a probe convicts that probe of
//! a cross-client desync, and one that no longer connects convicts it of a crash.
//!
//! The canary is a POST with a small body, a unique path and `Cache-Control: no-store`, so a
//! caching proxy cannot answer it from its cache, and a proxy that lost track of an upstream
//! message's framing shows it in the body or request line the origin records.

use super::probes::Suite;
use crate::origin::recording::{Received, Recorder};
use crate::proto::raw::h1::{exchange, Step};
use crate::proto::raw::h2::{flag, frame, headers as h2_headers, ty, Event, H2Conn, Opening};
use crate::proto::raw::h3::{control_stream, frame as h3_frame, headers as h3_headers, session};
use crate::proto::raw::{escaped, RawTarget};

/// The wire a probe family speaks, and so the canary that vouches for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wire {
    /// HTTP/1.1 over TCP or TLS (the h1 and proxy families).
    H1,
    /// HTTP/2 (ALPN h2, or prior knowledge in cleartext).
    H2,
    /// HTTP/3 over QUIC.
    H3,
}

impl Wire {
    /// The wire of a probe family.
    pub fn of(s: Suite) -> Wire {
        match s {
            Suite::H1 | Suite::Proxy => Wire::H1,
            Suite::H2 => Wire::H2,
            Suite::H3 => Wire::H3,
        }
    }

    /// Its name in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Wire::H1 => "HTTP/1.1",
            Wire::H2 => "HTTP/2",
            Wire::H3 => "HTTP/3",
        }
    }
}

/// Why a canary did not vouch for the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sick {
    /// No connection: refused, reset during the handshake, or a TLS failure.
    Unreachable(String),
    /// Connected, but no complete answer came within the timeout.
    Silent(String),
    /// Answered in something other than the protocol spoken.
    NotSpoken(String),
    /// Answered, but the origin did not receive the canary, or received it altered.
    Lost(String),
}

impl Sick {
    /// The reason, in a sentence fragment.
    pub fn reason(&self) -> &str {
        match self {
            Sick::Unreachable(s) | Sick::Silent(s) | Sick::NotSpoken(s) | Sick::Lost(s) => s,
        }
    }

    /// Whether the path stopped serving (no connection, no answer, or no longer the protocol),
    /// rather than serving another client's bytes wrongly.
    pub fn down(&self) -> bool {
        !matches!(self, Sick::Lost(_))
    }
}

/// One canary request: its path, body and the value of its marker header.
struct Bird {
    path: String,
    body: String,
    marker: String,
}

impl Bird {
    fn new(nonce: &str) -> Bird {
        Bird {
            path: format!("/probe/{nonce}/ok"),
            body: format!("canary {nonce}\n"),
            marker: nonce.to_string(),
        }
    }

    fn fields(&self, scheme: &str, authority: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        [
            (":method", "POST"),
            (":scheme", scheme),
            (":authority", authority),
            (":path", &self.path),
            ("cache-control", "no-store"),
            ("x-gauntlet-canary", &self.marker),
            ("content-type", "text/plain"),
            ("content-length", &self.body.len().to_string()),
        ]
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
    }

    fn h1(&self, authority: &str) -> Vec<u8> {
        format!(
            "POST {} HTTP/1.1\r\nHost: {authority}\r\nCache-Control: no-store\r\nX-Gauntlet-Canary: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
            self.path,
            self.marker,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }

    /// Whether `r` is this canary, arrived whole: method, target, marker and body as sent, and
    /// (raw listener) nothing before the request line.
    fn intact(&self, r: &Received) -> bool {
        let marker = r.header_values("x-gauntlet-canary");
        let head_clean = r.raw.is_empty() || r.raw.starts_with(b"POST ");
        // An HTTP/2 or HTTP/3 origin records fields only; the raw listener records the body.
        let body_ok = (r.raw.is_empty() && r.body.is_empty()) || r.body == self.body.as_bytes();
        r.method == "POST"
            && r.target == self.path
            && marker == [self.marker.as_bytes()]
            && head_clean
            && body_ok
    }

    /// Checks what the origin recorded, when it is watched.
    fn arrived(&self, origin: Option<&Recorder>, answer: &str) -> Result<(), Sick> {
        let Some(o) = origin else { return Ok(()) };
        let seen = o.mentioning(&self.marker);
        if seen.iter().any(|r| self.intact(r)) {
            return Ok(());
        }
        Err(Sick::Lost(match seen.first() {
            None => format!("the canary was answered {answer} but never reached the origin"),
            Some(r) => format!(
                "the canary reached the origin altered: {}",
                escaped(&clip(&shown(r)))
            ),
        }))
    }
}

/// A received request as bytes: the raw bytes when the listener kept them, else its fields
/// written out as an HTTP/1.1-like head and the body.
pub fn shown(r: &Received) -> Vec<u8> {
    if !r.raw.is_empty() {
        return r.raw.clone();
    }
    let mut b = format!("{} {} {}\r\n", r.method, r.target, r.version).into_bytes();
    for (n, v) in &r.headers {
        b.extend_from_slice(n.as_bytes());
        b.extend_from_slice(b": ");
        b.extend_from_slice(v);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"\r\n");
    b.extend_from_slice(&r.body);
    b
}

/// Whether `b` is, or could grow into, an HTTP/1.x response.
fn looks_http1(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/") || b"HTTP/".starts_with(b)
}

fn clip(b: &[u8]) -> Vec<u8> {
    b[..b.len().min(200)].to_vec()
}

/// Sends one canary over `wire` and checks, when `origin` is watched, that it arrived intact.
/// `nonce` must be unique to this canary.
pub async fn send(
    target: &RawTarget,
    origin: Option<&Recorder>,
    wire: Wire,
    nonce: &str,
) -> Result<(), Sick> {
    let bird = Bird::new(nonce);
    let answer = match wire {
        Wire::H1 => h1(target, &bird).await?,
        Wire::H2 => h2(target, &bird).await?,
        Wire::H3 => h3(target, &bird).await?,
    };
    bird.arrived(origin, &answer)
}

async fn h1(target: &RawTarget, bird: &Bird) -> Result<String, Sick> {
    let reply = exchange(target, &[Step::Send(bird.h1(&target.authority()))], 1, &[])
        .await
        .map_err(|e| Sick::Unreachable(format!("{}: {}", e.code, e.message)))?;
    match reply.responses.first() {
        Some(r) if r.complete && r.status >= 200 => Ok(r.status.to_string()),
        _ if reply.received.is_empty() => Err(Sick::Silent(match reply.end.as_str() {
            "open" => format!(
                "no answer to a plain HTTP/1.1 request within {:?}",
                target.timeout
            ),
            e => {
                format!("the connection ended ({e}) without an answer to a plain HTTP/1.1 request")
            }
        })),
        _ if !looks_http1(&reply.received) => Err(Sick::NotSpoken(format!(
            "answered a plain HTTP/1.1 request with bytes that are not HTTP/1.1: {}",
            escaped(&clip(&reply.received))
        ))),
        _ => Err(Sick::Silent(format!(
            "no complete answer to a plain HTTP/1.1 request within {:?} ({} bytes: {})",
            target.timeout,
            reply.received.len(),
            escaped(&clip(&reply.received))
        ))),
    }
}

async fn h2(target: &RawTarget, bird: &Bird) -> Result<String, Sick> {
    let mut c = H2Conn::open(target, Opening::Preface)
        .await
        .map_err(|e| Sick::Unreachable(format!("{}: {}", e.code, e.message)))?;
    let scheme = if target.tls { "https" } else { "http" };
    let mut frames = h2_headers(1, &bird.fields(scheme, &target.authority()), false);
    frames.extend(frame(ty::DATA, flag::END_STREAM, 1, bird.body.as_bytes()));
    c.send(&frames).await;
    c.read_until(|l| l.stream_done(1) || l.goaway().is_some())
        .await;
    let log = &c.log;
    if !log.garbage.is_empty() {
        return Err(Sick::NotSpoken(format!(
            "does not speak HTTP/2 here: it answered the connection preface with {}",
            escaped(&clip(&log.garbage))
        )));
    }
    if !log.events.iter().any(|e| matches!(e, Event::Settings(_))) {
        return Err(Sick::NotSpoken(format!(
            "sent no HTTP/2 SETTINGS frame within {:?} of the connection preface (connection {})",
            target.timeout,
            log.end.as_str()
        )));
    }
    match log.status(1) {
        Some(s) if log.stream_done(1) => Ok(s.to_string()),
        _ => Err(Sick::Silent(format!(
            "no complete answer to a plain HTTP/2 request within {:?} ({})",
            target.timeout,
            log.outcome(1)
        ))),
    }
}

async fn h3(target: &RawTarget, bird: &Bird) -> Result<String, Sick> {
    let mut request = h3_headers(&bird.fields("https", &target.authority()));
    request.extend(h3_frame(0x0, bird.body.as_bytes()));
    let script = crate::proto::raw::h3::H3Script {
        uni: vec![control_stream()],
        request: Some(request),
    };
    let log = session(target, &script)
        .await
        .map_err(|e| Sick::Unreachable(format!("{}: {}", e.code, e.message)))?;
    match log.request.status() {
        Some(s) if log.request.finished => Ok(s.to_string()),
        _ => Err(Sick::Silent(format!(
            "no complete answer to a plain HTTP/3 request within {:?} ({})",
            target.timeout,
            log.outcome()
        ))),
    }
}
