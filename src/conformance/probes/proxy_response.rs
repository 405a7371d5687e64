//! Proxy probes about the origin's answers, part of the proxy family: malformed responses (bad or
//! duplicate Content-Length, Content-Length with chunked) must become a 502, and bodiless answers
//! that announce a length (HEAD, 204, 304) must not leave the proxy waiting for a body. The rest
//! of the family is in [`super::proxy`].

use super::proxy::{first_ok, req, send};
use super::{Cx, Outcome, Probe, ProbeFuture, Rfc};
use crate::proto::raw::h1::{exchange, Step};
use crate::proto::raw::End;

/// A malformed origin response must become a 502, never be passed on.
pub(super) fn run_bad_response(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let observed = r.signature();
        if cx.received().is_empty() {
            return Ok(Outcome::new(
                Rfc::Error,
                observed,
                "the request never reached the origin, so the malformed answer was never sent: nothing to judge",
            ));
        }
        let Some(resp) = first_ok(&r) else {
            return Ok(if r.end == End::Open {
                Outcome::new(
                    Rfc::Fail,
                    observed,
                    "no answer within the timeout: the client was left hanging",
                )
            } else {
                Outcome::new(
                    Rfc::Variant,
                    observed,
                    "closed without a response (a 502 is what the RFC asks for)",
                )
            });
        };
        let te = resp.has("transfer-encoding");
        let cl = resp.values("content-length").len();
        Ok(match resp.status {
            502 => Outcome::new(Rfc::Pass, observed, "502 for a malformed origin response"),
            s if s >= 500 => Outcome::new(Rfc::Variant, observed, format!("{s} (502 is what the RFC asks for)")),
            _ if p.id.ends_with("cl-te") && te && cl == 0 => Outcome::new(Rfc::Variant, observed, "forwarded with Transfer-Encoding and without Content-Length, as RFC 9112 §6.3 allows"),
            s => Outcome::new(Rfc::Fail, observed, format!("passed a malformed origin response on as {s}")),
        })
    })
}

/// A bodiless response announcing a length, then another request on the same connection: both
/// must be answered, nothing may hang. The origin must have been asked as the probe says (a
/// HEAD as a HEAD, nothing from a cache), or there is nothing to judge.
pub(super) fn run_bodiless(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let head = p.id.ends_with("head-cl");
        let r = exchange(&cx.target, &[Step::Send((p.bytes)(cx))], 2, &[head, false]).await?;
        let observed = r.signature();
        let st = r.statuses();
        let got = cx.received();
        let Some(first) = got.first() else {
            return Ok(Outcome::new(
                Rfc::Error,
                observed,
                "the first request never reached the origin (answered from a cache?): nothing to judge",
            ));
        };
        if head && first.method != "HEAD" {
            return Ok(Outcome::new(
                Rfc::Error,
                format!("{observed} origin-saw:{}", first.method),
                format!(
                    "the origin was asked with {} rather than HEAD, so no HEAD answer passed through: nothing to judge",
                    first.method
                ),
            ));
        }
        let want = match p.id {
            id if id.ends_with("204-cl") => 204,
            id if id.ends_with("304-cl") => 304,
            _ => 200,
        };
        Ok(match st.first().copied() {
            Some(s) if s == want && st.get(1).is_some_and(|s| (200..300).contains(s)) => {
                Outcome::new(
                    Rfc::Pass,
                    observed,
                    "no body waited for; the next request was served",
                )
            }
            // Refusing the malformed answer is allowed, as long as nothing hangs: the
            // connection closes, or the next request is served.
            Some(s)
                if s >= 500
                    && (r.end != End::Open || st.get(1).is_some_and(|s| (200..300).contains(s))) =>
            {
                Outcome::new(
                    Rfc::Variant,
                    observed,
                    format!("refused the origin's answer with {s}: nothing waited for, though the answer ends at its head (RFC 9112 §6.3)"),
                )
            }
            Some(s) if s != want => Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {s} where the origin answered {want}"),
            ),
            _ => Outcome::new(
                Rfc::Fail,
                observed,
                "the response or the request after it did not complete (a body was waited for)",
            ),
        })
    })
}

pub(super) fn bodiless(cx: &Cx, method: &str, kind: &str) -> Vec<u8> {
    let mut b = req(cx, method, kind, "", "");
    b.extend(req(cx, "GET", "ok", "X-Second: 1\r\n", ""));
    b
}

/// A HEAD the origin answers with a body, then a GET on the same connection: the proxy must not
/// pass the body on (the client would read it as the next response).
pub(super) fn run_head_with_body(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = exchange(&cx.target, &[Step::Send((p.bytes)(cx))], 2, &[true, false]).await?;
        let observed = r.signature();
        let st = r.statuses();
        let asked_head = cx.received().first().is_some_and(|x| x.method == "HEAD");
        Ok(match st.as_slice() {
            _ if !asked_head => Outcome::new(
                Rfc::Error,
                observed,
                "the origin was not asked with HEAD (a cache, or a GET sent instead): nothing to judge",
            ),
            [200, s, ..] if (200..300).contains(s) && r.responses.iter().all(|x| x.status != 0) => {
                Outcome::new(
                    Rfc::Pass,
                    observed,
                    "the body the origin sent after its HEAD answer was not passed on; the next response came clean",
                )
            }
            [s, ..] if *s >= 500 && r.end != End::Open => Outcome::new(
                Rfc::Variant,
                observed,
                "refused the origin's answer and closed",
            ),
            _ => Outcome::new(
                Rfc::Fail,
                observed,
                "the next response did not come clean after a HEAD answered with a body: the body was passed on, or the proxy lost its framing",
            ),
        }
        .with_received(&r.received))
    })
}

/// An origin's 103 Early Hints before its 200: a proxy must forward 1xx answers to an HTTP/1.1
/// client (RFC 9110 §15.2).
pub(super) fn run_early_hints(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let observed = r.signature();
        let hints = r.responses.iter().any(|x| x.status == 103);
        let final_ok = r.responses.iter().any(|x| x.status == 200 && x.complete);
        Ok(match (final_ok, hints) {
            _ if cx.received().is_empty() => Outcome::new(
                Rfc::Error,
                observed,
                "the request never reached the origin: nothing to judge",
            ),
            (true, true) => Outcome::new(
                Rfc::Pass,
                format!("103 {observed}"),
                "the 103 was relayed, then the 200",
            ),
            (true, false) => Outcome::new(
                Rfc::Fail,
                observed,
                "the origin's 103 was dropped: a proxy must forward 1xx answers (RFC 9110 §15.2)",
            ),
            (false, _) => Outcome::new(
                Rfc::Fail,
                observed,
                "no complete 200 after the origin's 103",
            ),
        }
        .with_received(&r.received))
    })
}

/// An HTTP/1.0 request the origin answers chunked: the proxy must not send chunked to an
/// HTTP/1.0 client (RFC 9112 §7.1).
pub(super) fn run_chunked_to_http10(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let observed = r.signature();
        let Some(resp) = first_ok(&r) else {
            return Ok(Outcome::new(Rfc::Fail, observed, "no response").with_received(&r.received));
        };
        let chunked = resp
            .values("transfer-encoding")
            .iter()
            .any(|v| crate::proto::raw::h1_parse::contains(&v.to_ascii_lowercase(), b"chunked"));
        Ok(if cx.received().is_empty() {
            Outcome::new(
                Rfc::Error,
                observed,
                "the request never reached the origin: nothing to judge",
            )
        } else if chunked {
            Outcome::new(
                Rfc::Fail,
                format!("{observed} chunked"),
                "answered an HTTP/1.0 client with a chunked body (RFC 9112 §7.1: must not)",
            )
        } else if resp.status == 200 && resp.body.starts_with(b"ok GET") {
            Outcome::new(Rfc::Pass, observed, "de-chunked for the HTTP/1.0 client")
        } else {
            Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {} without the origin's body", resp.status),
            )
        }
        .with_received(&r.received))
    })
}
