//! HTTP/3 probes on real QUIC: malformed requests (field names, connection-specific fields,
//! pseudo-headers, CR LF, content-length against DATA), frames where they may not be (DATA
//! before HEADERS, SETTINGS on a request stream), control-stream errors (SETTINGS missing,
//! repeated, duplicated or HTTP/2-only; a second control stream), and GREASE that must be
//! ignored. Frames and QPACK are written by hand; see [`crate::proto::raw::h3`].

use super::{Bytes, Cx, Outcome, Probe, ProbeFuture, Rfc, Run, Suite};
use crate::proto::raw::h2::get;
use crate::proto::raw::h3::{
    control_stream, error_name, frame, headers, session, settings, ty, H3Log, H3Script,
};
use crate::proto::raw::Fields;

const FRAME_UNEXPECTED: u64 = 0x105;
const MISSING_SETTINGS: u64 = 0x10a;
const SETTINGS_ERROR: u64 = 0x109;
const STREAM_CREATION_ERROR: u64 = 0x103;
const MESSAGE_ERROR: u64 = 0x10e;

fn request(cx: &Cx, extra: &[(&str, &[u8])]) -> Fields {
    let mut f = get("https", &cx.target.authority(), &cx.path("ok"));
    f.extend(
        extra
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.to_vec())),
    );
    f
}

fn get_with(cx: &Cx, extra: &[(&str, &[u8])]) -> Vec<u8> {
    headers(&request(cx, extra))
}

/// Plays a script and judges what came back, or says why HTTP/3 cannot be probed here.
async fn judged(
    cx: &Cx,
    script: H3Script,
    judge: impl FnOnce(&H3Log) -> Outcome,
) -> Result<Outcome, crate::record::errors::RequestError> {
    if !cx.target.tls {
        return Ok(Outcome::new(
            Rfc::Skipped,
            "",
            "HTTP/3 needs an https target",
        ));
    }
    Ok(judge(&session(&cx.target, &script).await?))
}

/// Our control stream, then `request` on a request stream.
fn normal(request: Vec<u8>) -> H3Script {
    H3Script {
        uni: vec![control_stream()],
        request: Some(request),
    }
}

/// These unidirectional streams, then a well-formed GET.
fn beside(cx: &Cx, uni: Vec<Vec<u8>>) -> H3Script {
    H3Script {
        uni,
        request: Some(get_with(cx, &[])),
    }
}

/// A malformed request: refused (H3_MESSAGE_ERROR best, a 4xx allowed) and, when `forwarded`
/// can tell, never forwarded.
fn judge_malformed(forwarded: Option<bool>, log: &H3Log) -> Outcome {
    let observed = log.outcome();
    if forwarded == Some(true) {
        return Outcome::new(
            Rfc::Fail,
            observed,
            "the origin received the malformed request",
        );
    }
    if let Some(s) = log.request.status() {
        // Not forwarded (checked above): a 4xx, or a 5xx from a failed forward, still refused it.
        return if s >= 400 {
            Outcome::new(
                Rfc::Variant,
                observed,
                format!("answered {s}; H3_MESSAGE_ERROR is what RFC 9114 §4.1.2 asks for"),
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {s} to a malformed request"),
            )
        };
    }
    let code = log.request.reset.or(log
        .closed
        .as_ref()
        .filter(|(k, _)| k == "application")
        .map(|(_, c)| *c));
    match code {
        Some(MESSAGE_ERROR) => Outcome::new(Rfc::Pass, observed, "refused with H3_MESSAGE_ERROR"),
        Some(c) => Outcome::new(
            Rfc::Variant,
            observed,
            format!(
                "refused with {} rather than H3_MESSAGE_ERROR",
                error_name(c)
            ),
        ),
        None if log.closed.is_some() => {
            Outcome::new(Rfc::Variant, observed, "the connection closed")
        }
        None => Outcome::new(Rfc::Fail, observed, "no answer and no error"),
    }
}

fn judge_connection(log: &H3Log, code: u64) -> Outcome {
    let observed = log.outcome();
    let want = error_name(code);
    match &log.closed {
        Some((k, c)) if k == "application" && *c == code => {
            return Outcome::new(
                Rfc::Pass,
                observed,
                format!("connection closed with {want}"),
            )
        }
        Some((k, c)) if k == "application" => {
            return Outcome::new(
                Rfc::Variant,
                observed,
                format!(
                    "connection closed with {} where {want} is specified",
                    error_name(*c)
                ),
            )
        }
        Some((k, _)) => {
            return Outcome::new(
                Rfc::Variant,
                observed,
                format!("connection ended ({k}) without {want}"),
            )
        }
        None => {}
    }
    match (log.request.status(), log.request.reset) {
        (Some(s), _) => Outcome::new(
            Rfc::Fail,
            observed,
            format!("answered {s} on a connection that owed {want}"),
        ),
        (None, Some(c)) => Outcome::new(
            Rfc::Variant,
            observed,
            format!(
                "reset the stream with {} where the connection must close with {want}",
                error_name(c)
            ),
        ),
        _ => Outcome::new(Rfc::Fail, observed, "ignored: no error at all"),
    }
}

fn run_malformed(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(judged(cx, normal((p.bytes)(cx)), |log| {
        judge_malformed(cx.reached(&cx.nonce), log)
    }))
}

fn run_request_error<const CODE: u64>(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(judged(cx, normal((p.bytes)(cx)), |log| {
        judge_connection(log, CODE)
    }))
}

/// The probe's bytes are our control stream; a normal request follows on it.
fn run_control<const CODE: u64>(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(judged(cx, beside(cx, vec![(p.bytes)(cx)]), |log| {
        judge_connection(log, CODE)
    }))
}

fn run_second_control(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    let uni = vec![control_stream(), (p.bytes)(cx)];
    Box::pin(judged(cx, beside(cx, uni), |log| {
        judge_connection(log, STREAM_CREATION_ERROR)
    }))
}

fn judge_served(log: &H3Log, what: &str) -> Outcome {
    let observed = format!("{} {}", log.outcome(), log.connection());
    let error_close = log
        .closed
        .as_ref()
        .is_some_and(|(k, c)| k != "application" || *c != 0x100);
    match log.request.status() {
        _ if error_close => Outcome::new(
            Rfc::Fail,
            observed,
            format!("{what} closed the connection with an error"),
        ),
        Some(s) if (200..300).contains(&s) => {
            Outcome::new(Rfc::Pass, observed, format!("{what} ignored; answered {s}"))
        }
        _ => Outcome::new(Rfc::Fail, observed, format!("{what} not ignored")),
    }
}

fn run_grease_frame(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(judged(cx, normal((p.bytes)(cx)), |log| {
        judge_served(log, "a reserved frame type")
    }))
}

fn run_grease_stream(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    let uni = vec![control_stream(), (p.bytes)(cx)];
    Box::pin(judged(cx, beside(cx, uni), |log| {
        judge_served(log, "a reserved stream type")
    }))
}

fn raw_fields(cx: &Cx, list: &[(&str, &str)]) -> Vec<u8> {
    let path = cx.path("ok");
    let auth = cx.target.authority();
    let f: Fields = list
        .iter()
        .map(|(n, v)| {
            (
                n.as_bytes().to_vec(),
                v.replace("{path}", &path)
                    .replace("{auth}", &auth)
                    .into_bytes(),
            )
        })
        .collect();
    headers(&f)
}

fn probe(
    id: &'static str,
    rfc: &'static str,
    title: &'static str,
    bytes: Bytes,
    run: Run,
) -> Probe {
    Probe::new(Suite::H3, id, rfc, title, bytes, run)
}

/// The HTTP/3 probes.
pub fn probes() -> Vec<Probe> {
    vec![
        probe(
            "h3.headers.uppercase",
            "RFC 9114 §4.2",
            "A field name with upper-case letters is malformed",
            |cx| get_with(cx, &[("X-Probe", b"v")]),
            run_malformed,
        ),
        probe(
            "h3.headers.connection",
            "RFC 9114 §4.2",
            "`connection: keep-alive` is malformed in HTTP/3",
            |cx| get_with(cx, &[("connection", b"keep-alive")]),
            run_malformed,
        ),
        probe(
            "h3.value.crlf",
            "RFC 9114 §4.2",
            "CR LF inside a field value is malformed",
            |cx| get_with(cx, &[("x-probe", b"a\r\nx-injected: 1")]),
            run_malformed,
        ),
        probe(
            "h3.pseudo.missing-path",
            "RFC 9114 §4.3.1",
            "A GET without :path is malformed",
            |cx| {
                raw_fields(
                    cx,
                    &[
                        (":method", "GET"),
                        (":scheme", "https"),
                        (":authority", "{auth}"),
                        ("x-probe", "{path}"),
                    ],
                )
            },
            run_malformed,
        ),
        probe(
            "h3.pseudo.after-regular",
            "RFC 9114 §4.3",
            "A pseudo-header after a regular field is malformed",
            |cx| {
                raw_fields(
                    cx,
                    &[
                        (":method", "GET"),
                        (":scheme", "https"),
                        ("x-probe", "{path}"),
                        (":authority", "{auth}"),
                        (":path", "{path}"),
                    ],
                )
            },
            run_malformed,
        ),
        probe(
            "h3.content-length.mismatch",
            "RFC 9114 §4.1.2",
            "content-length 10 with 3 bytes of DATA is malformed",
            |cx| {
                let mut f = request(cx, &[("content-length", b"10")]);
                f[0].1 = b"POST".to_vec();
                let mut b = headers(&f);
                b.extend(frame(ty::DATA, b"abc"));
                b
            },
            |cx, p| {
                // The head may be forwarded before the body shows it short: judge the client.
                Box::pin(judged(cx, normal((p.bytes)(cx)), |log| {
                    judge_malformed(None, log)
                }))
            },
        ),
        probe(
            "h3.frame.data-before-headers",
            "RFC 9114 §4.1",
            "DATA before HEADERS on a request stream is H3_FRAME_UNEXPECTED",
            |cx| {
                let mut b = frame(ty::DATA, b"early");
                b.extend(get_with(cx, &[]));
                b
            },
            run_request_error::<FRAME_UNEXPECTED>,
        ),
        probe(
            "h3.frame.settings-on-request",
            "RFC 9114 §7.2.4",
            "SETTINGS on a request stream is H3_FRAME_UNEXPECTED",
            |cx| {
                let mut b = settings(&[]);
                b.extend(get_with(cx, &[]));
                b
            },
            run_request_error::<FRAME_UNEXPECTED>,
        ),
        probe(
            "h3.control.first-not-settings",
            "RFC 9114 §6.2.1",
            "A control stream that does not start with SETTINGS is H3_MISSING_SETTINGS",
            |_cx| {
                let mut b = vec![0x00];
                b.extend(frame(0x7, &[0]));
                b
            },
            run_control::<MISSING_SETTINGS>,
        ),
        probe(
            "h3.control.second-settings",
            "RFC 9114 §7.2.4",
            "A second SETTINGS on the control stream is H3_FRAME_UNEXPECTED",
            |_cx| {
                let mut b = control_stream();
                b.extend(settings(&[]));
                b
            },
            run_control::<FRAME_UNEXPECTED>,
        ),
        probe(
            "h3.control.duplicate-setting",
            "RFC 9114 §7.2.4",
            "The same setting twice in SETTINGS is H3_SETTINGS_ERROR",
            |_cx| {
                let mut b = vec![0x00];
                b.extend(settings(&[(0x6, 1000), (0x6, 2000)]));
                b
            },
            run_control::<SETTINGS_ERROR>,
        ),
        probe(
            "h3.control.h2-setting",
            "RFC 9114 §7.2.4.1",
            "An HTTP/2-only setting (0x02) in SETTINGS is H3_SETTINGS_ERROR",
            |_cx| {
                let mut b = vec![0x00];
                b.extend(settings(&[(0x2, 0)]));
                b
            },
            run_control::<SETTINGS_ERROR>,
        ),
        probe(
            "h3.control.second-stream",
            "RFC 9114 §6.2.1",
            "A second control stream is H3_STREAM_CREATION_ERROR",
            |_cx| control_stream(),
            run_second_control,
        ),
        probe(
            "h3.grease.frame",
            "RFC 9114 §7.2.8",
            "A reserved frame type before HEADERS is ignored: the request is served",
            |cx| {
                let mut b = frame(ty::GREASE, b"gauntlet");
                b.extend(get_with(cx, &[]));
                b
            },
            run_grease_frame,
        ),
        probe(
            "h3.grease.stream",
            "RFC 9114 §6.2.3",
            "A unidirectional stream of a reserved type is ignored: requests are served",
            |_cx| {
                let mut b = Vec::new();
                crate::proto::raw::h3::varint(&mut b, 0x1f * 3 + 0x21);
                b.extend_from_slice(b"gauntlet grease");
                b
            },
            run_grease_stream,
        ),
    ]
}
