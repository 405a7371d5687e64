//! Small HTTP/2 servers (cleartext, prior knowledge), each correct but for one chosen behaviour,
//! to show that the load path tells a server's graceful end from a failure and the server's own
//! errors from those our stack raises: graceful GOAWAY, a GOAWAY below requests in flight,
//! REFUSED_STREAM, SETTINGS and PING floods, zero allowed streams, a content-length that lies,
//! a valid but very large header block, and the hostile ones: GOAWAY storms, RST_STREAM on every
//! stream, a header block continued forever, DATA forever. One thread per connection, frames by
//! hand.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gauntlet::proto::raw::h2::{frame, hpack, settings};

/// What the server does besides answering `200 ok`.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// After `n` requests on a connection: GOAWAY(NO_ERROR) naming the n-th, then close.
    GracefulAfter(u32),
    /// On the first connection only: collects `n` requests without answering, then
    /// GOAWAY(NO_ERROR) naming only the first, answers it and closes: the others were never
    /// processed. Later connections serve normally.
    GoawayBelowInFlight(u32),
    /// On the first connection only, RST_STREAM(REFUSED_STREAM) on every `k`-th request.
    RefuseOnFirstConnection(u32),
    /// `n` empty SETTINGS frames after each response.
    SettingsFlood(u32),
    /// `n` PING frames after each response.
    PingFlood(u32),
    /// SETTINGS_MAX_CONCURRENT_STREAMS = 0: no request can ever be sent.
    ZeroStreams,
    /// SETTINGS_INITIAL_WINDOW_SIZE = 0 and never a WINDOW_UPDATE: no request body can be sent.
    ZeroWindow,
    /// `content-length: 10` with 5 bytes of DATA.
    ContentLengthMismatch,
    /// One header field of `n` bytes, across CONTINUATION frames: valid, only large.
    LargeHeaders(usize),
    /// `204` carrying `content-length: 11`, no DATA: what RFC 9110 §8.6 forbids.
    NoContentWithLength,
    /// On every request, `n` GOAWAY(NO_ERROR) frames, then close without answering. Falling:
    /// the last stream id falls from the largest there is to below the request (which was
    /// therefore not processed). Rising: it starts at the request and rises, which RFC 9113
    /// §6.8 forbids.
    GoawayStorm { n: u32, rising: bool },
    /// RST_STREAM(INTERNAL_ERROR) on every `k`-th request (counted over all connections).
    RstEvery(u32),
    /// A `200` header block that never ends: HEADERS without END_HEADERS, then CONTINUATION
    /// frames until the client goes away.
    EndlessContinuation,
    /// A `200` whose DATA never ends, within the client's flow-control windows.
    DataForever,
}

pub struct HostileH2 {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

const MAX_FRAME: usize = 16_384;

pub fn read_exact(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b).ok().map(|_| b)
}

/// One frame read whole: type, flags, stream id and payload; `None` once the peer is gone.
pub fn read_frame(s: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let h = read_exact(s, 9)?;
    let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
    let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
    Some((h[3], h[4], stream, read_exact(s, len)?))
}

fn ok_response(stream: u32) -> Vec<u8> {
    let mut out = frame(0x1, 0x4, stream, &hpack(&[(b":status", b"200")]));
    out.extend(frame(0x0, 0x1, stream, b"ok"));
    out
}

const STATUS: &[u8] = b":status";

fn goaway(last: u32) -> Vec<u8> {
    let mut p = last.to_be_bytes().to_vec();
    p.extend(0u32.to_be_bytes());
    frame(0x7, 0, 0, &p)
}

/// Sends `bytes`, then closes after the client had a moment to read them.
fn finish(mut s: TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes);
    std::thread::sleep(Duration::from_millis(50));
    let _ = s.shutdown(std::net::Shutdown::Both);
}

fn large_headers(stream: u32, n: usize) -> Vec<u8> {
    let value = vec![b'a'; n];
    let block = hpack(&[(STATUS, b"200"), (b"x-large", &value)]);
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = block.chunks(MAX_FRAME).collect();
    for (i, c) in chunks.iter().enumerate() {
        let end = if i + 1 == chunks.len() { 0x4 } else { 0 };
        let ty = if i == 0 { 0x1 } else { 0x9 };
        out.extend(frame(ty, end, stream, c));
    }
    out.extend(frame(0x0, 0x1, stream, b"ok"));
    out
}

/// GOAWAY frames whose last stream ids fall from the largest to below `stream`, or rise from it.
fn goaway_storm(stream: u32, n: u32, rising: bool) -> Vec<u8> {
    let below = stream.saturating_sub(2);
    let step = (0x7fff_ffff - stream) / n.max(1);
    let mut out = Vec::new();
    for i in 0..n {
        let last = match rising {
            true => stream + i * step,
            false => below + (n - 1 - i) * step,
        };
        out.extend(goaway(last));
    }
    out
}

/// A header block continued forever, each CONTINUATION one more small field; stops when the
/// client is gone (or after a bound no client should reach).
fn endless_continuation(mut s: TcpStream, stream: u32) {
    if s.write_all(&frame(0x1, 0, stream, &hpack(&[(STATUS, b"200")])))
        .is_err()
    {
        return;
    }
    let field = frame(0x9, 0, stream, &hpack(&[(b"x-more", b"again")]).repeat(64));
    for _ in 0..1_000_000 {
        if s.write_all(&field).is_err() {
            return;
        }
    }
}

fn serve(mut s: TcpStream, mode: Mode, conn_index: u32, requests: Arc<AtomicU32>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.set_nodelay(true);
    if read_exact(&mut s, 24).is_none() {
        return;
    }
    let streams = if matches!(mode, Mode::ZeroStreams) {
        0
    } else {
        100
    };
    let window = if matches!(mode, Mode::ZeroWindow) {
        0
    } else {
        65_535
    };
    if s.write_all(&settings(&[(0x3, streams), (0x4, window)]))
        .is_err()
    {
        return;
    }
    if matches!(mode, Mode::DataForever) {
        return super::h2_forever::serve(s);
    }
    let mut served = 0u32;
    let mut held: Vec<u32> = Vec::new();
    loop {
        let Some((ty, flags, stream, p)) = read_frame(&mut s) else {
            return;
        };
        let reply = match ty {
            0x4 if flags & 0x1 == 0 => frame(0x4, 0x1, 0, b""),
            0x6 if flags & 0x1 == 0 => frame(0x6, 0x1, 0, &p),
            0x7 => return,
            // A complete GET: HEADERS with END_STREAM.
            0x1 if flags & 0x1 != 0 => {
                served += 1;
                match mode {
                    Mode::GracefulAfter(n) if served >= n => {
                        let mut out = ok_response(stream);
                        out.extend(goaway(stream));
                        return finish(s, &out);
                    }
                    Mode::GoawayBelowInFlight(n) if conn_index == 0 => {
                        held.push(stream);
                        if held.len() < n as usize {
                            continue;
                        }
                        let mut out = goaway(held[0]);
                        out.extend(ok_response(held[0]));
                        return finish(s, &out);
                    }
                    Mode::RefuseOnFirstConnection(k) if conn_index == 0 && served % k == 0 => {
                        frame(0x3, 0, stream, &7u32.to_be_bytes())
                    }
                    Mode::SettingsFlood(n) => {
                        let mut out = ok_response(stream);
                        for _ in 0..n {
                            out.extend(frame(0x4, 0, 0, b""));
                        }
                        out
                    }
                    Mode::PingFlood(n) => {
                        let mut out = ok_response(stream);
                        for i in 0..n {
                            out.extend(frame(0x6, 0, 0, &u64::from(i).to_be_bytes()));
                        }
                        out
                    }
                    Mode::ContentLengthMismatch => {
                        let mut out = frame(
                            0x1,
                            0x4,
                            stream,
                            &hpack(&[(STATUS, b"200"), (b"content-length", b"10")]),
                        );
                        out.extend(frame(0x0, 0x1, stream, b"12345"));
                        out
                    }
                    Mode::LargeHeaders(n) => large_headers(stream, n),
                    Mode::GoawayStorm { n, rising } => {
                        return finish(s, &goaway_storm(stream, n, rising));
                    }
                    Mode::RstEvery(k)
                        if (requests.fetch_add(1, Ordering::Relaxed) + 1) % k == 0 =>
                    {
                        frame(0x3, 0, stream, &2u32.to_be_bytes())
                    }
                    Mode::EndlessContinuation => return endless_continuation(s, stream),
                    Mode::NoContentWithLength => frame(
                        0x1,
                        0x5,
                        stream,
                        &hpack(&[(STATUS, b"204"), (b"content-length", b"11")]),
                    ),
                    _ => ok_response(stream),
                }
            }
            _ => continue,
        };
        if s.write_all(&reply).is_err() {
            return;
        }
    }
}

impl HostileH2 {
    pub fn start(mode: Mode) -> HostileH2 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let conns = Arc::new(AtomicU32::new(0));
        let requests = Arc::new(AtomicU32::new(0));
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let i = conns.fetch_add(1, Ordering::Relaxed);
                        let r = requests.clone();
                        std::thread::spawn(move || serve(s, mode, i, r));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HostileH2 { addr, stop }
    }

    /// The target URL (h2c, prior knowledge).
    pub fn url(&self) -> String {
        format!("h2c://{}", self.addr)
    }
}

impl Drop for HostileH2 {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
