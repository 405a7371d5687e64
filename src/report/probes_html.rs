//! The conformance section of the HTML report, as a maud template: per path its counts and
//! standing, then the probes that need a look (fail, error, variant) expanded with their
//! evidence, and the passes and skips folded away. maud escapes every splice, so text from a
//! server or a scenario can never become markup here.

use maud::{html, Markup};

use super::probes::{counts, evidence_text, sort_for_report, standing};
use crate::model::conformance::{ConformanceJson, PathResults, ProbeResult, Rfc};
use crate::model::results::ResultsFile;

/// The styles of the classes this section uses. A verdict's colour is never all it has: every
/// verdict cell also says its word. Pass and variant are green and blue, far apart, because a
/// variant is allowed but is not what the RFC prefers. Evidence breaks anywhere: a line of hex
/// would otherwise widen the table past the verdict columns.
pub const CSS: &str = "
.rfc-pass { background: #e3f6e5; color: #1b5e20; }
.rfc-variant { background: #e3ecfd; color: #1a3e8c; }
.rfc-fail { background: #fdecea; color: #b71c1c; font-weight: bold; }
.rfc-error { background: #fff0e0; color: #a84300; font-weight: bold; }
.rfc-skipped { background: #eeeeee; color: #555555; }
.rfc-path-error { background: #fdecea; color: #b71c1c; border: 2px solid #b71c1c; border-radius: 6px; padding: 0.5rem 0.8rem; font-weight: bold; }
.rfc-standing { background: #fff3cd; border-left: 4px solid #b58100; padding: 0.4rem 0.6rem; font-weight: bold; }
.rfc-regression { background: #b71c1c; color: #ffffff; border-radius: 3px; padding: 0 0.3rem; font-weight: bold; }
.rfc-evidence td { background: #fafafa; }
.rfc-evidence pre { white-space: pre-wrap; word-break: break-all; }
details.rfc-folded { margin: 0.3rem 0; } details.rfc-folded summary { cursor: pointer; }
";

/// The class of a verdict's cell.
pub fn class(v: Rfc) -> &'static str {
    match v {
        Rfc::Pass => "rfc-pass",
        Rfc::Variant => "rfc-variant",
        Rfc::Fail => "rfc-fail",
        Rfc::Error => "rfc-error",
        Rfc::Skipped => "rfc-skipped",
    }
}

/// The conformance section; empty when the run probed nothing. The page includes [`CSS`].
pub fn section(r: &ResultsFile) -> Markup {
    let Some(c) = &r.conformance else {
        return html! {};
    };
    html! {
        h2 id="conformance" { "Conformance probes" }
        @if c.interrupted {
            p.rfc-standing { "Probing was interrupted: the paths hold the probes that finished." }
        }
        @for (i, p) in c.paths.iter().enumerate() {
            (path_section(c, p, i == 0))
        }
    }
}

/// One path: its heading, counts and standing, then its probes in report order. The first
/// path's probes have the anchors `probe-<id>`, the others' `probe-<path>-<id>`: ids stay unique
/// and a link to a candidate's probe needs no path name (the candidate is the first path).
fn path_section(c: &ConformanceJson, p: &PathResults, first: bool) -> Markup {
    let mut probes: Vec<&ProbeResult> = p.probes.iter().collect();
    sort_for_report(c, &mut probes, |x| (x.id.as_str(), x.verdict));
    let (open, folded): (Vec<_>, Vec<_>) = probes
        .into_iter()
        .partition(|x| matches!(x.verdict, Rfc::Fail | Rfc::Error | Rfc::Variant));
    let anchor = |id: &str| {
        if first {
            format!("probe-{id}")
        } else {
            format!("probe-{}-{id}", p.name)
        }
    };
    // Parity is the candidate against the baseline: shown once, in the candidate's rows.
    let parity = first && !c.parity.is_empty();
    let st = standing(p);
    html! {
        h3 { (p.name) " " code { (p.url) } }
        p {
            b { (counts(p)) }
            @if !p.origin_watched { " (origin not watched: smuggling probes skipped)" }
        }
        @if p.error.is_some() {
            p.rfc-path-error { (st) }
        } @else if !st.is_empty() {
            p.rfc-standing { (st) }
        }
        @if !open.is_empty() {
            (table(c, &open, Shown { evidence: true, parity }, &anchor))
        }
        @for (v, word) in [(Rfc::Pass, "passed"), (Rfc::Skipped, "skipped")] {
            @let these: Vec<&ProbeResult> = folded.iter().copied().filter(|x| x.verdict == v).collect();
            @if !these.is_empty() {
                details.rfc-folded {
                    summary { (these.len()) " " (word) }
                    (table(c, &these, Shown { evidence: false, parity }, &anchor))
                }
            }
        }
    }
}

/// What a table of probes shows besides each probe's verdict.
#[derive(Clone, Copy)]
struct Shown {
    /// Each row followed by what its verdict rests on.
    evidence: bool,
    /// A parity column.
    parity: bool,
}

/// A table of probes.
fn table(
    c: &ConformanceJson,
    probes: &[&ProbeResult],
    Shown { evidence, parity }: Shown,
    anchor: &dyn Fn(&str) -> String,
) -> Markup {
    let span = if parity { 5 } else { 4 };
    html! {
        table.probes {
            tr {
                th.l { "probe" } th.l { "RFC" } th.l { "verdict" } th.l { "observed" }
                @if parity { th.l { "parity" } }
            }
            @for x in probes {
                tr id=(anchor(&x.id)) data-verdict=(x.verdict.as_str()) {
                    td.l { code { (x.id) } br; span.note { (x.title) } }
                    td.l { (x.rfc_ref) }
                    td.l.(class(x.verdict)) { (x.verdict.as_str()) }
                    td.l {
                        (x.observed)
                        @if x.verdict == Rfc::Skipped { " " span.note { (x.why) } }
                    }
                    @if parity { (parity_cell(c, &x.id)) }
                }
                @if evidence {
                    tr.rfc-evidence { td.l colspan=(span) { (evidence_of(x)) } }
                }
            }
        }
    }
}

/// The parity verdict of probe `id`: whether the two paths agree, and a regression marked so.
fn parity_cell(c: &ConformanceJson, id: &str) -> Markup {
    let Some(pa) = c.parity.iter().find(|p| p.id == id) else {
        return html! { td {} };
    };
    html! {
        @match (pa.agree, &pa.quirk, pa.failure) {
            (true, _, _) => td.l { "agree" },
            (false, Some(q), _) => td.l.note { "differ (quirk: " (q) ")" },
            (false, None, true) => td.l.rfc-fail {
                span.rfc-regression { "regression" }
                " candidate " (pa.candidate) ", baseline " (pa.baseline)
            },
            (false, None, false) => td.l.note { "differ (candidate passes)" },
        }
    }
}

/// Why a probe got its verdict and what that rests on: the reason and time, what the probe sent
/// with a line to send it again, and the bytes the client and the origin saw.
fn evidence_of(x: &ProbeResult) -> Markup {
    let seen = evidence_text(x);
    html! {
        p { (x.verdict.as_str()) " in " (x.duration_ms) " ms: " (x.why) }
        @if let Some(rep) = &x.reproducer {
            pre { "sent: " (rep.text) "\n\nhex: " (rep.hex) "\n\nreplay: " (rep.replay) }
        }
        @if !seen.is_empty() {
            pre { (seen) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::section;
    use crate::report::probes::tests::mixed;

    /// Where `needle` first occurs in `page`, or a failure naming it.
    fn at(page: &str, needle: &str) -> usize {
        page.find(needle)
            .unwrap_or_else(|| panic!("no {needle} in {page}"))
    }

    #[test]
    fn failures_come_first_and_passes_are_folded() {
        let page = section(&mixed()).into_string();
        let fail = at(&page, "<td class=\"l rfc-fail\">fail</td>");
        let variant = at(&page, "<td class=\"l rfc-variant\">variant</td>");
        let pass = at(&page, "<td class=\"l rfc-pass\">pass</td>");
        assert!(fail < variant && variant < pass, "{page}");
        // The regression outranks the plain failure, though its id sorts after it.
        assert!(at(&page, "id=\"probe-z.regressed\"") < at(&page, "id=\"probe-a.fails\""));
        let folded = at(
            &page,
            "<details class=\"rfc-folded\"><summary>2 passed</summary>",
        );
        assert!(folded < pass && pass < folded + at(&page[folded..], "</details>"));
        assert!(at(&page, "<summary>1 skipped</summary>") > folded);
        // Three folds (the candidate's passes and skips, the baseline's pass), none hiding
        // anything that needs a look.
        let folds: Vec<&str> = page.split("<details").skip(1).collect();
        assert_eq!(folds.len(), 3, "{page}");
        for f in folds {
            let f = &f[..at(f, "</details>")];
            for hidden in ["rfc-fail", "rfc-error", "rfc-variant"] {
                assert!(!f.contains(hidden), "{hidden} folded: {f}");
            }
        }
    }

    #[test]
    fn failures_show_their_evidence_and_the_path_its_standing() {
        let page = section(&mixed()).into_string();
        assert!(page.contains("replay: printf"), "{page}");
        assert!(
            page.contains("origin received #1 (4 bytes): GET "),
            "{page}"
        );
        assert!(page.contains("<span class=\"rfc-regression\">regression</span>"));
        assert!(page.contains("<p class=\"rfc-path-error\">ERROR: canary refused</p>"));
        assert!(
            page.contains("id=\"probe-base-a.fails\""),
            "second path anchors"
        );
    }

    #[test]
    fn server_text_is_escaped() {
        let page = section(&mixed()).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;x.evil"));
        assert!(page.contains("id=\"probe-&lt;script&gt;x.evil\""));
    }

    #[test]
    fn nothing_without_conformance_results() {
        let mut r = mixed();
        r.conformance = None;
        assert_eq!(section(&r).into_string(), "");
    }
}
