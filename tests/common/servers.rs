//! Real servers started by the tests on free loopback ports, each in front of the in-process
//! origin: Debian's nginx 1.22 (h1, h2), nginx 1.26 from trixie (h1, h2, h3), Caddy (h1, h2, h3)
//! and hypercorn with aioquic (h3, an implementation sharing no code with ours). Each adds a
//! header with the protocol it saw, so a test can assert what was really negotiated. All are
//! stopped when dropped. `ci/install.sh` installs them.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process and the folder it runs in.
pub struct Server {
    /// The process, when the test started it itself; else `stop` ends it.
    child: Option<Child>,
    /// A shell command that stops a server started in the background by a script.
    stop: Option<String>,
    pub dir: tempfile::TempDir,
    /// Cleartext HTTP/1.1 port, where the server has one.
    pub h1_port: u16,
    /// Cleartext HTTP/2 port (h2c, prior knowledge), where the server has one.
    pub h2c_port: u16,
    /// TLS port (TCP), and the same number on UDP for h3 where the server speaks it.
    pub tls_port: u16,
    /// The UDP port HTTP/3 is served on (`tls_port` but for `nginx_quic_elsewhere`).
    pub quic_port: u16,
    /// The CA that signed the server's certificate.
    pub ca: PathBuf,
    /// A shell command that reloads the server gracefully.
    pub reload: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            let _ = Command::new("bash").args(["-c", stop]).status();
        }
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // SIGTERM first: nginx's master then stops its workers. A SIGKILL would orphan them,
        // still holding their listening sockets.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A port free on both TCP and UDP.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn require(bin: &Path) {
    assert!(
        bin.exists(),
        "{} not found: run `bash ci/install.sh`",
        bin.display()
    );
}

/// Writes cert.pem, key.pem and ca.pem into `dir`.
fn write_certs(dir: &Path) {
    let certs = gauntlet::origin::certs::generate(&[]).unwrap();
    std::fs::write(dir.join("cert.pem"), &certs.cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), &certs.key_pem).unwrap();
    std::fs::write(dir.join("ca.pem"), &certs.ca_pem).unwrap();
    std::fs::write(dir.join("client.pem"), &certs.client_cert_pem).unwrap();
    std::fs::write(dir.join("client-key.pem"), &certs.client_key_pem).unwrap();
}

/// Starts `cmd`; `None` when the process exits before its port opens (a port taken between
/// [`free_port`] and the server's own bind), so the caller can try other ports.
fn start(
    mut cmd: Command,
    dir: tempfile::TempDir,
    h1_port: u16,
    tls_port: u16,
    log: &str,
) -> Option<Server> {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut s = Server {
        child: Some(child),
        stop: None,
        ca: dir.path().join("ca.pem"),
        dir,
        h1_port,
        h2c_port: 0,
        tls_port,
        quic_port: tls_port,
        reload: None,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
        if let Some(Ok(Some(status))) = s.child.as_mut().map(|c| c.try_wait()) {
            eprintln!(
                "server exited ({status}); trying other ports: {}",
                std::fs::read_to_string(s.dir.path().join(log)).unwrap_or_default()
            );
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {}",
            std::fs::read_to_string(s.dir.path().join(log)).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // UDP listeners come up with the TCP ones, but give QUIC a moment.
    std::thread::sleep(Duration::from_millis(200));
    Some(s)
}

/// Tries `make` (which picks fresh ports each time) up to three times.
fn with_retries(make: impl Fn() -> Option<Server>) -> Server {
    (0..3)
        .find_map(|_| make())
        .expect("the server did not start on three sets of ports")
}

/// nginx: Debian's 1.22 (`h3: false`) or trixie's 1.26 under .build (`h3: true`).
pub fn nginx(origin_http: SocketAddr, h3: bool) -> Server {
    with_retries(|| nginx_with(origin_http, h3, false, None, false))
}

/// nginx ending each client connection gracefully after `n` requests (`keepalive_requests`;
/// nginx's default is 1,000): `Connection: close` on HTTP/1.1, GOAWAY on HTTP/2 and HTTP/3.
pub fn nginx_keepalive_requests(origin_http: SocketAddr, h3: bool, n: u32) -> Server {
    with_retries(|| nginx_with(origin_http, h3, false, Some(n), false))
}

/// nginx 1.26 serving HTTP/3 on a UDP port other than its TLS port, advertised by Alt-Svc only.
pub fn nginx_quic_elsewhere(origin_http: SocketAddr) -> Server {
    with_retries(|| nginx_with(origin_http, true, true, None, false))
}

/// Debian's nginx 1.22 writing the `combined` access log to `access.log` in its folder.
pub fn nginx_access_log(origin_http: SocketAddr) -> Server {
    with_retries(|| nginx_with(origin_http, false, false, None, true))
}

fn nginx_with(
    origin_http: SocketAddr,
    h3: bool,
    quic_elsewhere: bool,
    keepalive_requests: Option<u32>,
    access_log: bool,
) -> Option<Server> {
    let bin = if h3 {
        repo().join(".build/nginx-trixie/usr/sbin/nginx")
    } else {
        PathBuf::from(std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into()))
    };
    require(&bin);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    write_certs(dir.path());
    let (h1_port, h2c_port, tls_port) = (free_port(), free_port(), free_port());
    // 1.22 takes `http2` per listen; 1.26's `http2 on` covers every listen of the server.
    let h2c_listen = if h3 {
        format!("listen 127.0.0.1:{h2c_port};")
    } else {
        format!("listen 127.0.0.1:{h2c_port} http2;")
    };
    let keepalive = keepalive_requests
        .map(|n| format!("keepalive_requests {n};"))
        .unwrap_or_default();
    let access_log = if access_log {
        format!("access_log {d}/access.log combined;")
    } else {
        "access_log off;".to_string()
    };
    let quic_port = if quic_elsewhere {
        free_port()
    } else {
        tls_port
    };
    let tls_listen = if h3 {
        format!("listen 127.0.0.1:{quic_port} quic reuseport;\n        listen 127.0.0.1:{tls_port} ssl;\n        http2 on; http3 on; http3_max_concurrent_streams 128; quic_retry off;\n        add_header alt-svc 'h3=\":{quic_port}\"; ma=86400' always;")
    } else {
        format!("listen 127.0.0.1:{tls_port} ssl http2;")
    };
    let conf = format!(
        r#"
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    {access_log}
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_timeout 5s;
    {keepalive}
    upstream origin {{ server {origin_http}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{h1_port};
        {h2c_listen}
        {tls_listen}
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        add_header x-client-protocol $server_protocol always;
        ssl_client_certificate {d}/ca.pem;
        ssl_verify_client optional;
        location /mtls/ {{
            if ($ssl_client_verify != SUCCESS) {{ return 403 "no client certificate\n"; }}
            return 200 "hello $ssl_client_s_dn\n";
        }}
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
        }}
    }}
}}
"#
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.args([
        "-p",
        &d,
        "-e",
        &format!("{d}/error.log"),
        "-c",
        &format!("{d}/nginx.conf"),
    ]);
    let mut server = start(cmd, dir, h1_port, tls_port, "error.log")?;
    server.quic_port = quic_port;
    server.h2c_port = h2c_port;
    server.reload = Some(format!(
        "{} -p {d} -e {d}/error.log -c {d}/nginx.conf -s reload",
        bin.display()
    ));
    Some(server)
}

/// Caddy 2 (Debian's), without systemd: h1, h2 and h3 on the TLS port, proxying to the origin.
pub fn caddy(origin_http: SocketAddr) -> Server {
    with_retries(|| caddy_once(origin_http))
}

fn caddy_once(origin_http: SocketAddr) -> Option<Server> {
    let bin = PathBuf::from("/usr/bin/caddy");
    require(&bin);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    write_certs(dir.path());
    let (tls_port, admin) = (free_port(), free_port());
    let conf = format!(
        r#"{{
	admin 127.0.0.1:{admin}
	auto_https disable_redirects
	storage file_system {d}/data
	servers {{
		protocols h1 h2 h3
	}}
}}
https://localhost:{tls_port} {{
	bind 127.0.0.1
	tls {d}/cert.pem {d}/key.pem
	header x-client-protocol {{http.request.proto}}
	reverse_proxy {origin_http}
}}
"#
    );
    std::fs::write(dir.path().join("Caddyfile"), conf).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.args([
        "run",
        "--config",
        &format!("{d}/Caddyfile"),
        "--adapter",
        "caddyfile",
    ])
    .env("XDG_DATA_HOME", &d)
    .env("XDG_CONFIG_HOME", &d)
    .env("HOME", &d);
    let mut server = start(cmd, dir, 0, tls_port, "caddy.log")?;
    server.reload = Some(format!(
        "/usr/bin/caddy reload --address 127.0.0.1:{admin} --config {d}/Caddyfile --adapter caddyfile --force"
    ));
    Some(server)
}

/// The ASGI app hypercorn serves: `/` (hello), `/echo` (the body back), `/status/{code}`; every
/// answer carries the HTTP version hypercorn saw.
const ASGI_APP: &str = r#"
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    path = scope["path"]
    status, out = 200, b"hello from hypercorn\n"
    if path == "/echo":
        out = body
    elif path.startswith("/status/"):
        status, out = int(path.split("/")[2]), b"status\n"
    elif path != "/":
        status, out = 404, b"not found\n"
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(out)).encode()),
               (b"x-client-protocol", ("HTTP/" + scope["http_version"]).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})
"#;

/// hypercorn with aioquic: HTTP/3 on UDP `tls_port` (and h1/h2 on the TCP port of the same number).
pub fn hypercorn() -> Server {
    with_retries(hypercorn_once)
}

fn hypercorn_once() -> Option<Server> {
    let bin = repo().join(".build/venv/bin/hypercorn");
    require(&bin);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    write_certs(dir.path());
    std::fs::write(dir.path().join("app.py"), ASGI_APP).unwrap();
    let tls_port = free_port();
    let mut cmd = Command::new(&bin);
    cmd.current_dir(dir.path()).args([
        "--bind",
        &format!("127.0.0.1:{tls_port}"),
        "--quic-bind",
        &format!("127.0.0.1:{tls_port}"),
        "--certfile",
        &format!("{d}/cert.pem"),
        "--keyfile",
        &format!("{d}/key.pem"),
        "--error-logfile",
        &format!("{d}/hypercorn.log"),
        "app:app",
    ]);
    start(cmd, dir, 0, tls_port, "hypercorn.log")
}

/// The four proxies of Debian 12 the stack runs besides nginx and Caddy, each started by
/// `ci/lib/proxies.sh` (the same config writers `ci/stack.sh` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebianProxy {
    /// HAProxy 2.6: HTTP/1.1 in cleartext, h2 and HTTP/1.1 over TLS.
    Haproxy,
    /// Apache httpd 2.4 with mod_proxy_http and mod_http2: HTTP/1.1 in cleartext, h2 over TLS.
    Apache,
    /// Varnish 7.1: HTTP/1.1 in cleartext only.
    Varnish,
    /// nghttpx 1.52: HTTP/1.1 and h2c in cleartext, h2 and HTTP/1.1 over TLS.
    Nghttpx,
}

impl DebianProxy {
    /// Every one, in table order.
    pub const ALL: [DebianProxy; 4] = [
        DebianProxy::Haproxy,
        DebianProxy::Apache,
        DebianProxy::Varnish,
        DebianProxy::Nghttpx,
    ];

    /// The name `ci/lib/proxies.sh` uses.
    pub fn name(self) -> &'static str {
        match self {
            DebianProxy::Haproxy => "haproxy",
            DebianProxy::Apache => "apache",
            DebianProxy::Varnish => "varnish",
            DebianProxy::Nghttpx => "nghttpx",
        }
    }

    /// Whether it has a TLS listener.
    pub fn tls(self) -> bool {
        self != DebianProxy::Varnish
    }
}

/// `kind` in front of `upstream` (every path goes there), on fresh loopback ports: `h1_port` in
/// cleartext, `tls_port` over TLS where it has one.
pub fn debian_proxy(kind: DebianProxy, upstream: SocketAddr) -> Server {
    with_retries(|| debian_proxy_once(kind, upstream))
}

fn debian_proxy_once(kind: DebianProxy, upstream: SocketAddr) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    write_certs(dir.path());
    let clear = free_port();
    let tls = if kind.tls() { free_port() } else { 0 };
    let tls_addr = if kind.tls() {
        format!("127.0.0.1:{tls}")
    } else {
        String::new()
    };
    let lib = repo().join("ci/lib/proxies.sh");
    let k = kind.name();
    let script = format!(
        "set -e; source '{}'; {k}_conf '{d}' '{upstream}' '' '127.0.0.1:{clear}' '{tls_addr}' '{d}/cert.pem' '{d}/key.pem'; {k}_start '{d}'",
        lib.display()
    );
    let ok = Command::new("bash")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let stop = format!("source '{}'; {k}_stop '{d}'", lib.display());
    let s = Server {
        child: None,
        stop: Some(stop),
        ca: dir.path().join("ca.pem"),
        dir,
        h1_port: clear,
        h2c_port: if kind == DebianProxy::Nghttpx {
            clear
        } else {
            0
        },
        tls_port: tls,
        quic_port: 0,
        reload: Some(format!(
            "bash -c \"source '{}'; {k}_reload '{d}'\"",
            lib.display()
        )),
    };
    if !ok {
        eprintln!("{k} did not start");
        return None;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let ports = [clear, tls];
    for port in ports.into_iter().filter(|p| *p != 0) {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                eprintln!("{k} did not open port {port}");
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Some(s)
}
