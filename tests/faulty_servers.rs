//! Servers that misbehave on purpose, on raw loopback sockets: a malformed response, a response
//! cut short, a chunk size that is not a number, and a server that accepts and never answers.
//! Each gives a classified error, never a panic or a hang. And one that closes idle
//! connections, which must cost no request.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{run, TestOrigin};
use gauntlet::record::errors::ErrorClass;

/// Listens on a loopback port and hands each connection to `serve` on a thread of its own.
fn listen(serve: impl Fn(TcpStream) + Send + Copy + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Serves every connection with `reply` after reading the request head, then closes.
fn raw_server(reply: &'static [u8]) -> u16 {
    listen(move |mut s| {
        let mut buf = [0u8; 4096];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(reply);
        if reply.is_empty() {
            std::thread::sleep(Duration::from_secs(5));
        }
    })
}

fn errors_for(port: u16, timeout: &str) -> std::collections::BTreeMap<(ErrorClass, String), u64> {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: faulty\ntargets: {{ t: \"http://127.0.0.1:{port}\" }}\nload: {{ model: closed, concurrency: 1, requests: 3 }}\ntimeout: {timeout}\nrequests: [ {{ get: / }} ]\n"
    ));
    let out = run(&s);
    let t = out.lanes[0].stats.total();
    assert_eq!(t.count, 3);
    assert_eq!(t.ok, 0);
    t.errors
}

#[test]
fn a_malformed_response_is_a_protocol_error() {
    let errors = errors_for(raw_server(b"HELLO WORLD\r\n\r\n"), "2s");
    assert_eq!(
        errors.get(&(ErrorClass::Protocol, "parse".into())),
        Some(&3),
        "{errors:?}"
    );
}

#[test]
fn a_response_cut_short_is_a_reset() {
    let errors = errors_for(
        raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten.."),
        "2s",
    );
    assert!(
        errors.keys().all(|(c, _)| *c == ErrorClass::Reset),
        "{errors:?}"
    );
    assert_eq!(errors.values().sum::<u64>(), 3);
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    let errors = errors_for(raw_server(b""), "300ms");
    assert_eq!(
        errors.get(&(ErrorClass::Timeout, "request".into())),
        Some(&3),
        "{errors:?}"
    );
}

#[test]
fn a_204_with_content_length_is_a_protocol_error_over_http1() {
    let errors = errors_for(
        raw_server(b"HTTP/1.1 204 No Content\r\ncontent-length: 11\r\n\r\n"),
        "2s",
    );
    assert_eq!(
        errors.get(&(ErrorClass::Protocol, "framing:content-length-on-204".into())),
        Some(&3),
        "{errors:?}"
    );
}

#[test]
fn an_invalid_chunk_size_is_a_protocol_error_not_a_reset() {
    let errors = errors_for(
        raw_server(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ),
        "2s",
    );
    assert_eq!(
        errors.get(&(ErrorClass::Protocol, "framing:chunked".into())),
        Some(&3),
        "{errors:?}"
    );
}

/// Answers requests on each connection with keep-alive responses and closes the connection once
/// it has sat idle for 100 ms, as a server's keep-alive timeout does.
fn idle_closing_server() -> u16 {
    listen(|mut s| {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 4096];
        let mut seen = Vec::new();
        loop {
            match s.read(&mut buf) {
                // Idle past the timeout (or gone): the connection is closed.
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                seen.drain(..end + 4);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            }
        }
    })
}

#[test]
fn a_connection_the_server_closed_while_idle_costs_no_request() {
    // 4 requests a second on one connection: 250 ms apart, each finds the connection the
    // server closed after 100 ms idle. The close is seen before the request is written, so
    // the request goes on a new connection, counted as retried, never as an error.
    let port = idle_closing_server();
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: idle\ntargets: {{ t: \"http://127.0.0.1:{port}\" }}\nprotocols: [h1]\nload: {{ model: open, rate: 4, duration: 2s, connections: 1 }}\nrequests: [ {{ get: / }} ]\n"
    ));
    let out = run(&s);
    let t = out.lanes[0].stats.total();
    assert!(t.count >= 6, "{}", t.count);
    assert_eq!(t.ok, t.count, "{:?} {:?}", t.errors, t.error_examples);
    assert!(t.retried >= 4, "retried {}", t.retried);
}
