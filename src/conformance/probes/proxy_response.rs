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
