//! Writing a run's folder (results.json, index.html, junit.xml, summary.md and one .hlog per
//! target × protocol), and the `reports/index.html` that lists every run folder beside it so the
//! folder can be served as a static site.

use std::path::{Path, PathBuf};

use super::{hlog, html, junit, markdown};
use crate::model::files::write_atomic;
use crate::model::results::{self as json, ResultsFile};

/// Writes every artefact of a run into `dir`; returns the paths written.
pub fn write_all(dir: &Path, r: &ResultsFile) -> std::io::Result<Vec<PathBuf>> {
    let mut written = vec![json::write(dir, r)?];
    for (name, text) in [
        ("index.html", html::render(r)),
        ("junit.xml", junit::render(r)),
        ("summary.md", markdown::render(r)),
    ] {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    for l in &r.lanes {
        let p = dir.join(hlog::file_name(l));
        write_atomic(&p, &hlog::render(r, l).map_err(std::io::Error::other)?)?;
        written.push(p);
    }
    Ok(written)
}

/// Regenerates `index.html` in `reports`: one row per run folder holding a results.json, newest
/// first.
pub fn write_index(reports: &Path) -> std::io::Result<PathBuf> {
    let mut runs: Vec<(String, ResultsFile)> = Vec::new();
    for e in std::fs::read_dir(reports)? {
        let e = e?;
        let p = e.path().join("results.json");
        if let Ok(r) = json::read(&p) {
            runs.push((e.file_name().to_string_lossy().into_owned(), r));
        }
    }
    runs.sort_by(|a, b| b.1.meta.started.cmp(&a.1.meta.started));
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "gauntlet runs" }
                style { "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}.pass{color:#1b5e20}.fail{color:#b71c1c}" }
            }
            body {
                h1 { "gauntlet runs" }
                table {
                    tr { th { "started" } th { "scenario" } th { "verdict" } th { "commit" } th { "report" } }
                    @for (folder, r) in &runs {
                        tr {
                            td { (r.meta.started) } td { (r.meta.scenario) }
                            @if r.verdict.passed { td.pass { "passed" } } @else { td.fail { "failed" } }
                            td { (r.meta.commit.as_deref().unwrap_or("")) }
                            td { a href=(format!("{folder}/index.html")) { (folder) } }
                        }
                    }
                }
            }
        }
    };
    let out = page.into_string() + "\n";
    let p = reports.join("index.html");
    write_atomic(&p, out.as_bytes())?;
    Ok(p)
}
