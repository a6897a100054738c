//! Ray shooting: a prepared lens system rendered as ideal images (no PSF, no noise) in every
//! band of a survey.
//!
//! Pixel (i, j) of an N×N stamp of scale s has its centre at x = (j − (N−1)/2)·s,
//! y = (i − (N−1)/2)·s; its value is the mean surface brightness of its f×f sub-pixels times
//! the pixel area, in e⁻/s (DESIGN.md). The deflection is computed once per sub-pixel and shared
//! by every band on the same pixel grid (Euclid's Y, J and H share one).

pub mod cpu;

use ndarray::Array2;

use crate::light::Light;
use crate::mass::Lens;
use crate::observe::Survey;

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

/// Renders `system` in every band of `survey` on the CPU, with `supersample`² rays per pixel.
pub fn render(system: &System, survey: &Survey, supersample: usize) -> Vec<BandImage> {
    let mut out: Vec<Option<BandImage>> = vec![None; survey.bands.len()];
    // Bands that share a pixel grid share one deflection field.
    let mut done = vec![false; survey.bands.len()];
    for i in 0..survey.bands.len() {
        if done[i] {
            continue;
        }
        let b = &survey.bands[i];
        let group: Vec<usize> = (i..survey.bands.len())
            .filter(|&k| {
                survey.bands[k].size == b.size && survey.bands[k].pixel_scale == b.pixel_scale
            })
            .collect();
        let grid = Grid {
            size: b.size,
            pixel_scale: b.pixel_scale,
            supersample,
        };
        let images = cpu::render_grid(system, &grid, &group);
        for (&k, (lens, source)) in group.iter().zip(images) {
            done[k] = true;
            out[k] = Some(BandImage {
                band: survey.bands[k].name.clone(),
                lens,
                source,
            });
        }
    }
    out.into_iter().flatten().collect()
}

/// Effective magnification in each band: lensed source flux in the stamp over the source's
/// unlensed flux (NaN where the source has no flux in that band).
pub fn effective_magnification(system: &System, images: &[BandImage]) -> Vec<f64> {
    images
        .iter()
        .enumerate()
        .map(|(b, im)| {
            let f = system.source_flux(b);
            let lensed: f64 = im.source.iter().map(|&v| v as f64).sum();
            if f > 0.0 {
                lensed / f
            } else {
                f64::NAN
            }
        })
        .collect()
}
