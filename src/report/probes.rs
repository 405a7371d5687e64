//! Conformance probe results as text: the console table, the Markdown section and the rows the
//! HTML report and JUnit use, so every format says the same thing in the same order.

use std::fmt::Write;

use crate::conformance::probes::Rfc;
use crate::conformance::run::{ConformanceJson, PathResults};
use crate::report::json::ResultsFile;

/// Verdict counts of a path: `24 pass · 3 variant · 1 fail · 0 error · 2 skipped`.
pub fn counts(p: &PathResults) -> String {
    [Rfc::Pass, Rfc::Variant, Rfc::Fail, Rfc::Error, Rfc::Skipped]
        .iter()
        .map(|v| format!("{} {}", p.count(*v), v.as_str()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One row per probe: id, then each path's verdict and observation.
pub fn rows(c: &ConformanceJson) -> Vec<(String, Vec<(Rfc, String)>)> {
    let Some(first) = c.paths.first() else {
        return Vec::new();
    };
    first
        .probes
        .iter()
        .map(|p| {
            let cells = c
                .paths
                .iter()
                .map(|path| {
                    path.probes
                        .iter()
                        .find(|q| q.id == p.id)
                        .map(|q| (q.verdict, q.observed.clone()))
                        .unwrap_or((Rfc::Skipped, String::new()))
                })
                .collect();
            (p.id.clone(), cells)
        })
        .collect()
}

/// The console table: probes that did not pass on some path, then the counts per path.
pub fn console(r: &ResultsFile) -> String {
    let mut s = String::new();
    let Some(c) = &r.conformance else {
        return s;
    };
    let names: Vec<&str> = c.paths.iter().map(|p| p.name.as_str()).collect();
    let _ = writeln!(s, "\nconformance probes ({})", names.join(" | "));
    for (id, cells) in rows(c) {
        if cells.iter().all(|(v, _)| *v == Rfc::Pass) {
            continue;
        }
        let cols: Vec<String> = cells
            .iter()
            .map(|(v, o)| format!("{:<8} {:<24}", v.as_str(), o))
            .collect();
        let _ = writeln!(s, "  {id:<36} {}", cols.join(" "));
    }
    for p in &c.paths {
        let _ = writeln!(s, "  {:<12} {}", p.name, counts(p));
        for f in p.probes.iter().filter(|x| x.verdict == Rfc::Fail) {
            let _ = writeln!(s, "    FAIL {}: {} ({})", f.id, f.why, f.rfc_ref);
        }
    }
    let differ: Vec<_> = c.parity.iter().filter(|p| !p.agree).collect();
    if !c.parity.is_empty() {
        let _ = writeln!(
            s,
            "  parity: {} agree, {} differ ({} accepted as quirks, {} failing)",
            c.parity.len() - differ.len(),
            differ.len(),
            differ.iter().filter(|p| p.quirk.is_some()).count(),
            differ.iter().filter(|p| p.failure).count()
        );
    }
    let _ = writeln!(
        s,
        "  verdict: {} (exit {})",
        if r.verdict.passed { "PASS" } else { "FAIL" },
        r.verdict.exit_code
    );
    s
}
