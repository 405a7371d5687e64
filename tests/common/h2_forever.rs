//! An HTTP/2 connection that answers every request with `200` and DATA that never ends, keeping
//! to the flow-control windows the client opens: a well-formed endless response, so that the
//! client alone must bound it (its timeout, its body cap). A reader thread tracks the windows,
//! the connection's thread writes.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gauntlet::proto::raw::h2::{frame, hpack};

use super::hostile_h2::read_frame;

/// What the client allows us to send: the connection's window, each open stream's window, and
/// the streams still waiting for their HEADERS.
struct Windows {
    conn: i64,
    initial: i64,
    streams: BTreeMap<u32, i64>,
    unanswered: Vec<u32>,
}

/// A test never runs this long; a server thread left behind by one must still end.
const SAFETY: Duration = Duration::from_secs(30);

/// Serves `s` (preface read, our SETTINGS sent) until the client goes away.
pub fn serve(mut s: TcpStream) {
    let Ok(w) = s.try_clone() else { return };
    let w = Arc::new(Mutex::new(w));
    let win = Arc::new(Mutex::new(Windows {
        conn: 65_535,
        initial: 65_535,
        streams: BTreeMap::new(),
        unanswered: Vec::new(),
    }));
    let done = Arc::new(AtomicBool::new(false));
    let (w2, win2, done2) = (w.clone(), win.clone(), done.clone());
    std::thread::spawn(move || {
        while let Some((ty, flags, stream, p)) = read_frame(&mut s) {
            let mut st = win2.lock().unwrap();
            match ty {
                0x4 if flags & 0x1 == 0 => {
                    for pair in p.chunks_exact(6) {
                        if pair[..2] == [0, 4] {
                            let v =
                                i64::from(u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]));
                            let delta = v - st.initial;
                            st.initial = v;
                            st.streams.values_mut().for_each(|w| *w += delta);
                        }
                    }
                    let _ = w2.lock().unwrap().write_all(&frame(0x4, 0x1, 0, b""));
                }
                0x6 if flags & 0x1 == 0 => {
                    let _ = w2.lock().unwrap().write_all(&frame(0x6, 0x1, 0, &p));
                }
                0x8 if p.len() == 4 => {
                    let inc = i64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff);
                    if stream == 0 {
                        st.conn += inc;
                    } else if let Some(w) = st.streams.get_mut(&stream) {
                        *w += inc;
                    }
                }
                0x1 => {
                    let initial = st.initial;
                    st.streams.insert(stream, initial);
                    st.unanswered.push(stream);
                }
                0x3 => {
                    st.streams.remove(&stream);
                }
                0x7 => break,
                _ => {}
            }
        }
        done2.store(true, Ordering::Relaxed);
    });
    let start = Instant::now();
    let chunk = vec![b'x'; 16_384];
    while !done.load(Ordering::Relaxed) && start.elapsed() < SAFETY {
        let mut out = Vec::new();
        {
            let mut st = win.lock().unwrap();
            for id in std::mem::take(&mut st.unanswered) {
                out.extend(frame(0x1, 0x4, id, &hpack(&[(b":status", b"200")])));
            }
            let conn = st.conn;
            if let Some((&id, w)) = st.streams.iter_mut().find(|(_, w)| **w > 0) {
                let n = (*w).min(conn).min(chunk.len() as i64);
                if n > 0 {
                    *w -= n;
                    st.conn -= n;
                    out.extend(frame(0x0, 0, id, &chunk[..n as usize]));
                }
            }
        }
        if out.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        } else if w.lock().unwrap().write_all(&out).is_err() {
            break;
        }
    }
    let closing = w.lock().map(|w| w.shutdown(std::net::Shutdown::Both));
    drop(closing);
}
