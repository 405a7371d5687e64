//! Golden tests of `gauntlet validate` diagnostics: every `tests/diagnostics/*.yaml` is broken in
//! one way, and its rendering must equal the committed `.stderr` file exactly. Run with
//! `UPDATE_GOLDEN=1` to rewrite the files after an intended change, then review the diff.

use std::path::Path;

use gauntlet::scenario::{load_str, Overrides, ScenarioError};

#[test]
fn every_broken_scenario_renders_as_committed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 12,
        "at least 12 golden cases, found {}",
        cases.len()
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let name = format!(
            "tests/diagnostics/{}",
            case.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(case).unwrap();
        // As the command line does: load, then check probe ids against the catalogue.
        let loaded = load_str(&name, &text, &dir, &Overrides::default())
            .and_then(|s| gauntlet::conformance::check::scenario(&s).map(|()| s));
        let rendered = match loaded {
            Ok(_) => format!("(no error: {name} was accepted)\n"),
            Err(ScenarioError::Invalid {
                rendered,
                diagnostics,
            }) => {
                for d in &diagnostics {
                    assert!(
                        d.pos.is_some(),
                        "{name}: every diagnostic has a position: {d:?}"
                    );
                    assert!(
                        d.path.is_some(),
                        "{name}: every diagnostic has a YAML path: {d:?}"
                    );
                }
                rendered
            }
            Err(other) => format!("(unexpected error: {other})\n"),
        };
        let golden = case.with_extension("stderr");
        if update {
            std::fs::write(&golden, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if rendered != expected {
            failures.push(format!(
                "--- {}\n+++ rendered\n{}",
                golden.display(),
                diff(&expected, &rendered)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.join("\n")
    );
}

/// A line diff good enough to read a golden mismatch.
fn diff(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(g.len()) {
        match (e.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => out.push_str(&format!("  {a}\n")),
            (a, b) => {
                if let Some(a) = a {
                    out.push_str(&format!("- {a}\n"));
                }
                if let Some(b) = b {
                    out.push_str(&format!("+ {b}\n"));
                }
            }
        }
    }
    out
}
