//! Ray shooting: a prepared lens system rendered as ideal images (no PSF, no noise) in every
//! band of a survey.
//!
//! Pixel (i, j) of an N×N stamp of scale s has its centre at x = (j − (N−1)/2)·s,
//! y = (i − (N−1)/2)·s; its value is the mean surface brightness of its f×f sub-pixels times
//! the pixel area, in e⁻/s (DESIGN.md). The deflection is computed once per sub-pixel and shared
//! by every band on the same pixel grid (Euclid's Y, J and H share one).

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod gpu;

use ndarray::Array2;

use crate::light::Light;
use crate::mass::Lens;
use crate::observe::convolve::PsfTaps;

/// A light profile of unit flux and its total flux in each survey band, e⁻/s.
#[derive(Clone, Debug, PartialEq)]
pub struct LightComponent {
    /// The unit-flux profile.
    pub profile: Light,
    /// Total flux per band, in the survey's band order, e⁻/s.
    pub flux: Vec<f64>,
}

/// A lens system ready to ray-trace: mass, lens light (image plane), source light (source plane).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct System {
    /// The lens's mass.
    pub lens: Lens,
    /// The lens galaxy's light.
    pub lens_light: Vec<LightComponent>,
    /// The source's light.
    pub source_light: Vec<LightComponent>,
}

impl System {
    /// Total unlensed flux of the source in band `b` (survey order), e⁻/s.
    pub fn source_flux(&self, b: usize) -> f64 {
        self.source_light.iter().map(|c| c.flux[b]).sum()
    }

    /// Total flux of the lens light in band `b`, e⁻/s.
    pub fn lens_flux(&self, b: usize) -> f64 {
        self.lens_light.iter().map(|c| c.flux[b]).sum()
    }
}

/// A square pixel grid centred on the optical axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// Side, pixels.
    pub size: usize,
    /// Pixel scale, arcsec per pixel.
    pub pixel_scale: f64,
    /// Sub-pixels per pixel side (1 = pixel centres only).
    pub supersample: usize,
}

impl Grid {
    /// x (or y) of the centre of pixel column j (or row i), arcsec.
    pub fn pixel_center(&self, j: usize) -> f64 {
        (j as f64 - 0.5 * (self.size as f64 - 1.0)) * self.pixel_scale
    }

    /// Offsets of the sub-pixel centres from their pixel's centre along one axis, arcsec.
    pub fn subpixel_offsets(&self) -> Vec<f64> {
        let f = self.supersample as f64;
        (0..self.supersample)
            .map(|k| ((k as f64 + 0.5) / f - 0.5) * self.pixel_scale)
            .collect()
    }

    /// x (or y) of the centre of every sub-pixel of a row (or column), in order, arcsec, in
    /// single precision (the fast ray shooter's coordinates).
    pub fn subpixel_centers_f32(&self) -> Vec<f32> {
        let offsets = self.subpixel_offsets();
        (0..self.size)
            .flat_map(|j| {
                offsets
                    .iter()
                    .map(move |&d| (self.pixel_center(j) + d) as f32)
            })
            .collect()
    }

    /// Rays shot on this grid.
    pub fn rays(&self) -> usize {
        self.size * self.size * self.supersample * self.supersample
    }
}

/// One band's ideal images, e⁻/s per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct BandImage {
    /// The band's name.
    pub band: String,
    /// The lens galaxy's light.
    pub lens: Array2<f32>,
    /// The lensed source's light.
    pub source: Array2<f32>,
}

impl BandImage {
    /// Lens plus lensed source.
    pub fn total(&self) -> Array2<f32> {
        &self.lens + &self.source
    }
}

/// The pixel grid of one band: its name, stamp side (pixels) and pixel scale (arcsec/pixel).
#[derive(Clone, Debug, PartialEq)]
pub struct BandGrid {
    /// The band's name.
    pub name: String,
    /// Stamp side, pixels.
    pub size: usize,
    /// Pixel scale, arcsec per pixel.
    pub pixel_scale: f64,
}

/// The bands of `bands` grouped by pixel grid (same side and scale), in order of first
/// appearance, each group with its grid at `supersample`: the bands a deflection field serves.
pub fn band_groups(bands: &[BandGrid], supersample: usize) -> Vec<(Grid, Vec<usize>)> {
    let mut groups: Vec<(Grid, Vec<usize>)> = Vec::new();
    for (k, b) in bands.iter().enumerate() {
        let grid = Grid {
            size: b.size,
            pixel_scale: b.pixel_scale,
            supersample,
        };
        match groups.iter_mut().find(|(g, _)| *g == grid) {
            Some((_, members)) => members.push(k),
            None => groups.push((grid, vec![k])),
        }
    }
    groups
}

/// Renders `system` in every band of `bands` on the CPU, with `supersample`² rays per pixel.
/// Bands on the same pixel grid share one deflection field.
pub fn render(system: &System, bands: &[BandGrid], supersample: usize) -> Vec<BandImage> {
    let mut out: Vec<Option<BandImage>> = vec![None; bands.len()];
    for (grid, group) in band_groups(bands, supersample) {
        let images = cpu::render_grid(system, &grid, &group);
        for (&k, (lens, source)) in group.iter().zip(images) {
            out[k] = Some(BandImage {
                band: bands[k].name.clone(),
                lens,
                source,
            });
        }
    }
    out.into_iter().flatten().collect()
}

/// Renders many systems' ideal images at once, as [`render`] renders one: the GPU's way
/// (`cuda::GpuDeflector` with the `cuda` feature). `sim generate` hands it each block.
pub trait BatchRenderer: Send + Sync + std::fmt::Debug {
    /// What renders, for the run's summary line (e.g. "GPU 0").
    fn describe(&self) -> String;
    /// Every system's images, in every band of `bands`, in the order and layout of [`render`];
    /// an error says why the device failed.
    fn render_batch(
        &self,
        systems: &[&System],
        bands: &[BandGrid],
        supersample: usize,
    ) -> Result<Vec<Vec<BandImage>>, String>;

    /// The images of the source-plane point `betas[s]` (arcsec) behind each system s, counted
    /// as [`crate::caustics::count_images`] counts them over the square of half-side
    /// `half_width` at `step` (arcsec), on the device; None (the default) leaves the count to
    /// the CPU.
    fn count_images(
        &self,
        _systems: &[&System],
        _betas: &[[f64; 2]],
        _half_width: f64,
        _step: f64,
    ) -> Option<Result<Vec<u32>, String>> {
        None
    }

    /// Adds the noise of `block` (one band's images of a block of systems) on the device,
    /// drawing what [`crate::observe::noise::NoiseModel::add_noise`] draws on the CPU; None (the
    /// default) leaves the noise to the CPU.
    fn add_noise(
        &self,
        _block: &mut crate::observe::noise::NoiseBlock,
    ) -> Option<Result<(), String>> {
        None
    }

    /// Every system's images as [`BatchRenderer::render_batch`] renders them, each band then
    /// convolved on the device with its PSF (`psfs`, survey band order, the convolution of
    /// [`crate::observe::Observer::convolve`]), so that they cross to the host once, with each
    /// band's ideal lensed-source flux ([`image_flux`] of the source image before convolution,
    /// for the effective magnification); None (the default) leaves the PSF to the CPU.
    fn render_convolved_batch(
        &self,
        _systems: &[&System],
        _bands: &[BandGrid],
        _supersample: usize,
        _psfs: &[PsfTaps],
    ) -> Option<Result<ConvolvedBatch, String>> {
        None
    }
}

/// What [`BatchRenderer::render_convolved_batch`] returns: every system's images, PSF-convolved,
/// in every band (survey order), and the flux of each ideal source image, e⁻/s.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConvolvedBatch {
    /// images[s][b]: system s's band b, lens and lensed source convolved with the band's PSF.
    pub images: Vec<Vec<BandImage>>,
    /// source_flux[s][b]: [`image_flux`] of system s's ideal source image in band b.
    pub source_flux: Vec<Vec<f64>>,
}

/// The CPU's ray tracing behind the [`BatchRenderer`] interface: each system rendered by
/// [`render`], in parallel on the current rayon pool. It gives exactly what the CPU path gives,
/// so a device renderer can be put beside it on the same code path.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBatchRenderer;

impl BatchRenderer for CpuBatchRenderer {
    fn describe(&self) -> String {
        "the CPU".into()
    }

    fn render_batch(
        &self,
        systems: &[&System],
        bands: &[BandGrid],
        supersample: usize,
    ) -> Result<Vec<Vec<BandImage>>, String> {
        use rayon::prelude::*;
        Ok(systems
            .par_iter()
            .map(|s| render(s, bands, supersample))
            .collect())
    }
}

/// Effective magnification in each band: lensed source flux in the stamp over the source's
/// unlensed flux (NaN where the source has no flux in that band).
pub fn effective_magnification(system: &System, images: &[BandImage]) -> Vec<f64> {
    let lensed: Vec<f64> = images.iter().map(|im| image_flux(&im.source)).collect();
    magnification_of(system, &lensed)
}

/// The flux of an image, e⁻/s: the sum of its pixels in f64, in row-major order (as
/// `kernels/psf.cu`'s `image_sums` takes it on a device).
pub fn image_flux(image: &Array2<f32>) -> f64 {
    image.iter().map(|&v| v as f64).sum()
}

/// Effective magnification in each band from the lensed source's flux in each band's ideal
/// stamp (`lensed`, e⁻/s, survey order), as [`effective_magnification`] gives it.
pub fn magnification_of(system: &System, lensed: &[f64]) -> Vec<f64> {
    lensed
        .iter()
        .enumerate()
        .map(|(b, &lensed)| {
            let f = system.source_flux(b);
            if f > 0.0 {
                lensed / f
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::{Light, Sersic, SersicParams};
    use crate::mass::{Mass, Sie, SieParams};
    use crate::observe::survey::test_band;
    use crate::observe::Survey;

    fn sersic(r_eff: f64, n: f64, center: [f64; 2]) -> Light {
        Light::Sersic(Sersic::new(&SersicParams {
            r_eff,
            n,
            q: 0.8,
            phi: 20.0,
            center,
            mag: None,
            flux: None,
        }))
    }

    fn survey(size: usize, scale: f64) -> Survey {
        Survey {
            name: "test".into(),
            bands: vec![
                test_band("A", size, scale),
                test_band("B", size / 3, 3.0 * scale),
            ],
            labels: Default::default(),
        }
    }

    fn sis(theta_e: f64) -> Lens {
        Lens::new(vec![Mass::Sie(Sie::new(&SieParams {
            theta_e,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
        }))])
    }

    #[test]
    fn an_unlensed_source_keeps_its_flux() {
        // DESIGN.md: a pixel is the mean of its sub-pixels times the pixel area, so an
        // unlensed source of flux F sums to F (all but a negligible wing lies in the stamp).
        // (Without supersampling, pixel-centre sampling of profiles a few pixels across is itself
        // off by up to 1 %, so f = 1 is not a test of conservation.)
        for (supersample, rel) in [(2, 1e-3), (4, 1e-3), (8, 1e-3)] {
            let system = System {
                lens: Lens::default(),
                lens_light: vec![LightComponent {
                    profile: sersic(1.0, 1.0, [0.2, -0.1]),
                    flux: vec![7.0, 3.0],
                }],
                source_light: vec![LightComponent {
                    profile: sersic(0.6, 1.0, [-0.3, 0.2]),
                    flux: vec![2.0, 5.0],
                }],
            };
            let images = render(&system, &survey(240, 0.1).band_grids(), supersample);
            let sum = |a: &Array2<f32>| a.iter().map(|&v| v as f64).sum::<f64>();
            let check = |a: &Array2<f32>, f: f64| {
                assert!(
                    (sum(a) - f).abs() < rel * f,
                    "supersample {supersample}: {} vs {f}",
                    sum(a)
                );
            };
            check(&images[0].lens, 7.0);
            check(&images[0].source, 2.0);
            check(&images[1].lens, 3.0);
            check(&images[1].source, 5.0);
            let mu = effective_magnification(&system, &images);
            assert!((mu[0] - 1.0).abs() < rel && (mu[1] - 1.0).abs() < rel);
        }
    }

    #[test]
    fn a_source_behind_an_sis_becomes_a_ring_at_theta_e() {
        // Analytic: a compact source at β = 0 behind an SIS is imaged onto |θ| = θ_E.
        let system = System {
            lens: sis(1.1),
            lens_light: vec![],
            source_light: vec![LightComponent {
                profile: sersic(0.02, 1.0, [0.0, 0.0]),
                flux: vec![1.0, 1.0],
            }],
        };
        let s = survey(150, 0.05);
        let img = &render(&system, &s.band_grids(), 4)[0].source;
        let grid = Grid {
            size: 150,
            pixel_scale: 0.05,
            supersample: 1,
        };
        let (mut w, mut wr) = (0.0, 0.0);
        for ((i, j), &v) in img.indexed_iter() {
            let r = grid.pixel_center(i).hypot(grid.pixel_center(j));
            w += v as f64;
            wr += v as f64 * r;
        }
        assert!(
            (wr / w - 1.1).abs() < 0.01,
            "flux-weighted ring radius {}",
            wr / w
        );
    }

    #[test]
    fn sis_magnification_of_a_small_source_is_two_theta_e_over_beta() {
        // Analytic: an SIS images a point source at β < θ_E twice, with total magnification
        // |μ+| + |μ−| = (θ_E/β + 1) + (θ_E/β − 1) = 2θ_E/β.
        let (te, beta) = (1.2, 0.3);
        let system = System {
            lens: sis(te),
            lens_light: vec![],
            source_light: vec![LightComponent {
                profile: sersic(0.01, 1.0, [beta, 0.0]),
                flux: vec![1.0, 1.0],
            }],
        };
        let images = render(&system, &survey(150, 0.04).band_grids(), 6);
        let mu = effective_magnification(&system, &images);
        assert!(
            (mu[0] - 2.0 * te / beta).abs() / (2.0 * te / beta) < 0.01,
            "μ = {}",
            mu[0]
        );
    }

    #[test]
    fn single_precision_lanes_agree_with_the_f64_reference() {
        // The fast path (f32 in lanes) against one-ray-at-a-time f64 on a system with every
        // kind of profile: per pixel to 1e-4 of the band's brightest pixel, in total to 1e-5.
        use crate::light::{Clumpy, ClumpyParams, Disc, DiscParams, Knot};
        use crate::mass::{Nfw, PointMass, PointMassParams, Shear, Tesis, TesisParams};
        let lens = Lens::new(vec![
            Mass::Sie(Sie::new(&SieParams {
                theta_e: 0.9,
                q: 0.6,
                phi: 25.0,
                center: [0.05, 0.0],
            })),
            Mass::Nfw(Nfw::from_angles(5.0, 0.5, 0.8, -10.0, [0.0, 0.05])),
            Mass::Tesis(Tesis::new(&TesisParams {
                theta_e: 0.2,
                r_trunc: 0.5,
                q: 0.8,
                phi: 0.0,
                center: [1.6, 0.4],
            })),
            Mass::PointMass(PointMass::new(&PointMassParams {
                theta_e: 0.05,
                center: [-1.0, -1.2],
            })),
            Mass::Shear(Shear::from_components(0.04, -0.02)),
        ]);
        let disc = Light::Disc(Disc::new(&DiscParams {
            scale_length: 0.7,
            inclination: 50.0,
            phi: 25.0,
            center: [0.05, 0.0],
            arms: 2,
            pitch: 20.0,
            arm_amplitude: 0.5,
            arm_phase: 0.0,
            mag: None,
            flux: None,
        }));
        let clumpy = Light::Clumpy(Clumpy::new(&ClumpyParams {
            r_eff: 0.15,
            n: 1.0,
            q: 0.7,
            phi: 80.0,
            center: [0.1, -0.12],
            knots: vec![Knot {
                offset: [0.05, 0.03],
                sigma: 0.02,
                frac: 0.2,
            }],
            mag: None,
            flux: None,
        }));
        let system = System {
            lens,
            lens_light: vec![
                LightComponent {
                    profile: sersic(0.7, 4.0, [0.05, 0.0]),
                    flux: vec![40.0, 60.0],
                },
                LightComponent {
                    profile: disc,
                    flux: vec![20.0, 15.0],
                },
            ],
            source_light: vec![LightComponent {
                profile: clumpy,
                flux: vec![3.0, 2.0],
            }],
        };
        for (grid, bands) in [(
            Grid {
                size: 100,
                pixel_scale: 0.05,
                supersample: 3,
            },
            vec![0, 1],
        )] {
            let fast = cpu::render_grid(&system, &grid, &bands);
            let exact = cpu::render_grid_f64(&system, &grid, &bands);
            for ((fl, fs), (el, es)) in fast.iter().zip(&exact) {
                for (f, e) in [(fl, el), (fs, es)] {
                    let peak = e.iter().fold(0f32, |m, &v| m.max(v.abs())) as f64;
                    for (a, b) in f.iter().zip(e.iter()) {
                        assert!(
                            ((a - b) as f64).abs() < 1e-4 * peak,
                            "{a} vs {b} (peak {peak})"
                        );
                    }
                    let (sf, se) = (f.sum() as f64, e.sum() as f64);
                    assert!((sf - se).abs() < 1e-5 * se, "total {sf} vs {se}");
                }
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let system = System {
            lens: sis(1.0),
            lens_light: vec![LightComponent {
                profile: sersic(0.8, 4.0, [0.0, 0.0]),
                flux: vec![10.0, 12.0],
            }],
            source_light: vec![LightComponent {
                profile: sersic(0.2, 1.0, [0.1, 0.0]),
                flux: vec![1.0, 1.0],
            }],
        };
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| render(&system, &survey(60, 0.1).band_grids(), 2))
        };
        assert_eq!(run(1), run(2));
    }
}
