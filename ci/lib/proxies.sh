# shellcheck shell=bash
# Shared by the scripts that run HAProxy, Apache httpd, Varnish or nghttpx on loopback
# (ci/stack.sh; tests and benches may reuse it), as ci/lib/nginx.sh does for nginx: each server is
# a plain process of the caller's, with its config, pid file and logs in its own folder; never a
# Debian service. Source it, then for KIND in haproxy, apache, varnish, nghttpx:
#   KIND_conf DIR ORIGIN RECORDING CLEAR TLS CERT KEY [EXTRA]   # writes its config under DIR
#   KIND_start DIR                                               # starts it in the background
#   KIND_reload DIR                                              # graceful reload of DIR's config
#   KIND_stop DIR                                                # ends it (by its pid file)
# ORIGIN and RECORDING are HOST:PORT, reached over HTTP/1.1: every request goes to ORIGIN except
# paths under /probe/ and /smuggled/, which go to RECORDING (none do when RECORDING is empty).
# CLEAR is the HOST:PORT of a cleartext listener, TLS that of one offering h2 and http/1.1 by ALPN
# with CERT and KEY (PEM files); either may be empty. EXTRA is raw config in the server's own
# syntax, appended where listeners' settings go (HAProxy: the frontend; Apache: server level;
# Varnish: the end of the VCL; nghttpx: the end of its config). What each server does with a
# request is its own default otherwise: that is what the tests look at. In detail:
# - HAProxy runs in master-worker mode (-W), reloaded by SIGUSR2 to the master; the cleartext
#   listener speaks HTTP/1.1 only.
# - Apache (mpm_event, mod_proxy_http, mod_ssl, mod_http2) from a self-contained httpd.conf, not
#   Debian's /etc/apache2; children run as nobody when started as root; SIGUSR1 is its graceful
#   restart. Cleartext is HTTP/1.1 only (Protocols http/1.1), TLS offers h2. The Host header is
#   passed on (ProxyPreserveHost), as the nginx and Caddy of the stack do.
# - Varnish has no TLS (TLS must be empty; CERT and KEY are ignored). Its CLI (varnishadm -n
#   DIR/work) listens on VARNISH_ADMIN (HOST:PORT; default 127.0.0.1 on an ephemeral port); a
#   reload loads the VCL again and uses it. /probe/ and /smuggled/ are passed (never cached); the
#   rest follows the builtin VCL. No jail (-j none): it runs as the caller, root or not.
# - nghttpx: the cleartext frontend (no-tls) takes HTTP/1.1 and h2c (prior knowledge or Upgrade);
#   SIGHUP reloads its config. No OCSP stapling (no-ocsp): the throwaway certificate has no
#   responder, and nghttpx would run its fetch script for one at every start.
# The binaries can be overridden with HAPROXY, APACHE, VARNISHD, VARNISHADM and NGHTTPX.

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
APACHE=${APACHE:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
VARNISHD=${VARNISHD:-/usr/sbin/varnishd}
VARNISHADM=${VARNISHADM:-/usr/bin/varnishadm}
NGHTTPX=${NGHTTPX:-/usr/sbin/nghttpx}

# Sends a signal to the process in pid file $2 ($1: signal), if it is alive.
proxy_signal() {
  local pid
  [ -s "$2" ] || return 0
  pid=$(cat "$2")
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$1" "$pid"
}

# Ends the process in pid file $1 and waits up to 5 s for it to exit.
proxy_stop_pid() {
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$1"
}

# --- HAProxy ---------------------------------------------------------------------------------

haproxy_conf() {
  local dir=$1 origin=$2 recording=$3 clear=$4 tls=$5 cert=$6 key=$7 extra=${8:-}
  mkdir -p "$dir"
  {
    echo "global"
    echo "    maxconn 4096"
    echo "defaults"
    echo "    mode http"
    echo "    timeout connect 5s"
    echo "    timeout client 30s"
    echo "    timeout server 30s"
    echo "frontend stack"
    [ -z "$clear" ] || echo "    bind $clear"
    if [ -n "$tls" ]; then
      # HAProxy wants the certificate and its key in one file.
      cat "$cert" "$key" > "$dir/crt.pem"
      echo "    bind $tls ssl crt $dir/crt.pem alpn h2,http/1.1"
    fi
    [ -z "$recording" ] || echo "    use_backend recording if { path_beg /probe/ /smuggled/ }"
    echo "    default_backend origin"
    [ -z "$extra" ] || printf '    %s\n' "$extra"
    echo "backend origin"
    echo "    server origin $origin"
    if [ -n "$recording" ]; then
      echo "backend recording"
      echo "    server recording $recording"
    fi
  } > "$dir/haproxy.cfg"
}

haproxy_start() {
  "$HAPROXY" -W -f "$1/haproxy.cfg" -p "$1/haproxy.pid" > "$1/haproxy.log" 2>&1 &
  echo $! > "$1/haproxy.pid"
}

haproxy_reload() {
  "$HAPROXY" -c -q -f "$1/haproxy.cfg" && proxy_signal USR2 "$1/haproxy.pid"
}

haproxy_stop() { proxy_stop_pid "$1/haproxy.pid"; }

# --- Apache httpd ----------------------------------------------------------------------------

apache_conf() {
  local dir=$1 origin=$2 recording=$3 clear=$4 tls=$5 cert=$6 key=$7 extra=${8:-} m
  mkdir -p "$dir"
  {
    echo "ServerRoot $dir"
    echo "ServerName localhost"
    echo "PidFile $dir/httpd.pid"
    echo "ErrorLog $dir/error.log"
    echo "LogLevel warn"
    echo "DefaultRuntimeDir $dir"
    echo "Mutex file:$dir default"
    echo "ScoreBoardFile $dir/scoreboard"
    for m in mpm_event authz_core proxy proxy_http ssl socache_shmcb http2; do
      echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
    done
    # Apache refuses to serve as root: its children switch to an unprivileged user.
    echo "User nobody"
    echo "Group nogroup"
    echo "Protocols http/1.1"
    echo "ProxyPreserveHost On"
    if [ -n "$recording" ]; then
      echo "ProxyPass /probe/ http://$recording/probe/"
      echo "ProxyPass /smuggled/ http://$recording/smuggled/"
    fi
    echo "ProxyPass / http://$origin/"
    [ -z "$extra" ] || echo "$extra"
    [ -z "$clear" ] || echo "Listen $clear"
    if [ -n "$tls" ]; then
      echo "Listen $tls"
      echo "SSLSessionCache shmcb:$dir/ssl_scache(512000)"
      echo "<VirtualHost $tls>"
      echo "    Protocols h2 http/1.1"
      echo "    SSLEngine on"
      echo "    SSLCertificateFile $cert"
      echo "    SSLCertificateKeyFile $key"
      echo "</VirtualHost>"
    fi
  } > "$dir/httpd.conf"
}

# Apache writes its pid file itself, and warns of an unclean shutdown if it finds one: wait for
# it (it comes before the listeners open), and write it only for a server still silent after 10 s.
apache_start() {
  local pid
  rm -f "$1/httpd.pid"
  "$APACHE" -d "$1" -f "$1/httpd.conf" -DFOREGROUND > "$1/httpd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$1/httpd.pid" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$pid" > "$1/httpd.pid"
  else
    echo "apache did not start:" >&2
    tail -n 5 "$1/httpd.log" "$1/error.log" >&2 2>/dev/null
    return 1
  fi
}

apache_reload() {
  # A graceful restart with a broken config would end the server: test it first.
  "$APACHE" -d "$1" -f "$1/httpd.conf" -t > "$1/configtest.log" 2>&1 || { cat "$1/configtest.log" >&2; return 1; }
  proxy_signal USR1 "$1/httpd.pid"
}

apache_stop() { proxy_stop_pid "$1/httpd.pid"; }

# --- Varnish ---------------------------------------------------------------------------------

# Varnish's listen and CLI addresses are command-line options: varnish_conf keeps them in
# DIR/listen and DIR/admin for varnish_start.
varnish_conf() {
  local dir=$1 origin=$2 recording=$3 clear=$4 tls=$5 extra=${8:-}
  if [ -n "$tls" ]; then
    echo "varnish_conf: Varnish has no TLS listener" >&2
    return 1
  fi
  mkdir -p "$dir"
  echo "$clear" > "$dir/listen"
  echo "${VARNISH_ADMIN:-127.0.0.1:0}" > "$dir/admin"
  {
    echo "vcl 4.1;"
    echo "backend origin { .host = \"${origin%:*}\"; .port = \"${origin##*:}\"; }"
    if [ -n "$recording" ]; then
      echo "backend recording { .host = \"${recording%:*}\"; .port = \"${recording##*:}\"; }"
    fi
    echo "sub vcl_recv {"
    echo "    set req.backend_hint = origin;"
    if [ -n "$recording" ]; then
      # An absolute-form target (GET http://host/probe/x) keeps its scheme and host in req.url.
      echo "    if (req.url ~ \"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)?/(probe|smuggled)/\") {"
      echo "        set req.backend_hint = recording;"
      echo "        return (pass);"
      echo "    }"
    fi
    echo "}"
    [ -z "$extra" ] || echo "$extra"
  } > "$dir/default.vcl"
}

# varnishd and varnishadm take a relative -n as a name under /var/lib/varnish.
varnish_start() {
  local d
  d=$(cd "$1" && pwd)
  "$VARNISHD" -F -j none -n "$d/work" -a "$(cat "$d/listen")" -T "$(cat "$d/admin")" \
    -f "$d/default.vcl" -P "$d/varnishd.pid" -s malloc,64m > "$d/varnishd.log" 2>&1 &
  echo $! > "$d/varnishd.pid"
}

# Loads DIR/default.vcl under a new name, uses it and discards the VCLs no longer in use.
varnish_reload() {
  local d name old
  d=$(cd "$1" && pwd)
  name=reload_$(date +%s%N)
  "$VARNISHADM" -n "$d/work" vcl.load "$name" "$d/default.vcl" > /dev/null || return 1
  "$VARNISHADM" -n "$d/work" vcl.use "$name" > /dev/null || return 1
  for old in $("$VARNISHADM" -n "$d/work" vcl.list | awk '$1 == "available" { print $NF }'); do
    "$VARNISHADM" -n "$d/work" vcl.discard "$old" > /dev/null || true
  done
}

varnish_stop() { proxy_stop_pid "$1/varnishd.pid"; }

# --- nghttpx ---------------------------------------------------------------------------------

nghttpx_conf() {
  local dir=$1 origin=$2 recording=$3 clear=$4 tls=$5 cert=$6 key=$7 extra=${8:-}
  mkdir -p "$dir"
  {
    echo "workers=1"
    echo "pid-file=$dir/nghttpx.pid"
    echo "errorlog-file=$dir/error.log"
    echo "no-ocsp=yes"
    [ -z "$clear" ] || echo "frontend=${clear%:*},${clear##*:};no-tls"
    if [ -n "$tls" ]; then
      echo "frontend=${tls%:*},${tls##*:}"
      echo "private-key-file=$key"
      echo "certificate-file=$cert"
    fi
    echo "backend=${origin%:*},${origin##*:};;proto=http/1.1"
    [ -z "$recording" ] || echo "backend=${recording%:*},${recording##*:};/probe/:/smuggled/;proto=http/1.1"
    [ -z "$extra" ] || echo "$extra"
  } > "$dir/nghttpx.conf"
}

nghttpx_start() {
  "$NGHTTPX" --conf="$1/nghttpx.conf" > "$1/nghttpx.log" 2>&1 &
  echo $! > "$1/nghttpx.pid"
}

nghttpx_reload() { proxy_signal HUP "$1/nghttpx.pid"; }

nghttpx_stop() { proxy_stop_pid "$1/nghttpx.pid"; }
