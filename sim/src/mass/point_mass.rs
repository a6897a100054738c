//! Point mass (`point_mass`): α = θ_E² x/|x|², ψ = θ_E² ln|x|, κ = 0 away from the centre.

use serde::{Deserialize, Serialize};

use super::{check_finite, radial_hessian, Hessian, MassProfile};
use crate::limits::angular_size;
use crate::simd::{splat, Lanes};

/// Parameters of a `point_mass` component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointMassParams {
    /// Einstein radius θ_E, arcsec.
    pub theta_e: f64,
    /// Position (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
}

impl PointMassParams {
    /// Checks every field; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("theta_e", self.theta_e)?;
        check_finite("center", &self.center)
    }
}

/// A point mass ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct PointMass {
    x0: f64,
    y0: f64,
    theta_e2: f64,
}

impl PointMass {
    /// This component in the CUDA kernels' layout (`kernels/mass.cu`).
    pub(crate) fn gpu(&self) -> crate::gpu_layout::GpuMass {
        crate::gpu_layout::GpuMass {
            kind: crate::gpu_layout::kind::POINT,
            x0: self.x0 as f32,
            y0: self.y0 as f32,
            p: [self.theta_e2 as f32, 0.0, 0.0, 0.0],
            ..Default::default()
        }
    }

    /// From validated parameters.
    pub fn new(p: &PointMassParams) -> Self {
        Self {
            x0: p.center[0],
            y0: p.center[1],
            theta_e2: p.theta_e * p.theta_e,
        }
    }
}

impl MassProfile for PointMass {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.x0, y - self.y0);
        let r2 = dx * dx + dy * dy;
        if r2 == 0.0 {
            return (0.0, 0.0);
        }
        (self.theta_e2 * dx / r2, self.theta_e2 * dy / r2)
    }
    fn hessian(&self, x: f64, y: f64) -> Hessian {
        let (dx, dy) = (x - self.x0, y - self.y0);
        let r2 = dx * dx + dy * dy;
        radial_hessian(dx, dy, self.theta_e2 / r2, 0.0)
    }
    fn convergence(&self, _x: f64, _y: f64) -> f64 {
        0.0
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        let (dx, dy) = (x - self.x0, y - self.y0);
        Some(0.5 * self.theta_e2 * (dx * dx + dy * dy).ln())
    }
    #[inline(always)]
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (dx, dy) = (x - splat(self.x0), y - splat(self.y0));
        let r2 = dx * dx + dy * dy;
        let zero = r2.simd_eq(Lanes::ZERO);
        let f = splat(self.theta_e2) / zero.select(Lanes::ONE, r2);
        (
            zero.select(Lanes::ZERO, f * dx),
            zero.select(Lanes::ZERO, f * dy),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::test_util::check_consistency;

    #[test]
    fn point_mass_is_self_consistent() {
        let p = PointMass::new(&PointMassParams {
            theta_e: 0.9,
            center: [0.2, 0.1],
        });
        check_consistency(&p, "point mass");
        crate::mass::test_util::check_lanes(&p, "point mass", 1e-6);
        crate::mass::test_util::check_hessian_lanes(&p, "point mass");
    }

    #[test]
    fn einstein_ring_is_at_theta_e() {
        // Analytic: a source at the centre is imaged onto |θ| = θ_E, where β = θ − α(θ) = 0.
        let p = PointMass::new(&PointMassParams {
            theta_e: 0.9,
            center: [0.0, 0.0],
        });
        for k in 0..crate::simd::LANES {
            let t = k as f64;
            let (x, y) = (0.9 * t.cos(), 0.9 * t.sin());
            let (ax, ay) = p.deflection(x, y);
            assert!((x - ax).abs() < 1e-15 && (y - ay).abs() < 1e-15);
        }
    }
}
