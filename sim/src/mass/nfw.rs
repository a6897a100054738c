//! Navarro–Frenk–White halo (`nfw`): spherical, or with an elliptical potential.
//!
//! ρ(r) = ρ0 / ((r/r_s)(1 + r/r_s)²), given either as (r_s, α_rs) in arcsec, α_rs the deflection
//! at r_s (lenstronomy's `NFW`), or physically as (m200 [M☉], c) at the system's redshifts.
//! Projected quantities of x = R/r_s follow Golse & Kneib (2002): with κ_s = ρ0 r_s / Σ_crit,
//! κ = 2κ_s (1 − C(x))/(x² − 1), α = 4κ_s r_s g(x)/x, ψ = 2κ_s r_s² h(x), where
//! C(x) = arccosh(1/x)/√(1 − x²) (x < 1) or arccos(1/x)/√(x² − 1) (x > 1) and g = ln(x/2) + C.
//!
//! With q < 1 the potential is made elliptical by stretching the coordinates as lenstronomy's
//! `NFW_ELLIPSE_POTENTIAL` does: R² = (1 − e)x'² + (1 + e)y'², e = (1 − q²)/(1 + q²), x' along
//! the major axis. The convergence is then no longer exactly elliptical (its contours become
//! peanut-shaped for strong stretches), which is acceptable for q ≳ 0.6.

use serde::{Deserialize, Serialize};

use super::{check_finite, Frame, Hessian, HessianLanes, MassProfile};
use crate::cosmology::Cosmology;
use crate::limits::{
    angular_size, axis_ratio, in_range, orientation, CONCENTRATION_RANGE, M200_RANGE,
    MAX_SCALE_RADIUS, MIN_ANGLE,
};
use crate::simd::{atan_over, atanh_over, splat, Lanes};

/// |x − 1| below which C(x) and (1 − C)/(x² − 1) use their Taylor series (error < 1e-12).
const SERIES_LIMIT: f64 = 1e-3;
/// Radius (in units of r_s) below which the profile is treated as its centre.
const X_MIN: f64 = 1e-12;

/// C(x) of the module docs, continuous through x = 1.
#[inline]
fn c_func(x: f64) -> f64 {
    let e = x - 1.0;
    if e.abs() < SERIES_LIMIT {
        1.0 - 2.0 / 3.0 * e + 7.0 / 15.0 * e * e - 12.0 / 35.0 * e * e * e
            + 83.0 / 315.0 * e * e * e * e
    } else if x < 1.0 {
        (1.0 / x).acosh() / (1.0 - x * x).sqrt()
    } else {
        (1.0 / x).acos() / (x * x - 1.0).sqrt()
    }
}

/// (1 − C(x))/(x² − 1), so that κ = 2κ_s · this.
#[inline]
fn kappa_func(x: f64) -> f64 {
    let e = x - 1.0;
    if e.abs() < SERIES_LIMIT {
        1.0 / 3.0 - 2.0 / 5.0 * e + 13.0 / 35.0 * e * e - 20.0 / 63.0 * e * e * e
    } else {
        (1.0 - c_func(x)) / (x * x - 1.0)
    }
}

/// g(x) = ln(x/2) + C(x): the projected mass inside x is 4π ρ0 r_s³ g(x).
///
/// For x < 1 it is rearranged so that no two large logarithms cancel at small x.
#[inline]
pub fn nfw_g(x: f64) -> f64 {
    if (x - 1.0).abs() < SERIES_LIMIT || x > 1.0 {
        return (0.5 * x).ln() + c_func(x);
    }
    let x2 = x * x;
    let w = (1.0 - x2).sqrt();
    let t = x2 / (w * (1.0 + w));
    -x.ln() * t + (-0.5 * x2 / (1.0 + w)).ln_1p() / w + std::f64::consts::LN_2 * t
}

/// h(x): the potential is 2κ_s r_s² h(x).
#[inline]
fn nfw_h(x: f64) -> f64 {
    if x < 1.0 {
        let x2 = x * x;
        let w = (1.0 - x2).sqrt();
        (x2 / (2.0 * (1.0 + w))).ln() * (-0.5 * x2 / (1.0 + w)).ln_1p()
    } else {
        let l = (0.5 * x).ln();
        let a = (1.0 / x).acos();
        l * l + a * a
    }
}

/// x below which g(x) uses the cancellation-free form in single precision.
const SMALL_X_F32: f32 = 0.9;

/// [`nfw_g`] at `LANES` radii x = R/r_s, single precision: ln(x/2) + C(x) with
/// C = atanh(w)/w, w = sqrt(1 − x²) (x < 1) or atan(v)/v, v = sqrt(x² − 1) (x > 1), both
/// continuous through x = 1; below x = 0.9 the rearranged form that avoids cancelling logs.
#[inline(always)]
pub fn nfw_g_lanes(x: Lanes) -> Lanes {
    let x2 = x * x;
    let s = Lanes::ONE - x2;
    let inside = s.simd_gt(Lanes::ZERO);
    let small = x.simd_lt(Lanes::splat(SMALL_X_F32));
    let mut g = Lanes::ZERO;
    if (!small).any() {
        let c_in = if inside.any() {
            atanh_over(s.max(Lanes::ZERO).sqrt())
        } else {
            Lanes::ONE
        };
        let c_out = if (!inside).any() {
            atan_over((-s).max(Lanes::ZERO).sqrt())
        } else {
            Lanes::ONE
        };
        g = (x * Lanes::splat(0.5)).ln() + inside.select(c_in, c_out);
    }
    if small.any() {
        let w = s.max(Lanes::ZERO).sqrt();
        let opw = Lanes::ONE + w;
        let t = x2 / (w * opw);
        let stable = -(x.ln()) * t
            + (-(x2 * Lanes::splat(0.5)) / opw).ln_1p() / w
            + Lanes::splat(std::f32::consts::LN_2) * t;
        g = small.select(stable, g);
    }
    g
}

/// Half-width of the band around x = 1 where [`kappa_func_lanes`] uses its series. The direct
/// form (C − 1)/(1 − x²) loses ~ε_f32/|x − 1| there; the series' first omitted term at 0.1
/// is ~1e-8.
const SERIES_LIMIT_F32: f32 = 0.1;

/// x below which [`kappa_func_lanes`] takes C = ln((1 + w)/x)/w: atanh(w) = ½ ln(1 + 2w/(1 − w))
/// needs 1 − w, which w = sqrt(1 − x²) rounds away in single precision as x → 0.
const SMALL_X_C_F32: f32 = 0.5;

/// [`kappa_func`] at `LANES` radii x = R/r_s, single precision: (C(x) − 1)/(1 − x²), with its
/// Taylor series about x = 1 (through (x − 1)⁶) where |x − 1| < 0.1.
#[inline(always)]
fn kappa_func_lanes(x: Lanes) -> Lanes {
    let e = x - Lanes::ONE;
    let coefficients = [
        1.0 / 3.0,
        -2.0 / 5.0,
        13.0 / 35.0,
        -20.0 / 63.0,
        61.0 / 231.0,
        -94.0 / 429.0,
        1181.0 / 6435.0,
    ];
    let series = coefficients
        .iter()
        .rev()
        .fold(Lanes::ZERO, |acc, &c| acc * e + splat(c));
    let near = e.abs().simd_lt(Lanes::splat(SERIES_LIMIT_F32));
    if near.all() {
        return series;
    }
    let s = Lanes::ONE - x * x;
    let inside = s.simd_gt(Lanes::ZERO);
    let w = s.max(Lanes::ZERO).sqrt();
    let mut c = if inside.any() {
        atanh_over(w)
    } else {
        Lanes::ONE
    };
    if (!inside).any() {
        c = inside.select(c, atan_over((-s).max(Lanes::ZERO).sqrt()));
    }
    let small = x.simd_lt(Lanes::splat(SMALL_X_C_F32));
    if small.any() {
        c = small.select(((Lanes::ONE + w).ln() - x.ln()) / w, c);
    }
    near.select(series, (c - Lanes::ONE) / s)
}

fn default_q() -> f64 {
    1.0
}

/// Parameters of an `nfw` component: angular (`rs`, `alpha_rs`) or physical (`m200`, `c`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NfwParams {
    /// Scale radius r_s, arcsec (with `alpha_rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rs: Option<f64>,
    /// Deflection at r_s, arcsec (with `rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha_rs: Option<f64>,
    /// Mass inside r200 (mean density 200 ρ_crit(z_lens)), M☉ without h (with `c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m200: Option<f64>,
    /// Concentration r200/r_s (with `m200`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Axis ratio of the potential's stretch, (0, 1]; 1 is spherical.
    #[serde(default = "default_q")]
    pub q: f64,
    /// Position angle of the major axis, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
}

impl NfwParams {
    /// Checks that exactly one parameter pair is given and every value is in range.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match (self.rs, self.alpha_rs, self.m200, self.c) {
            (Some(rs), Some(a), None, None) => {
                in_range("rs", rs, MIN_ANGLE, MAX_SCALE_RADIUS, "arcsec")?;
                angular_size("alpha_rs", a)?;
            }
            (None, None, Some(m), Some(c)) => {
                in_range("m200", m, M200_RANGE.0, M200_RANGE.1, "M☉")?;
                in_range("c", c, CONCENTRATION_RANGE.0, CONCENTRATION_RANGE.1, "")?;
            }
            _ => {
                return Err((
                    "rs",
                    "give either `rs` and `alpha_rs` (arcsec) or `m200` (M☉) and `c`, not a mix"
                        .into(),
                ))
            }
        }
        axis_ratio("q", self.q)?;
        orientation("phi", &[self.phi])?;
        check_finite("center", &self.center)
    }
}

/// An NFW halo ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Nfw {
    frame: Frame,
    rs: f64,
    kappa_s: f64,
    /// Squared stretch factors along the major and minor axes, 1 − e and 1 + e.
    stretch_x2: f64,
    stretch_y2: f64,
}

impl Nfw {
    /// This component in the CUDA kernels' layout (`kernels/mass.cu`).
    pub(crate) fn gpu(&self) -> crate::gpu_layout::GpuMass {
        let (x0, y0, cos_phi, sin_phi) = self.frame.gpu();
        crate::gpu_layout::GpuMass {
            kind: crate::gpu_layout::kind::NFW,
            x0,
            y0,
            cos_phi,
            sin_phi,
            p: [
                self.rs as f32,
                self.kappa_s as f32,
                self.stretch_x2 as f32,
                self.stretch_y2 as f32,
            ],
        }
    }

    /// From validated parameters; physical ones are converted with `cosmo` at (z_lens, z_source).
    pub fn new(p: &NfwParams, cosmo: &Cosmology, z_lens: f64, z_source: f64) -> Self {
        let (rs, alpha_rs) = match (p.rs, p.alpha_rs, p.m200, p.c) {
            (Some(rs), Some(a), _, _) => (rs, a),
            (_, _, Some(m), Some(c)) => {
                let a = cosmo.nfw_angles(m, c, z_lens, z_source);
                (a.rs, a.alpha_rs)
            }
            _ => (1.0, 0.0), // unreachable after validate: a massless halo
        };
        Self::from_angles(rs, alpha_rs, p.q, p.phi, p.center)
    }

    /// From r_s and α(r_s) in arcsec, axis ratio q, angle phi (degrees) and centre (arcsec).
    pub fn from_angles(rs: f64, alpha_rs: f64, q: f64, phi: f64, center: [f64; 2]) -> Self {
        let e = (1.0 - q * q) / (1.0 + q * q);
        Self {
            frame: Frame::new(center, phi),
            rs,
            kappa_s: alpha_rs / (4.0 * rs * (1.0 + 0.5f64.ln())),
            stretch_x2: 1.0 - e,
            stretch_y2: 1.0 + e,
        }
    }

    /// Scale radius r_s, arcsec.
    pub fn rs(&self) -> f64 {
        self.rs
    }

    /// κ_s = ρ0 r_s / Σ_crit (dimensionless).
    pub fn kappa_s(&self) -> f64 {
        self.kappa_s
    }

    /// Spherical deflection magnitude at radius r (arcsec) divided by r: the mean convergence κ̄(r).
    #[inline]
    fn kappa_bar(&self, r: f64) -> f64 {
        let x = (r / self.rs).max(X_MIN);
        4.0 * self.kappa_s * nfw_g(x) / (x * x)
    }

    /// Spherical convergence at radius r, arcsec.
    #[inline]
    fn kappa_r(&self, r: f64) -> f64 {
        let x = (r / self.rs).max(X_MIN);
        2.0 * self.kappa_s * kappa_func(x)
    }

    /// ∇(R²/2) in the local frame, ((1 − e)x', (1 + e)y'), and the stretched radius R.
    #[inline]
    fn stretch(&self, x: f64, y: f64) -> (f64, f64, f64) {
        let (xl, yl) = self.frame.to_local(x, y);
        let (sx, sy) = (self.stretch_x2 * xl, self.stretch_y2 * yl);
        (sx, sy, (xl * sx + yl * sy).sqrt())
    }
}

impl MassProfile for Nfw {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        let (sx, sy, r) = self.stretch(x, y);
        if r == 0.0 {
            return (0.0, 0.0);
        }
        let f = self.kappa_bar(r);
        self.frame.vector_to_sky(f * sx, f * sy)
    }

    fn hessian(&self, x: f64, y: f64) -> Hessian {
        // ψ(x', y') = ψ_r(R): with s = ∇(R²/2) and D = diag(1 − e, 1 + e),
        // H' = κ̄(R) D + 2(κ_r(R) − κ̄(R)) s sᵀ / R².
        let (sx, sy, r) = self.stretch(x, y);
        let r = r.max(X_MIN * self.rs);
        let kb = self.kappa_bar(r);
        let d = 2.0 * (self.kappa_r(r) - kb) / (r * r);
        let local = Hessian {
            xx: kb * self.stretch_x2 + d * sx * sx,
            xy: d * sx * sy,
            yy: kb * self.stretch_y2 + d * sy * sy,
        };
        self.frame.hessian_to_sky(local)
    }

    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        let (_, _, r) = self.stretch(x, y);
        let xs = (r / self.rs).max(X_MIN);
        Some(2.0 * self.kappa_s * self.rs * self.rs * nfw_h(xs))
    }
    #[inline(always)]
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let (sx, sy) = (splat(self.stretch_x2) * xl, splat(self.stretch_y2) * yl);
        let r = (xl * sx + yl * sy).sqrt();
        let xs = (r * splat(1.0 / self.rs)).max(splat(X_MIN));
        // α = κ̄(R)·∇(R²/2), κ̄ = 4κ_s g(x)/x²
        let kb = splat(4.0 * self.kappa_s) * nfw_g_lanes(xs) / (xs * xs);
        let zero = r.simd_eq(Lanes::ZERO);
        let (ax, ay) = self.frame.vector_to_sky_lanes(kb * sx, kb * sy);
        (zero.select(Lanes::ZERO, ax), zero.select(Lanes::ZERO, ay))
    }
    #[inline(always)]
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        // As `hessian`: H' = κ̄(R) D + 2(κ_r(R) − κ̄(R)) s sᵀ / R².
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let (sx, sy) = (splat(self.stretch_x2) * xl, splat(self.stretch_y2) * yl);
        let r = (xl * sx + yl * sy).sqrt().max(splat(X_MIN * self.rs));
        let xs = (r * splat(1.0 / self.rs)).max(splat(X_MIN));
        let kb = splat(4.0 * self.kappa_s) * nfw_g_lanes(xs) / (xs * xs);
        let kr = splat(2.0 * self.kappa_s) * kappa_func_lanes(xs);
        let d = splat(2.0) * (kr - kb) / (r * r);
        self.frame.hessian_to_sky_lanes(HessianLanes {
            xx: kb * splat(self.stretch_x2) + d * sx * sx,
            xy: d * sx * sy,
            yy: kb * splat(self.stretch_y2) + d * sy * sy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::test_util::{check_consistency, sample_points};

    #[test]
    fn deflection_at_rs_is_alpha_rs() {
        // Definition of alpha_rs (lenstronomy's NFW parameterisation).
        let p = Nfw::from_angles(2.5, 0.4, 1.0, 0.0, [0.0, 0.0]);
        let (ax, ay) = p.deflection(2.5 * 0.6, 2.5 * 0.8);
        assert!((ax.hypot(ay) - 0.4).abs() < 1e-14);
    }

    #[test]
    fn nfw_is_self_consistent_across_x_equals_one() {
        // Points on both sides of, and within the series region around, x = R/r_s = 1.
        for &(rs, q, phi) in &[
            (1.0, 1.0, 0.0),
            (0.4, 1.0, 0.0),
            (1.5, 0.7, 25.0),
            (3.0, 0.85, -60.0),
        ] {
            crate::mass::test_util::check_lanes(
                &Nfw::from_angles(rs, 0.8, q, phi, [0.05, 0.02]),
                &format!("nfw rs={rs} q={q}"),
                3e-6,
            );
            check_consistency(
                &Nfw::from_angles(rs, 0.8, q, phi, [0.05, 0.02]),
                &format!("nfw rs={rs} q={q}"),
            );
            crate::mass::test_util::check_hessian_lanes(
                &Nfw::from_angles(rs, 0.8, q, phi, [0.05, 0.02]),
                &format!("nfw rs={rs} q={q}"),
            );
            // The Hessian in single precision at radii from 1e-7 r_s (the centre's
            // cancellation-free forms) through x = 1 (the series' edges at |x − 1| = 0.1) to
            // 100 r_s, along a direction off both axes, around a centre at the origin (so that
            // f32 positions keep their relative precision there).
            let radii = [
                1e-7, 1e-4, 0.01, 0.3, 0.49, 0.51, 0.85, 0.899, 0.901, 0.95, 0.999, 1.0, 1.001,
                1.05, 1.099, 1.101, 1.5, 3.0, 10.0, 100.0,
            ];
            let points: Vec<(f64, f64)> =
                radii.iter().map(|x| (0.8 * x * rs, 0.6 * x * rs)).collect();
            crate::mass::test_util::check_hessian_lanes_at(
                &Nfw::from_angles(rs, 0.8, q, phi, [0.0, 0.0]),
                &format!("centred nfw rs={rs} q={q}"),
                &points,
            );
        }
        let p = Nfw::from_angles(1.0, 0.8, 1.0, 0.0, [0.0, 0.0]);
        for &x in &[0.9995, 0.99999, 1.0, 1.00001, 1.0005, 1.002] {
            let j = crate::mass::test_util::fd_jacobian(&p, x, 0.0, 1e-6);
            assert!(
                (p.convergence(x, 0.0) - 0.5 * (j[0] + j[3])).abs() < 1e-7,
                "x = {x}"
            );
        }
    }

    #[test]
    fn small_radius_mass_function_matches_its_direct_form() {
        // The rearranged g(x) equals ln(x/2) + arccosh(1/x)/sqrt(1 − x²) where the latter is exact enough.
        for &x in &[0.01, 0.1, 0.5, 0.9] {
            let direct = (0.5f64 * x).ln() + (1.0 / x).acosh() / (1.0 - x * x).sqrt();
            assert!(
                (nfw_g(x) - direct).abs() < 1e-13 * (1.0 + direct.abs()),
                "x = {x}"
            );
        }
        // and its small-x limit x²/4 · (2 ln(2/x) − 1)
        let x = 1e-5f64;
        let lim = x * x / 4.0 * (2.0 * (2.0 / x).ln() - 1.0);
        assert!((nfw_g(x) - lim).abs() / lim < 1e-8);
    }

    #[test]
    fn mass_inside_radius_matches_integrated_convergence() {
        // ∫0^R 2πr κ(r) dr = π R² κ̄(R): conservation of the projected mass (Simpson in ln r).
        let p = Nfw::from_angles(1.3, 0.6, 1.0, 0.0, [0.0, 0.0]);
        let rmax = 3.7f64;
        let (a, b, n) = ((1e-7f64).ln(), rmax.ln(), 4000);
        let h = (b - a) / n as f64;
        let f = |t: f64| {
            let r = t.exp();
            2.0 * std::f64::consts::PI * r * r * p.convergence(r, 0.0)
        };
        let mut s = f(a) + f(b);
        for k in 1..n {
            s += if k % 2 == 1 { 4.0 } else { 2.0 } * f(a + k as f64 * h);
        }
        s *= h / 3.0;
        let (ax, _) = p.deflection(rmax, 0.0);
        let expected = std::f64::consts::PI * rmax * ax;
        assert!((s - expected).abs() / expected < 1e-8, "{s} vs {expected}");
        let _ = sample_points();
    }
}
