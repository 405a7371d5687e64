//! `/metrics` over HTTP/1.1, in the OpenMetrics text format Prometheus scrapes, encoded by
//! `prometheus-client` from a collector that reads the live figures at each scrape.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use super::families::{self, Context, Kind, Value};
use crate::engine::Live;

/// What Prometheus is told the body is.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The live figures as a `prometheus-client` collector.
struct LiveCollector {
    live: Arc<Live>,
    ctx: Arc<Context>,
}

impl std::fmt::Debug for LiveCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveCollector")
    }
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for fam in families::collect(&self.live, &self.ctx) {
            let kind = match fam.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut desc = encoder.encode_descriptor(fam.name, fam.help, None, kind)?;
            for (labels, value) in &fam.samples {
                let mut m = desc.encode_family(labels)?;
                match (fam.kind, value) {
                    (Kind::Counter, Value::Number(v)) => {
                        m.encode_counter::<NoLabelSet, _, f64>(v, None)?
                    }
                    (_, Value::Number(v)) => m.encode_gauge(v)?,
                    (
                        _,
                        Value::Histogram {
                            buckets,
                            sum,
                            count,
                        },
                    ) => m.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None)?,
                }
            }
        }
        Ok(())
    }
}

/// The body of one scrape.
pub fn render(live: &Arc<Live>, ctx: &Arc<Context>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(LiveCollector {
        live: live.clone(),
        ctx: ctx.clone(),
    }));
    let mut out = String::new();
    // Writing into a String does not fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// Serves `/metrics` on `listener` until `stop`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    live: Arc<Live>,
    ctx: Arc<Context>,
    stop: CancellationToken,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let (live, ctx) = (live.clone(), ctx.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let (live, ctx) = (live.clone(), ctx.clone());
                async move {
                    let resp = if req.uri().path() == "/metrics" {
                        hyper::Response::builder()
                            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
                            .body(Full::new(Bytes::from(render(&live, &ctx))))
                    } else {
                        hyper::Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::from_static(b"try /metrics\n")))
                    };
                    resp.map_err(|e| e.to_string())
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
