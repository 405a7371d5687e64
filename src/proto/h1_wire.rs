//! HTTP/1.1's bytes for the load path's client, without I/O: a request head written into a
//! buffer the connection reuses, a response head parsed by httparse into a header map whose
//! values share the read buffer, and the response body's framing (a length, chunked, or to the
//! close) decoded as it arrives.
//!
//! hyper's client connection did this work in a task and a channel of its own per connection,
//! with a read buffer allocated anew for every response (issue 17: HTTP/1.1's user-space CPU
//! per request was six times wrk's, while the kernel's was lower). What stays the same is what
//! a strict client asks of a response; the error codes are the ones hyper's errors were given.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Version};

use crate::record::errors::{ErrorClass, RequestError};

/// The most header fields a response head may carry (hyper's default too).
pub const MAX_HEADERS: usize = 100;
/// A chunk-size line longer than this is not a size line (extensions included).
const MAX_SIZE_LINE: usize = 4096;
/// A body up to this size is copied after the head, so that the request is one write.
pub const INLINE_BODY: usize = 16 << 10;

/// A protocol error on the server's bytes: what hyper called a parse error.
fn parse_error(msg: impl Into<String>) -> RequestError {
    RequestError::new(ErrorClass::Protocol, "parse", msg)
}

/// A malformed chunked body.
fn chunk_error(msg: impl Into<String>) -> RequestError {
    RequestError::new(ErrorClass::Protocol, "framing:chunked", msg)
}

/// Whether a field value's comma-separated list holds `token`, in any case.
fn lists(value: &[u8], token: &[u8]) -> bool {
    // Most values hold no such word (`keep-alive`, `text/html`): they are not split.
    value.len() >= token.len()
        && value
            .windows(token.len())
            .any(|w| w.eq_ignore_ascii_case(token))
        && value
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Whether the last transfer coding of a Transfer-Encoding value is `chunked`.
fn value_ends_chunked(value: &[u8]) -> bool {
    value
        .rsplit(|b| *b == b',')
        .next()
        .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// Whether the last transfer coding of a Transfer-Encoding field is `chunked`.
fn ends_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .is_some_and(|v| value_ends_chunked(v.as_bytes()))
}

/// What writing a request head found out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// A body too large to copy after the head, for a write of its own.
    pub rest: Option<Bytes>,
    /// Whether the request itself asks to end the connection (`Connection: close`).
    pub closes: bool,
}

/// Writes `req`'s head into `out` (cleared first) as hyper's client did: origin-form target,
/// the scenario's fields as given, a Content-Length for a body that has none, a body only
/// where a length or chunked framing carries it (a scenario's Transfer-Encoding sends it as
/// one chunk). Small bodies follow the head in `out`; a larger one is returned for a write of
/// its own.
pub fn encode_request(req: &http::Request<Bytes>, out: &mut Vec<u8>) -> Encoded {
    out.clear();
    let body = req.body();
    let h10 = req.version() == Version::HTTP_10;
    out.extend_from_slice(req.method().as_str().as_bytes());
    out.push(b' ');
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(if h10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    let headers = req.headers();
    // An empty body has no framing to announce, and HTTP/1.0 knows no chunked coding.
    let chunked = !body.is_empty() && !h10 && headers.contains_key(TRANSFER_ENCODING);
    let mut closes = false;
    for (name, value) in headers {
        if name == TRANSFER_ENCODING && !chunked {
            continue;
        }
        closes |= name == CONNECTION && lists(value.as_bytes(), b"close");
        field(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if chunked && !ends_chunked(headers) {
        field(out, b"transfer-encoding", b"chunked");
    }
    if !body.is_empty() && !chunked && !headers.contains_key(CONTENT_LENGTH) {
        field(out, b"content-length", body.len().to_string().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    let mut rest = None;
    if chunked {
        out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
    } else if body.len() <= INLINE_BODY {
        out.extend_from_slice(body);
    } else {
        rest = Some(body.clone());
    }
    Encoded { rest, closes }
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The fields, their values sharing the head's bytes.
    pub headers: HeaderMap,
    /// What the framing and the connection's reuse depend on, noted while the fields were read
    /// so that nothing is looked up again.
    pub facts: Facts,
}

/// The fields of a response head that frame its body or end its connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `Connection: close`.
    pub close: bool,
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// Transfer-Encoding, when present: whether its last coding is chunked.
    pub chunked: Option<bool>,
    /// Content-Length, when present: its one value, or the text that is not one.
    pub length: Option<Result<u64, String>>,
}

impl Facts {
    /// Notes a field.
    fn note(&mut self, name: &HeaderName, value: &[u8]) {
        if name == CONNECTION {
            self.close |= lists(value, b"close");
            self.keep_alive |= lists(value, b"keep-alive");
        } else if name == TRANSFER_ENCODING {
            // The last field line holds the last coding.
            self.chunked = Some(value_ends_chunked(value));
        } else if name == CONTENT_LENGTH {
            self.length = Some(match self.length.take() {
                Some(Err(e)) => Err(e),
                seen => one_length(value, seen.and_then(Result::ok)),
            });
        }
    }
}

/// The one number a Content-Length value holds (`5`, or `5, 5`), agreeing with `seen`.
fn one_length(value: &[u8], seen: Option<u64>) -> Result<u64, String> {
    let mut length = seen;
    for part in value.split(|b| *b == b',') {
        let part = part.trim_ascii();
        let n = std::str::from_utf8(part)
            .ok()
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u64>().ok());
        match (n, length) {
            (Some(n), None) => length = Some(n),
            (Some(n), Some(l)) if n == l => {}
            _ => return Err(String::from_utf8_lossy(value).into_owned()),
        }
    }
    length.ok_or_else(|| String::from_utf8_lossy(value).into_owned())
}

/// Parses a response head from the front of `buf` and removes it; `None` while incomplete.
/// Interim (1xx) responses other than 101 are skipped, as hyper skipped them. `limit` bounds
/// the head's bytes. The fields go into `fields` (taken when the head is whole): an empty map
/// with room, so that reading a response allocates no map of its own.
pub fn parse_head(
    buf: &mut BytesMut,
    limit: usize,
    fields: &mut HeaderMap,
) -> Result<Option<Head>, RequestError> {
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        // Offsets, not slices: the slices borrow `buf`, which is split below.
        let mut spans = [(0u32, 0u32, 0u32, 0u32); MAX_HEADERS];
        let (len, status, version, count) = {
            // Left uninitialised for httparse to fill: 3 KiB cleared for every response
            // showed in the profile.
            let mut fields = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut []);
            match httparse::ParserConfig::default().parse_response_with_uninit_headers(
                &mut resp,
                buf,
                &mut fields,
            ) {
                Ok(httparse::Status::Complete(len)) => {
                    let base = buf.as_ptr() as usize;
                    let off = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
                    let mut count = 0;
                    for (i, f) in resp.headers.iter().enumerate() {
                        spans[i] = (
                            off(f.name.as_bytes()),
                            f.name.len() as u32,
                            off(f.value),
                            f.value.len() as u32,
                        );
                        count += 1;
                    }
                    let version = if resp.version == Some(0) {
                        Version::HTTP_10
                    } else {
                        Version::HTTP_11
                    };
                    (len, resp.code.unwrap_or(0), version, count)
                }
                Ok(httparse::Status::Partial) if buf.len() >= limit => {
                    return Err(parse_error(format!(
                        "the response head passed {limit} bytes (limits.max_header_list_size)"
                    )))
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(e) => return Err(parse_error(format!("invalid HTTP/1.1 response head: {e}"))),
            }
        };
        if len > limit {
            return Err(parse_error(format!(
                "the response head of {len} bytes passed {limit} (limits.max_header_list_size)"
            )));
        }
        let raw = buf.split_to(len).freeze();
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let mut headers = std::mem::take(fields);
        headers.reserve(count);
        let mut facts = Facts::default();
        for &(n, nl, v, vl) in &spans[..count] {
            let (n, nl, v, vl) = (n as usize, nl as usize, v as usize, vl as usize);
            let name = HeaderName::from_bytes(&raw[n..n + nl])
                .map_err(|_| parse_error("a response field name is not a token"))?;
            let value = HeaderValue::from_maybe_shared(raw.slice(v..v + vl))
                .map_err(|_| parse_error("a response field value has a forbidden byte"))?;
            facts.note(&name, value.as_bytes());
            headers.append(name, value);
        }
        return Ok(Some(Head {
            status,
            version,
            headers,
            facts,
        }));
    }
}

impl Head {
    /// Whether the connection may carry another request after this response (RFC 9112 §9.3):
    /// HTTP/1.1 unless it says `close`, HTTP/1.0 only when it says `keep-alive`.
    pub fn keeps_alive(&self) -> bool {
        match self.version {
            Version::HTTP_10 => self.facts.keep_alive && !self.facts.close,
            _ => !self.facts.close,
        }
    }
}

/// How a response's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: an answer to HEAD, a 1xx, 204 or 304.
    Empty,
    /// This many bytes.
    Length(u64),
    /// Chunked.
    Chunked,
    /// Until the server closes the connection.
    ToClose,
}

/// The framing of `head`'s body (`answers_head`: it answers a HEAD). Transfer-Encoding wins
/// over Content-Length; one that does not end in chunked runs to the close; a Content-Length
/// that is not one number is refused, as the body's end cannot be known.
pub fn framing(answers_head: bool, head: &Head) -> Result<Framing, RequestError> {
    let s = head.status;
    // A 101 hands the connection to another protocol: no HTTP/1.1 body follows, and the
    // connection is not used again (the caller drops it).
    if answers_head || (100..200).contains(&s) || s == 204 || s == 304 {
        return Ok(Framing::Empty);
    }
    match (&head.facts.chunked, &head.facts.length) {
        (Some(true), _) => Ok(Framing::Chunked),
        (Some(false), _) => Ok(Framing::ToClose),
        (None, None) => Ok(Framing::ToClose),
        (None, Some(Ok(n))) => Ok(Framing::Length(*n)),
        (None, Some(Err(text))) => Err(RequestError::new(
            ErrorClass::Protocol,
            "framing:content-length-invalid",
            format!(
                "Content-Length `{text}` is not one decimal number: the body's end cannot be known"
            ),
        )),
    }
}

/// Where a chunked body's decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// After a chunk's data, expecting its CRLF.
    DataEnd,
    /// After the last chunk, reading trailer lines; the bytes read so far.
    Trailer(usize),
    /// The body ended.
    Done,
}

/// Decodes a chunked body (RFC 9112 §7.1) as its bytes arrive.
#[derive(Debug)]
pub struct Dechunker {
    state: Chunk,
    limit: usize,
}

impl Dechunker {
    /// A decoder whose trailer section may take up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Dechunker {
            state: Chunk::Size,
            limit,
        }
    }

    /// Consumes what it can from the front of `buf`, handing data to `sink`; true once the
    /// body ended. Bytes that do not yet complete a line stay in `buf`.
    pub fn feed(
        &mut self,
        buf: &mut BytesMut,
        sink: &mut impl FnMut(&[u8]) -> Result<(), RequestError>,
    ) -> Result<bool, RequestError> {
        loop {
            match self.state {
                Chunk::Done => return Ok(true),
                Chunk::Data(left) => {
                    if buf.is_empty() {
                        return Ok(false);
                    }
                    let n = (buf.len() as u64).min(left) as usize;
                    sink(&buf[..n])?;
                    buf.advance(n);
                    self.state = if left == n as u64 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - n as u64)
                    };
                }
                Chunk::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(false);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(chunk_error("a chunk's data is not followed by CRLF"));
                    }
                    buf.advance(2);
                    self.state = Chunk::Size;
                }
                Chunk::Size => {
                    let Some(end) = line_end(buf, MAX_SIZE_LINE, "a chunk-size line")? else {
                        return Ok(false);
                    };
                    let size = chunk_size(&buf[..end])?;
                    buf.advance(end + 2);
                    self.state = if size == 0 {
                        Chunk::Trailer(0)
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Trailer(seen) => {
                    let room = self.limit.saturating_sub(seen);
                    let Some(end) = line_end(buf, room, "the trailer section")? else {
                        return Ok(false);
                    };
                    buf.advance(end + 2);
                    self.state = if end == 0 {
                        Chunk::Done
                    } else {
                        Chunk::Trailer(seen + end + 2)
                    };
                }
            }
        }
    }
}

/// Where the CRLF that ends the line at the front of `buf` starts; `None` while it has not
/// arrived. A bare LF, or a line past `max` bytes, is an error.
fn line_end(buf: &[u8], max: usize, what: &str) -> Result<Option<usize>, RequestError> {
    let Some(lf) = buf.iter().take(max + 2).position(|b| *b == b'\n') else {
        if buf.len() > max + 1 {
            return Err(chunk_error(format!("{what} passed {max} bytes")));
        }
        return Ok(None);
    };
    if lf == 0 || buf[lf - 1] != b'\r' {
        return Err(chunk_error(format!("{what} ends in a bare LF")));
    }
    Ok(Some(lf - 1))
}

/// The size of a chunk-size line (hex digits, then optional whitespace and extensions).
fn chunk_size(line: &[u8]) -> Result<u64, RequestError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(chunk_error(format!(
            "the chunk size `{}` is not a hex number",
            String::from_utf8_lossy(&line[..line.len().min(32)])
        )));
    }
    if digits > 16 {
        return Err(chunk_error(
            "a chunk size of more than 16 hex digits overflows",
        ));
    }
    let rest = line[digits..].trim_ascii_start();
    if !rest.is_empty() && rest[0] != b';' {
        return Err(chunk_error(
            "a chunk size is followed by something other than an extension",
        ));
    }
    let hex = std::str::from_utf8(&line[..digits]).unwrap_or("0");
    u64::from_str_radix(hex, 16).map_err(|_| chunk_error("a chunk size does not fit 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn req(method: &str, headers: &[(&str, &str)], body: &'static [u8]) -> http::Request<Bytes> {
        let mut b = http::Request::builder().method(method).uri("/p?q=1");
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(Bytes::from_static(body)).unwrap()
    }

    fn encoded(r: &http::Request<Bytes>) -> String {
        let mut out = Vec::new();
        encode_request(r, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_request_is_written_in_origin_form_with_its_framing() {
        assert_eq!(
            encoded(&req("GET", &[("host", "a")], b"")),
            "GET /p?q=1 HTTP/1.1\r\nhost: a\r\n\r\n"
        );
        assert_eq!(
            encoded(&req("POST", &[("host", "a")], b"hello")),
            "POST /p?q=1 HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"
        );
        // The scenario's own length is kept; its Transfer-Encoding makes the body one chunk.
        assert_eq!(
            encoded(&req("POST", &[("content-length", "5")], b"hello")),
            "POST /p?q=1 HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello"
        );
        assert_eq!(
            encoded(&req("POST", &[("transfer-encoding", "chunked")], b"hello")),
            "POST /p?q=1 HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        // No body, no framing to announce.
        assert_eq!(
            encoded(&req("GET", &[("transfer-encoding", "chunked")], b"")),
            "GET /p?q=1 HTTP/1.1\r\n\r\n"
        );
    }

    #[test]
    fn a_large_body_is_returned_for_a_write_of_its_own() {
        let big = Bytes::from(vec![b'x'; INLINE_BODY + 1]);
        let r = http::Request::post("/").body(big.clone()).unwrap();
        let mut out = Vec::new();
        let e = encode_request(&r, &mut out);
        assert_eq!(e.rest, Some(big));
        assert!(!e.closes);
        assert!(out.ends_with(b"content-length: 16385\r\n\r\n"));
        let r = req("GET", &[("connection", "keep-alive, Close")], b"");
        assert!(encode_request(&r, &mut out).closes);
    }

    fn head(raw: &[u8]) -> Result<Option<Head>, RequestError> {
        parse_head(&mut BytesMut::from(raw), 8192, &mut HeaderMap::new())
    }

    #[test]
    fn a_head_is_parsed_and_interim_responses_skipped() {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: x\r\nA: 1\r\nA: 2\r\n\r\nbody"[..],
        );
        let h = parse_head(&mut buf, 8192, &mut HeaderMap::new())
            .unwrap()
            .unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.headers.get_all("a").iter().count(), 2);
        assert_eq!(&buf[..], b"body");
        assert!(h.keeps_alive());
    }

    #[test]
    fn an_incomplete_head_waits_and_a_bad_or_huge_one_fails() {
        assert!(head(b"HTTP/1.1 200 OK\r\nA: 1\r\n").unwrap().is_none());
        assert_eq!(head(b"HELLO WORLD\r\n\r\n").unwrap_err().code, "parse");
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', 9000));
        assert_eq!(head(&big).unwrap_err().code, "parse");
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        let raw = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert_eq!(head(raw.as_bytes()).unwrap_err().code, "parse");
    }

    #[test]
    fn keep_alive_follows_the_version_and_the_connection_field() {
        let ka = |raw: &[u8]| head(raw).unwrap().unwrap().keeps_alive();
        assert!(!ka(
            b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n\r\n"
        ));
        assert!(!ka(b"HTTP/1.0 200 OK\r\n\r\n"));
        assert!(ka(b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn framing_follows_rfc_9112_section_6_3() {
        let f = |m: Method, raw: &[u8]| framing(m == Method::HEAD, &head(raw).unwrap().unwrap());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
        assert_eq!(f(Method::GET, ok).unwrap(), Framing::Length(5));
        assert_eq!(f(Method::HEAD, ok).unwrap(), Framing::Empty);
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n"
            )
            .unwrap(),
            Framing::Empty
        );
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n"
            )
            .unwrap(),
            Framing::Chunked
        );
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n"
            )
            .unwrap(),
            Framing::ToClose
        );
        assert_eq!(
            f(Method::GET, b"HTTP/1.1 200 OK\r\n\r\n").unwrap(),
            Framing::ToClose
        );
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n"
            )
            .unwrap(),
            Framing::Empty
        );
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n"
            )
            .unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            f(
                Method::GET,
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n"
            )
            .unwrap_err()
            .code,
            "framing:content-length-invalid"
        );
        for bad in [&b"5, 6"[..], b"-1", b"0x5", b""] {
            let raw = [
                &b"HTTP/1.1 200 OK\r\ncontent-length: "[..],
                bad,
                b"\r\n\r\n",
            ]
            .concat();
            assert_eq!(
                f(Method::GET, &raw).unwrap_err().code,
                "framing:content-length-invalid"
            );
        }
    }

    /// Feeds `raw` in pieces of `step` bytes; the body and what is left after it.
    fn dechunk(raw: &[u8], step: usize) -> Result<(Vec<u8>, Vec<u8>), RequestError> {
        let mut d = Dechunker::new(64);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for (i, piece) in raw.chunks(step).enumerate() {
            buf.extend_from_slice(piece);
            let done = d.feed(&mut buf, &mut |b| {
                body.extend_from_slice(b);
                Ok(())
            })?;
            if done {
                // What the decoder left, and what was not fed yet.
                buf.extend_from_slice(&raw[((i + 1) * step).min(raw.len())..]);
                return Ok((body, buf.to_vec()));
            }
        }
        Err(chunk_error("unfinished"))
    }

    #[test]
    fn a_chunked_body_decodes_whatever_the_pieces() {
        let raw = b"5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nx-t: 1\r\n\r\nNEXT";
        for step in 1..raw.len() {
            let (body, rest) = dechunk(raw, step).unwrap();
            assert_eq!(body, b"hello0123456789", "step {step}");
            assert_eq!(rest, b"NEXT", "step {step}");
        }
    }

    #[test]
    fn a_malformed_chunked_body_is_a_framing_error() {
        for bad in [
            &b"zz\r\nhello\r\n0\r\n\r\n"[..],
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"10000000000000005\r\nhello\r\n0\r\n\r\n",
            b"5 x\r\nhello\r\n0\r\n\r\n",
        ] {
            let e = dechunk(bad, bad.len()).unwrap_err();
            assert_eq!(
                e.code,
                "framing:chunked",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // A trailer section past its limit.
        let long = [&b"0\r\nx: "[..], &[b'a'; 100], b"\r\n\r\n"].concat();
        assert_eq!(dechunk(&long, 7).unwrap_err().code, "framing:chunked");
    }
}
