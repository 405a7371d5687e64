//! The `gauntlet` binary: all of it lives in the library; see `gauntlet --help`.

// jemalloc rather than glibc's malloc: a load run allocates and frees small blocks at a high
// rate (hyper re-allocates a connection's read buffer for every response; a request's header
// map, hyper's per-request HTTP/2 task). Measured side by side (benches/README.md, 2026-12-04):
// CPU per request -2% on HTTP/1.1 and -9% on HTTP/2 over TLS against glibc, peak RSS of 1,000
// HTTP/2 connections x 100 streams 233 -> 214 MB; mimalloc was as fast but took 534 MB where
// glibc took 411 for 10,000 HTTP/1.1 connections (jemalloc 424).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    gauntlet::cli::main()
}
