#!/usr/bin/env bash
# vs_peers.sh -- gauntlet beside its peers against the same servers in the same invocation.
#   SUITE=all (default):  every row of issue 17 in one invocation, with the ratios and goals:
#                         h1 (50 connections) vs wrk and h2 over TLS (10 x 10) vs h2load against
#                         Debian's nginx 1.22; h3 10 x 10 and 50 x 1 vs oha, and gauntlet h3 vs its
#                         own h2, against nginx 1.26; the measurement overhead on /delay/10 of
#                         `gauntlet origin` (gauntlet's p50 against wrk's on the same endpoint).
#   SUITE=h1h2:           wrk (HTTP/1.1, 50 connections) and h2load (HTTP/2 over TLS, 10 x 10),
#                         against Debian's nginx with ../shared/bench/nginx.conf;
#   SUITE=h3:             gauntlet h3 vs gauntlet h2 vs oha h3 and h2 (10 x 10), against nginx
#                         1.26 from trixie (ci/install.sh puts it under .build) with nginx-h3.conf,
#                         or with H3_SERVER=origin against `gauntlet origin` (one thread, CPU 1).
#   SUITE=metrics:        the cost of watching: gauntlet h1 plain, with --metrics-addr scraped
#                         every second by Debian's Prometheus, and with --remote-write every
#                         second into it (Prometheus pinned beside nginx), wrk for reference.
#   SUITE=delay:          only the /delay/10 overhead row (wrk and gauntlet, 10 connections).
#
# * nginx 1.22: ../shared/bench/nginx.conf (or $CONF_SRC); nginx 1.26 ($NGINX126):
#   benches/nginx-h3.conf; `gauntlet origin` for /delay/10; each server pinned to CPU $SERVER_CPU.
# * every client pinned to CPU $CLIENT_CPU, one thread, under /usr/bin/time -v.
# * each case runs $RUNS times for $DUR seconds; the tables show medians and the ratio of
#   gauntlet to the peer (client CPU microseconds per request, and requests/s) beside the goal.
# * oha's requests/s is over its own run (the requests that succeeded within -z over -z), not
#   over the wall time nor its JSON `total`: over HTTP/3 it waits for nginx's idle connections
#   to time out (30 s) after the run, so its `timeout` is the duration plus 50 s.
# * all traffic goes to 127.0.0.1; every run is bounded by its duration plus a `timeout`.
#
# Requires: nginx, wrk, nghttp2-client (h2load), oha for h3: apt-get install -y nginx-light wrk
#           nghttp2-client; cargo install oha --locked
# Usage:    bash benches/vs_peers.sh            SUITE=all RUNS=3 DUR=10 by default
#           (on a shared machine: flock /tmp/bench.lock bash benches/vs_peers.sh)
#           PARSE_ONLY=DIR (with the same SUITE, RUNS, DUR): the tables again from DIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-3}
DUR=${DUR:-10}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
SUITE=${SUITE:-all}
H3_SERVER=${H3_SERVER:-nginx}
NGINX=${NGINX:-nginx}
NGINX126=${NGINX126:-$ROOT/.build/nginx-trixie/usr/sbin/nginx}
CONF_SRC=${CONF_SRC:-$ROOT/../shared/bench/nginx.conf}
CONF126_SRC=${CONF126_SRC:-$ROOT/benches/nginx-h3.conf}
OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gauntlet-vs-peers.XXXXXX")
OUT=${OUT:-$PREFIX/results}
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
ORIGIN_PORT=18090
# Which servers the suite needs: nginx 1.22 (h1, h2 over TLS), nginx 1.26 (h2 and h3 on 18444),
# `gauntlet origin` (/delay/10; the h3 server too with H3_SERVER=origin).
case "$SUITE" in
  all) N122=1; N126=1; ORIGIN=1 ;;
  h1h2|metrics) N122=1; N126=0; ORIGIN=0 ;;
  h3) N122=0; N126=1; ORIGIN=0 ;;
  delay) N122=0; N126=0; ORIGIN=1 ;;
  *) echo "unknown SUITE=$SUITE (all, h1h2, h3, metrics, delay)" >&2; exit 2 ;;
esac
H3_ORIGIN=0
if [ "$H3_SERVER" = origin ] && [ "$N126" = 1 ]; then N126=0; H3_ORIGIN=1; fi
mkdir -p "$OUT"

# The tables, from a results folder (PARSE_ONLY=DIR prints them again from an earlier run's).
report() {
python3 - "$1" "$RUNS" "$SUITE" "$DUR" <<'PY'
import json, re, statistics, sys, os
out, runs, suite, dur = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
def tv(path):
    t = open(path).read()
    u = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
    s = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    return u + s, rss
def wrk_ms(txt, pct):
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", txt, re.M)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
def parse(case, f):
    txt = open(f + ".out").read()
    p50 = None
    if case.endswith("_wrk"):
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", txt).group(1))
        n = int(re.search(r"(\d+) requests in", txt).group(1))
        p50 = wrk_ms(txt, 50)
    elif case.endswith("_oha"):
        # Its own rate: the requests that succeeded within its -z window over that window.
        # Its `total` (and `requestsPerSec`) also count the wait for idle QUIC connections to
        # time out after the window (30 s with nginx), which is not load.
        j = json.loads(txt)
        n = j["statusCodeDistribution"].get("200", 0)
        rps = n / min(j["summary"]["total"], dur)
    elif case.endswith("_h2load"):
        rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", txt).group(1))
        n = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", txt).group(1))
    else:
        j = json.load(open(os.path.join(f + ".dir", "results.json")))
        lane = j["lanes"][0]["summary"]
        n, rps = lane["count"] + lane["warmup"], lane["rps"]
        p50 = lane["latency_us"]["p50"] / 1000.0
        if lane["errors"]:
            print(f"{case}: {lane['errors']} errors", file=sys.stderr)
    if n == 0:
        raise ValueError("no successful request")
    cpu, rss = tv(f + ".time")
    v = dict(rps=rps, n=n, us=cpu / n * 1e6, rss=rss / 1024)
    if p50 is not None:
        v["p50"] = p50
    return v
# (gauntlet, peer, label, goal for the CPU ratio (≤), goal for the requests/s ratio (≥))
suites = {
    "all": (["h1_wrk", "h1_gauntlet", "h2tls_h2load", "h2tls_gauntlet", "h2_gauntlet",
             "h3_gauntlet", "h3_oha", "h3x50_gauntlet", "h3x50_oha", "delay_wrk", "delay_gauntlet"],
            [("h1_gauntlet", "h1_wrk", "HTTP/1.1, 50 connections, nginx 1.22: gauntlet / wrk", 1.0, None),
             ("h2tls_gauntlet", "h2tls_h2load", "HTTP/2 over TLS, 10 x 10, nginx 1.22: gauntlet / h2load", 1.0, 1.0),
             ("h3_gauntlet", "h3_oha", "HTTP/3, 10 x 10, nginx 1.26: gauntlet / oha", 0.5, None),
             ("h3x50_gauntlet", "h3x50_oha", "HTTP/3, 50 x 1, nginx 1.26: gauntlet / oha", 0.5, None),
             ("h3_gauntlet", "h2_gauntlet", "gauntlet HTTP/3 / its own HTTP/2 (10 x 10, nginx 1.26)", None, None)]),
    "h1h2": (["h1_wrk", "h1_gauntlet", "h2tls_h2load", "h2tls_gauntlet"],
             [("h1_gauntlet", "h1_wrk", "HTTP/1.1, 50 connections: gauntlet / wrk", 1.0, None),
              ("h2tls_gauntlet", "h2tls_h2load", "HTTP/2 over TLS, 10 x 10: gauntlet / h2load", 1.0, 1.0)]),
    "h3": (["h2_gauntlet", "h3_gauntlet", "h2_oha", "h3_oha"],
           [("h3_gauntlet", "h2_gauntlet", "gauntlet h3 / gauntlet h2", None, None),
            ("h3_gauntlet", "h3_oha", "gauntlet h3 / oha h3", 0.5, None),
            ("h2_gauntlet", "h2_oha", "gauntlet h2 / oha h2", None, None)]),
    "delay": (["delay_wrk", "delay_gauntlet"], []),
    "metrics": (["h1_wrk", "h1_gauntlet", "h1_gauntlet_metrics", "h1_gauntlet_rw"],
                [("h1_gauntlet_metrics", "h1_gauntlet", "scraped every 1 s / plain", None, None),
                 ("h1_gauntlet_rw", "h1_gauntlet", "remote-write every 1 s / plain", None, None),
                 ("h1_gauntlet", "h1_wrk", "gauntlet / wrk", 1.0, None)]),
}
cases, pairs = suites[suite]
rows = {}
for case in cases:
    vals = []
    for r in range(1, runs + 1):
        try:
            vals.append(parse(case, os.path.join(out, f"{case}.run{r}")))
        except Exception as e:
            print(f"{case} run {r}: no figures ({e!r})", file=sys.stderr)
    if vals:
        rows[case] = {k: statistics.median(v[k] for v in vals) for k in vals[0]}
        rows[case]["lo"] = min(v["rps"] for v in vals)
        rows[case]["hi"] = max(v["rps"] for v in vals)
        rows[case]["runs"] = len(vals)
print("| case | req/s median (min-max) | client CPU µs/req | max RSS MiB | runs |")
print("|---|---|---|---|---|")
for c, v in rows.items():
    print(f"| {c} | {v['rps']:,.0f} ({v['lo']:,.0f}-{v['hi']:,.0f}) | {v['us']:.2f} | {v['rss']:.1f} | {v['runs']} of {runs} |")
print()
def judged(x, goal, at_most):
    if goal is None:
        return f"{x:.2f}"
    ok = x <= goal if at_most else x >= goal
    return f"{x:.2f} ({'≤' if at_most else '≥'} {goal}: {'met' if ok else 'NOT met'})"
print("| row | client CPU per request, ratio | requests/s, ratio |")
print("|---|---|---|")
for g, p, label, cpu_goal, rps_goal in pairs:
    if g in rows and p in rows:
        print(f"| {label} | {judged(rows[g]['us'] / rows[p]['us'], cpu_goal, True)} | "
              f"{judged(rows[g]['rps'] / rows[p]['rps'], rps_goal, False)} |")
    else:
        print(f"| {label} | no figures for {g if g not in rows else p} | |")
if "delay_wrk" in rows and "delay_gauntlet" in rows:
    w, g = rows["delay_wrk"]["p50"], rows["delay_gauntlet"]["p50"]
    d = g - w
    print()
    print(f"Measurement overhead on /delay/10 (HTTP/1.1, 10 connections, `gauntlet origin`): "
          f"gauntlet p50 {g:.3f} ms; wrk p50 {w:.3f} ms (10 ms, the origin's timer and the "
          f"loopback round trip); difference {d:+.3f} ms (goal ≤ 0.2 ms: {'met' if d <= 0.2 else 'NOT met'})")
PY

}
if [ -n "${PARSE_ONLY:-}" ]; then report "$PARSE_ONLY"; exit 0; fi

[ -x "$GAUNTLET" ] || cargo build --release --locked
NEED="wrk"
[ "$N122" = 1 ] && NEED="$NEED $NGINX h2load"
[ "$N126" = 1 ] && NEED="$NEED $NGINX126"
case "$SUITE" in all|h3) NEED="$NEED $OHA" ;; esac
for t in $NEED; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
PORTS=""
[ "$N122" = 1 ] && PORTS="$PORTS 18080 18443"
{ [ "$N126" = 1 ] || [ "$H3_ORIGIN" = 1 ]; } && PORTS="$PORTS 18444"
[ "$ORIGIN" = 1 ] && PORTS="$PORTS $ORIGIN_PORT"
for p in $PORTS; do
  if ss -ltnH "sport = :$p" | grep -q .; then echo "port $p in use; aborting" >&2; exit 1; fi
done

# One prefix per nginx: each keeps its own pid file, logs and temp folders.
for d in n122 n126; do
  mkdir -p "$PREFIX/$d"/{logs,html,temp}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PREFIX/$d/key.pem" \
    -out "$PREFIX/$d/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
  head -c 16384 /dev/urandom | base64 -w 76 | head -c 16384 > "$PREFIX/$d/html/16k.txt"
done
cp "$CONF_SRC" "$PREFIX/n122/nginx.conf"
cp "$CONF126_SRC" "$PREFIX/n126/nginx.conf"

PIDS=""
stop_servers() {
  [ -s "$PREFIX/n122/logs/nginx.pid" ] && "$NGINX" -s stop -c "$PREFIX/n122/nginx.conf" -p "$PREFIX/n122/" -e "$PREFIX/n122/logs/error.log" 2>/dev/null || true
  [ -s "$PREFIX/n126/logs/nginx.pid" ] && "$NGINX126" -s stop -c "$PREFIX/n126/nginx.conf" -p "$PREFIX/n126/" -e "$PREFIX/n126/logs/error.log" 2>/dev/null || true
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -f "$PREFIX"/n12?/logs/nginx.pid
}
trap stop_servers EXIT
[ "$N122" = 1 ] && taskset -c "$SERVER_CPU" "$NGINX" -c "$PREFIX/n122/nginx.conf" -p "$PREFIX/n122/" -e "$PREFIX/n122/logs/error.log"
[ "$N126" = 1 ] && taskset -c "$SERVER_CPU" "$NGINX126" -c "$PREFIX/n126/nginx.conf" -p "$PREFIX/n126/" -e "$PREFIX/n126/logs/error.log"
if [ "$H3_ORIGIN" = 1 ]; then
  TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" "$GAUNTLET" origin --https 127.0.0.1:18444 > "$PREFIX/origin-h3.json" &
  PIDS="$PIDS $!"
fi
if [ "$ORIGIN" = 1 ]; then
  TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" "$GAUNTLET" origin --http 127.0.0.1:$ORIGIN_PORT --no-h3 > "$PREFIX/origin.json" &
  PIDS="$PIDS $!"
fi
sleep 0.5

# A closed-model scenario: name, URL, protocol, requests in flight, connections, path.
scenario() {
  cat > "$PREFIX/$1.yaml" <<YAML
name: bench-$1
targets: { t: "$2" }
tls: { insecure: true }
protocols: [$3]
load: { model: closed, concurrency: $4, connections: $5, duration: ${DUR}s, threads: 1 }
requests: [ { get: "$6" } ]
YAML
}
scenario h1 http://127.0.0.1:18080 h1 50 50 /
scenario h2 https://127.0.0.1:18443 h2 100 10 /
scenario h2q https://127.0.0.1:18444 h2 100 10 /
scenario h3 https://127.0.0.1:18444 h3 100 10 /
scenario h3x50 https://127.0.0.1:18444 h3 50 50 /
scenario delay http://127.0.0.1:$ORIGIN_PORT h1 10 10 /delay/10

# case id | command; @OUT@ is replaced by a per-run folder
G="$GAUNTLET run"
GQ="--quiet --out @OUT@"
OHAJ="--no-tui --output-format json --insecure -z ${DUR}s"
H1H2="h1_wrk|wrk -t1 -c50 -d${DUR}s --latency http://127.0.0.1:18080/
h1_gauntlet|$G $PREFIX/h1.yaml $GQ
h2tls_h2load|h2load -c10 -m10 -t1 -D $DUR https://127.0.0.1:18443/
h2tls_gauntlet|$G $PREFIX/h2.yaml $GQ"
H3="h2_gauntlet|$G $PREFIX/h2q.yaml $GQ
h3_gauntlet|$G $PREFIX/h3.yaml $GQ
h3_oha|$OHA $OHAJ -c 10 -p 10 --http-version 3 https://127.0.0.1:18444/"
H3X50="h3x50_gauntlet|$G $PREFIX/h3x50.yaml $GQ
h3x50_oha|$OHA $OHAJ -c 50 -p 1 --http-version 3 https://127.0.0.1:18444/"
DELAY="delay_wrk|wrk -t1 -c10 -d${DUR}s --latency http://127.0.0.1:$ORIGIN_PORT/delay/10
delay_gauntlet|$G $PREFIX/delay.yaml $GQ"
case "$SUITE" in
  all) CASES="$H1H2
$H3
$H3X50
$DELAY" ;;
  h1h2) CASES="$H1H2" ;;
  delay) CASES="$DELAY" ;;
  h3) CASES="$H3
h2_oha|$OHA $OHAJ -c 10 -p 10 --http-version 2 https://127.0.0.1:18444/" ;;
  metrics)
    PROM_PORT=19463
    cat > "$PREFIX/prometheus.yml" <<YAML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: gauntlet
    static_configs: [ { targets: ["127.0.0.1:19464"] } ]
YAML
    taskset -c "$SERVER_CPU" /usr/bin/prometheus --config.file="$PREFIX/prometheus.yml" \
      --storage.tsdb.path="$PREFIX/prom" --web.listen-address=127.0.0.1:$PROM_PORT \
      --web.enable-remote-write-receiver > "$PREFIX/prometheus.log" 2>&1 &
    PIDS="$PIDS $!"
    sleep 2
    CASES="h1_wrk|wrk -t1 -c50 -d${DUR}s --latency http://127.0.0.1:18080/
h1_gauntlet|$G $PREFIX/h1.yaml $GQ
h1_gauntlet_metrics|$G $PREFIX/h1.yaml $GQ --metrics-addr 127.0.0.1:19464
h1_gauntlet_rw|$G $PREFIX/h1.yaml $GQ --remote-write http://127.0.0.1:$PROM_PORT/api/v1/write --remote-write-every 1s"
    ;;
esac

while IFS='|' read -r id cmd; do
  # oha over HTTP/3 waits out nginx's idle connections after its run.
  case "$id" in *_oha) limit=$((DUR + 50)) ;; *) limit=$((DUR + 30)) ;; esac
  for r in $(seq 1 "$RUNS"); do
    f="$OUT/$id.run$r"
    c=${cmd//@OUT@/$f.dir}
    # shellcheck disable=SC2086
    timeout -k 5 $limit taskset -c "$CLIENT_CPU" /usr/bin/time -v -o "$f.time" $c > "$f.out" 2> "$f.err" || echo "exit=$?" >> "$f.err"
    echo "[$(date +%T)] $id run $r" >&2
    sleep 1
  done
done <<< "$CASES"
stop_servers

report "$OUT"
echo "raw results in $OUT" >&2
