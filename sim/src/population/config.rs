//! A population's configuration (`configs/populations/*.toml`): its distributions and their
//! parameters, every value range-checked with its field named.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cosmology::Cosmology;
use crate::error::{Error, Result};
use crate::limits::{M200_RANGE, MAX_MAG, MIN_MAG};

/// The embedded populations: (name, TOML text).
pub const PRESETS: &[(&str, &str)] = &[
    (
        "sglc2",
        include_str!("../../../configs/populations/sglc2.toml"),
    ),
    (
        "des-search",
        include_str!("../../../configs/populations/des-search.toml"),
    ),
];

/// Lens galaxies: mass, halo and light. Fields are documented in `configs/populations/sglc2.toml`.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensPopulation {
    pub z_min: f64,
    pub z_max: f64,
    pub sigma_min: f64,
    pub sigma_max: f64,
    pub vdf_alpha: f64,
    pub vdf_beta: f64,
    pub vdf_sigma_star: f64,
    pub q_mean: f64,
    pub q_sd: f64,
    pub q_min: f64,
    pub halo_mass_scatter: f64,
    pub halo_q: f64,
    pub concentration_a: f64,
    pub concentration_b: f64,
    pub concentration_c: f64,
    pub concentration_pivot: f64,
    pub concentration_scatter: f64,
    pub shear_sigma: f64,
    pub mass_to_light: f64,
    pub sun_abs_mag: f64,
    pub size_a: f64,
    pub size_b: f64,
    pub size_scatter: f64,
    pub sersic_n_mean: f64,
    pub sersic_n_sd: f64,
    pub disc_fraction_max: f64,
    pub disc_scale_min: f64,
    pub disc_scale_max: f64,
    pub inclination_max: f64,
    pub pitch_min: f64,
    pub pitch_max: f64,
    pub arm_amplitude_min: f64,
    pub arm_amplitude_max: f64,
    pub bulge_colour_mean: f64,
    pub bulge_colour_sd: f64,
    pub disc_colour_mean: f64,
    pub disc_colour_sd: f64,
    pub moster: Moster,
}

/// The stellar-to-halo mass relation of Moster, Naab & White (2013), their Table 1.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moster {
    pub m10: f64,
    pub m11: f64,
    pub n10: f64,
    pub n11: f64,
    pub beta10: f64,
    pub beta11: f64,
    pub gamma10: f64,
    pub gamma11: f64,
}

impl Moster {
    /// Stellar mass (M☉) of a halo of mass `m200` (M☉) at redshift `z` (their eqs. 2, 11–14).
    pub fn stellar_mass(&self, m200: f64, z: f64) -> f64 {
        let a = z / (1.0 + z);
        let m1 = 10f64.powf(self.m10 + self.m11 * a);
        let n = self.n10 + self.n11 * a;
        let beta = self.beta10 + self.beta11 * a;
        let gamma = self.gamma10 + self.gamma11 * a;
        let x = m200 / m1;
        2.0 * n * m200 / (x.powf(-beta) + x.powf(gamma))
    }
}

/// Background sources. Fields are documented in `configs/populations/sglc2.toml`.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePopulation {
    pub z_alpha: f64,
    pub z_beta: f64,
    pub z_median: f64,
    pub z_max: f64,
    pub z_gap: f64,
    pub mag_min: f64,
    pub mag_max: f64,
    pub count_slope: f64,
    pub r_eff_median: f64,
    pub r_eff_pivot_mag: f64,
    pub r_eff_slope: f64,
    pub r_eff_scatter: f64,
    pub r_eff_min: f64,
    pub r_eff_max: f64,
    pub n_min: f64,
    pub n_max: f64,
    pub q_min: f64,
    pub knots_mean: f64,
    pub knot_frac_min: f64,
    pub knot_frac_max: f64,
    pub knot_sigma_min: f64,
    pub knot_sigma_max: f64,
    pub colour_mean: f64,
    pub colour_sd: f64,
    pub placement_factor: f64,
    pub subcritical_radius: f64,
}

/// Galaxies in the field besides the lens (light only, in the lens plane). Fields are
/// documented in `configs/populations/sglc2.toml`.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourPopulation {
    pub density: f64,
    pub mag_min: f64,
    pub mag_max: f64,
    pub count_slope: f64,
    pub exclusion: f64,
    pub r_eff_median: f64,
    pub r_eff_scatter: f64,
    pub n_min: f64,
    pub n_max: f64,
    pub q_min: f64,
    pub colour_min: f64,
    pub colour_max: f64,
}

/// A population of lens systems.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationConfig {
    /// The population's name.
    pub name: String,
    /// Fraction of fields without a background source, [0, 1].
    pub no_source_fraction: f64,
    /// Wavelength at which magnitudes are given, μm.
    pub reference_wavelength: f64,
    /// Cosmology (flat ΛCDM; H0 = 70, Ω_m = 0.3 when absent).
    #[serde(default)]
    pub cosmology: Cosmology,
    /// Lens galaxies.
    pub lens: LensPopulation,
    /// Sources.
    pub source: SourcePopulation,
    /// Neighbouring galaxies.
    pub neighbours: NeighbourPopulation,
}

impl PopulationConfig {
    /// An embedded population by name, or a TOML file if `name_or_path` names an existing file.
    pub fn load(name_or_path: &str) -> Result<Self> {
        let (text, path) =
            crate::error::read_preset(name_or_path, PRESETS, "populations", "population")?;
        Self::from_toml(&text, &path)
    }

    /// Parses and validates a population TOML; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| Error::Parse {
            file: path.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidSpec {
            file: path.into(),
            field: field.into(),
            reason,
        };
        crate::limits::name("name", &self.name).map_err(|(f, r)| bad(f, r))?;
        let range = |field: &'static str, v: f64, lo: f64, hi: f64| -> Result<()> {
            crate::limits::in_range(field, v, lo, hi, "").map_err(|(f, r)| bad(f, r))
        };
        let ordered = |lo_f: &str, lo: f64, hi: f64| -> Result<()> {
            if lo.is_finite() && hi.is_finite() && lo <= hi {
                Ok(())
            } else {
                Err(bad(
                    lo_f,
                    format!(
                        "{} must be ≤ its upper limit {}",
                        crate::limits::show(lo),
                        crate::limits::show(hi)
                    ),
                ))
            }
        };
        range("no_source_fraction", self.no_source_fraction, 0.0, 1.0)?;
        range("reference_wavelength", self.reference_wavelength, 1e-3, 1e3)?;
        self.cosmology
            .validate()
            .map_err(|(f, r)| bad(&format!("cosmology.{f}"), r))?;
        let l = &self.lens;
        range("lens.z_min", l.z_min, 1e-2, 10.0)?;
        range("lens.z_max", l.z_max, l.z_min + 1e-3, 10.0)?;
        range("lens.sigma_min", l.sigma_min, 10.0, 2000.0)?;
        range("lens.sigma_max", l.sigma_max, l.sigma_min + 1e-3, 2000.0)?;
        range("lens.vdf_alpha", l.vdf_alpha, 1e-3, 100.0)?;
        range("lens.vdf_beta", l.vdf_beta, 1e-3, 100.0)?;
        range("lens.vdf_sigma_star", l.vdf_sigma_star, 1.0, 2000.0)?;
        range("lens.q_min", l.q_min, 0.05, 1.0)?;
        range("lens.q_mean", l.q_mean, l.q_min, 1.0)?;
        range("lens.q_sd", l.q_sd, 0.0, 1.0)?;
        range("lens.halo_mass_scatter", l.halo_mass_scatter, 0.0, 2.0)?;
        range("lens.halo_q", l.halo_q, 0.05, 1.0)?;
        range("lens.concentration_a", l.concentration_a, 0.1, 100.0)?;
        range(
            "lens.concentration_pivot",
            l.concentration_pivot,
            M200_RANGE.0,
            M200_RANGE.1,
        )?;
        range(
            "lens.concentration_scatter",
            l.concentration_scatter,
            0.0,
            2.0,
        )?;
        range("lens.shear_sigma", l.shear_sigma, 0.0, 0.3)?;
        range("lens.mass_to_light", l.mass_to_light, 0.1, 100.0)?;
        range("lens.size_b", l.size_b, 0.0, 1.0)?;
        range("lens.size_scatter", l.size_scatter, 0.0, 2.0)?;
        range("lens.sersic_n_mean", l.sersic_n_mean, 0.2, 10.0)?;
        range("lens.sersic_n_sd", l.sersic_n_sd, 0.0, 5.0)?;
        range("lens.disc_fraction_max", l.disc_fraction_max, 0.0, 0.99)?;
        range("lens.disc_scale_min", l.disc_scale_min, 1e-3, 100.0)?;
        ordered("lens.disc_scale_min", l.disc_scale_min, l.disc_scale_max)?;
        range("lens.inclination_max", l.inclination_max, 0.0, 85.0)?;
        range("lens.pitch_min", l.pitch_min, 1.0, 89.0)?;
        range("lens.pitch_max", l.pitch_max, l.pitch_min, 89.0)?;
        range("lens.arm_amplitude_min", l.arm_amplitude_min, 0.0, 1.0)?;
        range(
            "lens.arm_amplitude_max",
            l.arm_amplitude_max,
            l.arm_amplitude_min,
            1.0,
        )?;
        range("lens.bulge_colour_sd", l.bulge_colour_sd, 0.0, 2.0)?;
        range("lens.disc_colour_sd", l.disc_colour_sd, 0.0, 2.0)?;
        range("lens.concentration_b", l.concentration_b, -2.0, 2.0)?;
        range("lens.concentration_c", l.concentration_c, -2.0, 2.0)?;
        range("lens.sun_abs_mag", l.sun_abs_mag, 0.0, 10.0)?;
        range("lens.size_a", l.size_a, 0.0, 1.0)?;
        range("lens.bulge_colour_mean", l.bulge_colour_mean, -10.0, 10.0)?;
        range("lens.disc_colour_mean", l.disc_colour_mean, -10.0, 10.0)?;
        let s = &self.source;
        range("source.z_alpha", s.z_alpha, 0.0, 20.0)?;
        range("source.z_beta", s.z_beta, 0.1, 20.0)?;
        range("source.z_median", s.z_median, 0.01, 20.0)?;
        range("source.z_gap", s.z_gap, 1e-3, 5.0)?;
        range("source.z_max", s.z_max, l.z_max + s.z_gap + 1e-3, 20.0)?;
        range("source.mag_min", s.mag_min, MIN_MAG, MAX_MAG)?;
        range("source.mag_max", s.mag_max, s.mag_min, MAX_MAG)?;
        range("source.count_slope", s.count_slope, 1e-3, 2.0)?;
        range("source.r_eff_min", s.r_eff_min, 1e-3, 10.0)?;
        range("source.r_eff_max", s.r_eff_max, s.r_eff_min, 10.0)?;
        range(
            "source.r_eff_median",
            s.r_eff_median,
            s.r_eff_min,
            s.r_eff_max,
        )?;
        range(
            "source.r_eff_pivot_mag",
            s.r_eff_pivot_mag,
            MIN_MAG,
            MAX_MAG,
        )?;
        range("source.r_eff_slope", s.r_eff_slope, -1.0, 1.0)?;
        range("source.r_eff_scatter", s.r_eff_scatter, 0.0, 2.0)?;
        range("source.n_min", s.n_min, 0.2, 10.0)?;
        range("source.n_max", s.n_max, s.n_min, 10.0)?;
        range("source.q_min", s.q_min, 0.05, 1.0)?;
        range("source.knots_mean", s.knots_mean, 0.0, 10.0)?;
        range("source.knot_frac_min", s.knot_frac_min, 1e-4, 0.09)?;
        range(
            "source.knot_frac_max",
            s.knot_frac_max,
            s.knot_frac_min,
            0.09,
        )?;
        range("source.knot_sigma_min", s.knot_sigma_min, 1e-3, 1.0)?;
        range(
            "source.knot_sigma_max",
            s.knot_sigma_max,
            s.knot_sigma_min,
            1.0,
        )?;
        range("source.colour_mean", s.colour_mean, -10.0, 10.0)?;
        range("source.colour_sd", s.colour_sd, 0.0, 2.0)?;
        range("source.placement_factor", s.placement_factor, 0.0, 100.0)?;
        range(
            "source.subcritical_radius",
            s.subcritical_radius,
            0.0,
            100.0,
        )?;
        let n = &self.neighbours;
        range("neighbours.density", n.density, 0.0, 1e4)?;
        range("neighbours.mag_min", n.mag_min, MIN_MAG, MAX_MAG)?;
        range("neighbours.mag_max", n.mag_max, n.mag_min, MAX_MAG)?;
        range("neighbours.count_slope", n.count_slope, 1e-3, 2.0)?;
        range("neighbours.exclusion", n.exclusion, 0.0, 100.0)?;
        range("neighbours.r_eff_median", n.r_eff_median, 1e-3, 10.0)?;
        range("neighbours.r_eff_scatter", n.r_eff_scatter, 0.0, 2.0)?;
        range("neighbours.n_min", n.n_min, 0.2, 10.0)?;
        range("neighbours.n_max", n.n_max, n.n_min, 10.0)?;
        range("neighbours.q_min", n.q_min, 0.05, 1.0)?;
        range("neighbours.colour_min", n.colour_min, -10.0, 10.0)?;
        range("neighbours.colour_max", n.colour_max, n.colour_min, 10.0)?;
        Ok(())
    }
}
