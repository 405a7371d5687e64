//! Protocol probes against servers that must make them pass (the embedded origin) and servers
//! built to make them fail (a naive proxy in front of the recording origin), family by family:
//! a probe no test has seen fail proves nothing.

mod common;

use std::time::Duration;

use common::expected::table;
use common::naive::{NaiveProxy, Upstream};
use gauntlet::conformance::probes::{Probe, ProxyPolicy, Rfc, Suite, ViaPolicy, XffPolicy};
use gauntlet::conformance::run::{run_path, PathSpec, Selection};
use gauntlet::conformance::scenario::embedded;
use gauntlet::model::conformance::PathResults;
use gauntlet::origin::raw::RawOrigin;
use gauntlet::origin::recording::Recorder;
use gauntlet::proto::raw::RawTarget;
use gauntlet::scenario::TlsOptions;

const TIMEOUT: Duration = Duration::from_secs(3);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn selection(suite: Suite) -> Selection {
    Selection {
        suites: vec![suite],
        only: Vec::new(),
    }
}

/// Probes the embedded origin itself (its endpoints are what "reached the origin").
fn against_embedded(suite: Suite) -> PathResults {
    rt().block_on(async {
        let (spec, o) = embedded("embedded", TlsOptions::default(), TIMEOUT, None)
            .await
            .unwrap();
        let r = run_path(&spec, &selection(suite), &Default::default()).await;
        o.shutdown().await;
        r
    })
}

/// Probes the naive proxy in front of the recording origin.
fn against_naive(suite: Suite, style: Upstream, policy: ProxyPolicy) -> PathResults {
    rt().block_on(async {
        let raw = RawOrigin::start("127.0.0.1:0".parse().unwrap(), Recorder::default())
            .await
            .unwrap();
        let proxy = NaiveProxy::start(raw.addr(), style);
        let spec = PathSpec {
            name: "naive".into(),
            target: RawTarget::from_url(
                &format!("http://{}", proxy.addr),
                TlsOptions::default(),
                TIMEOUT,
            )
            .unwrap(),
            origin: Some(raw.recorder().clone()),
            reload: Some(proxy.reload_command()),
            proxied: true,
            policy,
        };
        let r = run_path(&spec, &selection(suite), &Default::default()).await;
        drop(proxy);
        raw.shutdown().await;
        r
    })
}

/// Every probe of the family failed, each with a reproducer.
fn assert_all_fail(r: &PathResults) {
    assert!(!r.probes.is_empty());
    let not: Vec<_> = r.probes.iter().filter(|p| p.verdict != Rfc::Fail).collect();
    assert!(not.is_empty(), "probes that did not fail:\n{}", table(r));
    for p in &r.probes {
        let rep = p
            .reproducer
            .as_ref()
            .expect("a failure carries a reproducer");
        assert!(!rep.hex.is_empty() && !rep.replay.is_empty(), "{}", p.id);
    }
}

/// No probe of the family failed or could not run.
fn assert_none_fail(r: &PathResults) {
    let bad: Vec<_> = r
        .probes
        .iter()
        .filter(|p| matches!(p.verdict, Rfc::Fail | Rfc::Error | Rfc::Skipped))
        // Probes of what a proxy forwards do not run against an origin probed directly.
        .filter(|p| !(p.verdict == Rfc::Skipped && p.why.contains("the target is no proxy")))
        .collect();
    assert!(bad.is_empty(), "probes that did not pass:\n{}", table(r));
    assert!(r.count(Rfc::Pass) > 0, "{}", table(r));
}

#[test]
fn h1_probes_fail_against_a_naive_proxy() {
    let r = against_naive(
        Suite::H1,
        Upstream::PerRequest { retry: false },
        ProxyPolicy::default(),
    );
    assert!(r.probes.len() >= 13);
    assert_all_fail(&r);
}

#[test]
fn h1_probes_pass_against_the_embedded_origin() {
    let r = against_embedded(Suite::H1);
    assert_none_fail(&r);
}

/// Probes `sel` against a fresh naive HTTP/2 server.
fn against_naive_h2(sel: &Selection) -> PathResults {
    rt().block_on(async {
        let server = common::naive_h2::NaiveH2::start();
        let spec = PathSpec {
            name: "naive-h2".into(),
            target: RawTarget::from_url(
                &format!("http://{}", server.addr),
                TlsOptions::default(),
                TIMEOUT,
            )
            .unwrap(),
            origin: Some(server.recorder.clone()),
            reload: None,
            proxied: false,
            policy: Default::default(),
        };
        run_path(&spec, sel, &Default::default()).await
    })
}

#[test]
fn h2_probes_fail_against_a_naive_server() {
    let all = gauntlet::conformance::probes::selected(&selection(Suite::H2));
    let (floods, rest): (Vec<&Probe>, Vec<&Probe>) =
        all.iter().partition(|p| p.id.starts_with("h2.flood."));
    let only = |ids: Vec<&str>| Selection {
        suites: vec![Suite::H2],
        only: ids.into_iter().map(String::from).collect(),
    };
    let r = against_naive_h2(&only(rest.iter().map(|p| p.id).collect()));
    assert!(r.probes.len() >= 30, "{}", r.probes.len());
    assert_all_fail(&r);
    // A flood may bring the naive server down, as it should: each gets a fresh one.
    assert!(floods.len() >= 7);
    for f in floods {
        let r = against_naive_h2(&only(vec![f.id]));
        assert_eq!(r.probes.len(), 1, "{}", f.id);
        assert_all_fail(&r);
    }
}

/// Probes the embedded origin's HTTP/2 stack cannot pass: the h2 crate (0.4) takes trailers
/// that carry a pseudo-header and hands the request on without them, so the origin cannot tell.
/// Asserted exactly, so a fixed crate shows up here.
const EMBEDDED_H2_KNOWN: [&str; 1] = ["h2.trailers.pseudo-header"];

#[test]
fn h2_probes_pass_against_the_embedded_origin() {
    let mut r = against_embedded(Suite::H2);
    let failing: Vec<_> = r
        .probes
        .iter()
        .filter(|p| p.verdict == Rfc::Fail)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(failing, EMBEDDED_H2_KNOWN, "{}", table(&r));
    r.probes
        .retain(|p| !EMBEDDED_H2_KNOWN.contains(&p.id.as_str()));
    assert_none_fail(&r);
}

/// Probes the embedded origin's HTTP/3 stack cannot pass: the h3 crate (0.0.8) accepts a
/// pseudo-header after a regular field and hands the request on with the order lost, so the
/// origin cannot tell. This list is asserted exactly, so a fixed crate shows up here.
const EMBEDDED_H3_KNOWN: [&str; 1] = ["h3.pseudo.after-regular"];

#[test]
fn h3_probes_fail_against_a_naive_server() {
    let r = rt().block_on(async {
        let server = common::naive_h3::NaiveH3::start();
        let mut target = RawTarget::from_url(
            &format!("https://127.0.0.1:{}", server.addr.port()),
            TlsOptions::default(),
            TIMEOUT,
        )
        .unwrap();
        target.extra_ca.push(server.ca.clone());
        let spec = PathSpec {
            name: "naive-h3".into(),
            target,
            origin: Some(server.recorder.clone()),
            reload: None,
            proxied: false,
            policy: Default::default(),
        };
        run_path(&spec, &selection(Suite::H3), &Default::default()).await
    });
    assert!(r.probes.len() >= 5);
    assert_all_fail(&r);
}

#[test]
fn h3_probes_pass_against_the_embedded_origin() {
    let mut r = against_embedded(Suite::H3);
    let failing: Vec<_> = r
        .probes
        .iter()
        .filter(|p| p.verdict == Rfc::Fail)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(failing, EMBEDDED_H3_KNOWN, "{}", table(&r));
    r.probes
        .retain(|p| !EMBEDDED_H3_KNOWN.contains(&p.id.as_str()));
    assert_none_fail(&r);
}

#[test]
fn proxy_probes_fail_against_naive_proxies() {
    let policy = ProxyPolicy {
        via: ViaPolicy::Required,
        x_forwarded_for: XffPolicy::Append,
    };
    // One naive proxy reuses a connection the origin closed, the other resends what the origin
    // dropped: between them every proxy probe must fail.
    let other = std::thread::spawn(move || {
        against_naive(Suite::Proxy, Upstream::PerRequest { retry: true }, policy)
    });
    let kept = against_naive(Suite::Proxy, Upstream::Persistent, policy);
    let retried = other.join().unwrap();
    assert!(kept.probes.len() >= 10);
    let never: Vec<_> = kept
        .probes
        .iter()
        .zip(&retried.probes)
        .filter(|(a, b)| a.verdict != Rfc::Fail && b.verdict != Rfc::Fail)
        .map(|(a, _)| a.id.clone())
        .collect();
    assert!(
        never.is_empty(),
        "never failed: {never:?}\npersistent:\n{}\nretrying:\n{}",
        table(&kept),
        table(&retried)
    );
}

/// A server that falls over under a flood: the flood that did it fails as a crash, and what
/// comes after it in the suite is an error naming that probe, never a verdict.
#[test]
fn a_crash_is_pinned_on_the_probe_that_caused_it_and_ends_the_suite() {
    let sel = Selection {
        suites: vec![Suite::H2],
        only: vec!["h2.flood.settings".into(), "h2.flood.rapid-reset".into()],
    };
    let r = against_naive_h2(&sel);
    assert_eq!(r.probes.len(), 2, "{}", table(&r));
    let (crash, after) = (&r.probes[0], &r.probes[1]);
    assert_eq!(crash.id, "h2.flood.settings");
    assert_eq!(crash.verdict, Rfc::Fail, "{}", table(&r));
    assert!(crash.evidence.canary.is_some(), "{crash:?}");
    assert_eq!(after.verdict, Rfc::Error, "{}", table(&r));
    assert!(
        after
            .why
            .contains("stopped serving after h2.flood.settings"),
        "{}",
        after.why
    );
    assert!(
        r.error.as_deref().unwrap_or("").contains("stopped serving"),
        "{:?}",
        r.error
    );
}
