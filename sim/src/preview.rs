//! Contact sheets a person can look at: the first band in grey beside a colour composite of
//! the next three (Euclid: VIS beside Y/J/H as blue/green/red), asinh-stretched.

use std::io::BufWriter;
use std::path::Path;

use ndarray::Array2;

use crate::caustics::AllCurves;
use crate::error::{Error, Result};

/// Side of each panel of a contact sheet, pixels.
pub const PANEL: usize = 400;
/// Gap between panels, pixels.
const GAP: usize = 6;
/// Softening of the asinh stretch: larger shows fainter structure.
const ASINH_SOFTENING: f64 = 10.0;

/// The value at percentile `p` (0–100) of `values`, ignoring NaNs.
pub fn percentile(values: &[f32], p: f64) -> f32 {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return 0.0;
    }
    let k = (((p / 100.0) * (v.len() - 1) as f64).round() as usize).min(v.len() - 1);
    let (_, kth, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    *kth
}

/// Maps a value to [0, 1] between `lo` and `hi` with an asinh stretch.
fn stretch(v: f32, lo: f32, hi: f32) -> f64 {
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f64
    } else {
        0.0
    };
    (ASINH_SOFTENING * t).asinh() / ASINH_SOFTENING.asinh()
}

/// Samples an image at panel pixel (r, c) of a `PANEL`-sized panel (nearest neighbour).
fn sample(img: &Array2<f32>, r: usize, c: usize) -> f32 {
    let (h, w) = img.dim();
    img[[(r * h / PANEL).min(h - 1), (c * w / PANEL).min(w - 1)]]
}

/// RGB pixels (row-major, 3 bytes each) of a contact sheet of `images`, and its width and height.
pub fn contact_sheet(images: &[&Array2<f32>]) -> (Vec<u8>, usize, usize) {
    // Panels: the first image in grey, then one RGB panel from the next three, then any rest in grey.
    let mut panels: Vec<Vec<&Array2<f32>>> = Vec::new();
    if let Some(first) = images.first() {
        panels.push(vec![first]);
    }
    let rest = &images[images.len().min(1)..];
    if rest.len() == 3 {
        panels.push(vec![rest[2], rest[1], rest[0]]); // reddest band as red
    } else {
        panels.extend(rest.iter().map(|i| vec![*i]));
    }
    let width = panels.len() * PANEL + (panels.len().saturating_sub(1)) * GAP;
    let height = PANEL;
    let mut rgb = vec![0u8; width * height * 3];
    for (p, chans) in panels.iter().enumerate() {
        // One stretch for all channels of a panel, so colours keep their ratios.
        let all: Vec<f32> = chans.iter().flat_map(|a| a.iter().copied()).collect();
        let (lo, hi) = (percentile(&all, 1.0).min(0.0), percentile(&all, 99.7));
        let x0 = p * (PANEL + GAP);
        for r in 0..PANEL {
            for c in 0..PANEL {
                let out = &mut rgb[((PANEL - 1 - r) * width + x0 + c) * 3..][..3]; // y up
                for (k, o) in out.iter_mut().enumerate() {
                    let img = chans[if chans.len() == 3 { k } else { 0 }];
                    *o = (255.0 * stretch(sample(img, r, c), lo, hi)).round() as u8;
                }
            }
        }
    }
    (rgb, width, height)
}

/// Writes a contact sheet of `images` (first band grey, next three as colour) to a PNG file,
/// under a temporary name first so that a failure leaves nothing behind. With `curves` and the
/// first image's pixel scale (arcsec), the critical curves and caustics are drawn on its panel.
pub fn write_contact_sheet(
    path: &Path,
    images: &[&Array2<f32>],
    curves: Option<(&AllCurves, f64)>,
) -> Result<()> {
    let (mut rgb, w, h) = contact_sheet(images);
    if let (Some((curves, pixel_scale)), Some(first)) = (curves, images.first()) {
        let panel = PanelFrame {
            image: first.dim(),
            pixel_scale,
        };
        draw_curves(&mut rgb, w, &panel, curves);
    }
    write_png(path, &rgb, w, h)
}

/// Colours of the curves drawn on a contact sheet: critical curves warm, caustics cool.
const TANGENTIAL_RGB: [u8; 3] = [255, 90, 40];
const TANGENTIAL_CAUSTIC_RGB: [u8; 3] = [60, 200, 255];
const RADIAL_RGB: [u8; 3] = [255, 220, 0];
const RADIAL_CAUSTIC_RGB: [u8; 3] = [170, 120, 255];

/// How the first panel of a contact sheet shows the sky: its image's (rows, columns) and
/// pixel scale, arcsec. The image's pixel (i, j) is centred on x = (j − (columns − 1)/2)·scale,
/// y = (i − (rows − 1)/2)·scale (`raytrace::Grid`), and row i is drawn upwards.
struct PanelFrame {
    image: (usize, usize),
    pixel_scale: f64,
}

impl PanelFrame {
    /// The sheet pixel (row from the top, column) the sky point (x, y) arcsec falls in, if it
    /// falls on the panel: the pixel that shows the image pixel holding the point.
    fn pixel(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let (h, w) = (self.image.0 as f64, self.image.1 as f64);
        // Continuous pixel coordinates: image pixel j spans [j, j + 1).
        let (u, v) = (
            x / self.pixel_scale + 0.5 * w,
            y / self.pixel_scale + 0.5 * h,
        );
        let (c, r) = (u * PANEL as f64 / w, v * PANEL as f64 / h);
        let on = |t: f64| (0.0..PANEL as f64).contains(&t);
        (on(c) && on(r)).then(|| (PANEL - 1 - r as usize, c as usize))
    }
}

/// Draws every curve of `curves` and its caustic on the first panel of a sheet `width` pixels
/// wide: the polylines sampled every half sheet pixel.
fn draw_curves(rgb: &mut [u8], width: usize, panel: &PanelFrame, curves: &AllCurves) {
    let kinds = [
        (&curves.tangential, TANGENTIAL_RGB, TANGENTIAL_CAUSTIC_RGB),
        (&curves.radial, RADIAL_RGB, RADIAL_CAUSTIC_RGB),
    ];
    // Sheet pixels per arcsec, to sample each segment finely enough.
    let per_arcsec = PANEL as f64 / (panel.image.1 as f64 * panel.pixel_scale);
    for (pairs, critical_rgb, caustic_rgb) in kinds {
        for pair in pairs {
            for (line, colour) in [(&pair.critical, critical_rgb), (&pair.caustic, caustic_rgb)] {
                for s in line.windows(2) {
                    let (a, b) = (s[0], s[1]);
                    let length = (b[0] - a[0]).hypot(b[1] - a[1]) * per_arcsec;
                    let steps = (2.0 * length).ceil().max(1.0) as usize;
                    for k in 0..=steps {
                        let t = k as f64 / steps as f64;
                        let (x, y) = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]));
                        if let Some((r, c)) = panel.pixel(x, y) {
                            rgb[(r * width + c) * 3..][..3].copy_from_slice(&colour);
                        }
                    }
                }
            }
        }
    }
}

/// Side of a mosaic tile, pixels.
pub const TILE: usize = 160;
/// Width of the coloured frame around a mosaic tile, pixels.
const FRAME: usize = 5;
/// Frame colours: a lens (green), not a lens (red), unlabelled (grey).
const LENS_RGB: [u8; 3] = [40, 200, 60];
const NON_LENS_RGB: [u8; 3] = [210, 40, 40];
const UNLABELLED_RGB: [u8; 3] = [128, 128, 128];

/// RGB pixels, width and height of a mosaic of grey tiles in `columns` columns, each image
/// stretched on its own (1st–99.7th percentile, asinh) and framed by its label's colour:
/// green for a lens, red for a non-lens, grey for none. A `None` tile leaves its cell empty.
pub type Tile<'a> = Option<(&'a Array2<f32>, Option<bool>)>;

/// See [`Tile`]: RGB pixels, width and height of the mosaic.
pub fn mosaic(tiles: &[Tile], columns: usize) -> (Vec<u8>, usize, usize) {
    let columns = columns.max(1).min(tiles.len().max(1));
    let rows = tiles.len().div_ceil(columns).max(1);
    let cell = TILE + 2 * FRAME + GAP;
    let (width, height) = (columns * cell - GAP, rows * cell - GAP);
    let mut rgb = vec![0u8; width * height * 3];
    for (t, tile) in tiles.iter().enumerate() {
        let Some((img, label)) = tile else { continue };
        let (x0, y0) = ((t % columns) * cell, (t / columns) * cell);
        let frame = match label {
            Some(true) => LENS_RGB,
            Some(false) => NON_LENS_RGB,
            None => UNLABELLED_RGB,
        };
        let values: Vec<f32> = img.iter().copied().collect();
        let (lo, hi) = (percentile(&values, 1.0).min(0.0), percentile(&values, 99.7));
        let (h, w) = img.dim();
        for r in 0..TILE + 2 * FRAME {
            for c in 0..TILE + 2 * FRAME {
                let px = &mut rgb[((y0 + r) * width + x0 + c) * 3..][..3];
                let inside =
                    (FRAME..FRAME + TILE).contains(&r) && (FRAME..FRAME + TILE).contains(&c);
                if inside {
                    let (ri, ci) = (TILE - 1 - (r - FRAME), c - FRAME); // y up
                    let v = img[[(ri * h / TILE).min(h - 1), (ci * w / TILE).min(w - 1)]];
                    px.fill((255.0 * stretch(v, lo, hi)).round() as u8);
                } else {
                    px.copy_from_slice(&frame);
                }
            }
        }
    }
    (rgb, width, height)
}

/// Writes RGB pixels (row-major, 3 bytes each) as a PNG, under a temporary name first so that a
/// failure leaves nothing behind.
pub fn write_png(path: &Path, rgb: &[u8], w: usize, h: usize) -> Result<()> {
    format::atomic::write_via(
        path,
        |tmp| encode_png(tmp, rgb, w, h, path),
        |path, source| Error::Io {
            path: path.into(),
            source,
        },
    )
}

/// Encodes the contact sheet into `tmp`; errors name `path`, the file the user asked for.
fn encode_png(tmp: &Path, rgb: &[u8], w: usize, h: usize, path: &Path) -> Result<()> {
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let png_err = |source| Error::Png {
        path: path.into(),
        source,
    };
    let file = std::fs::File::create(tmp).map_err(io)?;
    let mut enc = png::Encoder::new(BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(png_err)?;
    writer.write_image_data(rgb).map_err(png_err)?;
    writer.finish().map_err(png_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caustics::CurvePair;

    #[test]
    fn percentile_of_a_ramp() {
        let v: Vec<f32> = (0..101).map(|k| k as f32).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
    }

    #[test]
    fn a_sky_point_is_drawn_on_the_panel_pixel_that_shows_its_image_pixel() {
        // Round trip: an image whose every pixel holds its own index, drawn as a panel; the
        // sheet pixel the frame gives for the centre of image pixel (i, j) (Grid's convention)
        // must be one that `sample` fills from pixel (i, j).
        for (rows, cols, scale) in [(200, 200, 0.1), (66, 66, 0.3), (33, 50, 0.2)] {
            let frame = PanelFrame {
                image: (rows, cols),
                pixel_scale: scale,
            };
            let image = Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f32);
            for (i, j) in [(0, 0), (rows - 1, cols - 1), (rows / 2, 3), (7, cols / 3)] {
                let x = (j as f64 - 0.5 * (cols as f64 - 1.0)) * scale;
                let y = (i as f64 - 0.5 * (rows as f64 - 1.0)) * scale;
                let (r, c) = frame.pixel(x, y).unwrap();
                assert_eq!(
                    sample(&image, PANEL - 1 - r, c),
                    image[[i, j]],
                    "({i}, {j})"
                );
            }
            // Past the field's edge: not on the panel.
            let edge = 0.5 * cols as f64 * scale;
            assert_eq!(frame.pixel(edge + 1e-9, 0.0), None);
        }
    }

    #[test]
    fn the_curves_are_drawn_in_their_colours_and_only_on_the_first_panel() {
        // A square critical curve of half-side 1" and a caustic point at the centre, on a
        // 100×100 image at 0.1" (the panel shows ±5").
        let square = vec![
            [-1.0, -1.0],
            [1.0, -1.0],
            [1.0, 1.0],
            [-1.0, 1.0],
            [-1.0, -1.0],
        ];
        let curves = AllCurves {
            tangential: vec![CurvePair {
                caustic: vec![[0.0, 0.0], [0.0, 0.0]],
                critical: square,
            }],
            radial: vec![],
        };
        let image = Array2::<f32>::zeros((100, 100));
        let (mut rgb, w, _) = contact_sheet(&[&image, &image]);
        let before = rgb.clone();
        let frame = PanelFrame {
            image: (100, 100),
            pixel_scale: 0.1,
        };
        draw_curves(&mut rgb, w, &frame, &curves);
        let at = |x: f64, y: f64| {
            let (r, c) = frame.pixel(x, y).unwrap();
            rgb[(r * w + c) * 3..][..3].to_vec()
        };
        assert_eq!(at(1.0, 0.3), TANGENTIAL_RGB);
        assert_eq!(at(-0.5, -1.0), TANGENTIAL_RGB);
        assert_eq!(at(0.0, 0.0), TANGENTIAL_CAUSTIC_RGB);
        assert_eq!(at(0.5, 0.5), [0, 0, 0]);
        let changed: Vec<usize> = (0..rgb.len() / 3)
            .filter(|p| rgb[3 * p..3 * p + 3] != before[3 * p..3 * p + 3])
            .collect();
        assert!(
            changed.iter().all(|p| p % w < PANEL),
            "drawn beyond the first panel"
        );
        // The square's perimeter, 8" at 40 sheet pixels an arcsec, is about 320 pixels.
        assert!(
            (300..=340).contains(&changed.len()),
            "{} pixels",
            changed.len()
        );
    }

    #[test]
    fn a_bright_pixel_is_white_and_the_sheet_has_two_panels() {
        let mut a = Array2::<f32>::zeros((10, 10));
        a[[9, 0]] = 5.0; // top-left on the sheet, since y points up
        let b = Array2::<f32>::zeros((4, 4));
        let (rgb, w, h) = contact_sheet(&[&a, &b, &b, &b]);
        assert_eq!((w, h), (2 * PANEL + GAP, PANEL));
        assert_eq!(&rgb[..3], &[255, 255, 255]);
        assert_eq!(rgb[(h - 1) * w * 3], 0);
    }
}
