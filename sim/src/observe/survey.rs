//! Survey presets: bands with their pixel scale, stamp size and zero point.
//!
//! Presets live in `configs/surveys/*.toml` and are embedded in the binary; a file path
//! overrides them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The embedded presets: (name, TOML text).
pub const PRESETS: &[(&str, &str)] = &[(
    "euclid",
    include_str!("../../../configs/surveys/euclid.toml"),
)];

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
}

impl Band {
    /// Half the stamp's side, arcsec.
    pub fn half_width(&self) -> f64 {
        0.5 * self.size as f64 * self.pixel_scale
    }
}

/// A survey: a named list of bands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// The survey's name.
    pub name: String,
    /// Its bands, in the order datasets store them.
    pub bands: Vec<Band>,
}

impl Survey {
    /// An embedded preset by name, or a TOML file if `name_or_path` names an existing file.
    pub fn load(name_or_path: &str) -> Result<(Self, String)> {
        let path = Path::new(name_or_path);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.into(),
                source,
            })?;
            let survey = Self::from_toml(&text, path)?;
            return Ok((survey, text));
        }
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name_or_path)
            .ok_or_else(|| Error::UnknownSurvey {
                name: name_or_path.to_string(),
                known: PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", "),
            })?;
        let survey = Self::from_toml(
            text,
            Path::new(&format!("configs/surveys/{name_or_path}.toml")),
        )?;
        Ok((survey, text.to_string()))
    }

    /// Parses and validates a survey TOML; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let survey: Survey = toml::from_str(text).map_err(|e| Error::Parse {
            file: path.into(),
            message: e.to_string(),
        })?;
        survey.validate(path)?;
        Ok(survey)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |i: usize, field: &str, reason: String| Error::InvalidSpec {
            file: path.into(),
            field: format!("bands[{i}].{field}"),
            reason,
        };
        if self.bands.is_empty() {
            return Err(Error::InvalidSpec {
                file: path.into(),
                field: "bands".into(),
                reason: "a survey needs at least one band".into(),
            });
        }
        for (i, b) in self.bands.iter().enumerate() {
            if !(b.pixel_scale > 0.0 && b.pixel_scale.is_finite()) {
                return Err(bad(
                    i,
                    "pixel_scale",
                    format!("{} must be > 0 (arcsec/pixel)", b.pixel_scale),
                ));
            }
            if !(1..=8192).contains(&b.size) {
                return Err(bad(
                    i,
                    "size",
                    format!("{} is outside the allowed range [1, 8192] pixels", b.size),
                ));
            }
            if !b.zero_point.is_finite() {
                return Err(bad(
                    i,
                    "zero_point",
                    format!("{} must be a finite AB magnitude", b.zero_point),
                ));
            }
            if self.bands[..i].iter().any(|o| o.name == b.name) {
                return Err(bad(i, "name", format!("band `{}` appears twice", b.name)));
            }
        }
        Ok(())
    }

    /// (name, zero point) of every band, in order.
    pub fn band_zero_points(&self) -> Vec<(&str, f64)> {
        self.bands
            .iter()
            .map(|b| (b.name.as_str(), b.zero_point))
            .collect()
    }

    /// Half the side of the largest stamp of any band, arcsec.
    pub fn max_half_width(&self) -> f64 {
        self.bands.iter().map(Band::half_width).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclid_preset_has_vis_and_nisp() {
        let (s, _) = Survey::load("euclid").unwrap();
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
    fn unknown_survey_lists_the_presets() {
        let e = Survey::load("hubble-deep").unwrap_err().to_string();
        assert!(e.contains("euclid"), "{e}");
    }
}
