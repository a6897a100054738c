//! Mass profiles of a lens: deflection, convergence, Hessian and (where closed) potential.
//!
//! Every profile follows lenstronomy's convention for the profile of the same name
//! (DESIGN.md): angles in arcsec, axis ratio `q` = b/a in (0, 1], position angle `phi` in
//! degrees counter-clockwise from +x. A lens is a sum of components ([`Lens`]).
//!
//! Each profile has a serde `…Params` struct (what a spec holds, with `validate`) and a
//! runtime struct (what the ray shooter evaluates, with its trigonometry precomputed).

pub mod nfw;
pub mod point_mass;
pub mod shear;
pub mod sie;
pub mod tesis;

use serde::{Deserialize, Serialize};

use crate::cosmology::Cosmology;
use crate::simd::{per_lane2, splat, F8};
pub use nfw::{Nfw, NfwParams};
pub use point_mass::{PointMass, PointMassParams};
pub use shear::{Shear, ShearParams};
pub use sie::{Sie, SieParams, SisParams};
pub use tesis::{Tesis, TesisParams};

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

/// The Hessian at eight points in single precision (the critical-curve grid's hot path).
#[derive(Clone, Copy, Debug)]
pub struct HessianX8 {
    /// ∂²ψ/∂x².
    pub xx: F8,
    /// ∂²ψ/∂x∂y.
    pub xy: F8,
    /// ∂²ψ/∂y².
    pub yy: F8,
}

impl HessianX8 {
    /// Zero in every lane.
    pub const ZERO: Self = Self {
        xx: F8::ZERO,
        xy: F8::ZERO,
        yy: F8::ZERO,
    };

    /// 1 − κ − |γ| lane by lane, as [`Hessian::lambda_tangential`]; NaN where a component is.
    #[inline(always)]
    pub fn lambda_tangential(&self) -> F8 {
        let half = F8::splat(0.5);
        let g1 = half * (self.xx - self.yy);
        F8::ONE - half * (self.xx + self.yy) - (g1 * g1 + self.xy * self.xy).sqrt()
    }
}

impl std::ops::Sub for HessianX8 {
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

impl std::ops::AddAssign for HessianX8 {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        self.xx += o.xx;
        self.xy += o.xy;
        self.yy += o.yy;
    }
}

/// What every mass profile provides, at a point (x, y) in arcsec.
pub trait MassProfile {
    /// Deflection (α_x, α_y), arcsec.
    fn deflection(&self, x: f64, y: f64) -> (f64, f64);
    /// Hessian of the lensing potential (dimensionless).
    fn hessian(&self, x: f64, y: f64) -> Hessian;
    /// Convergence κ (dimensionless).
    fn convergence(&self, x: f64, y: f64) -> f64 {
        self.hessian(x, y).kappa()
    }
    /// Lensing potential ψ, arcsec², where it has a closed form (up to a constant).
    fn potential(&self, x: f64, y: f64) -> Option<f64>;
    /// Deflection at eight points at once in single precision, arcsec (the ray shooter's hot
    /// path). By default the f64 [`deflection`](Self::deflection) lane by lane.
    fn deflection_x8(&self, x: F8, y: F8) -> (F8, F8) {
        per_lane2(x, y, |x, y| self.deflection(x, y))
    }
    /// Hessian at eight points at once in single precision (the critical curves' grid). By
    /// default the f64 [`hessian`](Self::hessian) lane by lane.
    fn hessian_x8(&self, x: F8, y: F8) -> HessianX8 {
        let (xa, ya) = (x.to_array(), y.to_array());
        let mut h = [[0f32; 8]; 3];
        for k in 0..8 {
            let v = self.hessian(xa[k] as f64, ya[k] as f64);
            (h[0][k], h[1][k], h[2][k]) = (v.xx as f32, v.xy as f32, v.yy as f32);
        }
        HessianX8 {
            xx: F8::new(h[0]),
            xy: F8::new(h[1]),
            yy: F8::new(h[2]),
        }
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

    /// Eight sky positions (arcsec) to the profile's frame.
    #[inline(always)]
    pub fn to_local_x8(&self, x: F8, y: F8) -> (F8, F8) {
        let (dx, dy) = (x - splat(self.x0), y - splat(self.y0));
        let (c, s) = (splat(self.cos), splat(self.sin));
        (c * dx + s * dy, c * dy - s * dx)
    }

    /// Eight Hessians in the profile's frame back to sky axes (H = Rᵀ H' R).
    #[inline(always)]
    pub fn hessian_to_sky_x8(&self, h: HessianX8) -> HessianX8 {
        let (c, s) = (self.cos, self.sin);
        let (cc, cs, ss) = (splat(c * c), splat(c * s), splat(s * s));
        HessianX8 {
            xx: cc * h.xx - splat(2.0) * cs * h.xy + ss * h.yy,
            xy: cs * (h.xx - h.yy) + splat(c * c - s * s) * h.xy,
            yy: ss * h.xx + splat(2.0) * cs * h.xy + cc * h.yy,
        }
    }

    /// Eight vectors in the profile's frame back to sky axes.
    #[inline(always)]
    pub fn vector_to_sky_x8(&self, ax: F8, ay: F8) -> (F8, F8) {
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

/// Hessian of a circularly symmetric potential at (x, y) from the mean convergence inside r
/// (κ̄ = α(r)/r) and the local convergence κ(r): ψ_ij = κ̄ δ_ij + (2κ − 2κ̄) n_i n_j.
#[inline]
pub fn radial_hessian(x: f64, y: f64, kappa_bar: f64, kappa: f64) -> Hessian {
    let r2 = x * x + y * y;
    if r2 == 0.0 {
        return Hessian {
            xx: kappa,
            xy: 0.0,
            yy: kappa,
        };
    }
    let d = 2.0 * (kappa - kappa_bar) / r2;
    Hessian {
        xx: kappa_bar + d * x * x,
        xy: d * x * y,
        yy: kappa_bar + d * y * y,
    }
}

/// One mass component as a spec writes it (`type = "sie"`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MassSpec {
    /// Singular isothermal ellipsoid.
    Sie(SieParams),
    /// Singular isothermal sphere (an SIE with q = 1).
    Sis(SisParams),
    /// Navarro–Frenk–White halo, spherical or with an elliptical potential.
    Nfw(NfwParams),
    /// External shear.
    Shear(ShearParams),
    /// Truncated elliptical singular isothermal galaxy.
    Tesis(TesisParams),
    /// Point mass.
    PointMass(PointMassParams),
}

impl MassSpec {
    /// Checks every field; on error returns (field name, what is wrong and the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            MassSpec::Sie(p) => p.validate(),
            MassSpec::Sis(p) => p.validate(),
            MassSpec::Nfw(p) => p.validate(),
            MassSpec::Shear(p) => p.validate(),
            MassSpec::Tesis(p) => p.validate(),
            MassSpec::PointMass(p) => p.validate(),
        }
    }

    /// The component's centre (x, y), arcsec; None for an external shear, which has none.
    pub fn center(&self) -> Option<[f64; 2]> {
        match self {
            MassSpec::Sie(p) => Some(p.center),
            MassSpec::Sis(p) => Some(p.center),
            MassSpec::Nfw(p) => Some(p.center),
            MassSpec::Shear(_) => None,
            MassSpec::Tesis(p) => Some(p.center),
            MassSpec::PointMass(p) => Some(p.center),
        }
    }

    /// The runtime profile; NFW physical parameters are turned into angles with `cosmo`.
    pub fn build(&self, cosmo: &Cosmology, z_lens: f64, z_source: f64) -> Mass {
        match self {
            MassSpec::Sie(p) => Mass::Sie(Sie::new(p)),
            MassSpec::Sis(p) => Mass::Sie(Sie::new(&p.as_sie())),
            MassSpec::Nfw(p) => Mass::Nfw(Nfw::new(p, cosmo, z_lens, z_source)),
            MassSpec::Shear(p) => Mass::Shear(Shear::new(p)),
            MassSpec::Tesis(p) => Mass::Tesis(Tesis::new(p)),
            MassSpec::PointMass(p) => Mass::PointMass(PointMass::new(p)),
        }
    }
}

/// One runtime mass component (enum dispatch keeps the hot loop free of virtual calls).
#[derive(Clone, Debug, PartialEq)]
pub enum Mass {
    /// SIE (and SIS).
    Sie(Sie),
    /// NFW.
    Nfw(Nfw),
    /// External shear.
    Shear(Shear),
    /// TESIS.
    Tesis(Tesis),
    /// Point mass.
    PointMass(PointMass),
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Mass::Sie($p) => $e,
            Mass::Nfw($p) => $e,
            Mass::Shear($p) => $e,
            Mass::Tesis($p) => $e,
            Mass::PointMass($p) => $e,
        }
    };
}

impl MassProfile for Mass {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        dispatch!(self, p => p.deflection(x, y))
    }
    #[inline]
    fn hessian(&self, x: f64, y: f64) -> Hessian {
        dispatch!(self, p => p.hessian(x, y))
    }
    #[inline]
    fn convergence(&self, x: f64, y: f64) -> f64 {
        dispatch!(self, p => p.convergence(x, y))
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        dispatch!(self, p => p.potential(x, y))
    }
    #[inline]
    fn deflection_x8(&self, x: F8, y: F8) -> (F8, F8) {
        dispatch!(self, p => p.deflection_x8(x, y))
    }
    #[inline]
    fn hessian_x8(&self, x: F8, y: F8) -> HessianX8 {
        dispatch!(self, p => p.hessian_x8(x, y))
    }
}

/// A lens: the sum of its mass components.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lens {
    /// The components, summed.
    pub components: Vec<Mass>,
}

impl Lens {
    /// A lens from its components.
    pub fn new(components: Vec<Mass>) -> Self {
        Self { components }
    }
}

impl MassProfile for Lens {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        let (mut ax, mut ay) = (0.0, 0.0);
        for c in &self.components {
            let (dx, dy) = c.deflection(x, y);
            ax += dx;
            ay += dy;
        }
        (ax, ay)
    }
    fn hessian(&self, x: f64, y: f64) -> Hessian {
        let mut h = Hessian::default();
        for c in &self.components {
            h += c.hessian(x, y);
        }
        h
    }
    fn convergence(&self, x: f64, y: f64) -> f64 {
        self.components.iter().map(|c| c.convergence(x, y)).sum()
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        self.components.iter().map(|c| c.potential(x, y)).sum()
    }
    #[inline]
    fn deflection_x8(&self, x: F8, y: F8) -> (F8, F8) {
        let (mut ax, mut ay) = (F8::ZERO, F8::ZERO);
        for c in &self.components {
            let (dx, dy) = c.deflection_x8(x, y);
            ax += dx;
            ay += dy;
        }
        (ax, ay)
    }
    #[inline]
    fn hessian_x8(&self, x: F8, y: F8) -> HessianX8 {
        let mut h = HessianX8::ZERO;
        for c in &self.components {
            h += c.hessian_x8(x, y);
        }
        h
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

#[cfg(test)]
pub(crate) mod test_util;
