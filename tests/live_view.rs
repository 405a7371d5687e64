//! The live view (issue 14): on a terminal (a pseudo-terminal made by `script`), a two-path run
//! shows each lane's rate and last-second percentiles, the verdict so far and an ETA counting
//! both paths' turns; without a terminal nothing of it is written. `/metrics` carries the
//! verdict so far as a state set: one verdict word at 1 per protocol and metric.

mod common;

use std::process::Command;

use common::{free_port, gauntlet, text};

const TWO_PATHS: &str = "name: paths\ntargets:\n  new: embedded\n  old: embedded\nprotocols: [h2]\nload: { rate: 100, duration: 4s }\ncompare: { candidate: new, baseline: old, fairness: interleaved, slice: 500ms }\nrequests:\n  - get: /\n";

#[test]
fn a_terminal_shows_lanes_and_the_verdict_so_far() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), TWO_PATHS).unwrap();
    let bin = env!("CARGO_BIN_EXE_gauntlet");
    let typescript = dir.path().join("tty.log");
    let o = Command::new("script")
        .args([
            "-qec",
            &format!("{bin} run c.yaml --out o"),
            typescript.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    let shown = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    // The time left counts both paths' turns: 4 s of plan each, 8 s in all.
    for needle in [
        "req/s",
        "last second p50",
        "so far (new vs old): h2 p50",
        "of 8s,",
    ] {
        assert!(shown.contains(needle), "`{needle}` not shown");
    }

    // Without a terminal, only the summary.
    let o = gauntlet(&["run", "c.yaml", "--out", "p"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("last second") && !err.contains("so far"),
        "{err}"
    );
}

#[test]
fn metrics_carry_the_verdict_so_far() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), TWO_PATHS).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let bin = env!("CARGO_BIN_EXE_gauntlet");
    let mut child = Command::new(bin)
        .args([
            "run",
            "c.yaml",
            "--quiet",
            "--out",
            "o",
            "--metrics-addr",
            &addr,
            "--metrics-linger",
            "3s",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Scraped once the plan is over, while the exporter lingers.
    let mut body = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let o = Command::new("curl")
            .args(["-sf", &format!("http://{addr}/metrics")])
            .output()
            .unwrap();
        let b = String::from_utf8_lossy(&o.stdout).into_owned();
        if b.contains("gauntlet_verdict_so_far{") && dir.path().join("o/results.json").exists() {
            body = b;
            break;
        }
        if b.contains("gauntlet_verdict_so_far{") {
            body = b;
        }
    }
    let _ = child.wait();
    for metric in ["p50", "p99", "error_rate"] {
        let ones: Vec<&str> = body
            .lines()
            .filter(|l| {
                l.starts_with("gauntlet_verdict_so_far{")
                    && l.contains(&format!("metric=\"{metric}\""))
            })
            .filter(|l| l.ends_with(" 1.0") || l.ends_with(" 1"))
            .collect();
        assert_eq!(ones.len(), 1, "{metric}: {ones:?}\n{body}");
    }
}
