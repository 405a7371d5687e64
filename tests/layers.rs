//! The module layering, checked by the project itself (a clone has no `../shared/tools`): every
//! top-level module of `src/` sits in one layer of [`ORDER`], and a module may use only modules
//! below it. An upward `crate::…` reference anywhere outside unit tests fails, naming the file.
//! The README's layout section shows the same order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top layer first. `model` is the bottom: the typed results model every layer shares.
const ORDER: [&str; 14] = [
    "cli",
    "import",
    "metrics",
    "schema",
    "verdict",
    "report",
    "compare",
    "engine",
    "conformance",
    "origin",
    "proto",
    "record",
    "scenario",
    "model",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`src/engine/worker.rs` → `engine`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Modules a file refers to through `crate::NAME` paths or `use crate::{NAME::…}` groups, unit
/// tests aside (they may reach anywhere).
fn uses(text: &str) -> Vec<String> {
    let text = match regex::Regex::new(r"#\[cfg\(test\)\]\s*mod tests\s*\{")
        .unwrap()
        .find(text)
    {
        Some(m) => &text[..m.start()],
        None => text,
    };
    let mut out: Vec<String> = regex::Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)")
        .unwrap()
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect();
    let group = regex::Regex::new(r"\buse\s+crate::\{([^;]*)\}").unwrap();
    let inner = regex::Regex::new(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)\s*::").unwrap();
    for g in group.captures_iter(text) {
        out.extend(inner.captures_iter(&g[1]).map(|c| c[1].to_string()));
    }
    out
}

#[test]
fn no_module_uses_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: BTreeMap<&str, usize> = ORDER.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut upward = Vec::new();
    let mut unplaced = Vec::new();
    for f in &all {
        let m = module_of(&src, f);
        if m == "main" || m == "lib" {
            continue;
        }
        let Some(&mine) = rank.get(m.as_str()) else {
            unplaced.push(m);
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for u in uses(&text) {
            if let Some(&theirs) = rank.get(u.as_str()) {
                if theirs < mine {
                    upward.push(format!("{} uses crate::{u} (above {m})", f.display()));
                }
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "top-level modules with no layer in ORDER: {unplaced:?}"
    );
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "upward references:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_reference() {
    // The parser must find both forms, or the test above could pass by seeing nothing.
    let found =
        uses("use crate::engine::RunOutcome;\nuse crate::{report::html, model::Protocol};\n");
    assert!(found.contains(&"engine".to_string()), "{found:?}");
    assert!(found.contains(&"report".to_string()), "{found:?}");
    assert!(found.contains(&"model".to_string()), "{found:?}");
    let tests_only =
        uses("use crate::model::X;\n#[cfg(test)]\nmod tests {\n use crate::cli::Y;\n}\n");
    assert!(!tests_only.contains(&"cli".to_string()), "{tests_only:?}");
}

#[test]
fn the_readme_shows_the_same_order() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = ORDER.join(" > ");
    assert!(
        readme.contains(&line),
        "README.md's layout section must show the layers as `{line}`"
    );
}
