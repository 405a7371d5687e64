//! The per-protocol panels of the report: latency by percentile (corrected and uncorrected side
//! by side), latency and throughput over time, time to first byte, connection set-up, the
//! status-code breakdown, connection figures and the client's own pacing. Every path keeps its
//! colour in every chart; legends sit under the charts, never over the data.

use maud::{html, Markup, PreEscaped};

use super::super::charts::{self, css_colour, Scale, Series};
use super::super::fmt_us;
use crate::model::comparison::Sharing;
use crate::model::hist::{self, Hist};
use crate::model::results::{ClockJson, LaneJson, ResultsFile, RunModel};
use crate::model::Protocol;

/// A lane with its colour.
struct Painted<'a> {
    lane: &'a LaneJson,
    colour: usize,
}

/// A lane's clock: its own when the results carry it, else the run's (an older file).
fn clock(r: &ResultsFile, l: &LaneJson) -> ClockJson {
    if let Some(c) = l.clock {
        return c;
    }
    let interleaved = r
        .comparison
        .as_ref()
        .is_some_and(|c| c.fairness == Sharing::Interleaved);
    let turns = if interleaved { 2.0 } else { 1.0 };
    ClockJson {
        warmup_s: r.meta.warmup_s,
        end_s: r.meta.warmup_s + r.meta.measured_s * turns,
        turn_s: interleaved.then_some(r.meta.slice_s),
    }
}

/// One interval of the timeline as drawn.
struct Bucket {
    mid: f64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The timeline in whole intervals. One second each, except for a lane that took turns with
/// another path, whose intervals span whole pairs of turns (otherwise a second would hold a
/// varying share of the lane's turns and its rate would read as half the real one, or zero).
/// Intervals that run past the end of the measured part are partial and left out: their rate
/// would fall and their tail would be only the slowest stragglers. Returns the buckets and where
/// the drawn part ends.
fn buckets(c: ClockJson, l: &LaneJson) -> (Vec<Bucket>, f64) {
    let (width, own) = match c.turn_s {
        Some(t) => {
            let w = 2.0 * t.ceil().max(1.0);
            (w, w / 2.0)
        }
        None => (1.0, 1.0),
    };
    let mut out = Vec::new();
    let last = l.timeline.last().map_or(0, |s| s.t);
    let mut start = 0.0;
    // The timeline is in order of its seconds: one pass over it, not one per interval (a
    // replayed day-long log has tens of thousands of seconds).
    let mut rest = l.timeline.as_slice();
    while start + width <= c.end_s + 1e-6 && start <= last as f64 {
        let skip = rest.iter().take_while(|s| (s.t as f64) < start).count();
        rest = &rest[skip..];
        let here = rest
            .iter()
            .take_while(|s| (s.t as f64) < start + width)
            .count();
        let (secs, after) = rest.split_at(here);
        rest = after;
        let mut h = hist::new_timeline_hist();
        let mut n = 0;
        let (mut p50, mut p99) = (0u64, 0u64);
        for s in secs {
            n += s.requests;
            hist::merge(&mut h, &s.latency_us.0);
            p50 = p50.max(s.p50_us);
            p99 = p99.max(s.p99_us);
        }
        // An older file has no per-second histograms: the seconds' own figures stand in.
        if !h.is_empty() {
            p50 = h.value_at_quantile(0.5);
            p99 = h.value_at_quantile(0.99);
        }
        if n > 0 {
            out.push(Bucket {
                mid: start + width / 2.0,
                rate: n as f64 / own,
                p50_ms: p50 as f64 / 1000.0,
                p99_ms: p99 as f64 / 1000.0,
            });
        }
        start += width;
    }
    (out, start)
}

fn merged(l: &LaneJson, pick: impl Fn(&crate::model::results::RequestHists) -> &Hist) -> Hist {
    let mut h = hist::new_hist();
    for q in &l.requests {
        hist::merge(&mut h, pick(&q.histograms));
    }
    h
}

/// One series per lane of `pick`'s histogram; lanes where it is empty (no TLS handshake on a
/// cleartext lane, say) draw nothing and get no legend entry.
fn spectrum_series(
    lanes: &[Painted],
    dashed: bool,
    pick: &dyn Fn(&LaneJson) -> Hist,
    suffix: &str,
) -> Vec<Series> {
    lanes
        .iter()
        .map(|p| Series {
            name: format!("{}{suffix}", p.lane.target),
            colour: p.colour,
            dashed,
            points: charts::spectrum_points(&pick(p.lane)),
        })
        .filter(|s| s.points.iter().any(|p| p.1 > 0.0))
        .collect()
}

/// A chart with its legend under it.
fn figure(class: &str, svg: String, series: &[Series], shaded: bool) -> Markup {
    html! {
        figure class=(format!("chart {class}")) {
            (PreEscaped(svg))
            figcaption.legend {
                @for s in series {
                    span {
                        span class=(if s.dashed { "key dashed" } else { "key" }) style=(format!("border-color:{}", css_colour(s.colour))) {}
                        (s.name)
                    }
                }
                @if shaded { span { span.key.shade {} "warm-up" } }
            }
        }
    }
}

/// The charts of one protocol.
fn charts_of(r: &ResultsFile, p: Protocol, lanes: &[Painted]) -> Markup {
    let corrected = spectrum_series(lanes, false, &|l| merged(l, |h| &h.latency_us.0), "");
    let uncorrected = spectrum_series(
        lanes,
        true,
        &|l| merged(l, |h| &h.latency_uncorrected_us.0),
        " uncorrected",
    );
    let both = Scale::log_for(&[&corrected, &uncorrected]);
    let ttfb = spectrum_series(lanes, false, &|l| merged(l, |h| &h.ttfb_us.0), " TTFB");
    let mut setup = spectrum_series(
        lanes,
        true,
        &|l| l.connections.connect_hist.0.clone(),
        " connect",
    );
    setup.extend(spectrum_series(
        lanes,
        false,
        &|l| l.connections.handshake_hist.0.clone(),
        " handshake",
    ));

    let clocks: Vec<ClockJson> = lanes.iter().map(|pl| clock(r, pl.lane)).collect();
    let turns = |c: Option<&ClockJson>| {
        if c.is_some_and(|c| c.turn_s.is_some()) {
            2.0
        } else {
            1.0
        }
    };
    // Stage boundaries are marked where the candidate (the first lane) met them.
    let first = turns(clocks.first());
    let marks: Vec<f64> = r
        .meta
        .stages
        .iter()
        .skip(1)
        .map(|s| s.start_s * first)
        .collect();
    let took_turns = clocks.iter().any(|c| c.turn_s.is_some());
    let mut over_lat = Vec::new();
    let mut over_rate = Vec::new();
    let mut drawn_to: f64 = 0.0;
    for (pl, c) in lanes.iter().zip(&clocks) {
        let (b, end) = buckets(*c, pl.lane);
        drawn_to = drawn_to.max(end);
        over_lat.push(Series {
            name: format!("{} p50", pl.lane.target),
            colour: pl.colour,
            dashed: false,
            points: b.iter().map(|b| (b.mid, b.p50_ms)).collect(),
        });
        over_lat.push(Series {
            name: format!("{} p99", pl.lane.target),
            colour: pl.colour,
            dashed: true,
            points: b.iter().map(|b| (b.mid, b.p99_ms)).collect(),
        });
        over_rate.push(Series {
            name: format!("{} responses/s", pl.lane.target),
            colour: pl.colour,
            dashed: false,
            points: b.iter().map(|b| (b.mid, b.rate)).collect(),
        });
    }
    let ran_to = lanes
        .iter()
        .filter_map(|pl| pl.lane.timeline.last())
        .map(|s| s.t as f64 + 1.0)
        .fold(0.0, f64::max);
    let warm = clocks.iter().map(|c| c.warmup_s).fold(0.0, f64::max);
    let per_turn = if took_turns {
        " (per second of the path's own turns)"
    } else {
        ""
    };
    html! {
        div.charts {
            (figure("spectrum", charts::spectrum(&format!("{p}: latency by percentile, corrected"), &corrected, both), &corrected, false))
            (figure("spectrum-uncorrected", charts::spectrum(&format!("{p}: latency by percentile, uncorrected"), &uncorrected, both), &uncorrected, false))
            (figure("timeline", charts::over_time(&format!("{p}: latency over time"), "latency", &over_lat, Scale::log_for(&[&over_lat]), warm, &marks, drawn_to), &over_lat, warm > 0.0))
            (figure("throughput", charts::over_time(&format!("{p}: throughput{per_turn}"), "responses/s", &over_rate, Scale::Linear, warm, &marks, drawn_to), &over_rate, warm > 0.0))
            (figure("ttfb", charts::spectrum(&format!("{p}: time to first byte"), &ttfb, Scale::log_for(&[&ttfb])), &ttfb, false))
            (figure("handshake", charts::spectrum(&format!("{p}: connection set-up"), &setup, Scale::log_for(&[&setup])), &setup, false))
        }
        @if ran_to > drawn_to + 1e-6 {
            p.note.partial { "The last " (format!("{:.0}", ran_to - drawn_to)) " s after " (format!("{drawn_to:.0}")) " s are a partial interval (the run's end, and answers still arriving) and are not drawn over time." }
        }
        @if took_turns {
            p.note { "Interleaved paths take turns: each point covers whole pairs of turns, and the rate is per second of the path's own time, as in the table." }
        }
    }
}

/// Status codes and error classes per lane, with their share of the lane's requests.
fn statuses(lanes: &[Painted]) -> Markup {
    html! {
        table.statuses {
            tr { th.l { "target" } th.l { "status or error" } th { "count" } th { "share" } th.l {} }
            @for pl in lanes {
                @let s = &pl.lane.summary;
                @let total = s.statuses.values().sum::<u64>() + s.errors_by_class.values().sum::<u64>();
                @let rows = s.statuses.iter().map(|(k, v)| (k.clone(), *v))
                    .chain(s.errors_by_class.iter().map(|(k, v)| (format!("error: {}", k.as_str()), *v)));
                @for (k, v) in rows {
                    @let share = if total > 0 { v as f64 / total as f64 } else { 0.0 };
                    tr {
                        (target_cell(pl))
                        td.l { (k) } td { (v) } td { (format!("{:.2}%", share * 100.0)) }
                        td.l { span.bar style=(format!("width:{:.0}px", (share * 160.0).max(1.0))) {} }
                    }
                }
            }
        }
    }
}

/// Connections per lane: opened, failed, resumed, reuse, how the server ended them and set-up
/// time; then the control frames the server sent and the limits it announced.
fn connections(lanes: &[Painted]) -> Markup {
    html! {
        table.connections {
            tr { th.l { "target" } th { "opened" } th { "failed" } th { "resumed" } th { "requests/conn" } th { "recycled" } th { "retried" }
                 th { "connect p50" } th { "connect p99" } th { "handshake p50" } th { "handshake p99" } }
            @for pl in lanes {
                @let l = pl.lane;
                @let c = &l.connections;
                tr {
                    (target_cell(pl))
                    td { (c.opened) } td { (c.failed) } td { (c.resumed) } td { (format!("{:.1}", c.requests_per_connection)) }
                    td { (c.recycled) } td { (l.summary.retried) }
                    td { (fmt_us(c.connect_us.p50)) } td { (fmt_us(c.connect_us.p99)) }
                    td { (fmt_us(c.handshake_us.p50)) } td { (fmt_us(c.handshake_us.p99)) }
                }
                @for w in &c.warnings { tr { td.l.worse colspan="11" { "warning: " (w) } } }
            }
        }
        table.frames {
            tr { th.l { "target" } th { "GOAWAY" } th { "SETTINGS" } th { "PING" } th { "WINDOW_UPDATE" } th { "RST_STREAM" } th.l { "announced limits" } }
            @for pl in lanes {
                @let c = &pl.lane.connections;
                @let f = &c.control_frames;
                @let lim = &c.peer_limits;
                @let limits: Vec<String> = [("streams", lim.max_concurrent_streams), ("window", lim.initial_window_size), ("frame", lim.max_frame_size), ("header list", lim.max_header_list_size)]
                    .iter().filter_map(|(k, v)| v.map(|v| format!("{k} {v}"))).collect();
                tr {
                    (target_cell(pl))
                    td { (f.goaway) } td { (f.settings) } td { (f.ping) } td { (f.window_update) } td { (f.rst_stream) }
                    td.l { (limits.join(", ")) }
                }
            }
        }
    }
}

/// The target's name in its path's colour.
fn target_cell(pl: &Painted) -> Markup {
    html! { td.l.target style=(format!("color:{}", css_colour(pl.colour))) { (pl.lane.target) } }
}

/// Whether the client, not the target, set the pace: it fell so far behind the plan that it
/// never sent some arrivals. Late starts alone are not enough: with every connection busy
/// waiting for a slow target, requests start late too, and their latency (measured from the
/// intended start) already says so.
fn client_limited(l: &LaneJson) -> bool {
    l.pacing.not_sent > 0
}

/// More than 1% of the requests started over a millisecond late.
fn often_late(l: &LaneJson) -> bool {
    l.pacing.late_starts * 100 > l.summary.count.max(1)
}

/// The client's own pacing per lane, with a warning when it limited the run.
fn pacing(r: &ResultsFile, lanes: &[Painted]) -> Markup {
    let open = r.meta.model == RunModel::Open;
    html! {
        @if !open {
            p.note { "Closed model: each user sends when its last answer arrives, so there is no schedule to fall behind (late starts and lag do not apply)." }
        }
        table.pacing {
            tr { th.l { "target" } @if open { th { "achieved of planned" } } th { "late starts (> 1 ms)" } th { "max lag" } th { "not sent" } th { "cancelled at the end" } th.l { "the schedule" } }
            @for pl in lanes {
                @let p = &pl.lane.pacing;
                tr {
                    (target_cell(pl))
                    @if open {
                        td.achieved {
                            @match &p.plan {
                                Some(k) => { (format!("{:.0}/s of {:.0}/s ({:.1}%)", k.sent_rps, k.planned_rps, (1.0 - k.shortfall) * 100.0)) }
                                None => { "–" }
                            }
                        }
                    }
                    td { (p.late_starts) } td { (fmt_us(p.max_lag_us)) } td { (p.not_sent) } td { (p.cancelled) }
                    @if client_limited(pl.lane) { td.l.worse { "the client fell behind" } }
                    @else if often_late(pl.lane) { td.l.inconclusive { "kept, with late starts" } }
                    @else { td.l { "kept" } }
                }
            }
        }
        @for pl in lanes.iter().filter(|pl| client_limited(pl.lane)) {
            @let p = &pl.lane.pacing;
            p.warn.client-limited {
                "⚠ " (pl.lane.target) " " (pl.lane.protocol) ": the client, not the target, limited this run"
                @if let Some(k) = &p.plan { " (" (k.describe()) ")" }
                ": " (p.not_sent) " planned requests were never sent, and " (p.late_starts) " started late (by up to " (fmt_us(p.max_lag_us)) "). The target saw less load than planned: use more client threads, more connections or a lower rate."
            }
        }
        @for pl in lanes.iter().filter(|pl| !client_limited(pl.lane) && often_late(pl.lane)) {
            p.note {
                (pl.lane.target) " " (pl.lane.protocol) ": " (pl.lane.pacing.late_starts) " requests started late (by up to " (fmt_us(pl.lane.pacing.max_lag_us)) "), waiting for a free connection or for the client. Their latency counts from the intended start, so the wait is in the figures above."
            }
        }
    }
}

/// Every protocol's panels.
pub fn all(r: &ResultsFile) -> Markup {
    if r.lanes.is_empty() {
        return html! {};
    }
    let order = super::targets(r);
    html! {
        @for p in super::protocols(r) {
            @let lanes: Vec<Painted> = order.iter().enumerate()
                .filter_map(|(i, t)| r.lanes.iter().find(|l| &l.target == t && l.protocol == p).map(|lane| Painted { lane, colour: i }))
                .collect();
            section.protocol id=(format!("protocol-{p}")) {
                h2 { (p) }
                (charts_of(r, p, &lanes))
                h3 { "Status codes" }
                (statuses(&lanes))
                h3 { "Connections and what the server did" }
                (connections(&lanes))
                h3 { "Client pacing" }
                (pacing(r, &lanes))
            }
        }
        p.note { "Recycled: connections the server ended gracefully (GOAWAY, " code { "Connection: close" } ") or on which it refused a request. Retried: requests the server had not processed, sent once more on a fresh connection; each counts once. HTTP/1.1 counts " code { "Connection: close" } " as GOAWAY; HTTP/3 counts QUIC PING, MAX_DATA/MAX_STREAM_DATA and RESET_STREAM frames." }
    }
}
