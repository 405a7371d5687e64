//! A deliberately non-conforming HTTP/1.1 reverse proxy, to prove the probes can fail: it frames
//! requests by the first Content-Length it can parse (ignoring Transfer-Encoding), forwards heads
//! verbatim with whatever body bytes are at hand, opens a new upstream connection per request,
//! tunnels as soon as a request asks for an Upgrade, relays responses verbatim (hop-by-hop
//! fields, bad lengths and all), and on "reload" drops every connection.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct NaiveProxy {
    pub addr: SocketAddr,
    /// Connecting here "reloads" the proxy: every open connection is cut.
    pub reload_addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn head_end(buf: &[u8]) -> Option<usize> {
    match (find(buf, b"\r\n\r\n"), find(buf, b"\n\n")) {
        (Some(a), Some(b)) => Some((a + 4).min(b + 2)),
        (Some(a), None) => Some(a + 4),
        (None, Some(b)) => Some(b + 2),
        _ => None,
    }
}

fn field(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Reads more into `buf`; false on EOF, error or timeout.
fn more(s: &mut TcpStream, buf: &mut Vec<u8>, wait: Duration) -> bool {
    let _ = s.set_read_timeout(Some(wait));
    let mut chunk = [0u8; 16384];
    match s.read(&mut chunk) {
        Ok(n) if n > 0 => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}

/// One response from upstream, as bytes, framed naively.
fn response(up: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    while head_end(&buf).is_none() {
        if !more(up, &mut buf, Duration::from_secs(2)) {
            return buf;
        }
    }
    let end = head_end(&buf).unwrap();
    let head = buf[..end].to_vec();
    if let Some(n) = field(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        while buf.len() < end + n && more(up, &mut buf, Duration::from_millis(500)) {}
    } else if field(&head, "transfer-encoding").is_some() {
        while find(&buf[end..], b"0\r\n").is_none()
            && more(up, &mut buf, Duration::from_millis(500))
        {}
        while !buf.ends_with(b"\r\n\r\n") && more(up, &mut buf, Duration::from_millis(200)) {}
    } else {
        while more(up, &mut buf, Duration::from_millis(300)) {}
    }
    buf
}

fn tunnel(client: TcpStream, upstream: SocketAddr, first: &[u8]) {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = up.write_all(first);
    let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
    let mut c = client;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut u2, &mut c2);
    });
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = std::io::copy(&mut c, &mut up);
}

fn serve(mut client: TcpStream, upstream: SocketAddr) {
    let mut buf = Vec::new();
    loop {
        while head_end(&buf).is_none() {
            if !more(&mut client, &mut buf, Duration::from_secs(10)) {
                return;
            }
        }
        let end = head_end(&buf).unwrap();
        let head = buf[..end].to_vec();
        if field(&head, "upgrade").is_some() {
            return tunnel(client, upstream, &buf);
        }
        let cl = field(&head, "content-length")
            .and_then(|v| v.trim_start_matches('+').parse::<usize>().ok());
        let take = match cl {
            Some(n) => {
                while buf.len() < end + n && more(&mut client, &mut buf, Duration::from_millis(100))
                {
                }
                n.min(buf.len() - end)
            }
            None if field(&head, "transfer-encoding").is_some() => {
                while more(&mut client, &mut buf, Duration::from_millis(100)) {}
                buf.len() - end
            }
            None => 0,
        };
        let request: Vec<u8> = buf.drain(..end + take).collect();
        let Ok(mut up) = TcpStream::connect(upstream) else {
            return;
        };
        let _ = up.write_all(&request);
        let resp = response(&mut up);
        if !resp.is_empty() && client.write_all(&resp).is_err() {
            return;
        }
    }
}

impl NaiveProxy {
    pub fn start(upstream: SocketAddr) -> NaiveProxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let reload = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let reload_addr = reload.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (s2, o2) = (stop.clone(), open.clone());
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                if s2.load(Ordering::Relaxed) {
                    return;
                }
                let _ = c.set_nodelay(true);
                if let Ok(k) = c.try_clone() {
                    o2.lock().unwrap().push(k);
                }
                std::thread::spawn(move || serve(c, upstream));
            }
        });
        let s3 = stop.clone();
        std::thread::spawn(move || {
            for _ in reload.incoming().flatten() {
                if s3.load(Ordering::Relaxed) {
                    return;
                }
                for c in open.lock().unwrap().drain(..) {
                    let _ = c.shutdown(Shutdown::Both);
                }
            }
        });
        NaiveProxy {
            addr,
            reload_addr,
            stop,
        }
    }

    /// A shell command that "reloads" it.
    pub fn reload_command(&self) -> String {
        format!(
            "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{}'",
            self.reload_addr.port()
        )
    }
}

impl Drop for NaiveProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
        let _ = TcpStream::connect(self.reload_addr);
    }
}
