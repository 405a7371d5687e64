//! Per-request expectations: status, headers (glob or `/regex/`), body (contains, regex).
//!
//! An expectation is compiled once when the scenario is loaded and checked against every response,
//! so the hot path does no parsing. A failed check names the error class it belongs to: a status
//! that is not accepted is `status`, anything else is `expectation`.

use globset::{Glob, GlobMatcher};
use http::HeaderName;
use regex::bytes::Regex;

use super::model::StatusItem;
use crate::model::ErrorClass;

/// How a header value is matched.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A shell-style glob over the whole value (`text/html*`).
    Glob(GlobMatcher),
    /// A regular expression, written `/…/`, searched anywhere in the value.
    Regex(Regex),
}

impl Matcher {
    /// Compiles `/regex/` or a glob.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        if text.len() >= 2 && text.starts_with('/') && text.ends_with('/') {
            Regex::new(&text[1..text.len() - 1])
                .map(Matcher::Regex)
                .map_err(|e| {
                    format!(
                        "invalid regular expression: {}",
                        crate::scenario::validate::last_line(&e.to_string())
                    )
                })
        } else {
            Glob::new(text)
                .map(|g| Matcher::Glob(g.compile_matcher()))
                .map_err(|e| format!("invalid glob: {e}"))
        }
    }

    fn is_match(&self, value: &[u8]) -> bool {
        match self {
            Matcher::Glob(g) => std::str::from_utf8(value).is_ok_and(|v| g.is_match(v)),
            Matcher::Regex(r) => r.is_match(value),
        }
    }
}

/// Everything a response to one request must satisfy.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Accepted statuses; empty means 2xx or 3xx.
    pub status: Vec<StatusItem>,
    /// Required headers and how their value must look.
    pub headers: Vec<(HeaderName, Matcher)>,
    /// Text the body must contain.
    pub body_contains: Option<Vec<u8>>,
    /// A pattern the body must match.
    pub body_regex: Option<Regex>,
}

/// A check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `status` or `expectation`.
    pub class: ErrorClass,
    /// A short stable code for counting (`status:503`, `header:content-type`, `body:contains`).
    pub code: String,
    /// A sentence for the report.
    pub message: String,
}

/// What the engine saw of one response; what expectations are checked against.
pub struct Observed<'a> {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: &'a http::HeaderMap,
    /// The body, when the expectations need it.
    pub body: &'a [u8],
}

impl Expect {
    /// Whether checking needs the body kept in memory.
    pub fn needs_body(&self) -> bool {
        self.body_contains.is_some() || self.body_regex.is_some()
    }

    fn status_ok(&self, status: u16) -> bool {
        if self.status.is_empty() {
            return (200..400).contains(&status);
        }
        self.status.iter().any(|s| match *s {
            StatusItem::Code(c) => c == status,
            StatusItem::Class(k) => status / 100 == u16::from(k),
            StatusItem::Invalid => false,
        })
    }

    /// Checks a response; the first failed check is returned.
    pub fn check(&self, r: &Observed<'_>) -> Result<(), Failure> {
        if !self.status_ok(r.status) {
            return Err(Failure {
                class: ErrorClass::Status,
                code: r.status.to_string(),
                message: format!(
                    "status {} is not one of {}",
                    r.status,
                    self.describe_status()
                ),
            });
        }
        for (name, m) in &self.headers {
            let values: Vec<&[u8]> = r
                .headers
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            if values.is_empty() {
                return Err(Failure {
                    class: ErrorClass::Expectation,
                    code: format!("header:{name}"),
                    message: format!("header `{name}` is missing"),
                });
            }
            if !values.iter().any(|v| m.is_match(v)) {
                return Err(Failure {
                    class: ErrorClass::Expectation,
                    code: format!("header:{name}"),
                    message: format!(
                        "header `{name}: {}` does not match",
                        String::from_utf8_lossy(values[0])
                    ),
                });
            }
        }
        if let Some(needle) = &self.body_contains {
            let found =
                needle.is_empty() || r.body.windows(needle.len()).any(|w| w == needle.as_slice());
            if !found {
                return Err(Failure {
                    class: ErrorClass::Expectation,
                    code: "body:contains".into(),
                    message: format!(
                        "body does not contain `{}`",
                        String::from_utf8_lossy(needle)
                    ),
                });
            }
        }
        if let Some(re) = &self.body_regex {
            if !re.is_match(r.body) {
                return Err(Failure {
                    class: ErrorClass::Expectation,
                    code: "body:regex".into(),
                    message: format!("body does not match /{}/", re.as_str()),
                });
            }
        }
        Ok(())
    }

    fn describe_status(&self) -> String {
        if self.status.is_empty() {
            return "2xx, 3xx".into();
        }
        let parts: Vec<String> = self
            .status
            .iter()
            .map(|s| match s {
                StatusItem::Code(c) => c.to_string(),
                StatusItem::Class(k) => format!("{k}xx"),
                StatusItem::Invalid => "?".into(),
            })
            .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed<'a>(status: u16, headers: &'a http::HeaderMap, body: &'a [u8]) -> Observed<'a> {
        Observed {
            status,
            headers,
            body,
        }
    }

    #[test]
    fn status_defaults_to_success_and_redirects() {
        let e = Expect::default();
        let h = http::HeaderMap::new();
        assert!(e.check(&observed(204, &h, b"")).is_ok());
        assert!(e.check(&observed(302, &h, b"")).is_ok());
        let f = e.check(&observed(503, &h, b"")).unwrap_err();
        assert_eq!(f.class, ErrorClass::Status);
        assert_eq!(f.code, "503");
    }

    #[test]
    fn header_glob_and_regex_and_body() {
        let mut h = http::HeaderMap::new();
        h.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        let mut e = Expect {
            status: vec![StatusItem::Class(2)],
            headers: vec![(
                HeaderName::from_static("content-type"),
                Matcher::parse("text/html*").unwrap(),
            )],
            body_contains: Some(b"hello".to_vec()),
            body_regex: Some(Regex::new("h.l+o").unwrap()),
        };
        assert!(e.check(&observed(200, &h, b"say hello")).is_ok());
        assert_eq!(
            e.check(&observed(200, &h, b"bye")).unwrap_err().code,
            "body:contains"
        );
        e.headers[0].1 = Matcher::parse("/^application/").unwrap();
        let f = e.check(&observed(200, &h, b"hello")).unwrap_err();
        assert_eq!(f.class, ErrorClass::Expectation);
        assert_eq!(f.code, "header:content-type");
    }
}
