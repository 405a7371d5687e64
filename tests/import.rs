//! `gauntlet import`: recorded traffic becomes a scenario that validates and runs. A HAR 1.2 file
//! written as Chromium exports it; an access log produced by real nginx from a known mix and
//! rate, replayed with `--timing original` and compared with the log; bad logs (truncated lines,
//! another format, binary junk) counted, never fatal; and a large log imported in bounded memory.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{gauntlet, text, TestOrigin};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
}

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// A HAR as Chromium's "Save all as HAR" writes it: pages, cookies, timings, HTTP/2
/// pseudo-headers, a POST with postData, an Authorization header, a third-party request.
fn chromium_har() -> String {
    let entry = |t: &str, method: &str, url: &str, extra_headers: &str, post: &str, status: u16| {
        format!(
            r#"{{"_initiator":{{"type":"other"}},"_priority":"VeryHigh","_resourceType":"fetch",
  "cache":{{}},"connection":"443","pageref":"page_1","startedDateTime":"{t}","time":3.2,
  "request":{{"method":"{method}","url":"{url}","httpVersion":"http/2.0",
    "headers":[{{"name":":authority","value":"shop.test"}},{{"name":":method","value":"{method}"}},
      {{"name":":path","value":"/"}},{{"name":":scheme","value":"https"}},
      {{"name":"accept","value":"application/json"}},{{"name":"accept-language","value":"en"}},
      {{"name":"cookie","value":"sid=SECRET-COOKIE-VALUE"}}{extra_headers}],
    "queryString":[],"cookies":[{{"name":"sid","value":"SECRET-COOKIE-VALUE","path":"/","domain":"shop.test","expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"secure":true}}],
    "headersSize":-1,"bodySize":0{post}}},
  "response":{{"status":{status},"statusText":"","httpVersion":"http/2.0","headers":[{{"name":"content-type","value":"application/json"}}],
    "cookies":[],"content":{{"size":2,"mimeType":"application/json","text":"{{}}"}},"redirectURL":"","headersSize":-1,"bodySize":-1,"_transferSize":120,"_error":null}},
  "serverIPAddress":"127.0.0.1","timings":{{"blocked":0.5,"dns":-1,"ssl":-1,"connect":-1,"send":0.1,"wait":2.1,"receive":0.5,"_blocked_queueing":0.3}}}}"#
        )
    };
    let auth = r#",{"name":"authorization","value":"Bearer SECRET-BEARER-TOKEN"}"#;
    let post = r#","postData":{"mimeType":"application/json","text":"{\"sku\":7,\"password\":\"SECRET-PASSWORD\"}"}"#;
    let entries = [
        entry(
            "2024-05-01T10:00:00.100Z",
            "GET",
            "https://shop.test/",
            "",
            "",
            200,
        ),
        entry(
            "2024-05-01T10:00:00.300Z",
            "GET",
            "https://shop.test/bytes/10",
            "",
            "",
            200,
        ),
        entry(
            "2024-05-01T10:00:00.350Z",
            "GET",
            "https://cdn.test/app.js",
            "",
            "",
            200,
        ),
        entry(
            "2024-05-01T10:00:00.600Z",
            "GET",
            "https://shop.test/bytes/20",
            auth,
            "",
            200,
        ),
        entry(
            "2024-05-01T10:00:01.200Z",
            "POST",
            "https://shop.test/echo",
            auth,
            post,
            201,
        ),
        entry(
            "2024-05-01T10:00:01.900Z",
            "GET",
            "https://shop.test/bytes/30",
            "",
            "",
            200,
        ),
    ];
    format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"WebInspector","version":"537.36"}},
  "pages":[{{"startedDateTime":"2024-05-01T10:00:00.000Z","id":"page_1","title":"https://shop.test/","pageTimings":{{"onContentLoad":120.5,"onLoad":300.1}}}}],
  "entries":[{}]}}}}"#,
        entries.join(",\n")
    )
}

#[test]
fn a_chromium_har_imports_validates_and_runs() {
    let origin = TestOrigin::start();
    let dir = origin.dir.path();
    std::fs::write(dir.join("shop.har"), chromium_har()).unwrap();
    let o = gauntlet(
        &[
            "import",
            "har",
            "shop.har",
            "--timing",
            "original",
            "--speed",
            "2",
            "--target",
            &origin.http(),
            "-o",
            "shop.yaml",
        ],
        dir,
    );
    ok(&o);
    let yaml = std::fs::read_to_string(dir.join("shop.yaml")).unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    for secret in [
        "SECRET-BEARER-TOKEN",
        "SECRET-COOKIE-VALUE",
        "SECRET-PASSWORD",
    ] {
        assert!(!yaml.contains(secret), "{secret} leaked:\n{yaml}");
    }
    for var in ["AUTHORIZATION", "COOKIE", "PASSWORD"] {
        assert!(
            yaml.contains(&format!("${{GAUNTLET_SECRET_{var}}}")),
            "{var}:\n{yaml}"
        );
    }
    assert!(
        stderr.contains("dropped those to other hosts: cdn.test (1)"),
        "{stderr}"
    );
    assert!(stderr.contains("5 requests parsed"), "{stderr}");
    assert!(
        !yaml.contains(":authority") && !yaml.contains("pageref"),
        "{yaml}"
    );
    // /bytes/10, /bytes/20 and /bytes/30 are one request, sent to the first path seen.
    assert!(
        yaml.contains("name: GET /bytes/{id}\n  weight: 3\n"),
        "{yaml}"
    );
    assert!(yaml.contains("path: /bytes/10\n"), "{yaml}");
    let env = [
        ("GAUNTLET_SECRET_AUTHORIZATION", "Bearer replayed"),
        ("GAUNTLET_SECRET_COOKIE", "sid=replayed"),
        ("GAUNTLET_SECRET_PASSWORD", "replayed"),
    ];
    let v = bin()
        .args(["validate", "shop.yaml"])
        .envs(env)
        .current_dir(dir)
        .output()
        .unwrap();
    ok(&v);
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("1 targets, 1 protocols, 3 requests"),
        "{}",
        text(&v)
    );
    // Without the variables the scenario says which one is missing, as any scenario does.
    let bare = gauntlet(&["validate", "shop.yaml"], dir);
    assert_eq!(bare.status.code(), Some(2), "{}", text(&bare));
    let r = bin()
        .args(["run", "shop.yaml", "--out", "run", "--quiet"])
        .envs(env)
        .current_dir(dir)
        .output()
        .unwrap();
    ok(&r);
    let res = results(&dir.join("run"));
    let lane = &res["lanes"][0];
    assert_eq!(lane["summary"]["count"], 5, "{}", text(&r));
    assert_eq!(lane["summary"]["errors"], 0, "{}", text(&r));
}

/// Requests per second of a combined log, from its first second, and per path.
fn log_shape(log: &str) -> (Vec<u64>, BTreeMap<String, u64>) {
    let mut seconds: Vec<i64> = Vec::new();
    let mut paths = BTreeMap::new();
    for line in log.lines() {
        let time = line.split('[').nth(1).unwrap().split(' ').next().unwrap();
        let hms: Vec<i64> = time
            .split_once(':')
            .unwrap()
            .1
            .split(':')
            .map(|x| x.parse().unwrap())
            .collect();
        seconds.push(hms[0] * 3600 + hms[1] * 60 + hms[2]);
        let path = line.split('"').nth(1).unwrap().split(' ').nth(1).unwrap();
        *paths.entry(path.to_string()).or_default() += 1;
    }
    let first = *seconds.iter().min().unwrap();
    let mut counts = vec![0; (seconds.iter().max().unwrap() - first + 1) as usize];
    for s in seconds {
        counts[(s - first) as usize] += 1;
    }
    (counts, paths)
}

#[test]
fn an_nginx_log_is_replayed_with_its_mix_and_rate() {
    let origin = TestOrigin::start();
    let nginx = common::servers::nginx_access_log(origin.origin().http_addr());
    let access_log = nginx.dir.path().join("access.log");
    let dir = origin.dir.path();
    let url = format!("http://127.0.0.1:{}", nginx.h1_port);
    // The recorded load: 3 : 1 between two paths, rising from 20/s to 60/s and back.
    let scenario = format!(
        "name: recorded\ntargets: {{ nginx: '{url}' }}\nseed: 7\nload:\n  stages:\n    - {{ duration: 2s, rate: 20 }}\n    - {{ duration: 2s, rate: 60 }}\n    - {{ duration: 2s, rate: 30 }}\nrequests:\n  - {{ get: /, weight: 3 }}\n  - {{ get: /bytes/100, weight: 1 }}\n"
    );
    std::fs::write(dir.join("recorded.yaml"), scenario).unwrap();
    ok(&gauntlet(
        &["run", "recorded.yaml", "--out", "recorded", "--quiet"],
        dir,
    ));
    let log = std::fs::read_to_string(&access_log).unwrap();
    let (recorded, recorded_paths) = log_shape(&log);
    let total: u64 = recorded.iter().sum();
    // 2 s × 20/s + 2 s × 60/s + 2 s × 30/s.
    assert_eq!(total, 220, "{log}");

    let o = gauntlet(
        &[
            "import",
            "nginx-log",
            access_log.to_str().unwrap(),
            "--timing",
            "original",
            "--target",
            &url,
            "-o",
            "replay.yaml",
        ],
        dir,
    );
    ok(&o);
    let yaml = std::fs::read_to_string(dir.join("replay.yaml")).unwrap();
    for (name, path) in [("GET /", "/"), ("GET /bytes/{id}", "/bytes/100")] {
        let want = format!("name: {name}\n  weight: {}\n", recorded_paths[path]);
        assert!(yaml.contains(&want), "{want}\n{yaml}");
    }
    ok(&gauntlet(&["validate", "replay.yaml"], dir));
    ok(&gauntlet(
        &["run", "replay.yaml", "--out", "replay", "--quiet"],
        dir,
    ));

    let res = results(&dir.join("replay"));
    let lane = &res["lanes"][0];
    let replayed = lane["summary"]["count"].as_u64().unwrap();
    // The plan sends exactly the recorded count; a request completing in the same run is all
    // that could shift it, so ±10% is generous.
    assert!(
        replayed.abs_diff(total) * 10 <= total,
        "{replayed} vs {total}"
    );
    // The mix: each path's share within 5 percentage points of the log's.
    let mut by_name = BTreeMap::new();
    for r in lane["requests"].as_array().unwrap() {
        by_name.insert(
            r["name"].as_str().unwrap().to_string(),
            r["summary"]["count"].as_u64().unwrap(),
        );
    }
    let share = |n: u64, of: u64| n as f64 * 100.0 / of as f64;
    let pairs = [("GET /", "/"), ("GET /bytes/{id}", "/bytes/100")];
    for (name, path) in pairs {
        let (got, want) = (
            share(by_name[name], replayed),
            share(recorded_paths[path], total),
        );
        assert!(
            (got - want).abs() <= 5.0,
            "{name}: {got:.1}% replayed vs {want:.1}% recorded"
        );
    }
    // The shape: second by second, within 25% + 3 requests of the log (a request due near a
    // second's end may complete in the next one).
    let timeline: Vec<u64> = lane["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .collect();
    for (t, want) in recorded.iter().enumerate() {
        let got = timeline.get(t).copied().unwrap_or(0);
        assert!(
            got.abs_diff(*want) <= want / 4 + 3,
            "second {t}: {got} replayed vs {want} recorded\nreplayed {timeline:?}\nrecorded {recorded:?}"
        );
    }
    eprintln!(
        "recorded {recorded:?}\nreplayed {timeline:?}\nmix {by_name:?} vs {recorded_paths:?}"
    );
    // And the busy middle of the log stands out in the replay as it did in the log.
    let peak = |v: &[u64]| v.iter().enumerate().max_by_key(|(_, c)| **c).unwrap().0;
    assert!(
        peak(&timeline).abs_diff(peak(&recorded)) <= 1,
        "{timeline:?} vs {recorded:?}"
    );
}

#[test]
fn bad_lines_are_counted_with_examples_and_never_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = Vec::new();
    for i in 0..6 {
        writeln!(log, r#"10.0.0.1 - - [01/May/2024:10:00:0{i} +0000] "GET /items/{i} HTTP/1.1" 200 5 "-" "curl/8""#).unwrap();
    }
    log.extend_from_slice(b"10.0.0.1 - - [01/May/2024:10:00:07 +0000] \"GET /trunc\n");
    log.extend_from_slice(b"{\"time\":\"2024-05-01T10:00:08Z\",\"request\":\"GET / HTTP/1.1\"}\n");
    log.extend_from_slice(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\n");
    log.extend_from_slice(&[0u8, 159, 146, 150, 10]);
    log.extend_from_slice(&vec![b'x'; 20_000]);
    log.push(b'\n');
    std::fs::write(d.join("mixed.log"), &log).unwrap();
    let o = gauntlet(&["import", "nginx-log", "mixed.log", "-o", "mixed.yaml"], d);
    ok(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    for want in [
        "11 read, 6 requests parsed, 5 skipped",
        "skipped 2: not in the log format",
        "skipped 2: not text",
        "skipped 1: longer than 16 KiB",
        "e.g. line 7 (not in the log format): 10.0.0.1 - - [01/May/2024:10:00:07 +0000] \"GET /trunc",
        "e.g. line 9 (not text): \\x16\\x03\\x01",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in\n{stderr}");
    }
    let yaml = std::fs::read_to_string(d.join("mixed.yaml")).unwrap();
    assert!(
        yaml.contains("name: GET /items/{id}\n  weight: 6\n"),
        "{yaml}"
    );
    assert!(yaml.contains("#   skipped 2: not text"), "{yaml}");
    ok(&gauntlet(&["validate", "mixed.yaml"], d));

    // Nothing usable at all: exit 2, with what was skipped, and no file written.
    std::fs::write(
        d.join("junk.log"),
        [&b"\x00\xff\xfe\n"[..], b"hello world\n"].concat(),
    )
    .unwrap();
    let o = gauntlet(&["import", "nginx-log", "junk.log", "-o", "junk.yaml"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no request could be read from junk.log"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped 1: not text"), "{stderr}");
    assert!(!d.join("junk.yaml").exists());
    // A JSON log read as JSON is fine; bad flags name the flag.
    std::fs::write(d.join("j.log"), "{\"time_iso8601\":\"2024-05-01T10:00:08Z\",\"request\":\"GET /j HTTP/1.1\",\"status\":200}\n").unwrap();
    ok(&gauntlet(
        &[
            "import",
            "nginx-log",
            "j.log",
            "--format",
            "json",
            "-o",
            "j.yaml",
        ],
        d,
    ));
    for (flag, args) in [
        ("--format", vec!["--format", "$remote_addr"]),
        ("--speed", vec!["--timing", "original", "--speed", "-1"]),
        ("--max-requests", vec!["--max-requests", "0"]),
        ("--target", vec!["--target", "ftp://x"]),
    ] {
        let mut all = vec!["import", "nginx-log", "j.log", "-o", "x.yaml"];
        all.extend(args);
        let o = gauntlet(&all, d);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(flag),
            "{}",
            text(&o)
        );
    }
}

/// Peak resident memory of a running child, read from /proc until it exits (VmHWM only grows,
/// so the last reading is the peak up to a few milliseconds before the end).
fn peak_rss_kib(child: &mut Child) -> (u64, std::process::ExitStatus) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (peak, st);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_large_log_imports_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    // 80 MB: 10,000 distinct paths (past the group cap), long user agents, a junk line now and
    // then; times over two hours.
    let agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
    let mut lines = 0u64;
    let mut written = 0u64;
    while written < 80_000_000 {
        let s = lines / 50;
        let line = format!(
            "10.1.{}.{} - - [01/May/2024:{:02}:{:02}:{:02} +0000] \"GET /p{}/item/{} HTTP/1.1\" 200 512 \"-\" \"{agent}\"\n",
            lines % 200, lines % 250, 10 + s / 3600, s / 60 % 60, s % 60, lines % 10_000, lines
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        lines += 1;
        if lines % 100_000 == 0 {
            w.write_all(b"\x16\x03\x01junk\n").unwrap();
        }
    }
    w.flush().unwrap();
    drop(w);
    let mut child = bin()
        .args([
            "import",
            "nginx-log",
            "big.log",
            "--timing",
            "original",
            "-o",
            "big.yaml",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let (peak_kib, status) = peak_rss_kib(&mut child);
    let stderr = reader.join().unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{lines} requests parsed")),
        "{lines}: {stderr}"
    );
    assert!(
        stderr.contains(&format!("skipped {}: not text", lines / 100_000)),
        "{stderr}"
    );
    assert!(stderr.contains("groups past the first 4096"), "{stderr}");
    // Every request is in the replayed rate, those of dropped groups too.
    let timed = format!("load: the recorded arrivals, {lines} requests over");
    assert!(stderr.contains(&timed), "{timed}\n{stderr}");
    // The bound the README states for any log is 200 MB; this log's groups hold far less.
    assert!(
        peak_kib > 0 && peak_kib < 200 * 1024,
        "peak RSS {peak_kib} KiB\n{stderr}"
    );
    eprintln!(
        "imported {written} bytes, {lines} lines, peak RSS {} MiB",
        peak_kib / 1024
    );
}
