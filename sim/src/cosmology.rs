//! Flat ΛCDM distances and the lensing quantities derived from them.
//!
//! Constants are astropy's (CODATA 2018 for c and G, IAU 2015 for the solar mass), so the
//! distances agree with `astropy.cosmology.FlatLambdaCDM(H0, Om0)` (Tcmb0 = 0, no radiation).

use serde::{Deserialize, Serialize};

/// The highest redshift a lens or source may have: beyond any galaxy a survey sees lensed, and
/// the upper end of every population's redshift ranges.
pub const MAX_REDSHIFT: f64 = 20.0;

/// The most Simpson steps a distance integral takes: those of a span of [`MAX_REDSHIFT`].
const MAX_STEPS: usize = 10_000;

/// Speed of light, m/s (exact, SI).
pub const C_M_PER_S: f64 = 299_792_458.0;
/// Speed of light, km/s.
pub const C_KM_PER_S: f64 = C_M_PER_S / 1e3;
/// Newton's constant, m³ kg⁻¹ s⁻² (CODATA 2018, as astropy.constants.G).
pub const G_SI: f64 = 6.674_30e-11;
/// Solar mass, kg (IAU 2015 nominal GM☉ / CODATA 2018 G, as astropy.constants.M_sun).
pub const M_SUN_KG: f64 = 1.988_409_870_698_051e30;
/// One megaparsec, m (IAU 2015 parsec, as astropy.units.Mpc).
pub const MPC_M: f64 = 3.085_677_581_491_367e22;
/// One arcsecond, rad.
pub const ARCSEC_RAD: f64 = std::f64::consts::PI / 180.0 / 3600.0;

/// A flat ΛCDM cosmology with no radiation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cosmology {
    /// Hubble constant today, km s⁻¹ Mpc⁻¹.
    pub h0: f64,
    /// Matter density today in units of the critical density; Ω_Λ = 1 − Ω_m.
    pub omega_m: f64,
}

impl Default for Cosmology {
    fn default() -> Self {
        Self {
            h0: 70.0,
            omega_m: 0.3,
        }
    }
}

impl Cosmology {
    /// A flat ΛCDM cosmology with `h0` in km s⁻¹ Mpc⁻¹ and matter density `omega_m`.
    pub fn new(h0: f64, omega_m: f64) -> Self {
        Self { h0, omega_m }
    }

    /// Checks the parameters: `h0` in [`H0_RANGE`](crate::limits::H0_RANGE) and `omega_m` in
    /// [0, 1]; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let (lo, hi) = crate::limits::H0_RANGE;
        crate::limits::in_range("h0", self.h0, lo, hi, "km/s/Mpc")?;
        if !(0.0..=1.0).contains(&self.omega_m) {
            return Err(("omega_m", format!("{} must be in [0, 1]", self.omega_m)));
        }
        Ok(())
    }

    /// Dimensionless Hubble rate E(z) = H(z)/H0.
    pub fn efunc(&self, z: f64) -> f64 {
        let a = 1.0 + z;
        (self.omega_m * a * a * a + (1.0 - self.omega_m)).sqrt()
    }

    /// Hubble distance c/H0, Mpc.
    pub fn hubble_distance(&self) -> f64 {
        C_KM_PER_S / self.h0
    }

    /// Line-of-sight comoving distance from z1 to z2, Mpc (negative if z2 < z1).
    ///
    /// Composite Simpson rule on 1/E(z) with steps of at most 0.002 in z up to spans of
    /// [`MAX_REDSHIFT`] (10,000 steps): the integrand is smooth, so the relative error is below
    /// 1e-10. Longer spans, which inputs are checked against, take the same bounded number of
    /// steps rather than time without bound.
    pub fn comoving_distance_between(&self, z1: f64, z2: f64) -> f64 {
        let span = z2 - z1;
        if span == 0.0 || !span.is_finite() {
            return if span == 0.0 { 0.0 } else { f64::NAN };
        }
        let steps = (span.abs() / 0.002).ceil().min(MAX_STEPS as f64) as usize;
        let n = (steps.max(16) + 1) & !1;
        let h = span / n as f64;
        let mut sum = 1.0 / self.efunc(z1) + 1.0 / self.efunc(z2);
        for k in 1..n {
            let w = if k % 2 == 1 { 4.0 } else { 2.0 };
            sum += w / self.efunc(z1 + k as f64 * h);
        }
        self.hubble_distance() * sum * h / 3.0
    }

    /// Comoving distance to redshift z, Mpc.
    pub fn comoving_distance(&self, z: f64) -> f64 {
        self.comoving_distance_between(0.0, z)
    }

    /// Angular-diameter distance from z1 to z2 (z2 > z1), Mpc: D_C(z1, z2)/(1 + z2) in a flat universe.
    pub fn angular_diameter_distance_between(&self, z1: f64, z2: f64) -> f64 {
        self.comoving_distance_between(z1, z2) / (1.0 + z2)
    }

    /// Angular-diameter distance to redshift z, Mpc.
    pub fn angular_diameter_distance(&self, z: f64) -> f64 {
        self.angular_diameter_distance_between(0.0, z)
    }

    /// Critical density of the universe at redshift z, kg m⁻³: 3H(z)²/(8πG).
    pub fn critical_density(&self, z: f64) -> f64 {
        let h_si = self.h0 * 1e3 / MPC_M * self.efunc(z);
        3.0 * h_si * h_si / (8.0 * std::f64::consts::PI * G_SI)
    }

    /// The distances of one lens configuration, Mpc.
    pub fn lens_distances(&self, z_lens: f64, z_source: f64) -> LensDistances {
        LensDistances {
            d_l: self.angular_diameter_distance(z_lens),
            d_s: self.angular_diameter_distance(z_source),
            d_ls: self.angular_diameter_distance_between(z_lens, z_source),
        }
    }

    /// Critical surface density Σ_crit = c² D_s / (4πG D_l D_ls), in M☉ per arcsec² at the lens.
    pub fn sigma_crit(&self, z_lens: f64, z_source: f64) -> f64 {
        let d = self.lens_distances(z_lens, z_source);
        let sigma_si = C_M_PER_S * C_M_PER_S / (4.0 * std::f64::consts::PI * G_SI) * d.d_s
            / (d.d_l * d.d_ls * MPC_M); // kg m⁻²
        let arcsec_m = d.d_l * MPC_M * ARCSEC_RAD;
        sigma_si * arcsec_m * arcsec_m / M_SUN_KG
    }

    /// Einstein radius of a singular isothermal sphere, arcsec: θ_E = 4π (σ/c)² D_ls/D_s.
    ///
    /// `sigma_v` is the one-dimensional velocity dispersion in km/s.
    pub fn sis_theta_e(&self, sigma_v: f64, z_lens: f64, z_source: f64) -> f64 {
        let d = self.lens_distances(z_lens, z_source);
        let b = sigma_v / C_KM_PER_S;
        4.0 * std::f64::consts::PI * b * b * d.d_ls / d.d_s / ARCSEC_RAD
    }

    /// NFW lensing parameters from physical ones.
    ///
    /// `m200` in M☉ (no h): the mass inside r200, where the mean density is 200 ρ_crit(z_lens);
    /// `c` = r200/r_s. Returns the scale radius r_s and the deflection at r_s, both in arcsec,
    /// as lenstronomy's `LensCosmo.nfw_physical2angle` defines them (its constants differ).
    pub fn nfw_angles(&self, m200: f64, c: f64, z_lens: f64, z_source: f64) -> NfwAngles {
        let rho_crit = self.critical_density(z_lens); // kg m⁻³
        let m_kg = m200 * M_SUN_KG;
        let r200 = (3.0 * m_kg / (4.0 * std::f64::consts::PI * 200.0 * rho_crit)).cbrt(); // m
        let rs = r200 / c;
        let rho0 = 200.0 / 3.0 * rho_crit * c * c * c / ((1.0 + c).ln() - c / (1.0 + c));
        let d = self.lens_distances(z_lens, z_source);
        let sigma_crit_si = C_M_PER_S * C_M_PER_S / (4.0 * std::f64::consts::PI * G_SI) * d.d_s
            / (d.d_l * d.d_ls * MPC_M);
        let rs_arcsec = rs / (d.d_l * MPC_M) / ARCSEC_RAD;
        // Mean convergence inside r_s is 4 ρ0 r_s (1 + ln ½) / Σ_crit; α(r_s) = κ̄ · r_s.
        let kappa_bar_rs = 4.0 * rho0 * rs * (1.0 + 0.5f64.ln()) / sigma_crit_si;
        NfwAngles {
            rs: rs_arcsec,
            alpha_rs: kappa_bar_rs * rs_arcsec,
        }
    }
}

/// Angular-diameter distances of a lens configuration, Mpc.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LensDistances {
    /// Observer to lens.
    pub d_l: f64,
    /// Observer to source.
    pub d_s: f64,
    /// Lens to source.
    pub d_ls: f64,
}

/// NFW parameters in angular units, arcsec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NfwAngles {
    /// Scale radius, arcsec.
    pub rs: f64,
    /// Deflection at the scale radius, arcsec.
    pub alpha_rs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distance_to_an_absurd_redshift_returns() {
        // Issue #19: the step count is bounded, so z = 1e12 returns a finite number (a poor
        // one: such redshifts are refused on input) rather than stepping for hours.
        let c = Cosmology::default();
        let d = c.comoving_distance(1e12);
        assert!(d.is_finite(), "{d}");
        assert!(c.comoving_distance(f64::INFINITY).is_nan());
    }

    #[test]
    fn sis_theta_e_is_linear_in_the_distance_ratio() {
        // θ_E = 4π(σ/c)² D_ls/D_s: for σ = 250 km/s and D_ls/D_s → 1 (source far behind a near
        // lens) θ_E → 4π(250/299792.458)² rad = 1.8022".
        let c = Cosmology::default();
        let th = c.sis_theta_e(250.0, 1e-6, 1000.0);
        let expected = 4.0 * std::f64::consts::PI * (250.0f64 / C_KM_PER_S).powi(2) / ARCSEC_RAD;
        assert!(
            (th - expected).abs() / expected < 1e-3,
            "{th} vs {expected}"
        );
    }

    #[test]
    fn distances_match_astropy() {
        // astropy 8.0.2, FlatLambdaCDM(H0=67, Om0=0.31) (Tcmb0 = 0): comoving_distance(0.5),
        // comoving_distance(2.0) and angular_diameter_distance(0.5, 2.0), Mpc (computed for this
        // test; tests/reference.rs compares more against tests/fixtures/reference.json).
        let c = Cosmology::new(67.0, 0.31);
        for (got, want) in [
            (c.comoving_distance(0.5), 1966.3983004771392),
            (c.comoving_distance(2.0), 5366.096942055342),
            (
                c.angular_diameter_distance_between(0.5, 2.0),
                1133.2328805260674,
            ),
        ] {
            assert!((got - want).abs() / want < 1e-9, "{got} against {want}");
        }
    }
}
