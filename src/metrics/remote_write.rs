//! `--remote-write URL`: the same series as `/metrics`, pushed with the Prometheus remote-write
//! protocol 1.0 (a snappy-compressed protobuf `WriteRequest`, built by the
//! `prometheus_remote_write` crate), every `push_every` and once more when the run ends, so the
//! final counters always arrive.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use prometheus_remote_write::{Label, Sample, TimeSeries, WriteRequest, LABEL_NAME};
use tokio_util::sync::CancellationToken;

use super::families::{self, Context, Family, Kind, Labels, Value};
use crate::engine::Live;

/// How long one push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

fn series(
    name: String,
    labels: &Labels,
    extra: Option<(&str, String)>,
    value: f64,
    ts: i64,
) -> TimeSeries {
    let mut l: Vec<Label> = labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| Label {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    if let Some((k, v)) = extra {
        l.push(Label {
            name: k.into(),
            value: v,
        });
    }
    l.push(Label {
        name: LABEL_NAME.into(),
        value: name,
    });
    TimeSeries {
        labels: l,
        samples: vec![Sample {
            value,
            timestamp: ts,
        }],
    }
}

/// The families as one write request, with the names a scrape would give them.
pub fn request(fams: &[Family], at: SystemTime) -> WriteRequest {
    let ts = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut out = Vec::new();
    for f in fams {
        for (labels, value) in &f.samples {
            match value {
                Value::Number(v) => {
                    let name = match f.kind {
                        Kind::Counter => format!("{}_total", f.name),
                        _ => f.name.to_string(),
                    };
                    out.push(series(name, labels, None, *v, ts));
                }
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                } => {
                    // On the wire, buckets are cumulative and `+Inf` is spelled out.
                    let mut upto = 0;
                    for (le, n) in buckets {
                        upto += n;
                        let bound = if le.is_infinite() {
                            "+Inf".to_string()
                        } else {
                            format!("{le}")
                        };
                        let name = format!("{}_bucket", f.name);
                        out.push(series(name, labels, Some(("le", bound)), upto as f64, ts));
                    }
                    out.push(series(format!("{}_sum", f.name), labels, None, *sum, ts));
                    out.push(series(
                        format!("{}_count", f.name),
                        labels,
                        None,
                        *count as f64,
                        ts,
                    ));
                }
            }
        }
    }
    WriteRequest { timeseries: out }.sorted()
}

/// Sends one write request.
async fn push(url: &http::Uri, body: Vec<u8>) -> Result<(), String> {
    let authority = url.authority().ok_or("the remote-write URL has no host")?;
    let port = authority.port_u16().unwrap_or(80);
    let host = authority.host().trim_matches(['[', ']']).to_string();
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    tokio::spawn(conn);
    let req = hyper::Request::post(url.clone())
        .header(http::header::HOST, authority.as_str())
        .header(
            http::header::CONTENT_TYPE,
            prometheus_remote_write::CONTENT_TYPE,
        )
        .header(http::header::CONTENT_ENCODING, "snappy")
        .header(
            prometheus_remote_write::HEADER_NAME_REMOTE_WRITE_VERSION,
            prometheus_remote_write::REMOTE_WRITE_VERSION_01,
        )
        .header(
            http::header::USER_AGENT,
            concat!("gauntlet/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = resp
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    Err(format!("{url}: {status}: {}", text.trim()))
}

/// Pushes every `every` until `stop`, then once more; the first failure is returned (after the
/// run, so a receiver that is down never stops the load).
pub async fn push_until(
    url: &http::Uri,
    every: Duration,
    live: &Arc<Live>,
    ctx: &Arc<Context>,
    stop: &CancellationToken,
) -> Result<(), String> {
    let mut first_error = None;
    loop {
        let done = tokio::select! {
            _ = stop.cancelled() => true,
            _ = tokio::time::sleep(every) => false,
        };
        let req = request(&families::collect(live, ctx), SystemTime::now());
        let body = req
            .encode_compressed()
            .map_err(|e| format!("snappy: {e}"))?;
        let sent = tokio::time::timeout(PUSH_TIMEOUT, push(url, body))
            .await
            .unwrap_or_else(|_| Err(format!("{url}: no answer within {PUSH_TIMEOUT:?}")));
        if let Err(e) = sent {
            first_error.get_or_insert(e);
        }
        if done {
            return first_error.map_or(Ok(()), Err);
        }
    }
}
