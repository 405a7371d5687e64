#!/usr/bin/env bash
# callgrind.sh -- client instructions per request (issue 17), repeatable on a shared machine.
#
# Runs the release client under `valgrind --tool=callgrind` against Debian's nginx 1.22
# (../shared/bench/nginx.conf, `return 200`, on CPU $SERVER_CPU), client pinned to CPU
# $CLIENT_CPU, one thread, closed model: HTTP/1.1 with 50 connections, HTTP/2 over TLS with
# 10 connections x 10 streams. Each case runs for $SHORT and for $LONG seconds; instructions
# per request = (Ir(long) - Ir(short)) / (requests(long) - requests(short)), which leaves out
# start-up and writing the results. Under callgrind the client makes a few thousand requests a
# second, so what grows with seconds rather than requests (a timeline second's and a slice's
# histograms) weighs more than at full speed; the difference keeps part of it (3 s of it).
# Instruction counts hold still while time does not: this is the figure to compare builds with.
#
# Usage:    bash benches/callgrind.sh                 # both cases, prints a table
#           CASES=h1 bash benches/callgrind.sh        # one case (h1, h2)
#           KEEP=1: keeps callgrind.out.* in $OUT for `callgrind_annotate --inclusive=yes`
# Env:      GAUNTLET (default target/release/gauntlet), SHORT=2, LONG=5, OUT (a temp folder).
# Ports 28080 and 28443 (not vs_peers.sh's), all on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
SHORT=${SHORT:-2}
LONG=${LONG:-5}
CASES=${CASES:-h1 h2}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
CONF_SRC=${CONF_SRC:-$ROOT/../shared/bench/nginx.conf}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-callgrind.XXXXXX")
OUT=${OUT:-$PREFIX/out}
mkdir -p "$OUT" "$PREFIX"/n/{logs,html,temp}
for t in valgrind nginx "$GAUNTLET"; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PREFIX/n/key.pem" \
  -out "$PREFIX/n/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
: > "$PREFIX/n/html/16k.txt"
sed -e 's/127.0.0.1:18080/127.0.0.1:28080/; s/127.0.0.1:18081/127.0.0.1:28081/; s/127.0.0.1:18443/127.0.0.1:28443/' \
  "$CONF_SRC" > "$PREFIX/n/nginx.conf"
stop() { nginx -s stop -c "$PREFIX/n/nginx.conf" -p "$PREFIX/n/" -e "$PREFIX/n/logs/error.log" 2>/dev/null || true; }
trap stop EXIT
taskset -c "$SERVER_CPU" nginx -c "$PREFIX/n/nginx.conf" -p "$PREFIX/n/" -e "$PREFIX/n/logs/error.log"
sleep 0.5

scenario() { # name url protocol concurrency connections seconds
  cat > "$PREFIX/$1-$6.yaml" <<YAML
name: callgrind-$1
targets: { t: "$2" }
tls: { insecure: true }
protocols: [$3]
load: { model: closed, concurrency: $4, connections: $5, duration: ${6}s, threads: 1 }
requests: [ { get: "/" } ]
YAML
}

# Ir of a callgrind run and its request count (results.json's totals).
run() { # case seconds
  local c=$1 s=$2
  case $c in
    h1) scenario h1 http://127.0.0.1:28080 h1 50 50 "$s" ;;
    h2) scenario h2 https://127.0.0.1:28443 h2 100 10 "$s" ;;
  esac
  taskset -c "$CLIENT_CPU" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$c-$s" \
    "$GAUNTLET" run "$PREFIX/$c-$s.yaml" --quiet --out "$OUT/$c-$s" > /dev/null 2> "$OUT/$c-$s.err"
  local ir reqs
  ir=$(grep -m1 '^summary:' "$OUT/callgrind.out.$c-$s" | awk '{print $2}')
  reqs=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(l["summary"]["count"] + l["summary"]["warmup"] for l in d["lanes"]))' "$OUT/$c-$s/results.json" 2>/dev/null || echo "")
  echo "$ir $reqs"
}

printf '| case | Ir %ss | requests %ss | Ir %ss | requests %ss | instructions / request | total / request (%ss) |\n' "$SHORT" "$SHORT" "$LONG" "$LONG" "$LONG"
printf '|---|---|---|---|---|---|---|\n'
for c in $CASES; do
  read -r ir1 n1 <<< "$(run "$c" "$SHORT")"
  read -r ir2 n2 <<< "$(run "$c" "$LONG")"
  python3 - "$c" "$ir1" "$n1" "$ir2" "$n2" "$SHORT" "$LONG" <<'PY'
import sys
c, ir1, n1, ir2, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"| {c} | {ir1:,} | {n1:,} | {ir2:,} | {n2:,} | {(ir2 - ir1) / (n2 - n1):,.0f} | {ir2 / n2:,.0f} |")
PY
done
[ -n "${KEEP:-}" ] && echo "callgrind output in $OUT" >&2 || rm -f "$OUT"/callgrind.out.*
