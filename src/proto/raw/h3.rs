//! HTTP/3 frames on real QUIC streams (quinn): our own control stream (or a malformed one), a
//! request stream carrying whatever frames a probe builds, and a log of what came back — the
//! response's fields, a stream reset with its code, or the connection closed with its code.

use std::net::SocketAddr;
use std::time::Instant;

use quinn::crypto::rustls::QuicClientConfig;

use super::qpack;
use super::RawTarget;
use crate::record::errors::{ErrorClass, RequestError};

/// HTTP/3 frame types.
pub mod ty {
    /// DATA.
    pub const DATA: u64 = 0x0;
    /// HEADERS.
    pub const HEADERS: u64 = 0x1;
    /// SETTINGS.
    pub const SETTINGS: u64 = 0x4;
    /// A reserved (GREASE) type: 0x1f * N + 0x21.
    pub const GREASE: u64 = 0x1f * 7 + 0x21;
}

/// The name of an HTTP/3 or QPACK error code (RFC 9114 §8.1, RFC 9204 §6).
pub fn error_name(code: u64) -> String {
    const H3: [&str; 17] = [
        "H3_NO_ERROR",
        "H3_GENERAL_PROTOCOL_ERROR",
        "H3_INTERNAL_ERROR",
        "H3_STREAM_CREATION_ERROR",
        "H3_CLOSED_CRITICAL_STREAM",
        "H3_FRAME_UNEXPECTED",
        "H3_FRAME_ERROR",
        "H3_EXCESSIVE_LOAD",
        "H3_ID_ERROR",
        "H3_SETTINGS_ERROR",
        "H3_MISSING_SETTINGS",
        "H3_REQUEST_REJECTED",
        "H3_REQUEST_CANCELLED",
        "H3_REQUEST_INCOMPLETE",
        "H3_MESSAGE_ERROR",
        "H3_CONNECT_ERROR",
        "H3_VERSION_FALLBACK",
    ];
    match code {
        0x100..=0x110 => H3[(code - 0x100) as usize].to_string(),
        0x200 => "QPACK_DECOMPRESSION_FAILED".into(),
        0x201 => "QPACK_ENCODER_STREAM_ERROR".into(),
        0x202 => "QPACK_DECODER_STREAM_ERROR".into(),
        _ => format!("0x{code:x}"),
    }
}

/// A QUIC variable-length integer.
pub fn varint(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=63 => out.push(v as u8),
        64..=16383 => out.extend_from_slice(&(v as u16 | 0x4000).to_be_bytes()),
        16384..=1_073_741_823 => out.extend_from_slice(&(v as u32 | 0x8000_0000).to_be_bytes()),
        _ => out.extend_from_slice(&(v | 0xc000_0000_0000_0000).to_be_bytes()),
    }
}

/// Reads a QUIC variable-length integer at `at`, advancing it.
pub fn read_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let first = *buf.get(*at)?;
    let len = 1usize << (first >> 6);
    let bytes = buf.get(*at..*at + len)?;
    let mut v = (first & 0x3f) as u64;
    for b in &bytes[1..] {
        v = (v << 8) | *b as u64;
    }
    *at += len;
    Some(v)
}

/// One frame: type, length, payload.
pub fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    varint(&mut f, ty);
    varint(&mut f, payload.len() as u64);
    f.extend_from_slice(payload);
    f
}

/// A HEADERS frame with these fields, QPACK-encoded as literals.
pub fn headers(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    frame(ty::HEADERS, &qpack::encode(&refs))
}

/// A SETTINGS frame.
pub fn settings(pairs: &[(u64, u64)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in pairs {
        varint(&mut p, *id);
        varint(&mut p, *v);
    }
    frame(ty::SETTINGS, &p)
}

/// The usual control stream: type 0x00 and SETTINGS with no dynamic table.
pub fn control_stream() -> Vec<u8> {
    let mut s = vec![0x00];
    s.extend(settings(&[(0x01, 0), (0x07, 0)]));
    s
}

/// What a probe sends on one connection.
#[derive(Debug, Clone, Default)]
pub struct H3Script {
    /// Unidirectional streams to open, each with these bytes (the stream type first).
    pub uni: Vec<Vec<u8>>,
    /// The request stream's bytes (finished after writing), if any.
    pub request: Option<Vec<u8>>,
}

/// What came back on one request stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamLog {
    /// Decoded response fields.
    pub fields: Option<super::Fields>,
    /// Body bytes.
    pub data: usize,
    /// Reset by the server with this code.
    pub reset: Option<u64>,
    /// Ended cleanly.
    pub finished: bool,
}

impl StreamLog {
    /// The `:status`.
    pub fn status(&self) -> Option<u16> {
        self.fields.as_ref().and_then(|f| {
            f.iter()
                .find(|(n, _)| n == b":status")
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
        })
    }
}

/// Everything a connection saw.
#[derive(Debug, Clone, Default)]
pub struct H3Log {
    /// The probe's request stream.
    pub request: StreamLog,
    /// The connection's close code, if the server closed it (application or transport).
    pub closed: Option<(String, u64)>,
}

impl H3Log {
    /// What the request got, in one word: `200`, `reset:H3_MESSAGE_ERROR`,
    /// `close:H3_FRAME_UNEXPECTED`, `none`.
    pub fn outcome(&self) -> String {
        stream_outcome(&self.request, &self.closed)
    }

    /// What the connection as a whole did: `close:<code>` or `open`.
    pub fn connection(&self) -> String {
        match &self.closed {
            Some((k, c)) if k == "application" => format!("close:{}", error_name(*c)),
            Some((k, c)) => format!("close:{k}:0x{c:x}"),
            None => "open".into(),
        }
    }
}

/// One stream's outcome word.
pub fn stream_outcome(s: &StreamLog, closed: &Option<(String, u64)>) -> String {
    if let Some(st) = s.status() {
        return st.to_string();
    }
    if let Some(c) = s.reset {
        return format!("reset:{}", error_name(c));
    }
    match closed {
        Some((k, c)) if k == "application" => format!("close:{}", error_name(*c)),
        Some((k, c)) => format!("close:{k}:0x{c:x}"),
        None => "none".into(),
    }
}

fn close_of(e: &quinn::ConnectionError) -> Option<(String, u64)> {
    match e {
        quinn::ConnectionError::ApplicationClosed(a) => {
            Some(("application".into(), a.error_code.into_inner()))
        }
        quinn::ConnectionError::ConnectionClosed(c) => {
            Some(("transport".into(), u64::from(c.error_code)))
        }
        quinn::ConnectionError::Reset => Some(("reset".into(), 0)),
        quinn::ConnectionError::TimedOut => Some(("idle".into(), 0)),
        _ => Some(("local".into(), 0)),
    }
}

async fn resolve(target: &RawTarget) -> Result<SocketAddr, RequestError> {
    // `localhost` may resolve to ::1 first while a server listens on 127.0.0.1 only; QUIC has no
    // connect to fail over with, so IPv4 goes first.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(target.dial())
        .await
        .map(|a| a.collect())
        .unwrap_or_default();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| RequestError::new(ErrorClass::Connect, "dns", "cannot resolve"))
}

/// Reads one response stream until it ends, is reset, or `deadline`.
async fn read_stream(mut recv: quinn::RecvStream, deadline: Instant) -> StreamLog {
    let mut log = StreamLog::default();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, recv.read(&mut chunk)).await {
            Ok(Ok(Some(n))) => buf.extend_from_slice(&chunk[..n]),
            Ok(Ok(None)) => {
                log.finished = true;
                break;
            }
            Ok(Err(quinn::ReadError::Reset(code))) => {
                log.reset = Some(code.into_inner());
                break;
            }
            _ => break,
        }
    }
    read_frames(&buf, &mut log);
    log
}

/// Reads the frames of a response stream's bytes into `log`: the first HEADERS frame's fields
/// (QPACK-decoded; `None` when they do not decode) and the DATA length; other frames are
/// skipped, and a frame cut short ends the reading. No I/O: what a server can make the probe
/// client parse, as a plain function of the bytes (fuzzed).
pub fn read_frames(buf: &[u8], log: &mut StreamLog) {
    let mut at = 0;
    while let (Some(t), Some(len)) = (read_varint(buf, &mut at), read_varint(buf, &mut at)) {
        let Some(p) = buf.get(at..at + len as usize) else {
            break;
        };
        at += len as usize;
        match t {
            ty::HEADERS if log.fields.is_none() => log.fields = qpack::decode(p).ok(),
            ty::DATA => log.data += p.len(),
            _ => {}
        }
    }
}

/// Opens a QUIC connection with ALPN `h3`, plays `script`, and logs what came back.
pub async fn session(target: &RawTarget, script: &H3Script) -> Result<H3Log, RequestError> {
    let addr = resolve(target).await?;
    let tls = target.client_config(b"h3")?;
    let crypto = QuicClientConfig::try_from(tls)
        .map_err(|e| RequestError::new(ErrorClass::Tls, "quic-config", e.to_string()))?;
    let bind: SocketAddr = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    }
    .parse()
    .expect("constant address");
    let endpoint = quinn::Endpoint::client(bind)
        .map_err(|e| RequestError::new(ErrorClass::Connect, "udp-bind", e.to_string()))?;
    let config = quinn::ClientConfig::new(std::sync::Arc::new(crypto));
    let name = target
        .tls_options
        .server_name
        .clone()
        .unwrap_or_else(|| target.host.clone());
    let connecting = endpoint
        .connect_with(config, addr, &name)
        .map_err(|e| RequestError::new(ErrorClass::Connect, "quic-connect", e.to_string()))?;
    let conn = match tokio::time::timeout(target.timeout, connecting).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(super::super::h3::quic_error(&e)),
        Err(_) => {
            return Err(RequestError::new(
                ErrorClass::Protocol,
                "quic:no-answer",
                "no QUIC handshake",
            ))
        }
    };
    let deadline = Instant::now() + target.timeout;
    let mut log = H3Log::default();
    // Keep the streams open until the end: closing a critical stream is itself an error.
    let mut held = Vec::new();
    for bytes in &script.uni {
        if let Ok(mut s) = conn.open_uni().await {
            let _ = s.write_all(bytes).await;
            held.push(s);
        }
    }
    if let Some(req) = &script.request {
        if let Ok((mut send, recv)) = conn.open_bi().await {
            let _ = send.write_all(req).await;
            let _ = send.finish();
            log.request = read_stream(recv, deadline).await;
        }
    }
    if conn.close_reason().is_none() {
        // A connection error may trail the stream's end by a moment.
        let _ = tokio::time::timeout(super::h1::QUIET, conn.closed()).await;
    }
    log.closed = conn.close_reason().as_ref().and_then(close_of);
    drop(held);
    conn.close(quinn::VarInt::from_u32(0x100), b"probe done");
    endpoint.wait_idle().await;
    Ok(log)
}
