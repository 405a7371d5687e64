//! Test support: an in-process origin on port 0, scenarios written against its addresses, and
//! runs through the library or the real binary.
#![allow(dead_code)]

pub mod chromium;
pub mod expected;
pub mod h2_forever;
pub mod hostile_h2;
pub mod hostile_h3;
pub mod hostile_quic;
pub mod hostile_tls;
pub mod naive;
pub mod naive_h2;
pub mod naive_h3;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gauntlet::engine::{self, LaneResult, RunOptions, RunOutcome};
use gauntlet::origin::{Origin, OriginConfig};
use gauntlet::scenario::{load_str, Overrides, Scenario};

/// An origin running on its own runtime, with its CA written to a temp folder.
pub struct TestOrigin {
    pub origin: Option<Origin>,
    pub dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl TestOrigin {
    pub fn start() -> Self {
        Self::with(OriginConfig::loopback())
    }

    pub fn with(cfg: OriginConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let origin = rt.block_on(Origin::start(cfg)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), origin.ca_pem()).unwrap();
        TestOrigin {
            origin: Some(origin),
            dir,
            rt,
        }
    }

    pub fn origin(&self) -> &Origin {
        self.origin.as_ref().expect("origin running")
    }

    /// Shuts the origin down after `after`, from another thread (a server going away mid-run).
    pub fn stop_after(&mut self, after: std::time::Duration) -> std::thread::JoinHandle<()> {
        let origin = self.origin.take().expect("origin running");
        let handle = self.rt.handle().clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            handle.block_on(origin.shutdown());
        })
    }

    pub fn https(&self) -> String {
        format!("https://{}", self.origin().https_addr())
    }

    pub fn http(&self) -> String {
        format!("http://{}", self.origin().http_addr())
    }

    pub fn h2c(&self) -> String {
        format!("h2c://{}", self.origin().http_addr())
    }

    /// Validates `yaml` with relative paths (like `ca.pem`) taken from the temp folder.
    pub fn scenario(&self, yaml: &str) -> Scenario {
        match load_str("test.yaml", yaml, self.dir.path(), &Overrides::default()) {
            Ok(s) => s,
            Err(e) => panic!("scenario did not validate:\n{e}\n{yaml}"),
        }
    }

    /// Writes `yaml` into the temp folder and returns its path (for the binary).
    pub fn write(&self, name: &str, yaml: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, yaml).unwrap();
        p
    }

    /// Runs a blocking closure on the origin's runtime (e.g. a side request during a run).
    pub fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(
        &self,
        f: F,
    ) -> tokio::task::JoinHandle<()> {
        self.rt.spawn(f)
    }
}

pub fn run(s: &Scenario) -> RunOutcome {
    engine::run(s, RunOptions::default()).expect("run starts")
}

pub fn lane<'a>(o: &'a RunOutcome, target: &str, proto: &str) -> &'a LaneResult {
    o.lanes
        .iter()
        .find(|l| l.target == target && l.protocol.as_str() == proto)
        .unwrap_or_else(|| panic!("no lane {target} {proto}"))
}

/// Runs the real binary.
pub fn gauntlet(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

/// Runs the binary on `yaml`, written as `NAME.yaml` in the origin's folder, with its output in
/// `NAME-out`: the exit code, the saved results and the output as text.
pub fn run_saved(
    o: &TestOrigin,
    name: &str,
    yaml: &str,
) -> (Option<i32>, gauntlet::model::results::ResultsFile, String) {
    let p = o.write(&format!("{name}.yaml"), yaml);
    let out_dir = o.dir.path().join(format!("{name}-out"));
    let out = gauntlet(
        &[
            "run",
            p.to_str().unwrap(),
            "--quiet",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        o.dir.path(),
    );
    let r = gauntlet::model::results::read(&out_dir.join("results.json"))
        .unwrap_or_else(|e| panic!("{e}\n{}", text(&out)));
    (out.status.code(), r, text(&out))
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The probes of a path that reached no verdict: errors, and skips other than the one a server
/// makes inapplicable (nginx announces the largest frame size there is, so no frame can exceed
/// it).
pub fn without_verdict(
    p: &gauntlet::model::conformance::PathResults,
) -> Vec<&gauntlet::model::conformance::ProbeResult> {
    use gauntlet::model::conformance::Rfc;
    p.probes
        .iter()
        .filter(|x| matches!(x.verdict, Rfc::Error | Rfc::Skipped))
        .filter(|x| !(x.id == "h2.frame.oversize" && x.why.contains("any size")))
        .collect()
}

/// A free loopback port (bound, then released for the server that will take it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
