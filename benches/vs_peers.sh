#!/usr/bin/env bash
# vs_peers.sh -- gauntlet beside its peers against the same nginx in the same invocation.
#   SUITE=h1h2 (default): wrk (HTTP/1.1, 50 connections) and h2load (HTTP/2 over TLS, 10 x 10),
#                         against Debian's nginx with ../shared/bench/nginx.conf;
#   SUITE=h3:             gauntlet h3 vs gauntlet h2 vs oha h3 and h2 (10 x 10), against nginx
#                         1.26 from trixie (ci/install.sh puts it under .build) with nginx-h3.conf,
#                         or with H3_SERVER=origin against `gauntlet origin` (one thread, CPU 1).
#   SUITE=metrics:        the cost of watching: gauntlet h1 plain, with --metrics-addr scraped
#                         every second by Debian's Prometheus, and with --remote-write every
#                         second into it (Prometheus pinned beside nginx), wrk for reference.
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
SUITE=${SUITE:-h1h2}
if [ "$SUITE" = h3 ]; then
  NGINX=${NGINX:-$ROOT/.build/nginx-trixie/usr/sbin/nginx}
  CONF_SRC=${CONF_SRC:-$ROOT/benches/nginx-h3.conf}
  PORTS="18444"
else
  NGINX=${NGINX:-nginx}
  CONF_SRC=${CONF_SRC:-$ROOT/../shared/bench/nginx.conf}
  PORTS="18080 18443"
fi
OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-vs-peers.XXXXXX")
OUT=${OUT:-$PREFIX/results}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
mkdir -p "$PREFIX"/{logs,html,temp} "$OUT"

[ -x "$GAUNTLET" ] || cargo build --release --locked
for t in "$NGINX" wrk h2load; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
for p in $PORTS; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "port $p in use; aborting" >&2; exit 1; fi
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PREFIX/key.pem" \
  -out "$PREFIX/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
head -c 16384 /dev/urandom | base64 -w 76 | head -c 16384 > "$PREFIX/html/16k.txt"
cp "$CONF_SRC" "$PREFIX/nginx.conf"

ORIGIN_PID=""
stop_nginx() {
  [ -s "$PREFIX/logs/nginx.pid" ] && "$NGINX" -s stop -c "$PREFIX/nginx.conf" -p "$PREFIX/" -e "$PREFIX/logs/error.log" 2>/dev/null || true
  [ -n "$ORIGIN_PID" ] && kill "$ORIGIN_PID" 2>/dev/null || true
}
trap stop_nginx EXIT
if [ "${H3_SERVER:-nginx}" = origin ]; then
  TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" "$GAUNTLET" origin --https 127.0.0.1:18444 > "$PREFIX/origin.json" &
  ORIGIN_PID=$!
else
  taskset -c "$SERVER_CPU" "$NGINX" -c "$PREFIX/nginx.conf" -p "$PREFIX/" -e "$PREFIX/logs/error.log"
fi
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

cat > "$PREFIX/h2q.yaml" <<YAML
name: bench-h2-quic-host
targets: { nginx: "https://127.0.0.1:18444" }
tls: { insecure: true }
protocols: [h2]
load: { model: closed, concurrency: 100, connections: 10, duration: ${DUR}s, threads: 1 }
requests: [ { get: / } ]
YAML
sed 's/\[h2\]/[h3]/; s/bench-h2-quic-host/bench-h3/' "$PREFIX/h2q.yaml" > "$PREFIX/h3.yaml"

# case id | command; @OUT@ is replaced by a per-run folder
if [ "$SUITE" = h3 ]; then
  OHAJ="--no-tui --output-format json --insecure -c 10 -p 10 -z ${DUR}s"
  CASES=$(cat <<EOF
h2_gauntlet|$GAUNTLET run $PREFIX/h2q.yaml --quiet --out @OUT@
h3_gauntlet|$GAUNTLET run $PREFIX/h3.yaml --quiet --out @OUT@
h2_oha|$OHA $OHAJ --http-version 2 https://127.0.0.1:18444/
h3_oha|$OHA $OHAJ --http-version 3 https://127.0.0.1:18444/
EOF
)
else
if [ "$SUITE" = metrics ]; then
  PROM_PORT=19463
  cat > "$PREFIX/prometheus.yml" <<YAML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: gauntlet
    static_configs: [ { targets: ["127.0.0.1:19464"] } ]
YAML
  taskset -c "$SERVER_CPU" /usr/bin/prometheus --config.file="$PREFIX/prometheus.yml" \
    --storage.tsdb.path="$PREFIX/prom" --web.listen-address=127.0.0.1:$PROM_PORT \
    --web.enable-remote-write-receiver > "$PREFIX/logs/prometheus.log" 2>&1 &
  PROM_PID=$!
  trap 'stop_nginx; kill $PROM_PID 2>/dev/null || true' EXIT
  sleep 2
CASES=$(cat <<EOF
h1_wrk|wrk -t1 -c50 -d${DUR}s --latency http://127.0.0.1:18080/
h1_gauntlet|$GAUNTLET run $PREFIX/h1.yaml --quiet --out @OUT@
h1_gauntlet_metrics|$GAUNTLET run $PREFIX/h1.yaml --quiet --out @OUT@ --metrics-addr 127.0.0.1:19464
h1_gauntlet_rw|$GAUNTLET run $PREFIX/h1.yaml --quiet --out @OUT@ --remote-write http://127.0.0.1:$PROM_PORT/api/v1/write --remote-write-every 1s
EOF
)
else
CASES=$(cat <<EOF
h1_wrk|wrk -t1 -c50 -d${DUR}s --latency http://127.0.0.1:18080/
h1_gauntlet|$GAUNTLET run $PREFIX/h1.yaml --quiet --out @OUT@
h2tls_h2load|h2load -c10 -m10 -t1 -D $DUR https://127.0.0.1:18443/
h2tls_gauntlet|$GAUNTLET run $PREFIX/h2.yaml --quiet --out @OUT@
EOF
)
fi
fi

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

python3 - "$OUT" "$RUNS" "$SUITE" <<'PY'
import json, re, statistics, sys, os
out, runs, suite = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
    elif case.endswith("_oha"):
        j = json.loads(txt)
        n = j["statusCodeDistribution"].get("200", 0)
        rps = j["summary"]["requestsPerSec"]
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
if suite == "h3":
    cases = ["h2_gauntlet", "h3_gauntlet", "h2_oha", "h3_oha"]
    pairs = [("h3_gauntlet", "h2_gauntlet"), ("h3_gauntlet", "h3_oha"), ("h2_gauntlet", "h2_oha")]
elif suite == "metrics":
    cases = ["h1_wrk", "h1_gauntlet", "h1_gauntlet_metrics", "h1_gauntlet_rw"]
    pairs = [("h1_gauntlet_metrics", "h1_gauntlet"), ("h1_gauntlet_rw", "h1_gauntlet"), ("h1_gauntlet", "h1_wrk")]
else:
    cases = ["h1_wrk", "h1_gauntlet", "h2tls_h2load", "h2tls_gauntlet"]
    pairs = [("h1_gauntlet", "h1_wrk"), ("h2tls_gauntlet", "h2tls_h2load")]
for case in cases:
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
for g, p in pairs:
    if g in rows and p in rows:
        print(f"{g} / {p}: req/s ratio {rows[g]['rps'] / rows[p]['rps']:.2f}, "
              f"client CPU per request ratio {rows[g]['us'] / rows[p]['us']:.2f}")
PY
echo "raw results in $OUT" >&2
