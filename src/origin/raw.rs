//! The recording raw origin: an HTTP/1.1 server with a deliberately lenient parser that records
//! the exact bytes of every request it receives, and answers with well-formed or malformed
//! responses on command. A proxy under test forwards to it; the probes then judge what reached it.
//!
//! It frames requests the way a permissive back end does (any `Transfer-Encoding` mentioning
//! `chunked` wins over `Content-Length`, names are trimmed, folded lines are joined), so a request
//! that a proxy should have refused shows up here as the smuggled request it would become; every
//! field is recorded as received, both framings included when both arrive, for the probes to
//! judge. Where it is not under test it follows the RFCs, so a proxy is never blamed for the
//! origin: `100 Continue` at once on `Expect: 100-continue`, a close after answering a request
//! with `Connection: close`, and no body on an answer to HEAD.
//!
//! The response is chosen by the last path segment of `/probe/<nonce>/<kind>`; see [`Kind`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::recording::{Received, Recorder};
pub use crate::proto::raw::h1_parse::{dechunk, field_values, framing, parse_head, Framing, Head};

/// The largest request head or body the raw origin buffers.
const MAX_REQUEST: usize = 1 << 20;
/// How long an idle connection may stay open.
const IDLE: Duration = Duration::from_secs(30);
/// How long `slow` takes to answer.
pub const SLOW: Duration = Duration::from_millis(1500);

/// The answers the raw origin can give, chosen by the last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 200 with a Content-Length.
    Ok,
    /// 200 sent before the request body is read (the body is drained afterwards).
    Early,
    /// 200 carrying hop-by-hop fields: `Connection: x-origin-hop`, `X-Origin-Hop`, `Keep-Alive`.
    Hop,
    /// 200 with two `Set-Cookie` fields and a mixed-case name.
    Cookies,
    /// 200 with two different Content-Length values.
    DupCl,
    /// 200 with a non-numeric Content-Length.
    BadCl,
    /// 200 with both Content-Length and chunked Transfer-Encoding.
    ClTe,
    /// 204 carrying a Content-Length and no body.
    NoContentCl,
    /// 304 carrying a Content-Length and no body.
    NotModifiedCl,
    /// A chunked body followed by a trailer field.
    Trailers,
    /// 200 after [`SLOW`].
    Slow,
    /// Closes the connection without answering.
    Drop,
    /// 200 with `Connection: close`, then closes.
    Close,
    /// 200 with a Content-Length and the body, even to HEAD (a broken origin).
    HeadBody,
    /// 103 Early Hints with a Link field, then 200.
    EarlyHints,
    /// 200 with a chunked body, whatever the request's version.
    Chunked,
}

impl Kind {
    /// The kind named by a request target.
    pub fn of(target: &str) -> Kind {
        let last = target
            .split('?')
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        match last {
            "early" => Kind::Early,
            "hop" => Kind::Hop,
            "cookies" => Kind::Cookies,
            "dup-cl" => Kind::DupCl,
            "bad-cl" => Kind::BadCl,
            "cl-te" => Kind::ClTe,
            "204-cl" => Kind::NoContentCl,
            "304-cl" => Kind::NotModifiedCl,
            "trailers" => Kind::Trailers,
            "slow" => Kind::Slow,
            "drop" => Kind::Drop,
            "close" => Kind::Close,
            "head-body" => Kind::HeadBody,
            "early-hints" => Kind::EarlyHints,
            "chunked" => Kind::Chunked,
            _ => Kind::Ok,
        }
    }
}

/// The bytes of the answer of `kind` to `head`.
pub fn response(kind: Kind, head: &Head, conn: u64) -> Vec<u8> {
    let body = format!("ok {} {} conn={conn}\n", head.method, head.target);
    let ok = |extra: &str| {
        // A HEAD answer announces the length a GET would get, and sends no body.
        let sent = if head.method == "HEAD" { "" } else { &body };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{extra}Content-Length: {}\r\n\r\n{sent}",
            body.len()
        )
    };
    let text = match kind {
        Kind::Ok | Kind::Early | Kind::Slow => ok(""),
        Kind::Close => ok("Connection: close\r\n"),
        Kind::Hop => ok("Connection: x-origin-hop\r\nX-Origin-Hop: 1\r\nKeep-Alive: timeout=5\r\n"),
        Kind::Cookies => ok("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Origin-MiXeD-Case: v\r\n"),
        Kind::DupCl => format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len(),
            body.len() + 5
        ),
        Kind::BadCl => format!("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n{body}"),
        Kind::ClTe => format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len() + 100,
            body.len()
        ),
        Kind::NoContentCl => "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n".into(),
        Kind::NotModifiedCl => {
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n".into()
        }
        Kind::Trailers => format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-origin-trailer\r\n\r\n{:x}\r\n{body}\r\n0\r\nx-origin-trailer: done\r\n\r\n",
            body.len()
        ),
        Kind::Drop => String::new(),
        Kind::HeadBody => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
        Kind::EarlyHints => format!(
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n{}",
            ok("")
        ),
        Kind::Chunked => format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        ),
    };
    text.into_bytes()
}

/// A running recording raw origin.
pub struct RawOrigin {
    addr: SocketAddr,
    recorder: Recorder,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl RawOrigin {
    /// Binds `addr` (port 0 allowed) and serves until shut down.
    pub async fn start(addr: SocketAddr, recorder: Recorder) -> std::io::Result<RawOrigin> {
        let l = TcpListener::bind(addr).await?;
        let addr = l.local_addr()?;
        let (stop, tasks) = (CancellationToken::new(), TaskTracker::new());
        let next = Arc::new(AtomicU64::new(0));
        let (s2, t2, rec) = (stop.clone(), tasks.clone(), recorder.clone());
        tasks.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = l.accept() => a,
                    _ = s2.cancelled() => break,
                };
                if let Ok((s, _)) = accepted {
                    let conn = next.fetch_add(1, Ordering::Relaxed);
                    let (rec, s3) = (rec.clone(), s2.clone());
                    let ended = rec.connection_token();
                    t2.spawn(async move {
                        tokio::select! {
                            _ = serve(s, conn, rec) => {}
                            _ = s3.cancelled() => {}
                            _ = ended.cancelled() => {}
                        }
                    });
                }
            }
        });
        Ok(RawOrigin {
            addr,
            recorder,
            stop,
            tasks,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it received.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Stops serving and waits for the connections to end.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Reads into `buf` until `done` says how far a complete unit reaches.
async fn fill<T>(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    mut done: impl FnMut(&[u8]) -> Option<T>,
) -> Option<T> {
    loop {
        if let Some(t) = done(buf) {
            return Some(t);
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let mut chunk = [0u8; 16 * 1024];
        match tokio::time::timeout(IDLE, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

async fn serve(mut s: TcpStream, conn: u64, rec: Recorder) {
    let _ = s.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let Some(head) = fill(&mut s, &mut buf, parse_head).await else {
            if !buf.is_empty() {
                // Bytes that never became a request are evidence too.
                rec.push(Received {
                    conn,
                    raw: std::mem::take(&mut buf),
                    ..Default::default()
                });
            }
            return;
        };
        let kind = Kind::of(&head.target);
        let mut reply = response(kind, &head, conn);
        // A HEAD answer has no body, whatever its fields announce (RFC 9110 §9.3.2).
        if head.method == "HEAD" && kind != Kind::HeadBody {
            if let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
                reply.truncate(end + 4);
            }
        }
        if kind == Kind::Early && s.write_all(&reply).await.is_err() {
            return;
        }
        let hl = head.len;
        let framing = framing(&head.headers);
        // RFC 9110 §10.1.1: a server that will read the body sends 100 Continue at once,
        // rather than leave a client (or a proxy) waiting for it.
        let expects = field_values(&head.headers, "expect")
            .iter()
            .any(|v| v.eq_ignore_ascii_case(b"100-continue"));
        if expects
            && kind != Kind::Early
            && framing != Framing::None
            && s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
        {
            return;
        }
        // RFC 9112 §9.6: after answering a request with `Connection: close`, close.
        let close_after = field_values(&head.headers, "connection").iter().any(|v| {
            v.split(|b| *b == b',')
                .any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"))
        });
        let framed = match framing {
            Framing::None => Some(Ok((Vec::new(), 0))),
            Framing::Length(n) if n > MAX_REQUEST => Some(Err(())),
            Framing::Length(n) => {
                fill(&mut s, &mut buf, |b| {
                    (b.len() >= hl + n).then(|| Ok((b[hl..hl + n].to_vec(), n)))
                })
                .await
            }
            Framing::Chunked => fill(&mut s, &mut buf, |b| dechunk(&b[hl..])).await,
        };
        let cut_short = framed.is_none();
        let (body, used, ok) = match framed {
            Some(Ok((body, used))) => (body, used, true),
            _ => (Vec::new(), buf.len() - hl, false),
        };
        let raw: Vec<u8> = buf.drain(..hl + used).collect();
        rec.push(Received {
            conn,
            method: head.method.clone(),
            target: head.target.clone(),
            version: head.version.clone(),
            headers: head.headers.clone(),
            body,
            raw,
            cut_short,
        });
        if !ok {
            let _ = s
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            return;
        }
        match kind {
            Kind::Early => continue,
            Kind::Drop => return,
            Kind::Close => {
                let _ = s.write_all(&reply).await;
                return;
            }
            Kind::Slow => tokio::time::sleep(SLOW).await,
            _ => {}
        }
        if s.write_all(&reply).await.is_err() || close_after {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_head_trims_names_and_joins_folds() {
        let h = parse_head(
            b"POST /a HTTP/1.1\r\nTransfer-Encoding : chunked\r\nX: a\r\n b\r\n\r\nrest",
        )
        .unwrap();
        assert_eq!(h.target, "/a");
        assert_eq!(h.headers[0].0, "Transfer-Encoding");
        assert_eq!(h.headers[1].1, b"a b");
        assert_eq!(framing(&h.headers), Framing::Chunked);
        assert_eq!(
            h.len, 59,
            "the head ends after the blank line, before `rest`"
        );
    }

    #[test]
    fn chunked_bodies_decode_and_report_what_they_used() {
        let (body, used) = dechunk(b"3\r\nabc\r\n0\r\n\r\nGET").unwrap().unwrap();
        assert_eq!(body, b"abc");
        assert_eq!(used, 13);
        assert!(dechunk(b"3\r\nab").is_none());
        assert!(dechunk(b"zz\r\n").unwrap().is_err());
    }
}
