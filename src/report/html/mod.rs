//! The HTML report: one self-contained file (inline CSS and SVG, no script, no external fetch; a
//! Content-Security-Policy forbids both), readable from a CI artifact and offline. It is built
//! with maud, which escapes every interpolated string by construction: only the SVG that
//! plotters draws is inserted as markup, and its text comes from our own labels.

mod banner;
mod panels;
mod tables;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::model::results::ResultsFile;
use crate::model::Protocol;

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1rem; color: #222; max-width: 1180px; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.banner { padding: 0.8rem 1rem; border-radius: 6px; margin: 1rem 0; }
.banner .word { font-weight: bold; font-size: 1.2rem; }
.banner ul { margin: 0.4rem 0 0; padding-left: 1.2rem; }
.pass { background: #e3f6e5; color: #1b5e20; } .fail { background: #fdecea; color: #b71c1c; }
.better { background: #c8e6c9; } .same { background: #f1f8e9; } .worse { background: #ffcdd2; }
.inconclusive { background: #fff9c4; }
pre, code { background: #f6f8fa; font-size: 0.8rem; } pre { padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
.note { color: #555; font-size: 0.85rem; }
.caveat, .warn { background: #fff3cd; border-left: 4px solid #b58100; padding: 0.4rem 0.6rem; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.8rem 1.2rem; }
figure.chart { margin: 0; } figure.chart svg { display: block; width: 100%; height: auto; }
.legend { font-size: 0.8rem; display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; margin-top: 0.2rem; }
.key { display: inline-block; width: 22px; height: 0; border-top: 3px solid; vertical-align: middle; margin-right: 0.3rem; }
.key.dashed { border-top-style: dashed; } .key.shade { height: 10px; border: none; background: #ddd; }
.bar { display: inline-block; height: 0.7rem; background: #8aa; vertical-align: middle; }
"#;

/// Protocols in the order their lanes appear.
fn protocols(r: &ResultsFile) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for l in &r.lanes {
        if !out.contains(&l.protocol) {
            out.push(l.protocol);
        }
    }
    out
}

/// Targets in display order: candidate, baseline, then the rest. A target's place here is its
/// colour in every chart.
fn targets(r: &ResultsFile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(c) = &r.comparison {
        let (cand, base) = (c.candidate.clone(), c.baseline.clone());
        out.push(cand);
        out.push(base);
    }
    for l in &r.lanes {
        if !out.contains(&l.target) {
            out.push(l.target.clone());
        }
    }
    out
}

/// The page's title: the scenario, or for a comparison of saved runs the two files (and
/// commits) compared.
fn title(r: &ResultsFile) -> String {
    match &r.comparison {
        Some(c) if !c.sources.is_empty() => {
            let (a, b) = c.names();
            format!("{a} vs {b}")
        }
        _ => r.meta.scenario.clone(),
    }
}

/// Renders the whole report.
pub fn render(r: &ResultsFile) -> String {
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                title { "gauntlet: " (title(r)) }
                style { (PreEscaped(STYLE)) (PreEscaped(super::probes_html::CSS)) }
            }
            body {
                h1 { "gauntlet: " (title(r)) }
                p.note { (r.meta.started) " · " (r.meta.host)
                    @if let Some(c) = &r.meta.commit { " · commit " code { (c) } } }
                (banner::banner(r))
                @for (_, text) in super::caveats(r) { p.caveat { "⚠ " (text) } }
                (tables::comparison(r))
                (tables::summary(r))
                (panels::all(r))
                (tables::gates(r))
                (tables::errors(r))
                (tables::differences(r))
                (super::probes_html::section(r))
                (tables::environment(r))
            }
        }
    };
    let mut s = page.into_string();
    s.push('\n');
    s
}
