//! HTTP/1.1 over TCP or TLS: one exchange at a time per connection, the request in origin form
//! with a Host header. The connection is read and written in the exchange's own task, through
//! one reused read buffer; [`super::h1_wire`] holds the bytes' rules.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::HOST;
use http::{HeaderValue, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::body::{check_framing, BodySink};
use super::h1_wire::{self, Framing};
use super::hyper_io::{classify_io, Stream, StreamDialer};
use super::{ClientLimits, Connected, Connection, Exchange, Transport};
use crate::record::errors::{ErrorClass, RequestError};
use crate::record::peer::{ControlFrames, PeerReport};

/// What a read asks the buffer to have room for: most heads and small bodies fit at once.
const READ_CHUNK: usize = 4096;
/// A read buffer that grew past this for a large response is not kept for the next one.
const KEEP_BUF: usize = 64 << 10;

/// Opens HTTP/1.1 connections.
pub struct H1Transport {
    dialer: StreamDialer,
    limits: ClientLimits,
}

impl H1Transport {
    /// A transport over `dialer`; `limits` bounds the response head.
    pub fn new(dialer: StreamDialer, limits: ClientLimits) -> Self {
        H1Transport { dialer, limits }
    }
}

/// An open connection between exchanges.
struct Wire {
    stream: Stream,
    /// Bytes read and not yet used; empty between exchanges.
    rbuf: BytesMut,
    /// The request being written, reused.
    wbuf: Vec<u8>,
}

/// One HTTP/1.1 connection. The wire is taken out for the length of an exchange, which is how
/// the one-at-a-time rule of HTTP/1.1 is kept without holding a borrow across an await; an
/// exchange that fails or is cancelled (a timeout) drops it, closing the connection.
pub struct H1Conn {
    /// Boxed: with TLS a stream is kilobytes, which an exchange's future would otherwise hold
    /// inline in every slot.
    wire: Rc<RefCell<Option<Box<Wire>>>>,
    /// Responses that announced the end of the connection (`Connection: close`).
    closes: Rc<Cell<u64>>,
    /// The most bytes a response head, or a chunked body's trailer section, may take.
    head_limit: usize,
}

impl Transport for H1Transport {
    type Conn = H1Conn;

    async fn connect(&self) -> Result<Connected<H1Conn>, RequestError> {
        let (stream, timings) = self.dialer.open().await?;
        Ok(Connected {
            conn: H1Conn {
                wire: Rc::new(RefCell::new(Some(Box::new(Wire {
                    stream,
                    rbuf: BytesMut::new(),
                    wbuf: Vec::new(),
                })))),
                closes: Rc::new(Cell::new(0)),
                // As hyper's: its smallest read buffer was 8 KiB, and the head had to fit.
                head_limit: (self.limits.max_header_list_size as usize).max(8192),
            },
            timings,
            early_data: None,
        })
    }

    fn wire_form(&self, req: http::Request<Bytes>) -> http::Request<Bytes> {
        origin_form(req)
    }
}

/// Puts a request in origin form with a Host header, as HTTP/1.1 sends it. One already in
/// origin form (a lane's requests are converted once) passes through untouched.
fn origin_form(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
    if req.uri().authority().is_none() {
        return req;
    }
    if !req.headers().contains_key(HOST) {
        if let Some(auth) = req.uri().authority() {
            if let Ok(v) = HeaderValue::from_str(auth.as_str()) {
                req.headers_mut().insert(HOST, v);
            }
        }
    }
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    *req.uri_mut() = pq.parse::<Uri>().unwrap_or_else(|_| Uri::from_static("/"));
    req
}

/// Before a request goes on a connection that sat idle: a close (or stray bytes) the server
/// sent meanwhile means it will not process the request, which may then go elsewhere. One
/// poll of the read side; after a response read to its end, tokio already knows the socket
/// holds nothing, so this costs no system call.
async fn idle_check(w: &mut Wire) -> Result<(), RequestError> {
    w.rbuf.reserve(READ_CHUNK);
    let read = std::future::poll_fn(|cx| {
        let mut read = std::pin::pin!(w.stream.read_buf(&mut w.rbuf));
        Poll::Ready(read.as_mut().poll(cx))
    })
    .await;
    let closed =
        |why: &str| RequestError::new(ErrorClass::Reset, "closed", why.to_string()).unprocessed();
    match read {
        Poll::Pending => Ok(()),
        Poll::Ready(Ok(0)) => Err(closed("the server closed the idle connection")),
        Poll::Ready(Ok(_)) => Err(closed(
            "the server sent bytes on an idle connection; it is not reused",
        )),
        Poll::Ready(Err(e)) => Err(classify_io(&e, format!("idle connection: {e}")).unprocessed()),
    }
}

/// What becomes of a connection after an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// It carries the next request.
    Reuse,
    /// The server said it ends it (`Connection: close`).
    ServerCloses,
    /// It is dropped: the body ran to the close, the request asked to close, the server
    /// switched protocols (101), or bytes came past the response (no answer to anything: the
    /// connection is not trusted again).
    Drop,
}

/// What an exchange needs of its request once the head is in the connection's write buffer.
struct Written {
    /// What writing it found out.
    sent: h1_wire::Encoded,
    /// Whether it is a HEAD (its answer has no body).
    head: bool,
    /// Its header map, emptied, with room for the response's fields.
    fields: http::HeaderMap,
}

/// Writes the request `w.wbuf` holds and reads its response whole; also what becomes of the
/// connection.
async fn exchange(
    w: &mut Wire,
    req: Written,
    keep: Option<usize>,
    limit: usize,
) -> Result<(Exchange, After), RequestError> {
    let start = Instant::now();
    let Written {
        sent,
        head: head_req,
        mut fields,
    } = req;
    let io = |e: std::io::Error| classify_io(&e, e.to_string());
    w.stream.write_all(&w.wbuf).await.map_err(io)?;
    if let Some(body) = &sent.rest {
        w.stream.write_all(body).await.map_err(io)?;
    }
    w.stream.flush().await.map_err(io)?;
    let head = loop {
        if let Some(h) = h1_wire::parse_head(&mut w.rbuf, limit, &mut fields)? {
            break h;
        }
        if read_more(w).await? == 0 {
            return Err(incomplete("before the response head was complete"));
        }
    };
    let ttfb = start.elapsed();
    let framing = h1_wire::framing(head_req, &head)?;
    let mut sink = BodySink::new(keep);
    match framing {
        Framing::Empty => {}
        Framing::Length(mut left) => loop {
            let n = (w.rbuf.len() as u64).min(left) as usize;
            if n > 0 {
                sink.push(&w.rbuf[..n])?;
                bytes::Buf::advance(&mut w.rbuf, n);
                left -= n as u64;
            }
            if left == 0 {
                break;
            }
            if read_more(w).await? == 0 {
                return Err(incomplete("before the body's announced length"));
            }
        },
        Framing::Chunked => {
            let mut d = h1_wire::Dechunker::new(limit);
            while !d.feed(&mut w.rbuf, &mut |b| sink.push(b))? {
                if read_more(w).await? == 0 {
                    return Err(incomplete("inside a chunked body"));
                }
            }
        }
        Framing::ToClose => loop {
            if !w.rbuf.is_empty() {
                sink.push(&w.rbuf)?;
                w.rbuf.clear();
            }
            if read_more(w).await? == 0 {
                break;
            }
        },
    }
    let (body_len, body) = sink.finish();
    check_framing(head_req, head.status, &head.headers, body_len)?;
    let after = if head.facts.close {
        After::ServerCloses
    } else if framing != Framing::ToClose
        && head.status != 101
        && head.keeps_alive()
        && w.rbuf.is_empty()
        && !sent.closes
    {
        After::Reuse
    } else {
        After::Drop
    };
    Ok((
        Exchange {
            status: head.status,
            headers: head.headers,
            ttfb,
            body_len,
            body,
        },
        after,
    ))
}

/// Reads what the server sent next into the read buffer; 0 at its end.
async fn read_more(w: &mut Wire) -> Result<usize, RequestError> {
    w.rbuf.reserve(READ_CHUNK);
    w.stream
        .read_buf(&mut w.rbuf)
        .await
        .map_err(|e| classify_io(&e, e.to_string()))
}

/// The server closed the connection in the middle of a response.
fn incomplete(when: &str) -> RequestError {
    RequestError::new(
        ErrorClass::Reset,
        "incomplete",
        format!("the connection closed {when}"),
    )
}

impl Connection for H1Conn {
    fn is_open(&self) -> bool {
        // The wire is missing while an exchange runs, after one failed or was cancelled, and
        // after a response that ended the connection. With one exchange at a time this is
        // only asked between exchanges.
        self.wire.borrow().is_some()
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep: Option<usize>,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let slot = self.wire.clone();
        let closes = self.closes.clone();
        let limit = self.head_limit;
        let mut taken = slot.borrow_mut().take();
        // The head is written into the buffer here, before the future: the request itself is
        // then not part of the future's state (what every slot holds while it waits).
        let mut req = origin_form(req);
        let sent = taken
            .as_mut()
            .map(|w| h1_wire::encode_request(&req, &mut w.wbuf));
        let head = req.method() == http::Method::HEAD;
        let mut fields = std::mem::take(req.headers_mut());
        fields.clear();
        drop(req);
        async move {
            let mut w = taken.ok_or_else(|| {
                RequestError::new(
                    ErrorClass::Protocol,
                    "busy",
                    "an HTTP/1.1 connection was asked for two exchanges at once",
                )
            })?;
            idle_check(&mut w).await?;
            let written = Written {
                sent: sent.unwrap_or_default(),
                head,
                fields,
            };
            let (ex, after) = exchange(&mut w, written, keep, limit).await?;
            if after == After::ServerCloses {
                // The next request opens a new connection at once instead of racing the
                // close; the figures count the server's graceful end.
                closes.set(closes.get() + 1);
            } else if after == After::Reuse {
                if w.rbuf.capacity() > KEEP_BUF {
                    w.rbuf = BytesMut::new();
                }
                *slot.borrow_mut() = Some(w);
            }
            Ok(ex)
        }
    }

    fn peer_report(&self) -> PeerReport {
        PeerReport {
            frames: ControlFrames {
                goaway: self.closes.get(),
                ..ControlFrames::default()
            },
            ..PeerReport::default()
        }
    }

    fn stall(&self, _sending_body: bool) -> Option<RequestError> {
        None
    }
}
