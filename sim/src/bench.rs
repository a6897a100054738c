//! `sim bench-deflect`: rays per second of the deflection alone, the ray shooter's hot loop, on
//! the CPU (the eight-lane single-precision path on rayon threads) or on the GPU (the
//! `deflect_grid` kernel of `kernels/mass.cu`), for the lenses of a population's first systems
//! on a survey band's supersampled grid.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use crate::error::Result;
use crate::mass::{Lens, MassProfile};
use crate::observe::survey::Survey;
use crate::population::Population;
use crate::raytrace::Grid;
use crate::simd::F8;

/// The lenses (mass only) of systems 0..n of `population` drawn with `seed` for `survey`.
pub fn sample_lenses(
    population: &Population,
    survey: &Survey,
    n: usize,
    seed: u64,
) -> Result<Vec<Lens>> {
    (0..n as u64)
        .into_par_iter()
        .map(|k| {
            let spec = population.sample(seed, k).spec;
            let file = format!("(population system {k})");
            Ok(spec.build(survey, Path::new(&file))?.lens)
        })
        .collect()
}

/// Seconds per pass of the CPU's deflection of every lens on every sub-pixel of `grid`
/// (the best of `repeats` passes), and a checksum of the deflections (so none is skipped).
pub fn cpu_pass(lenses: &[Lens], grid: &Grid, repeats: usize) -> (f64, f64) {
    let offsets = grid.subpixel_offsets();
    let xs: Vec<f32> = (0..grid.size)
        .flat_map(|j| {
            offsets
                .iter()
                .map(move |&d| (grid.pixel_center(j) + d) as f32)
        })
        .collect();
    let lanes: Vec<F8> = xs
        .chunks(8)
        .map(|c| F8::new(std::array::from_fn(|l| c[l.min(c.len() - 1)])))
        .collect();
    let ys = xs.clone();
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        checksum = lenses
            .par_iter()
            .map(|lens| {
                ys.iter()
                    .map(|&y| {
                        let y = F8::splat(y);
                        let mut acc = F8::ZERO;
                        for &x in &lanes {
                            let (ax, ay) = lens.deflection_x8(x, y);
                            acc += ax + ay;
                        }
                        acc.to_array().iter().map(|&v| v as f64).sum::<f64>()
                    })
                    .sum::<f64>()
            })
            .sum();
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, std::hint::black_box(checksum))
}
