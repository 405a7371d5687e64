//! A passive reader of the HTTP/2 frames a server sends, wrapped around the byte stream that
//! hyper's client reads. hyper and h2 keep what the server did to themselves; the tap sees the
//! frame headers as they pass (payloads are skipped, except the few bytes of SETTINGS and GOAWAY),
//! so the engine can tell a graceful GOAWAY from a failure, know which errors the server sent and
//! which our own stack raised, and count control frames and announced limits.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::raw::h2::{flag, ty};
use crate::record::peer::{ControlFrames, PeerLimits, PeerReport};
/// SETTINGS payloads longer than this are counted but not read (a real one holds a few entries).
const MAX_KEPT_PAYLOAD: usize = 6 * 64;

/// What the tap has seen on one connection.
#[derive(Debug, Default)]
pub struct H2Seen {
    frames: Cell<ControlFrames>,
    limits: Cell<PeerLimits>,
    goaway: Cell<Option<(u32, u32)>>,
    largest_header_block: Cell<usize>,
}

impl H2Seen {
    /// The last GOAWAY's last stream id and error code, once one arrived.
    pub fn goaway(&self) -> Option<(u32, u32)> {
        self.goaway.get()
    }

    /// The limits announced by the server's latest SETTINGS.
    pub fn limits(&self) -> PeerLimits {
        self.limits.get()
    }

    /// The largest header block (HEADERS plus CONTINUATION payloads) received, bytes.
    pub fn largest_header_block(&self) -> usize {
        self.largest_header_block.get()
    }

    /// Counts and limits, for the lane's figures.
    pub fn report(&self) -> PeerReport {
        PeerReport {
            frames: self.frames.get(),
            limits: self.limits.get(),
        }
    }

    fn count(&self, f: impl FnOnce(&mut ControlFrames)) {
        let mut c = self.frames.get();
        f(&mut c);
        self.frames.set(c);
    }

    fn settings(&self, payload: &[u8]) {
        let mut l = self.limits.get();
        for e in payload.chunks_exact(6) {
            let v = Some(u64::from(u32::from_be_bytes([e[2], e[3], e[4], e[5]])));
            match u16::from_be_bytes([e[0], e[1]]) {
                0x3 => l.max_concurrent_streams = v,
                0x4 => l.initial_window_size = v,
                0x5 => l.max_frame_size = v,
                0x6 => l.max_header_list_size = v,
                _ => {}
            }
        }
        self.limits.set(l);
    }
}

/// Walks the server's byte stream frame by frame, across reads of any size.
#[derive(Debug, Default)]
struct Walker {
    head: [u8; 9],
    head_len: usize,
    ty: u8,
    remaining: usize,
    kept: Vec<u8>,
    keep: bool,
    block: usize,
}

impl Walker {
    fn feed(&mut self, mut data: &[u8], seen: &H2Seen) {
        while !data.is_empty() {
            if self.remaining == 0 && self.head_len < 9 {
                let n = (9 - self.head_len).min(data.len());
                self.head[self.head_len..self.head_len + n].copy_from_slice(&data[..n]);
                self.head_len += n;
                data = &data[n..];
                if self.head_len == 9 {
                    self.start_frame(seen);
                }
                continue;
            }
            let n = self.remaining.min(data.len());
            if self.keep {
                let room = MAX_KEPT_PAYLOAD.saturating_sub(self.kept.len()).min(n);
                self.kept.extend_from_slice(&data[..room]);
            }
            self.remaining -= n;
            data = &data[n..];
            if self.remaining == 0 {
                self.end_frame(seen);
            }
        }
    }

    fn start_frame(&mut self, seen: &H2Seen) {
        let h = self.head;
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let (ty, flags) = (h[3], h[4]);
        self.ty = ty;
        self.head_len = 0;
        self.remaining = len;
        self.keep = false;
        match ty {
            ty::SETTINGS => {
                seen.count(|c| c.settings += 1);
                self.keep = flags & flag::ACK == 0;
            }
            ty::PING => seen.count(|c| c.ping += 1),
            ty::GOAWAY => {
                seen.count(|c| c.goaway += 1);
                self.keep = true;
            }
            ty::WINDOW_UPDATE => seen.count(|c| c.window_update += 1),
            ty::RST_STREAM => seen.count(|c| c.rst_stream += 1),
            ty::HEADERS => self.block = len,
            ty::CONTINUATION => self.block = self.block.saturating_add(len),
            _ => {}
        }
        if matches!(ty, ty::HEADERS | ty::CONTINUATION) {
            seen.largest_header_block
                .set(seen.largest_header_block.get().max(self.block));
            if flags & flag::END_HEADERS != 0 {
                self.block = 0;
            }
        }
        if len == 0 {
            self.end_frame(seen);
        }
    }

    fn end_frame(&mut self, seen: &H2Seen) {
        if self.keep {
            match self.ty {
                ty::SETTINGS => seen.settings(&self.kept),
                ty::GOAWAY if self.kept.len() >= 8 => {
                    let k = &self.kept;
                    let last = u32::from_be_bytes([k[0], k[1], k[2], k[3]]) & 0x7fff_ffff;
                    let code = u32::from_be_bytes([k[4], k[5], k[6], k[7]]);
                    seen.goaway.set(Some((last, code)));
                }
                _ => {}
            }
            self.kept.clear();
            self.keep = false;
        }
    }
}

/// A byte stream whose incoming HTTP/2 frames are read by the tap on their way to hyper.
pub struct Tapped<S> {
    inner: S,
    walker: RefCell<Walker>,
    seen: Rc<H2Seen>,
}

impl<S> Tapped<S> {
    /// Wraps `inner`; what the tap sees is shared through the returned handle.
    pub fn new(inner: S) -> (Self, Rc<H2Seen>) {
        let seen = Rc::new(H2Seen::default());
        (
            Tapped {
                inner,
                walker: RefCell::new(Walker::default()),
                seen: seen.clone(),
            },
            seen,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            this.walker
                .get_mut()
                .feed(&buf.filled()[before..], &this.seen);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::raw::h2::{frame, settings};

    fn walk_in_pieces(bytes: &[u8], piece: usize) -> H2Seen {
        let seen = H2Seen::default();
        let mut w = Walker::default();
        for chunk in bytes.chunks(piece) {
            w.feed(chunk, &seen);
        }
        seen
    }

    #[test]
    fn counts_control_frames_and_reads_settings_and_goaway_across_any_split() {
        let mut wire = settings(&[(0x3, 0), (0x4, 65_535), (0x5, 16_384), (0x6, 8_192)]);
        wire.extend(frame(0x4, 0x1, 0, b""));
        wire.extend(frame(0x6, 0, 0, &[0; 8]));
        wire.extend(frame(0x8, 0, 0, &100u32.to_be_bytes()));
        wire.extend(frame(0x0, 0x1, 1, &[b'x'; 40_000]));
        wire.extend(frame(0x1, 0, 3, &[0; 700]));
        wire.extend(frame(0x9, 0x4, 3, &[0; 300]));
        wire.extend(frame(0x3, 0, 3, &7u32.to_be_bytes()));
        let mut goaway = 5u32.to_be_bytes().to_vec();
        goaway.extend(0u32.to_be_bytes());
        wire.extend(frame(0x7, 0, 0, &goaway));
        for piece in [1, 2, 7, 9, 10, 4096, wire.len()] {
            let seen = walk_in_pieces(&wire, piece);
            let r = seen.report();
            assert_eq!(
                r.frames,
                ControlFrames {
                    settings: 2,
                    ping: 1,
                    goaway: 1,
                    window_update: 1,
                    rst_stream: 1
                },
                "piece {piece}"
            );
            assert_eq!(r.limits.max_concurrent_streams, Some(0));
            assert_eq!(r.limits.initial_window_size, Some(65_535));
            assert_eq!(r.limits.max_frame_size, Some(16_384));
            assert_eq!(r.limits.max_header_list_size, Some(8_192));
            assert_eq!(seen.goaway(), Some((5, 0)));
            assert_eq!(seen.largest_header_block(), 1000);
        }
    }
}
