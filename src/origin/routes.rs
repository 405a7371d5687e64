//! The embedded origin's endpoints. Bodies are deterministic (a fixed byte pattern), so a test can
//! predict every byte it will receive.
//!
//! - `/` a small HTML page
//! - `/bytes/{n}` n bytes with a Content-Length
//! - `/chunked/{n}` n bytes streamed without a Content-Length (chunked on HTTP/1.1)
//! - `/delay/{ms}` answers after ms milliseconds
//! - `/status/{code}` answers with that status
//! - `/echo` the request back as JSON (method, authority, path, query, version, headers, body)
//! - `/headers/{n}` n extra response headers
//! - `/trailers/{n}` n bytes streamed, then a trailer `x-gauntlet-trailer: done`
//! - `/probe/...` and `/smuggled/...` 200 (the paths conformance probes use)
//! - `/pause/{ms}` stalls every other request of the origin for ms milliseconds (a GC-like pause)
//! - `/login` reads `{"user": NAME}` and answers `{"token": "tok-NAME"}` with a `sid` cookie
//! - `/account` answers `{"user": NAME, "query": …}` to `Authorization: Bearer tok-NAME`, 401
//!   to anything else (a flow that did not carry its captured token fails)
//!
//! Any request carrying `x-gauntlet-extra-delay-ms: N` is answered N ms later: a regression a
//! test can inject on one path only, through that path's target headers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Body, Frame};

/// The response body type of every endpoint.
pub type OriginBody = BoxBody<Bytes, Infallible>;

/// Largest body `/bytes` and `/chunked` will send.
pub const MAX_BODY: u64 = 256 << 20;
/// Longest `/delay` and `/pause`.
pub const MAX_DELAY_MS: u64 = 60_000;
/// Most headers `/headers` will add.
pub const MAX_HEADERS: usize = 10_000;
/// Largest request body `/echo` reads.
pub const MAX_ECHO_BODY: usize = 1 << 20;

const PATTERN_LEN: usize = 64 * 1024;

/// The byte at offset `i` of every generated body.
pub fn pattern_byte(i: u64) -> u8 {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    ALPHABET[(i % 36) as usize]
}

fn pattern() -> &'static Bytes {
    static P: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    // A multiple of 36 long, so slices of it continue the pattern seamlessly.
    P.get_or_init(|| {
        Bytes::from(
            (0..(PATTERN_LEN / 36 * 36) as u64)
                .map(pattern_byte)
                .collect::<Vec<u8>>(),
        )
    })
}

/// `n` pattern bytes as frames of at most `chunk` bytes, without copying.
fn pattern_frames(n: u64, chunk: usize) -> impl Iterator<Item = Result<Frame<Bytes>, Infallible>> {
    let p = pattern();
    // Whole periods of the pattern, so each frame continues where the last one ended.
    let step = ((chunk.min(p.len()) / 36) * 36).max(36) as u64;
    (0..n.div_ceil(step.max(1))).map(move |k| {
        let len = (n - k * step).min(step) as usize;
        Ok(Frame::data(p.slice(..len)))
    })
}

/// Shared state of one origin: the pause deadline.
#[derive(Debug)]
pub struct OriginState {
    /// Every request the endpoints were handed (what got past the protocol stack), when the
    /// origin was started to record; load runs do not pay for it.
    pub recorder: Option<super::recording::Recorder>,
    base: Instant,
    paused_until_us: std::sync::atomic::AtomicU64,
}

impl Default for OriginState {
    fn default() -> Self {
        OriginState {
            recorder: None,
            base: Instant::now(),
            paused_until_us: Default::default(),
        }
    }
}

impl OriginState {
    async fn wait_if_paused(&self) {
        let until = self.base
            + Duration::from_micros(
                self.paused_until_us
                    .load(std::sync::atomic::Ordering::Acquire),
            );
        if until > Instant::now() {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    fn pause(&self, d: Duration) {
        let until = (Instant::now() + d).duration_since(self.base).as_micros() as u64;
        self.paused_until_us
            .fetch_max(until, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Whether a response with `status` has no content by definition (RFC 9110 §15.3.5, §15.4.5):
/// it carries neither a body nor a Content-Length, on every protocol.
pub fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

fn full(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Response<OriginBody> {
    if bodiless(status) {
        let mut r = Response::new(Empty::new().boxed());
        *r.status_mut() = status;
        return r;
    }
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<OriginBody> {
    full(status, "text/plain; charset=utf-8", body.into())
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.parse().ok()
}

fn escape_json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

async fn echo<B>(req: Request<B>) -> Response<OriginBody>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_ECHO_BODY);
    let bytes = match limited.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("cannot read the body: {e}\n"),
            )
        }
    };
    // A map, so a field keeps its JSON path whatever the header order (the differential compares
    // bodies field by field); repeated headers are joined as HTTP would fold them.
    let mut headers: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (k, v) in &parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        headers
            .entry(k.to_string())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v)
            })
            .or_insert(v);
    }
    let v = serde_json::json!({
        "method": parts.method.as_str(),
        // HTTP/1.1 carries it in Host, HTTP/2 and HTTP/3 in :authority.
        "authority": parts.uri.authority().map(|a| a.to_string()).or_else(|| parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string)),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
        "body_len": bytes.len(),
    });
    full(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&v).unwrap_or_default(),
    )
}

/// A session's start: the token is the user's name, so `/account` can check it without state.
async fn login<B>(req: Request<B>) -> Response<OriginBody>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let body = http_body_util::Limited::new(req.into_body(), MAX_ECHO_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes());
    let user = body
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("user")?.as_str().map(str::to_string))
        .filter(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric()));
    let Some(user) = user else {
        return text(
            StatusCode::BAD_REQUEST,
            "/login takes {\"user\": NAME}, NAME letters and digits\n",
        );
    };
    let v = serde_json::json!({ "token": format!("tok-{user}") });
    let mut r = full(
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&v).unwrap_or_default(),
    );
    if let Ok(c) = HeaderValue::from_str(&format!("sid=s-{user}; Path=/; HttpOnly")) {
        r.headers_mut().insert(http::header::SET_COOKIE, c);
    }
    r
}

/// A page behind `/login`'s token.
fn account<B>(req: &Request<B>) -> Response<OriginBody> {
    let user = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok()?.strip_prefix("Bearer tok-"))
        .filter(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric()));
    match user {
        Some(user) => {
            let v = serde_json::json!({ "user": user, "query": req.uri().query() });
            full(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&v).unwrap_or_default(),
            )
        }
        None => text(
            StatusCode::UNAUTHORIZED,
            "/account needs `Authorization: Bearer` and a token from /login\n",
        ),
    }
}

/// What makes a request malformed that the protocol stacks let through: a field value with
/// leading or trailing whitespace (RFC 9113 §8.2.1, RFC 9114 §4.2), or a Host that contradicts
/// :authority (RFC 9113 §8.3.1).
fn malformed<B>(req: &Request<B>) -> Option<&'static str> {
    // RFC 9113 §8.5, RFC 9114 §4.4: a CONNECT names its authority; the h2 crate lets one through
    // without it.
    if req.method() == http::Method::CONNECT && req.uri().authority().is_none() {
        return Some("CONNECT without an authority\n");
    }
    let padded = req.headers().values().any(|v| {
        let b = v.as_bytes();
        matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t'))
    });
    if padded {
        return Some("a field value starts or ends with whitespace\n");
    }
    // Connection-specific fields are malformed in HTTP/2 and HTTP/3 (RFC 9113 §8.2.2, RFC 9114
    // §4.2); the h3 crate lets them through.
    if req.version() >= http::Version::HTTP_2 {
        let hop = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ];
        let te_ok = req
            .headers()
            .get_all(http::header::TE)
            .iter()
            .all(|v| v == "trailers");
        if !te_ok || hop.iter().any(|h| req.headers().contains_key(*h)) {
            return Some("a connection-specific field in HTTP/2 or HTTP/3\n");
        }
    }
    let host = req.headers().get(http::header::HOST).map(|h| h.as_bytes());
    match (req.uri().authority(), host) {
        (Some(a), Some(h))
            if req.version() >= http::Version::HTTP_2 && a.as_str().as_bytes() != h =>
        {
            Some("Host contradicts :authority\n")
        }
        _ => None,
    }
}

/// The answer to a probe's own path: 200 once the body has arrived whole, 400 when it does not
/// match its Content-Length (HTTP/3's stack does not check), after [`super::raw::SLOW`] for
/// `/slow` (which keeps a stream open).
async fn probe_answer<B>(req: Request<B>, slow: bool) -> Response<OriginBody>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let body = http_body_util::Limited::new(req.into_body(), MAX_ECHO_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes().len());
    match (declared, body) {
        (_, Err(_)) => return text(StatusCode::BAD_REQUEST, "unreadable body\n"),
        (Some(d), Ok(n)) if d != n => {
            return text(
                StatusCode::BAD_REQUEST,
                "body length differs from Content-Length\n",
            )
        }
        _ => {}
    }
    if slow {
        tokio::time::sleep(super::raw::SLOW).await;
    }
    text(StatusCode::OK, "ok\n")
}

/// Answers one request, by the rules of the method (no content for HEAD) on every protocol.
pub async fn handle<B>(
    state: Arc<OriginState>,
    req: Request<B>,
) -> Result<Response<OriginBody>, Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let head = req.method() == http::Method::HEAD;
    let Ok(resp) = route(state, req).await;
    if !head {
        return Ok(resp);
    }
    // An answer to HEAD announces what a GET would get and carries no content (RFC 9110
    // §9.3.2). hyper strips it on HTTP/1.1 only; HTTP/2 and HTTP/3 need it done here.
    let (mut parts, body) = resp.into_parts();
    if let Some(n) = body.size_hint().exact().filter(|_| !bodiless(parts.status)) {
        parts
            .headers
            .entry(http::header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(n));
    }
    Ok(Response::from_parts(parts, Empty::new().boxed()))
}

async fn route<B>(
    state: Arc<OriginState>,
    req: Request<B>,
) -> Result<Response<OriginBody>, Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // An HTTP/1.1 request needs exactly one Host (RFC 9112 §3.2); hyper leaves that to us.
    if req.version() == http::Version::HTTP_11
        && req.headers().get_all(http::header::HOST).iter().count() != 1
    {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            "exactly one Host field is required\n",
        ));
    }
    if let Some(why) = malformed(&req) {
        return Ok(text(StatusCode::BAD_REQUEST, why));
    }
    if let Some(rec) = &state.recorder {
        rec.push(super::recording::Received {
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            version: format!("{:?}", req.version()),
            headers: req
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            ..Default::default()
        });
    }
    let path = req.uri().path().to_string();
    let mut seg = path.trim_start_matches('/').splitn(2, '/');
    let head = seg.next().unwrap_or("");
    let arg = seg.next().unwrap_or("");
    if head != "pause" {
        state.wait_if_paused().await;
    }
    let extra = req
        .headers()
        .get("x-gauntlet-extra-delay-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Zero means no delay at all: even a zero sleep waits for tokio's next timer tick.
    if let Some(ms) = extra.filter(|ms| *ms > 0) {
        super::delay::sleep(Duration::from_millis(ms.min(MAX_DELAY_MS))).await;
    }
    let resp = match (head, arg) {
        ("", "") => full(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<!doctype html><title>gauntlet origin</title><p>hello from the gauntlet origin</p>\n",
        ),
        ("bytes", n) => match number::<u64>(n).filter(|n| *n <= MAX_BODY) {
            Some(n) => {
                let mut r = Response::new(
                    StreamBody::new(futures_util::stream::iter(pattern_frames(n, PATTERN_LEN)))
                        .boxed(),
                );
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                r.headers_mut()
                    .insert(http::header::CONTENT_LENGTH, HeaderValue::from(n));
                r
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/bytes/{{n}} takes 0..={MAX_BODY}\n"),
            ),
        },
        ("chunked", n) => match number::<u64>(n).filter(|n| *n <= MAX_BODY) {
            Some(n) => {
                let mut r = Response::new(
                    StreamBody::new(futures_util::stream::iter(pattern_frames(n, 1024))).boxed(),
                );
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                r
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/chunked/{{n}} takes 0..={MAX_BODY}\n"),
            ),
        },
        ("trailers", n) => match number::<u64>(n).filter(|n| *n <= MAX_BODY) {
            Some(n) => {
                let mut trailers = http::HeaderMap::new();
                trailers.insert("x-gauntlet-trailer", HeaderValue::from_static("done"));
                let frames =
                    pattern_frames(n, 1024).chain(std::iter::once(Ok(Frame::trailers(trailers))));
                let mut r =
                    Response::new(StreamBody::new(futures_util::stream::iter(frames)).boxed());
                r.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                r.headers_mut().insert(
                    http::header::TRAILER,
                    HeaderValue::from_static("x-gauntlet-trailer"),
                );
                r
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/trailers/{{n}} takes 0..={MAX_BODY}\n"),
            ),
        },
        ("delay", ms) => match number::<u64>(ms).filter(|m| *m <= MAX_DELAY_MS) {
            Some(ms) => {
                super::delay::sleep(Duration::from_millis(ms)).await;
                text(StatusCode::OK, format!("delayed {ms} ms\n"))
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/delay/{{ms}} takes 0..={MAX_DELAY_MS}\n"),
            ),
        },
        // Conformance probes' own paths: the request got through, nothing more to say.
        ("probe" | "smuggled", rest) => {
            let slow = rest.ends_with("/slow");
            probe_answer(req, slow).await
        }
        ("pause", ms) => match number::<u64>(ms).filter(|m| *m <= MAX_DELAY_MS) {
            Some(ms) => {
                state.pause(Duration::from_millis(ms));
                text(StatusCode::OK, format!("paused for {ms} ms\n"))
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/pause/{{ms}} takes 0..={MAX_DELAY_MS}\n"),
            ),
        },
        ("status", code) => match number::<u16>(code)
            .and_then(|c| StatusCode::from_u16(c).ok())
            .filter(|c| c.as_u16() >= 200)
        {
            Some(st) => text(st, format!("status {}\n", st.as_u16())),
            None => text(StatusCode::BAD_REQUEST, "/status/{code} takes 200..=599\n"),
        },
        ("headers", n) => match number::<usize>(n).filter(|n| *n <= MAX_HEADERS) {
            Some(n) => {
                let mut r = text(StatusCode::OK, format!("{n} headers\n"));
                for i in 0..n {
                    if let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(format!("x-gauntlet-{i}").as_bytes()),
                        HeaderValue::from_str(&format!("value-{i}")),
                    ) {
                        r.headers_mut().insert(k, v);
                    }
                }
                r
            }
            None => text(
                StatusCode::BAD_REQUEST,
                format!("/headers/{{n}} takes 0..={MAX_HEADERS}\n"),
            ),
        },
        ("echo", "") => echo(req).await,
        ("login", "") => login(req).await,
        ("account", "") => account(&req),
        _ => text(
            StatusCode::NOT_FOUND,
            format!("no endpoint {}\n", escape_json(&path)),
        ),
    };
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_continue_the_pattern() {
        let frames: Vec<Bytes> = pattern_frames(70_000, 1024)
            .map(|f| f.unwrap().into_data().unwrap())
            .collect();
        let all: Vec<u8> = frames.concat();
        assert_eq!(all.len(), 70_000);
        assert!(all
            .iter()
            .enumerate()
            .all(|(i, b)| *b == pattern_byte(i as u64)));
    }
}
