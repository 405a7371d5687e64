//! HTTP/3 over real QUIC on loopback against the in-process origin: every endpoint, both load
//! models, expectations, and the QUIC-specific error classes.

mod common;

use common::{run, TestOrigin};
use gauntlet::origin::OriginConfig;
use gauntlet::record::errors::ErrorClass;

#[test]
fn every_endpoint_works_over_h3_in_both_models() {
    let o = TestOrigin::start();
    for load in [
        "{ rate: 200, duration: 1s, connections: 2, max_streams: 8 }",
        "{ model: closed, concurrency: 8, connections: 2, requests: 200 }",
    ] {
        let s = o.scenario(&format!(
            r#"
name: h3-endpoints
targets: {{ t: "{}" }}
tls: {{ ca: ca.pem }}
protocols: [h3]
load: {load}
requests:
  - {{ name: home, get: /, expect: {{ status: 200, headers: {{ content-type: "text/html*" }}, body: {{ contains: hello }} }} }}
  - {{ name: bytes, get: /bytes/70000, expect: {{ headers: {{ content-length: "70000" }} }} }}
  - {{ name: chunked, get: /chunked/5000 }}
  - {{ name: delay, get: /delay/3 }}
  - {{ name: status, get: /status/418, expect: {{ status: 418 }} }}
  - {{ name: echo, post: /echo, body: "over quic", expect: {{ body: {{ regex: '"body":"over quic".*"version":"HTTP/3.0"' }} }} }}
  - {{ name: headers, get: /headers/5, expect: {{ headers: {{ x-gauntlet-4: value-4 }} }} }}
  - {{ name: trailers, get: /trailers/3000, headers: {{ te: trailers }}, expect: {{ headers: {{ trailer: x-gauntlet-trailer }} }} }}
"#,
            o.https()
        ));
        let out = run(&s);
        let l = &out.lanes[0];
        assert_eq!(l.protocol.as_str(), "h3");
        let t = l.stats.total();
        assert_eq!(t.count, 200, "{load}");
        assert_eq!(t.ok, 200, "{load}: {:?} {:?}", t.errors, t.error_examples);
        for (i, r) in l.stats.requests.iter().enumerate() {
            assert!(r.count > 0, "request {i} ran");
        }
        let bytes = &l.stats.requests[1];
        assert!(t.bytes >= bytes.count * 70_000);
        assert!(l.stats.connections_opened >= 1 && l.stats.connections_opened <= 2);
        assert_eq!(
            l.stats.handshake.len(),
            l.stats.connections_opened,
            "the QUIC handshake is timed"
        );
    }
}

#[test]
fn the_origin_advertises_h3_with_alt_svc() {
    let o = TestOrigin::start();
    let port = o.origin().h3().expect("h3 on by default").port();
    let s = o.scenario(&format!(
        "name: alt\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h1, h2]\nload: {{ model: closed, concurrency: 1, requests: 3 }}\nrequests: [ {{ get: /, expect: {{ headers: {{ alt-svc: 'h3=\":{port}\"*' }} }} }} ]\n",
        o.https()
    ));
    let out = run(&s);
    for l in &out.lanes {
        assert_eq!(l.stats.total().ok, 3, "{:?}", l.stats.total().errors);
    }
}

#[test]
fn a_target_without_quic_is_a_protocol_error_not_a_fallback() {
    // The TLS listener answers h1 and h2 on TCP, but nothing listens on its UDP port.
    let o = TestOrigin::with(OriginConfig {
        h3: false,
        ..OriginConfig::loopback()
    });
    let s = o.scenario(&format!(
        "name: no-quic\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h3]\nconnect_timeout: 500ms\nload: {{ model: closed, concurrency: 1, requests: 2 }}\nrequests: [ {{ get: / }} ]\n",
        o.https()
    ));
    let out = run(&s);
    let t = out.lanes[0].stats.total();
    assert_eq!(t.ok, 0);
    assert_eq!(
        t.errors
            .get(&(ErrorClass::Protocol, "quic:no-answer".into())),
        Some(&2),
        "{:?}",
        t.errors
    );
}

#[test]
fn an_untrusted_certificate_over_quic_is_a_tls_error() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: untrusted\ntargets: {{ t: \"{}\" }}\nprotocols: [h3]\nload: {{ model: closed, concurrency: 1, requests: 2 }}\nrequests: [ {{ get: / }} ]\n",
        o.https()
    ));
    let out = run(&s);
    let st = &out.lanes[0].stats;
    assert_eq!(st.connections_opened, 0);
    assert!(
        st.total()
            .errors
            .keys()
            .all(|(c, code)| *c == ErrorClass::Tls && code.starts_with("quic:")),
        "{:?}",
        st.total().errors
    );
}

#[test]
fn a_server_that_goes_away_mid_run_gives_classified_errors() {
    let mut o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: gone\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h3]\nconnect_timeout: 300ms\ntimeout: 500ms\nload: {{ rate: 100, duration: 2s, connections: 1 }}\nrequests: [ {{ get: / }} ]\n",
        o.https()
    ));
    let stopper = o.stop_after(std::time::Duration::from_millis(700));
    let out = run(&s);
    stopper.join().unwrap();
    let st = &out.lanes[0].stats;
    let t = st.total();
    assert_eq!(
        t.count + st.not_sent + st.cancelled,
        200,
        "every planned arrival is sent, cancelled at the deadline or reported as not sent"
    );
    assert!(
        t.ok > 20 && t.ok < 150,
        "some passed before the stop: {}",
        t.ok
    );
    assert!(t.error_count() > 0);
    assert_eq!(t.ok + t.error_count(), t.count);
    assert!(
        t.errors.keys().all(|(c, _)| matches!(
            c,
            ErrorClass::Protocol | ErrorClass::Timeout | ErrorClass::Reset
        )),
        "{:?}",
        t.errors
    );
}

#[test]
fn early_data_is_tried_on_resumed_connections_and_its_acceptance_reported() {
    let o = TestOrigin::start();
    for early in [true, false] {
        let s = o.scenario(&format!(
            "name: zero-rtt\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem, early_data: {early} }}\nprotocols: [h3]\nload: {{ model: closed, concurrency: 1, requests: 12, requests_per_connection: 1, threads: 1 }}\nrequests: [ {{ get: /, expect: {{ status: 200 }} }} ]\n",
            o.https()
        ));
        let out = run(&s);
        let st = &out.lanes[0].stats;
        assert_eq!(st.total().ok, 12, "{:?}", st.total().errors);
        assert_eq!(st.connections_opened, 12);
        if early {
            // The first connection has no session to resume; the others send 0-RTT.
            assert!(
                st.early_data_attempted >= 10,
                "attempted {}",
                st.early_data_attempted
            );
            assert_eq!(
                st.early_data_accepted, st.early_data_attempted,
                "our origin accepts 0-RTT"
            );
        } else {
            assert_eq!(st.early_data_attempted, 0);
        }
    }
}
