//! HAR 1.2 files (as browsers export them): `log.entries[].request` with `method`, `url`,
//! `headers` and `postData {mimeType, text}`, `response.status` and `startedDateTime`. Pages,
//! timings, cookies and the rest are ignored. A HAR is one JSON document, so it is read whole
//! (at most [`MAX_HAR`] bytes); each entry is then taken on its own, so a damaged entry is
//! skipped with an example rather than failing the file.
//!
//! A scenario sends to one target, so only the entries of the most frequent host are kept (a
//! page's own requests usually; its CDNs and trackers are counted as dropped). Headers the
//! client computes for itself (`host`, `content-length`, `connection`, HTTP/2 pseudo-headers…)
//! are left out.

use serde::Deserialize;

use super::{clock, read::shown, Record};

/// The largest HAR file read.
pub const MAX_HAR: u64 = 256 * 1024 * 1024;

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    entries: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    started_date_time: String,
    request: Request,
    #[serde(default)]
    response: Option<Response>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    status: i64,
}

/// Headers that describe the connection or the body, which the client sets itself.
const COMPUTED: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "proxy-connection",
    "http2-settings",
    "expect",
];

/// One entry of a HAR file: its host and the request, or why it cannot be used.
pub struct Parsed {
    /// `host[:port]` of the URL.
    pub host: String,
    /// The request.
    pub record: Record,
}

/// The entries of a HAR document; `Err` when the document itself is not a HAR.
pub fn entries(text: &str) -> Result<Vec<serde_json::Value>, String> {
    serde_json::from_str::<Har>(text)
        .map(|h| h.log.entries)
        .map_err(|e| format!("not a HAR file (a JSON object with log.entries): {e}"))
}

/// One entry as a request.
pub fn entry(v: serde_json::Value) -> Result<Parsed, (&'static str, String)> {
    let e: Entry = serde_json::from_value(v.clone())
        .map_err(|_| ("not a HAR entry", shown(v.to_string().as_bytes())))?;
    let url = e.request.url.as_str();
    let uri: http::Uri = url
        .parse()
        .map_err(|_| ("the URL is not a URL", shown(url.as_bytes())))?;
    let (Some(host), Some(pq)) = (uri.authority(), uri.path_and_query()) else {
        return Err(("the URL is not absolute", shown(url.as_bytes())));
    };
    let method = e.request.method.to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        return Err(("the method is not a method", shown(method.as_bytes())));
    }
    let at = clock::iso8601(&e.started_date_time).ok_or((
        "startedDateTime is not a time",
        shown(e.started_date_time.as_bytes()),
    ))?;
    let headers = e
        .request
        .headers
        .into_iter()
        .filter(|h| !h.name.starts_with(':'))
        .filter(|h| !COMPUTED.contains(&h.name.to_ascii_lowercase().as_str()))
        .filter(|h| {
            http::HeaderName::from_bytes(h.name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(&h.value).is_ok()
        })
        .map(|h| (h.name, h.value))
        .collect();
    let body = e
        .request
        .post_data
        .and_then(|p| Some((p.mime_type, p.text?)))
        .filter(|(_, t)| !t.is_empty());
    Ok(Parsed {
        host: host.to_string(),
        record: Record {
            at: Some(at),
            method,
            target: pq.to_string(),
            headers,
            body,
            status: e
                .response
                .and_then(|r| u16::try_from(r.status).ok())
                .filter(|s| (100..=599).contains(s)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_as_chromium_writes_it() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"startedDateTime":"2024-05-01T10:00:00.500Z","time":12.5,
                "request":{"method":"POST","url":"https://shop.test/api/cart?x=1","httpVersion":"h2",
                  "headers":[{"name":":authority","value":"shop.test"},{"name":"content-type","value":"application/json"},
                             {"name":"content-length","value":"9"}],
                  "queryString":[],"cookies":[],"headersSize":-1,"bodySize":9,
                  "postData":{"mimeType":"application/json","text":"{\"a\":1}"}},
                "response":{"status":201,"statusText":"","headers":[],"content":{"size":0,"mimeType":"x"}},
                "cache":{},"timings":{"send":0,"wait":1,"receive":1}}"#,
        )
        .unwrap();
        let p = entry(v).unwrap();
        assert_eq!(p.host, "shop.test");
        assert_eq!(p.record.target, "/api/cart?x=1");
        assert_eq!(p.record.status, Some(201));
        assert_eq!(
            p.record.headers,
            [("content-type".to_string(), "application/json".to_string())]
        );
        assert_eq!(p.record.body.unwrap().1, r#"{"a":1}"#);
        assert_eq!(p.record.at, Some(1_714_557_600.5));
    }

    #[test]
    fn bad_documents_and_entries() {
        assert!(entries("[]").unwrap_err().contains("not a HAR"));
        assert_eq!(entries(r#"{"log":{"entries":[1]}}"#).unwrap().len(), 1);
        assert_eq!(
            entry(serde_json::json!(1)).err().unwrap().0,
            "not a HAR entry"
        );
        let rel = serde_json::json!({"startedDateTime":"2024-05-01T10:00:00Z",
            "request":{"method":"GET","url":"/relative"}});
        assert_eq!(entry(rel).err().unwrap().0, "the URL is not absolute");
    }
}
