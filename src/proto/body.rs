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

#[cfg(test)]
mod tests {
    use super::*;

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
