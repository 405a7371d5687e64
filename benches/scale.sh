#!/usr/bin/env bash
# scale.sh -- many connections at once from one client process (issue 17, item 4):
#   h1:  10,000 concurrent HTTP/1.1 connections (closed model, 10,000 in flight, one each);
#   h2:  1,000 HTTP/2 connections over TLS x 100 streams (100,000 in flight);
# against `gauntlet origin` in its own process (one runtime thread, CPU $SERVER_CPU), the client
# on CPU $CLIENT_CPU with one thread, under /usr/bin/time -v for its peak RSS (goal: < 300 MB).
#
# Both processes raise their own open-file soft limit to the hard limit at start (`ulimit -Hn`
# must allow the connections plus some 64 descriptors); run from a shell whose soft limit is
# lowered to 1,024 (SOFT=1024, the default) to show that they do.
#
# Usage: bash benches/scale.sh          DUR=10; H1_CONNS=10000 H2_CONNS=1000 H2_STREAMS=100
#        ONLY=h1 or ONLY=h2 runs that case alone (default: both)
#        (on a shared machine: flock /tmp/bench.lock bash benches/scale.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DUR=${DUR:-10}
SOFT=${SOFT:-1024}
H1_CONNS=${H1_CONNS:-10000}
H2_CONNS=${H2_CONNS:-1000}
H2_STREAMS=${H2_STREAMS:-100}
ONLY=${ONLY:-h1 h2}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-scale.XXXXXX")
[ -x "$GAUNTLET" ] || cargo build --release --locked
echo "open files: soft $(ulimit -Sn), hard $(ulimit -Hn); the processes start with soft $SOFT" >&2

ulimit -Sn "$SOFT"
TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" "$GAUNTLET" origin --http 127.0.0.1:0 --https 127.0.0.1:0 --no-h3 \
  > "$PREFIX/origin.json" 2> "$PREFIX/origin.err" &
ORIGIN_PID=$!
trap 'kill $ORIGIN_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$PREFIX/origin.json" ] && break; sleep 0.1; done
HTTP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$PREFIX/origin.json")
HTTPS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$PREFIX/origin.json")
echo "origin: $HTTP $HTTPS; its open-file limit: $(grep 'open files' /proc/$ORIGIN_PID/limits)" >&2

cat > "$PREFIX/h1.yaml" <<YAML
name: scale-h1
targets: { origin: "$HTTP" }
protocols: [h1]
connect_timeout: 10s
load: { model: closed, concurrency: $H1_CONNS, connections: $H1_CONNS, duration: ${DUR}s, threads: 1 }
requests: [ { get: / } ]
YAML
cat > "$PREFIX/h2.yaml" <<YAML
name: scale-h2
targets: { origin: "$HTTPS" }
tls: { insecure: true }
protocols: [h2]
connect_timeout: 10s
load: { model: closed, concurrency: $((H2_CONNS * H2_STREAMS)), connections: $H2_CONNS, duration: ${DUR}s, threads: 1 }
requests: [ { get: / } ]
YAML

for c in $ONLY; do
  timeout -k 5 $((DUR + 60)) taskset -c "$CLIENT_CPU" /usr/bin/time -v -o "$PREFIX/$c.time" \
    "$GAUNTLET" run "$PREFIX/$c.yaml" --quiet --out "$PREFIX/$c" > "$PREFIX/$c.out" 2> "$PREFIX/$c.err" \
    || echo "exit=$?" >> "$PREFIX/$c.err"
  echo "[$(date +%T)] $c done" >&2
  sleep 2
done

python3 - "$PREFIX" "$H1_CONNS" "$H2_CONNS" "$H2_STREAMS" <<'PY'
import json, re, sys, os
d, h1c, h2c, h2s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("| case | connections opened (failed) | requests (errors) | req/s | peak RSS MB (goal < 300) | exit |")
print("|---|---|---|---|---|---|")
for c, label in (("h1", f"HTTP/1.1, {h1c:,} connections"), ("h2", f"HTTP/2 TLS, {h2c:,} connections x {h2s} streams")):
    if not os.path.exists(os.path.join(d, c + ".time")):
        continue
    t = open(os.path.join(d, c + ".time")).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) * 1024 / 1e6
    code = re.search(r"Exit status: (\d+)", t)
    try:
        j = json.load(open(os.path.join(d, c, "results.json")))
        l = j["lanes"][0]
        s, k = l["summary"], l["connections"]
        print(f"| {label} | {k['opened']:,} ({k['failed']:,}) | {s['count']:,} ({s['errors']:,}) | {s['rps']:,.0f} | "
              f"{rss:.0f} ({'met' if rss < 300 else 'NOT met'}) | {code.group(1) if code else '?'} |")
        for e in (x for r in l["requests"] for x in r["errors"]):
            print(f"    {c}: {e['count']} x {e['class']}:{e['code']} {e['example'][:100]}", file=sys.stderr)
    except Exception as e:
        print(f"| {label} | no results ({e!r}) | | | {rss:.0f} | {code.group(1) if code else '?'} |")
PY
grep -h "warning" "$PREFIX"/h?.err >&2 || true
echo "raw results in $PREFIX" >&2
