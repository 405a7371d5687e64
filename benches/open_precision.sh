#!/usr/bin/env bash
# open_precision.sh -- does the open model deliver the rate it plans (issue 17, item 3)?
# HTTP/1.1 against `gauntlet origin` (its own process, one runtime thread, CPU $SERVER_CPU), the
# client on CPU $CLIENT_CPU with one thread and $CONNS connections, at fixed rates from 1,000/s
# up, each for $DUR s, until the client falls more than 1% short of the plan (and one rate past
# that, to show what the run says then).
#
# Per rate: the planned and sent arrival rates (results.json `pacing.plan`), completions per
# second (`summary.rps`), sent / target, the range of completions per whole measured second
# over the target (drift shows as a falling last second), late starts (> 1 ms), the largest lag,
# and what the run printed when it fell short.
#
# Usage: bash benches/open_precision.sh      DUR=10 CONNS=64 RATES="1000 5000 10000 20000 ..."
#        (on a shared machine: flock /tmp/bench.lock bash benches/open_precision.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DUR=${DUR:-10}
CONNS=${CONNS:-64}
RATES=${RATES:-1000 5000 10000 20000 30000 40000 50000 60000 80000 100000 150000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-open.XXXXXX")
[ -x "$GAUNTLET" ] || cargo build --release --locked

TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" "$GAUNTLET" origin --http 127.0.0.1:0 --no-h3 \
  > "$PREFIX/origin.json" 2> "$PREFIX/origin.err" &
ORIGIN_PID=$!
trap 'kill $ORIGIN_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$PREFIX/origin.json" ] && break; sleep 0.1; done
HTTP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$PREFIX/origin.json")

past=0
for rate in $RATES; do
  cat > "$PREFIX/r$rate.yaml" <<YAML
name: open-$rate
targets: { origin: "$HTTP" }
protocols: [h1]
load: { model: open, rate: $rate, duration: ${DUR}s, connections: $CONNS, threads: 1 }
requests: [ { get: / } ]
YAML
  timeout -k 5 $((DUR + 30)) taskset -c "$CLIENT_CPU" "$GAUNTLET" run "$PREFIX/r$rate.yaml" --quiet \
    --out "$PREFIX/r$rate" > "$PREFIX/r$rate.out" 2>&1 || true
  echo "[$(date +%T)] $rate/s done" >&2
  short=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["lanes"][0]["pacing"].get("plan"); print(1 if p and p["shortfall"] > 0.01 else 0)' "$PREFIX/r$rate/results.json" 2>/dev/null || echo 1)
  if [ "$short" = 1 ]; then past=$((past + 1)); fi
  [ "$past" -ge 2 ] && break
  sleep 1
done

python3 - "$PREFIX" $RATES <<'PY'
import json, os, sys
d, rates = sys.argv[1], [int(r) for r in sys.argv[2:]]
print("| target/s | planned/s | sent/s | completed/s | sent / target | completed per second / target (min-max) | late starts | max lag | not sent | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
said = []
for r in rates:
    f = os.path.join(d, f"r{r}", "results.json")
    if not os.path.exists(f):
        continue
    j = json.load(open(f))
    l = j["lanes"][0]
    p, s = l["pacing"], l["summary"]
    k = p.get("plan") or {}
    secs = [x["requests"] / r for x in l["timeline"] if not x["warmup"]][:-1] or [0]
    print(f"| {r:,} | {k.get('planned_rps', 0):,.0f} | {k.get('sent_rps', 0):,.0f} | {s['rps']:,.0f} | "
          f"{k.get('sent_rps', 0) / r:.4f} | {min(secs):.3f}-{max(secs):.3f} | "
          f"{p['late_starts'] / max(1, s['count']):.1%} | {p['max_lag_us'] / 1000:.1f} ms | {p['not_sent']:,} | {s['errors']:,} |")
    for line in open(os.path.join(d, f"r{r}.out")):
        if "could not keep up" in line:
            said.append(f"{r:,}/s: {line.strip()}")
print()
for s in said:
    print(s)
PY
echo "raw results in $PREFIX" >&2
