//! Bringing a stamp onto another grid: whether it must be resampled, and the resampling itself
//! (bilinear, half-pixel centres, counts scaled by the ratio of pixel areas).

use crate::checked::Grid;

/// How a stamp is brought onto a grid: each grid pixel is `ratio` stamp pixels wide, and its
/// value is multiplied by `gain`, the ratio of pixel areas (so that a pixel holds the counts
/// of its area: the same surface brightness) when both pixel scales are known, 1 otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Resampling {
    pub(crate) ratio: f64,
    pub(crate) gain: f32,
}

/// Whether a stamp of `shape` and `scale` can be read onto `grid`: `None` when it is on it
/// already, the [`Resampling`] when it must be resampled, or why it cannot be.
pub(crate) fn fits_grid(
    shape: [usize; 2],
    scale: Option<f64>,
    grid: &Grid,
) -> Result<Option<Resampling>, String> {
    let [h, w] = shape;
    let n = grid.side;
    match (scale, grid.pixel_scale) {
        (None, Some(g)) => Err(format!(
            "its pixel scale cannot be read (no PIXSCALE, CDELT or CD card), and the grid's is \
             {g}\""
        )),
        (Some(s), Some(g)) if (s - g).abs() <= 1e-6 * g && shape == [n, n] => Ok(None),
        (Some(s), Some(g)) => Ok(Some(Resampling {
            ratio: g / s,
            gain: ((g / s) * (g / s)) as f32,
        })),
        _ if shape == [n, n] => Ok(None),
        _ if h == w => Ok(Some(Resampling {
            ratio: h as f64 / n as f64,
            gain: 1.0,
        })),
        _ => Err(format!(
            "a {h}×{w} stamp without a pixel scale cannot be brought onto the band's {n}×{n} grid"
        )),
    }
}

/// Resamples `pixels` (`shape` = [rows, columns]) onto an `n` × `n` grid about the same centre,
/// each grid pixel `ratio` input pixels wide: bilinear with half-pixel centres (grid pixel j
/// sits at input position (j + ½ − n/2)·ratio + w/2 − ½), clamped within half a pixel of the
/// edge, and NaN (missing data, the background to the network) beyond the stamp. When the
/// fields are the same (n·ratio = w) this is the map of `train`'s `resize_square`.
pub fn resample(pixels: &[f32], shape: [usize; 2], n: usize, ratio: f64, out: &mut [f32]) {
    let [h, w] = shape;
    let axis = |j: usize, m: usize| -> Option<(usize, usize, f32)> {
        let x = (j as f64 + 0.5 - n as f64 / 2.0) * ratio + m as f64 / 2.0 - 0.5;
        if x < -0.5 - 1e-9 || x > m as f64 - 0.5 + 1e-9 {
            return None;
        }
        let x = x.clamp(0.0, (m - 1) as f64);
        let x0 = x.floor() as usize;
        Some((x0, (x0 + 1).min(m - 1), (x - x0 as f64) as f32))
    };
    for (y, row) in out.chunks_mut(n).enumerate() {
        let ay = axis(y, h);
        for (x, o) in row.iter_mut().enumerate() {
            *o = match (ay, axis(x, w)) {
                (Some((y0, y1, fy)), Some((x0, x1, fx))) => {
                    let at = |r: usize, c: usize| pixels[r * w + c];
                    let top = at(y0, x0) + fx * (at(y0, x1) - at(y0, x0));
                    let bottom = at(y1, x0) + fx * (at(y1, x1) - at(y1, x0));
                    top + fy * (bottom - top)
                }
                _ => f32::NAN,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bilinear resampling reproduces a plane exactly: a stamp whose pixel (r, c) holds
    /// 2·x + 3·y at its centre (x, y in arcsec from the stamp's centre) gives, on any grid about
    /// the same centre, 2·x + 3·y at the grid pixels' centres, wherever they lie inside the
    /// stamp (more than half a stamp pixel from its edge); beyond the stamp it gives NaN.
    #[test]
    fn resampling_reproduces_a_plane_and_leaves_the_outside_missing() {
        let plane = |side: usize, scale: f64| -> Vec<f32> {
            let c = |k: usize| (k as f64 + 0.5 - side as f64 / 2.0) * scale;
            (0..side * side)
                .map(|k| (2.0 * c(k % side) + 3.0 * c(k / side)) as f32)
                .collect()
        };
        for (m, s_in, n, s_out) in [
            (30usize, 0.3, 20usize, 0.2),
            (12, 0.1, 20, 0.1),
            (9, 0.5, 40, 0.1),
        ] {
            let mut out = vec![0f32; n * n];
            resample(&plane(m, s_in), [m, m], n, s_out / s_in, &mut out);
            let want = plane(n, s_out);
            let half_field = m as f64 * s_in / 2.0 - s_in / 2.0;
            for (k, (&got, &w)) in out.iter().zip(&want).enumerate() {
                let at = |j: usize| (j as f64 + 0.5 - n as f64 / 2.0) * s_out;
                let (x, y) = (at(k % n), at(k / n));
                let inside = x.abs() <= half_field + 1e-9 && y.abs() <= half_field + 1e-9;
                let beyond = x.abs() > half_field + s_in / 2.0 + 1e-9
                    || y.abs() > half_field + s_in / 2.0 + 1e-9;
                if inside {
                    assert!(
                        (got - w).abs() < 1e-4,
                        "{m}→{n} at ({x}, {y}): {got} vs {w}"
                    );
                } else if beyond {
                    assert!(got.is_nan(), "{m}→{n} at ({x}, {y}): {got}");
                }
            }
        }
    }
}
