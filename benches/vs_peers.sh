#!/usr/bin/env bash
# vs_peers.sh -- gauntlet beside wrk (HTTP/1.1, 50 connections) and h2load (HTTP/2 over TLS,
# 10 connections x 10 streams), against the same nginx in the same invocation.
#
# * nginx: ../shared/bench/nginx.conf (or $CONF_SRC), one worker pinned to CPU $SERVER_CPU.
# * every client pinned to CPU $CLIENT_CPU, one thread, under /usr/bin/time -v.
# * each case runs $RUNS times for $DUR seconds; the table shows medians and the ratio of
#   gauntlet to the peer (requests/s, and client CPU microseconds per request).
# * all traffic goes to 127.0.0.1; every run is bounded by its duration plus a `timeout`.
#
# Requires: nginx, wrk, nghttp2-client (h2load): apt-get install -y nginx-light wrk nghttp2-client
# Usage:    bash benches/vs_peers.sh            RUNS=3 DUR=10 by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-3}
DUR=${DUR:-10}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
CONF_SRC=${CONF_SRC:-$ROOT/../shared/bench/nginx.conf}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-vs-peers.XXXXXX")
OUT=${OUT:-$PREFIX/results}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
mkdir -p "$PREFIX"/{logs,html,temp} "$OUT"

[ -x "$GAUNTLET" ] || cargo build --release --locked
for t in nginx wrk h2load; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
for p in 18080 18443; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "port $p in use; aborting" >&2; exit 1; fi
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PREFIX/key.pem" \
  -out "$PREFIX/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
head -c 16384 /dev/urandom | base64 -w 76 | head -c 16384 > "$PREFIX/html/16k.txt"
cp "$CONF_SRC" "$PREFIX/nginx.conf"

stop_nginx() { [ -s "$PREFIX/logs/nginx.pid" ] && nginx -s stop -c "$PREFIX/nginx.conf" -p "$PREFIX/" 2>/dev/null || true; }
trap stop_nginx EXIT
taskset -c "$SERVER_CPU" nginx -c "$PREFIX/nginx.conf" -p "$PREFIX/"
sleep 0.5

cat > "$PREFIX/h1.yaml" <<YAML
name: bench-h1
targets: { nginx: "http://127.0.0.1:18080" }
protocols: [h1]
load: { model: closed, concurrency: 50, duration: ${DUR}s, threads: 1 }
requests: [ { get: / } ]
YAML
cat > "$PREFIX/h2.yaml" <<YAML
name: bench-h2
targets: { nginx: "https://127.0.0.1:18443" }
tls: { insecure: true }
protocols: [h2]
load: { model: closed, concurrency: 100, connections: 10, duration: ${DUR}s, threads: 1 }
requests: [ { get: / } ]
YAML

# case id | command; @OUT@ is replaced by a per-run folder
CASES=$(cat <<EOF
h1_wrk|wrk -t1 -c50 -d${DUR}s --latency http://127.0.0.1:18080/
h1_gauntlet|$GAUNTLET run $PREFIX/h1.yaml --quiet --out @OUT@
h2tls_h2load|h2load -c10 -m10 -t1 -D $DUR https://127.0.0.1:18443/
h2tls_gauntlet|$GAUNTLET run $PREFIX/h2.yaml --quiet --out @OUT@
EOF
)

while IFS='|' read -r id cmd; do
  for r in $(seq 1 "$RUNS"); do
    f="$OUT/$id.run$r"
    c=${cmd//@OUT@/$f.dir}
    # shellcheck disable=SC2086
    timeout -k 5 $((DUR + 30)) taskset -c "$CLIENT_CPU" /usr/bin/time -v -o "$f.time" $c > "$f.out" 2> "$f.err" || echo "exit=$?" >> "$f.err"
    echo "[$(date +%T)] $id run $r" >&2
    sleep 1
  done
done <<< "$CASES"
stop_nginx

python3 - "$OUT" "$RUNS" <<'PY'
import json, re, statistics, sys, os
out, runs = sys.argv[1], int(sys.argv[2])
def tv(path):
    t = open(path).read()
    u = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
    s = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    return u + s, rss
def parse(case, f):
    txt = open(f + ".out").read()
    if case.endswith("_wrk"):
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", txt).group(1))
        n = int(re.search(r"(\d+) requests in", txt).group(1))
        p99 = None
    elif case.endswith("_h2load"):
        rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", txt).group(1))
        n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", txt).group(1))
    else:
        j = json.load(open(os.path.join(f + ".dir", "results.json")))
        lane = j["lanes"][0]["summary"]
        n, rps = lane["count"] + lane["warmup"], lane["rps"]
        if lane["errors"]:
            print(f"{case}: {lane['errors']} errors", file=sys.stderr)
    cpu, rss = tv(f + ".time")
    return dict(rps=rps, n=n, us=cpu / n * 1e6, rss=rss / 1024)
rows = {}
for case in ["h1_wrk", "h1_gauntlet", "h2tls_h2load", "h2tls_gauntlet"]:
    vals = []
    for r in range(1, runs + 1):
        try:
            vals.append(parse(case, os.path.join(out, f"{case}.run{r}")))
        except Exception as e:
            print(f"{case} run {r}: parse error {e}", file=sys.stderr)
    if vals:
        rows[case] = {k: statistics.median(v[k] for v in vals) for k in vals[0]}
        rows[case]["lo"] = min(v["rps"] for v in vals)
        rows[case]["hi"] = max(v["rps"] for v in vals)
print("| case | req/s median (min-max) | client CPU µs/req | max RSS MiB |")
print("|---|---|---|---|")
for c, v in rows.items():
    print(f"| {c} | {v['rps']:,.0f} ({v['lo']:,.0f}-{v['hi']:,.0f}) | {v['us']:.2f} | {v['rss']:.1f} |")
print()
for g, p in [("h1_gauntlet", "h1_wrk"), ("h2tls_gauntlet", "h2tls_h2load")]:
    if g in rows and p in rows:
        print(f"{g} / {p}: req/s ratio {rows[g]['rps'] / rows[p]['rps']:.2f}, "
              f"client CPU per request ratio {rows[g]['us'] / rows[p]['us']:.2f}")
PY
echo "raw results in $OUT" >&2
