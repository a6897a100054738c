//! Truncated elliptical singular isothermal galaxy (`tesis`).
//!
//! An SIE whose density is cut off smoothly beyond a truncation radius r_t, so that its total
//! mass is finite, as the II SGLC's galaxies embedded in NFW haloes were: the difference of
//! an SIE and a cored isothermal ellipsoid with core r_t (the elliptical pseudo-Jaffe form,
//! Keeton 2001 §3.4), κ = θ_E/2 · [1/sqrt(q x'² + y'²/q) − 1/sqrt(r_t² + q x'² + y'²/q)].
//! In lenstronomy this is `SIE(θ_E) − NIE(θ_E, s_scale = r_t)`. Projected mass: π θ_E r_t Σ_crit.

use serde::{Deserialize, Serialize};

use super::sie::{
    nie_convergence, nie_deflection, nie_deflection_lanes, nie_hessian, nie_hessian_lanes,
    nie_potential,
};
use super::{check_finite, Frame, Hessian, HessianLanes, MassProfile};
use crate::limits::{angular_size, axis_ratio, in_range, orientation, MAX_SCALE_RADIUS, MIN_ANGLE};
use crate::simd::Lanes;

fn default_q() -> f64 {
    1.0
}

/// Parameters of a `tesis` component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TesisParams {
    /// Einstein radius of the untruncated SIE, arcsec.
    pub theta_e: f64,
    /// Truncation radius r_t (product-average), arcsec.
    pub r_trunc: f64,
    /// Axis ratio b/a in (0, 1].
    #[serde(default = "default_q")]
    pub q: f64,
    /// Position angle of the major axis, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
}

impl TesisParams {
    /// Checks every field; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("theta_e", self.theta_e)?;
        in_range(
            "r_trunc",
            self.r_trunc,
            MIN_ANGLE,
            MAX_SCALE_RADIUS,
            "arcsec",
        )?;
        axis_ratio("q", self.q)?;
        orientation("phi", &[self.phi])?;
        check_finite("center", &self.center)
    }
}

/// A TESIS galaxy ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Tesis {
    frame: Frame,
    b: f64,
    s: f64,
    q: f64,
}

impl Tesis {
    /// This component in the CUDA kernels' layout (`kernels/mass.cu`).
    pub(crate) fn gpu(&self) -> crate::gpu_layout::GpuMass {
        let (x0, y0, cos_phi, sin_phi) = self.frame.gpu();
        crate::gpu_layout::GpuMass {
            kind: crate::gpu_layout::kind::TESIS,
            x0,
            y0,
            cos_phi,
            sin_phi,
            p: [self.b as f32, self.q as f32, self.s as f32, 0.0],
        }
    }

    /// From validated parameters.
    pub fn new(p: &TesisParams) -> Self {
        Self {
            frame: Frame::new(p.center, p.phi),
            b: p.theta_e * p.q.sqrt(),
            s: p.r_trunc / p.q.sqrt(),
            q: p.q,
        }
    }
}

impl MassProfile for Tesis {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        let (xl, yl) = self.frame.to_local(x, y);
        let (ax, ay) = nie_deflection(xl, yl, self.b, 0.0, self.q);
        let (cx, cy) = nie_deflection(xl, yl, self.b, self.s, self.q);
        self.frame.vector_to_sky(ax - cx, ay - cy)
    }
    fn hessian(&self, x: f64, y: f64) -> Hessian {
        let (xl, yl) = self.frame.to_local(x, y);
        let a = nie_hessian(xl, yl, self.b, 0.0, self.q);
        let c = nie_hessian(xl, yl, self.b, self.s, self.q);
        self.frame.hessian_to_sky(a - c)
    }
    fn convergence(&self, x: f64, y: f64) -> f64 {
        let (xl, yl) = self.frame.to_local(x, y);
        nie_convergence(xl, yl, self.b, 0.0, self.q)
            - nie_convergence(xl, yl, self.b, self.s, self.q)
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        let (xl, yl) = self.frame.to_local(x, y);
        Some(
            nie_potential(xl, yl, self.b, 0.0, self.q)
                - nie_potential(xl, yl, self.b, self.s, self.q),
        )
    }
    #[inline(always)]
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let (ax, ay) = nie_deflection_lanes(xl, yl, self.b, 0.0, self.q);
        let (cx, cy) = nie_deflection_lanes(xl, yl, self.b, self.s, self.q);
        self.frame.vector_to_sky_lanes(ax - cx, ay - cy)
    }
    #[inline(always)]
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let a = nie_hessian_lanes(xl, yl, self.b, 0.0, self.q);
        let c = nie_hessian_lanes(xl, yl, self.b, self.s, self.q);
        self.frame.hessian_to_sky_lanes(a - c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::test_util::check_consistency;

    #[test]
    fn tesis_is_self_consistent() {
        for &(q, phi) in &[(1.0, 0.0), (0.75, 15.0), (0.4, 100.0)] {
            let p = Tesis::new(&TesisParams {
                theta_e: 1.0,
                r_trunc: 2.0,
                q,
                phi,
                center: [0.0, 0.1],
            });
            check_consistency(&p, &format!("tesis q={q}"));
            crate::mass::test_util::check_lanes(&p, &format!("tesis q={q}"), 2e-6);
            crate::mass::test_util::check_hessian_lanes(&p, &format!("tesis q={q}"));
        }
    }

    #[test]
    fn total_mass_is_pi_theta_e_r_trunc() {
        // Spherical case: far outside r_t the deflection is that of a point of mass π θ_E r_t
        // (in units of Σ_crit arcsec²), so r·α(r) → θ_E r_t.
        let p = Tesis::new(&TesisParams {
            theta_e: 1.2,
            r_trunc: 1.5,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
        });
        let r = 1e5;
        let (ax, _) = p.deflection(r, 0.0);
        assert!((r * ax - 1.2 * 1.5).abs() / 1.8 < 1e-4);
    }
}
