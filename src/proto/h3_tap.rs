//! A passive reader of the server's HTTP/3 control stream, between h3-quinn and h3. The h3 crate
//! keeps the server's GOAWAY and SETTINGS to itself; the tap reads them as they pass, so that a
//! graceful GOAWAY stops new requests on the connection, the requests it did not cover are known
//! to be unprocessed (their stream id is at or above the GOAWAY's), and the figures count the
//! frames and the announced limits. Every other stream passes through untouched.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use h3::quic::{self, ConnectionErrorIncoming, StreamErrorIncoming, StreamId};

use crate::record::peer::{ControlFrames, PeerLimits};

/// HTTP/3 frame types the tap reads (RFC 9114 §7.2).
const SETTINGS: u64 = 0x4;
const GOAWAY: u64 = 0x7;
/// SETTINGS_MAX_FIELD_SECTION_SIZE.
const MAX_FIELD_SECTION_SIZE: u64 = 0x6;
/// A control frame payload longer than this is skipped unread (real ones hold a few varints).
const MAX_KEPT_PAYLOAD: u64 = 4096;

/// What the tap has seen of one connection's control stream.
#[derive(Debug, Default)]
pub struct H3Seen {
    frames: Cell<ControlFrames>,
    limits: Cell<PeerLimits>,
    goaway: Cell<Option<u64>>,
}

impl H3Seen {
    /// The stream id of the latest GOAWAY: requests at or above it were not processed.
    pub fn goaway(&self) -> Option<u64> {
        self.goaway.get()
    }

    /// SETTINGS and GOAWAY counts.
    pub fn frames(&self) -> ControlFrames {
        self.frames.get()
    }

    /// The limits the server announced.
    pub fn limits(&self) -> PeerLimits {
        self.limits.get()
    }

    fn frame(&self, ty: u64, payload: Option<&[u8]>) {
        let mut c = self.frames.get();
        match ty {
            SETTINGS => {
                c.settings += 1;
                let mut p = payload.unwrap_or_default();
                let mut l = self.limits.get();
                while let (Some(id), Some(v)) = (varint(&mut p), varint(&mut p)) {
                    if id == MAX_FIELD_SECTION_SIZE {
                        l.max_header_list_size = Some(v);
                    }
                }
                self.limits.set(l);
            }
            GOAWAY => {
                c.goaway += 1;
                if let Some(id) = payload.and_then(|mut p| varint(&mut p)) {
                    self.goaway.set(Some(id));
                }
            }
            _ => {}
        }
        self.frames.set(c);
    }
}

/// Reads a QUIC variable-length integer from the front of `p`, advancing it.
fn varint(p: &mut &[u8]) -> Option<u64> {
    let first = *p.first()?;
    let len = 1usize << (first >> 6);
    if p.len() < len {
        return None;
    }
    let mut v = u64::from(first & 0x3f);
    for b in &p[1..len] {
        v = (v << 8) | u64::from(*b);
    }
    *p = &p[len..];
    Some(v)
}

/// Walks one unidirectional stream: its type, then, on the control stream, its frames.
#[derive(Debug, Default)]
struct Walker {
    /// Bytes not yet parsed (a frame head, or a kept payload still arriving).
    pending: Vec<u8>,
    /// Payload bytes of an uninteresting frame still to pass by.
    skip: u64,
    /// Known once the stream's type arrived; only the control stream (0) is walked.
    control: Option<bool>,
}

impl Walker {
    fn feed(&mut self, mut data: &[u8], seen: &H3Seen) {
        if self.control == Some(false) {
            return;
        }
        let n = self.skip.min(data.len() as u64) as usize;
        self.skip -= n as u64;
        data = &data[n..];
        self.pending.extend_from_slice(data);
        // `at`: how much of `pending` is parsed; the rest waits for more bytes.
        let mut at = 0;
        loop {
            let mut p = &self.pending[at..];
            if self.control.is_none() {
                let Some(ty) = varint(&mut p) else { break };
                self.control = Some(ty == 0);
                if ty != 0 {
                    self.pending = Vec::new();
                    return;
                }
                at = self.pending.len() - p.len();
            }
            let (Some(ty), Some(len)) = (varint(&mut p), varint(&mut p)) else {
                break;
            };
            let head_end = self.pending.len() - p.len();
            if matches!(ty, SETTINGS | GOAWAY) && len <= MAX_KEPT_PAYLOAD {
                if (p.len() as u64) < len {
                    break;
                }
                seen.frame(ty, Some(&p[..len as usize]));
                at = head_end + len as usize;
            } else {
                seen.frame(ty, None);
                let n = len.min(p.len() as u64) as usize;
                at = head_end + n;
                self.skip = len - n as u64;
                if self.skip > 0 {
                    break;
                }
            }
        }
        self.pending.drain(..at);
    }
}

/// h3-quinn's connection, with every incoming unidirectional stream walked by the tap.
pub struct TapConn {
    inner: h3_quinn::Connection,
    seen: Rc<H3Seen>,
}

impl TapConn {
    /// Wraps `inner`; what the tap sees is shared through the returned handle.
    pub fn new(inner: h3_quinn::Connection) -> (Self, Rc<H3Seen>) {
        let seen = Rc::new(H3Seen::default());
        (
            TapConn {
                inner,
                seen: seen.clone(),
            },
            seen,
        )
    }
}

/// An incoming unidirectional stream, read through the tap.
pub struct TapRecv {
    inner: h3_quinn::RecvStream,
    walker: RefCell<Walker>,
    seen: Rc<H3Seen>,
}

impl quic::RecvStream for TapRecv {
    type Buf = Bytes;

    fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, StreamErrorIncoming>> {
        let r = self.inner.poll_data(cx);
        if let Poll::Ready(Ok(Some(b))) = &r {
            self.walker.get_mut().feed(b.chunk(), &self.seen);
        }
        r
    }

    fn stop_sending(&mut self, error_code: u64) {
        self.inner.stop_sending(error_code)
    }

    fn recv_id(&self) -> StreamId {
        self.inner.recv_id()
    }
}

impl quic::Connection<Bytes> for TapConn {
    type RecvStream = TapRecv;
    type OpenStreams = h3_quinn::OpenStreams;

    fn poll_accept_recv(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<TapRecv, ConnectionErrorIncoming>> {
        let r = <h3_quinn::Connection as quic::Connection<Bytes>>::poll_accept_recv(
            &mut self.inner,
            cx,
        );
        r.map_ok(|inner| TapRecv {
            inner,
            walker: RefCell::new(Walker::default()),
            seen: self.seen.clone(),
        })
    }

    fn poll_accept_bidi(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::BidiStream, ConnectionErrorIncoming>> {
        <h3_quinn::Connection as quic::Connection<Bytes>>::poll_accept_bidi(&mut self.inner, cx)
    }

    fn opener(&self) -> h3_quinn::OpenStreams {
        <h3_quinn::Connection as quic::Connection<Bytes>>::opener(&self.inner)
    }
}

impl quic::OpenStreams<Bytes> for TapConn {
    type BidiStream = h3_quinn::BidiStream<Bytes>;
    type SendStream = h3_quinn::SendStream<Bytes>;

    fn poll_open_bidi(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::BidiStream, StreamErrorIncoming>> {
        self.inner.poll_open_bidi(cx)
    }

    fn poll_open_send(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::SendStream, StreamErrorIncoming>> {
        self.inner.poll_open_send(cx)
    }

    fn close(&mut self, code: h3::error::Code, reason: &[u8]) {
        <h3_quinn::Connection as quic::OpenStreams<Bytes>>::close(&mut self.inner, code, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vi(v: u64) -> Vec<u8> {
        // Two-byte varints everywhere, to exercise multi-byte parsing.
        assert!(v < 1 << 14);
        vec![0x40 | (v >> 8) as u8, v as u8]
    }

    fn control_stream() -> Vec<u8> {
        let mut s = vec![0x00];
        let mut settings = vi(MAX_FIELD_SECTION_SIZE);
        settings.extend(vi(8192));
        settings.extend(vi(0x21));
        settings.extend(vi(7));
        s.extend(vi(SETTINGS));
        s.extend(vi(settings.len() as u64));
        s.extend(settings);
        // An unknown (GREASE-like) frame with a payload to skip.
        s.extend(vi(0x21));
        s.extend(vi(300));
        s.extend([0xaa; 300]);
        let id = vi(40);
        s.extend(vi(GOAWAY));
        s.extend(vi(id.len() as u64));
        s.extend(id);
        s
    }

    #[test]
    fn reads_settings_and_goaway_across_any_split() {
        let wire = control_stream();
        for piece in [1, 2, 3, 5, 64, wire.len()] {
            let seen = H3Seen::default();
            let mut w = Walker::default();
            for c in wire.chunks(piece) {
                w.feed(c, &seen);
            }
            assert_eq!(seen.frames().settings, 1, "piece {piece}");
            assert_eq!(seen.frames().goaway, 1, "piece {piece}");
            assert_eq!(seen.goaway(), Some(40), "piece {piece}");
            assert_eq!(seen.limits().max_header_list_size, Some(8192));
            assert!(w.pending.len() < 16, "nothing piles up");
        }
    }

    #[test]
    fn other_streams_are_not_read() {
        let seen = H3Seen::default();
        let mut w = Walker::default();
        let mut qpack = vec![0x02];
        qpack.extend(vi(GOAWAY));
        qpack.extend([1, 4]);
        w.feed(&qpack, &seen);
        assert_eq!(seen.frames(), ControlFrames::default());
        assert_eq!(seen.goaway(), None);
    }
}
