//! SVG charts for the HTML report, drawn with plotters' SVG backend (no fonts, no scripts, no
//! external resources): the percentile spectrum on the usual "nines" scale and series over time,
//! latency on a log axis so p50 and p99 both read. Legends are not drawn inside the SVG: the
//! report puts them beside the chart as HTML, where they can never cover a line.

use plotters::prelude::*;

use crate::model::hist::Hist;

/// Path colours: the candidate first, the baseline second, then any other target. A path keeps
/// its colour in every chart of a report.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 110, 0),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The colour of the `i`-th path, as CSS.
pub fn css_colour(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// One named line.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The path's colour index (see [`css_colour`]).
    pub colour: usize,
    /// Dashed: the second figure of the same path (p99 beside p50, uncorrected beside corrected).
    pub dashed: bool,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// How the y axis maps values.
#[derive(Clone, Copy, PartialEq)]
pub enum Scale {
    /// Linear from zero (throughput).
    Linear,
    /// Log10 over the given decades of milliseconds, e.g. `(-1, 2)` for 0.1 ms to 100 ms.
    LogMs(i32, i32),
}

impl Scale {
    /// The log scale that holds every positive value of `series`, in whole decades.
    pub fn log_for(series: &[&[Series]]) -> Scale {
        let vals = series
            .iter()
            .flat_map(|s| s.iter())
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|v| *v > 0.0);
        let (lo, hi) = vals.fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if hi <= 0.0 {
            return Scale::LogMs(-1, 1);
        }
        let lo = lo.max(1e-3).log10().floor() as i32;
        let hi = (hi.log10() + 1e-9).ceil() as i32;
        Scale::LogMs(lo, hi.max(lo + 1))
    }

    fn y(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            // Zero and below sit on the axis floor instead of at minus infinity.
            Scale::LogMs(lo, _) => v.max(10f64.powi(lo)).log10(),
        }
    }
}

/// The percentile spectrum of a histogram: x = −log10(1 − q) from 0 (p0) to 4 (p99.99), y in ms.
pub fn spectrum_points(h: &Hist) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    (0..=400)
        .map(|i| {
            let x = f64::from(i) / 100.0;
            let q = (1.0 - 10f64.powf(-x)).clamp(0.0, 0.9999);
            (x, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect()
}

fn nines_label(x: &f64) -> String {
    match x.round() as i64 {
        0 => "p0".into(),
        1 => "p90".into(),
        2 => "p99".into(),
        3 => "p99.9".into(),
        4 => "p99.99".into(),
        _ => String::new(),
    }
}

/// A milliseconds value as a tick label: `0.1 ms`, `2 ms`, `1.5 s`.
fn ms_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{} s", trim(v / 1000.0))
    } else {
        format!("{} ms", trim(v))
    }
}

fn trim(v: f64) -> String {
    let s = if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn y_top(series: &[Series]) -> f64 {
    let m = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    if m > 0.0 {
        m * 1.1
    } else {
        1.0
    }
}

/// Chart size in SVG units; the page scales it to its column.
pub const SIZE: (u32, u32) = (560, 300);

fn draw<F>(caption: &str, f: F) -> String
where
    F: FnOnce(
        &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| f(&root).map_err(|e| e.to_string()))
            .and_then(|_| root.present().map_err(|e| e.to_string()));
        if let Err(e) = drawn {
            // A chart that cannot be drawn says so instead of failing the report.
            return maud::html! { p.note { (caption) " could not be drawn: " (e) } }.into_string();
        }
    }
    svg
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws every series in its path's colour, dashed where asked.
fn lines(
    c: &mut Chart<'_, '_>,
    series: &[Series],
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    for s in series {
        let style = PALETTE[s.colour % PALETTE.len()].stroke_width(2);
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (x, scale.y(y))).collect();
        if s.dashed {
            c.draw_series(DashedLineSeries::new(points, 6, 4, style))?;
        } else {
            c.draw_series(LineSeries::new(points, style))?;
        }
    }
    Ok(())
}

/// The frame every chart shares: caption, margins (the right one wide enough for the last
/// x label), label areas, and the ranges.
fn frame<'a, 'b: 'a>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    x: std::ops::Range<f64>,
    scale: Scale,
    top: f64,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let y = match scale {
        Scale::Linear => 0f64..top,
        Scale::LogMs(lo, hi) => f64::from(lo)..f64::from(hi),
    };
    ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .margin_right(28)
        .x_label_area_size(38)
        .y_label_area_size(62)
        .build_cartesian_2d(x, y)
}

fn y_labels(
    c: &mut Chart<'_, '_>,
    scale: Scale,
    y_desc: &str,
    x_desc: &str,
    nines: bool,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let fmt_log = |y: &f64| ms_label(10f64.powf(*y));
    let fmt_lin = |y: &f64| trim(*y);
    let mut mesh = c.configure_mesh();
    mesh.x_desc(x_desc).y_desc(y_desc);
    if nines {
        mesh.x_labels(5).x_label_formatter(&nines_label);
    }
    match scale {
        Scale::LogMs(lo, hi) => {
            mesh.y_labels((hi - lo) as usize + 1)
                .y_label_formatter(&fmt_log);
        }
        Scale::Linear => {
            mesh.y_label_formatter(&fmt_lin);
        }
    }
    mesh.draw()
}

/// A percentile-spectrum chart with every series overlaid, on a log latency axis.
pub fn spectrum(caption: &str, series: &[Series], scale: Scale) -> String {
    draw(caption, |root| {
        let mut c = frame(root, caption, 0f64..4f64, scale, 0.0)?;
        y_labels(&mut c, scale, "latency", "percentile", true)?;
        lines(&mut c, series, scale)
    })
}

/// Series over time (seconds), with the warm-up shaded and stage boundaries as vertical lines.
pub fn over_time(
    caption: &str,
    y_desc: &str,
    series: &[Series],
    scale: Scale,
    warmup_s: f64,
    marks: &[f64],
    right: f64,
) -> String {
    let top = y_top(series);
    let (floor, ceil) = match scale {
        Scale::Linear => (0.0, top),
        Scale::LogMs(lo, hi) => (f64::from(lo), f64::from(hi)),
    };
    draw(caption, |root| {
        let mut c = frame(root, caption, 0f64..right.max(1.0), scale, top)?;
        y_labels(&mut c, scale, y_desc, "seconds since start", false)?;
        if warmup_s > 0.0 {
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, floor), (warmup_s, ceil)],
                RGBColor(200, 200, 200).mix(0.4).filled(),
            )))?;
        }
        for m in marks {
            c.draw_series(LineSeries::new(
                vec![(*m, floor), (*m, ceil)],
                BLACK.mix(0.3),
            ))?;
        }
        lines(&mut c, series, scale)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_scale_spans_whole_decades_around_the_data() {
        let s = vec![Series {
            name: "a".into(),
            colour: 0,
            dashed: false,
            points: vec![(0.0, 0.12), (1.0, 35.0)],
        }];
        assert!(matches!(Scale::log_for(&[&s]), Scale::LogMs(-1, 2)));
        assert_eq!(ms_label(0.1), "0.1 ms");
        assert_eq!(ms_label(1500.0), "1.5 s");
    }
}
