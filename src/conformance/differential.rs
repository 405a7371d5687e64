//! The response differential: the same requests sampled from both paths, normalised, compared
//! field by field, with noise filtered the way Diffy does it. A second sample of the baseline
//! shows how much the baseline differs from itself; a field is reported only when the candidate
//! differs from the baseline clearly more often than that.
//!
//! Normalising: header names are lower case (as the http crate keeps them); `date`, `server`,
//! `via`, `age`, `alt-svc` and any configured header are ignored; a JSON body is compared field
//! by field (`body:$.headers[3][1]`), any other body by its SHA-256.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

/// Headers that differ between any two servers or any two moments, always ignored.
pub const IGNORED: [&str; 5] = ["date", "server", "via", "age", "alt-svc"];

/// How much more often the candidate must differ than the baseline differs from itself.
pub const MARGIN: f64 = 0.5;

/// A sampled response, or the error class that replaced it.
#[derive(Debug, Clone)]
pub enum Sample {
    /// A response.
    Response {
        /// Status.
        status: u16,
        /// Headers.
        headers: HeaderMap,
        /// Body (its start, for long bodies).
        body: Bytes,
    },
    /// No response: the error class and code.
    Failed(String),
}

fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                flatten_json(&format!("{prefix}.{k}"), x, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten_json(&format!("{prefix}[{i}]"), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The fields of a sample after normalising.
pub fn normalise(s: &Sample, ignore: &[HeaderName]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match s {
        Sample::Failed(code) => {
            out.insert("status".into(), format!("no response ({code})"));
        }
        Sample::Response {
            status,
            headers,
            body,
        } => {
            out.insert("status".into(), status.to_string());
            for name in headers.keys() {
                if IGNORED.contains(&name.as_str()) || ignore.contains(name) {
                    continue;
                }
                let values: Vec<String> = headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                out.insert(format!("header:{name}"), values.join(", "));
            }
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(v) if v.is_object() || v.is_array() => flatten_json("body:$", &v, &mut out),
                _ => {
                    let digest: String = Sha256::digest(body)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    out.insert(
                        "body".into(),
                        format!("sha256:{} ({} bytes)", &digest[..16], body.len()),
                    );
                }
            }
        }
    }
    out
}

const ABSENT: &str = "(absent)";

/// A field that differs: (field, candidate value, baseline value, candidate rate, noise rate).
pub type FieldDiff = (String, String, String, f64, f64);

/// Compares samples of one request: `cand[i]` with `base[i]`, and `base[i]` with `base2[i]` for
/// the noise. Returns (field, candidate value, baseline value, candidate rate, noise rate) for
/// every field reported, and how many fields were compared.
pub fn compare(
    cand: &[Sample],
    base: &[Sample],
    base2: &[Sample],
    ignore: &[HeaderName],
) -> (Vec<FieldDiff>, u64) {
    let (c, b, b2): (Vec<_>, Vec<_>, Vec<_>) = (
        cand.iter().map(|s| normalise(s, ignore)).collect(),
        base.iter().map(|s| normalise(s, ignore)).collect(),
        base2.iter().map(|s| normalise(s, ignore)).collect(),
    );
    let fields: BTreeSet<&String> = c
        .iter()
        .chain(&b)
        .chain(&b2)
        .flat_map(|m| m.keys())
        .collect();
    let n = c.len().min(b.len()).min(b2.len());
    let get =
        |m: &BTreeMap<String, String>, f: &str| m.get(f).cloned().unwrap_or_else(|| ABSENT.into());
    let mut out = Vec::new();
    for f in &fields {
        if n == 0 {
            break;
        }
        let differ = (0..n).filter(|&i| get(&c[i], f) != get(&b[i], f)).count();
        let noise = (0..n).filter(|&i| get(&b[i], f) != get(&b2[i], f)).count();
        let (rate, noise_rate) = (differ as f64 / n as f64, noise as f64 / n as f64);
        if rate - noise_rate >= MARGIN {
            let i = (0..n)
                .find(|&i| get(&c[i], f) != get(&b[i], f))
                .unwrap_or(0);
            out.push(((*f).clone(), get(&c[i], f), get(&b[i], f), rate, noise_rate));
        }
    }
    (out, fields.len() as u64)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What a reproducer needs to know about one path.
pub struct CurlTarget<'a> {
    /// `--http1.1`, `--http2`, `--http2-prior-knowledge` or `--http3-only`.
    pub version_flag: &'a str,
    /// `--connect-to` value, when the dial address differs from the URL's.
    pub connect_to: Option<String>,
    /// TLS flags (`--cacert F`, `-k`, `--cert F --key F`).
    pub tls_flags: Vec<String>,
}

/// A `curl` command for one request on one path.
pub fn curl(
    t: &CurlTarget<'_>,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> String {
    let mut parts = vec![
        "curl".to_string(),
        "-sS".into(),
        "-i".into(),
        t.version_flag.to_string(),
    ];
    parts.extend(t.tls_flags.iter().cloned());
    if let Some(c) = &t.connect_to {
        parts.push("--connect-to".into());
        parts.push(shell_quote(c));
    }
    if method != "GET" {
        parts.push("-X".into());
        parts.push(method.to_string());
    }
    for (k, v) in headers {
        parts.push("-H".into());
        parts.push(shell_quote(&format!(
            "{k}: {}",
            String::from_utf8_lossy(v.as_bytes())
        )));
    }
    if !body.is_empty() {
        parts.push("--data-binary".into());
        parts.push(shell_quote(&String::from_utf8_lossy(body)));
    }
    parts.push(shell_quote(uri));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Sample {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Sample::Response {
            status,
            headers: h,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn reports_real_differences_and_filters_noise() {
        // x-id differs everywhere (noise); x-proxy differs only between the paths.
        let cand: Vec<Sample> = (0..4)
            .map(|i| {
                resp(
                    200,
                    &[
                        ("x-id", &format!("c{i}")),
                        ("x-proxy", "new"),
                        ("date", "now"),
                    ],
                    r#"{"a":1,"b":[1,2]}"#,
                )
            })
            .collect();
        let base: Vec<Sample> = (0..4)
            .map(|i| {
                resp(
                    200,
                    &[("x-id", &format!("b{i}")), ("x-proxy", "old")],
                    r#"{"a":1,"b":[1,3]}"#,
                )
            })
            .collect();
        let base2: Vec<Sample> = (0..4)
            .map(|i| {
                resp(
                    200,
                    &[("x-id", &format!("d{i}")), ("x-proxy", "old")],
                    r#"{"a":1,"b":[1,3]}"#,
                )
            })
            .collect();
        let (diffs, fields) = compare(&cand, &base, &base2, &[]);
        let names: Vec<&str> = diffs.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(names, vec!["body:$.b[1]", "header:x-proxy"]);
        assert!(fields >= 5);
        assert_eq!(diffs[1].1, "new");
        assert_eq!(diffs[1].2, "old");
    }

    #[test]
    fn identical_paths_report_nothing() {
        let s: Vec<Sample> = (0..3)
            .map(|_| resp(404, &[("content-type", "text/plain")], "missing"))
            .collect();
        assert!(compare(&s, &s, &s, &[]).0.is_empty());
    }

    #[test]
    fn curl_reproducer_quotes_its_arguments() {
        let mut h = HeaderMap::new();
        h.insert("x-q", "it's".parse().unwrap());
        let t = CurlTarget {
            version_flag: "--http2",
            connect_to: Some("shop.test:443:127.0.0.1:8443".into()),
            tls_flags: vec!["-k".into()],
        };
        let c = curl(&t, "POST", "https://shop.test/api", &h, b"{}");
        assert_eq!(
            c,
            r#"curl -sS -i --http2 -k --connect-to 'shop.test:443:127.0.0.1:8443' -X POST -H 'x-q: it'\''s' --data-binary '{}' 'https://shop.test/api'"#
        );
    }
}
