//! Probing the paths of a run: each target of a scenario (or the compared pair), the embedded
//! origin started for `embedded` targets, and the recording origin served where the proxies
//! forward. Shared by `gauntlet run` (a scenario's `conformance` section) and
//! `gauntlet conformance`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::probes::ProxyPolicy;
use super::run::{self, PathSpec, Quirks, Selection};
use crate::model::conformance::ConformanceJson;
use crate::origin::raw::RawOrigin;
use crate::origin::recording::Recorder;
use crate::origin::{Origin, OriginConfig};
use crate::proto::raw::RawTarget;
use crate::scenario::{ConformanceOptions, Endpoint, Scenario, TlsOptions};

/// A path to the in-process embedded origin over TLS (h1 and h2 by ALPN, h3 on the UDP twin);
/// the origin must stay up while the path is probed.
pub async fn embedded(
    name: &str,
    tls: TlsOptions,
    timeout: Duration,
    reload: Option<String>,
) -> Result<(PathSpec, Origin), String> {
    let o = Origin::start(OriginConfig {
        record: true,
        ..OriginConfig::loopback()
    })
    .await
    .map_err(|e| e.to_string())?;
    let mut t = RawTarget::from_url(
        &format!("https://127.0.0.1:{}", o.https_addr().port()),
        tls,
        timeout,
    )?;
    t.extra_ca.push(o.ca_der());
    let spec = PathSpec {
        name: name.to_string(),
        target: t,
        origin: o.recorder().cloned(),
        reload,
        proxied: false,
        policy: ProxyPolicy::default(),
    };
    Ok((spec, o))
}

/// A path through a proxy at `url`, watched through `origin` when the recording origin runs.
pub fn proxied(
    name: &str,
    target: RawTarget,
    origin: Option<&RawOrigin>,
    reload: Option<String>,
    policy: ProxyPolicy,
) -> PathSpec {
    PathSpec {
        name: name.to_string(),
        target,
        origin: origin.map(|o| o.recorder().clone()),
        reload,
        proxied: origin.is_some(),
        policy,
    }
}

/// Probes `specs` one after another and puts the results together; `stop` ends it early with
/// what finished.
pub async fn probe_all(
    specs: &[PathSpec],
    sel: &Selection,
    pair: Option<(&str, &str)>,
    quirks: &Quirks,
    stop: &CancellationToken,
) -> ConformanceJson {
    let mut paths = Vec::new();
    for spec in specs {
        paths.push(run::run_path(spec, sel, stop).await);
    }
    let mut c = run::conformance(paths, pair, quirks);
    c.interrupted = stop.is_cancelled();
    c
}

/// Runs a scenario's `conformance` section against its targets, until `stop`.
pub async fn probe_scenario(
    s: &Scenario,
    c: &ConformanceOptions,
    stop: &CancellationToken,
) -> Result<ConformanceJson, String> {
    let raw = match c.origin {
        Some(addr) => Some(
            RawOrigin::start(addr, Recorder::default())
                .await
                .map_err(|e| format!("conformance.origin {addr}: {e}"))?,
        ),
        None => None,
    };
    let names: Vec<&str> = match &s.compare {
        Some(cmp) => vec![cmp.candidate.as_str(), cmp.baseline.as_str()],
        None => s.targets.iter().map(|t| t.name.as_str()).collect(),
    };
    let mut specs = Vec::new();
    let mut origins = Vec::new();
    for t in s
        .targets
        .iter()
        .filter(|t| names.contains(&t.name.as_str()))
    {
        let reload = c.reload.get(&t.name).cloned();
        match &t.endpoint {
            Endpoint::Embedded => {
                let (spec, o) = embedded(&t.name, s.tls.clone(), c.timeout, reload).await?;
                specs.push(spec);
                origins.push(o);
            }
            Endpoint::Url(u) => {
                let target = RawTarget::new(u, s.tls.clone(), c.timeout);
                specs.push(proxied(&t.name, target, raw.as_ref(), reload, c.policy));
            }
        }
    }
    // Candidate first, so parity reads candidate against baseline.
    specs.sort_by_key(|p| names.iter().position(|n| *n == p.name));
    let pair = s
        .compare
        .as_ref()
        .map(|cmp| (cmp.candidate.as_str(), cmp.baseline.as_str()));
    let out = probe_all(&specs, &c.selection, pair, &c.quirks, stop).await;
    for o in origins {
        o.shutdown().await;
    }
    if let Some(r) = raw {
        r.shutdown().await;
    }
    Ok(out)
}
