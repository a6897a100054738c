//! Singular isothermal ellipsoid (`sie`) and sphere (`sis`), with the cored (non-singular)
//! isothermal ellipsoid functions that `tesis` also uses.
//!
//! Convergence κ = θ_E / (2·sqrt(s² + q·x'² + y'²/q)), x' along the major axis, s the core
//! (s = 0 for the SIE): lenstronomy's `SIE` and `NIE`. In Keeton & Kochanek (1998)'s form
//! κ = b / (2·sqrt(q²(s_K² + x'²) + y'²)) with b = θ_E·√q and s_K = s/√q, whose deflection and
//! potential are closed.

use serde::{Deserialize, Serialize};

use super::{check_finite, Frame, Hessian, HessianLanes, MassProfile};
use crate::limits::{angular_size, axis_ratio, orientation};
use crate::simd::{atan_over, atanh_over, splat, Lanes};

/// Below this 1 − q² the closed forms are replaced by their q → 1 limits (error < 1e-14).
const ROUND_LIMIT: f64 = 1e-14;

/// Deflection of a cored isothermal ellipsoid in its major-axis frame, arcsec.
///
/// `b` = θ_E·√q and `s` = core/√q (Keeton & Kochanek 1998, eq. 4–5), `q` in (0, 1].
#[inline]
pub fn nie_deflection(x: f64, y: f64, b: f64, s: f64, q: f64) -> (f64, f64) {
    let q2 = q * q;
    let psi = (q2 * (s * s + x * x) + y * y).sqrt();
    if psi == 0.0 {
        return (0.0, 0.0);
    }
    let u2 = 1.0 - q2;
    if u2 < ROUND_LIMIT {
        return (b * x / (psi + s), b * y / (psi + q2 * s));
    }
    let u = u2.sqrt();
    (
        b / u * (u * x / (psi + s)).atan(),
        b / u * (u * y / (psi + q2 * s)).atanh(),
    )
}

/// [`nie_deflection`] at `LANES` points, single precision. Below 1 − q = 1e-3 the closed form's
/// b/u·atan(u x/D) is evaluated as b·(x/D)·[atan(t)/t], t = u x/D, which has no 0/0 at q = 1.
#[inline(always)]
pub fn nie_deflection_lanes(x: Lanes, y: Lanes, b: f64, s: f64, q: f64) -> (Lanes, Lanes) {
    let q2 = q * q;
    let psi = (splat(q2) * (splat(s * s) + x * x) + y * y).sqrt();
    let u = (1.0 - q2).max(0.0).sqrt();
    let zero = psi.simd_eq(Lanes::ZERO);
    let d = zero.select(Lanes::ONE, psi + splat(s));
    let e = zero.select(Lanes::ONE, psi + splat(q2 * s));
    let (ax, ay) = if q < 0.999 {
        let tx = splat(u) * x / d;
        let ty = splat(u) * y / e;
        // atanh t = ½ ln(1 + 2|t|/(1 − |t|)) with the sign of t: on |t| the argument of ln_1p
        // stays ≥ 0 and keeps its relative precision.
        let at = ty.abs();
        let h = Lanes::splat(0.5) * ((at + at) / (Lanes::ONE - at)).ln_1p();
        let bu = splat(b / u);
        (bu * tx.atan(), bu * ty.simd_lt(Lanes::ZERO).select(-h, h))
    } else {
        let (tx, ty) = (x / d, y / e);
        let bb = splat(b);
        (
            bb * tx * atan_over(splat(u) * tx),
            bb * ty * atanh_over(splat(u) * ty),
        )
    };
    (zero.select(Lanes::ZERO, ax), zero.select(Lanes::ZERO, ay))
}

/// Hessian of a cored isothermal ellipsoid in its major-axis frame (same parameters as
/// [`nie_deflection`]), from differentiating that deflection analytically.
#[inline]
pub fn nie_hessian(x: f64, y: f64, b: f64, s: f64, q: f64) -> Hessian {
    let q2 = q * q;
    let psi = (q2 * (s * s + x * x) + y * y).sqrt();
    if psi == 0.0 {
        return Hessian {
            xx: f64::INFINITY,
            xy: 0.0,
            yy: f64::INFINITY,
        };
    }
    let u2 = 1.0 - q2;
    let d = psi + s;
    let e = psi + q2 * s;
    let den_x = d * d + u2 * x * x;
    let den_y = e * e - u2 * y * y;
    Hessian {
        xx: b * (d - q2 * x * x / psi) / den_x,
        xy: -b * x * y / (psi * den_x),
        yy: b * (e - y * y / psi) / den_y,
    }
}

/// [`nie_hessian`] at `LANES` points in single precision (infinite diagonal at a singular centre).
#[inline(always)]
pub fn nie_hessian_lanes(x: Lanes, y: Lanes, b: f64, s: f64, q: f64) -> HessianLanes {
    let q2 = q * q;
    let psi = (splat(q2) * (splat(s * s) + x * x) + y * y).sqrt();
    let u2 = splat(1.0 - q2);
    let d = psi + splat(s);
    let e = psi + splat(q2 * s);
    let den_x = d * d + u2 * x * x;
    let den_y = e * e - u2 * y * y;
    let bb = splat(b);
    let zero = psi.simd_eq(Lanes::ZERO);
    let inf = Lanes::splat(f32::INFINITY);
    HessianLanes {
        xx: zero.select(inf, bb * (d - splat(q2) * x * x / psi) / den_x),
        xy: zero.select(Lanes::ZERO, -bb * x * y / (psi * den_x)),
        yy: zero.select(inf, bb * (e - y * y / psi) / den_y),
    }
}

/// Convergence of a cored isothermal ellipsoid in its major-axis frame.
#[inline]
pub fn nie_convergence(x: f64, y: f64, b: f64, s: f64, q: f64) -> f64 {
    0.5 * b / (q * q * (s * s + x * x) + y * y).sqrt()
}

/// Lensing potential of a cored isothermal ellipsoid in its major-axis frame, arcsec²
/// (Keeton & Kochanek 1998, eq. 6): x·αx + y·αy − b·s·ln sqrt((ψ + s)² + (1 − q²)x²).
pub fn nie_potential(x: f64, y: f64, b: f64, s: f64, q: f64) -> f64 {
    let (ax, ay) = nie_deflection(x, y, b, s, q);
    let q2 = q * q;
    let psi = (q2 * (s * s + x * x) + y * y).sqrt();
    let core = if s > 0.0 {
        b * s * 0.5 * ((psi + s).powi(2) + (1.0 - q2) * x * x).ln()
    } else {
        0.0
    };
    x * ax + y * ay - core
}

fn default_q() -> f64 {
    1.0
}

/// Parameters of an `sie` component, as a spec writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SieParams {
    /// Einstein radius θ_E, arcsec (product-average convention, DESIGN.md).
    pub theta_e: f64,
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

impl SieParams {
    /// Checks every field; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("theta_e", self.theta_e)?;
        axis_ratio("q", self.q)?;
        orientation("phi", &[self.phi])?;
        check_finite("center", &self.center)
    }
}

/// Parameters of an `sis` component: an SIE with q = 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SisParams {
    /// Einstein radius θ_E, arcsec.
    pub theta_e: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
}

impl SisParams {
    /// Checks every field; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("theta_e", self.theta_e)?;
        check_finite("center", &self.center)
    }

    /// The same lens as an SIE.
    pub fn as_sie(&self) -> SieParams {
        SieParams {
            theta_e: self.theta_e,
            q: 1.0,
            phi: 0.0,
            center: self.center,
        }
    }
}

/// A singular isothermal ellipsoid ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Sie {
    frame: Frame,
    b: f64,
    q: f64,
}

impl Sie {
    /// This component in the CUDA kernels' layout (`kernels/mass.cu`).
    pub(crate) fn gpu(&self) -> crate::gpu_layout::GpuMass {
        let (x0, y0, cos_phi, sin_phi) = self.frame.gpu();
        crate::gpu_layout::GpuMass {
            kind: crate::gpu_layout::kind::SIE,
            x0,
            y0,
            cos_phi,
            sin_phi,
            p: [self.b as f32, self.q as f32, 0.0, 0.0],
        }
    }

    /// From validated parameters.
    pub fn new(p: &SieParams) -> Self {
        Self {
            frame: Frame::new(p.center, p.phi),
            b: p.theta_e * p.q.sqrt(),
            q: p.q,
        }
    }
}

impl MassProfile for Sie {
    #[inline]
    fn deflection(&self, x: f64, y: f64) -> (f64, f64) {
        let (xl, yl) = self.frame.to_local(x, y);
        let (ax, ay) = nie_deflection(xl, yl, self.b, 0.0, self.q);
        self.frame.vector_to_sky(ax, ay)
    }
    fn hessian(&self, x: f64, y: f64) -> Hessian {
        let (xl, yl) = self.frame.to_local(x, y);
        self.frame
            .hessian_to_sky(nie_hessian(xl, yl, self.b, 0.0, self.q))
    }
    fn convergence(&self, x: f64, y: f64) -> f64 {
        let (xl, yl) = self.frame.to_local(x, y);
        nie_convergence(xl, yl, self.b, 0.0, self.q)
    }
    fn potential(&self, x: f64, y: f64) -> Option<f64> {
        let (xl, yl) = self.frame.to_local(x, y);
        Some(nie_potential(xl, yl, self.b, 0.0, self.q))
    }
    #[inline(always)]
    fn deflection_lanes(&self, x: Lanes, y: Lanes) -> (Lanes, Lanes) {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let (ax, ay) = nie_deflection_lanes(xl, yl, self.b, 0.0, self.q);
        self.frame.vector_to_sky_lanes(ax, ay)
    }
    #[inline(always)]
    fn hessian_lanes(&self, x: Lanes, y: Lanes) -> HessianLanes {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        self.frame
            .hessian_to_sky_lanes(nie_hessian_lanes(xl, yl, self.b, 0.0, self.q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::test_util::{check_consistency, sample_points};

    fn sie(theta_e: f64, q: f64, phi: f64) -> Sie {
        Sie::new(&SieParams {
            theta_e,
            q,
            phi,
            center: [0.1, -0.2],
        })
    }

    #[test]
    fn sis_deflection_magnitude_is_theta_e_everywhere() {
        // Analytic: an SIS deflects every ray by exactly θ_E towards the centre.
        let p = Sie::new(
            &SisParams {
                theta_e: 1.3,
                center: [0.1, -0.2],
            }
            .as_sie(),
        );
        for (x, y) in sample_points() {
            let (ax, ay) = p.deflection(x, y);
            assert!(
                (ax.hypot(ay) - 1.3).abs() < 1e-12,
                "|α| = {} at ({x},{y})",
                ax.hypot(ay)
            );
            // and it points from the centre to the ray
            let (dx, dy) = (x - 0.1, y + 0.2);
            assert!((ax * dy - ay * dx).abs() < 1e-12);
            assert!(ax * dx + ay * dy > 0.0);
        }
    }

    #[test]
    fn sie_is_self_consistent() {
        for &(q, phi) in &[
            (1.0, 0.0),
            (0.999_999_9, 10.0),
            (0.9995, 5.0),
            (0.998, 5.0),
            (0.7, 30.0),
            (0.3, -75.0),
        ] {
            check_consistency(&sie(1.2, q, phi), &format!("sie q={q} phi={phi}"));
            crate::mass::test_util::check_lanes(&sie(1.2, q, phi), &format!("sie q={q}"), 2e-6);
            crate::mass::test_util::check_hessian_lanes(&sie(1.2, q, phi), &format!("sie q={q}"));
        }
    }

    #[test]
    fn sie_convergence_is_one_half_on_the_product_average_ellipse() {
        // κ = θ_E / (2 sqrt(q x'² + y'²/q)) = 1/2 where q x'² + y'²/q = θ_E² (DESIGN.md).
        let (te, q, phi) = (1.1, 0.6, 40.0f64);
        let p = sie(te, q, phi);
        for k in 0..12 {
            let t = k as f64 * 0.5;
            let (xl, yl) = (te / q.sqrt() * t.cos(), te * q.sqrt() * t.sin());
            let (s, c) = phi.to_radians().sin_cos();
            let (x, y) = (c * xl - s * yl + 0.1, s * xl + c * yl - 0.2);
            assert!((p.convergence(x, y) - 0.5).abs() < 1e-12);
        }
    }

    #[test]
    fn rotating_the_lens_rotates_the_deflection() {
        // Invariant: an SIE at phi + δ evaluated at a point rotated by δ about its centre gives
        // the deflection rotated by δ.
        let a = Sie::new(&SieParams {
            theta_e: 1.0,
            q: 0.5,
            phi: 20.0,
            center: [0.0, 0.0],
        });
        let b = Sie::new(&SieParams {
            theta_e: 1.0,
            q: 0.5,
            phi: 20.0 + 35.0,
            center: [0.0, 0.0],
        });
        let (s, c) = 35f64.to_radians().sin_cos();
        for (x, y) in sample_points() {
            let (ax, ay) = a.deflection(x, y);
            let (bx, by) = b.deflection(c * x - s * y, s * x + c * y);
            assert!((bx - (c * ax - s * ay)).abs() < 1e-12);
            assert!((by - (s * ax + c * ay)).abs() < 1e-12);
        }
    }

    #[test]
    fn invalid_parameters_name_their_field() {
        let mut p = SieParams {
            theta_e: 1.0,
            q: 1.2,
            phi: 0.0,
            center: [0.0, 0.0],
        };
        assert_eq!(p.validate().unwrap_err().0, "q");
        p.q = 0.0;
        assert_eq!(p.validate().unwrap_err().0, "q");
        p.q = 0.5;
        p.theta_e = -1.0;
        assert_eq!(p.validate().unwrap_err().0, "theta_e");
    }
}
