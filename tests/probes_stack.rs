//! The probes end to end on the real stack: Debian's nginx 1.22 (h1, h2), nginx 1.26 (h1, h2,
//! h3) and Caddy (h1, h2, h3), each a reverse proxy in front of the recording raw origin, each
//! reloaded gracefully mid-probe. Their verdicts are findings, not fixtures: the test asserts
//! that every probe ran and reached a verdict, that the decisive smuggling checks held on every
//! proxy, that parity and quirks come out of a real pair, and that every verdict is the one
//! committed in `conformance/expected/` for that proxy.

mod common;

use std::time::Duration;

use common::expected::{check_expected, recording_origin, table};
use common::servers;
use gauntlet::conformance::probes::{ProxyPolicy, Rfc, Suite};
use gauntlet::conformance::run::{conformance, run_path, PathSpec, Quirks, Selection};
use gauntlet::model::conformance::PathResults;
use gauntlet::origin::raw::RawOrigin;
use gauntlet::proto::raw::RawTarget;
use gauntlet::scenario::TlsOptions;

/// `host` is what the server's configuration names (Caddy routes by Host).
fn spec(name: &str, host: &str, s: &servers::Server, origin: &RawOrigin) -> PathSpec {
    let tls = TlsOptions {
        ca: Some(s.ca.clone()),
        ..Default::default()
    };
    PathSpec {
        name: name.into(),
        target: RawTarget::from_url(
            &format!("https://{host}:{}", s.tls_port),
            tls,
            Duration::from_secs(5),
        )
        .unwrap(),
        origin: Some(origin.recorder().clone()),
        reload: s.reload.clone(),
        proxied: true,
        policy: ProxyPolicy::default(),
    }
}

#[test]
fn probes_run_against_nginx_and_caddy() {
    let (rt, raw) = recording_origin();
    let n122 = servers::nginx(raw.addr(), false);
    let n126 = servers::nginx(raw.addr(), true);
    let caddy = servers::caddy(raw.addr());
    let all = Selection::default();
    let no_h3 = Selection {
        suites: vec![Suite::H1, Suite::H2, Suite::Proxy],
        only: Vec::new(),
    };
    let paths: Vec<PathResults> = rt.block_on(async {
        vec![
            run_path(
                &spec("nginx-1.22", "127.0.0.1", &n122, &raw),
                &no_h3,
                &Default::default(),
            )
            .await,
            run_path(
                &spec("nginx-1.26", "127.0.0.1", &n126, &raw),
                &all,
                &Default::default(),
            )
            .await,
            run_path(
                &spec("caddy", "localhost", &caddy, &raw),
                &all,
                &Default::default(),
            )
            .await,
        ]
    });
    for p in &paths {
        eprintln!("== {}\n{}", p.name, table(p));
    }
    let quirks = Quirks::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/quirks.yaml"),
    )
    .unwrap();
    let c = conformance(paths.clone(), Some(("caddy", "nginx-1.26")), &quirks);
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stack-conformance.json"),
        serde_json::to_string_pretty(&c).unwrap(),
    )
    .unwrap();
    for p in &paths {
        check_expected(&p.name, p);
    }
    for p in &paths {
        let errors = common::without_verdict(p);
        assert!(
            errors.is_empty(),
            "{}: probes without a verdict:\n{}",
            p.name,
            table(p)
        );
        // The decisive check: no proxy desynchronised from the origin (a request hidden in
        // another's body reaching the origin as a request of its own).
        let desync: Vec<_> = p
            .probes
            .iter()
            .filter(|x| x.observed.contains("desync"))
            .collect();
        assert!(
            desync.is_empty(),
            "{} let a smuggled request through:\n{}",
            p.name,
            table(p)
        );
    }
    // Every probe that ran on both Caddy and nginx 1.26 has a parity verdict.
    let ran = |p: &PathResults, id: &str| {
        p.probes
            .iter()
            .any(|x| x.id == id && x.verdict != Rfc::Skipped)
    };
    let comparable = paths[2]
        .probes
        .iter()
        .filter(|x| ran(&paths[2], &x.id) && ran(&paths[1], &x.id))
        .count();
    assert_eq!(
        c.parity.len(),
        comparable,
        "every probe has a parity verdict"
    );
    for d in c.parity.iter().filter(|d| !d.agree) {
        eprintln!(
            "parity: {} caddy={} nginx-1.26={} quirk={:?} failure={}",
            d.id, d.candidate, d.baseline, d.quirk, d.failure
        );
    }
    drop((n122, n126, caddy));
    rt.block_on(raw.shutdown());
}
