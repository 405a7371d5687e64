//! `gauntlet merge SHARD.json... --out DIR`: the results of `run --shard I/N` processes added
//! into one run, judged by the same pipeline as a live run, with every report written. Shards
//! that do not add up (another scenario or plan, a shard missing or given twice, a file given
//! twice or about to be overwritten) are refused with exit 2 and what differs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::model::merge;
use crate::model::results as json;
use crate::model::verdict::code;
use crate::report::{console, publish};
use crate::verdict;

/// `gauntlet merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results.json files (or their folders).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder (default: reports/SCENARIO-merged-UTCTIME/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Let verdict gates pass on an inconclusive verdict.
    #[arg(long)]
    pub allow_inconclusive: bool,
}

fn harness(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(code::HARNESS)
}

/// A shard named by its folder means the results.json in it.
fn results_file(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("results.json")
    } else {
        p.to_path_buf()
    }
}

/// Files given twice, or that writing into `out` would replace.
fn overlaps(files: &[PathBuf], out: &Path) -> Vec<String> {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    let mut why = Vec::new();
    let written = canon(out).join("results.json");
    for f in files {
        let c = canon(f);
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == c) {
            why.push(format!(
                "{} and {} are the same file",
                first.display(),
                f.display()
            ));
        }
        if c == written {
            why.push(format!(
                "--out {} would overwrite the shard {}",
                out.display(),
                f.display()
            ));
        }
        seen.push((c, f));
    }
    why
}

/// Runs `gauntlet merge`.
pub fn merge(a: &MergeArgs) -> ExitCode {
    let files: Vec<PathBuf> = a.shards.iter().map(|p| results_file(p)).collect();
    // Two passes, so that no more than one shard's figures are held besides the sum: the heads
    // first (every problem said before anything is added), then the figures, shard by shard.
    let mut heads = Vec::new();
    let mut name = String::new();
    for f in &files {
        match json::read(f) {
            Ok(r) => {
                if name.is_empty() {
                    name = format!("{}-merged", r.meta.scenario);
                }
                heads.push(merge::Head::of(&f.display().to_string(), &r));
            }
            Err(e) => return harness(e),
        }
    }
    let out = a.out.clone().unwrap_or_else(|| super::default_out(&name));
    let mut why = overlaps(&files, &out);
    why.extend(merge::problems(&heads));
    if !why.is_empty() {
        return harness(format!(
            "the shards do not add up:\n  - {}",
            why.join("\n  - ")
        ));
    }
    if let Err(e) = crate::model::files::prepare_dir(&out) {
        return harness(format!("--out {}: cannot write there: {e}", out.display()));
    }
    let mut order: Vec<(u32, &PathBuf)> = heads
        .iter()
        .zip(&files)
        .map(|(h, f)| (h.shard.map_or(0, |s| s.index), f))
        .collect();
    order.sort_by_key(|(i, _)| *i);
    let mut merger = merge::Merger::default();
    for (_, f) in order {
        match json::read(f) {
            Ok(r) => merger.add(r),
            Err(e) => return harness(e),
        }
    }
    let Some(merged) = merger.finish() else {
        return harness("no shard given");
    };
    let saved = match crate::compare::saved::rejudge(merged) {
        Ok(s) => s,
        Err(e) => return harness(e),
    };
    let mut r = saved.results;
    let differences = r
        .differential
        .as_ref()
        .map_or(0, |d| d.differences.len() as u64);
    let (candidate, baseline) = match &saved.roles {
        Some((c, b)) => (Some(c.as_str()), Some(b.as_str())),
        None => (None, None),
    };
    verdict::conclude(
        &mut r,
        verdict::Rules {
            gates: &saved.gates,
            roles: crate::compare::evaluate::Roles {
                candidate,
                baseline,
            },
            differences,
            allow_inconclusive: a.allow_inconclusive || saved.allow_inconclusive,
            harness: Vec::new(),
        },
    );
    out!("{}", console::render(&r));
    match publish::write_all(&out, &r) {
        Ok(paths) => {
            eprintln!("merged {} shards: {}", r.meta.merged_shards, out.display());
            for p in paths {
                eprintln!("  {}", p.display());
            }
        }
        Err(e) => return harness(format!("cannot write {}: {e}", out.display())),
    }
    ExitCode::from(r.verdict.exit_code)
}
