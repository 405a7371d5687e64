//! Running probes against a path and comparing two paths: the RFC verdict per probe, the parity
//! verdict per probe across candidate and baseline, the quirks that silence known parity
//! differences, and the wire form of all of it for results.json.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::canary::{self, Sick, Wire};
use super::probes::{self, Cx, Probe, Rfc, Suite};
use crate::model::conformance::{
    Capture, ConformanceJson, Evidence, Parity, PathResults, ProbeResult, Reproducer,
};
use crate::origin::recording::Recorder;
use crate::proto::raw::{escaped, hex, RawTarget};
pub use crate::scenario::probing::{Quirk, Quirks, Selection};

/// How to run the probes against one path.
#[derive(Debug, Clone)]
pub struct PathSpec {
    /// The path's name (the scenario's target name, or `target`).
    pub name: String,
    /// Where probes go.
    pub target: RawTarget,
    /// What the origin behind it received, when visible.
    pub origin: Option<Recorder>,
    /// A command that reloads the path's proxy gracefully.
    pub reload: Option<String>,
    /// Whether `origin` is behind the target (a proxy) rather than the target itself.
    pub proxied: bool,
    /// What the operator expects of Via and X-Forwarded-For.
    pub policy: probes::ProxyPolicy,
}

/// A string no earlier probe run used.
fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mix = (t ^ (std::process::id() as u64) << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("g{:08x}{}", mix >> 32, N.fetch_add(1, Ordering::Relaxed))
}

/// `bytes` for `printf '%b'`: printable characters as they are, the rest as `\xHH`.
fn printf_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'\'' | b'\\' | b'%' => format!("\\x{b:02x}"),
            0x20..=0x7e => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}

fn replay(p: &Probe, t: &RawTarget, bytes: &[u8]) -> String {
    let alpn = match p.suite {
        Suite::H2 => "h2",
        _ => "http/1.1",
    };
    let (host, port) = t.dial();
    // Any nc (OpenBSD's, the traditional one, busybox's) and openssl: the input stays open a
    // moment for the answer, and `timeout` ends a connection the server keeps alive, since not
    // every nc has -q or -N.
    let wait = t.timeout.as_secs().clamp(1, 10);
    let input = format!("(printf '%b' '{}'; sleep {wait})", printf_bytes(bytes));
    let end = wait + 2;
    match p.suite {
        // No common tool speaks raw HTTP/3 frames: gauntlet itself replays the probe.
        Suite::H3 => format!("gauntlet conformance --target {} --probe {}", t.url, p.id),
        _ if t.tls => format!(
            "{input} | timeout {end} openssl s_client -quiet -alpn {alpn} -servername {} -connect {host}:{port}",
            t.host
        ),
        _ => format!("{input} | timeout {end} nc {host} {port}"),
    }
}

/// Why `p` does not run on this path, when it cannot.
fn skip_reason(p: &Probe, cx: &Cx) -> Option<&'static str> {
    if p.suite == Suite::Proxy && !cx.proxied {
        Some("not run: proxy probes need a proxy in front of the recording origin (--origin)")
    } else if p.proxied_only && !cx.proxied {
        Some("not run: it judges what a proxy forwards, and the target is no proxy in front of the recording origin (--origin)")
    } else if p.needs_origin && cx.origin.is_none() {
        Some("not run: needs the recording origin behind the target (--origin)")
    } else if p.suite == Suite::H3 && !cx.target.tls {
        Some("not run: HTTP/3 needs an https target")
    } else {
        None
    }
}

/// Runs one probe, bounded even if a step's own deadline is not; `None` when `stop` came first.
async fn run_one(p: &Probe, cx: &Cx, stop: &CancellationToken) -> Option<probes::Outcome> {
    let limit = cx.target.timeout * 4 + Duration::from_secs(5);
    let bounded = tokio::time::timeout(limit, (p.run)(cx, *p));
    let finished = tokio::select! {
        f = bounded => f,
        _ = stop.cancelled() => return None,
    };
    Some(match finished {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => probes::Outcome::new(
            Rfc::Error,
            format!("{}:{}", e.class.as_str(), e.code),
            e.message,
        ),
        Err(_) => probes::Outcome::new(Rfc::Error, "hang", format!("no end within {limit:?}")),
    })
}

/// Some bytes as evidence, cut at [`Capture::LIMIT`].
pub fn capture(bytes: &[u8]) -> Capture {
    let shown = &bytes[..bytes.len().min(Capture::LIMIT)];
    Capture {
        hex: hex(shown),
        text: escaped(shown),
        len: bytes.len() as u64,
    }
}

/// How often, and how far apart, a canary that found the path down is tried again before the
/// path is declared stopped: long enough for a graceful reload to finish.
const RECOVERY_TRIES: u32 = 5;
const RECOVERY_PAUSE: Duration = Duration::from_millis(600);

/// The canary on `wire`, tried again while the path is down (a reload under way); the first
/// failure that is not "down" is returned at once, since it is evidence in itself.
async fn canary_recovering(spec: &PathSpec, wire: Wire) -> Result<(), Sick> {
    let mut last = Ok(());
    for i in 0..RECOVERY_TRIES {
        if i > 0 {
            tokio::time::sleep(RECOVERY_PAUSE).await;
        }
        last = canary::send(&spec.target, spec.origin.as_ref(), wire, &nonce()).await;
        match &last {
            Err(s) if s.down() => continue,
            _ => return last,
        }
    }
    last
}

/// After a desync, ends the origin's connections and sends canaries until one arrives intact: a
/// proxy may still hold answers owed to the requests the desync made up.
async fn clean_again(spec: &PathSpec, wire: Wire) -> Result<(), Sick> {
    let mut last = Ok(());
    for _ in 0..RECOVERY_TRIES {
        if let Some(r) = &spec.origin {
            r.end_connections();
        }
        tokio::time::sleep(RECOVERY_PAUSE).await;
        last = canary::send(&spec.target, spec.origin.as_ref(), wire, &nonce()).await;
        if last.is_ok() {
            break;
        }
    }
    last
}

/// What the canary before a wire's first probe found.
enum Vouched {
    /// It got through.
    Yes,
    /// It did not: the wire's probes are errors, and so is the path.
    No(String),
    /// The path does not offer the wire and the run did not ask for it by name.
    Absent(String),
}

/// The canary before `wire`'s first probe on this path.
async fn vouch(spec: &PathSpec, wire: Wire, sel: &Selection) -> Vouched {
    match canary::send(&spec.target, spec.origin.as_ref(), wire, &nonce()).await {
        Ok(()) => Vouched::Yes,
        // HTTP/3 is an option a path may not offer: unless asked for by name, a path without it
        // skips that family, loudly, rather than failing.
        Err(Sick::Unreachable(why)) if wire == Wire::H3 && !sel.suites.contains(&Suite::H3) => {
            Vouched::Absent(format!(
                "not run: no HTTP/3 at this target ({why}); name --suite h3 to require it"
            ))
        }
        Err(s) => Vouched::No(format!(
            "not run: the {} canary before the probes failed: {}",
            wire.as_str(),
            s.reason()
        )),
    }
}

/// What the canaries of a path found so far.
#[derive(Default)]
struct Health {
    /// Per wire, what the canary before its first probe found.
    wires: std::collections::HashMap<Wire, Vouched>,
    /// Set once the path stopped serving: every later probe is an error with this reason.
    stopped: Option<String>,
}

/// Runs `sel` against one path, one probe at a time, until `stop` (the probe under way is
/// abandoned; those finished are kept). A canary vouches for each wire before its first probe
/// and checks the path after every probe; see [`canary`].
pub async fn run_path(spec: &PathSpec, sel: &Selection, stop: &CancellationToken) -> PathResults {
    let mut out = Vec::new();
    let mut health = Health::default();
    for p in probes::selected(sel) {
        if stop.is_cancelled() {
            break;
        }
        let cx = Cx {
            target: spec.target.clone(),
            origin: spec.origin.clone(),
            nonce: nonce(),
            reload: spec.reload.clone(),
            proxied: spec.proxied,
            policy: spec.policy,
        };
        let wire = Wire::of(p.suite);
        let started = Instant::now();
        let (outcome, evidence) = if let Some(why) = skip_reason(&p, &cx) {
            (
                probes::Outcome::new(Rfc::Skipped, "", why),
                Evidence::default(),
            )
        } else if let Some(why) = &health.stopped {
            (
                probes::Outcome::new(Rfc::Error, "", why.clone()),
                Evidence::default(),
            )
        } else {
            if let std::collections::hash_map::Entry::Vacant(e) = health.wires.entry(wire) {
                e.insert(vouch(spec, wire, sel).await);
            }
            match &health.wires[&wire] {
                Vouched::Absent(why) => (
                    probes::Outcome::new(Rfc::Skipped, "", why.clone()),
                    Evidence::default(),
                ),
                Vouched::No(why) => (
                    probes::Outcome::new(Rfc::Error, "", why.clone()),
                    Evidence::default(),
                ),
                Vouched::Yes => {
                    let Some(mut o) = run_one(&p, &cx, stop).await else {
                        break;
                    };
                    let mut ev = Evidence {
                        client_received: o.received.take().map(|b| capture(&b)),
                        origin_received: cx
                            .received()
                            .iter()
                            .map(|r| capture(&canary::shown(r)))
                            .collect(),
                        canary: None,
                    };
                    after_probe(spec, wire, &p, &mut o, &mut ev, &mut health).await;
                    (o, ev)
                }
            }
        };
        let reproducer = matches!(outcome.rfc, Rfc::Fail | Rfc::Error)
            .then(|| (p.bytes)(&cx))
            .filter(|b| !b.is_empty())
            .map(|bytes| Reproducer {
                hex: hex(&bytes),
                text: escaped(&bytes),
                replay: replay(&p, &spec.target, &bytes),
            });
        out.push(ProbeResult {
            id: p.id.to_string(),
            suite: p.suite,
            rfc_ref: p.rfc.to_string(),
            title: p.title.to_string(),
            verdict: outcome.rfc,
            observed: outcome.observed,
            why: outcome.why,
            reproducer,
            evidence,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }
    let mut path = PathResults {
        name: spec.name.clone(),
        url: spec.target.url.clone(),
        origin_watched: spec.origin.is_some(),
        error: None,
        probes: out,
    };
    path.error = path_error(&path, &health);
    path
}

/// After a probe, a canary on a new connection: a path that stopped serving convicts the probe
/// of a crash and ends the run of this path; a canary that arrives altered convicts it of a
/// cross-client desync, and the origin's connections are ended before going on.
async fn after_probe(
    spec: &PathSpec,
    wire: Wire,
    p: &Probe,
    o: &mut probes::Outcome,
    ev: &mut Evidence,
    health: &mut Health,
) {
    let first = canary::send(&spec.target, spec.origin.as_ref(), wire, &nonce()).await;
    let sick = match first {
        Ok(()) => return,
        Err(s) if s.down() => match canary_recovering(spec, wire).await {
            Ok(()) => return,
            Err(s) => s,
        },
        Err(s) => s,
    };
    ev.canary = Some(sick.reason().to_string());
    if sick.down() {
        if o.rfc != Rfc::Error {
            o.rfc = Rfc::Fail;
            o.why = format!(
                "the path stopped serving after this probe (a crash or a hang): {}",
                sick.reason()
            );
        }
        health.stopped = Some(format!(
            "not run: the path stopped serving after {} ({})",
            p.id,
            sick.reason()
        ));
        return;
    }
    o.rfc = Rfc::Fail;
    o.observed = format!("{} desync", o.observed).trim().to_string();
    o.why = format!(
        "after this probe, another client's request did not reach the origin intact (a cross-client desync): {}",
        sick.reason()
    );
    // What the probe left in the proxy's upstream connections must not reach the next probe.
    if let Err(s) = clean_again(spec, wire).await {
        health.stopped = Some(format!(
            "not run: the path did not serve a plain request intact again after {} ({})",
            p.id,
            s.reason()
        ));
    }
}

/// Why the path as a whole has no verdict: a wire whose canary failed, a stop, or more probes
/// without a verdict than with one.
fn path_error(path: &PathResults, health: &Health) -> Option<String> {
    let mut wires: Vec<&String> = health
        .wires
        .values()
        .filter_map(|v| match v {
            Vouched::No(why) => Some(why),
            _ => None,
        })
        .collect();
    wires.sort();
    if let Some(w) = wires.first() {
        return Some(w.trim_start_matches("not run: ").to_string());
    }
    if let Some(s) = &health.stopped {
        return Some(s.trim_start_matches("not run: ").to_string());
    }
    let errors = path.count(Rfc::Error);
    (errors > 0 && errors >= path.judged()).then(|| {
        format!(
            "{errors} of {} probes could not reach a verdict, against {} that did",
            path.probes.len(),
            path.judged()
        )
    })
}

/// The parity verdicts of `cand` against `base`.
pub fn parity(cand: &PathResults, base: &PathResults, quirks: &Quirks) -> Vec<Parity> {
    cand.probes
        .iter()
        .filter_map(|c| {
            let b = base.probes.iter().find(|b| b.id == c.id)?;
            if c.verdict == Rfc::Skipped || b.verdict == Rfc::Skipped {
                return None;
            }
            let agree = c.verdict == b.verdict && c.observed == b.observed;
            let rank = |v: Rfc| match v {
                Rfc::Pass => 0,
                Rfc::Variant => 1,
                _ => 2,
            };
            let quirk = (!agree)
                .then(|| quirks.find([cand.name.as_str(), base.name.as_str()], &c.id))
                .flatten()
                .map(|q| format!("{}: {}", q.path, q.reason));
            Some(Parity {
                id: c.id.clone(),
                candidate: format!("{} ({})", c.verdict.as_str(), c.observed),
                baseline: format!("{} ({})", b.verdict.as_str(), b.observed),
                agree,
                failure: !agree && quirk.is_none() && rank(c.verdict) > rank(b.verdict),
                quirk,
            })
        })
        .collect()
}

/// Puts paths and parity together; `candidate` and `baseline` name the two paths compared.
pub fn conformance(
    paths: Vec<PathResults>,
    pair: Option<(&str, &str)>,
    quirks: &Quirks,
) -> ConformanceJson {
    let find = |n: &str| paths.iter().find(|p| p.name == n);
    let (parity, judged) = match pair.and_then(|(c, b)| Some((find(c)?, find(b)?))) {
        Some((c, b)) => (parity(c, b, quirks), vec![c]),
        None => (Vec::new(), paths.iter().collect()),
    };
    let regressions = parity.iter().filter(|p| p.failure).count() as u64;
    // A probe that both fails the RFC and regresses against the baseline is one failure.
    let mut failing: std::collections::BTreeSet<(&str, &str)> = judged
        .iter()
        .flat_map(|p| p.with(Rfc::Fail).map(|x| (p.name.as_str(), x.id.as_str())))
        .collect();
    if let Some((cand, _)) = pair {
        failing.extend(
            parity
                .iter()
                .filter(|p| p.failure)
                .map(|p| (cand, p.id.as_str())),
        );
    }
    let failures = failing.len() as u64;
    ConformanceJson {
        paths: paths.clone(),
        parity,
        failures,
        regressions,
        interrupted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str, verdicts: &[(&str, Rfc, &str)]) -> PathResults {
        PathResults {
            name: name.into(),
            url: format!("https://{name}"),
            origin_watched: true,
            error: None,
            probes: verdicts
                .iter()
                .map(|(id, v, o)| ProbeResult {
                    id: id.to_string(),
                    suite: Suite::H2,
                    rfc_ref: String::new(),
                    title: String::new(),
                    verdict: *v,
                    observed: o.to_string(),
                    why: String::new(),
                    reproducer: None,
                    evidence: Default::default(),
                    duration_ms: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_quirk_silences_only_the_parity_failure_it_names() {
        let cand = path(
            "caddy",
            &[
                ("h2.a", Rfc::Variant, "400"),
                ("h2.b", Rfc::Variant, "400"),
                ("h2.c", Rfc::Pass, "rst:PROTOCOL_ERROR"),
                ("h2.d", Rfc::Fail, "200"),
            ],
        );
        let base = path(
            "nginx",
            &[
                ("h2.a", Rfc::Pass, "rst:PROTOCOL_ERROR"),
                ("h2.b", Rfc::Pass, "rst:PROTOCOL_ERROR"),
                ("h2.c", Rfc::Variant, "400"),
                ("h2.d", Rfc::Fail, "200"),
            ],
        );
        let quirks = Quirks {
            quirks: vec![Quirk {
                path: "caddy".into(),
                probe: "h2.a".into(),
                reason: "answers 400 before reading the stream".into(),
            }],
            file: String::new(),
        };
        let p = parity(&cand, &base, &quirks);
        let by = |id: &str| p.iter().find(|x| x.id == id).unwrap();
        assert!(!by("h2.a").agree && by("h2.a").quirk.is_some() && !by("h2.a").failure);
        assert!(!by("h2.b").agree && by("h2.b").quirk.is_none() && by("h2.b").failure);
        // The candidate does better: a difference, not a regression.
        assert!(!by("h2.c").agree && !by("h2.c").failure);
        assert!(by("h2.d").agree);
        let c = conformance(vec![cand, base], Some(("caddy", "nginx")), &quirks);
        // One RFC failure of the candidate, one unaccepted parity difference.
        assert_eq!(c.failures, 2);
        assert_eq!(c.regressions, 1);
    }

    #[test]
    fn a_probe_failing_the_rfc_and_regressing_counts_once() {
        let cand = path(
            "candidate",
            &[("h2.a", Rfc::Fail, "200"), ("h2.b", Rfc::Variant, "400")],
        );
        let base = path(
            "baseline",
            &[
                ("h2.a", Rfc::Pass, "rst:PROTOCOL_ERROR"),
                ("h2.b", Rfc::Pass, "rst:PROTOCOL_ERROR"),
            ],
        );
        let c = conformance(
            vec![cand, base],
            Some(("candidate", "baseline")),
            &Quirks::default(),
        );
        // h2.a: an RFC failure and a regression, once; h2.b: a regression only.
        assert_eq!(c.regressions, 2);
        assert_eq!(c.failures, 2);
    }

    #[test]
    fn a_quirk_for_an_unknown_probe_is_refused_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.yaml");
        std::fs::write(
            &f,
            "quirks:\n  - { path: caddy, probe: h1.smugling.cl-te, reason: x }\n",
        )
        .unwrap();
        let e = crate::conformance::check::quirks(&Quirks::load(&f).unwrap()).unwrap_err();
        assert!(
            e.contains("quirks[0].probe") && e.contains("did you mean `h1.smuggling.cl-te`?"),
            "{e}"
        );
        std::fs::write(
            &f,
            "quirks:\n  - { path: caddy, probe: h1.smuggling.cl-te, reason: x }\n",
        )
        .unwrap();
        let q = Quirks::load(&f).unwrap();
        assert!(crate::conformance::check::quirks(&q).is_ok());
        assert_eq!(q.quirks.len(), 1);
    }

    #[test]
    fn replay_bytes_survive_printf() {
        let raw = b"GET / HTTP/1.1\r\nX: a'b\\c%d\0\r\n\r\n";
        let line = printf_bytes(raw);
        assert!(line.is_ascii() && !line.contains('\''), "{line}");
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("printf '%b' '{line}'")])
            .output()
            .unwrap();
        assert_eq!(out.stdout, raw);
    }

    #[test]
    fn the_replay_line_resends_the_bytes_with_the_system_nc() {
        use std::io::Read;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        });
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nX: 'q'%\0\r\n\r\n";
        let t = RawTarget::from_url(
            &format!("http://127.0.0.1:{port}"),
            Default::default(),
            Duration::from_secs(1),
        )
        .unwrap();
        let p = probes::all()[0];
        let line = replay(&p, &t, raw);
        assert!(!line.contains("-q"), "{line}");
        let out = std::process::Command::new("bash")
            .args(["-c", &line])
            .output()
            .expect("bash");
        assert!(
            out.status.code().is_some(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(got.join().unwrap(), raw, "{line}");
    }

    #[test]
    fn selection_filters_by_suite_and_prefix() {
        let sel = Selection {
            suites: vec![Suite::H1],
            only: vec!["h1.smuggling".into()],
        };
        let ids: Vec<_> = probes::selected(&sel).iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), 6, "{ids:?}");
        assert!(ids.iter().all(|i| i.starts_with("h1.smuggling")));
        // Ids are unique across families.
        let all = probes::all();
        let mut seen = std::collections::BTreeSet::new();
        assert!(all.iter().all(|p| seen.insert(p.id)));
    }
}
