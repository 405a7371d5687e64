//! Live metrics into a real Prometheus (Debian's package, issue 14): started here on loopback
//! with its own config and data folder, once scraping `--metrics-addr`, once receiving
//! `--remote-write` from two shards; after each run its HTTP API is queried, and every counter
//! must equal the results file. A receiver that is not there fails the run (exit 2) instead of
//! dropping the metrics in silence.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, gauntlet, text};
use gauntlet::model::results::{read, ResultsFile};
use serde_json::Value;

/// Prometheus on loopback, killed when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `scrape` (every second) if given, with the remote-write
    /// receiver on.
    fn start(scrape: Option<u16>) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = String::from("global: { scrape_interval: 1s, evaluation_interval: 1s }\n");
        if let Some(p) = scrape {
            cfg.push_str(&format!(
                "scrape_configs:\n  - job_name: gauntlet\n    static_configs: [ {{ targets: [\"127.0.0.1:{p}\"] }} ]\n"
            ));
        }
        std::fs::write(dir.path().join("prometheus.yml"), cfg).unwrap();
        let port = free_port();
        let child = Command::new("/usr/bin/prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/prometheus runs (ci/install.sh installs it)");
        let p = Prometheus {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..300 {
            if p.get("/-/ready").is_some_and(|b| b.contains("Ready")) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Prometheus did not become ready");
    }

    fn get(&self, path: &str) -> Option<String> {
        let o = Command::new("curl")
            .args(["-sf", &format!("http://127.0.0.1:{}{path}", self.port)])
            .output()
            .ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    }

    /// An instant query's result: label set → value.
    fn query(&self, q: &str) -> Vec<(Value, f64)> {
        let o = Command::new("curl")
            .args([
                "-sf",
                &format!("http://127.0.0.1:{}/api/v1/query", self.port),
                "--data-urlencode",
                &format!("query={q}"),
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        v["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let x = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
                (r["metric"].clone(), x)
            })
            .collect()
    }

    /// `sum by (protocol, request)` of the last value of `metric{sel}`, zeros left out.
    fn by_request(&self, metric: &str, sel: &str) -> Vec<(String, String, u64)> {
        let mut out: Vec<(String, String, u64)> = self
            .query(&format!(
                "sum by (protocol, request) (max_over_time({metric}{{{sel}}}[10m]))"
            ))
            .into_iter()
            .map(|(m, v)| {
                (
                    m["protocol"].as_str().unwrap_or_default().to_string(),
                    m["request"].as_str().unwrap_or_default().to_string(),
                    v as u64,
                )
            })
            .filter(|e| e.2 > 0)
            .collect();
        out.sort();
        out
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mix with a request that always fails its check, so error counters are not all zero.
const SCENARIO: &str = "targets: { a: embedded }\nprotocols: [h1, h2]\nload: { rate: 60, duration: 2s }\nrequests:\n  - { name: home, get: /, weight: 3 }\n  - { name: wrong, get: /status/503, expect: { status: [200] } }\n";

/// (protocol, request, figure) from results files, added over `runs`.
fn from_results(
    runs: &[ResultsFile],
    figure: &dyn Fn(&gauntlet::model::results::Summary) -> u64,
) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = Vec::new();
    for r in runs {
        for l in &r.lanes {
            for q in &l.requests {
                let key = (l.protocol.as_str().to_string(), q.name.clone());
                match out.iter_mut().find(|(p, n, _)| (p, n) == (&key.0, &key.1)) {
                    Some(e) => e.2 += figure(&q.summary),
                    None => out.push((key.0, key.1, figure(&q.summary))),
                }
            }
        }
    }
    out.retain(|e| e.2 > 0);
    out.sort();
    out
}

fn check_counters(p: &Prometheus, sel: &str, runs: &[ResultsFile]) {
    let completed = from_results(runs, &|s| s.count);
    assert_eq!(completed.len(), 4, "{completed:?}");
    assert_eq!(p.by_request("gauntlet_requests_total", sel), completed);
    assert_eq!(
        p.by_request("gauntlet_request_duration_seconds_count", sel),
        completed
    );
    assert_eq!(
        p.by_request(
            "gauntlet_requests_total",
            &format!("{sel},outcome=\"failed\"")
        ),
        from_results(runs, &|s| s.errors)
    );
    assert_eq!(
        p.by_request("gauntlet_errors_total", sel),
        from_results(runs, &|s| s.errors)
    );
    assert_eq!(
        p.by_request(
            "gauntlet_responses_total",
            &format!("{sel},status_class=\"5xx\"")
        ),
        from_results(runs, &|s| s.statuses.get("503").copied().unwrap_or(0))
    );
}

fn write_scenario(dir: &Path, name: &str) {
    std::fs::write(dir.join("s.yaml"), format!("name: {name}\n{SCENARIO}")).unwrap();
}

#[test]
fn prometheus_scrapes_counters_equal_to_the_results_file() {
    let port = free_port();
    let p = Prometheus::start(Some(port));
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), "scraped");
    let addr = format!("127.0.0.1:{port}");
    let o = gauntlet(
        &[
            "run",
            "s.yaml",
            "--quiet",
            "--out",
            "o",
            "--metrics-addr",
            &addr,
            "--metrics-linger",
            "4s",
        ],
        dir.path(),
    );
    // The failing request fails the run; the metrics are what is tested.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = read(&dir.path().join("o/results.json")).unwrap();
    check_counters(&p, "run=\"scraped\"", &[r]);
    // The histogram has buckets Prometheus can take quantiles of.
    let q = p.query("histogram_quantile(0.5, sum by (le) (max_over_time(gauntlet_request_duration_seconds_bucket{request=\"home\"}[10m])))");
    assert!(
        q.first().is_some_and(|(_, v)| *v > 0.0 && *v < 1.0),
        "{q:?}"
    );
}

#[test]
fn two_shards_remote_write_into_one_run() {
    let p = Prometheus::start(None);
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), "pushed");
    let url = format!("http://127.0.0.1:{}/api/v1/write", p.port);
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let (d, url) = (dir.path().to_path_buf(), url.clone());
            std::thread::spawn(move || {
                let shard = format!("{i}/2");
                let out = format!("s{i}");
                let args = [
                    "run",
                    "s.yaml",
                    "--quiet",
                    "--shard",
                    &shard,
                    "--out",
                    &out,
                    "--remote-write",
                    &url,
                    "--remote-write-every",
                    "1s",
                ];
                let o = gauntlet(&args, &d);
                assert_eq!(o.status.code(), Some(1), "{}", text(&o));
                read(&d.join(out).join("results.json")).unwrap()
            })
        })
        .collect();
    let runs: Vec<ResultsFile> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    // Each shard is its own series (label `shard`), and together they are the run.
    let shards = p.query("count by (shard) (gauntlet_requests_total{run=\"pushed\"})");
    assert_eq!(shards.len(), 2, "{shards:?}");
    check_counters(&p, "run=\"pushed\"", &runs);
}

#[test]
fn a_remote_write_receiver_that_is_not_there_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), "lost");
    let url = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    let o = gauntlet(
        &[
            "run",
            "s.yaml",
            "--quiet",
            "--out",
            "o",
            "--remote-write",
            &url,
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("live metrics"),
        "{}",
        text(&o)
    );
    // The results are written all the same.
    assert!(dir.path().join("o/results.json").exists());
}
