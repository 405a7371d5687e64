//! The whole probe catalogue against the four proxies of Debian 12 that the stack runs besides
//! nginx and Caddy: HAProxy 2.6, Apache httpd 2.4 (mod_proxy_http, mod_http2), Varnish 7.1 and
//! nghttpx 1.52, each in front of the recording raw origin and started by `ci/lib/proxies.sh`.
//! Each proxy's verdicts are checked against its committed table in `conformance/expected/`:
//! a probe change shows its effect on every real proxy at once, and a verdict that moves fails
//! the test with the probe, the old and new verdict and why.

mod common;

use std::time::Duration;

use common::expected::{check_expected, recording_origin, table};
use common::servers::{self, DebianProxy};
use gauntlet::conformance::probes::{ProxyPolicy, Suite};
use gauntlet::conformance::run::{run_path, PathSpec, Selection};
use gauntlet::proto::raw::RawTarget;
use gauntlet::scenario::TlsOptions;

fn probe(kind: DebianProxy) {
    let (rt, raw) = recording_origin();
    let s = servers::debian_proxy(kind, raw.addr());
    let (url, suites) = if kind.tls() {
        (
            format!("https://127.0.0.1:{}", s.tls_port),
            vec![Suite::H1, Suite::H2, Suite::Proxy],
        )
    } else {
        // Varnish speaks neither TLS nor HTTP/2 here.
        (
            format!("http://127.0.0.1:{}", s.h1_port),
            vec![Suite::H1, Suite::Proxy],
        )
    };
    let spec = PathSpec {
        name: kind.name().into(),
        target: RawTarget::from_url(
            &url,
            TlsOptions {
                ca: Some(s.ca.clone()),
                ..Default::default()
            },
            Duration::from_secs(5),
        )
        .unwrap(),
        origin: Some(raw.recorder().clone()),
        reload: s.reload.clone(),
        proxied: true,
        policy: ProxyPolicy::default(),
    };
    let sel = Selection {
        suites,
        only: Vec::new(),
    };
    let r = rt.block_on(run_path(&spec, &sel, &Default::default()));
    eprintln!("== {}\n{}", kind.name(), table(&r));
    drop(s);
    rt.block_on(raw.shutdown());
    assert!(r.error.is_none(), "{}: {:?}", kind.name(), r.error);
    check_expected(kind.name(), &r);
}

#[test]
fn haproxy_verdicts_match_the_expected_table() {
    probe(DebianProxy::Haproxy);
}

#[test]
fn apache_verdicts_match_the_expected_table() {
    probe(DebianProxy::Apache);
}

#[test]
fn varnish_verdicts_match_the_expected_table() {
    probe(DebianProxy::Varnish);
}

#[test]
fn nghttpx_verdicts_match_the_expected_table() {
    probe(DebianProxy::Nghttpx);
}
