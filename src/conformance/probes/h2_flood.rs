//! HTTP/2 floods, part of the h2 family: a bounded rapid reset (CVE-2023-44487) and a bounded
//! CONTINUATION flood (CVE-2024-27316) on loopback, each followed by a fresh connection that must
//! still be served. The rest of the family is in [`super::h2`].

use super::h2::{play, request, with_preface};
use super::{Cx, Outcome, Probe, ProbeFuture, Rfc};
use crate::proto::raw::h2::{flag, frame, headers, hpack, ty, H2Conn, Opening};
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
