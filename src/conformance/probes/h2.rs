//! HTTP/2 probes: malformed requests (field names, connection-specific fields, pseudo-headers,
//! field values, content-length against DATA, :authority against Host), frame and stream-state
//! violations, SETTINGS and WINDOW_UPDATE errors, HPACK errors, stream limits, PING, unknown
//! frames, and bounded rapid-reset and CONTINUATION floods that the server must survive.
//!
//! Frames are written by hand (see [`crate::proto::raw::h2`]); a malformed request passes when
//! the stream or connection is refused and the request never reached the origin.

use super::{Bytes, Cx, Outcome, Probe, ProbeFuture, Rfc, Run, Suite};
use crate::proto::raw::h2::{
    self as wire, error_name, flag, frame, get, headers, hpack, settings, ty, Event, H2Conn, H2Log,
    Opening, PREFACE,
};
use crate::proto::raw::{End, Fields};
use crate::record::errors::RequestError;

pub(super) const PROTOCOL_ERROR: u32 = 1;
pub(super) const FLOW_CONTROL_ERROR: u32 = 3;
const STREAM_CLOSED: u32 = 5;
pub(super) const FRAME_SIZE_ERROR: u32 = 6;
const REFUSED_STREAM: u32 = 7;
pub(super) const COMPRESSION_ERROR: u32 = 9;

pub(super) fn scheme(cx: &Cx) -> &'static str {
    if cx.target.tls {
        "https"
    } else {
        "http"
    }
}

/// A GET for the probe's path, with `extra` fields after the pseudo-headers.
pub(super) fn request(cx: &Cx, kind: &str, extra: &[(&str, &[u8])]) -> Fields {
    let mut f = get(scheme(cx), &cx.target.authority(), &cx.path(kind));
    f.extend(
        extra
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.to_vec())),
    );
    f
}

/// What the reproducer shows: the preface, our SETTINGS, then the probe's frames.
pub(super) fn with_preface(frames: Vec<u8>) -> Vec<u8> {
    let mut b = PREFACE.to_vec();
    b.extend(settings(&[]));
    b.extend(frames);
    b
}

/// Sends the probe's frames (without the preface it builds for the reproducer) and reads until
/// stream `stream` ends or the connection does.
pub(super) async fn play(cx: &Cx, p: &Probe, stream: u32) -> Result<H2Log, RequestError> {
    let all = (p.bytes)(cx);
    let frames = all[PREFACE.len() + 9..].to_vec();
    let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
    c.send(&frames).await;
    c.read_until(|l| l.stream_done(stream) || l.goaway().is_some())
        .await;
    Ok(c.log)
}

/// A malformed request: refused (RST_STREAM or GOAWAY PROTOCOL_ERROR best, a 4xx allowed) and,
/// when `forwarded` can tell, never forwarded.
pub(super) fn judge_malformed(forwarded: Option<bool>, log: &H2Log, stream: u32) -> Outcome {
    let observed = log.outcome(stream);
    if forwarded == Some(true) {
        return Outcome::new(
            Rfc::Fail,
            observed,
            "the origin received the malformed request",
        );
    }
    if let Some(s) = log.status(stream) {
        // Not forwarded (checked above): a 4xx, or a 5xx from a failed forward, still refused it.
        return if s >= 400 {
            Outcome::new(
                Rfc::Variant,
                observed,
                format!(
                    "answered {s}; RST_STREAM(PROTOCOL_ERROR) is what RFC 9113 §8.1.1 asks for"
                ),
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {s} to a malformed request"),
            )
        };
    }
    match (log.rst(stream), log.goaway()) {
        (Some(PROTOCOL_ERROR), _) | (None, Some(PROTOCOL_ERROR)) => {
            Outcome::new(Rfc::Pass, observed, "refused with PROTOCOL_ERROR")
        }
        (Some(c), _) | (None, Some(c)) => Outcome::new(
            Rfc::Variant,
            observed,
            format!("refused with {} rather than PROTOCOL_ERROR", error_name(c)),
        ),
        (None, None) if log.end != End::Open => Outcome::new(
            Rfc::Variant,
            observed,
            "closed the connection without a GOAWAY",
        ),
        _ => Outcome::new(
            Rfc::Fail,
            observed,
            "no answer and no error: the request was ignored",
        ),
    }
}

/// A connection error of type `code` is due: GOAWAY with it passes.
pub(super) fn judge_connection(log: &H2Log, stream: u32, code: u32) -> Outcome {
    let observed = log.outcome(stream);
    let want = error_name(code);
    if let Some(s) = log.status(stream) {
        return Outcome::new(
            Rfc::Fail,
            observed,
            format!("answered {s} on a connection that owed a GOAWAY({want})"),
        );
    }
    match log.goaway() {
        Some(c) if c == code => Outcome::new(Rfc::Pass, observed, format!("GOAWAY({want})")),
        // A graceful GOAWAY (an idle timeout, a shutdown) is no reaction to the error.
        Some(0) => Outcome::new(
            Rfc::Fail,
            observed,
            format!(
                "ignored: no error, only a graceful GOAWAY(NO_ERROR) where {want} is specified"
            ),
        ),
        Some(c) => Outcome::new(
            Rfc::Variant,
            observed,
            format!("GOAWAY({}) where {want} is specified", error_name(c)),
        ),
        None if log.rst(stream).is_some() || log.end != End::Open => Outcome::new(
            Rfc::Variant,
            observed,
            format!("ended the stream or connection without GOAWAY({want})"),
        ),
        None => Outcome::new(Rfc::Fail, observed, "ignored: no error at all"),
    }
}

pub(super) fn run_malformed(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        Ok(judge_malformed(cx.reached(&cx.nonce), &log, 1))
    })
}

pub(super) fn run_connection<const CODE: u32>(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        Ok(judge_connection(&log, 1, CODE))
    })
}

/// A request the server must accept and answer.
fn run_accepted(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        let observed = log.outcome(1);
        Ok(match log.status(1) {
            Some(s) if (200..300).contains(&s) => {
                Outcome::new(Rfc::Pass, observed, format!("answered {s}"))
            }
            _ => Outcome::new(Rfc::Fail, observed, "refused a request the RFC allows"),
        })
    })
}

pub(super) fn get_frames(cx: &Cx, stream: u32, extra: &[(&str, &[u8])]) -> Vec<u8> {
    with_preface(headers(stream, &request(cx, "ok", extra), true))
}

/// Fields in exactly this order (pseudo-headers included).
pub(super) fn raw_fields(cx: &Cx, list: &[(&str, &str)]) -> Vec<u8> {
    let auth = cx.target.authority();
    let path = cx.path("ok");
    let f: Fields = list
        .iter()
        .map(|(n, v)| {
            let v = v
                .replace("{auth}", &auth)
                .replace("{path}", &path)
                .replace("{scheme}", scheme(cx));
            (n.as_bytes().to_vec(), v.into_bytes())
        })
        .collect();
    with_preface(headers(1, &f, true))
}

/// A setting or frame that is a connection error, followed by a GET on stream 1.
pub(super) fn then_get(cx: &Cx, first: Vec<u8>) -> Vec<u8> {
    let mut b = first;
    b.extend(headers(1, &request(cx, "ok", &[]), true));
    with_preface(b)
}

/// A POST with `content-length: declared` and one DATA frame of `body`.
pub(super) fn post(cx: &Cx, declared: usize, body: &[u8]) -> Vec<u8> {
    let mut f = request(
        cx,
        "ok",
        &[("content-length", declared.to_string().as_bytes())],
    );
    f[0].1 = b"POST".to_vec();
    let mut b = headers(1, &f, false);
    b.extend(frame(ty::DATA, flag::END_STREAM, 1, body));
    with_preface(b)
}

/// Content-length 0 with a DATA frame that is an HTTP/1.1 request (the H2.CL desync).
fn h2_cl(cx: &Cx) -> Vec<u8> {
    let tail = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        cx.smuggled(),
        cx.target.authority()
    );
    post(cx, 0, tail.as_bytes())
}

fn run_h2_cl(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        if cx.reached(&cx.smuggled()) == Some(true) {
            return Ok(Outcome::new(
                Rfc::Fail,
                log.outcome(1),
                "the DATA beyond content-length reached the origin as a request",
            ));
        }
        // The request's head may reach the origin before its DATA shows it malformed: only
        // the smuggled tail decides on the origin's side.
        Ok(judge_malformed(None, &log, 1))
    })
}

fn run_short_body(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        // A streaming proxy forwards the head before the body proves it short: judge the client.
        Ok(judge_malformed(None, &log, 1))
    })
}

/// `:authority` one host, Host another: reject, or forward with the Host of :authority.
fn run_authority(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        let observed = log.outcome(1);
        let got = cx.received();
        let wrong = got.iter().any(|r| {
            r.header_values("host")
                .iter()
                .any(|h| h.starts_with(b"other.invalid"))
        });
        Ok(if wrong {
            Outcome::new(
                Rfc::Fail,
                observed,
                "the origin received the Host that contradicts :authority",
            )
        } else if !got.is_empty() {
            Outcome::new(
                Rfc::Variant,
                observed,
                "forwarded with the :authority's host (rejecting is what the RFC suggests)",
            )
        } else {
            judge_malformed(cx.reached(&cx.nonce), &log, 1)
        })
    })
}

/// A GET whose header block is longer than `max`, in one HEADERS frame.
fn oversize(cx: &Cx, max: u32) -> Vec<u8> {
    let big = vec![b'a'; max as usize + 1];
    get_frames(cx, 1, &[("x-big", &big)])
}

fn run_oversize(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
        c.read_until(|l| l.events.iter().any(|e| matches!(e, Event::Settings(_))))
            .await;
        // The limit is the server's to raise (Go's servers announce 1 MiB).
        let max = c.setting(0x5).unwrap_or(16_384);
        if max >= (1 << 24) - 1 {
            return Ok(Outcome::new(
                Rfc::Skipped,
                "no limit",
                "the server accepts frames of any size",
            ));
        }
        let all = oversize(cx, max);
        c.send(&all[PREFACE.len() + 9..]).await;
        c.read_until(|l| l.stream_done(1) || l.goaway().is_some())
            .await;
        let mut o = judge_connection(&c.log, 1, FRAME_SIZE_ERROR);
        o.observed = format!("max {max}: {}", o.observed);
        Ok(o)
    })
}

/// Requests on stream 5, then on stream 3: the lower id is a connection error.
fn decreasing(cx: &Cx) -> Vec<u8> {
    let mut b = headers(5, &request(cx, "ok", &[]), true);
    b.extend(headers(3, &request(cx, "ok", &[("x-second", b"1")]), true));
    with_preface(b)
}

fn run_decreasing(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 3).await?;
        Ok(judge_connection(&log, 3, PROTOCOL_ERROR))
    })
}

/// A HEADERS without END_HEADERS, a PING, then the CONTINUATION.
fn interleaved(cx: &Cx) -> Vec<u8> {
    let f = request(cx, "ok", &[]);
    let refs: Vec<(&[u8], &[u8])> = f
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let block = hpack(&refs);
    let (a, b) = block.split_at(block.len() / 2);
    let mut out = frame(ty::HEADERS, flag::END_STREAM, 1, a);
    out.extend(frame(ty::PING, 0, 0, &[0; 8]));
    out.extend(frame(ty::CONTINUATION, flag::END_HEADERS, 1, b));
    with_preface(out)
}

/// As many slow requests as the server allows concurrently, plus one.
fn over_limit_frames(cx: &Cx, max: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..=max {
        b.extend(headers(1 + 2 * i, &request(cx, "slow", &[]), true));
    }
    b
}

fn run_over_limit(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
        c.read_until(|l| l.events.iter().any(|e| matches!(e, Event::Settings(_))))
            .await;
        let Some(max) = c.setting(0x3).filter(|m| *m <= 1000) else {
            return Ok(Outcome::new(
                Rfc::Skipped,
                "no limit",
                "the server announces no SETTINGS_MAX_CONCURRENT_STREAMS of 1000 or less",
            ));
        };
        c.send(&over_limit_frames(cx, max)).await;
        let last = 1 + 2 * max;
        c.read_until(|l| (0..=max).all(|i| l.stream_done(1 + 2 * i)) || l.goaway().is_some())
            .await;
        let log = &c.log;
        let observed = format!("max {max}: {}", log.outcome(last));
        let refused = (0..=max)
            .filter(|i| matches!(log.rst(1 + 2 * i), Some(REFUSED_STREAM | PROTOCOL_ERROR)))
            .count();
        Ok(if refused > 0 {
            Outcome::new(
                Rfc::Pass,
                observed,
                format!("{refused} stream(s) beyond the limit refused"),
            )
        } else if log.goaway() == Some(PROTOCOL_ERROR) {
            Outcome::new(
                Rfc::Pass,
                observed,
                "GOAWAY(PROTOCOL_ERROR) for exceeding the limit",
            )
        } else if (0..=max).all(|i| log.status(1 + 2 * i).is_some_and(|s| s < 300)) {
            Outcome::new(
                Rfc::Fail,
                observed,
                format!(
                    "all {} streams answered although at most {max} may be open",
                    max + 1
                ),
            )
        } else {
            Outcome::new(
                Rfc::Variant,
                observed,
                "streams beyond the limit failed otherwise",
            )
        })
    })
}

const PING_DATA: [u8; 8] = *b"gauntlet";

fn run_ping(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
        c.send(&frame(ty::PING, 0, 0, &PING_DATA)).await;
        c.read_until(|l| l.events.iter().any(|e| matches!(e, Event::PingAck(_))))
            .await;
        let ack = c.log.events.iter().find_map(|e| match e {
            Event::PingAck(p) => Some(p.clone()),
            _ => None,
        });
        Ok(match ack {
            Some(p) if p == PING_DATA => {
                Outcome::new(Rfc::Pass, "ack", "PING echoed with its payload")
            }
            Some(_) => Outcome::new(
                Rfc::Fail,
                "ack:other",
                "PING acknowledged with another payload",
            ),
            None => Outcome::new(Rfc::Fail, "no ack", "no PING acknowledgement"),
        })
    })
}

pub(super) fn probe(
    id: &'static str,
    rfc: &'static str,
    title: &'static str,
    bytes: Bytes,
    run: Run,
) -> Probe {
    Probe::new(Suite::H2, id, rfc, title, bytes, run)
}

/// The HTTP/2 probes.
pub fn probes() -> Vec<Probe> {
    vec![
        probe("h2.preface.bad", "RFC 9113 §3.4", "A wrong connection preface, then a request: the connection must fail", |cx| {
            let mut b = b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".to_vec();
            b.extend(settings(&[]));
            b.extend(headers(1, &request(cx, "ok", &[]), true));
            b
        }, |cx, p| Box::pin(async move {
            let mut c = H2Conn::open(&cx.target, Opening::Raw).await?;
            c.send(&(p.bytes)(cx)).await;
            c.read_until(|l| l.stream_done(1) || l.goaway().is_some()).await;
            Ok(judge_connection(&c.log, 1, PROTOCOL_ERROR))
        })),
        probe("h2.headers.uppercase", "RFC 9113 §8.2.1", "A field name with upper-case letters is malformed", |cx| get_frames(cx, 1, &[("X-Probe", b"v")]), run_malformed),
        probe("h2.headers.connection", "RFC 9113 §8.2.2", "`connection: keep-alive` is malformed in HTTP/2", |cx| get_frames(cx, 1, &[("connection", b"keep-alive")]), run_malformed),
        probe("h2.headers.transfer-encoding", "RFC 9113 §8.2.2", "`transfer-encoding: chunked` is malformed in HTTP/2", |cx| get_frames(cx, 1, &[("transfer-encoding", b"chunked")]), run_malformed),
        probe("h2.headers.te-trailers", "RFC 9113 §8.2.2", "`te: trailers` is the one allowed value: the request must be served", |cx| get_frames(cx, 1, &[("te", b"trailers")]), run_accepted),
        probe("h2.headers.te-gzip", "RFC 9113 §8.2.2", "`te: gzip` is malformed", |cx| get_frames(cx, 1, &[("te", b"gzip")]), run_malformed),
        probe("h2.pseudo.missing-path", "RFC 9113 §8.3.1", "A GET without :path is malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), ("x-probe", "{path}")]), run_malformed),
        probe("h2.pseudo.after-regular", "RFC 9113 §8.3", "A pseudo-header after a regular field is malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), ("x-probe", "{path}"), (":authority", "{auth}"), (":path", "{path}")]), run_malformed),
        probe("h2.pseudo.unknown", "RFC 9113 §8.3", "An unknown pseudo-header `:foo` is malformed", |cx| get_frames(cx, 1, &[(":foo", b"bar")]), run_malformed),
        probe("h2.pseudo.duplicate-path", "RFC 9113 §8.3.1", "Two :path pseudo-headers are malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", "{path}"), (":path", "/other")]), run_malformed),
        probe("h2.value.crlf", "RFC 9113 §8.2.1", "CR LF inside a field value is malformed", |cx| get_frames(cx, 1, &[("x-probe", b"a\r\nx-injected: 1")]), run_malformed),
        probe("h2.value.nul", "RFC 9113 §8.2.1", "NUL inside a field value is malformed", |cx| get_frames(cx, 1, &[("x-probe", b"a\0b")]), run_malformed),
        probe("h2.value.leading-space", "RFC 9113 §8.2.1", "A field value starting with a space is malformed", |cx| get_frames(cx, 1, &[("x-probe", b" v")]), run_malformed),
        probe("h2.content-length.longer-body", "RFC 9113 §8.1.1", "content-length 0 with DATA holding an HTTP/1.1 request (H2.CL): refused, never smuggled", h2_cl, run_h2_cl),
        probe("h2.content-length.shorter-body", "RFC 9113 §8.1.1", "content-length 10 with 3 bytes of DATA and END_STREAM is malformed", |cx| post(cx, 10, b"abc"), run_short_body),
        probe("h2.authority.host-mismatch", "RFC 9113 §8.3.1", ":authority and a contradicting Host: rejected, or forwarded with :authority's host", |cx| get_frames(cx, 1, &[("host", b"other.invalid")]), run_authority),
        probe("h2.frame.oversize", "RFC 9113 §4.2", "A HEADERS frame one byte over the server's SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR", |cx| oversize(cx, 16_384), run_oversize),
        probe("h2.frame.ping-length", "RFC 9113 §6.7", "A PING of 9 bytes is a FRAME_SIZE_ERROR", |cx| then_get(cx, frame(ty::PING, 0, 0, &[0; 9])), run_connection::<FRAME_SIZE_ERROR>),
        probe("h2.stream.even-id", "RFC 9113 §5.1.1", "A request on stream 2 (even: server-initiated) is a PROTOCOL_ERROR", |cx| {
            let mut b = with_preface(headers(2, &request(cx, "ok", &[]), true));
            b.extend(headers(1, &request(cx, "ok", &[("x-after", b"1")]), true));
            b
        }, run_connection::<PROTOCOL_ERROR>),
        probe("h2.stream.decreasing-id", "RFC 9113 §5.1.1", "A request on stream 3 after stream 5 is a PROTOCOL_ERROR", decreasing, run_decreasing),
        probe("h2.stream.data-on-idle", "RFC 9113 §5.1", "DATA on a stream never opened is a PROTOCOL_ERROR", |cx| then_get(cx, frame(ty::DATA, 0, 7, b"x")), run_connection::<PROTOCOL_ERROR>),
        probe("h2.stream.data-after-end", "RFC 9113 §5.1", "DATA after END_STREAM is STREAM_CLOSED", |cx| {
            let mut b = headers(1, &request(cx, "ok", &[]), true);
            b.extend(frame(ty::DATA, flag::END_STREAM, 1, b"late"));
            with_preface(b)
        }, |cx, p| Box::pin(async move {
            let log = play(cx, &p, 1).await?;
            let observed = format!("{} {}", log.outcome(1), log.goaway().map(error_name).unwrap_or_default());
            Ok(match (log.rst(1), log.goaway()) {
                (Some(STREAM_CLOSED), _) | (_, Some(STREAM_CLOSED)) => Outcome::new(Rfc::Pass, observed, "STREAM_CLOSED"),
                (Some(c), _) | (_, Some(c)) => Outcome::new(Rfc::Variant, observed, format!("{} where STREAM_CLOSED is specified", error_name(c))),
                _ => Outcome::new(Rfc::Fail, observed, "DATA after END_STREAM went unanswered"),
            })
        })),
        probe("h2.continuation.interleaved", "RFC 9113 §6.10", "A PING between HEADERS and its CONTINUATION is a PROTOCOL_ERROR", interleaved, run_connection::<PROTOCOL_ERROR>),
        probe("h2.settings.enable-push", "RFC 9113 §6.5.2", "SETTINGS_ENABLE_PUSH = 2 is a PROTOCOL_ERROR", |cx| then_get(cx, settings(&[(0x2, 2)])), run_connection::<PROTOCOL_ERROR>),
        probe("h2.settings.initial-window", "RFC 9113 §6.5.2", "SETTINGS_INITIAL_WINDOW_SIZE = 2^31 is a FLOW_CONTROL_ERROR", |cx| then_get(cx, settings(&[(0x4, 1 << 31)])), run_connection::<FLOW_CONTROL_ERROR>),
        probe("h2.settings.max-frame-size", "RFC 9113 §6.5.2", "SETTINGS_MAX_FRAME_SIZE = 100 (below 16384) is a PROTOCOL_ERROR", |cx| then_get(cx, settings(&[(0x5, 100)])), run_connection::<PROTOCOL_ERROR>),
        probe("h2.settings.length", "RFC 9113 §6.5", "A SETTINGS frame of 7 bytes is a FRAME_SIZE_ERROR", |cx| then_get(cx, frame(ty::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100, 0])), run_connection::<FRAME_SIZE_ERROR>),
        probe("h2.window-update.zero", "RFC 9113 §6.9", "A connection WINDOW_UPDATE of 0 is a PROTOCOL_ERROR", |cx| then_get(cx, frame(ty::WINDOW_UPDATE, 0, 0, &0u32.to_be_bytes())), run_connection::<PROTOCOL_ERROR>),
        probe("h2.window-update.overflow", "RFC 9113 §6.9.1", "A connection window above 2^31-1 is a FLOW_CONTROL_ERROR", |cx| {
            let mut b = frame(ty::WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
            b.extend(frame(ty::WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes()));
            then_get(cx, b)
        }, run_connection::<FLOW_CONTROL_ERROR>),
        probe("h2.streams.over-limit", "RFC 9113 §5.1.2", "One stream more than SETTINGS_MAX_CONCURRENT_STREAMS: refused", |cx| with_preface(over_limit_frames(cx, 2)), run_over_limit),
        probe("h2.hpack.bad-index", "RFC 7541 §2.3.3", "An indexed field past both tables is a COMPRESSION_ERROR", |_cx| with_preface(frame(ty::HEADERS, flag::END_HEADERS | flag::END_STREAM, 1, &[0x82, 0x87, 0xff, 0x7f])), run_connection::<COMPRESSION_ERROR>),
        probe("h2.hpack.table-size", "RFC 7541 §6.3", "A table size update above SETTINGS_HEADER_TABLE_SIZE (4096) is a COMPRESSION_ERROR", |cx| {
            let f = request(cx, "ok", &[]);
            let refs: Vec<(&[u8], &[u8])> = f.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
            let mut block = Vec::new();
            wire::integer(&mut block, 0x20, 5, 1 << 20);
            block.extend(hpack(&refs));
            with_preface(frame(ty::HEADERS, flag::END_HEADERS | flag::END_STREAM, 1, &block))
        }, run_connection::<COMPRESSION_ERROR>),
        probe("h2.frame.unknown-type", "RFC 9113 §4.1", "Frames of an unknown type are ignored: the request after them is served", |cx| {
            let mut b = frame(0xfa, 0, 0, b"gauntlet");
            b.extend(frame(0xfb, 0, 1, b"x"));
            b.extend(headers(1, &request(cx, "ok", &[]), true));
            with_preface(b)
        }, run_accepted),
        probe("h2.ping.echo", "RFC 9113 §6.7", "A PING is acknowledged with the same 8 bytes", |_cx| with_preface(frame(ty::PING, 0, 0, &PING_DATA)), run_ping),
    ]
}
