//! HTTP/3 against three independent servers on loopback (started by the tests, installed by
//! `ci/install.sh`): nginx 1.26 with http_v3_module and Caddy as reverse proxies in front of the
//! origin, and hypercorn with aioquic serving a tiny ASGI app. Each server reports the protocol it
//! saw in a header, so "h3" in our results is checked against the server's own view.

mod common;

use common::servers::{self, Server};
use common::{run, TestOrigin};

/// Runs `requests` over `proto` against `server` and asserts every response passed.
fn passes(o: &TestOrigin, server: &Server, proto: &str, seen: &str, requests: &str) {
    let s = o.scenario(&format!(
        r#"
name: peer-{proto}
targets:
  peer: {{ url: "https://localhost:{port}", connect_to: "127.0.0.1:{port}" }}
tls: {{ ca: "{ca}" }}
protocols: [{proto}]
load: {{ model: closed, concurrency: 4, connections: 2, requests: 120 }}
timeout: 5s
requests:
{requests}
"#,
        port = server.tls_port,
        ca = server.ca.display(),
        requests = requests.replace("@SEEN@", seen),
    ));
    let out = run(&s);
    let l = &out.lanes[0];
    assert_eq!(l.protocol.as_str(), proto);
    let t = l.stats.total();
    assert_eq!(t.count, 120, "{proto}");
    assert_eq!(
        t.ok, 120,
        "{proto} via port {}: {:?} {:?}",
        server.tls_port, t.errors, t.error_examples
    );
    assert!(l.stats.connections_opened >= 1);
}

const PROXIED: &str = r#"  - { name: home, get: /, weight: 3, expect: { status: 200, headers: { x-client-protocol: "@SEEN@" }, body: { contains: hello } } }
  - { name: bytes, get: /bytes/50000, expect: { status: 200, headers: { content-length: "50000" } } }
  - { name: echo, post: /echo, body: "via proxy", expect: { body: { contains: '"body":"via proxy"' } } }
  - { name: missing, get: /status/404, expect: { status: 404 } }"#;

#[test]
fn nginx_1_26_serves_h1_h2_and_h3_in_front_of_the_origin() {
    let o = TestOrigin::start();
    let n = servers::nginx(o.origin().http_addr(), true);
    for (proto, seen) in [("h1", "HTTP/1.1"), ("h2", "HTTP/2.0"), ("h3", "HTTP/3.0")] {
        passes(&o, &n, proto, seen, PROXIED);
    }
}

#[test]
fn caddy_serves_h1_h2_and_h3_in_front_of_the_origin() {
    let o = TestOrigin::start();
    let c = servers::caddy(o.origin().http_addr());
    for (proto, seen) in [("h1", "HTTP/1.1"), ("h2", "HTTP/2.0"), ("h3", "HTTP/3.0")] {
        passes(&o, &c, proto, seen, PROXIED);
    }
}

#[test]
fn hypercorn_with_aioquic_serves_h3() {
    let o = TestOrigin::start();
    let h = servers::hypercorn();
    passes(
        &o,
        &h,
        "h3",
        "HTTP/3",
        r#"  - { name: home, get: /, weight: 3, expect: { status: 200, headers: { x-client-protocol: "@SEEN@" }, body: { contains: hypercorn } } }
  - { name: echo, post: /echo, body: "to aioquic", expect: { body: { contains: "to aioquic" } } }
  - { name: teapot, get: /status/418, expect: { status: 418 } }"#,
    );
}

#[test]
fn alt_svc_discovery_finds_an_h3_endpoint_on_another_port() {
    let o = TestOrigin::start();
    let n = servers::nginx_quic_elsewhere(o.origin().http_addr());
    assert_ne!(n.quic_port, n.tls_port);
    let yaml = |discover: &str| {
        format!(
            "name: alt-svc\ntargets: {{ peer: {{ url: \"https://localhost:{port}\", connect_to: \"127.0.0.1:{port}\" }} }}\ntls: {{ ca: \"{ca}\" }}\n{discover}\nprotocols: [h3]\nconnect_timeout: 500ms\nload: {{ model: closed, concurrency: 2, requests: 20 }}\nrequests: [ {{ get: /, expect: {{ headers: {{ x-client-protocol: HTTP/3.0 }} }} }} ]\n",
            port = n.tls_port,
            ca = n.ca.display()
        )
    };
    let out = run(&o.scenario(&yaml("alt_svc: discover")));
    let l = &out.lanes[0];
    assert_eq!(l.stats.total().ok, 20, "{:?}", l.stats.total().errors);
    let a = l.alt_svc.as_ref().expect("discovery reported");
    assert_eq!(
        a.h3.as_deref(),
        Some(format!("127.0.0.1:{}", n.quic_port).as_str())
    );
    assert!(
        a.header.contains(&format!("h3=\":{}\"", n.quic_port)),
        "{}",
        a.header
    );
    // Without discovery, the URL's own UDP port has no QUIC listener: a protocol error.
    let out = run(&o.scenario(&yaml("")));
    let t = out.lanes[0].stats.total();
    assert_eq!(t.ok, 0);
    assert!(
        t.errors.contains_key(&(
            gauntlet::record::errors::ErrorClass::Protocol,
            "quic:no-answer".into()
        )),
        "{:?}",
        t.errors
    );
}
