//! The figure of one LIME explanation, beside [`super::Explanation`].

use std::path::Path;

use plotters::prelude::*;

use crate::report::{figure, PlotError};

/// Draws one LIME explanation (`train explain`): the stamp in grey (2× enlarged), the two
/// superpixels that speak most for a lens tinted green and the two for a non-lens yellow,
/// every superpixel's border faint, and `caption` above.
pub fn plot_explanation(
    path: &Path,
    image: &ndarray::Array2<f32>,
    explanation: &crate::explain::Explanation,
    caption: &str,
) -> Result<(), PlotError> {
    let err = figure(path);
    const ZOOM: u32 = 2;
    const TOP: u32 = 60;
    let (h, w) = image.dim();
    let root =
        BitMapBackend::new(path, (w as u32 * ZOOM, h as u32 * ZOOM + TOP)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (lo, hi) = image
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-12);
    let seg = &explanation.segments;
    let tint = |s: u32| -> Option<(f64, f64, f64)> {
        if explanation.lens_segments.contains(&s) {
            Some((0.0, 1.0, 0.0))
        } else if explanation.non_lens_segments.contains(&s) {
            Some((1.0, 1.0, 0.0))
        } else {
            None
        }
    };
    for ((i, j), &v) in image.indexed_iter() {
        // Row i ↔ y increasing upwards, as on the sky.
        let g = ((v - lo) / span) as f64;
        let s = seg[[i, j]];
        let border = (j + 1 < w && seg[[i, j + 1]] != s) || (i + 1 < h && seg[[i + 1, j]] != s);
        let (r, gr, b) = match tint(s) {
            Some((tr, tg, tb)) => (0.5 * g + 0.5 * tr, 0.5 * g + 0.5 * tg, 0.5 * g + 0.5 * tb),
            None => (g, g, g),
        };
        let (r, gr, b) = if border {
            (0.6 * r + 0.4, 0.6 * gr + 0.4 * 0.3, 0.6 * b + 0.4 * 0.3)
        } else {
            (r, gr, b)
        };
        let colour = RGBColor((255.0 * r) as u8, (255.0 * gr) as u8, (255.0 * b) as u8);
        let x0 = j as i32 * ZOOM as i32;
        let y0 = TOP as i32 + (h - 1 - i) as i32 * ZOOM as i32;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + ZOOM as i32, y0 + ZOOM as i32)],
            colour.filled(),
        ))
        .map_err(|e| err(&e))?;
    }
    root.draw(&Text::new(caption.to_string(), (8, 8), ("sans-serif", 18)))
        .map_err(|e| err(&e))?;
    root.draw(&Text::new(
        "green: for a lens   yellow: for a non-lens".to_string(),
        (8, 32),
        ("sans-serif", 14),
    ))
    .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
