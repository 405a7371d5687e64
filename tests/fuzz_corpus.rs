//! Replays the fuzzing corpus on the stable toolchain, without libFuzzer: every file under
//! `fuzz/corpus/<target>/` (the committed seeds and a few minimised finds) and
//! `fuzz/regressions/<target>/` (inputs that once crashed a parser) goes through the same entry
//! function the fuzz target calls (`fuzz/entries.rs`, included here by path). A panic on any of
//! them fails the test, naming every input that panicked.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::path::{Path, PathBuf};

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn every_corpus_and_regression_input_parses_without_panicking() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    // Panics are expected to be caught here; the default hook would print each one in between.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (name, entry) in entries::TARGETS {
        let seeds = inputs(&fuzz.join("corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{name}/ has no seed inputs");
        for path in seeds
            .into_iter()
            .chain(inputs(&fuzz.join("regressions").join(name)))
        {
            let data = std::fs::read(&path).expect("readable corpus file");
            replayed += 1;
            if let Err(e) = std::panic::catch_unwind(|| entry(&data)) {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: {why}", path.display()));
            }
        }
    }
    std::panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz inputs panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
