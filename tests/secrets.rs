//! Secrets stay out of reports (issue 13, group 7), end to end through the binary: `${ENV}` in a
//! scenario takes its value from the environment (an unset one is an error at its position), the
//! values of authorization, cookie and `secret_headers` headers appear in no artefact of a run
//! (results.json, HTML, JUnit, Markdown, hlog, the console) unless `--show-secrets`, and
//! `insecure: true` is stated in every report.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::text;

const TOKEN: &str = "tok-SECRET-4242";
const KEY: &str = "key-77aa88bb";
const COOKIE: &str = "cookie-5150abcd";

/// Runs the binary in `dir` with `env` set and `GAUNTLET_UNSET_X` surely unset.
fn gauntlet_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    c.args(args).current_dir(dir).env_remove("GAUNTLET_UNSET_X");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

/// Every file of `dir`, with its name, as text.
fn artefacts(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A run that fails its expectation on every request, so that every report carries failures
/// with their reproducers, sent with secrets in three kinds of header.
const SCENARIO: &str = r#"name: secrets
targets:
  a:
    url: embedded
    headers:
      authorization: "Bearer ${GAUNTLET_TEST_TOKEN}"
secret_headers: [X-Api-Key]
protocols: [h1, h2]
load: { model: closed, concurrency: 1, requests: 20 }
requests:
  - get: /status/503
    headers: { x-api-key: "key-77aa88bb", cookie: "session=cookie-5150abcd", x-trace: "visible-1234" }
    expect: { status: [200] }
"#;

#[test]
fn secret_header_values_reach_no_artefact_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), SCENARIO).unwrap();
    let env = [("GAUNTLET_TEST_TOKEN", TOKEN)];

    let o = gauntlet_env(
        &["run", "s.yaml", "--quiet", "--out", "hidden"],
        dir.path(),
        &env,
    );
    // Every request got a 503 where 200 was expected: a failed run, with failures reported.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let files = artefacts(&dir.path().join("hidden"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["results.json", "index.html", "junit.xml", "summary.md"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let console = text(&o);
    let everything = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .chain([("console", console.as_str())]);
    for (name, body) in everything {
        for secret in [TOKEN, KEY, COOKIE] {
            assert!(!body.contains(secret), "{secret} in {name}");
        }
    }
    let results = &files.iter().find(|(n, _)| n == "results.json").unwrap().1;
    // The failures are there, with their reproducers, only without the values; a header that
    // is no secret keeps its value, and the scenario's text is kept with its secrets redacted.
    assert!(results.contains("<redacted>"), "{results}");
    assert!(results.contains("curl "), "no reproducer in {results}");
    assert!(results.contains("visible-1234"));
    let v: serde_json::Value = serde_json::from_str(results).unwrap();
    let kept = v["meta"]["scenario_text"].as_str().unwrap();
    assert!(
        kept.contains("secret_headers: [X-Api-Key]") && kept.contains("<redacted>"),
        "{kept}"
    );
    assert_eq!(v["meta"]["secrets_shown"], false);

    let o = gauntlet_env(
        &[
            "run",
            "s.yaml",
            "--quiet",
            "--out",
            "shown",
            "--show-secrets",
        ],
        dir.path(),
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let files = artefacts(&dir.path().join("shown"));
    let get = |n: &str| files.iter().find(|(f, _)| f == n).unwrap().1.clone();
    let results = get("results.json");
    for secret in [TOKEN, KEY, COOKIE] {
        assert!(
            results.contains(secret),
            "{secret} missing with --show-secrets"
        );
    }
    assert!(get("index.html").contains("secret header values are shown"));
    assert!(get("summary.md").contains("secret header values are shown"));
    assert!(get("junit.xml").contains("name=\"secrets-shown\""));
    assert!(String::from_utf8_lossy(&o.stdout).contains("warning: secret header values are shown"));
}

#[test]
fn an_unset_variable_is_an_error_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: s\ntargets:\n  a: embedded\nrequests:\n  - get: /\n    headers: { authorization: \"Bearer ${GAUNTLET_UNSET_X}\" }\n",
    )
    .unwrap();
    let o = gauntlet_env(&["validate", "s.yaml"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("`GAUNTLET_UNSET_X` is not set"), "{e}");
    assert!(e.contains("s.yaml:6:"), "no position: {e}");
    assert!(e.contains("export the variable"), "no hint: {e}");
    // `$${` is the literal, and needs no variable.
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: s\ntargets:\n  a: embedded\nload: { rate: 1, duration: 1s }\nrequests:\n  - get: /\n    headers: { x-template: \"$${GAUNTLET_UNSET_X}\" }\n",
    )
    .unwrap();
    let o = gauntlet_env(&["validate", "s.yaml"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn insecure_is_stated_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: s\ntargets:\n  a: embedded\ntls: { insecure: true }\nprotocols: [h2]\nload: { model: closed, concurrency: 1, requests: 5 }\nrequests:\n  - get: /\n",
    )
    .unwrap();
    let o = gauntlet_env(&["run", "s.yaml", "--quiet", "--out", "o"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("warning: TLS certificates were not verified"),
        "{}",
        text(&o)
    );
    let files = artefacts(&dir.path().join("o"));
    let get = |n: &str| files.iter().find(|(f, _)| f == n).unwrap().1.clone();
    let v: serde_json::Value = serde_json::from_str(&get("results.json")).unwrap();
    assert_eq!(v["meta"]["insecure"], true);
    assert!(get("index.html").contains("TLS certificates were not verified"));
    assert!(get("summary.md").contains("TLS certificates were not verified"));
    assert!(get("junit.xml").contains("<property name=\"insecure\""));

    // The same run verifying nothing less says nothing.
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: s\ntargets:\n  a: embedded\nprotocols: [h2]\nload: { model: closed, concurrency: 1, requests: 5 }\nrequests:\n  - get: /\n",
    )
    .unwrap();
    let o = gauntlet_env(&["run", "s.yaml", "--quiet", "--out", "p"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("not verified"));
    assert!(!std::fs::read_to_string(dir.path().join("p/index.html"))
        .unwrap()
        .contains("not verified"));
}
