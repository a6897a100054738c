//! Populations of lens systems: the distributions of `configs/populations/*.toml` (every value
//! cited there), turned into one [`SystemSpec`] per (seed, index).
//!
//! A system is drawn in this order from its own random stream: lens redshift (comoving volume),
//! velocity dispersion (Choi et al. 2007), halo mass from σ (Mo, Mao & White 1998) and its
//! concentration (Duffy et al. 2008), stellar mass (Moster et al. 2013), the galaxy's
//! truncated isothermal mass (its mass = the stellar mass, subtracted from the halo), shear,
//! bulge and disc light, source redshift (Smail et al. 1994), whether there is a source, its
//! light and its position near the caustic, then the neighbours.

pub mod config;
pub mod draw;

pub use config::{
    LensPopulation, Moster, NeighbourPopulation, PopulationConfig, SourcePopulation, PRESETS,
};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::caustics::{critical_curves, CausticGrid, CriticalCurves};
use crate::cosmology::{ARCSEC_RAD, G_SI, MPC_M, M_SUN_KG};
use crate::error::{Error, Result};
use crate::light::{BandValues, ClumpyParams, DiscParams, Knot, LightSpec, SersicParams};
use crate::mass::{nfw::NfwParams, shear::ShearParams, tesis::TesisParams, Lens, MassSpec};
use crate::observe::Survey;
use crate::spec::{LensSpec, SourceSpec, SystemSpec};
use draw::{
    log_normal, poisson, power_law_magnitude, smail_redshift, smail_z0, standard_normal,
    truncated_normal, uniform, velocity_dispersion, ComovingVolume,
};

/// What the sampler knows about a system beyond its spec (stored in the catalogue).
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    /// Velocity dispersion of the lens galaxy, km/s.
    pub sigma_v: f64,
    /// Halo mass M200 (galaxy included), M☉.
    pub halo_mass: f64,
    /// Halo concentration c200.
    pub concentration: f64,
    /// Stellar (= galaxy) mass, M☉.
    pub stellar_mass: f64,
    /// Half-light radius of the lens bulge, arcsec.
    pub lens_r_eff: f64,
    /// Half-light radius of the source's body, arcsec (NaN without a source).
    pub source_r_eff: f64,
    /// Source magnitude at the reference wavelength (NaN without a source).
    pub source_mag_ref: f64,
    /// Number of neighbouring galaxies.
    pub n_neighbours: u32,
}

/// One sampled system.
#[derive(Clone, Debug)]
pub struct Sampled {
    /// The system, ready for [`SystemSpec::build`].
    pub spec: SystemSpec,
    /// What else the sampler drew.
    pub truth: Truth,
    /// The lens's tangential critical curve and caustic (used to place the source).
    pub curves: Option<CriticalCurves>,
}

/// A population ready to sample for one survey.
#[derive(Clone, Debug)]
pub struct Population {
    /// The configuration.
    pub config: PopulationConfig,
    lens_z: ComovingVolume,
    source_z0: f64,
    /// (band name, wavelength μm) of the survey's bands.
    bands: Vec<(String, f64)>,
    /// Half-side of the field the neighbours fill (the largest stamp), arcsec.
    field_half_width: f64,
    /// Grid step of the critical curves that place the source (and label the system), arcsec.
    caustic_step: f64,
}

/// Highest knot count: the knots' flux fractions must sum below 1 (each ≤ 0.09).
const MAX_KNOTS: u32 = 10;

impl Population {
    /// Prepares `config` for `survey`: every band needs a `wavelength` for the colours.
    pub fn new(config: PopulationConfig, survey: &Survey) -> Result<Self> {
        let mut bands = Vec::new();
        for (i, b) in survey.bands.iter().enumerate() {
            let w = b.wavelength.ok_or_else(|| Error::InvalidSpec {
                file: format!("survey `{}`", survey.name).into(),
                field: format!("bands[{i}].wavelength"),
                reason: format!(
                    "band `{}` has no wavelength (μm): the population's colours need it",
                    b.name
                ),
            })?;
            bands.push((b.name.clone(), w));
        }
        let lens_z = ComovingVolume::new(&config.cosmology, config.lens.z_min, config.lens.z_max);
        let s = &config.source;
        let source_z0 = smail_z0(s.z_alpha, s.z_beta, s.z_median);
        Ok(Self {
            lens_z,
            source_z0,
            bands,
            field_half_width: survey.max_half_width(),
            caustic_step: CausticGrid::DEFAULT_STEP,
            config,
        })
    }

    /// The same with the critical curves found at `step` arcsec (the run's `caustic_step`, so
    /// that the curves that place the source are the ones the catalogue reports).
    pub fn with_caustic_step(mut self, step: f64) -> Self {
        self.caustic_step = step;
        self
    }

    /// The random stream of system `index` of a run with `seed`: ChaCha8 keyed by the seed
    /// xor a fixed constant (so it never coincides with the noise's streams, keyed by the
    /// seed itself), stream number `index`.
    pub fn rng(seed: u64, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_9a1a_c7e5);
        rng.set_stream(index);
        rng
    }

    /// AB magnitudes per band of a component of magnitude `mag_ref` at the reference
    /// wavelength and colour slope p (f_ν ∝ λ^p).
    fn magnitudes(&self, mag_ref: f64, p: f64) -> BandValues {
        let lref = self.config.reference_wavelength;
        self.bands
            .iter()
            .map(|(name, w)| (name.clone(), mag_ref - 2.5 * p * (w / lref).log10()))
            .collect()
    }

    /// System `index` of a run with `seed`.
    pub fn sample(&self, seed: u64, index: u64) -> Sampled {
        let rng = &mut Self::rng(seed, index);
        let c = &self.config;
        let l = &c.lens;
        let cosmo = c.cosmology;

        // Lens redshift and velocity dispersion.
        let z_lens = self.lens_z.draw(rng);
        let sigma_v = velocity_dispersion(
            rng,
            l.vdf_alpha,
            l.vdf_beta,
            l.vdf_sigma_star,
            l.sigma_min,
            l.sigma_max,
        );
        // Halo: M200 = √2 σ³ / (5 G H(z)) (V_c = √2 σ in Mo, Mao & White's eq. 2), scattered.
        let h_si = cosmo.h0 * 1e3 / MPC_M * cosmo.efunc(z_lens);
        let sigma_si = sigma_v * 1e3;
        let m200_mean =
            std::f64::consts::SQRT_2 * sigma_si.powi(3) / (5.0 * G_SI * h_si) / M_SUN_KG;
        let halo_mass = m200_mean * 10f64.powf(l.halo_mass_scatter * standard_normal(rng));
        let concentration = l.concentration_a
            * (halo_mass / l.concentration_pivot).powf(l.concentration_b)
            * (1.0 + z_lens).powf(l.concentration_c)
            * 10f64.powf(l.concentration_scatter * standard_normal(rng));
        let stellar_mass = l.moster.stellar_mass(halo_mass, z_lens);

        // Source redshift (needed for the lensing strength even without a source).
        let s = &c.source;
        let z_source = smail_redshift(
            rng,
            s.z_alpha,
            s.z_beta,
            self.source_z0,
            z_lens + s.z_gap,
            s.z_max,
        );

        // Mass: a truncated isothermal galaxy of Einstein radius θ_E(σ) whose projected mass
        // π θ_E r_t Σ_crit equals the stellar mass, in an NFW halo of M200 minus that mass.
        let q = truncated_normal(rng, l.q_mean, l.q_sd, l.q_min, 1.0);
        let phi = uniform(rng, 0.0, 180.0);
        let theta_e = cosmo.sis_theta_e(sigma_v, z_lens, z_source);
        let sigma_crit = cosmo.sigma_crit(z_lens, z_source);
        let r_trunc = stellar_mass / (std::f64::consts::PI * theta_e * sigma_crit);
        let nfw = cosmo.nfw_angles(halo_mass, concentration, z_lens, z_source);
        let halo_fraction = (1.0 - stellar_mass / halo_mass).max(0.0);
        let gamma1 = l.shear_sigma * standard_normal(rng);
        let gamma2 = l.shear_sigma * standard_normal(rng);
        let mut mass = vec![MassSpec::Tesis(TesisParams {
            theta_e,
            r_trunc,
            q,
            phi,
            center: [0.0, 0.0],
        })];
        if halo_fraction > 0.0 {
            mass.push(MassSpec::Nfw(NfwParams {
                rs: Some(nfw.rs),
                alpha_rs: Some(nfw.alpha_rs * halo_fraction),
                m200: None,
                c: None,
                q: l.halo_q,
                phi,
                center: [0.0, 0.0],
            }));
        }
        mass.push(MassSpec::Shear(ShearParams {
            gamma: gamma1.hypot(gamma2),
            phi: 0.5 * gamma2.atan2(gamma1).to_degrees(),
        }));

        // Light: bulge + disc sharing the mass's position angle.
        let d_l = cosmo.angular_diameter_distance(z_lens); // Mpc
        let kpc_per_arcsec = d_l * 1e3 * ARCSEC_RAD;
        let r50_kpc = l.size_b * stellar_mass.powf(l.size_a);
        let lens_r_eff = log_normal(rng, r50_kpc / kpc_per_arcsec, l.size_scatter, 0.05, 20.0);
        let luminosity_distance_pc = d_l * (1.0 + z_lens).powi(2) * 1e6;
        let abs_mag = l.sun_abs_mag - 2.5 * (stellar_mass / l.mass_to_light).log10();
        let total_mag = abs_mag + 5.0 * (luminosity_distance_pc / 10.0).log10();
        let disc_fraction = uniform(rng, 0.0, l.disc_fraction_max);
        let n_bulge = truncated_normal(rng, l.sersic_n_mean, l.sersic_n_sd, 0.5, 8.0);
        let bulge_p = l.bulge_colour_mean + l.bulge_colour_sd * standard_normal(rng);
        let disc_p = l.disc_colour_mean + l.disc_colour_sd * standard_normal(rng);
        let cos_i_min = l.inclination_max.to_radians().cos();
        let inclination = uniform(rng, cos_i_min, 1.0).acos().to_degrees();
        let disc_scale = lens_r_eff * uniform(rng, l.disc_scale_min, l.disc_scale_max);
        let pitch = uniform(rng, l.pitch_min, l.pitch_max);
        let arm_amplitude = uniform(rng, l.arm_amplitude_min, l.arm_amplitude_max);
        let arm_phase = uniform(rng, 0.0, 360.0);
        let mut lens_light = vec![LightSpec::Sersic(SersicParams {
            r_eff: lens_r_eff,
            n: n_bulge,
            q,
            phi,
            center: [0.0, 0.0],
            mag: Some(self.magnitudes(total_mag - 2.5 * (1.0 - disc_fraction).log10(), bulge_p)),
            flux: None,
        })];
        if disc_fraction > 0.0 {
            lens_light.push(LightSpec::Disc(DiscParams {
                scale_length: disc_scale,
                inclination,
                phi,
                center: [0.0, 0.0],
                arms: 2,
                pitch,
                arm_amplitude,
                arm_phase,
                mag: Some(self.magnitudes(total_mag - 2.5 * disc_fraction.log10(), disc_p)),
                flux: None,
            }));
        }

        // The caustic, to place the source.
        let lens = Lens::new(
            mass.iter()
                .map(|m| m.build(&cosmo, z_lens, z_source))
                .collect(),
        );
        let curves = critical_curves(
            &lens,
            CausticGrid {
                half_width: self.field_half_width,
                step: self.caustic_step,
            },
        );

        // The source.
        let has_source = uniform(rng, 0.0, 1.0) >= c.no_source_fraction;
        let mut source_light = Vec::new();
        let (mut source_r_eff, mut source_mag_ref) = (f64::NAN, f64::NAN);
        if has_source {
            let (centre, radius) = match &curves {
                Some(cc) => (cc.caustic_center, s.placement_factor * cc.caustic_radius),
                None => ([0.0, 0.0], s.subcritical_radius),
            };
            let r = radius * uniform(rng, 0.0, 1.0).sqrt();
            let t = uniform(rng, 0.0, std::f64::consts::TAU);
            let mag = power_law_magnitude(rng, s.count_slope, s.mag_min, s.mag_max);
            let median = s.r_eff_median * 10f64.powf(-s.r_eff_slope * (mag - s.r_eff_pivot_mag));
            let r_eff = log_normal(rng, median, s.r_eff_scatter, s.r_eff_min, s.r_eff_max);
            let p = s.colour_mean + s.colour_sd * standard_normal(rng);
            let n_knots = poisson(rng, s.knots_mean).min(MAX_KNOTS);
            let knots = (0..n_knots)
                .map(|_| {
                    let (dx, dy) = (standard_normal(rng), standard_normal(rng));
                    Knot {
                        offset: [r_eff * dx, r_eff * dy],
                        sigma: uniform(rng, s.knot_sigma_min, s.knot_sigma_max),
                        frac: uniform(rng, s.knot_frac_min, s.knot_frac_max),
                    }
                })
                .collect();
            source_light.push(LightSpec::Clumpy(ClumpyParams {
                r_eff,
                n: uniform(rng, s.n_min, s.n_max),
                q: uniform(rng, s.q_min, 1.0),
                phi: uniform(rng, 0.0, 180.0),
                center: [centre[0] + r * t.cos(), centre[1] + r * t.sin()],
                knots,
                mag: Some(self.magnitudes(mag, p)),
                flux: None,
            }));
            source_r_eff = r_eff;
            source_mag_ref = mag;
        }

        // Neighbours: Poisson in the field, none centred within the exclusion radius.
        let nb = &c.neighbours;
        let hw = self.field_half_width;
        let area_arcmin2 = (2.0 * hw / 60.0).powi(2);
        let n_neighbours = poisson(rng, nb.density * area_arcmin2);
        for _ in 0..n_neighbours {
            let mut pos = [0.0, 0.0];
            for _ in 0..64 {
                pos = [uniform(rng, -hw, hw), uniform(rng, -hw, hw)];
                if pos[0].hypot(pos[1]) >= nb.exclusion {
                    break;
                }
            }
            let mag = power_law_magnitude(rng, nb.count_slope, nb.mag_min, nb.mag_max);
            let p = uniform(rng, nb.colour_min, nb.colour_max);
            lens_light.push(LightSpec::Sersic(SersicParams {
                r_eff: log_normal(rng, nb.r_eff_median, nb.r_eff_scatter, 0.03, 5.0),
                n: uniform(rng, nb.n_min, nb.n_max),
                q: uniform(rng, nb.q_min, 1.0),
                phi: uniform(rng, 0.0, 180.0),
                center: pos,
                mag: Some(self.magnitudes(mag, p)),
                flux: None,
            }));
        }

        Sampled {
            spec: SystemSpec {
                z_lens,
                z_source,
                cosmology: cosmo,
                lens: LensSpec {
                    mass,
                    light: lens_light,
                },
                source: SourceSpec {
                    light: source_light,
                },
            },
            truth: Truth {
                sigma_v,
                halo_mass,
                concentration,
                stellar_mass,
                lens_r_eff,
                source_r_eff,
                source_mag_ref,
                n_neighbours,
            },
            curves,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn population() -> Population {
        let survey = Survey::load("euclid").unwrap();
        Population::new(PopulationConfig::load("sglc2").unwrap(), &survey).unwrap()
    }

    #[test]
    fn moster_relation_at_its_peak() {
        // At z = 0 and M = M1 the relation gives m/M = N exactly (their eq. 2).
        let m = PopulationConfig::load("sglc2").unwrap().lens.moster;
        let m1 = 10f64.powf(m.m10);
        assert!((m.stellar_mass(m1, 0.0) / m1 - m.n10).abs() < 1e-12);
    }

    #[test]
    fn a_system_depends_only_on_seed_and_index() {
        let p = population();
        let a = p.sample(3, 17);
        let b = p.sample(3, 17);
        assert_eq!(a.spec, b.spec);
        assert_eq!(a.truth, b.truth);
        assert_ne!(p.sample(3, 18).spec, a.spec);
        assert_ne!(p.sample(4, 17).spec, a.spec);
    }

    #[test]
    fn every_preset_samples_valid_specs_within_its_ranges_on_every_survey() {
        for (name, _) in PRESETS {
            let config = PopulationConfig::load(name).unwrap();
            assert_eq!(&config.name, name);
            for survey_name in ["euclid", "des"] {
                let survey = Survey::load(survey_name).unwrap();
                let p = Population::new(config.clone(), &survey).unwrap();
                check_sampled_systems(&p, &survey, &format!("{name} on {survey_name}"));
            }
        }
    }

    /// Checks 40 systems of `p` against its configured ranges, and the share of fields without a
    /// source against `no_source_fraction` over 200 (within 4 binomial standard deviations).
    fn check_sampled_systems(p: &Population, survey: &Survey, what: &str) {
        let c = &p.config;
        for i in 0..40 {
            let s = p.sample(1, i);
            s.spec
                .build(survey, &PathBuf::from("sampled"))
                .unwrap_or_else(|e| panic!("{what}, system {i}: {e}"));
            let t = &s.truth;
            assert!(
                (c.lens.sigma_min..=c.lens.sigma_max).contains(&t.sigma_v),
                "{what}"
            );
            assert!(
                (c.lens.z_min..=c.lens.z_max).contains(&s.spec.z_lens),
                "{what}"
            );
            assert!(s.spec.z_source >= s.spec.z_lens + c.source.z_gap - 1e-12);
            assert!(
                t.stellar_mass > 0.0 && t.stellar_mass < t.halo_mass,
                "{what}"
            );
            if let (Some(cc), Some(src)) = (&s.curves, s.spec.source.light.first()) {
                // The source lies within placement_factor × the caustic's circumscribing radius.
                let [x, y] = src.center();
                let d = (x - cc.caustic_center[0]).hypot(y - cc.caustic_center[1]);
                assert!(
                    d <= c.source.placement_factor * cc.caustic_radius + 1e-9,
                    "{what}"
                );
            }
        }
        let n = 200u64;
        let without = (0..n)
            .filter(|&i| p.sample(2, i).spec.source.light.is_empty())
            .count() as f64;
        let f = c.no_source_fraction;
        let (mean, sd) = (n as f64 * f, (n as f64 * f * (1.0 - f)).sqrt());
        assert!(
            (without - mean).abs() < 4.0 * sd,
            "{what}: {without} of {n} without a source, expected {mean} ± {sd}"
        );
    }

    #[test]
    fn colours_follow_the_power_law() {
        // m(λ) − m(λ_ref) = −2.5 p log10(λ/λ_ref): with p = 1, H (1.771 μm) is brighter than
        // VIS (0.725 μm) by 2.5 log10(1.771/0.725).
        let p = population();
        let m = p.magnitudes(20.0, 1.0);
        let expect = 2.5 * (1.771f64 / 0.725).log10();
        assert!((m["VIS"] - m["H"] - expect).abs() < 0.01, "{m:?}");
    }

    #[test]
    fn a_bad_population_names_the_field() {
        let text = PRESETS[0]
            .1
            .replace("sigma_min = 200.0", "sigma_min = 500.0");
        let e = PopulationConfig::from_toml(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.toml") && e.contains("lens.sigma_max"), "{e}");
        let e = PopulationConfig::load("nonesuch").unwrap_err().to_string();
        assert!(e.contains("sglc2"), "{e}");
        let mut survey = Survey::load("euclid").unwrap();
        survey.bands[2].wavelength = None;
        let e = Population::new(PopulationConfig::load("sglc2").unwrap(), &survey)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bands[2].wavelength"), "{e}");
    }
}
