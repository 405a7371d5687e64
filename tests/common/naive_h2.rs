//! A deliberately non-conforming HTTP/2 server (cleartext, prior knowledge), to prove the h2
//! probes can fail: it never checks the preface, SETTINGS, WINDOW_UPDATE, stream ids or states,
//! answers every header block 200 (even one it cannot decode), records what it decoded, ignores
//! PING, refuses any `te` field and any unknown frame type, takes CONTINUATION without limit,
//! never resets a stream for a WINDOW_UPDATE of 0, and "crashes" (stops accepting connections)
//! after 100 cancelled streams, 1000 SETTINGS frames or 1000 empty DATA frames.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::hostile_h2::{read_exact, read_frame};
use gauntlet::origin::recording::{Received, Recorder};
use gauntlet::proto::raw::h2::{frame, hpack, settings};

pub struct NaiveH2 {
    pub addr: SocketAddr,
    pub recorder: Recorder,
    stop: Arc<AtomicBool>,
}

fn answer(s: &mut TcpStream, stream: u32) {
    let mut out = frame(0x1, 0x4, stream, &hpack(&[(b":status", b"200")]));
    out.extend(frame(0x0, 0x1, stream, b"ok"));
    let _ = s.write_all(&out);
}

fn serve(mut s: TcpStream, rec: Recorder, crashed: Arc<AtomicBool>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if read_exact(&mut s, 24).is_none() {
        return;
    }
    let _ = s.write_all(&settings(&[(0x3, 2)]));
    let mut decoder = loona_hpack::Decoder::new();
    let mut block: Vec<u8> = Vec::new();
    let mut resets = 0;
    let (mut settings_seen, mut empty_data) = (0, 0);
    loop {
        let Some((ty, flags, stream, p)) = read_frame(&mut s) else {
            return;
        };
        match ty {
            0x1 | 0x9 => {
                // Padding and priority are ignored as wrongly as everything else.
                block.extend_from_slice(&p);
                if flags & 0x4 == 0 {
                    continue;
                }
                let fields = decoder
                    .decode(&std::mem::take(&mut block))
                    .unwrap_or_default();
                rec.push(Received::from_fields("HTTP/2", &fields));
                if fields.iter().any(|(n, _)| n == b"te") {
                    let _ = s.write_all(&frame(0x3, 0, stream, &1u32.to_be_bytes()));
                } else {
                    answer(&mut s, stream);
                }
            }
            0x3 => {
                resets += 1;
                if resets > 100 {
                    crashed.store(true, Ordering::Relaxed);
                    return;
                }
            }
            0x4 => {
                settings_seen += 1;
                if settings_seen > 1000 {
                    crashed.store(true, Ordering::Relaxed);
                    return;
                }
            }
            0x0 if p.is_empty() => {
                empty_data += 1;
                if empty_data > 1000 {
                    crashed.store(true, Ordering::Relaxed);
                    return;
                }
            }
            // PUSH_PROMISE from a client is taken like any other frame.
            0x0 | 0x2 | 0x5 | 0x6 | 0x8 => {}
            _ => {
                let _ = s.write_all(&frame(0x7, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 1]));
                return;
            }
        }
    }
}

impl NaiveH2 {
    pub fn start() -> NaiveH2 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let recorder = Recorder::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, s2) = (recorder.clone(), stop.clone());
        let crashed = Arc::new(AtomicBool::new(false));
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                if s2.load(Ordering::Relaxed) || crashed.load(Ordering::Relaxed) {
                    // Crashed: the listener goes away with the thread.
                    return;
                }
                let (rec, crashed) = (rec.clone(), crashed.clone());
                std::thread::spawn(move || serve(c, rec, crashed));
            }
        });
        NaiveH2 {
            addr,
            recorder,
            stop,
        }
    }
}

impl Drop for NaiveH2 {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}
