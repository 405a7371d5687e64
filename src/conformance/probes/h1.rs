//! HTTP/1.1 probes: request smuggling (CL.TE, TE.CL, obfuscated Transfer-Encoding), invalid
//! framing and field syntax, Host rules, premature Upgrade and undrained bodies. Bytes go out
//! verbatim over TCP or TLS; the verdict rests on what reached the origin.

use std::time::Duration;

use super::{judge_rejected, Bytes, Cx, Outcome, Probe, ProbeFuture, Rfc, Run, Suite};
use crate::proto::raw::h1::{exchange, Reply, Step};
use crate::proto::raw::h1_parse::{contains, strict_head_problem};
use crate::proto::raw::End;

/// A request head with Host, then `fields` (each line ending CRLF unless it brings its own), a
/// blank line and `body`.
pub(super) fn request(cx: &Cx, line: &str, fields: &str, body: &str) -> Vec<u8> {
    format!(
        "{line}\r\nHost: {}\r\n{fields}\r\n{body}",
        cx.target.authority()
    )
    .into_bytes()
}

/// The pipelined request a smuggling probe hides in the body.
pub(super) fn tail(cx: &Cx) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        cx.smuggled(),
        cx.target.authority()
    )
}

/// CL.TE: Content-Length covers everything, the chunked body ends early, the rest is a request.
pub(super) fn cl_te(cx: &Cx, te: &str, te_first: bool, version: &str) -> Vec<u8> {
    let body = format!("0\r\n\r\n{}", tail(cx));
    let cl = format!("Content-Length: {}\r\n", body.len());
    let te = format!("{te}\r\n");
    let fields = if te_first { te + &cl } else { cl + &te };
    request(
        cx,
        &format!("POST {} {version}", cx.path("ok")),
        &fields,
        &body,
    )
}

/// TE.CL: the chunked body carries a request that a Content-Length reader sees as the next one.
pub(super) fn te_cl(cx: &Cx, te_first: bool) -> Vec<u8> {
    let t = tail(cx);
    let size = format!("{:x}\r\n", t.len());
    let body = format!("{size}{t}\r\n0\r\n\r\n");
    let cl = format!("Content-Length: {}\r\n", size.len());
    let te = "Transfer-Encoding: chunked\r\n".to_string();
    let fields = if te_first { te + &cl } else { cl + &te };
    request(
        cx,
        &format!("POST {} HTTP/1.1", cx.path("ok")),
        &fields,
        &body,
    )
}

pub(super) async fn send(
    cx: &Cx,
    bytes: Vec<u8>,
    want: usize,
) -> Result<Reply, crate::record::errors::RequestError> {
    exchange(&cx.target, &[Step::Send(bytes)], want, &[]).await
}

/// Smuggling: the pipelined tail must never reach the origin as a request, and must not be
/// answered as one on the same connection.
pub(super) fn run_smuggle(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let reply = send(cx, (p.bytes)(cx), 2).await?;
        Ok(judge_smuggle(cx, &reply).with_received(&reply.received))
    })
}

pub(super) fn judge_smuggle(cx: &Cx, reply: &Reply) -> Outcome {
    let observed = reply.signature();
    let st = reply.statuses();
    if st.len() >= 2 && st[0] < 400 {
        // The tail went through the proxy's own request handling (a response came back for
        // it), so it is no desynchronisation; but the connection had to close.
        return Outcome::new(
            Rfc::Fail,
            observed,
            "answered the pipelined tail as a request of its own: after ambiguous framing the connection must close (RFC 9112 §6.1)",
        );
    }
    if cx.reached(&cx.smuggled()) == Some(true) {
        return Outcome::new(
            Rfc::Fail,
            format!("{observed} desync"),
            "the origin received the smuggled request: proxy and origin framed the message differently",
        );
    }
    if cx.received().iter().any(|r| {
        !r.header_values("content-length").is_empty()
            && !r.header_values("transfer-encoding").is_empty()
    }) {
        return Outcome::new(
            Rfc::Fail,
            format!("{observed} cl+te-forwarded"),
            "forwarded with both Content-Length and Transfer-Encoding: an intermediary must remove Content-Length first (RFC 9112 §6.1), or the next hop may frame it the other way",
        );
    }
    match st.first() {
        Some(s) if (400..600).contains(s) => {
            Outcome::new(Rfc::Pass, observed, format!("rejected with {s}"))
        }
        Some(s) if reply.end != End::Open => Outcome::new(
            Rfc::Variant,
            observed,
            format!("answered {s} with one framing and closed the connection, as the RFC allows"),
        ),
        Some(s) => Outcome::new(
            Rfc::Fail,
            observed,
            format!("answered {s} and kept the connection open after ambiguous framing (RFC 9112 §6.1: must close)"),
        ),
        None if reply.end == End::Open => Outcome::new(
            Rfc::Error,
            observed,
            "no answer and the connection still open: nothing to judge",
        ),
        None => Outcome::new(Rfc::Variant, observed, "closed without an answer"),
    }
}

/// A malformed request: rejected, never forwarded.
pub(super) fn run_reject(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let reply = send(cx, (p.bytes)(cx), 1).await?;
        Ok(judge_rejected(cx, &reply, None))
    })
}

/// A malformed field the RFC lets a recipient repair (replace with SP) instead of rejecting:
/// forwarding is a repair only if what the origin received parses by the strict grammar and the
/// bad bytes did not go on; for a body (`body: Some`), only if the origin got that body whole.
pub(super) fn run_reject_or_repair<'a>(
    cx: &'a Cx,
    p: Probe,
    bad: &'static [u8],
    body: Option<&'static [u8]>,
) -> ProbeFuture<'a> {
    Box::pin(async move {
        let reply = send(cx, (p.bytes)(cx), 1).await?;
        let repaired = move |cx: &Cx| repaired(cx, bad, body);
        Ok(judge_rejected(cx, &reply, Some(&repaired)))
    })
}

/// Whether every request of the probe that reached the origin is well-formed (parsed, not
/// searched), free of `bad`, and carries `body` when one is expected; if not, what is wrong.
pub(super) fn repaired(cx: &Cx, bad: &[u8], body: Option<&[u8]>) -> Result<(), String> {
    for r in cx.received() {
        if r.raw.is_empty() {
            return Err("the origin's record has no bytes to check".into());
        }
        if let Some(why) = strict_head_problem(&r.raw) {
            return Err(format!("what the origin received is malformed: {why}"));
        }
        if contains(&r.raw, bad) {
            return Err("the malformed bytes reached the origin as sent".into());
        }
        // A request cut short has no whole body to compare; what it did carry was checked above.
        if let Some(b) = body.filter(|b| !r.cut_short && r.body != *b) {
            return Err(format!(
                "the body was not kept: the origin received {} byte(s) where {} were sent",
                r.body.len(),
                b.len()
            ));
        }
    }
    Ok(())
}

/// The bytes of a field line ending in a bare CR (for the repair check).
const BARE_CR: &[u8] = b"a\rb";
const FOLD: &[u8] = b"a\r\n b";
const NUL: &[u8] = b"a\0b";

pub(super) fn probe(
    id: &'static str,
    rfc: &'static str,
    title: &'static str,
    needs_origin: bool,
    bytes: Bytes,
    run: Run,
) -> Probe {
    let p = Probe::new(Suite::H1, id, rfc, title, bytes, run);
    if needs_origin {
        p.needing_origin()
    } else {
        p
    }
}

/// Premature Upgrade: a request asking to upgrade, answered 200 by the origin, with a request
/// pipelined behind it that carries a hop-by-hop field. A proxy that tunnels before the origin's
/// 101 passes that field on verbatim.
fn upgrade(cx: &Cx) -> Vec<u8> {
    let mut b = request(
        cx,
        &format!("GET {} HTTP/1.1", cx.path("ok")),
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "",
    );
    b.extend(upgrade_tail(cx));
    b
}

/// The request pipelined behind the Upgrade.
fn upgrade_tail(cx: &Cx) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: x-hop\r\nX-Hop: {}\r\n\r\n",
        cx.smuggled(),
        cx.target.authority(),
        cx.nonce
    )
    .into_bytes()
}

fn run_upgrade(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let reply = send(cx, (p.bytes)(cx), 2).await?;
        let observed = reply.signature();
        // A tunnel passes the pipelined request on byte for byte; a proxy handling it as HTTP
        // rewrites it (it must at least drop the `Connection`-named field). Only a proxy tunnels.
        let sent = upgrade(cx);
        let tail = &sent[sent.len() - upgrade_tail(cx).len()..];
        let tunnelled = cx.proxied
            && cx
                .received()
                .iter()
                .any(|r| r.target.contains(&cx.smuggled()) && r.raw == tail);
        Ok(if tunnelled {
            Outcome::new(
                Rfc::Fail,
                observed,
                "the pipelined request reached the origin verbatim (tunnelled before a 101)",
            )
        } else {
            Outcome::new(
                Rfc::Pass,
                observed,
                "the pipelined request was handled as HTTP, not tunnelled",
            )
        })
    })
}

/// The head of a POST answered early by the origin; its body (a request) follows the answer.
fn undrained_head(cx: &Cx) -> Vec<u8> {
    let t = tail(cx);
    request(
        cx,
        &format!("POST {} HTTP/1.1", cx.path("early")),
        &format!("Content-Length: {}\r\n", t.len()),
        "",
    )
}

fn undrained(cx: &Cx) -> Vec<u8> {
    let mut b = undrained_head(cx);
    b.extend(tail(cx).into_bytes());
    b
}

fn run_undrained(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let steps = [
            Step::Send(undrained_head(cx)),
            Step::Await(1, Duration::from_secs(2)),
            Step::Send(tail(cx).into_bytes()),
        ];
        let reply = exchange(&cx.target, &steps, 2, &[]).await?;
        let observed = reply.signature();
        Ok(if cx.reached(&cx.smuggled()) == Some(true) {
            Outcome::new(
                Rfc::Fail,
                observed,
                "the body sent after an early response reached the origin as a request",
            )
        } else if reply.statuses().len() >= 2 {
            Outcome::new(
                Rfc::Fail,
                observed,
                "the body sent after an early response was answered as a request",
            )
        } else {
            Outcome::new(Rfc::Pass, observed, "the body was drained as a body")
        })
    })
}

/// The HTTP/1.1 probes.
pub fn probes() -> Vec<Probe> {
    vec![
        probe("h1.smuggling.cl-te", "RFC 9112 §6.3", "Content-Length then Transfer-Encoding: chunked, a request pipelined inside the length: the tail never reaches the origin", true,
            |cx| cl_te(cx, "Transfer-Encoding: chunked", false, "HTTP/1.1"), run_smuggle),
        probe("h1.smuggling.cl-te.te-first", "RFC 9112 §6.3", "CL.TE with Transfer-Encoding written first", true,
            |cx| cl_te(cx, "Transfer-Encoding: chunked", true, "HTTP/1.1"), run_smuggle),
        probe("h1.smuggling.te-cl", "RFC 9112 §6.3", "Content-Length shorter than the chunked body, which holds a request: the tail never reaches the origin", true,
            |cx| te_cl(cx, false), run_smuggle),
        probe("h1.smuggling.te-cl.te-first", "RFC 9112 §6.3", "TE.CL with Transfer-Encoding written first", true,
            |cx| te_cl(cx, true), run_smuggle),
        probe("h1.te.space-before-colon", "RFC 9112 §5.1", "`Transfer-Encoding : chunked` with a Content-Length: whitespace before the colon must be rejected", true,
            |cx| cl_te(cx, "Transfer-Encoding : chunked", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.tab", "RFC 9112 §6.1", "`Transfer-Encoding:<TAB>chunked` with a Content-Length: read as chunked or rejected, never desynchronised", true,
            |cx| cl_te(cx, "Transfer-Encoding:\tchunked", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.chunked-not-last", "RFC 9112 §6.3", "`Transfer-Encoding: chunked, x` with a Content-Length: chunked not final must be rejected", true,
            |cx| cl_te(cx, "Transfer-Encoding: chunked, x", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.duplicate", "RFC 9112 §6.1", "Two Transfer-Encoding fields (chunked, then identity) with a Content-Length", true,
            |cx| cl_te(cx, "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.odd-case", "RFC 9112 §7", "`Transfer-Encoding: ChUnKeD` with a Content-Length: codings are case-insensitive", true,
            |cx| cl_te(cx, "Transfer-Encoding: ChUnKeD", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.vertical-tab", "RFC 9110 §5.6.3", "`Transfer-Encoding:\\x0bchunked` with a Content-Length: \\x0b is not whitespace", true,
            |cx| cl_te(cx, "Transfer-Encoding:\x0bchunked", false, "HTTP/1.1"), run_smuggle),
        probe("h1.te.http10", "RFC 9112 §6.1", "HTTP/1.0 with Transfer-Encoding and Content-Length: framing is faulty, close after", true,
            |cx| cl_te(cx, "Transfer-Encoding: chunked", false, "HTTP/1.0"), run_smuggle),
        probe("h1.line.bare-lf-te", "RFC 9112 §2.2", "A bare LF splitting a field line into Transfer-Encoding, with a Content-Length", true,
            |cx| cl_te(cx, "X-Probe: a\nTransfer-Encoding: chunked", false, "HTTP/1.1"), run_smuggle),
        probe("h1.cl.duplicate", "RFC 9112 §6.3", "Two different Content-Length values: must be rejected with 400", false,
            |cx| request(cx, &format!("POST {} HTTP/1.1", cx.path("ok")), "Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), run_reject),
        probe("h1.cl.invalid", "RFC 9112 §6.3", "`Content-Length: +5`: not a number by the grammar, must be rejected with 400", false,
            |cx| request(cx, &format!("POST {} HTTP/1.1", cx.path("ok")), "Content-Length: +5\r\n", "hello"), run_reject),
        probe("h1.chunk.bad-size", "RFC 9112 §7.1", "A chunk size `0x5`: not hex digits, the body must not be forwarded as sent", true,
            |cx| request(cx, &format!("POST {} HTTP/1.1", cx.path("ok")), "Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"),
            |cx, p| run_reject_or_repair(cx, p, b"0x5\r\n", Some(b"hello"))),
        probe("h1.line.bare-cr", "RFC 9112 §2.2", "A bare CR inside a field value: reject, or replace with SP before forwarding", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "X-Probe: a\rb\r\n", ""),
            |cx, p| run_reject_or_repair(cx, p, BARE_CR, None)),
        probe("h1.header.space-before-colon", "RFC 9112 §5.1", "`X-Probe : v`: whitespace between name and colon must be rejected with 400", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "X-Probe : v\r\n", ""), run_reject),
        probe("h1.header.obs-fold", "RFC 9112 §5.2", "A folded field line: reject, or replace the fold with SP before forwarding", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "X-Probe: a\r\n b\r\n", ""),
            |cx, p| run_reject_or_repair(cx, p, FOLD, None)),
        probe("h1.header.nul", "RFC 9110 §5.5", "A NUL in a field value: reject, or replace with SP before forwarding", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "X-Probe: a\0b\r\n", ""),
            |cx, p| run_reject_or_repair(cx, p, NUL, None)),
        probe("h1.header.invalid-name", "RFC 9110 §5.1", "A field name with a character outside token (`X\"Probe`): rejected, or dropped before forwarding", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "X\"Probe: v\r\n", ""),
            |cx, p| run_reject_or_repair(cx, p, b"X\"Probe", None)),
        probe("h1.host.missing", "RFC 9112 §3.2", "An HTTP/1.1 request without Host: must be rejected with 400", false,
            |cx| format!("GET {} HTTP/1.1\r\n\r\n", cx.path("ok")).into_bytes(), run_reject),
        probe("h1.host.duplicate", "RFC 9112 §3.2", "Two Host fields: must be rejected with 400", false,
            |cx| request(cx, &format!("GET {} HTTP/1.1", cx.path("ok")), "Host: other.invalid\r\n", ""), run_reject),
        probe("h1.upgrade.premature", "RFC 9110 §7.8", "Upgrade asked, origin answers 200, a request pipelined behind: never tunnelled before a 101", true,
            upgrade, run_upgrade),
        probe("h1.body.undrained", "RFC 9112 §9.3", "The origin answers before a POST body arrives; the body (a request) must be drained, not parsed", true,
            undrained, run_undrained),
    ]
}
