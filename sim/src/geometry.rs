//! The geometry every profile shares, mass and light alike (a leaf module: it imports no
//! profile): second derivatives of the potential ([`Hessian`], and `LANES` at once), a profile's
//! centred, rotated frame ([`Frame`]) and the check that parameters are finite.

use crate::simd::{splat, Lanes};

/// Second derivatives of the lensing potential ψ, arcsec⁻¹·arcsec = dimensionless.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Hessian {
    /// ∂²ψ/∂x².
    pub xx: f64,
    /// ∂²ψ/∂x∂y.
    pub xy: f64,
    /// ∂²ψ/∂y².
    pub yy: f64,
}

impl Hessian {
    /// Convergence κ = ½ (ψ_xx + ψ_yy).
    pub fn kappa(&self) -> f64 {
        0.5 * (self.xx + self.yy)
    }

    /// Shear components (γ1, γ2) = (½(ψ_xx − ψ_yy), ψ_xy).
    pub fn gamma(&self) -> (f64, f64) {
        (0.5 * (self.xx - self.yy), self.xy)
    }

    /// Tangential eigenvalue of the lensing Jacobian, 1 − κ − |γ|: zero on the tangential critical curve.
    pub fn lambda_tangential(&self) -> f64 {
        let (g1, g2) = self.gamma();
        1.0 - self.kappa() - g1.hypot(g2)
    }

    /// Radial eigenvalue of the lensing Jacobian, 1 − κ + |γ|.
    pub fn lambda_radial(&self) -> f64 {
        let (g1, g2) = self.gamma();
        1.0 - self.kappa() + g1.hypot(g2)
    }

    /// det A = (1 − ψ_xx)(1 − ψ_yy) − ψ_xy²; the magnification is 1/det A.
    pub fn det_a(&self) -> f64 {
        (1.0 - self.xx) * (1.0 - self.yy) - self.xy * self.xy
    }
}

impl std::ops::Sub for Hessian {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self {
            xx: self.xx - o.xx,
            xy: self.xy - o.xy,
            yy: self.yy - o.yy,
        }
    }
}

impl std::ops::AddAssign for Hessian {
    fn add_assign(&mut self, o: Self) {
        self.xx += o.xx;
        self.xy += o.xy;
        self.yy += o.yy;
    }
}

/// The Hessian at `LANES` points in single precision (the critical-curve grid's hot path).
#[derive(Clone, Copy, Debug)]
pub struct HessianLanes {
    /// ∂²ψ/∂x².
    pub xx: Lanes,
    /// ∂²ψ/∂x∂y.
    pub xy: Lanes,
    /// ∂²ψ/∂y².
    pub yy: Lanes,
}

impl HessianLanes {
    /// Zero in every lane.
    pub const ZERO: Self = Self {
        xx: Lanes::ZERO,
        xy: Lanes::ZERO,
        yy: Lanes::ZERO,
    };

    /// 1 − κ − |γ| lane by lane, as [`Hessian::lambda_tangential`]; NaN where a component is.
    #[inline(always)]
    pub fn lambda_tangential(&self) -> Lanes {
        let half = Lanes::splat(0.5);
        let g1 = half * (self.xx - self.yy);
        Lanes::ONE - half * (self.xx + self.yy) - (g1 * g1 + self.xy * self.xy).sqrt()
    }

    /// 1 − κ + |γ| lane by lane, as [`Hessian::lambda_radial`]; NaN where a component is.
    #[inline(always)]
    pub fn lambda_radial(&self) -> Lanes {
        let half = Lanes::splat(0.5);
        let g1 = half * (self.xx - self.yy);
        Lanes::ONE - half * (self.xx + self.yy) + (g1 * g1 + self.xy * self.xy).sqrt()
    }
}

impl std::ops::Sub for HessianLanes {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self {
            xx: self.xx - o.xx,
            xy: self.xy - o.xy,
            yy: self.yy - o.yy,
        }
    }
}

impl std::ops::AddAssign for HessianLanes {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        self.xx += o.xx;
        self.xy += o.xy;
        self.yy += o.yy;
    }
}

/// A profile's centre and orientation: the frame whose x axis is the major axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    x0: f64,
    y0: f64,
    cos: f64,
    sin: f64,
}

impl Frame {
    /// The frame centred at `center` (arcsec) with its x axis at `phi_deg` (degrees, CCW from +x).
    pub fn new(center: [f64; 2], phi_deg: f64) -> Self {
        let (sin, cos) = phi_deg.to_radians().sin_cos();
        Self {
            x0: center[0],
            y0: center[1],
            cos,
            sin,
        }
    }

    /// (x0, y0, cos φ, sin φ) in single precision: the frame as the CUDA kernels read it.
    pub(crate) fn gpu(&self) -> (f32, f32, f32, f32) {
        (
            self.x0 as f32,
            self.y0 as f32,
            self.cos as f32,
            self.sin as f32,
        )
    }

    /// Sky coordinates (arcsec) to the profile's frame.
    #[inline]
    pub fn to_local(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.x0, y - self.y0);
        (
            self.cos * dx + self.sin * dy,
            -self.sin * dx + self.cos * dy,
        )
    }

    /// A vector in the profile's frame back to sky axes.
    #[inline]
    pub fn vector_to_sky(&self, ax: f64, ay: f64) -> (f64, f64) {
        (self.cos * ax - self.sin * ay, self.sin * ax + self.cos * ay)
    }

    /// `LANES` sky positions (arcsec) to the profile's frame.
    #[inline(always)]
    pub fn to_local_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (dx, dy) = (x - splat(self.x0), y - splat(self.y0));
        let (c, s) = (splat(self.cos), splat(self.sin));
        (c * dx + s * dy, c * dy - s * dx)
    }

    /// `LANES` Hessians in the profile's frame back to sky axes (H = Rᵀ H' R).
    #[inline(always)]
    pub fn hessian_to_sky_lanes(&self, h: HessianLanes) -> HessianLanes {
        let (c, s) = (self.cos, self.sin);
        let (cc, cs, ss) = (splat(c * c), splat(c * s), splat(s * s));
        HessianLanes {
            xx: cc * h.xx - splat(2.0) * cs * h.xy + ss * h.yy,
            xy: cs * (h.xx - h.yy) + splat(c * c - s * s) * h.xy,
            yy: ss * h.xx + splat(2.0) * cs * h.xy + cc * h.yy,
        }
    }

    /// `LANES` vectors in the profile's frame back to sky axes.
    #[inline(always)]
    pub fn vector_to_sky_lanes(&self, ax: Lanes, ay: Lanes) -> (Lanes, Lanes) {
        let (c, s) = (splat(self.cos), splat(self.sin));
        (c * ax - s * ay, s * ax + c * ay)
    }

    /// A Hessian in the profile's frame back to sky axes (H = Rᵀ H' R).
    #[inline]
    pub fn hessian_to_sky(&self, h: Hessian) -> Hessian {
        let (c, s) = (self.cos, self.sin);
        Hessian {
            xx: c * c * h.xx - 2.0 * c * s * h.xy + s * s * h.yy,
            xy: c * s * (h.xx - h.yy) + (c * c - s * s) * h.xy,
            yy: s * s * h.xx + 2.0 * c * s * h.xy + c * c * h.yy,
        }
    }
}

/// Checks that a value is finite.
pub(crate) fn check_finite(name: &'static str, v: &[f64]) -> Result<(), (&'static str, String)> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err((name, format!("{v:?} must be finite")))
    }
}
