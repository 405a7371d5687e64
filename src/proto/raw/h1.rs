//! HTTP/1.1 written verbatim: a probe's bytes go out exactly as built (in steps, so a body can
//! follow the first answer), and whatever comes back is split into responses by a lenient
//! parser that tells a probe what a client would have seen.

use std::time::{Duration, Instant};

use super::h1_parse::{dechunk, field_values, parse_head};
use super::{read_until, write, End, RawTarget};
use crate::record::errors::RequestError;

/// One step of a probe's conversation.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read until this many responses (1xx included) have arrived, or the wait is over.
    Await(usize, Duration),
}

/// One response as the client saw it.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Status code (0 when the status line was unreadable).
    pub status: u16,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
    /// Trailer fields of a chunked body.
    pub trailers: Vec<(String, Vec<u8>)>,
    /// Whether the body arrived whole.
    pub complete: bool,
}

impl Response {
    /// Every value of `name` (case-insensitive).
    pub fn values(&self, name: &str) -> Vec<&[u8]> {
        field_values(&self.headers, name)
    }

    /// Whether any field is named `name` (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        !self.values(name).is_empty()
    }
}

/// What came back on the connection.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Responses in order.
    pub responses: Vec<Response>,
    /// How the connection ended.
    pub end: End,
    /// Every byte received.
    pub received: Vec<u8>,
}

impl Reply {
    /// Final (non-1xx) statuses in order.
    pub fn statuses(&self) -> Vec<u16> {
        self.responses
            .iter()
            .filter(|r| r.status >= 200 || r.status == 0)
            .map(|r| r.status)
            .collect()
    }

    /// A compact description: `400 close`, `200 200 open`, `none reset`.
    pub fn signature(&self) -> String {
        let st = self.statuses();
        let head = if st.is_empty() {
            "none".to_string()
        } else {
            st.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!("{head} {}", self.end.as_str())
    }
}

/// Splits `buf` into responses; `head_of(i)` says whether the i-th final response answers a HEAD
/// (and so has no body whatever its fields say). A body still arriving ends the list.
pub fn parse_responses(buf: &[u8], closed: bool, head_of: impl Fn(usize) -> bool) -> Vec<Response> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut finals = 0;
    while at < buf.len() {
        let Some(h) = parse_head(&buf[at..]) else {
            break;
        };
        let status = h.target.parse::<u16>().unwrap_or(0);
        let mut r = Response {
            status,
            headers: h.headers,
            ..Default::default()
        };
        at += h.len;
        let bodiless = (100..200).contains(&status)
            || status == 204
            || status == 304
            || (status >= 200 && head_of(finals));
        if status >= 200 || status == 0 {
            finals += 1;
        }
        if bodiless {
            r.complete = true;
            out.push(r);
            continue;
        }
        let te = r.values("transfer-encoding").iter().any(|v| {
            String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("chunked")
        });
        let cl = r
            .values("content-length")
            .first()
            .and_then(|v| String::from_utf8_lossy(v).trim().parse::<usize>().ok());
        if te {
            match dechunk(&buf[at..]) {
                Some(Ok((body, used))) => {
                    r.trailers = parse_head(
                        &[b"X 0 X\r\n".as_slice(), trailer_block(&buf[at..at + used])].concat(),
                    )
                    .map(|t| t.headers)
                    .unwrap_or_default();
                    r.body = body;
                    r.complete = true;
                    at += used;
                }
                _ => {
                    r.body = buf[at..].to_vec();
                    at = buf.len();
                }
            }
        } else if let Some(n) = cl {
            let take = n.min(buf.len() - at);
            r.body = buf[at..at + take].to_vec();
            r.complete = take == n;
            at += take;
        } else {
            r.body = buf[at..].to_vec();
            r.complete = closed;
            at = buf.len();
        }
        let done = r.complete;
        out.push(r);
        if !done {
            break;
        }
    }
    out
}

/// The trailer lines of a whole chunked body (after the last chunk), blank line included.
fn trailer_block(chunked: &[u8]) -> &[u8] {
    let zero = chunked
        .windows(3)
        .rposition(|w| w == b"0\r\n")
        .map(|p| p + 3)
        .unwrap_or(chunked.len());
    &chunked[zero..]
}

/// Opens a connection, plays `steps`, then reads until the peer closes or `want` responses have
/// arrived and nothing more comes for a moment. `heads[i]` marks the i-th request as a HEAD.
pub async fn exchange(
    target: &RawTarget,
    steps: &[Step],
    want: usize,
    heads: &[bool],
) -> Result<Reply, RequestError> {
    let mut s = target.open(b"http/1.1").await?;
    let mut buf = Vec::new();
    let head_of = |i: usize| heads.get(i).copied().unwrap_or(false);
    let count = |b: &[u8]| {
        parse_responses(b, false, head_of)
            .iter()
            .filter(|r| r.complete)
            .count()
    };
    let mut end = End::Open;
    for step in steps {
        match step {
            Step::Send(bytes) => {
                if !write(&mut s, bytes).await {
                    break;
                }
            }
            Step::Await(n, wait) => {
                let deadline = Instant::now() + *wait;
                end = read_until(&mut s, &mut buf, deadline, |b| {
                    (count(b) >= *n).then_some(Duration::ZERO)
                })
                .await;
                if end != End::Open {
                    break;
                }
            }
        }
    }
    if end == End::Open {
        let deadline = Instant::now() + target.timeout;
        // Once `want` responses are in, listen a moment longer for anything that should not
        // come; with fewer, a pipelined answer would follow its predecessor within milliseconds,
        // so a second of silence settles it without waiting out the deadline.
        end = read_until(&mut s, &mut buf, deadline, |b| match count(b) {
            n if n >= want => Some(QUIET),
            0 => None,
            _ => Some(PATIENCE),
        })
        .await;
    }
    Ok(Reply {
        responses: parse_responses(&buf, end != End::Open, head_of),
        end,
        received: buf,
    })
}

/// How long to keep listening after the expected responses, for anything that should not come.
pub const QUIET: Duration = Duration::from_millis(300);
/// How long a silence after some, but not all, of the responses a probe allows for ends a read.
pub const PATIENCE: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_split_by_length_chunks_and_head() {
        let buf = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-t: 1\r\n\r\n";
        let r = parse_responses(buf, false, |i| i == 1);
        assert_eq!(r.len(), 4);
        assert_eq!(r[1].body, b"ok");
        assert!(r[2].body.is_empty() && r[2].complete);
        assert_eq!(r[3].body, b"hi");
        assert_eq!(r[3].trailers, vec![("x-t".to_string(), b"1".to_vec())]);
    }
}
