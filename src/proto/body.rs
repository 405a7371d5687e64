//! Reading a response body under a cap. Every body is counted as it streams; one is kept only when
//! an expectation needs it, and then only up to the cap: a body past the cap is an expectation
//! failure of its own, never unbounded memory (a server streaming forever to many requests in
//! flight would otherwise hold the client's memory hostage).

use bytes::{Bytes, BytesMut};

use crate::record::errors::{ErrorClass, RequestError};
pub use crate::scenario::limits::DEFAULT_MAX_BODY;

/// Counts a body's bytes and keeps them, up to a cap, when asked.
#[derive(Debug)]
pub struct BodySink {
    len: u64,
    kept: Option<(BytesMut, usize)>,
}

impl BodySink {
    /// Keeps up to `keep` bytes when it is `Some`, or only counts.
    pub fn new(keep: Option<usize>) -> Self {
        BodySink {
            len: 0,
            kept: keep.map(|cap| (BytesMut::new(), cap)),
        }
    }

    /// Takes the next piece; fails once a kept body passes its cap.
    pub fn push(&mut self, data: &[u8]) -> Result<(), RequestError> {
        self.len += data.len() as u64;
        if let Some((buf, cap)) = self.kept.as_mut() {
            if buf.len() + data.len() > *cap {
                return Err(RequestError::new(
                    ErrorClass::Expectation,
                    "body:over-cap",
                    format!(
                        "the body passed {} bytes, the cap on a body an expectation reads \
                         (max_body); raise it or check a smaller response",
                        cap
                    ),
                ));
            }
            buf.extend_from_slice(data);
        }
        Ok(())
    }

    /// The length, and the body when it was kept.
    pub fn finish(self) -> (u64, Option<Bytes>) {
        (self.len, self.kept.map(|(b, _)| b.freeze()))
    }
}

/// Checks a finished exchange against the message framing rules a strict client enforces
/// (RFC 9110 §8.6, §9.3.2, §15.3.5, §15.4.5; RFC 9113 §8.1.1): no Content-Length on a 1xx or 204,
/// no content on an answer to HEAD or on a 204 or 304, one Content-Length value, and, where it
/// applies, as many bytes as it announced. A breach is a `protocol` error with its own code, as
/// curl or nghttp would reset the stream: a broken answer must never count as a passing one.
pub fn check_framing(
    head: bool,
    status: u16,
    headers: &http::HeaderMap,
    body_len: u64,
) -> Result<(), RequestError> {
    let fail = |code: String, msg: String| Err(RequestError::new(ErrorClass::Protocol, code, msg));
    // Looked up once and walked again as needed: every response is checked, and nearly all
    // carry one value, so nothing is collected on the way to a pass.
    let all = headers.get_all(http::header::CONTENT_LENGTH);
    let lengths = || {
        all.iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .map(|v| v.trim_ascii())
    };
    let no_content = (100..200).contains(&status) || status == 204;
    if no_content && lengths().next().is_some() {
        return fail(
            format!("framing:content-length-on-{status}"),
            format!("a {status} response carries Content-Length, which RFC 9110 §8.6 forbids"),
        );
    }
    let bodiless = head || no_content || status == 304;
    if bodiless && body_len > 0 {
        let what = if head {
            "head".to_string()
        } else {
            status.to_string()
        };
        return fail(
            format!("framing:body-on-{what}"),
            format!(
                "{body_len} byte(s) of content on a response that has none by definition ({})",
                if head {
                    "an answer to HEAD".to_string()
                } else {
                    format!("a {status}")
                }
            ),
        );
    }
    let Some(first) = lengths().next() else {
        return Ok(());
    };
    let declared = std::str::from_utf8(first)
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok());
    let Some(declared) = declared.filter(|_| lengths().all(|v| v == first)) else {
        return fail(
            "framing:content-length-invalid".into(),
            format!(
                "Content-Length `{}` is not one decimal number",
                lengths()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    // An answer to HEAD and a 304 announce the length a GET would get, with no content.
    if !bodiless && declared != body_len {
        return fail(
            "framing:length-mismatch".into(),
            format!("Content-Length announced {declared} byte(s), {body_len} arrived"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_breaches_are_protocol_errors_with_their_own_code() {
        let h = |pairs: &[(&str, &str)]| {
            let mut m = http::HeaderMap::new();
            for (n, v) in pairs {
                m.append(
                    http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    http::HeaderValue::from_str(v).unwrap(),
                );
            }
            m
        };
        let code = |r: Result<(), RequestError>| r.err().map(|e| (e.class, e.code));
        let cl = h(&[("content-length", "11")]);
        assert_eq!(code(check_framing(false, 200, &cl, 11)), None);
        assert_eq!(code(check_framing(true, 200, &cl, 0)), None);
        assert_eq!(code(check_framing(false, 304, &cl, 0)), None);
        assert_eq!(
            code(check_framing(false, 204, &cl, 0)),
            Some((ErrorClass::Protocol, "framing:content-length-on-204".into()))
        );
        assert_eq!(
            code(check_framing(true, 200, &cl, 11)),
            Some((ErrorClass::Protocol, "framing:body-on-head".into()))
        );
        assert_eq!(
            code(check_framing(false, 304, &h(&[]), 3)),
            Some((ErrorClass::Protocol, "framing:body-on-304".into()))
        );
        assert_eq!(
            code(check_framing(false, 200, &cl, 12)),
            Some((ErrorClass::Protocol, "framing:length-mismatch".into()))
        );
        assert_eq!(
            code(check_framing(
                false,
                200,
                &h(&[("content-length", "5, 6")]),
                5
            )),
            Some((
                ErrorClass::Protocol,
                "framing:content-length-invalid".into()
            ))
        );
        assert_eq!(
            code(check_framing(
                false,
                200,
                &h(&[("content-length", "5, 5")]),
                5
            )),
            None
        );
    }

    #[test]
    fn counts_without_keeping_and_fails_past_the_cap_when_keeping() {
        let mut count_only = BodySink::new(None);
        for _ in 0..10 {
            count_only.push(&[0; 1000]).unwrap();
        }
        assert_eq!(count_only.finish(), (10_000, None));

        let mut kept = BodySink::new(Some(2500));
        kept.push(&[1; 1000]).unwrap();
        kept.push(&[2; 1500]).unwrap();
        let e = kept.push(&[3; 1]).unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Expectation, "body:over-cap")
        );

        let mut exact = BodySink::new(Some(3));
        exact.push(b"abc").unwrap();
        assert_eq!(exact.finish(), (3, Some(Bytes::from_static(b"abc"))));
    }
}
