//! Light profiles, each normalised to unit total flux; a spec gives each component's total
//! flux per band (`flux`, e⁻/s) or its total AB magnitude per band (`mag`).
//!
//! Surface brightness is per arcsec², so a profile of flux F integrates to F over the sky.

pub mod clumpy;
pub mod disc;
pub mod sersic;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_MAG, MIN_MAG};
use crate::simd::{per_lane, Lanes};

pub use clumpy::{Clumpy, ClumpyParams, Knot};
pub use disc::{Disc, DiscParams};
pub use sersic::{Sersic, SersicParams};

/// What every light profile provides.
pub trait LightProfile {
    /// Surface brightness at (x, y) arcsec for a total flux of 1, per arcsec².
    fn unit_brightness(&self, x: f64, y: f64) -> f64;
    /// The same at `LANES` points in single precision (the ray shooter's hot path); by default
    /// the f64 [`unit_brightness`](Self::unit_brightness) lane by lane.
    fn unit_brightness_lanes(&self, x: Lanes, y: Lanes) -> Lanes {
        per_lane(x, y, |x, y| self.unit_brightness(x, y))
    }
    /// [`unit_brightness_lanes`](Self::unit_brightness_lanes) at the points (`x[c]`, `y[c]`) into
    /// `out[c]`, for every group c of `LANES`: a row of the ray shooter's grid in one loop that
    /// the profile's arithmetic is inlined into. The same floats as calling it group by group.
    #[inline]
    fn unit_brightness_row_lanes(&self, x: &[Lanes], y: &[Lanes], out: &mut [Lanes]) {
        for ((&x, &y), out) in x.iter().zip(y).zip(out.iter_mut()) {
            *out = self.unit_brightness_lanes(x, y);
        }
    }
}

/// Brightness of a component per band, keyed by band name: total AB magnitudes or total fluxes.
pub type BandValues = BTreeMap<String, f64>;

/// Total flux (e⁻/s) in each of `bands` (name, AB zero point giving 1 e⁻/s) from a
/// component's `mag` or `flux` table.
///
/// Errors name the field (`mag` or `flux`) and the band: a band the survey lacks, a band
/// missing from the spec, a value outside its range (magnitudes in
/// [[`MIN_MAG`](crate::limits::MIN_MAG), [`MAX_MAG`](crate::limits::MAX_MAG)], fluxes from 0 to
/// that of `MIN_MAG` in the band), or both or neither of `mag`/`flux`.
pub fn band_fluxes(
    mag: Option<&BandValues>,
    flux: Option<&BandValues>,
    bands: &[(&str, f64)],
) -> Result<Vec<f64>, (&'static str, String)> {
    let (field, map, is_mag) = match (mag, flux) {
        (Some(m), None) => ("mag", m, true),
        (None, Some(f)) => ("flux", f, false),
        _ => {
            return Err((
                "mag",
                "give exactly one of `mag` (AB) or `flux` (e⁻/s) per component".into(),
            ))
        }
    };
    let known: Vec<&str> = bands.iter().map(|b| b.0).collect();
    if let Some(extra) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err((
            field,
            format!(
                "band `{extra}` is not a band of this survey ({})",
                known.join(", ")
            ),
        ));
    }
    bands
        .iter()
        .map(|&(band, zp)| {
            let v = *map.get(band).ok_or_else(|| {
                (
                    field,
                    format!(
                        "band `{band}` is missing (the survey has {})",
                        known.join(", ")
                    ),
                )
            })?;
            let (lo, hi) = if is_mag {
                (MIN_MAG, MAX_MAG)
            } else {
                (0.0, mag_to_flux(MIN_MAG, zp))
            };
            if !(v.is_finite() && v >= lo && v <= hi) {
                let range = if is_mag {
                    format!("an AB magnitude in [{lo}, {hi}]")
                } else {
                    format!("a flux in [0, {hi:.4e}] e⁻/s (AB magnitude {MIN_MAG} in {band})")
                };
                let v = crate::limits::show(v);
                return Err((field, format!("{band} = {v}: must be {range}")));
            }
            Ok(if is_mag { mag_to_flux(v, zp) } else { v })
        })
        .collect()
}

/// Flux in e⁻/s of an AB magnitude `mag` given the band's zero point `zp` (the AB magnitude of 1 e⁻/s).
pub fn mag_to_flux(mag: f64, zp: f64) -> f64 {
    10f64.powf(-0.4 * (mag - zp))
}

/// AB magnitude of a flux in e⁻/s given the band's zero point; +∞ for zero flux.
pub fn flux_to_mag(flux: f64, zp: f64) -> f64 {
    zp - 2.5 * flux.log10()
}

/// One light component as a spec writes it (`type = "sersic"`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LightSpec {
    /// Elliptical Sérsic profile.
    Sersic(SersicParams),
    /// Inclined exponential disc with optional spiral arms.
    Disc(DiscParams),
    /// Sérsic profile plus compact star-forming knots.
    Clumpy(ClumpyParams),
}

impl LightSpec {
    /// Checks the shape fields; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            LightSpec::Sersic(p) => p.validate(),
            LightSpec::Disc(p) => p.validate(),
            LightSpec::Clumpy(p) => p.validate(),
        }
    }

    /// The component's total flux (e⁻/s) in each of `bands` (name, zero point); see [`band_fluxes`].
    pub fn fluxes(&self, bands: &[(&str, f64)]) -> Result<Vec<f64>, (&'static str, String)> {
        match self {
            LightSpec::Sersic(p) => band_fluxes(p.mag.as_ref(), p.flux.as_ref(), bands),
            LightSpec::Disc(p) => band_fluxes(p.mag.as_ref(), p.flux.as_ref(), bands),
            LightSpec::Clumpy(p) => band_fluxes(p.mag.as_ref(), p.flux.as_ref(), bands),
        }
    }

    /// The centre of the component, arcsec.
    pub fn center(&self) -> [f64; 2] {
        match self {
            LightSpec::Sersic(p) => p.center,
            LightSpec::Disc(p) => p.center,
            LightSpec::Clumpy(p) => p.center,
        }
    }

    /// The runtime profile (unit flux).
    pub fn build(&self) -> Light {
        match self {
            LightSpec::Sersic(p) => Light::Sersic(Sersic::new(p)),
            LightSpec::Disc(p) => Light::Disc(Disc::new(p)),
            LightSpec::Clumpy(p) => Light::Clumpy(Clumpy::new(p)),
        }
    }
}

/// A runtime light profile of unit total flux.
#[derive(Clone, Debug, PartialEq)]
pub enum Light {
    /// Sérsic.
    Sersic(Sersic),
    /// Disc.
    Disc(Disc),
    /// Clumpy source.
    Clumpy(Clumpy),
}

impl LightProfile for Light {
    #[inline]
    fn unit_brightness(&self, x: f64, y: f64) -> f64 {
        match self {
            Light::Sersic(p) => p.unit_brightness(x, y),
            Light::Disc(p) => p.unit_brightness(x, y),
            Light::Clumpy(p) => p.unit_brightness(x, y),
        }
    }
    #[inline]
    fn unit_brightness_lanes(&self, x: Lanes, y: Lanes) -> Lanes {
        match self {
            Light::Sersic(p) => p.unit_brightness_lanes(x, y),
            Light::Disc(p) => p.unit_brightness_lanes(x, y),
            Light::Clumpy(p) => p.unit_brightness_lanes(x, y),
        }
    }
    #[inline]
    fn unit_brightness_row_lanes(&self, x: &[Lanes], y: &[Lanes], out: &mut [Lanes]) {
        match self {
            Light::Sersic(p) => p.unit_brightness_row_lanes(x, y, out),
            Light::Disc(p) => p.unit_brightness_row_lanes(x, y, out),
            Light::Clumpy(p) => p.unit_brightness_row_lanes(x, y, out),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::LightProfile;
    use crate::simd::Lanes;

    /// ∫∫ brightness over a square of half-width `half` centred at `c`, by the midpoint rule on
    /// an n×n grid in each of `levels` nested squares (finer towards the centre, so cusps are
    /// resolved), arcsec² · brightness.
    pub fn check_lanes(p: &impl LightProfile, name: &str) {
        // The single-precision brightness in lanes against the f64 one, to 1e-5 relative
        // of the value plus 1e-7 of the profile's peak.
        let peak = (0..400)
            .map(|k| p.unit_brightness(-2.0 + 0.01 * k as f64, 0.013))
            .fold(0.0, f64::max);
        for k in 0..64 {
            let xs: [f32; crate::simd::LANES] =
                std::array::from_fn(|l| (-1.6 + 0.05 * k as f64 + 0.007 * l as f64) as f32);
            let ys: [f32; crate::simd::LANES] =
                std::array::from_fn(|l| (0.9 - 0.03 * k as f64 + 0.011 * l as f64) as f32);
            let got = p
                .unit_brightness_lanes(Lanes::new(xs), Lanes::new(ys))
                .to_array();
            for l in 0..crate::simd::LANES {
                let want = p.unit_brightness(xs[l] as f64, ys[l] as f64);
                assert!(
                    (got[l] as f64 - want).abs() < 1e-5 * want + 1e-7 * peak,
                    "{name}: lanes {} vs f64 {want} at ({}, {})",
                    got[l],
                    xs[l],
                    ys[l]
                );
            }
        }
    }

    pub fn integrate(p: &impl LightProfile, c: [f64; 2], half: f64) -> f64 {
        // Nested annuli: [half/2^(k+1), half/2^k] squares, each integrated on a 400² grid, minus
        // the inner square; the innermost square is tiny and integrated directly.
        let mut total = 0.0;
        let mut outer = half;
        for _ in 0..14 {
            let inner = 0.5 * outer;
            total += square(p, c, outer, Some(inner));
            outer = inner;
        }
        total + square(p, c, outer, None)
    }

    fn square(p: &impl LightProfile, c: [f64; 2], half: f64, hole: Option<f64>) -> f64 {
        let n = 400;
        let h = 2.0 * half / n as f64;
        let mut s = 0.0;
        for i in 0..n {
            let y = -half + (i as f64 + 0.5) * h;
            for j in 0..n {
                let x = -half + (j as f64 + 0.5) * h;
                if let Some(hl) = hole {
                    if x.abs() < hl && y.abs() < hl {
                        continue;
                    }
                }
                s += p.unit_brightness(c[0] + x, c[1] + y);
            }
        }
        s * h * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitudes_convert_with_the_zero_point() {
        // A source at the zero-point magnitude gives 1 e⁻/s; 5 mag fainter, 1/100 of it.
        assert!((mag_to_flux(25.72, 25.72) - 1.0).abs() < 1e-15);
        assert!((mag_to_flux(30.72, 25.72) - 0.01).abs() < 1e-15);
        assert!((flux_to_mag(mag_to_flux(21.3, 24.0), 24.0) - 21.3).abs() < 1e-12);
    }

    #[test]
    fn brightness_errors_name_the_band() {
        let mag: BandValues = [("VIS".to_string(), 20.0), ("Z".to_string(), 20.0)].into();
        let e = band_fluxes(Some(&mag), None, &[("VIS", 25.0)]).unwrap_err();
        assert_eq!(e.0, "mag");
        assert!(e.1.contains("`Z`"), "{}", e.1);
        let flux: BandValues = [("VIS".to_string(), 2.0)].into();
        let e = band_fluxes(None, Some(&flux), &[("VIS", 25.0), ("H", 24.0)]).unwrap_err();
        assert!(e.1.contains("`H` is missing"), "{}", e.1);
        assert_eq!(
            band_fluxes(None, Some(&flux), &[("VIS", 25.0)]).unwrap(),
            vec![2.0]
        );
        assert_eq!(
            band_fluxes(Some(&flux), Some(&flux), &[("VIS", 25.0)])
                .unwrap_err()
                .0,
            "mag"
        );
    }
}
