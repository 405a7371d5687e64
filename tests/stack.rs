//! `ci/stack.sh` and `scenarios/migration.yaml` together: the stack comes up (origin, nginx 1.22,
//! nginx 1.26 with h3, Caddy), the migration scenario compares Caddy with nginx over h1, h2 and
//! h3 with verdicts and a differential, and the stack goes down again.

mod common;

use std::path::Path;
use std::process::Command;

use common::{gauntlet, text};

struct Stack;

fn stack(cmd: &str) -> std::process::Output {
    Command::new("bash")
        .args(["ci/stack.sh", cmd])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GAUNTLET", env!("CARGO_BIN_EXE_gauntlet"))
        .output()
        .unwrap()
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = stack("down");
    }
}

#[test]
fn the_migration_scenario_compares_caddy_with_nginx_over_three_protocols() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let up = stack("up");
    let _guard = Stack;
    assert!(up.status.success(), "{}", text(&up));
    let dir = tempfile::tempdir().unwrap();
    let out = gauntlet(
        &[
            "run",
            "scenarios/migration.yaml",
            "--duration",
            "2s",
            "--quiet",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        root,
    );
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "the run completed (gates may fail): {}",
        text(&out)
    );
    let r = gauntlet::report::json::read(&dir.path().join("results.json")).unwrap();
    for l in &r.lanes {
        assert!(
            l.summary.count >= 900,
            "{} {}: {}",
            l.target,
            l.protocol,
            l.summary.count
        );
        assert_eq!(
            l.summary.errors,
            0,
            "{} {}: {:?}",
            l.target,
            l.protocol,
            l.requests.iter().map(|q| &q.errors).collect::<Vec<_>>()
        );
    }
    let c = r.comparison.as_ref().unwrap();
    for p in ["h1", "h2", "h3"] {
        assert!(
            c.verdicts
                .iter()
                .any(|v| v.protocol == p && v.request.is_none()),
            "verdicts for {p}"
        );
    }
    let d = r.differential.as_ref().unwrap();
    assert!(
        d.differences
            .iter()
            .any(|x| x.field == "body:$.headers.x-forwarded-for"),
        "{:?}",
        d.differences
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("caddy (candidate) vs nginx (baseline): interleaved"),
        "{stdout}"
    );
}
