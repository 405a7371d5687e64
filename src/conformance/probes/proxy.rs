//! Proxy-semantics probes: what a proxy does to messages between the client and the recording
//! origin — hop-by-hop fields both ways, Via and X-Forwarded-For against the operator's policy,
//! duplicate Set-Cookie and field-name case, malformed origin responses (bad or duplicate
//! Content-Length, Content-Length with Transfer-Encoding), HEAD/204/304 with Content-Length,
//! `Expect: 100-continue`, trailers, 8–64 KiB request heads, graceful reload with requests in
//! flight, an origin closing its connection, and a POST that must never be replayed.
//!
//! Every probe goes over HTTP/1.1 to the proxy (TLS when the target is https); the origin side
//! is read from the recorder.

use std::time::Duration;

use super::{Bytes, Cx, Outcome, Probe, ProbeFuture, Rfc, Run, Suite, ViaPolicy, XffPolicy};
use crate::origin::recording::Received;
use crate::proto::raw::h1::{exchange, Reply, Response, Step};
use crate::proto::raw::End;
use crate::record::errors::RequestError;

/// A request for the probe's path ending in `kind`, made unique by a query of its own and
/// marked `Cache-Control: no-store`, so that no two requests of a run can be answered from a
/// cache: what a probe judges must have come from the origin.
pub(super) fn req(cx: &Cx, method: &str, kind: &str, fields: &str, body: &str) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{method} {}?r={} HTTP/1.1\r\nHost: {}\r\nCache-Control: no-store\r\n{fields}\r\n{body}",
        cx.path(kind),
        N.fetch_add(1, Ordering::Relaxed),
        cx.target.authority()
    )
    .into_bytes()
}

pub(super) async fn send(
    cx: &Cx,
    bytes: Vec<u8>,
    want: usize,
) -> Result<Reply, crate::record::errors::RequestError> {
    exchange(&cx.target, &[Step::Send(bytes)], want, &[]).await
}

pub(super) fn first_ok(r: &Reply) -> Option<&Response> {
    r.responses.iter().find(|x| x.status >= 200)
}

fn probe(
    id: &'static str,
    rfc: &'static str,
    title: &'static str,
    bytes: Bytes,
    run: Run,
) -> Probe {
    // Every proxy probe reads what reached the origin.
    Probe::new(Suite::Proxy, id, rfc, title, bytes, run).needing_origin()
}

/// Sends the probe; the first request the origin received and what the client saw, or a failure
/// when nothing reached the origin.
async fn through(cx: &Cx, p: &Probe) -> Result<Result<(Received, String), Outcome>, RequestError> {
    let r = send(cx, (p.bytes)(cx), 1).await?;
    let observed = r.signature();
    Ok(match cx.received().into_iter().next() {
        Some(at) => Ok((at, observed)),
        None => Err(Outcome::new(
            Rfc::Fail,
            observed,
            "the request did not reach the origin",
        )),
    })
}

/// Sends the probe; the client's first final response and what the client saw, or a failure
/// when none came.
async fn answered(cx: &Cx, p: &Probe) -> Result<Result<(Response, String), Outcome>, RequestError> {
    let r = send(cx, (p.bytes)(cx), 1).await?;
    let observed = r.signature();
    Ok(match first_ok(&r) {
        Some(resp) => Ok((resp.clone(), observed)),
        None => Err(Outcome::new(Rfc::Fail, observed, "no response")),
    })
}

fn hop_request(cx: &Cx) -> Vec<u8> {
    req(
        cx,
        "GET",
        "ok",
        &format!("Connection: keep-alive, x-gauntlet-hop\r\nX-Gauntlet-Hop: {}\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n", cx.nonce),
        "",
    )
}

fn run_hop_request(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let (at, observed) = match through(cx, &p).await? {
            Ok(x) => x,
            Err(o) => return Ok(o),
        };
        let leaked: Vec<&str> = ["x-gauntlet-hop", "keep-alive", "proxy-connection"]
            .into_iter()
            .filter(|h| !at.header_values(h).is_empty())
            .collect();
        Ok(if leaked.is_empty() {
            Outcome::new(
                Rfc::Pass,
                observed,
                "hop-by-hop fields (and the one Connection names) removed",
            )
        } else if leaked == ["proxy-connection"] {
            // Connection names x-gauntlet-hop and keep-alive: removing those is a MUST. Proxy-
            // Connection, named nowhere, is on the list an intermediary SHOULD remove.
            Outcome::new(
                Rfc::Variant,
                format!("{observed} leaked:proxy-connection"),
                "removed the fields Connection names, but forwarded Proxy-Connection (RFC 9110 §7.6.1: SHOULD remove)",
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                format!("{observed} leaked:{}", leaked.join(",")),
                format!("forwarded hop-by-hop fields: {}", leaked.join(", ")),
            )
        })
    })
}

fn run_hop_response(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let (resp, observed) = match answered(cx, &p).await? {
            Ok(x) => x,
            Err(o) => return Ok(o),
        };
        let leaked: Vec<&str> = ["x-origin-hop", "keep-alive"]
            .into_iter()
            .filter(|h| resp.has(h))
            .collect();
        Ok(if leaked.is_empty() {
            Outcome::new(
                Rfc::Pass,
                observed,
                "the origin's hop-by-hop fields were not passed on",
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                format!("{observed} leaked:{}", leaked.join(",")),
                format!(
                    "passed the origin's hop-by-hop fields on: {}",
                    leaked.join(", ")
                ),
            )
        })
    })
}

fn run_connection_close(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let observed = r.signature();
        let says_close = first_ok(&r).is_some_and(|x| {
            x.values("connection").iter().any(|v| {
                String::from_utf8_lossy(v)
                    .to_ascii_lowercase()
                    .contains("close")
            })
        });
        Ok(match (first_ok(&r), r.end) {
            (None, _) => Outcome::new(Rfc::Fail, observed, "no response"),
            (Some(_), End::Closed | End::Reset) => Outcome::new(
                Rfc::Pass,
                observed,
                "answered and closed, as the client asked",
            ),
            (Some(_), End::Open) if says_close => Outcome::new(
                Rfc::Variant,
                observed,
                "said Connection: close but left the connection open",
            ),
            (Some(_), End::Open) => Outcome::new(
                Rfc::Fail,
                observed,
                "kept the connection open after the client's Connection: close",
            ),
        })
    })
}

fn run_via(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let (at, _) = match through(cx, &p).await? {
            Ok(x) => x,
            Err(o) => return Ok(o),
        };
        let via = !at.header_values("via").is_empty();
        let observed = if via { "via" } else { "no via" };
        Ok(match (cx.policy.via, via) {
            (ViaPolicy::Required, false) => {
                Outcome::new(Rfc::Fail, observed, "no Via added (policy: required)")
            }
            (ViaPolicy::Forbidden, true) => {
                Outcome::new(Rfc::Fail, observed, "Via added (policy: forbidden)")
            }
            (ViaPolicy::Any, false) => Outcome::new(
                Rfc::Variant,
                observed,
                "no Via added (RFC 9110 §7.6.3 asks for one; the policy allows its absence)",
            ),
            _ => Outcome::new(Rfc::Pass, observed, "Via as the policy asks"),
        })
    })
}

/// What a proxy did to a client-sent `X-Forwarded-For: 192.0.2.1`.
fn xff_behaviour(values: &[&[u8]]) -> &'static str {
    let joined = values
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let parts: Vec<&str> = joined
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match parts.as_slice() {
        [] => "none",
        ["192.0.2.1"] => "unchanged",
        ["192.0.2.1", _] => "append",
        [_] => "replace",
        _ => "other",
    }
}

fn run_xff(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let (at, _) = match through(cx, &p).await? {
            Ok(x) => x,
            Err(o) => return Ok(o),
        };
        let seen = xff_behaviour(&at.header_values("x-forwarded-for"));
        let want = match cx.policy.x_forwarded_for {
            XffPolicy::Any => None,
            XffPolicy::Append => Some("append"),
            XffPolicy::Replace => Some("replace"),
            XffPolicy::Forbidden => Some("none"),
        };
        let observed = format!("xff:{seen}");
        Ok(match want {
            Some(w) if w != seen => Outcome::new(
                Rfc::Fail,
                observed,
                format!("X-Forwarded-For was `{seen}`, the policy asks for `{w}`"),
            ),
            _ => Outcome::new(Rfc::Pass, observed, format!("X-Forwarded-For: {seen}")),
        })
    })
}

fn run_cookies(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let (resp, _) = match answered(cx, &p).await? {
            Ok(x) => x,
            Err(o) => return Ok(o),
        };
        let cookies = resp.values("set-cookie");
        let case_kept = resp.headers.iter().any(|(n, _)| n == "X-Origin-MiXeD-Case");
        let observed = format!(
            "set-cookie×{} case:{}",
            cookies.len(),
            if case_kept { "kept" } else { "changed" }
        );
        Ok(if cookies.len() != 2 {
            Outcome::new(Rfc::Fail, observed, "the two Set-Cookie fields were not passed on as two (RFC 9110 §5.3 forbids folding them)")
        } else if !case_kept {
            Outcome::new(
                Rfc::Variant,
                observed,
                "field-name case changed (names are case-insensitive)",
            )
        } else {
            Outcome::new(
                Rfc::Pass,
                observed,
                "both Set-Cookie fields and the name's case kept",
            )
        })
    })
}

fn expect_head(cx: &Cx) -> Vec<u8> {
    req(
        cx,
        "POST",
        "ok",
        "Content-Length: 5\r\nExpect: 100-continue\r\n",
        "",
    )
}

fn run_expect(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let steps = [
            Step::Send(expect_head(cx)),
            Step::Await(1, Duration::from_secs(2)),
            Step::Send(b"hello".to_vec()),
        ];
        let r = exchange(&cx.target, &steps, 2, &[]).await?;
        let continued = r.responses.first().is_some_and(|x| x.status == 100);
        let observed = format!("{}{}", if continued { "100 " } else { "" }, r.signature());
        let body_ok = cx.received().iter().any(|x| x.body == b"hello");
        let final_ok = r.statuses().first().is_some_and(|s| (200..300).contains(s));
        Ok(match (final_ok && body_ok, continued) {
            (true, true) => Outcome::new(
                Rfc::Pass,
                observed,
                "100 Continue, then the body reached the origin whole",
            ),
            (true, false) => Outcome::new(
                Rfc::Variant,
                observed,
                "no 100 Continue, but the body arrived whole after the client stopped waiting",
            ),
            (false, _) => Outcome::new(
                Rfc::Fail,
                observed,
                "the request with Expect: 100-continue did not complete with its body",
            ),
        })
    })
}

/// How many times the trailer probe asks: a proxy that truncates a body only sometimes (a race
/// in how it reads the origin's last chunk) is caught with high probability, not by luck.
const TRAILER_TRIES: usize = 5;

fn run_trailers(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let mut kept = 0;
        let mut dropped = 0;
        for _ in 0..TRAILER_TRIES {
            let r = send(cx, (p.bytes)(cx), 1).await?;
            let observed = r.signature();
            let Some(resp) = first_ok(&r) else {
                return Ok(
                    Outcome::new(Rfc::Fail, observed, "no response").with_received(&r.received)
                );
            };
            if resp.status != 200 {
                let (rfc, why) = if cx.received().is_empty() {
                    (Rfc::Error, format!("answered {} and the request never reached the origin: nothing to judge", resp.status))
                } else {
                    (
                        Rfc::Fail,
                        format!(
                            "answered {} where the origin answered 200 with a trailer",
                            resp.status
                        ),
                    )
                };
                return Ok(Outcome::new(rfc, observed, why).with_received(&r.received));
            }
            if !(resp.complete && resp.body.starts_with(b"ok GET")) {
                return Ok(Outcome::new(
                    Rfc::Fail,
                    observed,
                    format!(
                        "the chunked body with a trailer did not arrive whole (try {} of {TRAILER_TRIES})",
                        kept + dropped + 1
                    ),
                )
                .with_received(&r.received));
            }
            let trailer = resp
                .trailers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("x-origin-trailer") && v == b"done");
            if trailer {
                kept += 1;
            } else {
                dropped += 1;
            }
        }
        Ok(match (kept, dropped) {
            (_, 0) => Outcome::new(
                Rfc::Pass,
                "200 trailer",
                format!("body and trailer passed on, {TRAILER_TRIES} times of {TRAILER_TRIES}"),
            ),
            (0, _) => Outcome::new(
                Rfc::Variant,
                "200 no-trailer",
                "body whole, trailer dropped (RFC 9110 §6.5.1 lets a recipient discard it)",
            ),
            (k, d) => Outcome::new(
                Rfc::Variant,
                "200 trailer-sometimes",
                format!("body whole; the trailer passed on {k} times and was dropped {d} times"),
            ),
        })
    })
}

/// Request-head sizes tried, in KiB.
pub const HEAD_SIZES_KIB: [usize; 4] = [8, 16, 32, 64];

fn big(cx: &Cx, kib: usize) -> Vec<u8> {
    let v = "a".repeat(kib * 1024);
    req(cx, "GET", "ok", &format!("X-Big: {v}\r\n"), "")
}

fn run_large_heads(cx: &Cx, _p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let mut seen = Vec::new();
        for kib in HEAD_SIZES_KIB {
            let r = send(cx, big(cx, kib), 1).await?;
            seen.push(r.statuses().first().copied());
        }
        let observed = seen
            .iter()
            .zip(HEAD_SIZES_KIB)
            .map(|(s, k)| {
                format!(
                    "{k}K:{}",
                    s.map(|s| s.to_string()).unwrap_or_else(|| "none".into())
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let rejected = |s: &Option<u16>| !matches!(s, Some(200..=299));
        let first_reject = seen.iter().position(rejected);
        let monotone = first_reject.is_none_or(|i| seen[i..].iter().all(rejected));
        let bad = seen.iter().any(|s| matches!(s, None | Some(500..)));
        Ok(if !monotone {
            Outcome::new(
                Rfc::Fail,
                observed,
                "a larger head was accepted after a smaller one was refused",
            )
        } else if bad {
            Outcome::new(
                Rfc::Fail,
                observed,
                "a large head got no answer or a 5xx (431 or 400 is expected)",
            )
        } else {
            Outcome::new(
                Rfc::Pass,
                observed,
                "large heads accepted up to a limit, then refused with 4xx",
            )
        })
    })
}

/// Requests in flight while the proxy reloads.
const IN_FLIGHT: usize = 4;

fn run_reload(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let Some(cmd) = cx.reload.clone() else {
            return Ok(Outcome::new(
                Rfc::Skipped,
                "",
                "no reload command given (--reload)",
            ));
        };
        let mut flights = Vec::new();
        for _ in 0..IN_FLIGHT {
            let (target, bytes) = (cx.target.clone(), (p.bytes)(cx));
            flights.push(tokio::spawn(async move {
                exchange(&target, &[Step::Send(bytes)], 1, &[]).await
            }));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let done = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(std::process::Stdio::null())
            .output()
            .await;
        match done {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Ok(Outcome::new(
                    Rfc::Error,
                    "reload failed",
                    format!(
                        "`{cmd}` failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                ))
            }
            Err(e) => {
                return Ok(Outcome::new(
                    Rfc::Error,
                    "reload failed",
                    format!("`{cmd}`: {e}"),
                ))
            }
        }
        let mut statuses = Vec::new();
        for f in flights {
            let s = match f.await {
                Ok(Ok(r)) => r.statuses().first().copied(),
                _ => None,
            };
            statuses.push(s);
        }
        let ok = statuses
            .iter()
            .filter(|s| matches!(s, Some(200..=299)))
            .count();
        let observed = format!("{ok}/{IN_FLIGHT} completed");
        Ok(if ok == IN_FLIGHT {
            Outcome::new(
                Rfc::Pass,
                observed,
                "every request in flight completed across the reload",
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                observed,
                format!(
                    "{} request(s) in flight failed across the reload",
                    IN_FLIGHT - ok
                ),
            )
        })
    })
}

fn run_origin_close(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 3).await?;
        let st = r.statuses();
        let got = cx.received();
        let conns: std::collections::BTreeSet<u64> = got.iter().map(|x| x.conn).collect();
        let observed = format!("{} upstream-conns:{}", r.signature(), conns.len());
        let served = st.iter().take_while(|s| (200..300).contains(*s)).count();
        // Every answer must have come from the origin: a cache answering instead hides the
        // very connection the probe is about.
        if got.len() < served {
            return Ok(Outcome::new(
                Rfc::Error,
                observed,
                format!(
                    "{served} answered but only {} reached the origin (answered from a cache?): nothing to judge",
                    got.len()
                ),
            ));
        }
        if got.len() < 2 {
            return Ok(Outcome::new(
                Rfc::Error,
                observed,
                "the request the origin answers with Connection: close never reached it: nothing to judge",
            ));
        }
        let closed_with_notice = r
            .responses
            .iter()
            .rfind(|x| x.status >= 200)
            .is_some_and(|x| {
                x.values("connection")
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(b"close"))
            })
            && r.end != End::Open;
        Ok(if served == 3 {
            Outcome::new(
                Rfc::Pass,
                observed,
                "served all three; the connection the origin closed was not reused",
            )
        } else if served == st.len() && served >= 2 && closed_with_notice {
            Outcome::new(
                Rfc::Variant,
                observed,
                "closed the client connection along with the origin's, saying so (Connection: close); retrying the unanswered pipelined request is the client's part (RFC 9112 §9.3.2)",
            )
        } else {
            Outcome::new(
                Rfc::Fail,
                observed,
                "a request after the origin closed its connection failed",
            )
        })
    })
}

fn run_no_replay(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let times = cx.received().iter().filter(|x| x.method == "POST").count();
        let observed = format!("{} origin-saw:{times}", r.signature());
        let status = r.statuses().first().copied();
        Ok(match (times, status) {
            (0, _) => Outcome::new(
                Rfc::Error,
                observed,
                "the POST never reached the origin, so its being replayed could not be seen: nothing to judge",
            ),
            (n, _) if n > 1 => Outcome::new(
                Rfc::Fail,
                observed,
                format!(
                    "the POST reached the origin {n} times (replayed after the origin dropped it)"
                ),
            ),
            (_, Some(500..=599)) => Outcome::new(
                Rfc::Pass,
                observed,
                "sent once; the failure reported as 5xx",
            ),
            (_, None) if r.end == End::Open => Outcome::new(
                Rfc::Fail,
                observed,
                "sent once, but the client was left without an answer and without a close",
            ),
            (_, None) => Outcome::new(
                Rfc::Variant,
                observed,
                "sent once; the client connection closed without a 5xx",
            ),
            (_, Some(s)) => Outcome::new(
                Rfc::Fail,
                observed,
                format!("answered {s} to a request the origin never answered"),
            ),
        })
    })
}

/// A request for the probe's path with `segment` inserted before its last part.
fn with_segment(cx: &Cx, segment: &str) -> Vec<u8> {
    format!(
        "GET /probe/{}/{segment}/ok HTTP/1.1\r\nHost: {}\r\nCache-Control: no-store\r\n\r\n",
        cx.nonce,
        cx.target.authority()
    )
    .into_bytes()
}

/// Percent-encoded octets in the path reach the origin as sent: decoding them (or resolving an
/// encoded dot-segment) changes which resource the origin serves after the proxy's own rules
/// matched another (RFC 3986 §2.4: a string is not decoded twice along the way).
fn run_encoded_path(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let r = send(cx, (p.bytes)(cx), 1).await?;
        let observed = r.signature();
        let status = r.statuses().first().copied();
        let (encoded, decoded) = if p.id.ends_with("encoded-slash") {
            ("a%2fb", "a/b")
        } else {
            ("x/%2e%2e", "x/..")
        };
        let got = cx.received();
        let Some(at) = got.first() else {
            // The canary vouched for the /probe/ route: a 4xx here refuses this path.
            return Ok(match status {
                Some(s) if (400..500).contains(&s) => {
                    Outcome::new(Rfc::Pass, observed, format!("refused with {s}"))
                }
                _ => Outcome::new(
                    Rfc::Error,
                    observed,
                    "the request never reached the origin and was not refused with a 4xx: nothing to judge",
                ),
            }
            .with_received(&r.received));
        };
        let target = at.target.to_ascii_lowercase();
        let prefix = format!("/probe/{}/", cx.nonce);
        Ok(if target.contains(encoded) {
            Outcome::new(Rfc::Pass, format!("{observed} kept"), "the encoded octets reached the origin as sent")
        } else if target.contains(decoded) {
            Outcome::new(
                Rfc::Fail,
                format!("{observed} decoded"),
                format!("decoded `{encoded}` into `{decoded}` before forwarding: the origin serves another path than the one the proxy's rules saw"),
            )
        } else if target.starts_with(&format!("{prefix}ok")) {
            Outcome::new(
                Rfc::Fail,
                format!("{observed} resolved"),
                format!("resolved the encoded dot-segment: `{}` reached the origin as `{}`", String::from_utf8_lossy(&(p.bytes)(cx)).split(' ').nth(1).unwrap_or(""), at.target),
            )
        } else {
            Outcome::new(
                Rfc::Variant,
                format!("{observed} rewritten"),
                format!("the path reached the origin rewritten as `{}`", at.target),
            )
        }
        .with_received(&r.received))
    })
}

/// The proxy probes.
pub fn probes() -> Vec<Probe> {
    vec![
        probe("proxy.hop-by-hop.request", "RFC 9110 §7.6.1", "Connection-named, Keep-Alive and Proxy-Connection fields are not forwarded to the origin", hop_request, run_hop_request),
        probe("proxy.hop-by-hop.response", "RFC 9110 §7.6.1", "The origin's Connection-named and Keep-Alive fields are not passed to the client", |cx| req(cx, "GET", "hop", "", ""), run_hop_response),
        probe("proxy.hop-by-hop.connection-close", "RFC 9112 §9.6", "A client's Connection: close is honoured: answer, then close", |cx| req(cx, "GET", "ok", "Connection: close\r\n", ""), run_connection_close),
        probe("proxy.via", "RFC 9110 §7.6.3", "Via is added as the policy says", |cx| req(cx, "GET", "ok", "", ""), run_via),
        probe("proxy.x-forwarded-for", "RFC 7239 §4 (de facto X-Forwarded-For)", "A client's X-Forwarded-For is treated as the policy says", |cx| req(cx, "GET", "ok", "X-Forwarded-For: 192.0.2.1\r\n", ""), run_xff),
        probe("proxy.set-cookie-and-case", "RFC 9110 §5.3", "Two Set-Cookie fields stay two; a mixed-case name keeps its case", |cx| req(cx, "GET", "cookies", "", ""), run_cookies),
        probe("proxy.response.duplicate-cl", "RFC 9112 §6.3", "An origin response with two different Content-Length values becomes a 502", |cx| req(cx, "GET", "dup-cl", "", ""), super::proxy_response::run_bad_response),
        probe("proxy.response.bad-cl", "RFC 9112 §6.3", "An origin response with Content-Length `1x` becomes a 502", |cx| req(cx, "GET", "bad-cl", "", ""), super::proxy_response::run_bad_response),
        probe("proxy.response.cl-te", "RFC 9112 §6.3", "An origin response with Content-Length and chunked: a 502, or forwarded without Content-Length", |cx| req(cx, "GET", "cl-te", "", ""), super::proxy_response::run_bad_response),
        probe("proxy.response.head-cl", "RFC 9110 §9.3.2", "A HEAD answer announcing a length: no body is waited for", |cx| super::proxy_response::bodiless(cx, "HEAD", "ok"), super::proxy_response::run_bodiless),
        probe("proxy.response.204-cl", "RFC 9110 §8.6", "A 204 carrying Content-Length: no body is waited for", |cx| super::proxy_response::bodiless(cx, "GET", "204-cl"), super::proxy_response::run_bodiless),
        probe("proxy.response.304-cl", "RFC 9110 §8.6", "A 304 carrying Content-Length: no body is waited for", |cx| super::proxy_response::bodiless(cx, "GET", "304-cl"), super::proxy_response::run_bodiless),
        probe("proxy.response.head-with-body", "RFC 9112 §6.3", "An origin answering HEAD with a body, then a GET on the same connection: the body is never passed on", |cx| super::proxy_response::bodiless(cx, "HEAD", "head-body"), super::proxy_response::run_head_with_body),
        probe("proxy.response.early-hints", "RFC 9110 §15.2 / RFC 8297", "An origin's 103 Early Hints before its 200: relayed to an HTTP/1.1 client, then the 200", |cx| req(cx, "GET", "early-hints", "", ""), super::proxy_response::run_early_hints),
        probe("proxy.response.chunked-to-http10", "RFC 9112 §7.1", "An HTTP/1.0 request the origin answers chunked: never chunked to the HTTP/1.0 client", |cx| { let b = req(cx, "GET", "chunked", "", ""); let t = String::from_utf8_lossy(&b).replacen(" HTTP/1.1\r\n", " HTTP/1.0\r\n", 1); t.into_bytes() }, super::proxy_response::run_chunked_to_http10),
        probe("proxy.path.encoded-slash", "RFC 3986 §2.4", "`%2F` in a path segment reaches the origin encoded, never as a `/`", |cx| with_segment(cx, "a%2Fb"), run_encoded_path),
        probe("proxy.path.encoded-dots", "RFC 3986 §2.4, §5.2.4", "An encoded dot-segment (`/x/%2e%2e/`) reaches the origin as sent, never resolved", |cx| with_segment(cx, "x/%2e%2e"), run_encoded_path),
        probe("proxy.expect-continue", "RFC 9110 §10.1.1", "Expect: 100-continue: a 100 (or a final answer) without a deadlock, and the body reaches the origin", |cx| { let mut b = expect_head(cx); b.extend_from_slice(b"hello"); b }, run_expect),
        probe("proxy.trailers", "RFC 9110 §6.5", "A chunked response with a trailer arrives whole (the trailer may be dropped)", |cx| req(cx, "GET", "trailers", "TE: trailers\r\n", ""), run_trailers),
        probe("proxy.headers.large", "RFC 9110 §15.5.20 / RFC 6585 §5", "Request heads of 8, 16, 32 and 64 KiB: accepted up to a limit, then 431 or 400, consistently", |cx| big(cx, 8), run_large_heads),
        probe("proxy.reload.in-flight", "RFC 9110 §9.2.2 (graceful shutdown)", "Requests in flight during a graceful reload all complete", |cx| req(cx, "GET", "slow", "", ""), run_reload),
        probe("proxy.keepalive.origin-close", "RFC 9112 §9.6", "After the origin answers with Connection: close, the next request goes on a new connection", |cx| {
            let mut b = req(cx, "GET", "ok", "", "");
            b.extend(req(cx, "GET", "close", "", ""));
            b.extend(req(cx, "GET", "ok", "X-Third: 1\r\n", ""));
            b
        }, run_origin_close),
        probe("proxy.post.not-replayed", "RFC 9110 §9.2.2", "A POST the origin drops unanswered is not sent again", |cx| req(cx, "POST", "drop", "Content-Length: 4\r\n", "data"), run_no_replay),
    ]
}
