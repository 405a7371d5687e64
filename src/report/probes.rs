//! Conformance probe results as text: the console table, the Markdown section and the pieces the
//! HTML report ([`super::probes_html`]) and JUnit use, so every format says the same thing in
//! the same order ([`sort_for_report`]).

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

/// How much a verdict needs a reader's look, most first: a fail, then an error (no verdict at
/// all), then a variant, then a skip, and a pass last.
fn severity(v: Rfc) -> u8 {
    match v {
        Rfc::Fail => 0,
        Rfc::Error => 1,
        Rfc::Variant => 2,
        Rfc::Skipped => 3,
        Rfc::Pass => 4,
    }
}

/// The worst of some verdicts by severity; a pass when there are none.
pub fn worst(vs: impl IntoIterator<Item = Rfc>) -> Rfc {
    vs.into_iter()
        .min_by_key(|v| severity(*v))
        .unwrap_or(Rfc::Pass)
}

/// Sorts `items` into the one report order the console, Markdown and HTML share, so that what
/// needs a look comes first everywhere: parity regressions, then by verdict (fail, error,
/// variant, skipped, pass), then by probe id. `key` gives an item's probe id and verdict. The
/// sort is stable: items equal in all three keep their order (the paths' order).
pub fn sort_for_report<T>(c: &ConformanceJson, items: &mut [T], key: impl Fn(&T) -> (&str, Rfc)) {
    let reg = regressions(c);
    let rank = |t: &T| {
        let (id, v) = key(t);
        (!reg.contains(&id), severity(v), id.to_string())
    };
    items.sort_by_cached_key(rank);
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

/// One row per probe: id, then each path's verdict and observation; in report order, by the
/// worst verdict of the row.
pub fn rows(c: &ConformanceJson) -> Vec<(String, Vec<(Rfc, String)>)> {
    let Some(first) = c.paths.first() else {
        return Vec::new();
    };
    let mut rows: Vec<_> = first
        .probes
        .iter()
        .map(|p| {
            let cells: Vec<(Rfc, String)> = c
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
        .collect();
    sort_for_report(c, &mut rows, |(id, cells)| {
        (id.as_str(), worst(cells.iter().map(|(v, _)| *v)))
    });
    rows
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
        let mut fails: Vec<_> = p.with(Rfc::Fail).collect();
        sort_for_report(c, &mut fails, |x| (x.id.as_str(), x.verdict));
        for f in fails {
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

/// The HTML section, through the template in [`super::probes_html`]; kept until the page itself
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
    let mut fails: Vec<_> = c
        .paths
        .iter()
        .flat_map(|p| p.with(Rfc::Fail).map(move |x| (p, x)))
        .collect();
    sort_for_report(c, &mut fails, |(_, x)| (x.id.as_str(), x.verdict));
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::conformance::{Evidence, Parity, Reproducer, Suite};

    fn probe(id: &str, verdict: Rfc) -> ProbeResult {
        ProbeResult {
            id: id.into(),
            suite: Suite::H1,
            rfc_ref: "RFC 9112 §6.1".into(),
            title: format!("title of {id}"),
            verdict,
            observed: format!("observed of {id}"),
            why: format!("why of {id}"),
            reproducer: None,
            evidence: Evidence::default(),
            duration_ms: 7,
        }
    }

    /// A two-path run with every verdict: on the candidate `cand` a regression (`z.regressed`,
    /// failing where the baseline passes), a plain failure, an error whose id is markup, a
    /// variant, a skip and two passes, listed out of report order; the baseline `base` has no
    /// verdict of its own (its canary was refused).
    pub(crate) fn mixed() -> ResultsFile {
        let mut fails = probe("a.fails", Rfc::Fail);
        fails.reproducer = Some(Reproducer {
            hex: "474554".into(),
            text: "GET".into(),
            replay: "printf 'GET' | nc host 80".into(),
        });
        fails.evidence.origin_received.push(Capture {
            hex: "47455420".into(),
            text: "GET ".into(),
            len: 4,
        });
        let mut skip = probe("s.skip", Rfc::Skipped);
        skip.why = "not run: needs the recording origin".into();
        let cand = PathResults {
            name: "cand".into(),
            url: "http://cand".into(),
            origin_watched: true,
            error: None,
            probes: vec![
                probe("p.ok1", Rfc::Pass),
                probe("m.variant", Rfc::Variant),
                skip,
                fails.clone(),
                probe("<script>x.evil", Rfc::Error),
                probe("p.ok2", Rfc::Pass),
                probe("z.regressed", Rfc::Fail),
            ],
        };
        let base = PathResults {
            name: "base".into(),
            url: "http://base".into(),
            origin_watched: false,
            error: Some("canary refused".into()),
            probes: vec![probe("z.regressed", Rfc::Pass), fails],
        };
        let parity = |id: &str, agree: bool| Parity {
            id: id.into(),
            candidate: "fail (x)".into(),
            baseline: if agree { "fail (x)" } else { "pass (y)" }.into(),
            agree,
            quirk: None,
            failure: !agree,
        };
        let now = std::time::SystemTime::now();
        ResultsFile {
            schema_version: crate::model::results::SCHEMA_VERSION,
            meta: crate::model::results::Meta::probes_only("mixed", now, now),
            lanes: Vec::new(),
            comparison: None,
            gates: Vec::new(),
            differential: None,
            verdict: Default::default(),
            conformance: Some(ConformanceJson {
                paths: vec![cand, base],
                parity: vec![parity("a.fails", true), parity("z.regressed", false)],
                failures: 3,
                regressions: 1,
                interrupted: false,
            }),
        }
    }

    #[test]
    fn console_and_markdown_list_regressions_then_failures_then_the_rest() {
        let r = mixed();
        let console = console(&r);
        let order: Vec<usize> = ["z.regressed ", "a.fails ", "<script>x.evil ", "m.variant "]
            .iter()
            .map(|id| {
                console
                    .find(id)
                    .unwrap_or_else(|| panic!("{id} in {console}"))
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{console}");
        assert!(
            !console.contains("p.ok1"),
            "passes are only counted: {console}"
        );
        let fails: Vec<&str> = console
            .lines()
            .filter_map(|l| l.trim().strip_prefix("FAIL "))
            .collect();
        assert!(fails[0].starts_with("z.regressed"), "{fails:?}");
        let mut md = String::new();
        markdown(&mut md, &r);
        let reg = md.find("FAIL `z.regressed`").expect(&md);
        assert!(reg < md.find("FAIL `a.fails`").expect(&md), "{md}");
    }
}
