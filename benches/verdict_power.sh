#!/usr/bin/env bash
# verdict_power.sh -- how often the verdict calls an A/A pair "worse" (false alarms) and how often
# it catches a +20% p99 regression (detections), over RUNS runs of each.
#
# The origin (`gauntlet origin`, CPU 1) answers /delay/4 (about 5 ms, tokio's timer rounds up);
# the candidate of the regression runs adds 1 ms through `x-gauntlet-extra-delay-ms`, about +20%
# on every percentile. Each run interleaves the two paths in 1 s slices at RATE/s for DUR seconds
# per side, with A/A calibration, and the verdict on p99 (all requests, HTTP/1.1) is tallied.
# All traffic stays on 127.0.0.1 and every run is bounded by its duration.
#
# Usage: RUNS=20 DUR=10 RATE=200 bash benches/verdict_power.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
DUR=${DUR:-10}
RATE=${RATE:-200}
GAUNTLET=${GAUNTLET:-$(pwd)/target/release/gauntlet}
W=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-power.XXXXXX")
[ -x "$GAUNTLET" ] || cargo build --release --locked
taskset -c 1 "$GAUNTLET" origin --http 127.0.0.1:0 --no-h3 > "$W/origin.json" &
ORIGIN=$!
trap 'kill $ORIGIN 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$W/origin.json" ] && break; sleep 0.1; done
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$W/origin.json")

scenario() { # $1 = extra delay on the candidate, ms
  cat <<YAML
name: power
targets:
  candidate: { url: "$URL", headers: { x-gauntlet-extra-delay-ms: "$1" } }
  baseline: "$URL"
compare: { candidate: candidate, baseline: baseline, calibrate: true, differential: { enabled: false } }
load: { rate: $RATE, duration: ${DUR}s, connections: 16, threads: 1 }
requests: [ { get: /delay/4 } ]
YAML
}
scenario 0 > "$W/aa.yaml"
scenario 1 > "$W/regression.yaml"

for kind in aa regression; do
  for r in $(seq 1 "$RUNS"); do
    taskset -c 0 "$GAUNTLET" run "$W/$kind.yaml" --quiet --out "$W/$kind.$r" > /dev/null || true
    echo "[$(date +%T)] $kind run $r" >&2
  done
done

python3 - "$W" "$RUNS" "$DUR" <<'PY'
import json, sys, collections
w, runs, dur = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print(f"| runs | per side | kind | p99 verdicts | p99 ratio median | p50 verdicts |")
print("|---|---|---|---|---|---|")
for kind in ["aa", "regression"]:
    v99, v50, ratios = collections.Counter(), collections.Counter(), []
    for r in range(1, runs + 1):
        j = json.load(open(f"{w}/{kind}.{r}/results.json"))
        for row in j["comparison"]["verdicts"]:
            if row["request"] is None and row["metric"] == "p99":
                v99[row["verdict"]] += 1
                ratios.append(row["estimate"])
            if row["request"] is None and row["metric"] == "p50":
                v50[row["verdict"]] += 1
    ratios.sort()
    med = ratios[len(ratios) // 2] if ratios else float("nan")
    fmt = lambda c: ", ".join(f"{k} {c[k]}" for k in ["worse", "same", "better", "inconclusive"] if c[k])
    print(f"| {runs} | {dur} s | {kind} | {fmt(v99)} | {med:.3f} | {fmt(v50)} |")
PY
echo "runs in $W" >&2
