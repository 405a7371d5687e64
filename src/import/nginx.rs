//! nginx access logs: `combined`, a custom `log_format` string, or `json` (one object per line).
//!
//! A `log_format` is compiled into one anchored regular expression, each `$variable` a capture
//! that stops at the literal character following it (nginx escapes `"` inside values as `\x22`,
//! so a quoted field cannot end early). `combined` is nginx's own
//! `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
//! "$http_user_agent"`, compiled the same way.
//!
//! From the fields of a line (a capture by variable name, or a JSON member by key, with or
//! without the `$`): the request from `request` (`GET /p HTTP/1.1`) or from `request_method` (or
//! `method`) with `request_uri` (or `uri`, `path`, plus `args`/`query_string`); the time from
//! `time_local`, `time_iso8601`, `msec`, `time` or `timestamp`; the status from `status`;
//! request headers from `http_NAME` (`http_user_agent` → `user-agent`), `-` meaning absent.

use std::collections::HashMap;

use regex::Regex;

use super::{clock, Record};

/// nginx's predefined `combined` format.
pub const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// A log format ready to parse lines.
#[derive(Debug)]
pub enum Format {
    /// A `log_format` string, compiled.
    Pattern {
        /// The anchored expression.
        re: Regex,
        /// Capture `i + 1` holds `names[i]`.
        names: Vec<String>,
    },
    /// One JSON object per line.
    Json,
}

impl Format {
    /// `combined`, `json`, or a `log_format` string with at least one `$variable`.
    pub fn parse(spec: &str) -> Result<Format, String> {
        match spec {
            "json" => Ok(Format::Json),
            "combined" => compile(COMBINED),
            custom => compile(custom),
        }
    }

    /// The fields of one line, or why it is not a line of this format.
    pub fn record(&self, line: &str) -> Result<Record, &'static str> {
        match self {
            Format::Pattern { re, names } => {
                let c = re.captures(line).ok_or("not in the log format")?;
                let get = |k: &str| {
                    names
                        .iter()
                        .position(|n| n == k)
                        .and_then(|i| c.get(i + 1))
                        .map(|m| m.as_str())
                };
                let headers = names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| Some((n.as_str(), c.get(i + 1)?.as_str())));
                record(&get, headers)
            }
            Format::Json => {
                let v: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(line).map_err(|_| "not a JSON object")?;
                let fields: HashMap<&str, String> = v
                    .iter()
                    .map(|(k, x)| {
                        let text = match x {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.trim_start_matches('$'), text)
                    })
                    .collect();
                let get = |k: &str| fields.get(k).map(String::as_str);
                record(&get, fields.iter().map(|(k, v)| (*k, v.as_str())))
            }
        }
    }
}

/// A `log_format` string as a regular expression.
fn compile(spec: &str) -> Result<Format, String> {
    let var = Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").expect("a valid pattern");
    let mut pattern = String::from("^");
    let mut names = Vec::new();
    let mut at = 0;
    let vars: Vec<_> = var.captures_iter(spec).collect();
    for c in &vars {
        let m = c.get(0).expect("the whole match");
        pattern.push_str(&regex::escape(&spec[at..m.start()]));
        let stop = spec[m.end()..].chars().next();
        match stop {
            // The field ends where the next literal begins.
            Some(ch) if ch != '$' => {
                pattern.push_str(&format!("([^{}]*)", regex::escape(&ch.to_string())));
            }
            Some(_) => pattern.push_str("(.*?)"),
            None => pattern.push_str("(.*)"),
        }
        names.push(c[1].to_string());
        at = m.end();
    }
    pattern.push_str(&regex::escape(&spec[at..]));
    pattern.push('$');
    if names.is_empty() {
        return Err(format!(
            "`{spec}` is not `combined`, `json` or a log_format with $variables"
        ));
    }
    let has_request = names.iter().any(|n| n == "request")
        || (names.iter().any(|n| n == "request_method")
            && names.iter().any(|n| n == "request_uri" || n == "uri"));
    if !has_request {
        return Err(format!(
            "the log_format `{spec}` has no `$request` (nor `$request_method` with \
             `$request_uri`), so it does not say what was asked"
        ));
    }
    let re = Regex::new(&pattern).map_err(|e| format!("the log_format `{spec}`: {e}"))?;
    Ok(Format::Pattern { re, names })
}

/// Whether `m` looks like an HTTP method (a token of capital letters).
fn is_method(m: &str) -> bool {
    !m.is_empty() && m.len() <= 20 && m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
}

/// `target` as an origin-form path: an absolute URL loses its scheme and host.
fn origin_form(target: &str) -> Option<String> {
    if target.starts_with('/') {
        return Some(target.to_string());
    }
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))?;
    Some(match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    })
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|v| !v.is_empty() && *v != "-")
}

/// A record from fields looked up by variable name.
fn record<'a>(
    get: &dyn Fn(&str) -> Option<&'a str>,
    all: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Record, &'static str> {
    let (method, target) = match present(get("request")) {
        Some(req) => {
            let mut parts = req.split(' ');
            let method = parts.next().unwrap_or_default();
            let target = parts.next().ok_or("the request line has no target")?;
            (method.to_string(), target.to_string())
        }
        None => {
            let method =
                present(get("request_method").or_else(|| get("method"))).ok_or("no request")?;
            let mut target = present(
                get("request_uri")
                    .or_else(|| get("uri"))
                    .or_else(|| get("path")),
            )
            .ok_or("no request")?
            .to_string();
            if let Some(args) = present(get("args").or_else(|| get("query_string"))) {
                if !target.contains('?') {
                    target = format!("{target}?{args}");
                }
            }
            (method.to_string(), target)
        }
    };
    if !is_method(&method) {
        return Err("the request line is not a request");
    }
    let target = origin_form(&target).ok_or("the request target is not a path")?;
    let at = match ["time_local", "time_iso8601", "msec", "time", "timestamp"]
        .iter()
        .find_map(|k| present(get(k)))
    {
        Some(t) => Some(clock::any(t).ok_or("the time is not a time")?),
        None => None,
    };
    let status = present(get("status")).and_then(|s| s.parse().ok());
    let headers = all
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("http_")?;
            Some((name.replace('_', "-"), present(Some(v))?.to_string()))
        })
        .collect();
    Ok(Record {
        at,
        method,
        target,
        headers,
        body: None,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_lines() {
        let f = Format::parse("combined").unwrap();
        let r = f
            .record(r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a/1?x=2 HTTP/1.1" 404 12 "-" "curl/8.0 \x22q\x22""#)
            .unwrap();
        assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/a/1?x=2"));
        assert_eq!(r.at, Some(971_211_336.0));
        assert_eq!(r.status, Some(404));
        assert_eq!(
            r.headers,
            [(
                "user-agent".to_string(),
                r#"curl/8.0 \x22q\x22"#.to_string()
            )]
        );
        // nginx logs what a TLS handshake sent to a cleartext port looks like.
        let junk = r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01\x02\x00\x01" 400 157 "-" "-""#;
        assert_eq!(
            f.record(junk).unwrap_err(),
            "the request line has no target"
        );
        assert_eq!(
            f.record(r#"127.0.0.1 - - [10/Oct/2000:13:5"#).unwrap_err(),
            "not in the log format"
        );
    }

    #[test]
    fn custom_formats_and_json() {
        let f = Format::parse("$msec $request_method $request_uri $status").unwrap();
        let r = f.record("1700000000.250 POST /api/v1/x 201").unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.at),
            ("POST", "/api/v1/x", Some(1_700_000_000.25))
        );
        assert!(Format::parse("$remote_addr $status")
            .unwrap_err()
            .contains("no `$request`"));
        assert!(Format::parse("plain").is_err());
        let j = Format::Json;
        let r = j
            .record(r#"{"time_iso8601":"2024-01-02T03:04:05+00:00","request":"GET http://h/p HTTP/1.1","status":200,"http_x_api_key":"k"}"#)
            .unwrap();
        assert_eq!((r.target.as_str(), r.status), ("/p", Some(200)));
        assert_eq!(r.headers, [("x-api-key".to_string(), "k".to_string())]);
        assert_eq!(j.record("[1,2]").unwrap_err(), "not a JSON object");
        assert_eq!(
            j.record(r#"{"time":"x","request":"GET / HTTP/1.1"}"#)
                .unwrap_err(),
            "the time is not a time"
        );
    }
}
