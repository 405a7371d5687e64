#!/usr/bin/env bash
# The whole test suite on a fresh machine: install the servers the tests start (ci/install.sh),
# check formatting and lints, then run every test. The tests start and stop their own servers
# (the embedded origin in-process, nginx as a child process) on loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
