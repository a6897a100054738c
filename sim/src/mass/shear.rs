//! External shear (`shear`): ψ = ½γ1(x² − y²) + γ2·x·y with γ1 = γ cos 2φ, γ2 = γ sin 2φ,
//! about the origin (lenstronomy's `SHEAR` with ra_0 = dec_0 = 0).

use serde::{Deserialize, Serialize};

use super::{Hessian, HessianLanes, MassProfile};
use crate::limits::orientation;
use crate::simd::{splat, Lanes};

/// Parameters of a `shear` component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShearParams {
    /// Shear strength γ, in [0, 1).
    pub gamma: f64,
    /// Shear angle φ, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
}

impl ShearParams {
    /// Checks every field; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(0.0..1.0).contains(&self.gamma) {
            return Err((
                "gamma",
                format!(
                    "{} is outside the allowed range [0, 1)",
                    crate::limits::show(self.gamma)
                ),
            ));
        }
        orientation("phi", &[self.phi])
    }
}

/// An external shear ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Shear {
    g1: f64,
    g2: f64,
}

impl Shear {
    /// This component in the CUDA kernels' layout (`kernels/mass.cu`).
    pub(crate) fn gpu(&self) -> crate::gpu_layout::GpuMass {
        crate::gpu_layout::GpuMass {
            kind: crate::gpu_layout::kind::SHEAR,
            p: [self.g1 as f32, self.g2 as f32, 0.0, 0.0],
            ..Default::default()
        }
    }

    /// From validated parameters.
    pub fn new(p: &ShearParams) -> Self {
        let (s, c) = (2.0 * p.phi.to_radians()).sin_cos();
        Self::from_components(p.gamma * c, p.gamma * s)
    }

    /// From (γ1, γ2) directly.
    pub fn from_components(g1: f64, g2: f64) -> Self {
        Self { g1, g2 }
    }
}

impl MassProfile for Shear {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        (self.g1 * x + self.g2 * y, self.g2 * x - self.g1 * y)
    }
    fn hessian(&self, _x: f64, _y: f64) -> Hessian {
        Hessian {
            xx: self.g1,
            xy: self.g2,
            yy: -self.g1,
        }
    }
    fn convergence(&self, _x: f64, _y: f64) -> f64 {
        0.0
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        Some(0.5 * self.g1 * (x * x - y * y) + self.g2 * x * y)
    }
    #[inline(always)]
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (g1, g2) = (splat(self.g1), splat(self.g2));
        (g1 * x + g2 * y, g2 * x - g1 * y)
    }
    #[inline(always)]
    fn hessian_lanes(&self, _x: Lanes, _y: Lanes) -> HessianLanes {
        HessianLanes {
            xx: splat(self.g1),
            xy: splat(self.g2),
            yy: splat(-self.g1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::test_util::check_consistency;

    #[test]
    fn shear_is_self_consistent_and_has_the_stated_strength() {
        let s = Shear::new(&ShearParams {
            gamma: 0.07,
            phi: 33.0,
        });
        check_consistency(&s, "shear");
        crate::mass::test_util::check_lanes(&s, "shear", 1e-6);
        crate::mass::test_util::check_hessian_lanes(&s, "shear");
        let (g1, g2) = s.hessian(0.3, 0.4).gamma();
        assert!((g1.hypot(g2) - 0.07).abs() < 1e-15);
        assert!((0.5 * g2.atan2(g1).to_degrees() - 33.0).abs() < 1e-12);
    }
}
