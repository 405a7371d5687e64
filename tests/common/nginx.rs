//! A real Debian nginx started by a test as a reverse proxy in front of the in-process origin,
//! on free loopback ports, with a certificate from a throwaway CA. Stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Nginx {
    child: Child,
    pub dir: tempfile::TempDir,
    /// Cleartext HTTP/1.1 port.
    pub h1_port: u16,
    /// TLS port: HTTP/1.1 and h2 by ALPN.
    pub tls_port: u16,
    /// The CA that signed nginx's certificate.
    pub ca: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The nginx binary: `$NGINX`, else Debian's.
pub fn binary() -> String {
    std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into())
}

impl Nginx {
    /// Starts nginx proxying to `origin_http` (host:port of the origin's cleartext listener).
    pub fn start(origin_http: std::net::SocketAddr) -> Nginx {
        let bin = binary();
        assert!(
            std::path::Path::new(&bin).exists(),
            "nginx not found at {bin}: run `bash ci/install.sh` (Debian's nginx-light)"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let certs = gauntlet::origin::certs::generate(&[]).unwrap();
        std::fs::write(p.join("cert.pem"), &certs.cert_pem).unwrap();
        std::fs::write(p.join("key.pem"), &certs.key_pem).unwrap();
        std::fs::write(p.join("ca.pem"), &certs.ca_pem).unwrap();
        let (h1_port, tls_port) = (free_port(), free_port());
        let conf = format!(
            r#"
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream origin {{ server {origin_http}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{h1_port};
        listen 127.0.0.1:{tls_port} ssl http2;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        add_header x-client-protocol $server_protocol always;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
        }}
    }}
}}
"#,
            d = p.display()
        );
        std::fs::write(p.join("nginx.conf"), conf).unwrap();
        let child = Command::new(&bin)
            .args([
                "-p",
                &p.display().to_string(),
                "-c",
                &p.join("nginx.conf").display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let n = Nginx {
            child,
            ca: p.join("ca.pem"),
            dir,
            h1_port,
            tls_port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", h1_port)).is_err()
        {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(n.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
