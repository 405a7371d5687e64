//! Through a real nginx (Debian's, started by the test) in front of the in-process origin: the
//! scenario's requests over HTTP/1.1 (cleartext and TLS) and HTTP/2 (TLS), the negotiated
//! protocol as nginx saw it, and h2c against nginx's HTTP/1.1-only port as a protocol error.

mod common;

use common::servers::{self, Server};
use common::{lane, run, TestOrigin};
use gauntlet::record::errors::ErrorClass;

/// The scenario through nginx: TLS for every protocol, and the cleartext port for HTTP/1.1.
fn through_nginx(n: &Server, proto: &str, client_protocol: &str) -> String {
    let clear = if proto == "h1" {
        format!("  clear: \"http://127.0.0.1:{}\"\n", n.h1_port)
    } else {
        String::new()
    };
    format!(
        r#"
name: via-nginx-{proto}
targets:
{clear}  tls: "https://localhost:{tls}"
tls: {{ ca: "{ca}" }}
protocols: [{proto}]
load: {{ model: closed, concurrency: 4, requests: 200 }}
requests:
  - {{ name: home, get: /, weight: 4, expect: {{ status: 200, headers: {{ x-client-protocol: "{client_protocol}" }}, body: {{ contains: hello }} }} }}
  - {{ name: bytes, get: /bytes/20000, expect: {{ status: 200, headers: {{ content-length: "20000" }} }} }}
  - {{ name: chunked, get: /chunked/3000 }}
  - {{ name: echo, post: /echo, body: "ping", expect: {{ body: {{ regex: '"body":"ping"' }} }} }}
  - {{ name: missing, get: /status/404, expect: {{ status: 404 }} }}
"#,
        tls = n.tls_port,
        ca = n.ca.display(),
    )
}

#[test]
fn h1_and_h2_through_nginx_pass_with_the_protocol_nginx_saw() {
    let o = TestOrigin::start();
    let n = servers::nginx(o.origin().http_addr(), false);
    for (proto, seen) in [("h1", "HTTP/1.1"), ("h2", "HTTP/2.0")] {
        let s = o.scenario(&through_nginx(&n, proto, seen));
        let out = run(&s);
        for l in &out.lanes {
            let t = l.stats.total();
            assert_eq!(t.count, 200, "{} {}", l.target, proto);
            assert_eq!(
                t.ok, 200,
                "{} {}: {:?} {:?}",
                l.target, proto, t.errors, t.error_examples
            );
            assert_eq!(t.statuses.get(&404), Some(&l.stats.requests[4].count));
        }
        if proto == "h1" {
            assert_eq!(lane(&out, "clear", "h1").stats.total().ok, 200);
        }
        let tls = &lane(&out, "tls", proto).stats;
        assert!(tls.connections_opened >= 1 && !tls.handshake.is_empty());
    }
}

#[test]
fn h2c_against_nginx_http1_port_is_a_protocol_error() {
    let o = TestOrigin::start();
    let n = servers::nginx(o.origin().http_addr(), false);
    let s = o.scenario(&format!(
        "name: h2c-on-h1\ntargets: {{ t: \"h2c://127.0.0.1:{}\" }}\nprotocols: [h2]\nload: {{ model: closed, concurrency: 1, requests: 3 }}\ntimeout: 2s\nrequests: [ {{ get: / }} ]\n",
        n.h1_port
    ));
    let out = run(&s);
    let t = out.lanes[0].stats.total();
    assert_eq!(t.ok, 0);
    assert_eq!(t.error_count(), 3);
    assert!(
        t.errors
            .keys()
            .all(|(c, _)| matches!(c, ErrorClass::Protocol | ErrorClass::Reset)),
        "{:?}",
        t.errors
    );
    assert!(
        t.errors.keys().any(|(c, _)| *c == ErrorClass::Protocol),
        "{:?}",
        t.errors
    );
}

#[test]
fn a_client_certificate_is_presented_for_mutual_tls() {
    let o = TestOrigin::start();
    let n = servers::nginx(o.origin().http_addr(), false);
    let d = n.dir.path().display();
    for (client_auth, status) in [
        (
            format!(", client_cert: \"{d}/client.pem\", client_key: \"{d}/client-key.pem\""),
            200,
        ),
        (String::new(), 403),
    ] {
        let s = o.scenario(&format!(
            "name: mtls\ntargets: {{ t: \"https://localhost:{}\" }}\ntls: {{ ca: \"{}\"{client_auth} }}\nprotocols: [h1, h2]\nload: {{ model: closed, concurrency: 1, requests: 4 }}\nrequests: [ {{ get: /mtls/, expect: {{ status: {status}, body: {{ contains: \"{}\" }} }} }} ]\n",
            n.tls_port,
            n.ca.display(),
            if status == 200 { "CN=gauntlet client" } else { "no client certificate" }
        ));
        let out = run(&s);
        for l in &out.lanes {
            assert_eq!(
                l.stats.total().ok,
                4,
                "{} {status}: {:?} {:?}",
                l.protocol.as_str(),
                l.stats.total().errors,
                l.stats.total().error_examples
            );
        }
    }
}

/// nginx ends each connection after 100 requests here (its default is 1,000): over h1, h2c, h2
/// and, on 1.26, h3, a closed-model run at 64 in flight over 2 connections loses no request.
/// What nginx did not process is retried on a fresh connection and counted; the GOAWAYs and
/// recycled connections are counted too.
#[test]
fn nginx_ending_connections_gracefully_costs_no_request() {
    let o = TestOrigin::start();
    for h3 in [false, true] {
        let n = servers::nginx_keepalive_requests(o.origin().http_addr(), h3, 100);
        let mut cases = vec![
            (format!("https://localhost:{}", n.tls_port), "[h2]", 64),
            (format!("h2c://127.0.0.1:{}", n.h2c_port), "[h2]", 64),
            // HTTP/1.1 carries one request per connection at a time: 8 of them recycle often.
            (format!("https://localhost:{}", n.tls_port), "[h1]", 8),
        ];
        if h3 {
            cases.push((format!("https://localhost:{}", n.tls_port), "[h3]", 64));
        }
        for (url, protocols, concurrency) in cases {
            let s = o.scenario(&format!(
                "name: keepalive-requests\ntargets: {{ t: \"{url}\" }}\ntls: {{ ca: \"{}\" }}\nprotocols: {protocols}\nload: {{ model: closed, concurrency: {concurrency}, connections: 2, duration: 2s }}\nrequests: [ {{ get: /, expect: {{ status: 200 }} }} ]\n",
                n.ca.display()
            ));
            let out = run(&s);
            let l = &out.lanes[0].stats;
            let t = l.total();
            let who = format!("nginx (h3 build: {h3}) {url} {protocols}");
            assert!(t.count >= 500, "{who}: {}", t.count);
            assert_eq!(
                t.ok, t.count,
                "{who}: {:?} {:?}",
                t.errors, t.error_examples
            );
            assert!(l.recycled >= 3, "{who}: recycled {}", l.recycled);
            assert!(l.peer_frames.goaway >= 3, "{who}: {:?}", l.peer_frames);
            if protocols != "[h1]" {
                // Requests sent while nginx's GOAWAY was on its way were not processed.
                assert!(t.retried >= 1, "{who}: retried {}", t.retried);
            }
        }
    }
}
