//! Sampling responses for the differential: after the load, each request is sent a few times to
//! the candidate, to the baseline, and to the baseline again (the noise sample), over every
//! protocol, on one connection per path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::transport::{self, WithTransport};
use super::worker::PreparedRequest;
use super::LaneSetup;
use crate::conformance::differential::{self, CurlTarget, Sample};
use crate::model::differential::{Difference, DifferentialJson, Reproducers};
use crate::proto::{Connection, Protocol, Transport};
use crate::scenario::{DifferentialOptions, TlsOptions};

type Samples = Vec<Vec<Sample>>;

struct Sampler {
    requests: Arc<Vec<PreparedRequest>>,
    n: u32,
    /// Flows and their steps, which are not sampled: a step alone, without the values its
    /// session gives it, is not what the run sent.
    skip: Vec<bool>,
}

impl WithTransport for Sampler {
    type Output = Pin<Box<dyn Future<Output = Samples>>>;

    fn with<T: Transport>(self, t: T) -> Self::Output {
        Box::pin(async move {
            let mut conn: Option<T::Conn> = None;
            let mut out = Vec::new();
            for (req, skip) in self.requests.iter().zip(&self.skip) {
                let mut samples = Vec::new();
                for _ in 0..if *skip { 0 } else { self.n } {
                    let attempt = async {
                        if conn.as_ref().is_none_or(|c| !c.is_open()) {
                            conn = Some(t.connect().await?.conn);
                        }
                        let c = conn.as_ref().expect("connected above");
                        c.send(req.build(), Some(req.max_body)).await
                    };
                    let s = match tokio::time::timeout(req.timeout, attempt).await {
                        Ok(Ok(ex)) => Sample::Response {
                            status: ex.status,
                            headers: ex.headers,
                            body: ex.body.unwrap_or_default(),
                        },
                        Ok(Err(e)) => {
                            conn = None;
                            Sample::Failed(format!("{}:{}", e.class.as_str(), e.code))
                        }
                        Err(_) => {
                            conn = None;
                            Sample::Failed("timeout:request".into())
                        }
                    };
                    samples.push(s);
                }
                out.push(samples);
            }
            out
        })
    }
}

fn skipped(setup: &LaneSetup) -> Vec<bool> {
    (0..setup.requests.len())
        .map(|i| setup.flow.as_ref().is_some_and(|f| f.flows.involves(i)))
        .collect()
}

async fn sample(setup: &LaneSetup, n: u32) -> Samples {
    transport::build(
        setup,
        Sampler {
            requests: setup.requests.clone(),
            n,
            skip: skipped(setup),
        },
    )
    .await
}

/// How `curl` reaches the path of `setup`.
pub fn curl_target(setup: &LaneSetup, tls: &TlsOptions, embedded: bool) -> CurlTarget<'static> {
    let uri = setup.requests.first().map(|r| r.uri.clone());
    let secure = setup.tls.is_some();
    let version_flag = match (setup.protocol, secure) {
        (Protocol::H1, _) => "--http1.1",
        (Protocol::H2, true) => "--http2",
        (Protocol::H2, false) => "--http2-prior-knowledge",
        (Protocol::H3, _) => "--http3-only",
    };
    let connect_to = uri.as_ref().and_then(|u| {
        let host = u.host()?.to_string();
        let port = u.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let (dh, dp) = &setup.dial;
        (host.trim_matches(['[', ']']) != dh || port != *dp)
            .then(|| format!("{host}:{port}:{dh}:{dp}"))
    });
    let mut tls_flags = Vec::new();
    if secure {
        match (&tls.ca, tls.insecure || embedded) {
            (_, true) => tls_flags.push("-k".to_string()),
            (Some(ca), false) => {
                tls_flags.extend(["--cacert".to_string(), ca.display().to_string()])
            }
            (None, false) => {}
        }
        if let Some((c, k)) = &tls.client_auth {
            tls_flags.extend([
                "--cert".to_string(),
                c.display().to_string(),
                "--key".to_string(),
                k.display().to_string(),
            ]);
        }
    }
    CurlTarget {
        version_flag,
        connect_to,
        tls_flags,
    }
}

/// A `curl` command per request of a lane, for the reports' failures.
pub fn reproducers(setup: &LaneSetup, tls: &TlsOptions, embedded: bool) -> Vec<String> {
    let t = curl_target(setup, tls, embedded);
    setup
        .requests
        .iter()
        .map(|r| {
            differential::curl(
                &t,
                r.method.as_str(),
                &r.uri.to_string(),
                &r.headers,
                &r.body,
            )
        })
        .collect()
}

/// Runs the differential for each protocol's pair of lanes `(candidate, baseline, names)`.
pub async fn run(
    pairs: &[(&LaneSetup, &LaneSetup)],
    names: &[String],
    opts: &DifferentialOptions,
    tls: &TlsOptions,
    embedded: (bool, bool),
) -> DifferentialJson {
    let mut differences = Vec::new();
    let mut fields = 0;
    for (cand, base) in pairs {
        let c = sample(cand, opts.samples).await;
        let b = sample(base, opts.samples).await;
        let b2 = sample(base, opts.samples).await;
        let (tc, tb) = (
            curl_target(cand, tls, embedded.0),
            curl_target(base, tls, embedded.1),
        );
        let skip = skipped(cand);
        for (i, name) in names.iter().enumerate().filter(|(i, _)| !skip[*i]) {
            let (found, n) = differential::compare(&c[i], &b[i], &b2[i], &opts.ignore_headers);
            fields += n;
            let (rc, rb) = (&cand.requests[i], &base.requests[i]);
            for (field, cv, bv, rate, noise) in found {
                differences.push(Difference {
                    protocol: cand.protocol,
                    request: name.clone(),
                    field,
                    candidate: cv,
                    baseline: bv,
                    candidate_rate: rate,
                    noise_rate: noise,
                    reproducers: Reproducers {
                        candidate: differential::curl(
                            &tc,
                            rc.method.as_str(),
                            &rc.uri.to_string(),
                            &rc.headers,
                            &rc.body,
                        ),
                        baseline: differential::curl(
                            &tb,
                            rb.method.as_str(),
                            &rb.uri.to_string(),
                            &rb.headers,
                            &rb.body,
                        ),
                    },
                });
            }
        }
    }
    let mut ignored: Vec<String> = differential::IGNORED
        .iter()
        .map(|s| s.to_string())
        .collect();
    ignored.extend(opts.ignore_headers.iter().map(|h| h.to_string()));
    DifferentialJson {
        samples: opts.samples,
        ignored_headers: ignored,
        fields_compared: fields,
        differences,
    }
}
