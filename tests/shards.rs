//! Shards and merge (issue 14), end to end through the binary: four `run --shard i/4` processes
//! against the embedded origin, started together with `--start-at`, add up in `gauntlet merge`
//! to the plan one process runs (the same requests, name by name), with totals equal to the sums
//! of the shards and percentiles equal to those of their histograms added here by hand; a
//! two-path run sharded in four is judged again from its added slices; shards that do not add
//! up are refused with exit 2 and what differs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{gauntlet, text};
use gauntlet::model::hist;
use gauntlet::model::results::{read, Pcts, ResultsFile};

const PLAN: &str = "targets:\n  a: embedded\nprotocols: [h1, h2]\nload: { rate: 100, duration: 2s, connections: 4 }\nrequests:\n  - { name: home, get: /, weight: 3 }\n  - { name: bytes, get: /bytes/1000 }\n  - { name: missing, get: /status/404, expect: { status: [404] } }\n";

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `scenario` as `n` shards started together, each into `sI/`; returns their folders.
fn shards(dir: &Path, scenario: &str, n: u32) -> Vec<PathBuf> {
    let children: Vec<(String, Child)> = (0..n)
        .map(|i| {
            let out = format!("s{i}");
            let shard = format!("{i}/{n}");
            let c = spawn(
                dir,
                &[
                    "run",
                    scenario,
                    "--quiet",
                    "--shard",
                    &shard,
                    "--start-at",
                    "+3s",
                    "--out",
                    &out,
                ],
            );
            (out, c)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, c)| {
            let o = c.wait_with_output().unwrap();
            // A shard's own verdict on a quarter of the figures may go either way (an A/A
            // comparison has its false-alarm chance per run); the harness must not have failed.
            assert!(
                matches!(o.status.code(), Some(0 | 1 | 3)),
                "{out}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            dir.join(out)
        })
        .collect()
}

fn results(dir: &Path) -> ResultsFile {
    read(&dir.join("results.json")).unwrap()
}

#[test]
fn four_shards_merge_into_the_plan_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), format!("name: sharded\n{PLAN}")).unwrap();
    let one = gauntlet(&["run", "s.yaml", "--quiet", "--out", "one"], dir.path());
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    let parts = shards(dir.path(), "s.yaml", 4);
    let o = gauntlet(&["merge", "s0", "s1", "s2", "s3", "--out", "m"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = results(&dir.path().join("m"));
    let one = results(&dir.path().join("one"));
    let parts: Vec<ResultsFile> = parts.iter().map(|p| results(p)).collect();
    assert_eq!(m.meta.merged_shards, 4);
    assert!(m.meta.shard.is_none());
    for (i, p) in parts.iter().enumerate() {
        let sh = p.meta.shard.unwrap();
        assert_eq!((sh.index, sh.count), (i as u32, 4));
        assert_eq!(p.meta.scenario_digest, m.meta.scenario_digest);
    }
    for (li, l) in m.lanes.iter().enumerate() {
        let sum = |f: &dyn Fn(&ResultsFile) -> u64| parts.iter().map(f).sum::<u64>();
        assert_eq!(l.summary.count, sum(&|p| p.lanes[li].summary.count));
        assert_eq!(l.summary.ok, sum(&|p| p.lanes[li].summary.ok));
        assert_eq!(l.summary.bytes, sum(&|p| p.lanes[li].summary.bytes));
        assert_eq!(
            l.connections.opened,
            sum(&|p| p.lanes[li].connections.opened)
        );
        for (qi, q) in l.requests.iter().enumerate() {
            // The plan of one process, request by request: the mix and seed stream were kept.
            let single = &one.lanes[li].requests[qi];
            assert_eq!(
                q.summary.count, single.summary.count,
                "{} {}",
                l.protocol, q.name
            );
            assert_eq!(
                q.summary.statuses, single.summary.statuses,
                "{} {}",
                l.protocol, q.name
            );
            // Percentiles of the merge are those of the shards' histograms added.
            let mut added = hist::new_hist();
            for p in &parts {
                hist::merge(
                    &mut added,
                    &p.lanes[li].requests[qi].histograms.latency_us.0,
                );
            }
            assert_eq!(
                q.summary.latency_us,
                Pcts::of(&added),
                "{} {}",
                l.protocol,
                q.name
            );
            assert_eq!(
                q.summary.count,
                sum(&|p| p.lanes[li].requests[qi].summary.count)
            );
        }
        // The timeline adds up second by second.
        let seconds: u64 = l.timeline.iter().map(|s| s.requests).sum();
        assert_eq!(
            seconds,
            sum(&|p| p.lanes[li].timeline.iter().map(|s| s.requests).sum())
        );
    }
    for f in [
        "index.html",
        "junit.xml",
        "summary.md",
        "a-h1.hlog",
        "a-h2.hlog",
    ] {
        assert!(dir.path().join("m").join(f).exists(), "{f}");
    }
}

#[test]
fn a_two_path_run_sharded_is_judged_again_from_its_added_slices() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "name: paths\ntargets:\n  new: embedded\n  old: embedded\nprotocols: [h2]\nload: { rate: 100, duration: 4s, connections: 4 }\ncompare: { candidate: new, baseline: old, fairness: interleaved, slice: 500ms }\nrequests:\n  - get: /\n",
    )
    .unwrap();
    let parts = shards(dir.path(), "c.yaml", 4);
    let o = gauntlet(&["merge", "s0", "s1", "s2", "s3", "--out", "m"], dir.path());
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    let merged_code = o.status.code();
    let m = results(&dir.path().join("m"));
    let c = m.comparison.as_ref().expect("a comparison");
    assert_eq!((c.candidate.as_str(), c.baseline.as_str()), ("new", "old"));
    let first = results(&parts[0]);
    let rows = |r: &ResultsFile| -> Vec<String> {
        r.comparison
            .as_ref()
            .unwrap()
            .verdicts
            .iter()
            .map(|v| {
                format!(
                    "{} {:?} {}",
                    v.protocol,
                    v.request,
                    v.judgement.metric.name()
                )
            })
            .collect()
    };
    assert_eq!(
        rows(&m),
        rows(&first),
        "the same rows as a shard's own judgement"
    );
    // And the same rows as one process running the whole plan.
    let o = gauntlet(&["run", "c.yaml", "--quiet", "--out", "one"], dir.path());
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    assert_eq!(rows(&m), rows(&results(&dir.path().join("one"))));
    // Judged on four times a shard's figures: the candidate's slices hold every shard's count.
    let count = |r: &ResultsFile| -> u64 {
        r.lanes
            .iter()
            .filter(|l| l.target == "new")
            .flat_map(|l| l.requests.iter())
            .flat_map(|q| q.slices.iter())
            .map(|s| s.count)
            .sum()
    };
    let shards_total: u64 = parts.iter().map(|p| count(&results(p))).sum();
    assert_eq!(count(&m), shards_total);
    // The exit code is the merged verdict's, reached by the pipeline (not asserted to be a pass:
    // an A/A comparison keeps its false-alarm chance, and a test must not depend on it).
    assert_eq!(merged_code, Some(m.verdict.exit_code as i32));
}

#[test]
fn shards_that_do_not_add_up_are_refused_with_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("s.yaml"), format!("name: sharded\n{PLAN}")).unwrap();
    std::fs::write(d.join("t.yaml"), format!("name: other\n{PLAN}")).unwrap();
    for (i, file) in [(0, "s.yaml"), (1, "s.yaml"), (1, "t.yaml")] {
        let out = format!("{}{i}", &file[..1]);
        let shard = format!("{i}/2");
        let o = gauntlet(
            &["run", file, "--quiet", "--shard", &shard, "--out", &out],
            d,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let refused = |args: &[&str], needle: &str| {
        let o = gauntlet(args, d);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", text(&o));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(needle), "{args:?}: `{needle}` missing\n{e}");
        assert!(!d.join("m").join("results.json").exists());
    };
    refused(&["merge", "s0", "t1", "--out", "m"], "scenario differs");
    refused(&["merge", "s0", "--out", "m"], "shard 1 of 2 missing");
    refused(&["merge", "s0", "s1", "s1", "--out", "m"], "same file");
    refused(&["merge", "s1", "t1", "--out", "m"], "shard 1 given twice");
    refused(&["merge", "s0", "s1", "--out", "s0"], "would overwrite");
    // A run that is no shard, and a shard flag that makes no sense.
    let o = gauntlet(&["run", "s.yaml", "--quiet", "--out", "whole"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    refused(&["merge", "s0", "whole", "--out", "m"], "not a shard");
    let o = gauntlet(&["run", "s.yaml", "--shard", "2/2"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("from 0 to 1"));
    // Together the two good shards merge.
    let o = gauntlet(&["merge", "s0", "s1", "--out", "m"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
