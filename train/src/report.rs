//! What every report's figures and files share: PNG line charts drawn with plotters and the
//! embedded DejaVu Sans font (no system fonts needed), their error, and text files written
//! whole or not at all. Each figure is drawn beside the report type it shows (`fit::plots`,
//! `evaluate::sweep`, `combine::compare`, `combine::ensemble`, `explain::plot`).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`), embedded so that the
/// plots need no fonts on the machine.
pub(crate) const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// A figure that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlotError {
    /// The PNG file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Writes `text` to `path` through a temporary file beside it, renamed when complete, so that
/// a failure leaves no half-written file.
pub fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    format::atomic::write_bytes(path, text.as_bytes())
}

/// A named line of (x, y) points.
pub(crate) type Series = (String, Vec<(f64, f64)>);

pub(crate) fn plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: (f64, f64),
    y: (f64, f64),
    series: &[Series],
) -> Result<(), PlotError> {
    let err = figure(path);
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    draw_lines(&root, title, (x_label, y_label), x, y, series, None).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws `series` as lines in `area` (the k-th in the palette's k-th colour; with `dashed`, a
/// last line in grey, dashed, named by its first element), with a legend at the lower right.
pub(crate) fn draw_lines(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    x: (f64, f64),
    y: (f64, f64),
    series: &[Series],
    dashed: Option<&Series>,
) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = axes(area, title, (x_label, y_label), x, y)?;
    for (k, (name, pts)) in series.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], colour));
    }
    if let Some((name, pts)) = dashed {
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(DashedLineSeries::new(
                pts.iter().copied(),
                6,
                4,
                grey.stroke_width(2),
            ))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], grey));
    }
    legend(&mut chart)
}

/// A chart of linear axes over `x` × `y` in `area`, titled, its axes labelled and meshed.
pub(crate) type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The axes every line chart here has: `title` above, `x_label` and `y_label` on linear axes
/// over `x` and `y`, with a light mesh.
pub(crate) fn axes<'a, 'b>(
    area: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    x: (f64, f64),
    y: (f64, f64),
) -> Result<Chart<'a, 'b>, String> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// The legend of `chart`'s labelled series, at the lower right.
pub(crate) fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())
}

/// Starts the figure in `path`: registers the embedded font as plotters' "sans-serif"
/// (registering it twice is harmless; a failure only means plotters draws no text) and gives the
/// maker of this figure's errors.
pub(crate) fn figure(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> PlotError + '_ {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    move |e| PlotError {
        path: path.into(),
        message: e.to_string(),
    }
}
