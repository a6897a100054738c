//! Elliptical Sérsic profile (`sersic`).
//!
//! I(R) ∝ exp(−b_n (R/R_e)^{1/n}), R = sqrt(q x'² + y'²/q), with b_n the exact root of
//! P(2n, b_n) = ½ (P the regularised lower incomplete gamma function), so that `r_eff` is the
//! true half-light radius of the product-average ellipse (DESIGN.md). Total flux
//! 2π n R_e² Γ(2n) b_n^{−2n} · I(0).

use serde::{Deserialize, Serialize};
use statrs::function::gamma::{gamma_lr, ln_gamma};

use super::{BandValues, LightProfile};
use crate::geometry::{check_finite, Frame};
use crate::limits::{angular_size, axis_ratio, orientation};
use crate::simd::{exp, splat, Lanes};

/// Smallest and largest Sérsic index accepted.
pub const N_RANGE: (f64, f64) = (0.2, 10.0);

/// b(R/R_e)^{1/n} beyond which a Sérsic profile is below e^−30 of its peak.
const NEGLIGIBLE_EXPONENT: f64 = 30.0;

/// b_n solving P(2n, b_n) = ½ for the Sérsic index `n` (bisection then Newton, to 1e-14).
pub fn sersic_b(n: f64) -> f64 {
    let a = 2.0 * n;
    let f = |b: f64| gamma_lr(a, b) - 0.5;
    // The median of Γ(a, 1) lies in (a − 1/3, a) for a ≥ 1 and in (0, a) otherwise (Chen & Rubin 1986).
    let (mut lo, mut hi) = (if a >= 1.0 { a - 1.0 / 3.0 - 1e-9 } else { 0.0 }, a);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut b = 0.5 * (lo + hi);
    let lg = ln_gamma(a);
    for _ in 0..3 {
        let pdf = ((a - 1.0) * b.ln() - b - lg).exp();
        b -= f(b) / pdf;
    }
    b
}

/// Parameters of a `sersic` component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SersicParams {
    /// Half-light radius of the product-average ellipse, arcsec.
    pub r_eff: f64,
    /// Sérsic index, in [0.2, 10].
    pub n: f64,
    /// Axis ratio b/a in (0, 1].
    #[serde(default = "one")]
    pub q: f64,
    /// Position angle of the major axis, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
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

impl SersicParams {
    /// Checks the shape fields; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("r_eff", self.r_eff)?;
        if !(N_RANGE.0..=N_RANGE.1).contains(&self.n) {
            return Err((
                "n",
                format!(
                    "{} is outside the allowed range [{}, {}]",
                    crate::limits::show(self.n),
                    N_RANGE.0,
                    N_RANGE.1
                ),
            ));
        }
        axis_ratio("q", self.q)?;
        orientation("phi", &[self.phi])?;
        check_finite("center", &self.center)
    }
}

/// A Sérsic profile of unit flux, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Sersic {
    frame: Frame,
    q: f64,
    inv_re2: f64,
    half_inv_n: f64,
    b: f64,
    i0: f64,
    /// (R/R_e)² beyond which I/I(0) < e^−30 ≈ 1e-13, far below single precision: zero there,
    /// lane by lane (and a group of lanes all beyond it is not evaluated).
    r2_negligible: f32,
}

impl Sersic {
    /// This profile, its brightness times `weight`, in the CUDA kernels' layout
    /// (`kernels/light.cu`), its fluxes at `flux` in the flux table.
    pub(crate) fn gpu(&self, flux: u32, weight: f64) -> crate::gpu_layout::GpuLight {
        let (x0, y0, cos_phi, sin_phi) = self.frame.gpu();
        crate::gpu_layout::GpuLight {
            kind: crate::gpu_layout::light_kind::SERSIC,
            flux,
            x0,
            y0,
            cos_phi,
            sin_phi,
            p: [
                self.q as f32,
                self.inv_re2 as f32,
                self.half_inv_n as f32,
                self.b as f32,
                (self.i0 * weight) as f32,
                self.r2_negligible,
                0.0,
                0.0,
            ],
        }
    }

    /// From validated parameters.
    pub fn new(p: &SersicParams) -> Self {
        let b = sersic_b(p.n);
        let a = 2.0 * p.n;
        // Total flux = 2π n R_e² Γ(2n) b^{−2n} I(0) = 1.
        let log_total =
            (2.0 * std::f64::consts::PI * p.n * p.r_eff * p.r_eff).ln() + ln_gamma(a) - a * b.ln();
        Self {
            frame: Frame::new(p.center, p.phi),
            q: p.q,
            inv_re2: 1.0 / (p.r_eff * p.r_eff),
            half_inv_n: 0.5 / p.n,
            b,
            i0: (-log_total).exp(),
            r2_negligible: (NEGLIGIBLE_EXPONENT / b)
                .powf(2.0 * p.n)
                .min(f32::MAX as f64) as f32,
        }
    }
}

impl LightProfile for Sersic {
    #[inline]
    fn unit_brightness(&self, x: f64, y: f64) -> f64 {
        let (xl, yl) = self.frame.to_local(x, y);
        let r2 = (self.q * xl * xl + yl * yl / self.q) * self.inv_re2;
        self.i0 * (-self.b * r2.powf(self.half_inv_n)).exp()
    }
    #[inline(always)]
    fn unit_brightness_lanes(&self, x: Lanes, y: Lanes) -> Lanes {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let r2 = (splat(self.q) * xl * xl + splat(1.0 / self.q) * yl * yl) * splat(self.inv_re2);
        let negligible = r2.simd_gt(Lanes::splat(self.r2_negligible));
        if negligible.all() {
            return Lanes::ZERO;
        }
        // (R/R_e)^{1/n} = exp(ln(R²/R_e²)/(2n)); R = 0 gives exp(−∞) = 0 and the peak I(0).
        let pw = exp(splat(self.half_inv_n) * r2.max(Lanes::splat(f32::MIN_POSITIVE)).ln());
        // Zero in every lane beyond the negligible radius, as in the CUDA kernel, whatever the
        // other lanes of its group: a pixel's value does not depend on how rays are grouped.
        negligible.select(Lanes::ZERO, splat(self.i0) * exp(-(splat(self.b) * pw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::test_util::integrate;

    #[test]
    fn b_n_solves_the_half_light_condition() {
        // n = 0.5: P(1, b) = 1 − e^{−b} = ½ gives b = ln 2 exactly.
        assert!((sersic_b(0.5) - std::f64::consts::LN_2).abs() < 1e-13);
        // n = 1: 1 − e^{−b}(1 + b) = ½ gives b = 1.678346990016661 (scipy.special.gammaincinv(2, 0.5)).
        assert!((sersic_b(1.0) - 1.678_346_990_016_661).abs() < 1e-12);
        // n = 4: scipy.special.gammaincinv(8, 0.5) = 7.669249442500804.
        assert!((sersic_b(4.0) - 7.669_249_442_500_804).abs() < 1e-11);
    }

    fn params(n: f64, q: f64) -> SersicParams {
        SersicParams {
            r_eff: 0.3,
            n,
            q,
            phi: 35.0,
            center: [0.2, -0.1],
            mag: None,
            flux: None,
        }
    }

    #[test]
    fn flux_is_one_and_half_inside_r_eff() {
        // Conservation: the unit-flux profile integrates to 1 (numerically, to 1e-4, over a box
        // that holds all but a negligible wing), for exponential, de Vaucouleurs and low n.
        for &(n, q, half) in &[(0.5, 0.6, 3.0), (1.0, 1.0, 6.0), (4.0, 0.7, 60.0)] {
            let p = Sersic::new(&params(n, q));
            crate::light::test_util::check_lanes(&p, &format!("sersic n = {n}"));
            let total = integrate(&p, [0.2, -0.1], half);
            assert!((total - 1.0).abs() < 2e-4, "n = {n}: total {total}");
        }
    }
}
