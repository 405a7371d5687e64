#!/usr/bin/env bash
# graceful_goaway.sh -- issue 10's table, re-measured: Debian's nginx 1.22 and trixie's nginx
# 1.26 with nginx's default keepalive_requests (1000: each connection ends gracefully after
# 1,000 requests with `Connection: close` or GOAWAY), answering `return 200` as the peer
# benchmark's config does, under a closed-model run of 4 s with 64 requests in flight over 2
# connections, per server and protocol. A client that counts nginx's graceful GOAWAY as errors
# reports 1-5% failed requests here, and exits 1.
#
# Starts its own two nginx (one worker each) on loopback ports 181xx/186xx and stops them;
# every run is bounded by its duration. `bash ci/install.sh` installs both nginx.
# Usage: bash benches/graceful_goaway.sh      (DUR=4 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DUR=${DUR:-4}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
NGINX_LEGACY=${NGINX_LEGACY:-/usr/sbin/nginx}
NGINX_H3=${NGINX_H3:-$ROOT/.build/nginx-trixie/usr/sbin/nginx}
[ -x "$GAUNTLET" ] || cargo build --release --locked
W=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-goaway.XXXXXX")
"$GAUNTLET" certs --out "$W" >/dev/null

# shellcheck source=../ci/lib/nginx.sh
. "$ROOT/ci/lib/nginx.sh"
conf() { # $1 = name, $2 = listen lines
  nginx_conf "$W/$1" "ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem;" \
    "$2
        location / { return 200 \"hello world\\n\"; }"
}
conf legacy "listen 127.0.0.1:18180; listen 127.0.0.1:18181 http2; listen 127.0.0.1:18543 ssl http2;"
conf h3 "listen 127.0.0.1:18643 quic reuseport; listen 127.0.0.1:18643 ssl; http2 on; http3 on; quic_retry off;"
nginx_start "$NGINX_LEGACY" "$W/legacy"
nginx_start "$NGINX_H3" "$W/h3"
trap 'for n in legacy h3; do nginx_stop "$W/$n"; done; sleep 0.3; rm -rf "$W"' EXIT
sleep 0.5

printf '| %-10s | %-15s | %9s | %6s | %7s | %6s | %8s | %4s |\n' server protocol requests errors retried GOAWAY recycled exit
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ----------------- ----------- -------- --------- -------- ---------- ------
while read -r name label url proto; do
  cat > "$W/s.yaml" <<YAML
name: goaway
targets: { t: "$url" }
tls: { ca: "$W/ca.pem" }
protocols: [$proto]
load: { model: closed, concurrency: 64, connections: 2, duration: ${DUR}s }
requests: [ { get: / } ]
YAML
  set +e
  timeout $((DUR + 60)) "$GAUNTLET" run "$W/s.yaml" --quiet --out "$W/out" >/dev/null 2>&1
  code=$?
  set -e
  python3 - "$W/out/results.json" "$name" "$label" "$code" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, c = r["lanes"][0]["summary"], r["lanes"][0]["connections"]
print(f"| {sys.argv[2]:<10} | {sys.argv[3]:<15} | {s['count']:>9} | {s['errors']:>6} | {s['retried']:>7} | {c['control_frames']['goaway']:>6} | {c['recycled']:>8} | {sys.argv[4]:>4} |")
PY
  rm -rf "$W/out"
done <<LIST
nginx-1.22 h2-(h2c) h2c://127.0.0.1:18181 h2
nginx-1.26 h2-(TLS) https://localhost:18643 h2
nginx-1.26 h3-(QUIC) https://localhost:18643 h3
nginx-1.22 h1 http://127.0.0.1:18180 h1
nginx-1.22 h2-(TLS) https://localhost:18543 h2
LIST
