//! A system spec: one lens system as `sim render --spec FILE` reads it (TOML or JSON) and as
//! the population sampler will produce it (DESIGN.md, "A system spec").

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cosmology::Cosmology;
use crate::error::{Error, Result};
use crate::light::LightSpec;
use crate::limits::{offset, MAX_ANGLE};
use crate::mass::{Lens, MassSpec};
use crate::observe::Survey;
use crate::raytrace::{LightComponent, System};

/// The lens galaxy: its mass components and its light.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensSpec {
    /// Mass components, summed.
    pub mass: Vec<MassSpec>,
    /// Light components, evaluated in the image plane.
    #[serde(default)]
    pub light: Vec<LightSpec>,
}

/// The background source: its light, evaluated in the source plane.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Light components (none: a field without a lensed source).
    #[serde(default)]
    pub light: Vec<LightSpec>,
}

/// One lens system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    /// Lens redshift, > 0.
    pub z_lens: f64,
    /// Source redshift, > z_lens.
    pub z_source: f64,
    /// Cosmology (flat ΛCDM; H0 = 70, Ω_m = 0.3 when absent).
    #[serde(default)]
    pub cosmology: Cosmology,
    /// The lens.
    pub lens: LensSpec,
    /// The source.
    #[serde(default)]
    pub source: SourceSpec,
}

/// The example spec embedded in the binary (`configs/specs/example.toml`).
pub const EXAMPLE: &str = include_str!("../../configs/specs/example.toml");

impl SystemSpec {
    /// The embedded example spec.
    pub fn example() -> Self {
        // The embedded file is tested to parse (tests below), so this cannot fail at run time.
        Self::from_toml(EXAMPLE, Path::new("configs/specs/example.toml"))
            .expect("embedded example spec parses")
    }

    /// Reads a spec from a `.toml` or `.json` file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Self::from_toml(&text, path),
            "json" => serde_json::from_str(&text).map_err(|e| Error::Parse {
                file: path.into(),
                message: e.to_string(),
            }),
            _ => Err(Error::Parse {
                file: path.into(),
                message: format!("unknown spec extension `.{ext}`: use .toml or .json"),
            }),
        }
    }

    /// Parses a spec from TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Parse {
            file: path.into(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Checks every value against its allowed range (`crate::limits`) and every band against the
    /// survey, and returns the system ready to ray-trace. Centres may lie at most
    /// [`MAX_ANGLE`] beyond the edge of the survey's largest field. Errors name `file`, the
    /// field and the range.
    pub fn build(&self, survey: &Survey, file: &Path) -> Result<System> {
        let bad = |field: String, reason: String| Error::InvalidSpec {
            file: file.into(),
            field,
            reason,
        };
        let z_max = crate::cosmology::MAX_REDSHIFT;
        if !(self.z_lens > 0.0 && self.z_lens < z_max) {
            return Err(bad(
                "z_lens".into(),
                format!(
                    "{} must be in (0, {z_max})",
                    crate::limits::show(self.z_lens)
                ),
            ));
        }
        if !(self.z_source > self.z_lens && self.z_source <= z_max) {
            return Err(bad(
                "z_source".into(),
                format!(
                    "{} must be > z_lens = {} and ≤ {z_max}",
                    crate::limits::show(self.z_source),
                    crate::limits::show(self.z_lens)
                ),
            ));
        }
        self.cosmology
            .validate()
            .map_err(|(f, r)| bad(format!("cosmology.{f}"), r))?;
        if self.lens.mass.is_empty() {
            return Err(bad(
                "lens.mass".into(),
                "a lens needs at least one mass component".into(),
            ));
        }
        let reach = survey.max_half_width() + MAX_ANGLE;
        let within_reach = |c: [f64; 2]| -> Result<(), (&'static str, String)> {
            offset("center", c, reach).map_err(|(f, r)| {
                let half = survey.max_half_width();
                (
                    f,
                    format!("{r}: the field's half-width ({half}\") plus {MAX_ANGLE}\""),
                )
            })
        };
        let mut masses = Vec::with_capacity(self.lens.mass.len());
        for (i, m) in self.lens.mass.iter().enumerate() {
            m.validate()
                .and_then(|()| m.center().map_or(Ok(()), within_reach))
                .map_err(|(f, r)| bad(format!("lens.mass[{i}].{f}"), r))?;
            masses.push(m.build(&self.cosmology, self.z_lens, self.z_source));
        }
        let bands = survey.band_zero_points();
        let light = |list: &[LightSpec], path: &str| -> Result<Vec<LightComponent>> {
            list.iter()
                .enumerate()
                .map(|(i, l)| {
                    l.validate()
                        .and_then(|()| within_reach(l.center()))
                        .map_err(|(f, r)| bad(format!("{path}[{i}].{f}"), r))?;
                    let flux = l
                        .fluxes(&bands)
                        .map_err(|(f, r)| bad(format!("{path}[{i}].{f}"), r))?;
                    Ok(LightComponent {
                        profile: l.build(),
                        flux,
                    })
                })
                .collect()
        };
        Ok(System {
            lens: Lens::new(masses),
            lens_light: light(&self.lens.light, "lens.light")?,
            source_light: light(&self.source.light, "source.light")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
z_lens = 0.5
z_source = 2.0
[[lens.mass]]
type = "sie"
theta_e = 1.2
q = 0.7
phi = 30.0
[[lens.mass]]
type = "shear"
gamma = 0.05
phi = 10.0
[[source.light]]
type = "sersic"
r_eff = 0.2
n = 1.0
flux = { VIS = 3.0, Y = 2.0, J = 2.0, H = 2.0 }
"#;

    fn build(text: &str) -> Result<System> {
        let survey = Survey::load("euclid").unwrap();
        SystemSpec::from_toml(text, Path::new("s.toml"))?.build(&survey, Path::new("s.toml"))
    }

    #[test]
    fn the_embedded_example_builds_with_fluxes_of_its_ab_magnitudes() {
        // The example's lens bulge has VIS = 19.5 and H = 18.6 AB; Euclid's zero points (AB
        // magnitude of 1 e⁻/s) are 25.72 and 25.21, so its fluxes are 10^(−0.4 (m − zp)) e⁻/s
        // by the definition of a zero point.
        let survey = Survey::load("euclid").unwrap();
        let s = SystemSpec::example()
            .build(&survey, Path::new("example.toml"))
            .unwrap();
        let flux = &s.lens_light[0].flux;
        for (got, m, zp) in [(flux[0], 19.5, 25.72), (flux[3], 18.6, 25.21)] {
            let want = 10f64.powf(-0.4 * (m - zp));
            assert!((got - want).abs() < 1e-12 * want, "{got} against {want}");
        }
    }

    #[test]
    fn a_good_spec_builds() {
        let s = build(GOOD).unwrap();
        assert_eq!(s.lens.components.len(), 2);
        assert_eq!(s.source_light[0].flux, vec![3.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn errors_name_the_file_the_field_and_the_range() {
        let e = build(&GOOD.replace("q = 0.7", "q = 1.7"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml") && e.contains("lens.mass[0].q") && e.contains("[0.01, 1]"),
            "{e}"
        );
        let e = build(&GOOD.replace("z_source = 2.0", "z_source = 0.3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("z_source") && e.contains("z_lens"), "{e}");
        // Issue #19: redshifts beyond any lensed galaxy are refused with the range (a source
        // at 1e12 once hung the distance integral).
        for (from, to, field) in [
            ("z_source = 2.0", "z_source = 1e12", "z_source"),
            ("z_lens = 0.5", "z_lens = 25.0", "z_lens"),
        ] {
            let e = build(&GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains("20"), "{e}");
        }
        // Issue #19: every value has a physical range (crate::limits); these once rendered
        // NaN or infinite pixels, or nothing at all, with exit 0.
        for (from, to, field, range) in [
            ("VIS = 3.0", "VIS = 1e300", "source.light[0].flux", "1.94"),
            (
                "theta_e = 1.2",
                "theta_e = 1e6",
                "lens.mass[0].theta_e",
                "[0.0001, 100]",
            ),
            (
                "theta_e = 1.2",
                "theta_e = 1.2\ncenter = [1e10, 0]",
                "lens.mass[0].center",
                "110",
            ),
            (
                "n = 1.0",
                "n = 1.0\ncenter = [0, -111]",
                "source.light[0].center",
                "110",
            ),
            (
                "r_eff = 0.2",
                "r_eff = 1e-300",
                "source.light[0].r_eff",
                "[0.0001, 100]",
            ),
            (
                "phi = 30.0",
                "phi = 1e300",
                "lens.mass[0].phi",
                "[-360, 360]",
            ),
        ] {
            let e = build(&GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains(range), "{to}: {e}");
            assert!(!e.contains("00000000000"), "values are shown short: {e}");
        }
        let e = build(&GOOD.replace("Y = 2.0", "K = 2.0"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("source.light[0].flux") && e.contains("`K`"),
            "{e}"
        );
        let e = build(&GOOD.replace("\"sie\"", "\"sie2\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml") && e.contains("sie2"), "{e}");
        let e = build(&GOOD.replace("theta_e = 1.2", "theta_e = 1.2\nthetae = 3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("thetae"), "{e}");
    }
}
