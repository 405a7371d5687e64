# Shared by the scripts that run their own nginx on loopback (ci/stack.sh, ci/h2-crosscheck.sh,
# benches/*.sh): one worker, its pid, logs and temp paths in its own folder, never systemd.
# Source it, then:
#   nginx_conf DIR 'HTTP-LEVEL LINES' 'SERVER BLOCK BODY'   # writes DIR/nginx.conf
#   nginx_start BINARY DIR                                  # starts it (daemonises; DIR/nginx.pid)
#   nginx_stop DIR                                          # SIGTERM to its master

nginx_conf() {
  mkdir -p "$1"
  cat > "$1/nginx.conf" <<CONF
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
    $2
    server {
        $3
    }
}
CONF
}

nginx_start() {
  "$1" -p "$2" -e "$2/error.log" -c "$2/nginx.conf"
}

nginx_stop() {
  [ -s "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true
}
