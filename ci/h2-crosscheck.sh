#!/usr/bin/env bash
# Cross-checks gauntlet's HTTP/2 probes against httpwg (httpwg-cli, an independent h2spec
# successor) on the same server: Debian's nginx 1.22 and trixie's nginx 1.26, each serving h2c
# (prior knowledge) on loopback in front of `gauntlet origin`. For every probe with a matching
# httpwg test it prints both verdicts side by side; each httpwg test runs on its own (a full
# httpwg run is not deterministic here). Not part of `ci/test.sh`: installing httpwg compiles for
# about three minutes. Usage: bash ci/h2-crosscheck.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=$ROOT/.build/h2-crosscheck
HTTPWG=$ROOT/.build/httpwg/bin/httpwg
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
[ -x "$GAUNTLET" ] || cargo build --release --locked
[ -x "$HTTPWG" ] || cargo install httpwg-cli --version 0.2.5 --locked --root "$ROOT/.build/httpwg"
rm -rf "$W" && mkdir -p "$W"

"$GAUNTLET" origin --http 127.0.0.1:19280 --https 127.0.0.1:19643 --no-h3 > "$W/origin.json" 2> "$W/origin.log" &
ORIGIN=$!
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$(cat "$p")" 2>/dev/null || true; done
  kill "$ORIGIN" 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck source=lib/nginx.sh
. "$ROOT/ci/lib/nginx.sh"
start_nginx() { # $1 name, $2 binary, $3 port, $4 listen directive
  local d="$W/$1"
  nginx_conf "$d" "" "$4
        location / { proxy_pass http://127.0.0.1:19280; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
  nginx_start "$2" "$d"
  PIDS+=("$d/nginx.pid")
  for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/"$3") 2>/dev/null && return 0; sleep 0.1; done
  echo "nginx $1 did not start" >&2; exit 1
}
start_nginx nginx-1.22 /usr/sbin/nginx 19282 "listen 127.0.0.1:19282 http2;"
start_nginx nginx-1.26 "$ROOT/.build/nginx-trixie/usr/sbin/nginx" 19283 "listen 127.0.0.1:19283; http2 on;"

# gauntlet probe id = httpwg test name (the nearest one where they differ in detail)
MAP=$(cat <<'M'
h2.preface.bad=sends invalid connection preface
h2.headers.uppercase=sends headers frame with uppercase field name
h2.headers.connection=sends headers frame with connection header
h2.headers.transfer-encoding=sends headers frame with transfer encoding header
h2.headers.te-trailers=sends headers frame with te trailers
h2.headers.te-gzip=sends headers frame with te not trailers
h2.pseudo.missing-path=sends headers frame without path
h2.pseudo.after-regular=sends headers frame with pseudo headers after regular headers
h2.pseudo.unknown=sends headers frame with response pseudo header
h2.pseudo.duplicate-path=sends headers frame with duplicate pseudo headers
h2.value.crlf=sends headers frame with lf in field value
h2.value.nul=sends headers frame with nul in field value
h2.value.leading-space=sends headers frame with leading space in field value
h2.content-length.longer-body=sends headers frame with incorrect content length multiple data frames
h2.content-length.shorter-body=sends headers frame with incorrect content length single data frame
h2.authority.host-mismatch=sends headers frame with mismatched host authority
h2.frame.ping-length=sends ping frame with invalid length
h2.stream.even-id=sends even numbered stream identifier
h2.stream.decreasing-id=sends smaller stream identifier
h2.stream.data-on-idle=idle sends data frame
h2.stream.data-after-end=half closed remote sends data frame
h2.continuation.interleaved=sends continuation frame followed by non continuation frame
h2.settings.enable-push=sends settings enable push with invalid value
h2.settings.initial-window=sends settings initial window size with exceeded max window size value
h2.settings.max-frame-size=sends settings max frame size with invalid value below initial
h2.settings.length=sends settings frame with invalid length
h2.window-update.zero=sends window update frame with zero increment
h2.window-update.overflow=sends multiple window update frames increasing flow control window above max
h2.streams.over-limit=exceeds concurrent stream limit
h2.hpack.bad-index=invalid header block fragment
h2.frame.unknown-type=sends frame with unknown type
h2.ping.echo=sends ping frame
M
)

for name in nginx-1.22 nginx-1.26; do
  port=19282; [ "$name" = nginx-1.26 ] && port=19283
  "$GAUNTLET" conformance --target "$name=http://127.0.0.1:$port" --suite h2 --out "$W/$name-gauntlet" > /dev/null 2>&1 || true
  echo "== $name (h2c :$port)"
  printf '%-32s %-26s %-8s %s\n' "gauntlet probe" "gauntlet" "httpwg" "httpwg test"
  agree=0; differ=0
  while IFS='=' read -r id test; do
    ours=$(python3 -c "import json,sys; r=json.load(open('$W/$name-gauntlet/results.json'))['conformance']['paths'][0]['probes']; p=[x for x in r if x['id']=='$id'][0]; print(p['verdict']+' '+p['observed'])")
    # -f matches substrings: pick the line of exactly this test.
    # httpwg exits non-zero when its test fails: that is an answer, not an error here.
    theirs=$({ "$HTTPWG" -a "127.0.0.1:$port" -f "$test" 2>&1 || true; } | sed 's/\x1b\[[0-9;]*m//g' | python3 -c "
import sys
found = 'missing'
for line in sys.stdin:
    line = line.rstrip()
    if found == 'missing' and line.endswith(':: ' + sys.argv[1]) and 'Test ' in line:
        found = 'pass' if 'Test passed' in line else 'fail'
print(found)" "$test")
    v=${ours%% *}
    if { [ "$v" = pass ] && [ "$theirs" = pass ]; } || { [ "$v" != pass ] && [ "$theirs" = fail ]; }; then agree=$((agree+1)); mark=""; else differ=$((differ+1)); mark="  <- differs"; fi
    printf '%-32s %-26s %-8s %s%s\n' "$id" "$ours" "$theirs" "$test" "$mark"
  done <<< "$MAP"
  echo "agree $agree, differ $differ (gauntlet variant/fail vs httpwg fail count as agreeing)"
done
