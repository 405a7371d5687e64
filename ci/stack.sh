#!/usr/bin/env bash
# The real stack on loopback, for scenarios/migration.yaml and for trying gauntlet by hand:
#   the embedded origin   http://127.0.0.1:19080 (h1, h2c), https://127.0.0.1:19443 (h1, h2, h3)
#   nginx 1.22 (legacy)   http://127.0.0.1:19081 (h1), h2c://127.0.0.1:19082, https://127.0.0.1:19444 (h1, h2)
#   nginx 1.26 (legacy)   https://127.0.0.1:19445 (h1, h2, and h3 on UDP 19445)
#   Caddy (candidate)     https://127.0.0.1:19446 (h1, h2, and h3 on UDP 19446)
#   HAProxy 2.6           http://127.0.0.1:19083 (h1), https://127.0.0.1:19448 (h1, h2)
#   Apache httpd 2.4      http://127.0.0.1:19084 (h1), https://127.0.0.1:19449 (h1, h2)
#   Varnish 7.1           http://127.0.0.1:19085 (h1; its CLI for varnishadm on 127.0.0.1:19087)
#   nghttpx 1.52          http://127.0.0.1:19086 (h1, h2c), https://127.0.0.1:19450 (h1, h2)
# every proxy in front of the same origin, every certificate from one throwaway CA
# (.build/stack/ca.pem, for localhost and 127.0.0.1). `bash ci/install.sh` installs the servers.
# Paths under /probe/ and /smuggled/ go to 127.0.0.1:19090 instead: the recording origin that
# `gauntlet conformance --origin 127.0.0.1:19090` (or a scenario's `conformance.origin`) serves
# while it probes (Varnish never caches them). Caddy's admin API listens on 127.0.0.1:19447, for
# graceful reloads. HAProxy, Apache, Varnish and nghttpx are configured by ci/lib/proxies.sh.
#
# Usage: bash ci/stack.sh up | down | status
#        bash ci/stack.sh reload nginx-1.22|nginx-1.26|caddy|haproxy|apache|varnish|nghttpx
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
S=$ROOT/.build/stack
GAUNTLET=${GAUNTLET:-$ROOT/target/release/gauntlet}
NGINX_LEGACY=${NGINX_LEGACY:-/usr/sbin/nginx}
NGINX_H3=${NGINX_H3:-$ROOT/.build/nginx-trixie/usr/sbin/nginx}

# Every TCP port of the stack, as a pattern for ss.
PORTS=':(19080|19443|19081|19082|19444|19445|19446|19447|19083|19448|19084|19449|19085|19087|19086|19450) '
PROXIES="haproxy apache varnish nghttpx"

wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

# shellcheck source=lib/nginx.sh
. "$ROOT/ci/lib/nginx.sh"
# shellcheck source=lib/proxies.sh
. "$ROOT/ci/lib/proxies.sh"
stack_nginx() { # $1 = name, $2 = listen lines
  local proxy='proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_buffering off;'
  nginx_conf "$S/$1" \
    "keepalive_timeout 5s;
    upstream origin { server 127.0.0.1:19080; keepalive 32; }
    upstream recording { server 127.0.0.1:19090; keepalive 32; }" \
    "$2
        ssl_certificate $S/cert.pem;
        ssl_certificate_key $S/key.pem;
        location / { proxy_pass http://origin; $proxy }
        location ~ ^/(probe|smuggled)/ { proxy_pass http://recording; $proxy }"
}

up() {
  [ -x "$GAUNTLET" ] || cargo build --release --locked
  for b in "$HAPROXY" "$APACHE" "$VARNISHD" "$NGHTTPX"; do
    [ -x "$b" ] || { echo "$b is missing: bash ci/install.sh installs it" >&2; exit 1; }
  done
  if ss -ltnH | grep -Eq "$PORTS"; then
    echo "a stack port is already in use (bash ci/stack.sh status); not starting" >&2
    exit 1
  fi
  mkdir -p "$S"
  "$GAUNTLET" certs --out "$S" > /dev/null
  "$GAUNTLET" origin --http 127.0.0.1:19080 --https 127.0.0.1:19443 --cert "$S/cert.pem" --key "$S/key.pem" > "$S/origin.json" 2> "$S/origin.log" &
  echo $! > "$S/origin.pid"
  wait_port 19080
  stack_nginx nginx-1.22 "listen 127.0.0.1:19081; listen 127.0.0.1:19082 http2; listen 127.0.0.1:19444 ssl http2;"
  nginx_start "$NGINX_LEGACY" "$S/nginx-1.22"
  stack_nginx nginx-1.26 "listen 127.0.0.1:19445 quic reuseport; listen 127.0.0.1:19445 ssl; http2 on; http3 on; quic_retry off; add_header alt-svc 'h3=\":19445\"; ma=86400' always;"
  nginx_start "$NGINX_H3" "$S/nginx-1.26"
  mkdir -p "$S/caddy"
  cat > "$S/caddy/Caddyfile" <<CADDY
{
	admin 127.0.0.1:19447
	auto_https disable_redirects
	storage file_system $S/caddy/data
	servers {
		protocols h1 h2 h3
	}
}
https://localhost:19446 {
	bind 127.0.0.1
	tls $S/cert.pem $S/key.pem
	@probe path /probe/* /smuggled/*
	handle @probe {
		reverse_proxy 127.0.0.1:19090
	}
	handle {
		reverse_proxy 127.0.0.1:19080
	}
}
CADDY
  XDG_DATA_HOME="$S/caddy" XDG_CONFIG_HOME="$S/caddy" HOME="$S/caddy" caddy run --config "$S/caddy/Caddyfile" --adapter caddyfile > "$S/caddy/caddy.log" 2>&1 &
  echo $! > "$S/caddy.pid"
  local o=127.0.0.1:19080 r=127.0.0.1:19090 c=$S/cert.pem k=$S/key.pem
  haproxy_conf "$S/haproxy" $o $r 127.0.0.1:19083 127.0.0.1:19448 "$c" "$k"
  apache_conf "$S/apache" $o $r 127.0.0.1:19084 127.0.0.1:19449 "$c" "$k"
  VARNISH_ADMIN=127.0.0.1:19087 varnish_conf "$S/varnish" $o $r 127.0.0.1:19085 "" "" ""
  nghttpx_conf "$S/nghttpx" $o $r 127.0.0.1:19086 127.0.0.1:19450 "$c" "$k"
  for p in $PROXIES; do "${p}_start" "$S/$p"; done
  for p in 19444 19445 19446 19083 19448 19084 19449 19085 19087 19086 19450; do wait_port $p; done
  sleep 0.3
  echo "stack up: origin :19080/:19443, nginx 1.22 :19081/:19444, nginx 1.26 :19445, Caddy :19446," \
    "HAProxy :19083/:19448, Apache :19084/:19449, Varnish :19085, nghttpx :19086/:19450 (CA $S/ca.pem)"
}

down() {
  for n in nginx-1.22 nginx-1.26; do
    nginx_stop "$S/$n"
  done
  "$NGINX_LEGACY" -h >/dev/null 2>&1 || true
  for p in $PROXIES; do # each takes a second or two to end its workers: side by side
    "${p}_stop" "$S/$p" &
  done
  wait
  for p in caddy origin; do
    [ -s "$S/$p.pid" ] && kill "$(cat "$S/$p.pid")" 2>/dev/null || true
    rm -f "$S/$p.pid"
  done
  for _ in $(seq 50); do
    ss -ltnH | grep -Eq "$PORTS" || break
    sleep 0.1
  done
  echo "stack down"
}

reload() {
  case "${1:-}" in
    nginx-1.22) "$NGINX_LEGACY" -p "$S/nginx-1.22" -e "$S/nginx-1.22/error.log" -c "$S/nginx-1.22/nginx.conf" -s reload ;;
    nginx-1.26) "$NGINX_H3" -p "$S/nginx-1.26" -e "$S/nginx-1.26/error.log" -c "$S/nginx-1.26/nginx.conf" -s reload ;;
    caddy) caddy reload --address 127.0.0.1:19447 --config "$S/caddy/Caddyfile" --adapter caddyfile --force > /dev/null 2>&1 ;;
    haproxy | apache | varnish | nghttpx) "${1}_reload" "$S/$1" ;;
    *) echo "usage: $0 reload nginx-1.22|nginx-1.26|caddy|haproxy|apache|varnish|nghttpx" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  up) up ;;
  reload) reload "${2:-}" ;;
  down) down ;;
  status) ss -ltnup | grep -E "$PORTS" || echo "nothing listening" ;;
  *) echo "usage: $0 up|down|status|reload NAME" >&2; exit 2 ;;
esac
