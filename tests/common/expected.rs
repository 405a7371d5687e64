//! The committed expected verdict of every probe on every proxy of the stack
//! (`conformance/expected/NAME.txt`): one line per probe, `id verdict reason`, a reason required
//! for every verdict but `pass`. A run whose verdicts differ fails with each difference spelled
//! out; `UPDATE_EXPECTED=1` rewrites the file from the run, keeping the reasons of verdicts that
//! did not move (new ones take the probe's own explanation, to be edited before committing).

use std::collections::BTreeMap;
use std::path::PathBuf;

use gauntlet::model::conformance::PathResults;
use gauntlet::origin::raw::RawOrigin;
use gauntlet::origin::recording::Recorder;

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("conformance/expected")
        .join(format!("{name}.txt"))
}

/// A runtime for probing and the recording raw origin on a free loopback port, run on it.
pub fn recording_origin() -> (tokio::runtime::Runtime, RawOrigin) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let raw = rt
        .block_on(RawOrigin::start(
            "127.0.0.1:0".parse().unwrap(),
            Recorder::default(),
        ))
        .unwrap();
    (rt, raw)
}

/// The table of a path's verdicts, for failure messages.
pub fn table(r: &PathResults) -> String {
    r.probes
        .iter()
        .map(|p| {
            format!(
                "{:<38} {:<8} {:<24} {}",
                p.id,
                p.verdict.as_str(),
                p.observed,
                p.why
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `id -> (verdict, reason)` from a committed table.
fn parse(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            let rest = rest.trim_start();
            let (verdict, why) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (
                id.to_string(),
                (verdict.to_string(), why.trim().to_string()),
            )
        })
        .collect()
}

fn write(name: &str, r: &PathResults, old: &BTreeMap<String, (String, String)>) {
    let mut out = format!(
        "# Expected conformance verdicts on {name} (tests/probes_debian.rs, tests/probes_stack.rs).\n# probe verdict reason (required for every verdict but pass)\n"
    );
    for p in &r.probes {
        let v = p.verdict.as_str();
        let why = match old.get(&p.id) {
            Some((ov, ow)) if ov == v => ow.clone(),
            _ if v == "pass" => String::new(),
            _ => format!("{} ({})", p.why, p.observed),
        };
        out.push_str(format!("{:<38} {:<8} {}", p.id, v, why).trim_end());
        out.push('\n');
    }
    std::fs::create_dir_all(file(name).parent().unwrap()).unwrap();
    std::fs::write(file(name), out).unwrap();
}

/// Checks `r` against `conformance/expected/NAME.txt`.
pub fn check_expected(name: &str, r: &PathResults) {
    use gauntlet::model::conformance::Rfc;
    let counts: Vec<String> = [Rfc::Pass, Rfc::Variant, Rfc::Fail, Rfc::Error, Rfc::Skipped]
        .iter()
        .map(|v| format!("{} {}", r.count(*v), v.as_str()))
        .collect();
    let ms: u64 = r.probes.iter().map(|p| p.duration_ms).sum();
    eprintln!(
        "summary {name}: {} · probes {:.1} s",
        counts.join(" · "),
        ms as f64 / 1000.0
    );
    let text = std::fs::read_to_string(file(name)).unwrap_or_default();
    let want = parse(&text);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        write(name, r, &want);
        return;
    }
    let mut wrong = Vec::new();
    for p in &r.probes {
        match want.get(&p.id) {
            None => wrong.push(format!(
                "{}: not in the table; got {} ({}: {})",
                p.id,
                p.verdict.as_str(),
                p.observed,
                p.why
            )),
            Some((v, why)) if v != p.verdict.as_str() => wrong.push(format!(
                "{}: expected {v} ({why}), got {} ({}: {})\n    the origin received: {:?}",
                p.id,
                p.verdict.as_str(),
                p.observed,
                p.why,
                p.evidence
                    .origin_received
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
            )),
            Some((v, why)) if v != "pass" && why.is_empty() => {
                wrong.push(format!("{}: {v} without a reason in the table", p.id))
            }
            _ => {}
        }
    }
    for id in want.keys() {
        if !r.probes.iter().any(|p| &p.id == id) {
            wrong.push(format!("{id}: in the table but not run"));
        }
    }
    // The differences come last: a CI log keeps the head and the tail of a long output.
    assert!(
        wrong.is_empty(),
        "the run:\n{}\n\n{name}: {} verdict(s) differ from {} (UPDATE_EXPECTED=1 rewrites it):\n{}",
        table(r),
        wrong.len(),
        file(name).display(),
        wrong.join("\n"),
    );
}
