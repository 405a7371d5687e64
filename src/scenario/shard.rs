//! `--shard I/N`: the I-th of N equal parts of a scenario's load, so that N processes (on N
//! machines, say, as a Kubernetes Indexed Job) together make the plan one process would. The
//! open model's arrivals are dealt out, arrival `I`, `I + N`, … to shard I, each keeping its
//! planned time and its request (the mix and seed stream stay those of the whole plan); the
//! closed model's users, the connections and a request count are divided, the remainders going
//! to the first shards. Stage timing is kept, so shards started together (`--start-at`) add up
//! second by second.

use super::{Model, Scenario};
use crate::model::results::ShardJson;

/// The most shards a plan may be split into.
pub const MAX_SHARDS: u32 = 1000;

/// Parses `I/N` (I from 0, like `JOB_COMPLETION_INDEX`).
pub fn parse(text: &str) -> Result<ShardJson, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}`: write it as I/N, like 0/4"))?;
    let num = |v: &str, what: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{text}`: {what} `{v}` is not a whole number"))
    };
    let (index, count) = (num(i, "the index")?, num(n, "the count")?);
    if count == 0 || count > MAX_SHARDS {
        return Err(format!("`{text}`: the count must be 1 to {MAX_SHARDS}"));
    }
    if index >= count {
        return Err(format!(
            "`{text}`: shards are numbered from 0 to {} (like JOB_COMPLETION_INDEX)",
            count - 1
        ));
    }
    Ok(ShardJson { index, count })
}

/// Shard `i`'s part of `total` split `n` ways: the first `total % n` shards take one more.
pub fn part(total: u64, sh: ShardJson) -> u64 {
    let (i, n) = (u64::from(sh.index), u64::from(sh.count));
    total / n + u64::from(i < total % n)
}

/// Narrows `s` to shard `sh`. Refuses a split that would leave a shard nothing to do (fewer
/// closed-model users or requests than shards).
pub fn apply(s: &mut Scenario, sh: ShardJson) -> Result<(), String> {
    let n = sh.count;
    if let Model::Closed { concurrency, .. } = &mut s.load.model {
        if *concurrency < n {
            return Err(format!(
                "--shard {sh}: concurrency {concurrency} cannot be split over {n} shards; raise it to {n} or more"
            ));
        }
        *concurrency = part(u64::from(*concurrency), sh) as u32;
    }
    if let Some(r) = s.load.requests.as_mut() {
        if *r < u64::from(n) {
            return Err(format!(
                "--shard {sh}: {r} requests cannot be split over {n} shards"
            ));
        }
        *r = part(*r, sh);
    }
    // Every shard needs a connection; past that, the pool is divided like the load.
    s.load.connections = (part(u64::from(s.load.connections), sh) as u32).max(1);
    s.shard = Some(sh);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_whole() {
        for total in [0u64, 1, 7, 8, 1000, 1001] {
            for n in 1..=9 {
                let sum: u64 = (0..n)
                    .map(|i| part(total, ShardJson { index: i, count: n }))
                    .sum();
                assert_eq!(sum, total, "{total} over {n}");
            }
        }
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(parse("3/4").unwrap(), ShardJson { index: 3, count: 4 });
        assert!(parse("4/4").unwrap_err().contains("from 0 to 3"));
        assert!(parse("0/0").unwrap_err().contains("1 to"));
        assert!(parse("1").unwrap_err().contains("I/N"));
        assert!(parse("a/4").unwrap_err().contains("not a whole number"));
    }
}
