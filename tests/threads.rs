//! Client threads (issue 17, item 2): by default as many as the CPUs the process may run on (its
//! affinity mask, as `taskset` sets it, and its cgroup quota), not every CPU of the machine;
//! `--threads` overrides, and a bad value is refused naming the flag.

mod common;

use std::path::Path;
use std::process::Command;

use common::{gauntlet, text};

const ONE: &str =
    "name: one\ntargets: { a: embedded }\nload: { rate: 20, duration: 1s }\nrequests: [ { get: / } ]\n";

fn threads_of(dir: &Path, out: &str) -> u32 {
    gauntlet::model::results::read(&dir.join(out).join("results.json"))
        .unwrap()
        .meta
        .threads
}

#[test]
fn threads_follow_the_affinity_mask_and_the_flag_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("one.yaml"), ONE).unwrap();

    let o = gauntlet(&["run", "one.yaml", "--quiet", "--out", "all"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let allowed = std::thread::available_parallelism().unwrap().get() as u32;
    assert_eq!(threads_of(d, "all"), allowed);

    // Pinned to one CPU by its affinity mask: one client thread, whatever the machine has.
    let o = Command::new("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_gauntlet")])
        .args(["run", "one.yaml", "--quiet", "--out", "pinned"])
        .current_dir(d)
        .output()
        .expect("taskset (util-linux) runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(threads_of(d, "pinned"), 1);

    let o = gauntlet(
        &[
            "run",
            "one.yaml",
            "--quiet",
            "--threads",
            "3",
            "--out",
            "three",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(threads_of(d, "three"), 3);

    let o = gauntlet(&["run", "one.yaml", "--threads", "0"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--threads"), "{}", text(&o));
}
