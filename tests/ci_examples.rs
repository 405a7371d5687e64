//! The CI a proxy's repository copies: `action.yml` (a composite action), `ci/examples/` (GitHub
//! and GitLab), the steps they share (`ci/action/gauntlet-ci.sh`) and the image of the
//! `Dockerfile`. The files are checked for their structure (nothing of gauntlet's own repository,
//! the job fails on the script's code), then the steps run for real from a folder outside this
//! checkout, as a proxy's repository would hold them: main's run, a pull request compared with it,
//! a regression that must fail the job, and the GitLab job's whole script against a stand-in for
//! GitLab's API. The image is built where a container builder and its base images are at hand,
//! Docker Hub's or, with podman, the stand-ins ci/local-images.sh makes from Debian's mirror;
//! elsewhere that test says `skipped` and why.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestOrigin;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// What a child printed and how it ended; `None` when it outlived its bound and was killed.
struct Ran {
    code: Option<i32>,
    log: String,
}

/// Runs `cmd` with both outputs in one file, killed after `limit`: no test can hang on it.
fn bounded(mut cmd: Command, limit: Duration) -> Ran {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        code,
        log: std::fs::read_to_string(log.path()).unwrap_or_default(),
    }
}

const SCRIPT: &str = "ci/action/gauntlet-ci.sh";

/// A proxy's scenario, as its repository would hold it: two paths whose latency a regression
/// raises through the origin's `x-gauntlet-extra-delay-ms` header (set from the environment),
/// and gates that only such a regression breaks (a factor of 5 on p50, no errors), never the
/// noise between two runs of the same thing.
const PROXY_SCENARIO: &str = r#"
name: proxy-check
targets:
  candidate: { url: http://127.0.0.1:1, headers: { x-gauntlet-extra-delay-ms: "${CANDIDATE_DELAY_MS}" } }
  baseline: { url: http://127.0.0.1:1, headers: { x-gauntlet-extra-delay-ms: "${BASELINE_DELAY_MS}" } }
compare: { candidate: candidate, baseline: baseline }
load: { model: open, rate: 40, duration: 1s, connections: 2 }
gates:
  - candidate.p50 <= baseline.p50 * 5
  - candidate.error_rate == 0
requests:
  - get: /
    expect: { status: 200 }
"#;

/// A proxy's repository in a temporary folder outside this checkout: its scenario only.
fn proxy_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    assert!(!repo.path().starts_with(root()));
    std::fs::create_dir_all(repo.path().join("gauntlet")).unwrap();
    std::fs::write(repo.path().join("gauntlet/scenario.yaml"), PROXY_SCENARIO).unwrap();
    repo
}

/// A command in `dir` with none of this process's `GAUNTLET_*` or CI variables, so only what a
/// test gives reaches the steps.
fn clean(program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GAUNTLET") || k.starts_with("CI_") || k == "GITLAB_TOKEN" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs the shared steps in `repo` with the environment a CI job would give them.
fn steps(repo: &Path, origin: &str, delays: (u32, u32), main: Option<&Path>) -> Ran {
    let mut cmd = clean("bash", repo);
    cmd.arg(root().join(SCRIPT))
        .env("GAUNTLET", env!("CARGO_BIN_EXE_gauntlet"))
        .env("GAUNTLET_SCENARIO", "gauntlet/scenario.yaml")
        .env("GAUNTLET_CANDIDATE_URL", origin)
        .env("GAUNTLET_BASELINE_URL", origin)
        .env("GAUNTLET_ALLOW_HOSTS", "localhost, 127.0.0.1")
        .env("GAUNTLET_ARGS", "--seed 7")
        .env("CANDIDATE_DELAY_MS", delays.0.to_string())
        .env("BASELINE_DELAY_MS", delays.1.to_string());
    if let Some(m) = main {
        cmd.env("GAUNTLET_MAIN_RESULTS", m);
    }
    bounded(cmd, Duration::from_secs(120))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_action_is_composite_and_fails_the_job_on_the_scripts_code() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let text = read(&root().join("action.yml"));
    let runs = &text[text.find("\nruns:").expect("a runs section")..];
    let inputs = action["inputs"].as_object().expect("inputs");
    for name in inputs.keys() {
        assert!(
            runs.contains(&format!("inputs.{name}")),
            "input `{name}` is declared but never used"
        );
    }
    assert!(inputs["scenario"]["required"] == true);
    for (name, o) in action["outputs"].as_object().expect("outputs") {
        let value = o["value"].as_str().unwrap_or_default();
        let step = value
            .trim_start_matches("${{ steps.")
            .split('.')
            .next()
            .unwrap();
        assert!(
            action["runs"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == step),
            "output `{name}` reads step `{step}`, which does not exist"
        );
    }
    let steps = action["runs"]["steps"].as_array().unwrap();
    for s in steps {
        assert!(
            s.get("continue-on-error").is_none(),
            "{s}: a step that cannot fail cannot fail the job"
        );
        if s.get("run").is_some() {
            assert_eq!(s["shell"], "bash", "composite run steps name their shell");
        }
        if let Some(uses) = s["uses"].as_str() {
            assert!(uses.contains("@v"), "{uses}: pinned to a major version");
        }
    }
    // The step that runs the script leaves with its code; the upload and the comment still run.
    let run = steps.iter().find(|s| s["id"] == "run").expect("step `run`");
    let script = run["run"].as_str().unwrap();
    assert!(script.contains("\"$ACTION_PATH/ci/action/gauntlet-ci.sh\""));
    assert_eq!(run["env"]["ACTION_PATH"], "${{ github.action_path }}");
    assert!(
        script.trim_end().ends_with("exit \"$code\""),
        "the job fails on the script's code: {script}"
    );
    for s in steps.iter().skip_while(|s| s["id"] != "run").skip(1) {
        assert!(
            s["if"].as_str().unwrap_or_default().starts_with("always()"),
            "{s}: must run after a failed gate too"
        );
    }
    // Every GAUNTLET_* variable the action gives the script is one the script reads.
    let sh = read(&root().join(SCRIPT));
    for var in run["env"].as_object().unwrap().keys() {
        if var.starts_with("GAUNTLET") {
            assert!(
                sh.contains(&format!("${{{var}")),
                "the script ignores {var}"
            );
        }
    }
}

#[test]
fn the_examples_need_nothing_of_gauntlets_repository() {
    let files = [
        "action.yml",
        "ci/examples/github-actions.yml",
        "ci/examples/gitlab-ci.yml",
        SCRIPT,
    ];
    for file in files {
        let text = read(&root().join(file));
        for absent in [
            "ci/stack.sh",
            "ci/install.sh",
            "cargo build",
            "scenarios/",
            "continue-on-error",
            "actions/cache",
        ] {
            assert!(!text.contains(absent), "{file} mentions `{absent}`");
        }
    }

    // GitHub: the action from gauntlet's repository, staging from secrets, main's artifact.
    let gh = yaml("ci/examples/github-actions.yml");
    let steps = gh["jobs"]["gauntlet"]["steps"].as_array().unwrap();
    let step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.ends_with("/gauntlet@v1"))
        })
        .expect("a step uses the action at a tag");
    let with = &step["with"];
    assert!(with["candidate-url"]
        .as_str()
        .unwrap()
        .starts_with("${{ secrets."));
    assert!(with["baseline-url"]
        .as_str()
        .unwrap()
        .starts_with("${{ secrets."));
    assert_eq!(with["main-artifact"], "gauntlet-main");
    let action = yaml("action.yml");
    for key in with.as_object().unwrap().keys() {
        assert!(action["inputs"].get(key).is_some(), "no input `{key}`");
    }
    assert_eq!(gh["permissions"]["pull-requests"], "write");
    assert_eq!(gh["permissions"]["actions"], "read");
    let on = &gh["on"];
    assert!(on.get("pull_request").is_some() && on["push"]["branches"][0] == "main");

    // GitLab: the image, the steps as `gauntlet-ci`, main's artifacts through the API, the job's
    // exit code the script's.
    let gl = yaml("ci/examples/gitlab-ci.yml");
    let job = &gl["gauntlet"];
    assert_eq!(job["image"]["entrypoint"], serde_json::json!([""]));
    assert!(job.get("cache").is_none(), "caches are per branch");
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(script.iter().any(|s| s.contains("gauntlet-ci || code=$?")));
    assert_eq!(script.last(), Some(&"exit \"$code\""));
    assert!(script.iter().any(|s| s.contains(
        "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$CI_DEFAULT_BRANCH/download?job=$CI_JOB_NAME"
    )));
    let out = job["variables"]["GAUNTLET_OUT"].as_str().unwrap();
    assert_eq!(job["artifacts"]["paths"][0], format!("{out}/"));
    assert_eq!(job["artifacts"]["when"], "always");
    assert_eq!(
        job["artifacts"]["reports"]["junit"],
        format!("{out}/run/junit.xml")
    );

    // The image holds the steps and every tool the GitLab job calls.
    let docker = read(&root().join("Dockerfile"));
    assert!(docker.contains(&format!("COPY {SCRIPT} /usr/local/bin/gauntlet-ci")));
    // The runtime stage's packages (the build stage installs its own).
    let runtime = docker
        .split_once("FROM ${RUNTIME")
        .expect("a runtime stage")
        .1;
    let install = runtime
        .lines()
        .find(|l| l.contains("apt-get install"))
        .unwrap();
    for tool in ["bash", "curl", "unzip", "jq", "ca-certificates"] {
        assert!(
            install.split_whitespace().any(|w| w == tool),
            "the image lacks {tool}"
        );
    }
}

/// Every flag the script gives `gauntlet run` or `gauntlet compare` is one that command has.
#[test]
fn the_script_calls_only_flags_the_cli_has() {
    let sh = read(&root().join(SCRIPT));
    let help = |sub: &str| {
        let o = common::gauntlet(&[sub, "--help"], root());
        assert_eq!(o.status.code(), Some(0), "`gauntlet {sub}` does not exist");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (run, compare) = (help("run"), help("compare"));
    let mut seen = 0;
    for line in sh.lines().map(str::trim) {
        let help = if line.starts_with("args=(run") || line.starts_with("args+=(") {
            &run
        } else if line.starts_with("compare_args=(compare") {
            &compare
        } else {
            continue;
        };
        for flag in line
            .split(|c: char| c.is_whitespace() || c == '(' || c == '"')
            .filter(|w| w.starts_with("--") && w.len() > 2)
        {
            seen += 1;
            assert!(help.contains(flag), "`{line}`: no {flag}");
        }
    }
    assert!(seen >= 6, "{seen} flags found");
}

#[test]
fn the_steps_run_from_another_repository_and_fail_the_job_on_gates() {
    let origin = TestOrigin::start();
    let url = origin.http();

    // main: nothing to compare with; its output folder is what the artifact keeps.
    let main = proxy_repo();
    let r = steps(main.path(), &url, (0, 0), None);
    assert_eq!(r.code, Some(0), "{}", r.log);
    let out = main.path().join("gauntlet-out");
    for f in ["results.json", "index.html", "junit.xml", "summary.md"] {
        assert!(out.join("run").join(f).is_file(), "run/{f}\n{}", r.log);
    }
    assert!(!out.join("vs-main").exists());
    let comment = read(&out.join("comment.md"));
    assert!(comment.starts_with("<!-- gauntlet-ci: gauntlet/scenario.yaml -->\n"));
    assert!(comment.contains("No results of the main branch were given"));
    assert_eq!(read(&out.join("exit-code")).trim(), "0");
    let kept = tempfile::tempdir().unwrap();
    let artifact = kept.path().join("results.json");
    std::fs::copy(out.join("run/results.json"), &artifact).unwrap();

    // A pull request that changes nothing: both summaries in one comment, and it passes.
    let pr = proxy_repo();
    let r = steps(pr.path(), &url, (0, 0), Some(&artifact));
    assert_eq!(r.code, Some(0), "{}", r.log);
    let out = pr.path().join("gauntlet-out");
    for f in ["results.json", "index.html", "summary.md"] {
        assert!(
            out.join("vs-main").join(f).is_file(),
            "vs-main/{f}\n{}",
            r.log
        );
    }
    let comment = read(&out.join("comment.md"));
    let run_summary = read(&out.join("run/summary.md"));
    let vs_main = read(&out.join("vs-main/summary.md"));
    assert!(comment.contains(run_summary.trim()), "{comment}");
    assert!(comment.contains(vs_main.trim()), "{comment}");
    assert!(
        comment.find(run_summary.trim()) < comment.find("### Compared with the main branch"),
        "{comment}"
    );
    assert!(comment.contains("job: exit 0 (passed)"), "{comment}");

    // Both paths 150 ms slower: the run's own two paths agree (its gates hold), but against
    // main's results the candidate is 5 times slower: the comparison's gate fails the job.
    let r = steps(pr.path(), &url, (150, 150), Some(&artifact));
    assert_eq!(r.code, Some(1), "{}", r.log);
    let comment = read(&out.join("comment.md"));
    assert!(
        comment.contains("run: exit 0 (passed) · comparison with main: exit 1 (a gate failed)"),
        "{comment}"
    );
    assert!(comment.contains("`candidate.p50 <= baseline.p50 * 5`"));
    assert_eq!(read(&out.join("exit-code")).trim(), "1");

    // Only the candidate slower: the run's own gate fails, with or without main's results.
    let r = steps(pr.path(), &url, (150, 0), None);
    assert_eq!(r.code, Some(1), "{}", r.log);
    assert!(read(&out.join("comment.md")).contains("run: exit 1 (a gate failed)"));

    // Main's artifact missing (expired): not compared, and not a failure by itself.
    let gone = kept.path().join("expired.json");
    let r = steps(pr.path(), &url, (0, 0), Some(&gone));
    assert_eq!(r.code, Some(0), "{}", r.log);
    assert!(read(&out.join("comment.md")).contains("were not found"));

    // A broken scenario is the harness's error (2), which outranks nothing passing.
    std::fs::write(pr.path().join("gauntlet/scenario.yaml"), "name: [").unwrap();
    let r = steps(pr.path(), &url, (0, 0), Some(&artifact));
    assert_eq!(r.code, Some(2), "{}", r.log);
    let comment = read(&out.join("comment.md"));
    assert!(
        comment.contains("The run wrote no summary (exit 2"),
        "{comment}"
    );
    assert!(comment.contains("This run wrote no results"), "{comment}");
}

/// One request to the stand-in for GitLab's API.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// GitLab's API on a loopback port, as far as the job uses it: GET answers with `zip` (the
/// artifacts archive), POST with 201 (the note). Every request is recorded.
fn fake_gitlab(zip: Vec<u8>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v4", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (method, target) = (
                parts.next().unwrap_or_default().to_string(),
                parts.next().unwrap_or_default().to_string(),
            );
            let mut headers = BTreeMap::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let reply: (&str, &[u8]) = if method == "GET" {
                ("200 OK", &zip)
            } else {
                ("201 Created", b"{}")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                reply.0,
                reply.1.len()
            );
            let _ = stream.write_all(reply.1);
            log.lock().unwrap().push(Seen {
                method,
                target,
                headers,
                body,
            });
        }
    });
    (url, seen)
}

/// The GitLab job's script, as its runner runs it: every line in one shell that stops at the
/// first failing command, with `gauntlet` and `gauntlet-ci` on PATH as in the image.
fn gitlab_job(repo: &Path, bin: &Path, env: &[(&str, String)]) -> Ran {
    let gl = yaml("ci/examples/gitlab-ci.yml");
    let job = &gl["gauntlet"];
    let mut script = String::from("set -eo pipefail\n");
    for line in job["script"].as_array().unwrap() {
        script.push_str(line.as_str().unwrap());
        script.push('\n');
    }
    let mut cmd = clean("bash", repo);
    cmd.arg("-c").arg(script).env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    for (k, v) in job["variables"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    bounded(cmd, Duration::from_secs(120))
}

#[test]
fn the_gitlab_job_fetches_mains_artifacts_and_posts_one_note() {
    for tool in ["curl", "jq", "unzip", "zip"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "{tool} is installed by ci/install.sh"
        );
    }
    let origin = TestOrigin::start();
    // The image's PATH: the binary and the steps under the names the Dockerfile gives them.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gauntlet"), bin.path().join("gauntlet"))
        .unwrap();
    std::os::unix::fs::symlink(root().join(SCRIPT), bin.path().join("gauntlet-ci")).unwrap();
    // Project variables outrank the job's: a short run here instead of the example's minute.
    let common = |delay: u32| -> Vec<(&str, String)> {
        vec![
            ("GAUNTLET_CANDIDATE_URL", origin.http()),
            ("GAUNTLET_BASELINE_URL", origin.http()),
            ("GAUNTLET_ARGS", "--duration 1s".into()),
            ("CANDIDATE_DELAY_MS", delay.to_string()),
            ("BASELINE_DELAY_MS", delay.to_string()),
            ("CI_DEFAULT_BRANCH", "main".into()),
            ("CI_PROJECT_ID", "42".into()),
            ("CI_JOB_NAME", "gauntlet".into()),
            ("CI_JOB_TOKEN", "job-token".into()),
        ]
    };

    // The main branch's pipeline: no merge request, nothing fetched or posted.
    let main = proxy_repo();
    let mut env = common(0);
    env.push(("CI_COMMIT_BRANCH", "main".into()));
    let r = gitlab_job(main.path(), bin.path(), &env);
    assert_eq!(r.code, Some(0), "{}", r.log);
    assert!(main.path().join("gauntlet-out/run/junit.xml").is_file());
    // Its artifacts archive, with the paths GitLab keeps (relative to the checkout).
    let archive = main.path().join("artifacts.zip");
    let zipped = bounded(
        {
            let mut c = Command::new("zip");
            c.current_dir(main.path())
                .args(["-qr", "artifacts.zip", "gauntlet-out"]);
            c
        },
        Duration::from_secs(30),
    );
    assert_eq!(zipped.code, Some(0), "{}", zipped.log);
    let (api, seen) = fake_gitlab(std::fs::read(&archive).unwrap());

    // A merge request that slows both paths down: main's artifacts are fetched, the comparison
    // fails its gate, the note is posted all the same, and the job fails.
    for (delay, code, token) in [(0, 0, None), (150, 1, Some("project-token"))] {
        let mr = proxy_repo();
        let mut env = common(delay);
        env.push(("CI_MERGE_REQUEST_IID", "5".into()));
        env.push(("CI_API_V4_URL", api.clone()));
        if let Some(t) = token {
            env.push(("GITLAB_TOKEN", t.into()));
        }
        seen.lock().unwrap().clear();
        let r = gitlab_job(mr.path(), bin.path(), &env);
        assert_eq!(r.code, Some(code), "{}", r.log);
        let out = mr.path().join("gauntlet-out");
        assert!(out.join("vs-main/index.html").is_file(), "{}", r.log);
        let seen = seen.lock().unwrap().clone();
        let get = &seen[0];
        assert_eq!(get.method, "GET");
        assert_eq!(
            get.target,
            "/api/v4/projects/42/jobs/artifacts/main/download?job=gauntlet"
        );
        let comment = read(&out.join("comment.md"));
        match token {
            None => {
                assert_eq!(get.headers["job-token"], "job-token");
                assert_eq!(seen.len(), 1, "no token, no note: {seen:?}");
                assert!(comment.contains("job: exit 0 (passed)"), "{comment}");
            }
            Some(t) => {
                assert_eq!(get.headers["private-token"], t);
                assert_eq!(seen.len(), 2, "{seen:?}");
                let post = &seen[1];
                assert_eq!(post.target, "/api/v4/projects/42/merge_requests/5/notes");
                assert_eq!(post.headers["private-token"], t);
                let note: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
                assert_eq!(note["body"], comment.as_str());
                assert!(comment.contains("comparison with main: exit 1 (a gate failed)"));
            }
        }
    }
}

/// The first container builder that can run here, or why none can.
fn builder() -> Result<&'static str, String> {
    let mut why = Vec::new();
    for tool in ["podman", "buildah", "docker"] {
        let installed = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            why.push(format!("{tool}: not installed"));
            continue;
        }
        // `info` needs what a build needs: docker its daemon, podman and buildah their storage.
        let mut cmd = Command::new(tool);
        cmd.arg("info");
        let r = bounded(cmd, Duration::from_secs(30));
        if r.code == Some(0) {
            return Ok(tool);
        }
        let last = r.log.lines().last().unwrap_or("timed out").to_string();
        why.push(format!("{tool}: cannot run ({last})"));
    }
    Err(why.join("; "))
}

/// The Dockerfile's base images, unset build arguments' defaults: `FROM ${BUILDER:-rust:…} AS build`.
fn published_bases() -> Vec<String> {
    read(&root().join("Dockerfile"))
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .map(|l| {
            let image = l.split_whitespace().next().unwrap();
            match image.split_once(":-") {
                Some((_, default)) => default.trim_end_matches('}').to_string(),
                None => image.to_string(),
            }
        })
        .collect()
}

/// Where Docker Hub is out of reach: podman's build arguments and options for the stand-ins of
/// ci/local-images.sh (Debian's bookworm from its mirror; this machine's Rust toolchain and
/// crates, mounted, cargo offline). `Err` says why they cannot be had here.
fn local_bases() -> Result<Vec<String>, String> {
    let installed = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !installed("debootstrap") {
        return Err("debootstrap: not installed (ci/install.sh installs it)".into());
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .ok_or("rustc: no toolchain to mount")?;
    let cargo_home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap()));
    // The script is made to succeed where debootstrap is installed: ci/install.sh installs it
    // with podman, from the same mirror. Two or three minutes the first time, then none.
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("ci/local-images.sh"));
    let made = bounded(cmd, Duration::from_secs(15 * 60));
    assert_eq!(made.code, Some(0), "ci/local-images.sh:\n{}", made.log);
    Ok([
        // The build's steps run without an OCI runtime (crun refuses hybrid cgroups), and the
        // runtime stage's apt-get reaches Debian's mirror on the host's network.
        "--isolation=chroot",
        "--network=host",
        "--build-arg=BUILDER=localhost/gauntlet-rust:bookworm",
        "--build-arg=RUNTIME=localhost/gauntlet-debian:bookworm",
        "--build-arg=CARGO_FLAGS=--offline",
    ]
    .map(String::from)
    .into_iter()
    .chain([
        format!("--volume={sysroot}:/usr/local/rust:ro"),
        format!("--volume={cargo_home}/registry:/usr/local/cargo/registry"),
    ])
    .collect())
}

#[test]
fn the_dockerfile_builds_an_image_that_runs_gauntlet_and_its_steps() {
    let tool = match builder() {
        Ok(t) => t,
        Err(why) => {
            eprintln!("skipped: no container builder can run here ({why})");
            return;
        }
    };
    let started = Instant::now();
    // Docker Hub's base images where they can be pulled, else podman's stand-ins.
    let mut build_args = Vec::new();
    for image in published_bases() {
        let mut cmd = Command::new(tool);
        cmd.args(["pull", &image]);
        let r = bounded(cmd, Duration::from_secs(300));
        if r.code != Some(0) {
            let last = r.log.lines().last().unwrap_or("timed out").to_string();
            let why = format!("{tool} cannot pull the base image {image} ({last})");
            if tool != "podman" {
                eprintln!("skipped: {why}; the stand-ins of ci/local-images.sh need podman");
                return;
            }
            match local_bases() {
                Ok(args) => {
                    eprintln!("{why}: building on the stand-ins of ci/local-images.sh");
                    build_args = args;
                }
                Err(no) => {
                    eprintln!("skipped: {why}, and no stand-in can be made ({no})");
                    return;
                }
            }
            break;
        }
    }
    let tag = "localhost/gauntlet-ci-test:latest";
    let mut cmd = Command::new(tool);
    if tool == "buildah" {
        cmd.args(["bud", "-t", tag]);
    } else {
        cmd.args(["build", "-t", tag]);
    }
    cmd.args(&build_args).arg(root());
    let r = bounded(cmd, Duration::from_secs(40 * 60));
    assert_eq!(r.code, Some(0), "{tool} build:\n{}", r.log);
    eprintln!("{tool} build: {:.0?}", started.elapsed());
    // `global` goes before podman's subcommand, `flags` after it.
    let run = |global: &[&str], flags: &[&str], args: &[&str]| {
        let mut cmd = Command::new(tool);
        cmd.args(global);
        if tool == "buildah" {
            // buildah runs commands in a working container made from the image.
            let from = bounded(
                {
                    let mut c = Command::new("buildah");
                    c.args(["from", tag]);
                    c
                },
                Duration::from_secs(60),
            );
            let ctr = from.log.lines().last().unwrap_or_default().to_string();
            cmd.args(["run", &ctr, "--"]).args(args);
        } else {
            cmd.args(["run", "--rm"])
                .args(flags)
                .args(["--entrypoint", args[0], tag])
                .args(&args[1..]);
        }
        bounded(cmd, Duration::from_secs(60))
    };
    // The image runs without a network: `--version` and the steps without a scenario need none.
    let (mut global, mut flags): (Vec<&str>, Vec<&str>) = (Vec::new(), vec!["--network=none"]);
    let mut version = run(&global, &flags, &["gauntlet", "--version"]);
    if tool == "podman" && version.code != Some(0) && version.log.contains("OCI") {
        // Where podman's runtime cannot start a container as configured (here, in a sandbox
        // without CAP_SYS_RESOURCE and with hybrid cgroups): podman, as root, asks for 1048576
        // open files and processes, more than the hard limits the runtime may set, and crun
        // refuses hybrid cgroups where runc accepts them. Modest limits under any hard limit
        // are enough for `--version` and the steps.
        eprintln!("podman run: {}", version.log.trim());
        if Command::new("runc").arg("--version").output().is_ok() {
            global.extend(["--runtime", "runc"]);
        }
        flags.extend([
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=4096:4096",
        ]);
        version = run(&global, &flags, &["gauntlet", "--version"]);
        let how = [global.join(" "), flags.join(" ")].join(" run ");
        eprintln!("podman {how}: exit {:?}", version.code);
    }
    assert_eq!(version.code, Some(0), "{}", version.log);
    assert!(version.log.contains("gauntlet "), "{}", version.log);
    // The steps are there, with bash: without a scenario they stop with the harness's code.
    let steps = run(&global, &flags, &["gauntlet-ci"]);
    assert_eq!(steps.code, Some(2), "{}", steps.log);
    assert!(steps.log.contains("GAUNTLET_SCENARIO is not set"));
    eprintln!("built and ran {tag} in {:.0?}", started.elapsed());
}
