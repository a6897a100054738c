//! The CPU ray shooter (rayon over image rows; every pixel is computed independently, so the
//! result does not depend on the number of threads).

use ndarray::Array2;
use rayon::prelude::*;

use super::{Grid, System};
use crate::light::LightProfile;
use crate::mass::MassProfile;

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
