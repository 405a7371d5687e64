#!/usr/bin/env bash
# verdict_power.sh -- how often the verdict raises a false alarm on an A/A pair and how often it
# catches a regression, over RUNS runs of each; with the exit code's false-alarm count.
#
#   CASE=delay (default): `gauntlet origin` (CPU 1) answers /delay/4 (about 5 ms); the candidate
#     of the regression runs adds 1 ms through `x-gauntlet-extra-delay-ms`, about +20% on every
#     percentile. HTTP/1.1.
#   CASE=nginx: two identical nginx reverse proxies (Debian's) in front of the same origin, on
#     /delay/4; for the regression runs the candidate's nginx adds `x-gauntlet-extra-delay-ms: 1`
#     upstream. HTTP/1.1 and HTTP/2 over TLS. Then the extra-hop case: the candidate goes through
#     one more nginx (about +5% p50), judged with a 5% tolerance.
#
# Each run interleaves the two paths (slices adapt to the run) at RATE/s for DUR seconds per
# side, with A/A calibration, no gates: the exit code is the default rule's (1 when a headline
# metric is worse, 3 when p50 or the error rate is inconclusive). All traffic stays on
# 127.0.0.1 and every run is bounded by its duration.
#
# Usage: RUNS=20 DUR=10 RATE=200 CASE=nginx bash benches/verdict_power.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
DUR=${DUR:-10}
RATE=${RATE:-200}
CASE=${CASE:-delay}
GAUNTLET=${GAUNTLET:-$(pwd)/target/release/gauntlet}
NGINX=${NGINX:-/usr/sbin/nginx}
W=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-power.XXXXXX")
[ -x "$GAUNTLET" ] || cargo build --release --locked
taskset -c 1 "$GAUNTLET" origin --http 127.0.0.1:0 --no-h3 > "$W/origin.json" &
ORIGIN=$!
PIDS="$ORIGIN"
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; for f in "$W"/*/nginx.pid; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done' EXIT
for _ in $(seq 50); do [ -s "$W/origin.json" ] && break; sleep 0.1; done
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$W/origin.json")
ORIGIN_ADDR=${URL#http://}

# shellcheck source=../ci/lib/nginx.sh
. "$(pwd)/ci/lib/nginx.sh"
# An nginx (CPU 1) in front of $2 (host:port) on ports $3 (h1) and $4 (TLS, h1 + h2), adding $5
# upstream.
nginx_up() { # $1 = name
  nginx_conf "$W/$1" "ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem;
    upstream up { server $2; keepalive 32; }" \
    "listen 127.0.0.1:$3; listen 127.0.0.1:$4 ssl http2;
        location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; $5 }"
  taskset -c 1 "$NGINX" -p "$W/$1" -e "$W/$1/error.log" -c "$W/$1/nginx.conf"
}

scenario() { # $1 = candidate URL, $2 = baseline URL, $3 = protocol, $4 = extra compare settings
  cat <<YAML
name: power
targets:
  candidate: "$1"
  baseline: "$2"
tls: { ca: "$W/ca.pem" }
protocols: [$3]
compare: { candidate: candidate, baseline: baseline, calibrate: true, differential: { enabled: false }$4 }
load: { rate: $RATE, duration: ${DUR}s, connections: 16, threads: 1 }
requests: [ { get: /delay/4 } ]
YAML
}

KINDS=""
"$GAUNTLET" certs --out "$W" > /dev/null
if [ "$CASE" = nginx ]; then
  nginx_up a "$ORIGIN_ADDR" 18381 18781 ""
  nginx_up b "$ORIGIN_ADDR" 18382 18782 ""
  nginx_up slow "$ORIGIN_ADDR" 18383 18783 "proxy_set_header x-gauntlet-extra-delay-ms 1;"
  nginx_up hop 127.0.0.1:18382 18384 18784 ""
  sleep 0.5
  for p in h1 h2; do
    if [ $p = h1 ]; then s=http; a=18381; b=18382; slow=18383; else s=https; a=18781; b=18782; slow=18783; fi
    host=$([ $s = https ] && echo localhost || echo 127.0.0.1)
    scenario "$s://$host:$a" "$s://$host:$b" $p "" > "$W/aa-$p.yaml"
    scenario "$s://$host:$slow" "$s://$host:$b" $p "" > "$W/regression-$p.yaml"
    KINDS="$KINDS aa-$p regression-$p"
  done
  scenario "http://127.0.0.1:18384" "http://127.0.0.1:18382" h1 ", tolerance: 5%" > "$W/hop-h1.yaml"
  KINDS="$KINDS hop-h1"
else
  scenario "$URL" "$URL" h1 "" | sed 's|  candidate: "\(.*\)"|  candidate: { url: "\1", headers: { x-gauntlet-extra-delay-ms: "0" } }|' > "$W/aa-h1.yaml"
  scenario "$URL" "$URL" h1 "" | sed 's|  candidate: "\(.*\)"|  candidate: { url: "\1", headers: { x-gauntlet-extra-delay-ms: "1" } }|' > "$W/regression-h1.yaml"
  KINDS="aa-h1 regression-h1"
fi

for kind in $KINDS; do
  for r in $(seq 1 "$RUNS"); do
    set +e
    timeout $((DUR * 3 + 60)) taskset -c 0 "$GAUNTLET" run "$W/$kind.yaml" --quiet --out "$W/$kind.$r" > /dev/null 2>&1
    echo $? > "$W/$kind.$r.exit"
    set -e
    echo "[$(date +%T)] $kind run $r: exit $(cat "$W/$kind.$r.exit")" >&2
  done
done

python3 - "$W" "$RUNS" "$DUR" $KINDS <<'PY'
import json, sys, collections, os
w, runs, dur, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
metrics = ["p50", "p90", "p99", "p999", "error_rate"]
print(f"| case | runs | per side | " + " | ".join(f"{m} verdicts" for m in metrics) + " | p99 ratio median | exit ≠ 0 |")
print("|---|---|---|" + "---|" * len(metrics) + "---|---|")
for kind in kinds:
    counts = {m: collections.Counter() for m in metrics}
    ratios, nonzero, exits = [], 0, collections.Counter()
    for r in range(1, runs + 1):
        code = int(open(f"{w}/{kind}.{r}.exit").read().strip() or 1)
        exits[code] += 1
        nonzero += code != 0
        path = f"{w}/{kind}.{r}/results.json"
        if not os.path.exists(path):
            continue
        j = json.load(open(path))
        for row in (j.get("comparison") or {}).get("verdicts", []):
            if row["request"] is None and row["metric"] in counts:
                counts[row["metric"]][row["verdict"]] += 1
                if row["metric"] == "p99" and row.get("estimate"):
                    ratios.append(row["estimate"])
    ratios.sort()
    med = ratios[len(ratios) // 2] if ratios else float("nan")
    fmt = lambda c: ", ".join(f"{k} {c[k]}" for k in ["worse", "same", "better", "inconclusive"] if c[k]) or "-"
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(exits.items()))
    print(f"| {kind} | {runs} | {dur} s | " + " | ".join(fmt(counts[m]) for m in metrics) + f" | {med:.3f} | {nonzero} ({codes}) |")
PY
echo "runs in $W" >&2
