//! What an import kept and dropped, in words: read, kept and skipped counts with the reasons and
//! a few escaped examples of skipped lines, the groups, the secrets replaced, the timing. Printed
//! on standard error and written as the comment at the top of the scenario.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Skipped examples kept.
const EXAMPLES: usize = 5;

/// Input that could not be used.
#[derive(Debug, Default)]
pub struct Skips {
    /// Count per reason.
    pub counts: BTreeMap<&'static str, u64>,
    /// `line N (reason): text`, at most five.
    pub examples: Vec<String>,
}

impl Skips {
    /// Counts a skipped line (or entry) `at` for `why`, keeping an example while there is room.
    pub fn skip(&mut self, at: &str, why: &'static str, example: &str) {
        *self.counts.entry(why).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(format!("{at} ({why}): {example}"));
        }
    }

    /// Everything skipped.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The facts a summary states.
#[derive(Debug, Default)]
pub struct Summary {
    /// What was read (`access.log`, `nginx combined`).
    pub source: String,
    /// Lines or entries read.
    pub read: u64,
    /// Requests parsed.
    pub parsed: u64,
    /// Skipped input.
    pub skips: Skips,
    /// Requests in the groups written.
    pub kept: u64,
    /// Groups written, and their requests in total.
    pub groups: usize,
    /// Requests of groups past the group cap.
    pub overflow: u64,
    /// Groups (and their requests) past `--max-requests`.
    pub rare: (usize, u64),
    /// The most frequent groups with their shares.
    pub top: Vec<(String, u64)>,
    /// Environment variables the scenario needs for the secrets replaced, or `None` with
    /// `--keep-secrets`.
    pub secrets: Option<Vec<String>>,
    /// Secret values replaced.
    pub replaced: u64,
    /// The load section, in words.
    pub timing: String,
    /// Anything else worth saying.
    pub notes: Vec<String>,
}

impl Summary {
    /// What was read and skipped, as lines of text.
    pub fn input_lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "imported {}: {} read, {} requests parsed, {} skipped",
            self.source,
            self.read,
            self.parsed,
            self.skips.total()
        )];
        for (why, n) in &self.skips.counts {
            out.push(format!("  skipped {n}: {why}"));
        }
        for e in &self.skips.examples {
            out.push(format!("    e.g. {e}"));
        }
        out
    }

    /// The summary as lines of text.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.input_lines();
        let mut kept = format!("kept {} requests in {} groups", self.kept, self.groups);
        if self.rare.0 > 0 {
            let _ = write!(
                kept,
                "; dropped {} rarer groups ({} requests; --max-requests)",
                self.rare.0, self.rare.1
            );
        }
        if self.overflow > 0 {
            let _ = write!(
                kept,
                "; dropped {} requests of groups past the first {}",
                self.overflow,
                super::aggregate::MAX_GROUPS
            );
        }
        out.push(kept);
        for (key, n) in &self.top {
            let share = *n as f64 * 100.0 / self.kept.max(1) as f64;
            out.push(format!("  {share:5.1}%  {n:>8}  {key}"));
        }
        match &self.secrets {
            None => out.push("secrets kept as recorded (--keep-secrets)".into()),
            Some(v) if v.is_empty() => out.push("no secrets found to redact".into()),
            Some(v) => out.push(format!(
                "secrets redacted (values replaced by environment references: {}); set {} to run",
                self.replaced,
                v.join(", ")
            )),
        }
        out.push(self.timing.clone());
        out.extend(self.notes.iter().cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_stop_at_five_and_counts_go_on() {
        let mut s = Skips::default();
        for i in 0..8 {
            s.skip(&format!("line {i}"), "not text", "\\x00");
        }
        s.skip("line 9", "truncated", "1.2.3.4 - - [");
        assert_eq!(s.total(), 9);
        assert_eq!(s.examples.len(), 5);
        let sum = Summary {
            source: "x.log".into(),
            read: 10,
            parsed: 1,
            skips: s,
            secrets: Some(vec![]),
            ..Summary::default()
        };
        let text = sum.lines().join("\n");
        assert!(text.contains("skipped 8: not text"), "{text}");
        assert!(text.contains("skipped 1: truncated"), "{text}");
        assert!(text.contains("e.g. line 0 (not text): \\x00"), "{text}");
    }
}
