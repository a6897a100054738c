//! The CPU ray shooter (rayon over image rows; every pixel is computed independently, so the
//! result does not depend on the number of threads).
//!
//! [`render_grid`] is the fast path: eight sub-pixels at a time in single precision
//! ([`crate::simd`]). [`render_grid_f64`] does the same work one ray at a time in double
//! precision with the reference profile functions; the two are tested to agree.

use ndarray::Array2;
use rayon::prelude::*;

use super::{Grid, System};
use crate::light::LightProfile;
use crate::mass::MassProfile;
use crate::simd::F8;

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
    let sub_x: Vec<f32> = (0..n)
        .flat_map(|j| {
            offsets
                .iter()
                .map(move |&d| (grid.pixel_center(j) + d) as f32)
        })
        .collect();
    let chunks = sub_x.len().div_ceil(8);
    let lanes: Vec<F8> = (0..chunks)
        .map(|c| {
            F8::new(std::array::from_fn(|l| {
                sub_x[(8 * c + l).min(sub_x.len() - 1)]
            }))
        })
        .collect();
    let flux_of = |comps: &[super::LightComponent]| -> Vec<F8> {
        comps
            .iter()
            .flat_map(|c| bands.iter().map(move |&b| F8::splat(c.flux[b] as f32)))
            .collect()
    };
    let src_flux = flux_of(&system.source_light);
    let lens_flux = flux_of(&system.lens_light);
    let norm = grid.pixel_scale * grid.pixel_scale / (ss * ss) as f64;

    // Row-major [row][col][band][lens, source], one row per rayon task.
    let mut buf = vec![0f64; n * n * nb * 2];
    buf.par_chunks_mut(n * nb * 2)
        .enumerate()
        .for_each(|(i, row)| {
            // Sums over the row's sub-rows, per band, per sub-pixel column.
            let mut acc_src = vec![F8::ZERO; nb * chunks];
            let mut acc_lens = vec![F8::ZERO; nb * chunks];
            for &dy in &offsets {
                let y = F8::splat((grid.pixel_center(i) + dy) as f32);
                for (c, &x) in lanes.iter().enumerate() {
                    let (ax, ay) = system.lens.deflection_x8(x, y);
                    let (bx, by) = (x - ax, y - ay);
                    for (k, comp) in system.source_light.iter().enumerate() {
                        let v = comp.profile.unit_brightness_x8(bx, by);
                        for b in 0..nb {
                            acc_src[b * chunks + c] += src_flux[k * nb + b] * v;
                        }
                    }
                    for (k, comp) in system.lens_light.iter().enumerate() {
                        let v = comp.profile.unit_brightness_x8(x, y);
                        for b in 0..nb {
                            acc_lens[b * chunks + c] += lens_flux[k * nb + b] * v;
                        }
                    }
                }
            }
            for b in 0..nb {
                let src: Vec<f32> = acc_src[b * chunks..(b + 1) * chunks]
                    .iter()
                    .flat_map(|v| v.to_array())
                    .collect();
                let lens: Vec<f32> = acc_lens[b * chunks..(b + 1) * chunks]
                    .iter()
                    .flat_map(|v| v.to_array())
                    .collect();
                for j in 0..n {
                    let cols = j * ss..(j + 1) * ss;
                    row[(j * nb + b) * 2] =
                        lens[cols.clone()].iter().map(|&v| v as f64).sum::<f64>() * norm;
                    row[(j * nb + b) * 2 + 1] =
                        src[cols].iter().map(|&v| v as f64).sum::<f64>() * norm;
                }
            }
        });
    split_bands(&buf, n, nb)
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

    // Row-major [row][col][band][lens, source], one row per rayon task.
    let mut buf = vec![0f64; n * n * nb * 2];
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
                let px = &mut row[j * nb * 2..(j + 1) * nb * 2];
                for k in 0..nb {
                    px[2 * k] = sb_lens[k] * norm;
                    px[2 * k + 1] = sb_src[k] * norm;
                }
            }
        });

    split_bands(&buf, n, nb)
}

/// Splits a [row][col][band][lens, source] buffer into per-band (lens, source) images.
fn split_bands(buf: &[f64], n: usize, nb: usize) -> Vec<(Array2<f32>, Array2<f32>)> {
    (0..nb)
        .map(|k| {
            let lens =
                Array2::from_shape_fn((n, n), |(i, j)| buf[((i * n + j) * nb + k) * 2] as f32);
            let source =
                Array2::from_shape_fn((n, n), |(i, j)| buf[((i * n + j) * nb + k) * 2 + 1] as f32);
            (lens, source)
        })
        .collect()
}
