//! A clumpy star-forming source (`clumpy`): a Sérsic profile plus compact Gaussian knots.
//!
//! Each knot carries a fraction `frac` of the component's total flux in every band; the Sérsic
//! body carries the rest, so the component still integrates to its stated flux.

use serde::{Deserialize, Serialize};

use super::sersic::{Sersic, SersicParams};
use super::{BandValues, LightProfile};
use crate::limits::{angular_size, offset, MAX_ANGLE};
use crate::simd::{exp, splat, Lanes};

/// One star-forming knot: a circular Gaussian.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knot {
    /// Position (x, y) relative to the component's centre, arcsec.
    pub offset: [f64; 2],
    /// Gaussian σ, arcsec.
    pub sigma: f64,
    /// Fraction of the component's total flux, in (0, 1).
    pub frac: f64,
}

/// Parameters of a `clumpy` component: the Sérsic body's fields plus `knots`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClumpyParams {
    /// Half-light radius of the Sérsic body, arcsec.
    pub r_eff: f64,
    /// Sérsic index of the body, in [0.2, 10].
    pub n: f64,
    /// Axis ratio of the body, (0, 1].
    #[serde(default = "one")]
    pub q: f64,
    /// Position angle of the body, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
    /// The knots; their fractions sum to less than 1.
    #[serde(default)]
    pub knots: Vec<Knot>,
    /// Total AB magnitude per band (or give `flux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mag: Option<BandValues>,
    /// Total flux per band, e⁻/s (or give `mag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flux: Option<BandValues>,
}

fn one() -> f64 {
    1.0
}

impl ClumpyParams {
    /// The Sérsic body alone.
    pub fn body(&self) -> SersicParams {
        SersicParams {
            r_eff: self.r_eff,
            n: self.n,
            q: self.q,
            phi: self.phi,
            center: self.center,
            mag: None,
            flux: None,
        }
    }

    /// Checks the shape fields; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        self.body().validate()?;
        let mut total = 0.0;
        for k in &self.knots {
            angular_size("knots.sigma", k.sigma)?;
            offset("knots.offset", k.offset, MAX_ANGLE)?;
            if !(k.frac > 0.0 && k.frac < 1.0) {
                return Err((
                    "knots.frac",
                    format!(
                        "{} is outside the allowed range (0, 1)",
                        crate::limits::show(k.frac)
                    ),
                ));
            }
            total += k.frac;
        }
        if total >= 1.0 {
            return Err((
                "knots.frac",
                format!("the knots' fractions sum to {total}: must be < 1"),
            ));
        }
        Ok(())
    }
}

/// A clumpy source of unit flux, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Clumpy {
    body: Sersic,
    body_frac: f64,
    /// (x, y, 1/(2σ²), frac/(2πσ²)) per knot.
    knots: Vec<[f64; 4]>,
}

impl Clumpy {
    /// This profile in the CUDA kernels' layout (`kernels/light.cu`): the Sersic body weighted
    /// by its share of the flux, then one Gaussian per knot, all with their fluxes at `flux`.
    pub(crate) fn gpu(&self, flux: u32) -> Vec<crate::gpu_layout::GpuLight> {
        let mut v = vec![self.body.gpu(flux, self.body_frac)];
        v.extend(self.knots.iter().map(|k| crate::gpu_layout::GpuLight {
            kind: crate::gpu_layout::light_kind::GAUSSIAN,
            flux,
            x0: k[0] as f32,
            y0: k[1] as f32,
            p: [k[2] as f32, k[3] as f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ..Default::default()
        }));
        v
    }

    /// From validated parameters.
    pub fn new(p: &ClumpyParams) -> Self {
        let knots = p
            .knots
            .iter()
            .map(|k| {
                let s2 = k.sigma * k.sigma;
                [
                    p.center[0] + k.offset[0],
                    p.center[1] + k.offset[1],
                    0.5 / s2,
                    k.frac / (2.0 * std::f64::consts::PI * s2),
                ]
            })
            .collect();
        Self {
            body: Sersic::new(&p.body()),
            body_frac: 1.0 - p.knots.iter().map(|k| k.frac).sum::<f64>(),
            knots,
        }
    }
}

impl LightProfile for Clumpy {
    #[inline]
    fn unit_brightness(&self, x: f64, y: f64) -> f64 {
        let mut v = self.body_frac * self.body.unit_brightness(x, y);
        for k in &self.knots {
            let (dx, dy) = (x - k[0], y - k[1]);
            v += k[3] * (-(dx * dx + dy * dy) * k[2]).exp();
        }
        v
    }
    #[inline(always)]
    fn unit_brightness_lanes(&self, x: Lanes, y: Lanes) -> Lanes {
        let mut v = splat(self.body_frac) * self.body.unit_brightness_lanes(x, y);
        for k in &self.knots {
            let (dx, dy) = (x - splat(k[0]), y - splat(k[1]));
            v += splat(k[3]) * exp(-(dx * dx + dy * dy) * splat(k[2]));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::test_util::integrate;

    #[test]
    fn flux_is_one_with_knots() {
        // Conservation: body (1 − Σ frac) plus normalised Gaussians integrates to 1.
        let p = ClumpyParams {
            r_eff: 0.25,
            n: 1.0,
            q: 0.6,
            phi: 10.0,
            center: [0.1, 0.0],
            knots: vec![
                Knot {
                    offset: [0.1, 0.05],
                    sigma: 0.03,
                    frac: 0.1,
                },
                Knot {
                    offset: [-0.15, 0.1],
                    sigma: 0.05,
                    frac: 0.15,
                },
            ],
            mag: None,
            flux: None,
        };
        p.validate().unwrap();
        let c = Clumpy::new(&p);
        crate::light::test_util::check_lanes(&c, "clumpy");
        let total = integrate(&c, [0.1, 0.0], 8.0);
        assert!((total - 1.0).abs() < 2e-4, "{total}");
    }

    #[test]
    fn knot_fractions_must_leave_room_for_the_body() {
        let mut p = ClumpyParams {
            r_eff: 0.25,
            n: 1.0,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
            knots: vec![
                Knot {
                    offset: [0.0, 0.0],
                    sigma: 0.03,
                    frac: 0.6
                };
                2
            ],
            mag: None,
            flux: None,
        };
        assert_eq!(p.validate().unwrap_err().0, "knots.frac");
        p.knots.pop();
        assert!(p.validate().is_ok());
    }
}
