//! Quick mode (issue 15, part 2), through the binary as oha and curl users would type it:
//! `gauntlet run URL [URL2]` with each flag, `--json` parsed here, `-` reading a scenario from
//! standard input, and quick-mode flags refused beside a scenario file.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use common::{gauntlet, text, TestOrigin};
use serde_json::Value;

/// Runs `args` in `dir`, expecting `code` (for `-1`, any verdict: 0, 1 or 3, as an A/A comparison may reach),
/// and parses the `--json` summary.
fn json_run(dir: &std::path::Path, args: &[&str], code: i32) -> Value {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--quiet", "--json", "--out", "o"]);
    let o = gauntlet(&all, dir);
    let got = o.status.code();
    assert!(
        got == Some(code) || (code == -1 && matches!(got, Some(0 | 1 | 3))),
        "{all:?}\n{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(dir.join("o"));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&o)))
}

fn lane(v: &Value) -> &Value {
    &v["lanes"][0]
}

#[test]
fn a_url_with_duration_concurrency_count_and_rate() {
    let o = TestOrigin::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/bytes/100", o.http());
    let v = json_run(dir.path(), &[&url, "-z", "1s", "-c", "2"], 0);
    assert_eq!(v["scenario"], "quick");
    assert_eq!(lane(&v)["protocol"], "h1");
    assert!(lane(&v)["count"].as_u64().unwrap() > 0);
    assert_eq!(lane(&v)["statuses"]["200"], lane(&v)["count"]);
    let v = json_run(dir.path(), &[&url, "-n", "30", "-c", "3"], 0);
    assert_eq!(lane(&v)["count"], 30);
    let v = json_run(dir.path(), &[&url, "-q", "50", "-z", "1s"], 0);
    let l = lane(&v);
    let planned = l["count"].as_u64().unwrap()
        + l["not_sent"].as_u64().unwrap()
        + l["cancelled"].as_u64().unwrap();
    assert_eq!(planned, 50, "{v}");
}

/// A server that answers one request, sending what it read (up to `until`) on the channel.
fn capture(until: &'static str) -> (u16, mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(until) {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        tx.send(String::from_utf8_lossy(&seen).into_owned())
            .unwrap();
    });
    (port, rx)
}

#[test]
fn a_scenario_body_file_is_sent() {
    let (port, rx) = capture("from a file");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("payload.json"),
        "{\"sent\": \"from a file\"}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        format!("name: bf\ntargets: {{ a: \"http://127.0.0.1:{port}\" }}\nload: {{ model: closed, concurrency: 1, requests: 1 }}\nrequests: [ {{ post: /in, body_file: payload.json }} ]\n"),
    )
    .unwrap();
    let v = json_run(dir.path(), &["s.yaml"], 0);
    assert_eq!(lane(&v)["count"], 1);
    assert!(rx.recv().unwrap().contains("{\"sent\": \"from a file\"}"));
    // A file that is not there is an error at its key.
    std::fs::write(
        dir.path().join("t.yaml"),
        "name: bf\ntargets: { a: embedded }\nrequests: [ { post: /in, body_file: missing.json } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["validate", "t.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("t.yaml:3:"),
        "{}",
        text(&o)
    );
}

#[test]
fn method_headers_and_a_body_from_a_file_reach_the_server() {
    let (port, rx) = capture("the body text");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body.txt"), "the body text").unwrap();
    let url = format!("http://127.0.0.1:{port}/put/here?x=1");
    let v = json_run(
        dir.path(),
        &[
            &url,
            "-n",
            "1",
            "-c",
            "1",
            "-m",
            "put",
            "-H",
            "X-Test: yes",
            "-d",
            "@body.txt",
        ],
        0,
    );
    assert_eq!(lane(&v)["count"], 1);
    let req = rx.recv().unwrap().to_ascii_lowercase();
    assert!(req.starts_with("put /put/here?x=1 http/1.1"), "{req}");
    assert!(req.contains("x-test: yes"), "{req}");
    assert!(req.contains("the body text"), "{req}");
}

#[test]
fn protocols_tls_and_connect_to() {
    let o = TestOrigin::start();
    let dir = o.dir.path();
    let https = o.https();
    for (flag, proto) in [("--http1.1", "h1"), ("--http2", "h2"), ("--http3", "h3")] {
        let v = json_run(dir, &[&https, flag, "--ca", "ca.pem", "-n", "10"], 0);
        assert_eq!(lane(&v)["protocol"], proto);
        assert_eq!(lane(&v)["ok"], 10, "{v}");
    }
    // Without the CA the certificate is refused (no connection: exit 2); --insecure accepts it.
    let v = json_run(dir, &[&https, "-n", "5"], 2);
    assert_eq!(lane(&v)["ok"], 0);
    let v = json_run(dir, &[&https, "--insecure", "-n", "5"], 0);
    assert_eq!(lane(&v)["ok"], 5);
    // A name, dialled at a local address: Host and SNI keep the name.
    let port = https.rsplit(':').next().unwrap();
    let named = format!("https://shop.gauntlet.test:{port}/");
    let dial = format!("127.0.0.1:{port}");
    let v = json_run(
        dir,
        &[&named, "--connect-to", &dial, "--insecure", "-n", "5"],
        0,
    );
    assert_eq!(lane(&v)["ok"], 5, "{v}");
}

#[test]
fn two_urls_compare_candidate_and_baseline() {
    let a = TestOrigin::start();
    let b = TestOrigin::start();
    let dir = tempfile::tempdir().unwrap();
    let (u1, u2) = (format!("{}/", a.http()), format!("{}/", b.http()));
    let v = json_run(dir.path(), &[&u1, &u2, "-q", "100", "-z", "2s"], -1);
    let mut targets: Vec<&str> = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(targets, ["baseline", "candidate"]);
    assert!(
        v["comparison"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "p50"),
        "{v}"
    );
    // Different paths cannot be compared.
    let o = gauntlet(&["run", &u1, &format!("{}/other", b.http())], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_scenario_from_standard_input_and_quick_flags_refused_beside_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "-", "--quiet", "--json", "--out", "o"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"name: piped\ntargets: { a: embedded }\nload: { model: closed, concurrency: 1, requests: 5 }\nrequests: [ { get: / } ]\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["scenario"].as_str(), lane(&v)["count"].as_u64()),
        (Some("piped"), Some(5))
    );
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: s\ntargets: { a: embedded }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["run", "s.yaml", "-H", "a: b"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-H goes with a URL"));
}
