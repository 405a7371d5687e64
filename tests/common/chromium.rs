//! Headless Chromium for the report tests: a screenshot of a page, and its DOM after load, each
//! in a throwaway profile so that runs never share state.

use std::path::Path;
use std::process::Command;

/// Flags for a quiet, offline, sandbox-free headless run (tests run as root in CI).
const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
];

fn chromium(page: &Path, window: (u32, u32), extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new("chromium")
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={},{}", window.0, window.1))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed by ci/install.sh");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Writes a screenshot of `page` to `png`; returns what Chromium logged.
pub fn screenshot(page: &Path, png: &Path, window: (u32, u32)) -> String {
    chromium(page, window, &[format!("--screenshot={}", png.display())]).1
}

/// The DOM of `page` after load (scripts given up to 5 s of virtual time), and the log.
pub fn dom(page: &Path, window: (u32, u32)) -> (String, String) {
    chromium(
        page,
        window,
        &["--virtual-time-budget=5000".into(), "--dump-dom".into()],
    )
}
