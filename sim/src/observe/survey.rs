//! Survey presets: bands with their pixels, PSF, zero point, exposures, sky and detector, and
//! the detectability criteria that label a system.
//!
//! Presets live in `configs/surveys/*.toml` and are embedded in the binary; a file path
//! overrides them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::noise::NoiseModel;
use super::psf::PsfSpec;
use crate::error::{Error, Result};

/// The embedded presets: (name, TOML text).
pub const PRESETS: &[(&str, &str)] = &[
    (
        "euclid",
        include_str!("../../../configs/surveys/euclid.toml"),
    ),
    (
        "euclid-sglc2",
        include_str!("../../../configs/surveys/euclid-sglc2.toml"),
    ),
    ("kids", include_str!("../../../configs/surveys/kids.toml")),
    ("des", include_str!("../../../configs/surveys/des.toml")),
    ("lsst", include_str!("../../../configs/surveys/lsst.toml")),
];

/// Pixel scales, arcsec/pixel: from finer than HST's and JWST's (0.03") to coarser than WISE's
/// (2.75").
pub const PIXEL_SCALE_RANGE: (f64, f64) = (1e-3, 10.0);
/// Largest stamp side, pixels.
pub const MAX_STAMP_SIZE: usize = 8192;
/// Zero points (AB magnitude of 1 e⁻/s): every imaging survey's lie in 20–35.
pub const ZERO_POINT_RANGE: (f64, f64) = (10.0, 40.0);
/// Time of one exposure, s: from 1 ms to three years.
pub const EXPOSURE_RANGE: (f64, f64) = (1e-3, 1e8);
/// Most exposures stacked in one band.
pub const MAX_EXPOSURES: u32 = 100_000;
/// Sky brightness, AB mag/arcsec²: from twilight (≈ 10) to darker than the zodiacal light seen
/// from space (≈ 23) by a wide margin.
pub const SKY_RANGE: (f64, f64) = (10.0, 35.0);
/// Read noise (e⁻ per exposure) and dark current (e⁻/s per pixel): detectors give 1–100.
pub const DETECTOR_RANGE: (f64, f64) = (0.0, 1e4);
/// Gain, e⁻/ADU.
pub const GAIN_RANGE: (f64, f64) = (1e-3, 1e3);
/// Filter wavelength, μm: from the far UV to the far IR.
pub const WAVELENGTH_RANGE: (f64, f64) = (0.05, 100.0);
/// Largest threshold on μ_eff in `[labels]`.
pub const MAX_MIN_MAG_EFF: f64 = 100.0;

/// One band of a survey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The band's name (e.g. `VIS`, `H`).
    pub name: String,
    /// Pixel scale, arcsec per pixel.
    pub pixel_scale: f64,
    /// Stamp side, pixels.
    pub size: usize,
    /// AB magnitude giving 1 e⁻/s.
    pub zero_point: f64,
    /// Time of one exposure, s.
    pub exposure_time: f64,
    /// Number of exposures stacked.
    pub n_exposures: u32,
    /// Sky surface brightness, AB mag per arcsec².
    pub sky_brightness: f64,
    /// Read noise per exposure, e⁻ rms per pixel.
    pub read_noise: f64,
    /// Dark current, e⁻/s per pixel.
    pub dark_current: f64,
    /// Gain, e⁻ per ADU (recorded; images are in e⁻/s).
    pub gain: f64,
    /// The point-spread function.
    pub psf: PsfSpec,
    /// Central wavelength of the filter, μm (used by populations for colours; optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wavelength: Option<f64>,
}

impl Band {
    /// Sky per pixel, e⁻/s.
    pub fn sky_per_pixel(&self) -> f64 {
        crate::light::mag_to_flux(self.sky_brightness, self.zero_point)
            * self.pixel_scale
            * self.pixel_scale
    }

    /// The noise of this band's stacked image.
    pub fn noise_model(&self) -> NoiseModel {
        NoiseModel {
            total_time: self.exposure_time * self.n_exposures as f64,
            n_exposures: self.n_exposures,
            sky: self.sky_per_pixel(),
            read_noise: self.read_noise,
            dark_current: self.dark_current,
        }
    }

    /// Half the stamp's side, arcsec.
    pub fn half_width(&self) -> f64 {
        0.5 * self.size as f64 * self.pixel_scale
    }
}

/// The detectability criteria (the one definition lives in the dataset contract).
pub use format::labels::LabelCriteria;

/// A survey: a named list of bands and how its systems are labelled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// The survey's name.
    pub name: String,
    /// Its bands, in the order datasets store them.
    pub bands: Vec<Band>,
    /// Detectability criteria (the II SGLC's by default).
    #[serde(default)]
    pub labels: LabelCriteria,
}

impl Survey {
    /// An embedded preset by name, or a TOML file if `name_or_path` names an existing file.
    pub fn load(name_or_path: &str) -> Result<Self> {
        let (text, path) = crate::error::read_preset(name_or_path, PRESETS, "surveys", "survey")?;
        Self::from_toml(&text, &path)
    }

    /// Parses and validates a survey TOML; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let mut survey: Survey = toml::from_str(text).map_err(|e| Error::Parse {
            file: path.into(),
            message: e.to_string(),
        })?;
        // A pixelated PSF's file is relative to the survey file.
        if let Some(dir) = path.parent() {
            for b in &mut survey.bands {
                if let PsfSpec::Pixelated { file } = &mut b.psf {
                    if file.is_relative() {
                        *file = dir.join(&*file);
                    }
                }
            }
        }
        survey.validate(path)?;
        Ok(survey)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |i: usize, field: &str, reason: String| Error::InvalidSpec {
            file: path.into(),
            field: format!("bands[{i}].{field}"),
            reason,
        };
        crate::limits::name("name", &self.name).map_err(|(f, r)| Error::InvalidSpec {
            file: path.into(),
            field: f.into(),
            reason: r,
        })?;
        if self.bands.is_empty() {
            return Err(Error::InvalidSpec {
                file: path.into(),
                field: "bands".into(),
                reason: "a survey needs at least one band".into(),
            });
        }
        for (i, b) in self.bands.iter().enumerate() {
            let range = |field: &'static str, v: f64, (lo, hi): (f64, f64), unit: &str| {
                crate::limits::in_range(field, v, lo, hi, unit).map_err(|(f, r)| bad(i, f, r))
            };
            crate::limits::name("name", &b.name).map_err(|(f, r)| bad(i, f, r))?;
            range(
                "pixel_scale",
                b.pixel_scale,
                PIXEL_SCALE_RANGE,
                "arcsec/pixel",
            )?;
            if !(1..=MAX_STAMP_SIZE).contains(&b.size) {
                return Err(bad(
                    i,
                    "size",
                    format!(
                        "{} is outside the allowed range [1, {MAX_STAMP_SIZE}] pixels",
                        b.size
                    ),
                ));
            }
            range("zero_point", b.zero_point, ZERO_POINT_RANGE, "AB mag")?;
            range("exposure_time", b.exposure_time, EXPOSURE_RANGE, "s")?;
            if !(1..=MAX_EXPOSURES).contains(&b.n_exposures) {
                return Err(bad(
                    i,
                    "n_exposures",
                    format!(
                        "{} is outside the allowed range [1, {MAX_EXPOSURES}]",
                        b.n_exposures
                    ),
                ));
            }
            range(
                "sky_brightness",
                b.sky_brightness,
                SKY_RANGE,
                "AB mag/arcsec²",
            )?;
            range(
                "read_noise",
                b.read_noise,
                DETECTOR_RANGE,
                "e⁻ per exposure",
            )?;
            range(
                "dark_current",
                b.dark_current,
                DETECTOR_RANGE,
                "e⁻/s per pixel",
            )?;
            range("gain", b.gain, GAIN_RANGE, "e⁻/ADU")?;
            b.psf.validate().map_err(|(f, r)| bad(i, f, r))?;
            if let Some(w) = b.wavelength {
                range("wavelength", w, WAVELENGTH_RANGE, "μm")?;
            }
            if self.bands[..i].iter().any(|o| o.name == b.name) {
                return Err(bad(i, "name", format!("band `{}` appears twice", b.name)));
            }
        }
        let l = &self.labels;
        if let Some(d) = &l.detection_band {
            if !self.bands.iter().any(|b| &b.name == d) {
                return Err(Error::InvalidSpec {
                    file: path.into(),
                    field: "labels.detection_band".into(),
                    reason: format!("`{d}` is not a band of this survey"),
                });
            }
        }
        let label_error = |field: &str, reason: String| Error::InvalidSpec {
            file: path.into(),
            field: format!("labels.{field}"),
            reason,
        };
        crate::limits::in_range("min_mag_eff", l.min_mag_eff, 0.0, MAX_MIN_MAG_EFF, "")
            .map_err(|(f, r)| label_error(f, r))?;
        let pixels = self.bands[self.detection_band()].size.pow(2) as u64;
        if u64::from(l.min_n_pix) >= pixels {
            return Err(label_error(
                "min_n_pix",
                format!(
                    "{} is outside the allowed range [0, {}]: the detection band has {pixels} pixels",
                    l.min_n_pix,
                    pixels - 1
                ),
            ));
        }
        if u64::from(l.min_groups) > pixels {
            return Err(label_error(
                "min_groups",
                format!(
                    "{} is outside the allowed range [0, {pixels}]: the detection band has {pixels} pixels",
                    l.min_groups
                ),
            ));
        }
        Ok(())
    }

    /// Index of the band whose pixels decide the label.
    pub fn detection_band(&self) -> usize {
        self.labels
            .detection_band
            .as_ref()
            .and_then(|d| self.bands.iter().position(|b| &b.name == d))
            .unwrap_or(0)
    }

    /// (name, zero point) of every band, in order.
    pub fn band_zero_points(&self) -> Vec<(&str, f64)> {
        self.bands
            .iter()
            .map(|b| (b.name.as_str(), b.zero_point))
            .collect()
    }

    /// The pixel grid of every band, in order, for the ray shooter.
    pub fn band_grids(&self) -> Vec<crate::raytrace::BandGrid> {
        self.bands
            .iter()
            .map(|b| crate::raytrace::BandGrid {
                name: b.name.clone(),
                size: b.size,
                pixel_scale: b.pixel_scale,
            })
            .collect()
    }

    /// Half the side of the largest stamp of any band, arcsec.
    pub fn max_half_width(&self) -> f64 {
        self.bands.iter().map(Band::half_width).fold(0.0, f64::max)
    }
}

/// A Euclid-VIS-like band of the given name, size and scale, for tests.
#[cfg(test)]
pub(crate) fn test_band(name: &str, size: usize, pixel_scale: f64) -> Band {
    Band {
        name: name.into(),
        pixel_scale,
        size,
        zero_point: 25.0,
        exposure_time: 566.0,
        n_exposures: 4,
        sky_brightness: 22.3,
        read_noise: 4.2,
        dark_current: 0.0,
        gain: 3.1,
        psf: PsfSpec::Gaussian {
            fwhm: 2.0 * pixel_scale,
        },
        wavelength: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclid_preset_has_vis_and_nisp() {
        let s = Survey::load("euclid").unwrap();
        let names: Vec<_> = s.bands.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["VIS", "Y", "J", "H"]);
        assert_eq!((s.bands[0].size, s.bands[0].pixel_scale), (200, 0.1));
        assert_eq!((s.bands[3].size, s.bands[3].pixel_scale), (66, 0.3));
    }

    #[test]
    fn a_survey_file_with_a_bad_value_names_the_band_field() {
        let text = PRESETS[0]
            .1
            .replacen("pixel_scale = 0.3", "pixel_scale = -0.3", 1);
        let e = Survey::from_toml(&text, Path::new("my.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("my.toml") && e.contains("bands[1].pixel_scale"),
            "{e}"
        );
        let text = PRESETS[0].1.replacen("name = \"Y\"", "name = \"VIS\"", 1);
        let e = Survey::from_toml(&text, Path::new("my.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bands[1].name") && e.contains("twice"), "{e}");
    }

    #[test]
    fn every_preset_loads_and_its_kernels_build() {
        for (name, _) in PRESETS {
            let s = Survey::load(name).unwrap();
            assert_eq!(&s.name, name);
            for b in &s.bands {
                let k = b.psf.kernel(b.pixel_scale, b.size).unwrap();
                assert!((k.sum() - 1.0).abs() < 1e-12 && b.noise_model().background_sigma() > 0.0);
            }
        }
    }

    #[test]
    fn unknown_survey_lists_the_presets() {
        let e = Survey::load("hubble-deep").unwrap_err().to_string();
        assert!(e.contains("euclid"), "{e}");
    }
}
