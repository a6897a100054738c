//! `sim bench-deflect`: rays per second of the deflection alone, the ray shooter's hot loop, on
//! the CPU (the single-precision path in lanes on rayon threads) or on the GPU (the
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
use crate::simd::Lanes;

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
    let xs = grid.subpixel_centers_f32();
    let lanes = crate::simd::in_lanes(&xs);
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
                        let y = Lanes::splat(y);
                        let mut acc = Lanes::ZERO;
                        for &x in &lanes {
                            let (ax, ay) = lens.deflection_lanes(x, y);
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

/// A batch renderer that costs next to nothing: every system gets a copy of one prepared set of
/// ideal images and its image count, so that a run measures everything `sim generate` does on
/// the host around a GPU's ray shooting (`sim bench-host`). The images are system 0's, rendered
/// once on the CPU.
#[derive(Debug)]
pub struct PreparedRenderer {
    images: Vec<crate::raytrace::BandImage>,
    n_images: u32,
    /// With the PSF and noise left to the device, as `--device cuda` leaves them: system 0's
    /// convolved images with its ideal source fluxes, and per band its observed image, noise
    /// included, copied over every image (so that the host compresses noisy stamps, as it
    /// would).
    observed: Option<(crate::raytrace::ConvolvedBatch, Vec<Vec<f32>>)>,
}

impl PreparedRenderer {
    /// System 0 of `config`'s run, rendered once on the CPU; with `observe_on_device` the
    /// renderer also takes the PSF and the noise, giving every system system 0's convolved and
    /// noisy images.
    pub fn new(config: &crate::generate::RunConfig, observe_on_device: bool) -> Result<Self> {
        let survey = &config.survey;
        let population = Population::new(config.population.clone(), survey)?;
        let spec = population.sample(config.generate.seed, 0).spec;
        let system = spec.build(survey, Path::new("(population system 0)"))?;
        let images =
            crate::raytrace::render(&system, &survey.band_grids(), config.generate.supersample);
        let n_images = spec.source.light.first().map_or(0, |l| {
            crate::caustics::count_images(
                &system.lens,
                l.center(),
                survey.max_half_width(),
                crate::render::IMAGE_COUNT_STEP,
            )
        });
        let observed = match observe_on_device {
            false => None,
            true => {
                let observer = crate::observe::Observer::new(survey)?;
                let convolved = crate::raytrace::ConvolvedBatch {
                    images: vec![images
                        .iter()
                        .enumerate()
                        .map(|(b, im)| crate::raytrace::BandImage {
                            band: im.band.clone(),
                            lens: observer.convolve(b, &im.lens),
                            source: observer.convolve(b, &im.source),
                        })
                        .collect()],
                    source_flux: vec![images
                        .iter()
                        .map(|im| crate::raytrace::image_flux(&im.source))
                        .collect()],
                };
                let noisy = observer.observe(
                    &images,
                    &crate::observe::ObserveOptions {
                        psf: config.generate.psf,
                        noise: true,
                        seed: config.generate.seed,
                        index: 0,
                    },
                );
                let noisy = noisy
                    .into_iter()
                    .map(|o| o.image.into_raw_vec_and_offset().0)
                    .collect();
                Some((convolved, noisy))
            }
        };
        Ok(Self {
            images,
            n_images,
            observed,
        })
    }
}

impl crate::raytrace::BatchRenderer for PreparedRenderer {
    fn describe(&self) -> String {
        "prepared images (no ray shooting)".into()
    }

    fn render_batch(
        &self,
        systems: &[&crate::raytrace::System],
        _bands: &[crate::raytrace::BandGrid],
        _supersample: usize,
    ) -> std::result::Result<Vec<Vec<crate::raytrace::BandImage>>, String> {
        Ok(systems.par_iter().map(|_| self.images.clone()).collect())
    }

    fn count_images(
        &self,
        systems: &[&crate::raytrace::System],
        _betas: &[[f64; 2]],
        _half_width: f64,
        _step: f64,
    ) -> Option<std::result::Result<Vec<u32>, String>> {
        Some(Ok(vec![self.n_images; systems.len()]))
    }

    fn add_noise(
        &self,
        block: &mut crate::observe::noise::NoiseBlock,
    ) -> Option<std::result::Result<(), String>> {
        let noisy = &self.observed.as_ref()?.1[block.band as usize];
        for image in block.images.iter_mut() {
            image.copy_from_slice(noisy);
        }
        Some(Ok(()))
    }

    fn render_convolved_batch(
        &self,
        systems: &[&crate::raytrace::System],
        _bands: &[crate::raytrace::BandGrid],
        _supersample: usize,
        _psfs: &[crate::observe::convolve::PsfTaps],
    ) -> Option<std::result::Result<crate::raytrace::ConvolvedBatch, String>> {
        let one = &self.observed.as_ref()?.0;
        Some(Ok(crate::raytrace::ConvolvedBatch {
            images: systems.par_iter().map(|_| one.images[0].clone()).collect(),
            source_flux: vec![one.source_flux[0].clone(); systems.len()],
        }))
    }
}

/// What [`host_ceiling`] measured.
#[derive(Debug)]
pub struct HostCeiling {
    /// Systems written.
    pub systems: u64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Where the time went.
    pub stages: std::sync::Arc<crate::generate::StageTimes>,
}

/// Generates `config`'s run into `out` (HDF5) with [`PreparedRenderer`] on `threads` threads (0:
/// one per core) in blocks of `block` systems, timing each stage: the host's ceiling for
/// `sim generate` on a GPU (that also convolves with the PSF and draws the noise, with
/// `observe_on_device`). `out` is removed afterwards.
pub fn host_ceiling(
    config: &crate::generate::RunConfig,
    out: &Path,
    block: usize,
    threads: usize,
    observe_on_device: bool,
) -> Result<HostCeiling> {
    let stages = std::sync::Arc::new(crate::generate::StageTimes::default());
    let opts = crate::generate::GenerateOptions {
        block,
        threads,
        renderer: Some(std::sync::Arc::new(PreparedRenderer::new(
            config,
            observe_on_device,
        )?)),
        timing: Some(stages.clone()),
        ..Default::default()
    };
    let start = Instant::now();
    let summary = crate::generate::generate(config, out, &opts, &|_| {});
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(out);
    Ok(HostCeiling {
        systems: summary?.generated,
        seconds,
        stages,
    })
}
