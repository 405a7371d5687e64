//! A deliberately non-conforming HTTP/1.1 reverse proxy, to prove the probes can fail: it frames
//! requests by the first Content-Length it can parse (ignoring Transfer-Encoding, and taking a
//! GET or HEAD as bodiless whatever its length), drops Content-Length, Transfer-Encoding or Host
//! when Connection names them, percent-decodes and resolves the request path, forwards heads with whatever body bytes are at hand,
//! tunnels as soon as a request asks for an Upgrade, drops heads over 16 KiB without a word,
//! relays responses verbatim (hop-by-hop fields, bad lengths and all) except that it drops
//! interim 1xx answers, folds repeated fields into one and stops a chunked body at its last chunk
//! (losing the trailer), waits for a Content-Length body even where there is none (HEAD, 204,
//! 304), and on "reload" drops every connection.
//!
//! Two upstream styles: a new connection per request, optionally resending a request the origin
//! dropped unanswered; or one upstream connection per client connection, reused even after the
//! origin closed it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Upstream {
    /// A new upstream connection per request; `retry` resends a request that got no answer.
    PerRequest { retry: bool },
    /// One upstream connection per client connection, never checked.
    Persistent,
}

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

/// One response from upstream, as bytes, framed naively; interim (1xx) responses are dropped.
fn response(up: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let end = loop {
        while head_end(&buf).is_none() {
            if !more(up, &mut buf, Duration::from_secs(2)) {
                return buf;
            }
        }
        let end = head_end(&buf).unwrap();
        if buf.starts_with(b"HTTP/1.1 1") && !buf.starts_with(b"HTTP/1.1 101") {
            buf.drain(..end);
            continue;
        }
        break end;
    };
    let head = buf[..end].to_vec();
    if let Some(n) = field(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        while buf.len() < end + n && more(up, &mut buf, Duration::from_secs(10)) {}
    } else if field(&head, "transfer-encoding").is_some() {
        while find(&buf[end..], b"\r\n0\r\n").is_none()
            && more(up, &mut buf, Duration::from_millis(500))
        {}
        if let Some(last) = find(&buf[end..], b"\r\n0\r\n") {
            buf.truncate(end + last + 5);
        }
    } else {
        while more(up, &mut buf, Duration::from_millis(300)) {}
    }
    let body = buf.split_off(end);
    let mut out = fold(&buf);
    out.extend(body);
    out
}

/// Joins repeated fields of a head into one line each, as a careless proxy does.
fn fold(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut first = String::new();
    for (i, l) in text.split("\r\n").enumerate() {
        if i == 0 {
            first = l.to_string();
            continue;
        }
        let Some((n, v)) = l.split_once(':') else {
            continue;
        };
        match lines.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(n)) {
            Some((_, old)) => {
                old.push_str(", ");
                old.push_str(v.trim());
            }
            None => lines.push((n.to_string(), v.trim().to_string())),
        }
    }
    let mut out = first + "\r\n";
    for (n, v) in lines {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The head with its request target percent-decoded (`%2F`, `%2E`) and dot-segments resolved, as
/// a proxy that normalises paths for its own routing and forwards the result does.
fn normalise_target(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head).into_owned();
    let Some((line, rest)) = text.split_once("\r\n") else {
        return head.to_vec();
    };
    let mut parts: Vec<String> = line.split(' ').map(String::from).collect();
    if parts.len() != 3 || !parts[1].starts_with('/') {
        return head.to_vec();
    }
    let decoded = parts[1]
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%2E", ".")
        .replace("%2e", ".");
    let mut out: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            ".." => {
                out.pop();
            }
            "." => {}
            s => out.push(s),
        }
    }
    parts[1] = out.join("/");
    format!("{}\r\n{rest}", parts.join(" ")).into_bytes()
}

/// The head with the framing and routing fields that `Connection` names (Content-Length,
/// Transfer-Encoding, Host) removed, as a proxy that applies Connection to every field does;
/// other fields stay.
fn honour_connection(head: &[u8]) -> Vec<u8> {
    let named: Vec<String> = field(head, "connection")
        .map(|v| {
            v.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let dropped: Vec<&str> = ["content-length", "transfer-encoding", "host"]
        .into_iter()
        .filter(|f| named.iter().any(|n| n == f))
        .collect();
    if dropped.is_empty() {
        return head.to_vec();
    }
    let text = String::from_utf8_lossy(head);
    let kept: Vec<&str> = text
        .split("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_none_or(|(n, _)| !dropped.contains(&n.trim().to_ascii_lowercase().as_str()))
        })
        .collect();
    kept.join("\r\n").into_bytes()
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

fn serve(mut client: TcpStream, upstream: SocketAddr, style: Upstream) {
    let mut buf = Vec::new();
    let mut kept: Option<TcpStream> = None;
    loop {
        while head_end(&buf).is_none() {
            if buf.len() > 16 * 1024 || !more(&mut client, &mut buf, Duration::from_secs(10)) {
                return;
            }
        }
        let end = head_end(&buf).unwrap();
        if field(&buf[..end], "upgrade").is_some() {
            return tunnel(client, upstream, &buf);
        }
        let head = normalise_target(&honour_connection(&buf[..end]));
        // The CL.0 mistake: a GET or HEAD has no body, whatever its Content-Length says.
        let bodiless = head.starts_with(b"GET ") || head.starts_with(b"HEAD ");
        let cl = field(&head, "content-length")
            .and_then(|v| v.trim_start_matches('+').parse::<usize>().ok())
            .filter(|_| !bodiless);
        let take = match cl {
            Some(n) => {
                while buf.len() < end + n && more(&mut client, &mut buf, Duration::from_millis(100))
                {
                }
                n.min(buf.len() - end)
            }
            None if field(&head, "transfer-encoding").is_some() && !bodiless => {
                while more(&mut client, &mut buf, Duration::from_millis(100)) {}
                buf.len() - end
            }
            None => 0,
        };
        let mut request = head;
        request.extend(buf.drain(..end + take).skip(end));
        let mut up = match (style, kept.take()) {
            (Upstream::Persistent, Some(u)) => u,
            _ => match TcpStream::connect(upstream) {
                Ok(u) => u,
                Err(_) => return,
            },
        };
        let _ = up.write_all(&request);
        let mut resp = response(&mut up);
        if resp.is_empty() && style == (Upstream::PerRequest { retry: true }) {
            if let Ok(mut again) = TcpStream::connect(upstream) {
                let _ = again.write_all(&request);
                resp = response(&mut again);
            }
        }
        if style == Upstream::Persistent {
            kept = Some(up);
        }
        if !resp.is_empty() && client.write_all(&resp).is_err() {
            return;
        }
    }
}

impl NaiveProxy {
    pub fn start(upstream: SocketAddr, style: Upstream) -> NaiveProxy {
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
                std::thread::spawn(move || serve(c, upstream, style));
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
