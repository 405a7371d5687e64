//! SVG charts for the HTML report, drawn with plotters' SVG backend (no fonts, no scripts, no
//! external resources): the percentile spectrum on the usual log "nines" scale, and series over
//! time with the warm-up shaded and stage boundaries marked.

use plotters::prelude::*;

use crate::model::hist::Hist;

/// Series colours: candidate first, baseline second, then any other target.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The colour of the `i`-th series, as CSS.
pub fn css_colour(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// One named line.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
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
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        3 => "99.9%".into(),
        4 => "99.99%".into(),
        _ => String::new(),
    }
}

fn y_max(series: &[Series]) -> f64 {
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

fn draw<F>(caption: &str, f: F) -> String
where
    F: FnOnce(
        &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| f(&root).map_err(|e| e.to_string()))
            .and_then(|_| root.present().map_err(|e| e.to_string()));
        if let Err(e) = drawn {
            // A chart that cannot be drawn says so instead of failing the report.
            return format!(
                "<p class=\"note\">{} could not be drawn: {}</p>",
                super::html::esc(caption),
                super::html::esc(&e)
            );
        }
    }
    svg
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws every series in its colour, with a legend.
fn lines<'a, 'b: 'a>(
    c: &mut Chart<'a, 'b>,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        c.draw_series(LineSeries::new(
            s.points.iter().copied(),
            colour.stroke_width(2),
        ))?
        .label(s.name.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    c.configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}

/// The chart area every chart shares: caption, margins, label areas, and the given ranges.
fn frame<'a, 'b: 'a>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    x: std::ops::Range<f64>,
    top: f64,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(x, 0f64..top)
}

/// A percentile-spectrum chart with every series overlaid.
pub fn spectrum(caption: &str, series: &[Series]) -> String {
    let top = y_max(series);
    draw(caption, |root| {
        let mut c = frame(root, caption, 0f64..4f64, top)?;
        c.configure_mesh()
            .x_labels(5)
            .x_label_formatter(&nines_label)
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .draw()?;
        lines(&mut c, series, SeriesLabelPosition::UpperLeft)
    })
}

/// Series over time (seconds), with the warm-up shaded and stage boundaries as vertical lines.
pub fn over_time(
    caption: &str,
    y_desc: &str,
    series: &[Series],
    warmup_s: f64,
    marks: &[f64],
) -> String {
    let top = y_max(series);
    let right = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0, f64::max)
        + 1.0;
    draw(caption, |root| {
        let mut c = frame(root, caption, 0f64..right, top)?;
        c.configure_mesh()
            .x_desc("seconds since start")
            .y_desc(y_desc)
            .draw()?;
        if warmup_s > 0.0 {
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, 0.0), (warmup_s, top)],
                RGBColor(200, 200, 200).mix(0.4).filled(),
            )))?
            .label("warm-up")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 20, y + 5)],
                    RGBColor(200, 200, 200).filled(),
                )
            });
        }
        for m in marks {
            c.draw_series(LineSeries::new(vec![(*m, 0.0), (*m, top)], BLACK.mix(0.3)))?;
        }
        lines(&mut c, series, SeriesLabelPosition::UpperRight)
    })
}
