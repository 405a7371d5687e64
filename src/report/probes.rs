//! Conformance probe results as text: the console table, the Markdown section and the rows the
//! HTML report and JUnit use, so every format says the same thing in the same order.

use std::fmt::Write;

use crate::model::conformance::Rfc;
use crate::model::conformance::{Capture, ConformanceJson, PathResults, ProbeResult};
use crate::model::results::ResultsFile;

/// Verdict counts of a path: `24 pass · 3 variant · 1 fail · 0 error · 2 skipped`.
pub fn counts(p: &PathResults) -> String {
    [Rfc::Pass, Rfc::Variant, Rfc::Fail, Rfc::Error, Rfc::Skipped]
        .iter()
        .map(|v| format!("{} {}", p.count(*v), v.as_str()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// What a path's counts leave out, in one line: why it has no verdict, or how many probes did
/// not run and why (`33 of 42 not run: needs the recording origin …`); empty when all ran.
pub fn standing(p: &PathResults) -> String {
    if let Some(e) = &p.error {
        return format!("ERROR: {e}");
    }
    let not_run = p.not_run();
    if not_run.is_empty() {
        return String::new();
    }
    let n: usize = not_run.iter().map(|(n, _)| n).sum();
    let reasons: Vec<String> = not_run
        .iter()
        .take(3)
        .map(|(k, why)| format!("{k}: {}", why.trim_start_matches("not run: ")))
        .collect();
    let more = if not_run.len() > 3 { "; …" } else { "" };
    format!(
        "{n} of {} not run or without a verdict ({}{more})",
        p.probes.len(),
        reasons.join("; ")
    )
}

/// The verdict word with what it does not cover: `PASS`, or `PASS · 33 of 42 not run` when
/// probes were skipped or reached no verdict, so a partial run never reads as a bare PASS.
pub fn verdict_word(r: &ResultsFile) -> String {
    let word = if r.verdict.passed { "PASS" } else { "FAIL" };
    let Some(c) = &r.conformance else {
        return word.to_string();
    };
    let total: usize = c.paths.iter().map(|p| p.probes.len()).sum();
    let missing: usize = c.paths.iter().map(|p| p.probes.len() - p.judged()).sum();
    if missing == 0 {
        word.to_string()
    } else {
        format!("{word} · {missing} of {total} not run or without a verdict")
    }
}

/// The ids of the parity regressions: where the candidate does worse than the baseline and no
/// quirk accepts it.
pub fn regressions(c: &ConformanceJson) -> Vec<&str> {
    c.parity
        .iter()
        .filter(|p| p.failure)
        .map(|p| p.id.as_str())
        .collect()
}

/// What a probe's verdict rests on, as text: the bytes the client got back, each request as the
/// origin received it, and what the canary after it found; empty when nothing was kept.
pub fn evidence_text(x: &ProbeResult) -> String {
    let e = &x.evidence;
    let mut out = String::new();
    let cut = |c: &crate::model::conformance::Capture| {
        if c.len as usize > c.text.len().min(Capture::LIMIT) && c.len as usize > Capture::LIMIT {
            format!(" (first {} of {} bytes)", Capture::LIMIT, c.len)
        } else {
            format!(" ({} bytes)", c.len)
        }
    };
    if let Some(c) = &e.client_received {
        let _ = writeln!(out, "client received{}: {}", cut(c), c.text);
    }
    if e.origin_received.is_empty() && x.verdict != Rfc::Skipped {
        let _ = writeln!(out, "origin received: nothing of this probe");
    }
    for (i, c) in e.origin_received.iter().enumerate() {
        let _ = writeln!(out, "origin received #{}{}: {}", i + 1, cut(c), c.text);
        let _ = writeln!(out, "  hex: {}", c.hex);
    }
    if let Some(c) = &e.canary {
        let _ = writeln!(out, "canary after the probe: {c}");
    }
    out
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
        // Passes and skips are in the counts below; the rows are for what needs a look.
        if cells
            .iter()
            .all(|(v, _)| matches!(v, Rfc::Pass | Rfc::Skipped))
        {
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
        let st = standing(p);
        if !st.is_empty() {
            let _ = writeln!(s, "    {st}");
        }
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
        let reg = regressions(c);
        if !reg.is_empty() {
            let _ = writeln!(s, "  regressions: {}", reg.join(", "));
        }
    }
    let _ = writeln!(
        s,
        "  verdict: {} (exit {})",
        verdict_word(r),
        r.verdict.exit_code
    );
    s
}

fn verdict_class(v: Rfc) -> &'static str {
    match v {
        Rfc::Pass => "better",
        Rfc::Variant => "same",
        Rfc::Fail | Rfc::Error => "worse",
        Rfc::Skipped => "note",
    }
}

/// The HTML section: counts per path, a row per probe with each path's verdict and the parity
/// verdict, then every failure with its reproducer.
pub fn html(out: &mut String, r: &ResultsFile) {
    use super::html::esc;
    let Some(c) = &r.conformance else { return };
    out.push_str("<h2>Conformance probes</h2>\n<ul>\n");
    for p in &c.paths {
        let st = standing(p);
        let _ = writeln!(
            out,
            "<li><b>{}</b> <code>{}</code>: {}{}{}</li>",
            esc(&p.name),
            esc(&p.url),
            esc(&counts(p)),
            if p.origin_watched {
                ""
            } else {
                " (origin not watched: smuggling probes skipped)"
            },
            if st.is_empty() {
                String::new()
            } else {
                format!("<br><b class=\"worse\">{}</b>", esc(&st))
            }
        );
    }
    out.push_str(
        "</ul>\n<table class=\"probes\"><tr><th class=\"l\">probe</th><th class=\"l\">RFC</th>",
    );
    for p in &c.paths {
        let _ = write!(out, "<th class=\"l\">{}</th>", esc(&p.name));
    }
    if !c.parity.is_empty() {
        out.push_str("<th class=\"l\">parity</th>");
    }
    out.push_str("</tr>\n");
    let first = c.paths.first().map(|p| p.probes.as_slice()).unwrap_or(&[]);
    for ((id, cells), meta) in rows(c).into_iter().zip(first) {
        let _ = write!(
            out,
            "<tr><td class=\"l\"><code>{}</code><br><span class=\"note\">{}</span></td><td class=\"l\">{}</td>",
            esc(&id),
            esc(&meta.title),
            esc(&meta.rfc_ref)
        );
        for (v, o) in cells {
            let _ = write!(
                out,
                "<td class=\"l {}\">{} <span class=\"note\">{}</span></td>",
                verdict_class(v),
                v.as_str(),
                esc(&o)
            );
        }
        if let Some(pa) = c.parity.iter().find(|p| p.id == id) {
            let (class, word) = match (pa.agree, &pa.quirk, pa.failure) {
                (true, _, _) => ("same", "agree".to_string()),
                (false, Some(q), _) => ("note", format!("differ (quirk: {q})")),
                (false, None, true) => ("worse", "DIFFER".to_string()),
                (false, None, false) => ("note", "differ (candidate passes)".to_string()),
            };
            let _ = write!(out, "<td class=\"l {class}\">{}</td>", esc(&word));
        } else if !c.parity.is_empty() {
            out.push_str("<td></td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for p in &c.paths {
        for f in p
            .probes
            .iter()
            .filter(|x| matches!(x.verdict, Rfc::Fail | Rfc::Error | Rfc::Variant))
        {
            let sent = f
                .reproducer
                .as_ref()
                .map(|rep| {
                    format!(
                        "sent: {}\n\nhex: {}\n\nreplay: {}\n\n",
                        rep.text, rep.hex, rep.replay
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<details><summary>{} <code>{}</code> {} in {} ms: {}</summary><pre>{}{}</pre></details>",
                esc(&p.name),
                esc(&f.id),
                f.verdict.as_str(),
                f.duration_ms,
                esc(&f.why),
                esc(&sent),
                esc(&evidence_text(f))
            );
        }
    }
}

/// The Markdown section for a pull request.
pub fn markdown(out: &mut String, r: &ResultsFile) {
    let Some(c) = &r.conformance else { return };
    let _ = writeln!(out, "\n**Conformance probes:** {} failure(s)", c.failures);
    for p in &c.paths {
        let st = standing(p);
        let st = if st.is_empty() {
            st
        } else {
            format!(" · **{st}**")
        };
        let _ = writeln!(out, "- `{}`: {}{st}", p.name, counts(p));
    }
    let fails: Vec<_> = c
        .paths
        .iter()
        .flat_map(|p| {
            p.probes
                .iter()
                .filter(|x| x.verdict == Rfc::Fail)
                .map(move |x| (p, x))
        })
        .collect();
    for (p, x) in fails.iter().take(15) {
        let _ = writeln!(
            out,
            "- FAIL `{}` on `{}` ({}): {}",
            x.id,
            p.name,
            x.rfc_ref,
            x.why.replace('|', "\\|")
        );
    }
    if fails.len() > 15 {
        let _ = writeln!(out, "- … {} more in the HTML report", fails.len() - 15);
    }
    let differ: Vec<_> = c.parity.iter().filter(|p| !p.agree).collect();
    if !c.parity.is_empty() {
        let _ = writeln!(
            out,
            "- parity: {} agree, {} differ ({} accepted as quirks, {} failing)",
            c.parity.len() - differ.len(),
            differ.len(),
            differ.iter().filter(|p| p.quirk.is_some()).count(),
            differ.iter().filter(|p| p.failure).count()
        );
        let reg = regressions(c);
        if !reg.is_empty() {
            let ids: Vec<String> = reg.iter().map(|i| format!("`{i}`")).collect();
            let _ = writeln!(out, "- regressions: {}", ids.join(", "));
        }
    }
}
