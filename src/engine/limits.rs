//! The process's open-file limit: raised to the hard limit when the process starts, and weighed
//! against the connections a run will open, so that a run too large for it says so before it
//! starts instead of failing connection by connection with "too many open files".
//!
//! Every connection is a file descriptor, and against the embedded origin (the same process)
//! two. Linux hands a process a soft limit of 1,024 by default, a tenth of what 10,000
//! concurrent connections need, while the hard limit (which an unprivileged process may raise its
//! soft limit to) is usually far higher. wrk and h2load leave that to the user's `ulimit -n`; we
//! raise it ourselves, the way nginx's `worker_rlimit_nofile` does, so that the scale a scenario
//! asks for is the scale it gets. `gauntlet origin` is the same binary, so it gains the same room.

use crate::proto::Protocol;
use crate::scenario::{Endpoint, Scenario};

/// Descriptors the process holds besides its connections: standard streams, the runtimes'
/// epoll and wake-up descriptors, the origin's listeners, the output files, and some slack.
const BASE_FDS: u64 = 64;

/// The open-file limits of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// What the process may open now.
    pub soft: u64,
    /// What the soft limit may be raised to without privileges.
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard limit (on macOS, to what the kernel accepts) and
/// returns the limits then in force; `None` where the platform has no such limit or it could not
/// be read. Failing to raise it is not an error: the run checks what it needs against what it has
/// (`check`).
pub fn raise_fd_limit() -> Option<FdLimit> {
    // Ask for the most there is: `increase_nofile_limit` clamps to the hard limit (and, on
    // macOS, to `kern.maxfilesperproc`), so this never fails for asking too much.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    current()
}

/// The open-file limits in force.
pub fn current() -> Option<FdLimit> {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .ok()
        .map(|(soft, hard)| FdLimit { soft, hard })
}

/// The descriptors a run of `s` may hold at once: each lane's connections (its concurrency on
/// HTTP/1.1, its connections on HTTP/2 and HTTP/3), twice over for lanes served by the embedded
/// origin in this process (its end of each TCP connection), and a base for the rest.
pub fn fds_needed(s: &Scenario) -> u64 {
    let mut n = BASE_FDS;
    for t in &s.targets {
        let embedded = t.endpoint == Endpoint::Embedded;
        for &p in &s.protocols {
            let conns = super::connection_slots(s, p).len() as u64;
            // QUIC connections share the origin's one UDP socket; TCP ones each take one there.
            let server_side = if embedded && p != Protocol::H3 {
                conns
            } else {
                0
            };
            n += conns + server_side;
        }
    }
    n
}

/// What to tell the user when `s` needs more descriptors than `limit` allows; `None` when it fits.
pub fn check(s: &Scenario, limit: FdLimit) -> Option<String> {
    let need = fds_needed(s);
    if need <= limit.soft {
        return None;
    }
    let lanes = s.targets.len() * s.protocols.len();
    let how = if limit.soft < limit.hard {
        "the soft limit could not be raised to the hard limit".to_string()
    } else {
        format!(
            "raise the hard limit (`ulimit -Hn`, or `LimitNOFILE=` / `nofile` in limits.conf) to at least {need}"
        )
    };
    Some(format!(
        "this run may hold {need} open files ({lanes} lane(s) of connections{}), but the process may \
         open only {} (hard limit {}): connections past that fail with \"too many open files\"; {how}, \
         or open fewer connections",
        if s.targets.iter().any(|t| t.endpoint == Endpoint::Embedded) {
            ", counted twice against the in-process origin"
        } else {
            ""
        },
        limit.soft,
        limit.hard,
    ))
}
