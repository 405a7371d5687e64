#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what the tests use (ci/install.sh: nginx 1.22
# and 1.26, Caddy, hypercorn, Chromium, xmllint), check formatting, lints and docs, then run every
# test. The tests start and stop their own servers (the embedded origin in-process; nginx, Caddy
# and hypercorn as child processes; ci/stack.sh for the migration scenario) on loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
# Keep cargo's output, then close on one line with the totals of every test binary.
log=$(mktemp)
set +e
cargo test --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
