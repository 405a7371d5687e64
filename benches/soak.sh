#!/usr/bin/env bash
# soak.sh -- client memory over a long steady run: samples gauntlet's RSS every $EVERY seconds
# and prints the samples and the least-squares slope in MB per minute. A flat client keeps its
# slope near zero; the per-second timeline and the comparison slices are what could grow.
#
#   bash benches/soak.sh                  # 10 minutes, 600/s over h1, h2 and h3, five requests
#   DUR=120 COMPARE=1 bash benches/soak.sh   # two paths (candidate and baseline), 2 minutes
#
# The embedded origin serves in-process, on loopback; the run is bounded by DUR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DUR=${DUR:-600}
EVERY=${EVERY:-10}
RATE=${RATE:-600}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
[ -x "$GAUNTLET" ] || cargo build --release --locked
W=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-soak.XXXXXX")
trap 'rm -rf "$W"' EXIT
if [ "${COMPARE:-0}" = 1 ]; then
  targets='  candidate: embedded
  baseline: embedded
compare: { candidate: candidate, baseline: baseline, differential: { enabled: false } }'
else
  targets='  local: embedded'
fi
cat > "$W/soak.yaml" <<YAML
name: soak
targets:
$targets
protocols: [h1, h2, h3]
load: { rate: $RATE, duration: ${DUR}s, connections: 4 }
requests:
  - { name: home, get: /, weight: 4 }
  - { name: bytes, get: /bytes/1000, weight: 2 }
  - { name: chunked, get: /chunked/2000 }
  - { name: echo, post: /echo, body: hello }
  - { name: status, get: /status/204 }
YAML
"$GAUNTLET" run "$W/soak.yaml" --quiet --out "$W/out" > "$W/log" 2>&1 &
pid=$!
echo "t_s rss_mb"
: > "$W/samples"
t=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$t $((rss / 1024))" | tee -a "$W/samples"
  sleep "$EVERY"
  t=$((t + EVERY))
done
wait "$pid" || true
python3 - "$W/samples" <<'PY'
import sys
pts = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
# The first minute holds the start-up (histograms, connections): fit what follows it.
pts = [p for p in pts if p[0] >= 60] or pts
n = len(pts)
if n < 2:
    print("too few samples"); sys.exit(0)
mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
slope = sum((x - mx) * (y - my) for x, y in pts) / max(sum((x - mx) ** 2 for x, _ in pts), 1e-9)
print(f"slope: {slope * 60:.2f} MB/min over {pts[-1][0] - pts[0][0]:.0f} s "
      f"({pts[0][1]:.0f} MB at {pts[0][0]:.0f} s, {pts[-1][1]:.0f} MB at {pts[-1][0]:.0f} s)")
PY
tail -3 "$W/log"
