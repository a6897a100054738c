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
pub(crate) use crate::geometry::check_finite;
pub use crate::geometry::{Frame, Hessian, HessianLanes};
use crate::simd::{per_lane2, Lanes};
pub use nfw::{Nfw, NfwParams};
pub use point_mass::{PointMass, PointMassParams};
pub use shear::{Shear, ShearParams};
pub use sie::{Sie, SieParams, SisParams};
pub use tesis::{Tesis, TesisParams};

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
    /// Deflection at `LANES` points at once in single precision, arcsec (the ray shooter's hot
    /// path). By default the f64 [`deflection`](Self::deflection) lane by lane.
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        per_lane2(x, y, |x, y| self.deflection(x, y))
    }
    /// Adds the deflection at the points (`x[c]`, `y`) to (`ax[c]`, `ay[c]`), arcsec, for every
    /// group c of `LANES`: [`deflection_lanes`](Self::deflection_lanes) over a row of the ray
    /// shooter's grid, in one loop that the profile's arithmetic is inlined into (dispatched
    /// once a row, not once a group). The same floats as calling it group by group.
    #[inline]
    fn add_deflections_lanes(&self, x: &[Lanes], y: Lanes, ax: &mut [Lanes], ay: &mut [Lanes]) {
        for ((&x, ax), ay) in x.iter().zip(ax.iter_mut()).zip(ay.iter_mut()) {
            let (dx, dy) = self.deflection_lanes(x, y);
            *ax += dx;
            *ay += dy;
        }
    }
    /// Hessian at `LANES` points at once in single precision (the critical curves' grid). By
    /// default the f64 [`hessian`](Self::hessian) lane by lane.
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        let (xa, ya) = (x.to_array(), y.to_array());
        let mut h = [[0f32; crate::simd::LANES]; 3];
        for k in 0..crate::simd::LANES {
            let v = self.hessian(xa[k] as f64, ya[k] as f64);
            (h[0][k], h[1][k], h[2][k]) = (v.xx as f32, v.xy as f32, v.yy as f32);
        }
        HessianLanes {
            xx: Lanes::new(h[0]),
            xy: Lanes::new(h[1]),
            yy: Lanes::new(h[2]),
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
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        dispatch!(self, p => p.deflection_lanes(x, y))
    }
    #[inline]
    fn add_deflections_lanes(&self, x: &[Lanes], y: Lanes, ax: &mut [Lanes], ay: &mut [Lanes]) {
        dispatch!(self, p => p.add_deflections_lanes(x, y, ax, ay))
    }
    #[inline]
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        dispatch!(self, p => p.hessian_lanes(x, y))
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
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (mut ax, mut ay) = (Lanes::ZERO, Lanes::ZERO);
        for c in &self.components {
            let (dx, dy) = c.deflection_lanes(x, y);
            ax += dx;
            ay += dy;
        }
        (ax, ay)
    }
    #[inline]
    fn add_deflections_lanes(&self, x: &[Lanes], y: Lanes, ax: &mut [Lanes], ay: &mut [Lanes]) {
        for c in &self.components {
            c.add_deflections_lanes(x, y, ax, ay);
        }
    }
    #[inline]
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        let mut h = HessianLanes::ZERO;
        for c in &self.components {
            h += c.hessian_lanes(x, y);
        }
        h
    }
}

#[cfg(test)]
pub(crate) mod test_util;
