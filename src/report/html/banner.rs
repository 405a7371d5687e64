//! The verdict banner at the top of the report: the verdict and exit code, then by name what
//! failed (gates, headline metrics, requests, probes), each linked to the section that shows its
//! evidence, and the warnings a reader must see before trusting a pass.

use maud::{html, Markup};

use crate::model::conformance::Rfc;
use crate::model::results::ResultsFile;

/// One named failure and where its evidence is.
struct Failure {
    text: String,
    anchor: &'static str,
}

/// What failed, by name: failed gates, failing requests per lane, failed probes.
fn failures(r: &ResultsFile) -> Vec<Failure> {
    let mut out = Vec::new();
    // A failed gate the verdict's reasons already name is not listed twice.
    let named = |gate: &str| r.verdict.reasons.iter().any(|x| x.contains(gate));
    for g in r.gates.iter().filter(|g| !g.passed && !named(&g.gate)) {
        let on = g.protocol.map(|p| format!(" over {p}")).unwrap_or_default();
        let why = match (&g.note, g.shown.is_empty()) {
            (Some(n), _) => format!(": {n}"),
            (None, false) => format!(": {}", g.shown),
            (None, true) => String::new(),
        };
        out.push(Failure {
            text: format!("gate `{}`{on} failed{why}", g.gate),
            anchor: "gates",
        });
    }
    for l in &r.lanes {
        for q in l.requests.iter().filter(|q| q.summary.errors > 0) {
            let classes: Vec<String> = q
                .errors
                .iter()
                .take(3)
                .map(|e| format!("{} {}", e.count, e.code))
                .collect();
            out.push(Failure {
                text: format!(
                    "{} {} `{}`: {} of {} requests failed ({})",
                    l.target,
                    l.protocol,
                    q.name,
                    q.summary.errors,
                    q.summary.count,
                    classes.join(", ")
                ),
                anchor: "errors",
            });
        }
    }
    if let Some(c) = &r.conformance {
        for p in &c.paths {
            let failed: Vec<&str> = p.with(Rfc::Fail).map(|x| x.id.as_str()).collect();
            if !failed.is_empty() {
                let more = if failed.len() > 5 { ", …" } else { "" };
                out.push(Failure {
                    text: format!(
                        "{}: {} probe{} failed ({}{more})",
                        p.name,
                        failed.len(),
                        if failed.len() == 1 { "" } else { "s" },
                        failed[..failed.len().min(5)].join(", ")
                    ),
                    anchor: "conformance",
                });
            }
        }
    }
    out
}

/// The banner.
pub fn banner(r: &ResultsFile) -> Markup {
    let v = &r.verdict;
    let class = if v.passed {
        "banner pass"
    } else {
        "banner fail"
    };
    let failed_gates = r.gates.iter().filter(|g| !g.passed).count();
    let named = failures(r);
    html! {
        div class=(class) id="verdict" {
            span.word { (v.word()) " (exit " (v.exit_code) ")" }
            @if !r.gates.is_empty() {
                " — " (r.gates.len() - failed_gates) " of " (r.gates.len()) " gate checks passed"
            }
            @if !v.reasons.is_empty() || !named.is_empty() {
                ul.reasons {
                    @for reason in &v.reasons { li { (reason) } }
                    @for f in &named {
                        li.failed { (f.text) " " a href=(format!("#{}", f.anchor)) { "(evidence)" } }
                    }
                }
            }
        }
        @if !v.warnings.is_empty() {
            ul.warnings.warn {
                @for w in &v.warnings { li { "warning: " (w) } }
            }
        }
    }
}
