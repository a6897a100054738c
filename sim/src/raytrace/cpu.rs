//! The CPU ray shooter (rayon over image rows; every pixel is computed independently, so the
//! result does not depend on the number of threads).
//!
//! [`render_grid`] is the fast path: sixteen sub-pixels at a time in single precision
//! ([`crate::simd`]). [`render_grid_f64`] does the same work one ray at a time in double
//! precision with the reference profile functions; the two are tested to agree.

use ndarray::Array2;
use rayon::prelude::*;

use super::{Grid, System};
use crate::light::LightProfile;
use crate::mass::MassProfile;
use crate::simd::{in_lanes, Lanes, LANES};

/// Renders the lens light and the lensed source of `system` on `grid` for the survey bands
/// `bands` (indices into each component's flux list), sharing one deflection per sub-pixel.
///
/// Returns one (lens, source) pair of images per band, e⁻/s per pixel.
pub fn render_grid(
    system: &System,
    grid: &Grid,
    bands: &[usize],
) -> Vec<(Array2<f32>, Array2<f32>)> {
    let n = grid.size;
    let nb = bands.len();
    let ss = grid.supersample;
    let offsets = grid.subpixel_offsets();
    // x of every sub-pixel of a row, padded to whole lanes (the padding's results are dropped).
    let lanes = in_lanes(&grid.subpixel_centers_f32());
    let chunks = lanes.len();
    let flux_of = |comps: &[super::LightComponent]| -> Vec<Lanes> {
        comps
            .iter()
            .flat_map(|c| bands.iter().map(move |&b| Lanes::splat(c.flux[b] as f32)))
            .collect()
    };
    let src_flux = flux_of(&system.source_light);
    let lens_flux = flux_of(&system.lens_light);
    let norm = grid.pixel_scale * grid.pixel_scale / (ss * ss) as f64;

    // Row-major [row][band][lens, source][col], one row per rayon task; each task's scratch
    // rows made once for all the rows it renders.
    let mut buf = vec![0f32; n * n * nb * 2];
    buf.par_chunks_mut(n * nb * 2).enumerate().for_each_init(
        || RowScratch::new(nb, chunks),
        |scratch, (i, row)| {
            let RowScratch {
                acc_src,
                acc_lens,
                ax,
                ay,
                bx,
                by,
                ys,
                v,
                sub_pixels,
            } = scratch;
            acc_src.fill(Lanes::ZERO);
            acc_lens.fill(Lanes::ZERO);
            for &dy in &offsets {
                let y = Lanes::splat((grid.pixel_center(i) + dy) as f32);
                ax.fill(Lanes::ZERO);
                ay.fill(Lanes::ZERO);
                system.lens.add_deflections_lanes(&lanes, y, ax, ay);
                for c in 0..chunks {
                    bx[c] = lanes[c] - ax[c];
                    by[c] = y - ay[c];
                }
                for (k, comp) in system.source_light.iter().enumerate() {
                    comp.profile.unit_brightness_row_lanes(bx, by, v);
                    accumulate(acc_src, &src_flux[k * nb..(k + 1) * nb], v);
                }
                ys.fill(y);
                for (k, comp) in system.lens_light.iter().enumerate() {
                    comp.profile.unit_brightness_row_lanes(&lanes, ys, v);
                    accumulate(acc_lens, &lens_flux[k * nb..(k + 1) * nb], v);
                }
            }
            // Each pixel: the sum of its sub-pixel columns' sums, in f64, times the pixel area
            // over the rays a pixel.
            for (b, out) in row.chunks_exact_mut(2 * n).enumerate() {
                let (lens_out, src_out) = out.split_at_mut(n);
                for (acc, out) in [(&*acc_lens, lens_out), (&*acc_src, src_out)] {
                    for (c, v) in acc[b * chunks..(b + 1) * chunks].iter().enumerate() {
                        sub_pixels[c * LANES..(c + 1) * LANES].copy_from_slice(&v.to_array());
                    }
                    for (j, px) in out.iter_mut().enumerate() {
                        let sum: f64 = sub_pixels[j * ss..(j + 1) * ss]
                            .iter()
                            .map(|&v| v as f64)
                            .sum();
                        *px = (sum * norm) as f32;
                    }
                }
            }
        },
    );
    split_bands(&buf, n, nb)
}

/// Adds `v` times each band's flux (`flux[b]`) to band b's sums (`acc`, `LANES`-lane groups
/// of a sub-row, band after band).
#[inline(always)]
fn accumulate(acc: &mut [Lanes], flux: &[Lanes], v: &[Lanes]) {
    for (acc, &f) in acc.chunks_exact_mut(v.len()).zip(flux) {
        acc.iter_mut().zip(v).for_each(|(a, &v)| *a += f * v);
    }
}

/// One rayon task's working rows for [`render_grid`], each `chunks` groups of lanes long.
struct RowScratch {
    /// Sums over a row's sub-rows, per band (band after band), per sub-pixel column.
    acc_src: Vec<Lanes>,
    acc_lens: Vec<Lanes>,
    /// One sub-row's deflection, source-plane positions and image-plane y.
    ax: Vec<Lanes>,
    ay: Vec<Lanes>,
    bx: Vec<Lanes>,
    by: Vec<Lanes>,
    ys: Vec<Lanes>,
    /// One component's brightness along the sub-row.
    v: Vec<Lanes>,
    /// One band's sums as single lanes.
    sub_pixels: Vec<f32>,
}

impl RowScratch {
    fn new(bands: usize, chunks: usize) -> Self {
        let row = || vec![Lanes::ZERO; chunks];
        Self {
            acc_src: vec![Lanes::ZERO; bands * chunks],
            acc_lens: vec![Lanes::ZERO; bands * chunks],
            ax: row(),
            ay: row(),
            bx: row(),
            by: row(),
            ys: row(),
            v: row(),
            sub_pixels: vec![0.0; chunks * LANES],
        }
    }
}

/// [`render_grid`] one ray at a time in double precision with the reference (f64) profile
/// functions: slower, and the yardstick the fast path is tested against.
pub fn render_grid_f64(
    system: &System,
    grid: &Grid,
    bands: &[usize],
) -> Vec<(Array2<f32>, Array2<f32>)> {
    let n = grid.size;
    let nb = bands.len();
    let offsets = grid.subpixel_offsets();
    let norm = grid.pixel_scale * grid.pixel_scale / (grid.supersample * grid.supersample) as f64;
    // Fluxes of every component in just these bands, contiguous for the inner loop.
    let flux_of = |comps: &[super::LightComponent]| -> Vec<f64> {
        comps
            .iter()
            .flat_map(|c| bands.iter().map(move |&b| c.flux[b]))
            .collect()
    };
    let src_flux = flux_of(&system.source_light);
    let lens_flux = flux_of(&system.lens_light);

    // Row-major [row][band][lens, source][col], one row per rayon task, as render_grid's.
    let mut buf = vec![0f32; n * n * nb * 2];
    buf.par_chunks_mut(n * nb * 2)
        .enumerate()
        .for_each(|(i, row)| {
            let yc = grid.pixel_center(i);
            let mut sb_src = vec![0f64; nb];
            let mut sb_lens = vec![0f64; nb];
            for j in 0..n {
                let xc = grid.pixel_center(j);
                sb_src.iter_mut().for_each(|v| *v = 0.0);
                sb_lens.iter_mut().for_each(|v| *v = 0.0);
                for &dy in &offsets {
                    let y = yc + dy;
                    for &dx in &offsets {
                        let x = xc + dx;
                        let (ax, ay) = system.lens.deflection(x, y);
                        let (bx, by) = (x - ax, y - ay);
                        for (c, comp) in system.source_light.iter().enumerate() {
                            let v = comp.profile.unit_brightness(bx, by);
                            for (k, s) in sb_src.iter_mut().enumerate() {
                                *s += src_flux[c * nb + k] * v;
                            }
                        }
                        for (c, comp) in system.lens_light.iter().enumerate() {
                            let v = comp.profile.unit_brightness(x, y);
                            for (k, s) in sb_lens.iter_mut().enumerate() {
                                *s += lens_flux[c * nb + k] * v;
                            }
                        }
                    }
                }
                for k in 0..nb {
                    row[2 * k * n + j] = (sb_lens[k] * norm) as f32;
                    row[(2 * k + 1) * n + j] = (sb_src[k] * norm) as f32;
                }
            }
        });

    split_bands(&buf, n, nb)
}

/// Splits a [row][band][lens, source][col] buffer of n×n images into per-band (lens, source)
/// images.
fn split_bands(buf: &[f32], n: usize, nb: usize) -> Vec<(Array2<f32>, Array2<f32>)> {
    (0..nb)
        .map(|b| {
            let part = |part: usize| {
                let mut image = Array2::zeros((n, n));
                for (i, mut out) in image.rows_mut().into_iter().enumerate() {
                    let start = ((i * nb + b) * 2 + part) * n;
                    out.assign(&ndarray::ArrayView1::from(&buf[start..start + n]));
                }
                image
            };
            (part(0), part(1))
        })
        .collect()
}
