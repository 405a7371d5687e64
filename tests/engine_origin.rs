//! The measurement path end to end against the in-process origin on port 0: h1, h2 over TLS and
//! h2c; open and closed model; counts, statuses, bytes, expectations, error classes, churn and
//! resumption, connect_to, IPv6.

mod common;

use common::{lane, run, TestOrigin};
use gauntlet::origin::OriginConfig;
use gauntlet::record::errors::ErrorClass;

#[test]
fn open_model_sends_exactly_the_planned_arrivals_over_h1_h2_and_h2c() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: counts
targets: {{ tls: "{}", clear: "{}" }}
tls: {{ ca: ca.pem }}
protocols: [h1, h2]
load: {{ rate: 200, duration: 1s, connections: 2, max_streams: 4 }}
requests:
  - {{ name: home, get: /, weight: 3, expect: {{ status: 200, body: {{ contains: hello }} }} }}
  - {{ name: bytes, get: /bytes/1000, weight: 1, expect: {{ headers: {{ content-length: "1000" }} }} }}
"#,
        o.https(),
        o.h2c()
    ));
    let out = run(&s);
    assert_eq!(out.lanes.len(), 4);
    for l in &out.lanes {
        let t = l.stats.total();
        assert_eq!(
            t.count,
            200,
            "{} {}: 200/s for 1 s",
            l.target,
            l.protocol.as_str()
        );
        assert_eq!(
            t.ok,
            200,
            "{} {}: {:?}",
            l.target,
            l.protocol.as_str(),
            t.errors
        );
        assert_eq!(t.statuses.get(&200), Some(&200));
        let bytes_reqs = l.stats.requests[1].count;
        assert!(
            bytes_reqs > 20 && bytes_reqs < 90,
            "weight 1 of 4: {bytes_reqs}"
        );
        assert!(t.bytes >= bytes_reqs * 1000, "bytes counted");
        assert_eq!(t.latency.len(), 200, "one latency sample per request");
        assert!(l.stats.connections_opened >= 1 && l.stats.connections_opened <= 2);
    }
    assert_eq!(
        lane(&out, "tls", "h2").stats.handshake.len(),
        lane(&out, "tls", "h2").stats.connections_opened,
        "every TLS connection timed its handshake"
    );
    assert!(
        lane(&out, "clear", "h1").stats.handshake.is_empty(),
        "no handshake on cleartext"
    );
}

#[test]
fn the_origin_sees_the_protocol_that_was_asked_for() {
    let o = TestOrigin::start();
    for (proto, url, version) in [
        ("h1", o.https(), "HTTP/1.1"),
        ("h2", o.https(), "HTTP/2.0"),
        ("h2", o.h2c(), "HTTP/2.0"),
        ("h1", o.http(), "HTTP/1.1"),
    ] {
        let s = o.scenario(&format!(
            r#"
name: versions
targets: {{ t: "{url}" }}
tls: {{ ca: ca.pem }}
protocols: [{proto}]
load: {{ model: closed, concurrency: 2, requests: 20 }}
requests:
  - post: /echo
    body: ping
    expect: {{ body: {{ contains: '"version":"{version}"' }} }}
"#
        ));
        let out = run(&s);
        let t = out.lanes[0].stats.total();
        assert_eq!((t.count, t.ok), (20, 20), "{proto} {url}: {:?}", t.errors);
    }
}

#[test]
fn closed_model_stops_at_the_request_count_with_the_asked_concurrency() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: closed
targets: {{ t: "{}" }}
tls: {{ ca: ca.pem }}
protocols: [h1, h2]
load: {{ model: closed, concurrency: 6, connections: 2, requests: 300, warmup: 0s }}
requests:
  - get: /delay/5
"#,
        o.https()
    ));
    let out = run(&s);
    let h1 = &lane(&out, "t", "h1").stats;
    let h2 = &lane(&out, "t", "h2").stats;
    assert_eq!(h1.total().count, 300);
    assert_eq!(h2.total().count, 300);
    assert_eq!(
        h1.connections_opened, 6,
        "HTTP/1.1: one connection per request in flight"
    );
    assert_eq!(
        h2.connections_opened, 2,
        "HTTP/2: the concurrency shares the connections"
    );
    // 6 in flight at ≥ 5 ms each: 300 requests need at least 250 ms.
    assert!(h1.total().latency.min() >= 5_000);
}

#[test]
fn failed_checks_are_counted_by_class_and_code() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: classes
targets: {{ t: "{}" }}
tls: {{ ca: ca.pem }}
load: {{ model: closed, concurrency: 2, requests: 40 }}
timeout: 150ms
requests:
  - {{ name: unavailable, get: /status/503, expect: {{ status: [200, 2xx] }} }}
  - {{ name: wrong-type, get: /, expect: {{ headers: {{ content-type: "application/*" }} }} }}
  - {{ name: missing-header, get: /, expect: {{ headers: {{ x-missing: "*" }} }} }}
  - {{ name: slow, get: /delay/1000 }}
"#,
        o.https()
    ));
    let out = run(&s);
    let r = &out.lanes[0].stats.requests;
    let only = |i: usize, class: ErrorClass, code: &str| {
        assert!(r[i].count > 0);
        assert_eq!(
            r[i].errors.get(&(class, code.to_string())),
            Some(&r[i].count),
            "request {i}: {:?}",
            r[i].errors
        );
        assert_eq!(r[i].ok, 0);
    };
    only(0, ErrorClass::Status, "503");
    only(1, ErrorClass::Expectation, "header:content-type");
    only(2, ErrorClass::Expectation, "header:x-missing");
    only(3, ErrorClass::Timeout, "request");
    assert!(
        r[3].latency.is_empty(),
        "a timed-out request has no latency sample"
    );
}

#[test]
fn asking_for_h2_from_an_http1_only_server_is_a_protocol_error_not_a_fallback() {
    let o = TestOrigin::with(OriginConfig {
        http1_only: true,
        ..OriginConfig::loopback()
    });
    let s = o.scenario(&format!(
        r#"
name: no-h2
targets: {{ tls: "{}", clear: "{}" }}
tls: {{ ca: ca.pem }}
protocols: [h2]
load: {{ model: closed, concurrency: 1, requests: 5 }}
timeout: 2s
requests:
  - get: /
"#,
        o.https(),
        o.h2c()
    ));
    let out = run(&s);
    let tls = lane(&out, "tls", "h2").stats.total();
    assert_eq!(tls.ok, 0);
    assert_eq!(
        tls.errors
            .get(&(ErrorClass::Protocol, "alpn:http/1.1".into())),
        Some(&5),
        "{:?}",
        tls.errors
    );
    let clear = lane(&out, "clear", "h2").stats.total();
    assert_eq!(clear.ok, 0);
    assert!(
        clear
            .errors
            .keys()
            .all(|(c, _)| *c == ErrorClass::Protocol || *c == ErrorClass::Reset),
        "{:?}",
        clear.errors
    );
    assert_eq!(clear.error_count(), 5);
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: untrusted
targets: {{ t: "{}" }}
tls: {{ server_name: localhost }}
load: {{ model: closed, concurrency: 1, requests: 3 }}
requests:
  - get: /
"#,
        o.https()
    ));
    let out = run(&s);
    let st = &out.lanes[0].stats;
    assert_eq!(st.connections_opened, 0);
    assert_eq!(st.connections_failed, 3);
    let t = st.total();
    assert!(
        t.errors
            .keys()
            .all(|(c, code)| *c == ErrorClass::Tls && code.starts_with("certificate")),
        "{:?}",
        t.errors
    );
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: refused
targets: {{ t: "http://127.0.0.1:{port}" }}
load: {{ rate: 50, duration: 200ms }}
requests:
  - get: /
"#
    ));
    let out = run(&s);
    let t = out.lanes[0].stats.total();
    assert_eq!(t.count, 10);
    assert_eq!(
        t.errors.get(&(ErrorClass::Connect, "refused".into())),
        Some(&10)
    );
}

#[test]
fn churn_opens_a_connection_per_request_with_and_without_resumption() {
    let o = TestOrigin::start();
    for (resumption, expect_resumed) in [(true, true), (false, false)] {
        let s = o.scenario(&format!(
            r#"
name: churn
targets: {{ t: "{}" }}
tls: {{ ca: ca.pem, resumption: {resumption} }}
load: {{ model: closed, concurrency: 2, requests: 30, requests_per_connection: 1, threads: 1 }}
requests:
  - get: /
"#,
            o.https()
        ));
        let out = run(&s);
        let st = &out.lanes[0].stats;
        assert_eq!(st.total().ok, 30);
        assert_eq!(
            st.connections_opened, 30,
            "a fresh connection for every request"
        );
        assert_eq!(st.handshake.len(), 30);
        if expect_resumed {
            assert!(st.resumed >= 25, "sessions resumed: {}", st.resumed);
        } else {
            assert_eq!(st.resumed, 0);
        }
    }
}

#[test]
fn connect_to_keeps_the_url_host_and_target_headers_reach_the_origin() {
    let o = TestOrigin::start();
    let port = o.origin().https_addr().port();
    let s = o.scenario(&format!(
        r#"
name: connect-to
targets:
  staging:
    url: https://localhost:{port}
    connect_to: 127.0.0.1:{port}
    headers: {{ x-route: legacy }}
tls: {{ ca: ca.pem }}
protocols: [h1, h2]
load: {{ model: closed, concurrency: 1, requests: 5 }}
requests:
  - get: /echo
    expect: {{ body: {{ regex: '"x-route":"legacy"' }} }}
"#
    ));
    let out = run(&s);
    for l in &out.lanes {
        assert_eq!(l.stats.total().ok, 5, "{:?}", l.stats.total().errors);
    }
}

#[test]
fn ipv6_literal_targets_work() {
    let cfg = OriginConfig {
        http: Some("[::1]:0".parse().unwrap()),
        https: Some("[::1]:0".parse().unwrap()),
        ..OriginConfig::loopback()
    };
    let o = TestOrigin::with(cfg);
    let s = o.scenario(&format!(
        r#"
name: v6
targets: {{ clear: "http://[::1]:{}", tls: "https://[::1]:{}" }}
tls: {{ ca: ca.pem }}
protocols: [h1, h2]
load: {{ model: closed, concurrency: 1, requests: 5 }}
requests:
  - get: /echo
    expect: {{ body: {{ regex: '"authority":"\[::1\]:\d+"' }} }}
"#,
        o.origin().http_addr().port(),
        o.origin().https_addr().port()
    ));
    let out = run(&s);
    for l in &out.lanes {
        assert_eq!(
            l.stats.total().ok,
            5,
            "{} {}: {:?}",
            l.target,
            l.protocol.as_str(),
            l.stats.total().errors
        );
    }
}

#[test]
fn responses_with_trailers_are_read_to_their_end() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: trailers\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h1, h2, h3]\nload: {{ model: closed, concurrency: 2, requests: 10 }}\nrequests: [ {{ get: /trailers/3000, headers: {{ te: trailers }} }} ]\n",
        o.https()
    ));
    let out = run(&s);
    for l in &out.lanes {
        let t = l.stats.total();
        assert_eq!(t.ok, 10, "{}: {:?}", l.protocol.as_str(), t.errors);
        assert_eq!(t.bytes, 30_000, "{}", l.protocol.as_str());
    }
}

#[test]
fn the_request_mix_depends_only_on_the_seed() {
    let o = TestOrigin::start();
    let counts = |seed: u64| {
        let s = o.scenario(&format!(
            "name: seeds\ntargets: {{ t: \"{}\" }}\nseed: {seed}\nload: {{ model: closed, concurrency: 3, requests: 90 }}\nrequests: [ {{ get: /, name: a }}, {{ get: /echo, name: b }}, {{ get: /bytes/10, name: c }} ]\n",
            o.http()
        ));
        run(&s).lanes[0]
            .stats
            .requests
            .iter()
            .map(|r| r.count)
            .collect::<Vec<_>>()
    };
    let first = counts(7);
    assert_eq!(first.iter().sum::<u64>(), 90);
    assert_eq!(counts(7), first, "the same seed gives the same mix");
    assert_ne!(counts(8), first, "another seed gives another mix");
}
