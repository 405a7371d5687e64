//! The Kubernetes flow of ci/k8s (issue 14): the manifests validate against the Kubernetes
//! schemas (kubernetes-validate, installed by ci/install.sh, which also fails a broken copy),
//! the Indexed Job's shard count agrees with the merge, and the two Jobs' own shell commands,
//! run here with the Job's environment and the binary on PATH, shard a scenario and merge it.
//! The Dockerfile is checked for the build it promises: a build stage, a slim runtime, the
//! binary as entry point, and every file it copies present.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> PathBuf {
    let v = root().join(".build/venv/bin/kubernetes-validate");
    assert!(v.exists(), "{} is missing: run ci/install.sh", v.display());
    v
}

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("ci/k8s").join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn container(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(c: &Value, name: &str) -> String {
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name}"))
        .to_string()
}

#[test]
fn the_manifests_validate_against_the_kubernetes_schemas() {
    let files: Vec<PathBuf> = std::fs::read_dir(root().join("ci/k8s"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(files.len() >= 3, "{files:?}");
    let o = Command::new(validator())
        .args(["--strict", "-k", "1.30.0"])
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // The validator is not a rubber stamp: a field Kubernetes does not know fails it.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("ci/k8s/shards-job.yaml")).unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        text.replace(
            "completionMode: Indexed",
            "completionMode: Indexed\n  shardCount: 4",
        ),
    )
    .unwrap();
    let o = Command::new(validator())
        .args(["--strict", "-k", "1.30.0"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!o.status.success(), "a broken manifest passed");
}

/// Runs a Job's `sh -c` command as its pod would, with /scenario and /results in `dir`.
fn run_pod(job: &Value, dir: &Path, env: &[(&str, String)]) -> std::process::Output {
    let c = container(job);
    assert_eq!(c["command"][0], "/bin/sh");
    let script = c["args"][0]
        .as_str()
        .unwrap()
        .replace("/scenario/", &format!("{}/scenario/", dir.display()))
        .replace("/results", &format!("{}/results", dir.display()));
    let bin = Path::new(env!("CARGO_BIN_EXE_gauntlet")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", &script]).env("PATH", path).current_dir(dir);
    // The container's own environment, then what Kubernetes (JOB_COMPLETION_INDEX) or envsubst
    // (START_AT) fills in.
    for e in c["env"].as_array().unwrap() {
        cmd.env(e["name"].as_str().unwrap(), e["value"].as_str().unwrap());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn the_indexed_job_and_the_merge_run_as_written() {
    let shards = manifest("shards-job.yaml");
    let merge = manifest("merge-job.yaml");
    assert_eq!(shards["spec"]["completionMode"], "Indexed");
    let n = shards["spec"]["completions"].as_u64().unwrap();
    assert_eq!(shards["spec"]["parallelism"].as_u64(), Some(n));
    assert_eq!(env_of(container(&shards), "SHARDS"), n.to_string());
    assert_eq!(env_of(container(&merge), "SHARDS"), n.to_string());
    for job in [&shards, &merge] {
        let vols = job["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap();
        assert!(vols
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "gauntlet-results"));
    }
    assert_eq!(
        manifest("results-volume.yaml")["metadata"]["name"],
        "gauntlet-results"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scenario")).unwrap();
    std::fs::create_dir_all(dir.path().join("results")).unwrap();
    std::fs::write(
        dir.path().join("scenario/scenario.yaml"),
        "name: k8s\ntargets: { a: embedded }\nprotocols: [h2]\nload: { rate: 40, duration: 1s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let start =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(4)).to_string();
    let pods: Vec<_> = (0..n)
        .map(|i| {
            let (job, d) = (shards.clone(), dir.path().to_path_buf());
            let start = start.clone();
            std::thread::spawn(move || {
                run_pod(
                    &job,
                    &d,
                    &[("JOB_COMPLETION_INDEX", i.to_string()), ("START_AT", start)],
                )
            })
        })
        .collect();
    for p in pods {
        let o = p.join().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run_pod(&merge, dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r =
        gauntlet::model::results::read(&dir.path().join("results/merged/results.json")).unwrap();
    assert_eq!(u64::from(r.meta.merged_shards), n);
    assert_eq!(r.lanes[0].summary.count + r.lanes[0].pacing.not_sent, 40);

    // A shard that wrote nothing fails the merge instead of being left out.
    std::fs::remove_dir_all(dir.path().join("results/shard-1")).unwrap();
    std::fs::remove_dir_all(dir.path().join("results/merged")).unwrap();
    let o = run_pod(&merge, dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_dockerfile_builds_the_binary_into_a_slim_image() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert!(froms[0].contains(" AS build"));
    assert!(froms[1].contains("slim"), "{}", froms[1]);
    assert!(text.contains("cargo build --release --locked"));
    assert!(text.contains("COPY --from=build /src/target/release/gauntlet /usr/local/bin/gauntlet"));
    assert!(text.contains("ENTRYPOINT [\"gauntlet\"]"));
    for l in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let parts: Vec<&str> = l.split_whitespace().collect();
        for src in &parts[1..parts.len() - 1] {
            assert!(
                root().join(src).exists(),
                "the Dockerfile copies {src}, which is missing"
            );
        }
    }
    // Everything the build needs is copied: no include_str! reaches outside src/.
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        !cargo.contains("build = "),
        "a build script would need copying too"
    );
    // Cargo parses every target the manifest declares before building any: a `[[bench]]` whose
    // file the image lacks fails the whole build.
    for name in cargo
        .split("[[bench]]")
        .skip(1)
        .filter_map(|t| t.lines().find_map(|l| l.strip_prefix("name = ")))
    {
        let file = format!("benches/{}.rs", name.trim_matches('"'));
        assert!(
            text.contains(&format!("COPY {file} ")),
            "the Dockerfile does not copy {file}, which Cargo.toml declares"
        );
    }
}
