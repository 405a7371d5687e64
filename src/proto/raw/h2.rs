//! HTTP/2 frames written by hand: the 9-byte frame header, HPACK literals without Huffman for
//! what we send (so any byte, even an illegal one, goes out as built), and loona-hpack to decode
//! what the server sends. A session writes the preface and its steps, acknowledges the server's
//! SETTINGS, and logs every frame that comes back.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::{write, End, RawStream, RawTarget};
use crate::record::errors::RequestError;

/// Frame types.
pub mod ty {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM (DATA, HEADERS) or ACK (SETTINGS, PING).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS.
    pub const END_HEADERS: u8 = 0x4;
}

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The name of an HTTP/2 error code (RFC 9113 §7).
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    NAMES
        .get(code as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("0x{code:x}"))
}

/// One frame: the 9-byte header and the payload.
pub fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&len.to_be_bytes()[1..]);
    f.push(ty);
    f.push(flags);
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A SETTINGS frame with these identifier/value pairs.
pub fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in pairs {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(ty::SETTINGS, 0, 0, &p)
}

/// An HPACK (or QPACK) integer with an `n`-bit prefix, the prefix byte's other bits in `first`.
pub fn integer(out: &mut Vec<u8>, first: u8, n: u8, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

/// A header block of literals without indexing, new names, no Huffman: the bytes go out as
/// given, whatever they are.
pub fn hpack(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        out.push(0x00);
        integer(&mut out, 0, 7, n.len());
        out.extend_from_slice(n);
        integer(&mut out, 0, 7, v.len());
        out.extend_from_slice(v);
    }
    out
}

/// The pseudo-headers of a GET for `path` at `authority`.
pub fn get(scheme: &str, authority: &str, path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (b":method".to_vec(), b"GET".to_vec()),
        (b":scheme".to_vec(), scheme.as_bytes().to_vec()),
        (b":authority".to_vec(), authority.as_bytes().to_vec()),
        (b":path".to_vec(), path.as_bytes().to_vec()),
    ]
}

/// A HEADERS frame (END_HEADERS set) carrying `fields`.
pub fn headers(stream: u32, fields: &[(Vec<u8>, Vec<u8>)], end_stream: bool) -> Vec<u8> {
    let refs: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let flags = flag::END_HEADERS | if end_stream { flag::END_STREAM } else { 0 };
    frame(ty::HEADERS, flags, stream, &hpack(&refs))
}

/// One thing the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A complete header block.
    Headers {
        /// Stream.
        stream: u32,
        /// Decoded fields (`None` when HPACK decoding failed).
        fields: Option<super::Fields>,
        /// END_STREAM.
        end_stream: bool,
    },
    /// DATA.
    Data {
        /// Stream.
        stream: u32,
        /// Payload length.
        len: usize,
        /// END_STREAM.
        end_stream: bool,
    },
    /// RST_STREAM.
    Rst {
        /// Stream.
        stream: u32,
        /// Error code.
        code: u32,
    },
    /// GOAWAY.
    GoAway {
        /// Last stream id processed.
        last: u32,
        /// Error code.
        code: u32,
    },
    /// PING with ACK.
    PingAck(Vec<u8>),
    /// SETTINGS (not ACK).
    Settings(Vec<(u16, u32)>),
    /// Anything else: type and stream.
    Other(u8, u32),
}

/// Everything a session saw.
#[derive(Debug, Clone)]
pub struct H2Log {
    /// Frames in arrival order (SETTINGS ACKs and WINDOW_UPDATEs left out).
    pub events: Vec<Event>,
    /// How the connection ended.
    pub end: End,
    /// Bytes the server sent that were not HTTP/2 frames (e.g. an HTTP/1.1 400).
    pub garbage: Vec<u8>,
}

impl H2Log {
    /// The `:status` of the first response on `stream`.
    pub fn status(&self, stream: u32) -> Option<u16> {
        self.events.iter().find_map(|e| match e {
            Event::Headers {
                stream: s,
                fields: Some(f),
                ..
            } if *s == stream => f
                .iter()
                .find(|(n, _)| n == b":status")
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok()),
            _ => None,
        })
    }

    /// The RST_STREAM code on `stream`.
    pub fn rst(&self, stream: u32) -> Option<u32> {
        self.events.iter().find_map(|e| match e {
            Event::Rst { stream: s, code } if *s == stream => Some(*code),
            _ => None,
        })
    }

    /// The GOAWAY code, if any.
    pub fn goaway(&self) -> Option<u32> {
        self.events.iter().find_map(|e| match e {
            Event::GoAway { code, .. } => Some(*code),
            _ => None,
        })
    }

    /// Whether `stream` ended (END_STREAM seen or reset).
    pub fn stream_done(&self, stream: u32) -> bool {
        self.rst(stream).is_some()
            || self.events.iter().any(|e| {
                matches!(e, Event::Headers { stream: s, end_stream: true, .. }
                    | Event::Data { stream: s, end_stream: true, .. } if *s == stream)
            })
    }

    /// What `stream` got, in one word: `200`, `rst:PROTOCOL_ERROR`, `goaway:PROTOCOL_ERROR`,
    /// `close`, `none`.
    pub fn outcome(&self, stream: u32) -> String {
        if let Some(s) = self.status(stream) {
            return s.to_string();
        }
        if let Some(c) = self.rst(stream) {
            return format!("rst:{}", error_name(c));
        }
        if let Some(c) = self.goaway() {
            return format!("goaway:{}", error_name(c));
        }
        if !self.garbage.is_empty() {
            return "not-h2".into();
        }
        match self.end {
            End::Open => "none".into(),
            e => e.as_str().into(),
        }
    }
}

/// How a connection opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Opening {
    /// The preface and an empty SETTINGS frame first.
    Preface,
    /// Nothing: the probe writes its own opening.
    Raw,
}

/// The reading half of a session, without I/O: bytes in, frames logged, HPACK decoded. Kept
/// apart from the connection so that what a server can make the client parse is a plain
/// function of the bytes (and can be fuzzed: see [`read_frames`]).
pub struct H2Reader {
    /// Bytes received and not yet parsed (a frame still arriving).
    pub buf: Vec<u8>,
    decoder: loona_hpack::Decoder<'static>,
    block: Option<(u32, bool, Vec<u8>)>,
}

impl Default for H2Reader {
    fn default() -> Self {
        H2Reader {
            buf: Vec::new(),
            decoder: loona_hpack::Decoder::new(),
            block: None,
        }
    }
}

impl H2Reader {
    /// Takes the next whole frame off the buffer and logs it in `log`. `None` when no whole frame
    /// is left, or when the bytes are not HTTP/2 at all (they then move to `log.garbage`);
    /// `Some(true)` when the frame was a SETTINGS the caller must acknowledge.
    pub fn next_frame(&mut self, log: &mut H2Log) -> Option<bool> {
        let buf = &self.buf;
        if buf.len() < 9 {
            return None;
        }
        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
        if log.events.is_empty() && self.block.is_none() && buf[3] > 0x20 {
            // Not a frame header: a server that answered in HTTP/1.1, say.
            log.garbage = std::mem::take(&mut self.buf);
            return None;
        }
        if buf.len() < 9 + len {
            return None;
        }
        let (t, fl) = (buf[3], buf[4]);
        let sid = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
        let p: Vec<u8> = buf[9..9 + len].to_vec();
        self.buf.drain(..9 + len);
        let mut ack = false;
        let event = match t {
            ty::SETTINGS if fl & flag::ACK == 0 => {
                ack = true;
                Some(Event::Settings(
                    p.chunks_exact(6)
                        .map(|c| {
                            (
                                u16::from_be_bytes([c[0], c[1]]),
                                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                            )
                        })
                        .collect(),
                ))
            }
            ty::SETTINGS | ty::WINDOW_UPDATE => None,
            ty::HEADERS | ty::CONTINUATION => {
                let frag = if t == ty::HEADERS {
                    header_fragment(fl, &p)
                } else {
                    &p[..]
                };
                let entry = self
                    .block
                    .get_or_insert((sid, fl & flag::END_STREAM != 0, Vec::new()));
                entry.2.extend_from_slice(frag);
                if fl & flag::END_HEADERS == 0 {
                    None
                } else {
                    let (stream, end_stream, bytes) = self.block.take().expect("inserted");
                    Some(Event::Headers {
                        stream,
                        fields: self.decoder.decode(&bytes).ok(),
                        end_stream,
                    })
                }
            }
            ty::DATA => Some(Event::Data {
                stream: sid,
                len: p.len(),
                end_stream: fl & flag::END_STREAM != 0,
            }),
            ty::RST_STREAM if p.len() >= 4 => Some(Event::Rst {
                stream: sid,
                code: u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
            }),
            ty::GOAWAY if p.len() >= 8 => Some(Event::GoAway {
                last: u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff,
                code: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
            }),
            ty::PING if fl & flag::ACK != 0 => Some(Event::PingAck(p)),
            _ => Some(Event::Other(t, sid)),
        };
        log.events.extend(event);
        Some(ack)
    }
}

/// What a session's reader makes of `bytes` arriving from a server in one piece: every whole
/// frame logged, header blocks HPACK-decoded, a trailing partial frame left unread. The pure
/// core of [`H2Conn`]'s reading (nothing is written back), for fuzzing and tests.
pub fn read_frames(bytes: &[u8]) -> H2Log {
    let mut log = H2Log {
        events: Vec::new(),
        end: End::Open,
        garbage: Vec::new(),
    };
    let mut reader = H2Reader {
        buf: bytes.to_vec(),
        ..H2Reader::default()
    };
    while reader.next_frame(&mut log).is_some() {}
    log
}

/// An open HTTP/2 connection driven by hand: write frames, read and log what comes back.
pub struct H2Conn {
    s: RawStream,
    /// Everything seen so far.
    pub log: H2Log,
    reader: H2Reader,
    timeout: Duration,
}

impl H2Conn {
    /// Opens a connection (ALPN `h2`, or prior knowledge in cleartext) and writes the opening.
    pub async fn open(target: &RawTarget, opening: Opening) -> Result<H2Conn, RequestError> {
        let s = target.open(b"h2").await?;
        let mut c = H2Conn {
            s,
            log: H2Log {
                events: Vec::new(),
                end: End::Open,
                garbage: Vec::new(),
            },
            reader: H2Reader::default(),
            timeout: target.timeout,
        };
        if opening == Opening::Preface {
            let mut first = PREFACE.to_vec();
            first.extend(settings(&[]));
            c.send(&first).await;
        }
        Ok(c)
    }

    /// Writes bytes; false when the peer no longer takes them.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        write(&mut self.s, bytes).await
    }

    /// Reads until the connection ends, `done` holds (then a short quiet period for anything
    /// that follows), or the target's timeout passes.
    pub async fn read_until(&mut self, done: impl Fn(&H2Log) -> bool) {
        let deadline = Instant::now() + self.timeout;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            self.parse().await;
            if self.log.end != End::Open {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let wait = if done(&self.log) {
                super::h1::QUIET.min(deadline - now)
            } else {
                deadline - now
            };
            match tokio::time::timeout(wait, self.s.read(&mut chunk)).await {
                Err(_) => return,
                Ok(Ok(0)) => self.log.end = End::Closed,
                Ok(Ok(n)) if !self.log.garbage.is_empty() => {
                    self.log.garbage.extend_from_slice(&chunk[..n])
                }
                Ok(Ok(n)) => self.reader.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => {
                    self.log.end = if e.kind() == std::io::ErrorKind::ConnectionReset {
                        End::Reset
                    } else {
                        End::Closed
                    }
                }
            }
        }
    }

    /// The server's value of a setting, once its SETTINGS arrived.
    pub fn setting(&self, id: u16) -> Option<u32> {
        self.log.events.iter().find_map(|e| match e {
            Event::Settings(p) => p.iter().find(|(i, _)| *i == id).map(|(_, v)| *v),
            _ => None,
        })
    }

    /// Logs every whole frame in the buffer, acknowledging SETTINGS.
    async fn parse(&mut self) {
        while let Some(ack) = self.reader.next_frame(&mut self.log) {
            if ack {
                write(&mut self.s, &frame(ty::SETTINGS, flag::ACK, 0, &[])).await;
            }
        }
    }
}

/// The header block fragment of a HEADERS payload, without padding and priority.
fn header_fragment(flags: u8, p: &[u8]) -> &[u8] {
    let mut start = 0;
    let mut end = p.len();
    if flags & 0x8 != 0 && !p.is_empty() {
        start = 1;
        end = end.saturating_sub(p[0] as usize);
    }
    if flags & 0x20 != 0 {
        start += 5;
    }
    p.get(start..end.max(start)).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_literals_decode_with_a_real_hpack_decoder() {
        let long = vec![b'v'; 300];
        let block = hpack(&[(b":status", b"200"), (b"x-long", &long)]);
        let got = loona_hpack::Decoder::new().decode(&block).unwrap();
        assert_eq!(got[0], (b":status".to_vec(), b"200".to_vec()));
        assert_eq!(got[1].1.len(), 300);
    }

    #[test]
    fn frame_header_is_nine_bytes_big_endian() {
        let f = frame(ty::PING, 0, 0, &[1; 8]);
        assert_eq!(&f[..9], &[0, 0, 8, 6, 0, 0, 0, 0, 0]);
    }
}
