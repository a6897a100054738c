//! How a survey sees a system: PSF convolution and noise, band by band.

pub mod convolve;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod noise;
pub mod philox;
pub mod philox_x4;
pub mod psf;
pub mod survey;

use ndarray::Array2;

pub use survey::{Band, Survey};

use crate::error::{Error, Result};
use crate::raytrace::BandImage;
use convolve::Convolver;

/// One band as the survey records it.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedBand {
    /// The band's name.
    pub band: String,
    /// What the survey records: lens + lensed source, PSF-convolved, with noise, e⁻/s per pixel.
    pub image: Array2<f32>,
    /// The lensed source alone, PSF-convolved, without noise (what labels are measured on).
    pub source: Array2<f32>,
    /// The lens-plane light alone (lens galaxy and neighbours), PSF-convolved, without noise.
    pub lens: Array2<f32>,
    /// σ of the background noise, e⁻/s per pixel.
    pub sigma: f64,
}

/// Which observational effects to apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObserveOptions {
    /// Convolve with the band's PSF.
    pub psf: bool,
    /// Add noise.
    pub noise: bool,
    /// The run's seed.
    pub seed: u64,
    /// The system's index in its run (noise depends only on seed, index and band).
    pub index: u64,
}

/// A survey's PSF kernels, planned once and applied to every system.
#[derive(Debug)]
pub struct Observer {
    convolvers: Vec<Convolver>,
    noise: Vec<noise::NoiseModel>,
    kernels: Vec<Array2<f64>>,
}

impl Observer {
    /// Builds every band's kernel (reading pixelated PSF files) and plans its convolution;
    /// errors name the band and the field.
    pub fn new(survey: &Survey) -> Result<Self> {
        let mut convolvers = Vec::new();
        let mut kernels = Vec::new();
        for (i, b) in survey.bands.iter().enumerate() {
            let k = b
                .psf
                .kernel(b.pixel_scale, b.size)
                .map_err(|(f, r)| Error::InvalidSpec {
                    file: format!("survey `{}`", survey.name).into(),
                    field: format!("bands[{i}].{f}"),
                    reason: r,
                })?;
            convolvers.push(Convolver::new(&k, b.size, b.size));
            kernels.push(k);
        }
        Ok(Self {
            convolvers,
            noise: survey.bands.iter().map(Band::noise_model).collect(),
            kernels,
        })
    }

    /// The PSF kernel of band `b`, unit sum, on the band's pixel grid.
    pub fn kernel(&self, b: usize) -> &Array2<f64> {
        &self.kernels[b]
    }

    /// Every band's PSF as a device convolves with it, survey band order: the same
    /// convolution as [`Observer::convolve`].
    pub fn psf_taps(&self) -> Vec<convolve::PsfTaps> {
        self.convolvers
            .iter()
            .zip(&self.kernels)
            .map(|(c, k)| c.taps(k))
            .collect()
    }

    /// Band `b`'s `image` convolved with the band's PSF (the band's stamp size).
    pub fn convolve(&self, b: usize, image: &Array2<f32>) -> Array2<f32> {
        self.convolvers[b].convolve(image)
    }

    /// The noise of band `b`.
    pub fn noise(&self, b: usize) -> &noise::NoiseModel {
        &self.noise[b]
    }

    /// Observes the ideal images of one system (survey band order).
    pub fn observe(&self, images: &[BandImage], opts: &ObserveOptions) -> Vec<ObservedBand> {
        images
            .iter()
            .enumerate()
            .map(|(b, im)| {
                let (lens, source) = if opts.psf {
                    (
                        self.convolvers[b].convolve(&im.lens),
                        self.convolvers[b].convolve(&im.source),
                    )
                } else {
                    (im.lens.clone(), im.source.clone())
                };
                self.record(b, im.band.clone(), lens, source, opts)
            })
            .collect()
    }

    /// Observes one system's images that already hold their PSF (a device convolved them),
    /// taken as they are: [`Observer::observe`] without its convolution (`opts.psf` is not
    /// read).
    pub fn observe_convolved(
        &self,
        images: Vec<BandImage>,
        opts: &ObserveOptions,
    ) -> Vec<ObservedBand> {
        images
            .into_iter()
            .enumerate()
            .map(|(b, im)| self.record(b, im.band, im.lens, im.source, opts))
            .collect()
    }

    /// Band `b` as recorded from its (convolved) lens and source: their sum, with noise if
    /// asked.
    fn record(
        &self,
        b: usize,
        band: String,
        lens: Array2<f32>,
        source: Array2<f32>,
        opts: &ObserveOptions,
    ) -> ObservedBand {
        let mut image = &lens + &source;
        let model = &self.noise[b];
        if opts.noise {
            model.add_noise(
                &mut image,
                noise::NoiseKey {
                    seed: opts.seed,
                    system: opts.index,
                    band: b as u32,
                },
            );
        }
        ObservedBand {
            band,
            image,
            source,
            lens,
            sigma: model.background_sigma(),
        }
    }
}

/// Depths of a band, AB magnitudes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Depth {
    /// σ of the background, e⁻/s per pixel.
    pub sigma: f64,
    /// 5σ point source, PSF-weighted (optimal) photometry: F = 5σ/sqrt(Σ k²).
    pub point_5sigma: f64,
    /// 10σ in a circular aperture of 1.3" diameter (no aperture correction): F = 10σ·sqrt(N_pix).
    pub aperture_10sigma: f64,
}

/// The background-limited depths of band `b` of `survey`, with its PSF kernel.
pub fn depth(band: &Band, kernel: &Array2<f64>) -> Depth {
    let sigma = band.noise_model().background_sigma();
    let sum_k2: f64 = kernel.iter().map(|k| k * k).sum();
    let mag = |f: f64| crate::light::flux_to_mag(f, band.zero_point);
    Depth {
        sigma,
        point_5sigma: mag(5.0 * sigma / sum_k2.sqrt()),
        aperture_10sigma: aperture_depth(band, 1.3, 10.0),
    }
}

/// The AB magnitude whose flux equals `n_sigma` times the background noise in a circular
/// aperture of `diameter` arcsec (no aperture correction, as surveys quote limiting magnitudes).
pub fn aperture_depth(band: &Band, diameter: f64, n_sigma: f64) -> f64 {
    let sigma = band.noise_model().background_sigma();
    let pixels = std::f64::consts::PI * (0.5 * diameter / band.pixel_scale).powi(2);
    crate::light::flux_to_mag(n_sigma * sigma * pixels.sqrt(), band.zero_point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::survey::test_band;

    #[test]
    fn kids_preset_gives_the_dr4_depths() {
        // Kuijken et al. 2019 (KiDS DR4): 5σ in a 2" aperture, u 24.23, g 25.12, r 25.02,
        // i 23.68. The preset's zero points were derived to reproduce them (its comments).
        let kids = Survey::load("kids").unwrap();
        for (band, want) in kids.bands.iter().zip([24.23, 25.12, 25.02, 23.68]) {
            let got = aperture_depth(band, 2.0, 5.0);
            assert!((got - want).abs() < 0.01, "{}: {got} vs {want}", band.name);
        }
        assert_eq!(kids.bands[kids.detection_band()].name, "r");
        assert!(kids
            .bands
            .iter()
            .all(|b| b.size == 101 && b.pixel_scale == 0.2));
    }

    #[test]
    fn observing_keeps_the_flux_and_leaves_the_source_noise_free() {
        let survey = Survey {
            name: "t".into(),
            bands: vec![test_band("A", 60, 0.1)],
            labels: Default::default(),
        };
        let obs = Observer::new(&survey).unwrap();
        let mut lens = Array2::<f32>::zeros((60, 60));
        let mut source = Array2::<f32>::zeros((60, 60));
        lens[[30, 30]] = 10.0;
        source[[20, 25]] = 4.0;
        let ideal = [BandImage {
            band: "A".into(),
            lens,
            source,
        }];
        let opts = ObserveOptions {
            psf: true,
            noise: false,
            seed: 1,
            index: 0,
        };
        let o = &obs.observe(&ideal, &opts)[0];
        assert!((o.image.sum() - 14.0).abs() < 1e-4 && (o.source.sum() - 4.0).abs() < 1e-5);
        // the PSF spread the point: its peak is the kernel's centre times the flux
        let k = obs.kernel(0);
        let c = k.dim().0 / 2;
        assert!((o.source[[20, 25]] as f64 - 4.0 * k[[c, c]]).abs() < 1e-5);
        // noise touches the recorded image but never the labels' source image
        let noisy = &obs.observe(
            &ideal,
            &ObserveOptions {
                noise: true,
                ..opts
            },
        )[0];
        assert_eq!(noisy.source, o.source);
        assert_ne!(noisy.image, o.image);
    }

    #[test]
    fn depth_of_a_gaussian_psf_matches_its_noise_equivalent_area() {
        // For a well-sampled Gaussian PSF Σk² = 1/(4πσ_psf²) in pixels, so the 5σ point-source
        // flux is 5σ_bg·sqrt(4π)·σ_psf (background-limited optimal photometry).
        let band = test_band("A", 101, 0.05); // FWHM 2 px
        let k = band.psf.kernel(band.pixel_scale, band.size).unwrap();
        let d = depth(&band, &k);
        let s_psf = 2.0 / psf::GAUSSIAN_FWHM_PER_SIGMA;
        let f = 5.0 * d.sigma * (4.0 * std::f64::consts::PI).sqrt() * s_psf;
        assert!((d.point_5sigma - crate::light::flux_to_mag(f, band.zero_point)).abs() < 0.01);
    }
}
