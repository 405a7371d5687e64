//! More HTTP/2 probes, part of the h2 family: padding longer than its frame, a stream depending
//! on itself, RST_STREAM on an idle stream or of the wrong length, a SETTINGS ACK with a payload,
//! a PUSH_PROMISE from the client, pseudo-headers in trailers, field names with a colon, a space
//! or CR LF (which a proxy's HTTP/1.1 upstream would read as a second field), an empty `:path`,
//! CONNECT without `:authority`, bad Huffman padding and whitespace padding in values. Each is
//! a frame or a message the RFC makes an error; the judges are [`super::h2`]'s.

use super::h2::{
    judge_connection, judge_malformed, play, probe, raw_fields, request, run_malformed,
    with_preface, COMPRESSION_ERROR, FRAME_SIZE_ERROR, PROTOCOL_ERROR,
};
use super::{Cx, Probe, ProbeFuture};
use crate::proto::raw::h2::{flag, frame, headers, hpack, ty, H2Conn, Opening, PREFACE};

/// PADDED flag of HEADERS and DATA.
const PADDED: u8 = 0x8;
/// PRIORITY flag of HEADERS.
const PRIORITY: u8 = 0x20;
/// PUSH_PROMISE frame type.
const PUSH_PROMISE: u8 = 0x5;

/// A GET on `stream` after `first`, with the preface.
fn get_after(cx: &Cx, first: Vec<u8>, stream: u32) -> Vec<u8> {
    let mut b = first;
    b.extend(headers(stream, &request(cx, "ok", &[]), true));
    with_preface(b)
}

/// The HPACK block of the probe's GET, for frames built by hand.
fn get_block(cx: &Cx) -> Vec<u8> {
    let f = request(cx, "ok", &[]);
    let refs: Vec<(&[u8], &[u8])> = f
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    hpack(&refs)
}

/// HEADERS on stream 1, PADDED, with a pad length equal to the payload's length (RFC 9113 §6.2:
/// padding that is not shorter than the payload is a PROTOCOL_ERROR).
fn headers_pad_too_long(cx: &Cx) -> Vec<u8> {
    let block = get_block(cx);
    let mut payload = vec![u8::try_from(block.len() + 1).unwrap_or(255)];
    payload.extend(&block);
    with_preface(frame(
        ty::HEADERS,
        flag::END_HEADERS | flag::END_STREAM | PADDED,
        1,
        &payload,
    ))
}

/// A POST whose DATA frame is PADDED with a pad length past its end (RFC 9113 §6.1).
fn data_pad_too_long(cx: &Cx) -> Vec<u8> {
    let mut f = request(cx, "ok", &[("content-length", b"4")]);
    f[0].1 = b"POST".to_vec();
    let mut b = headers(1, &f, false);
    b.extend(frame(
        ty::DATA,
        flag::END_STREAM | PADDED,
        1,
        &[200, b'd', b'a', b't', b'a'],
    ));
    with_preface(b)
}

/// HEADERS with the PRIORITY flag naming the stream itself as its dependency (RFC 9113 §5.3.1).
fn self_dependency(cx: &Cx) -> Vec<u8> {
    let mut payload = 1u32.to_be_bytes().to_vec();
    payload.push(15);
    payload.extend(get_block(cx));
    with_preface(frame(
        ty::HEADERS,
        flag::END_HEADERS | flag::END_STREAM | PRIORITY,
        1,
        &payload,
    ))
}

/// RST_STREAM on idle stream 1, then a GET on stream 3 (RFC 9113 §6.4: a connection error).
fn rst_idle(cx: &Cx) -> Vec<u8> {
    get_after(cx, frame(ty::RST_STREAM, 0, 1, &8u32.to_be_bytes()), 3)
}

/// A GET on stream 1, then an RST_STREAM of three bytes on it, then a GET on stream 3.
fn rst_length(cx: &Cx) -> Vec<u8> {
    let mut b = headers(1, &request(cx, "ok", &[]), false);
    b.extend(frame(ty::RST_STREAM, 0, 1, &[0, 0, 8]));
    get_after(cx, b, 3)
}

/// A SETTINGS ACK carrying a setting (RFC 9113 §6.5: FRAME_SIZE_ERROR), then a GET.
fn settings_ack_payload(cx: &Cx) -> Vec<u8> {
    get_after(
        cx,
        frame(ty::SETTINGS, flag::ACK, 0, &[0, 3, 0, 0, 0, 100]),
        1,
    )
}

/// A PUSH_PROMISE from the client (RFC 9113 §8.4: a PROTOCOL_ERROR), then a GET.
fn client_push(cx: &Cx) -> Vec<u8> {
    let mut payload = 2u32.to_be_bytes().to_vec();
    payload.extend(get_block(cx));
    get_after(cx, frame(PUSH_PROMISE, flag::END_HEADERS, 1, &payload), 3)
}

/// A POST with trailers that carry a pseudo-header (RFC 9113 §8.1: malformed).
fn pseudo_in_trailers(cx: &Cx) -> Vec<u8> {
    let mut f = request(cx, "ok", &[("content-length", b"4")]);
    f[0].1 = b"POST".to_vec();
    let mut b = headers(1, &f, false);
    b.extend(frame(ty::DATA, 0, 1, b"data"));
    b.extend(headers(
        1,
        &[(b":path".to_vec(), cx.smuggled().into_bytes())],
        true,
    ));
    with_preface(b)
}

/// A literal header field with a Huffman-coded name whose padding is zeros, not the EOS prefix
/// (RFC 7541 §5.2: a decoding error), then nothing: the connection must fail.
fn huffman_bad_padding(cx: &Cx) -> Vec<u8> {
    let mut block = get_block(cx);
    // Literal without indexing, new name: Huffman flag set, 1 byte: 'a' (00011) then 000 padding.
    block.extend([0x00, 0x81, 0b0001_1000, 0x01, b'v']);
    with_preface(frame(
        ty::HEADERS,
        flag::END_HEADERS | flag::END_STREAM,
        1,
        &block,
    ))
}

/// Trailers carrying a pseudo-header: the head may already be on its way upstream when they
/// arrive, so what must not reach the origin is the trailer itself (its value names the
/// smuggled path).
fn run_trailers(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let log = play(cx, &p, 1).await?;
        let forwarded = cx.origin.as_ref().map(|_| {
            cx.forwarded_bytes(cx.smuggled().as_bytes()) || cx.reached(&cx.smuggled()) == Some(true)
        });
        Ok(judge_malformed(forwarded, &log, 1))
    })
}

/// A connection error of type `code`, judged on stream `stream`.
fn run_conn<const CODE: u32, const STREAM: u32>(cx: &Cx, p: Probe) -> ProbeFuture<'_> {
    Box::pin(async move {
        let all = (p.bytes)(cx);
        let mut c = H2Conn::open(&cx.target, Opening::Preface).await?;
        c.send(&all[PREFACE.len() + 9..]).await;
        c.read_until(|l| l.stream_done(STREAM) || l.goaway().is_some())
            .await;
        Ok(judge_connection(&c.log, STREAM, CODE))
    })
}

/// The probes of this file.
pub fn probes() -> Vec<Probe> {
    let p = probe;
    vec![
        p("h2.padding.headers-too-long", "RFC 9113 §6.2", "HEADERS whose pad length is not shorter than the payload: a connection error PROTOCOL_ERROR", headers_pad_too_long, run_conn::<PROTOCOL_ERROR, 1>),
        p("h2.padding.data-too-long", "RFC 9113 §6.1", "DATA whose pad length runs past the frame: a connection error PROTOCOL_ERROR", data_pad_too_long, run_conn::<PROTOCOL_ERROR, 1>),
        p("h2.priority.self-dependency", "RFC 9113 §5.3.1", "A stream that depends on itself: a stream error PROTOCOL_ERROR, never served", self_dependency, run_malformed),
        p("h2.rst.idle-stream", "RFC 9113 §6.4", "RST_STREAM on an idle stream: a connection error PROTOCOL_ERROR", rst_idle, run_conn::<PROTOCOL_ERROR, 3>),
        p("h2.rst.length", "RFC 9113 §6.4", "RST_STREAM of 3 bytes: a connection error FRAME_SIZE_ERROR", rst_length, run_conn::<FRAME_SIZE_ERROR, 3>),
        p("h2.settings.ack-with-payload", "RFC 9113 §6.5", "A SETTINGS ACK with a payload: a connection error FRAME_SIZE_ERROR", settings_ack_payload, run_conn::<FRAME_SIZE_ERROR, 1>),
        p("h2.push-promise.from-client", "RFC 9113 §8.4", "A PUSH_PROMISE sent by the client: a connection error PROTOCOL_ERROR", client_push, run_conn::<PROTOCOL_ERROR, 3>),
        p("h2.trailers.pseudo-header", "RFC 9113 §8.1", "Trailers carrying `:path`: malformed, refused and not forwarded", pseudo_in_trailers, run_trailers),
        p("h2.name.colon", "RFC 9113 §8.2.1", "A field name with a colon inside (`x:probe`): malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", "{path}"), ("x:probe", "v")]), run_malformed),
        p("h2.name.space", "RFC 9113 §8.2.1", "A field name with a space (`x probe`): malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", "{path}"), ("x probe", "v")]), run_malformed),
        p("h2.name.crlf", "RFC 9113 §8.2.1", "A field name holding CR LF and a second field (`x\\r\\nx-injected`): malformed, never split into two HTTP/1.1 fields upstream", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", "{path}"), ("x\r\nx-injected", "v")]), run_malformed),
        p("h2.path.empty", "RFC 9113 §8.3.1", "An empty `:path`: malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", ""), ("x-probe", "{path}")]), run_malformed),
        p("h2.connect.no-authority", "RFC 9113 §8.5", "CONNECT without `:authority`: malformed", |cx| raw_fields(cx, &[(":method", "CONNECT"), ("x-probe", "{path}")]), run_malformed),
        p("h2.hpack.huffman-padding", "RFC 7541 §5.2", "A Huffman string padded with zeros instead of the EOS prefix: a COMPRESSION_ERROR", huffman_bad_padding, run_conn::<COMPRESSION_ERROR, 1>),
        p("h2.value.trailing-space", "RFC 9113 §8.2.1", "A field value padded with a trailing space: malformed", |cx| raw_fields(cx, &[(":method", "GET"), (":scheme", "{scheme}"), (":authority", "{auth}"), (":path", "{path}"), ("x-probe", "v ")]), run_malformed),
    ]
}
