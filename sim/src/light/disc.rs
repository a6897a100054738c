//! Inclined exponential disc (`disc`) with optional logarithmic spiral arms.
//!
//! A thin disc of scale length h seen at inclination i: in the disc plane (x_d, y_d) =
//! (x', y'/cos i), I ∝ exp(−R_d/h) · [1 + A cos(m(θ_d − ln(R_d/h)/tan p − θ0))], with m arms
//! of pitch angle p and amplitude A ∈ [0, 1]. The arm term integrates to zero over θ_d, so the
//! total flux is that of the plain disc, 2π h² cos i · I(0).

use serde::{Deserialize, Serialize};

use super::{BandValues, LightProfile};
use crate::geometry::{check_finite, Frame};
use crate::limits::{angular_size, orientation, MAX_ARMS};
use crate::simd::{exp, splat, Lanes};

/// Largest inclination accepted, degrees (a thin disc seen edge-on has no area).
pub const MAX_INCLINATION: f64 = 85.0;

/// Parameters of a `disc` component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscParams {
    /// Exponential scale length h, arcsec.
    pub scale_length: f64,
    /// Inclination, degrees: 0 face-on, at most 85.
    #[serde(default)]
    pub inclination: f64,
    /// Position angle of the projected major axis, degrees counter-clockwise from +x.
    #[serde(default)]
    pub phi: f64,
    /// Centre (x, y), arcsec.
    #[serde(default)]
    pub center: [f64; 2],
    /// Number of spiral arms m (0: no arms).
    #[serde(default)]
    pub arms: u32,
    /// Pitch angle of the arms, degrees, in (0, 90).
    #[serde(default = "default_pitch")]
    pub pitch: f64,
    /// Fractional amplitude of the arm modulation, in [0, 1].
    #[serde(default = "default_amplitude")]
    pub arm_amplitude: f64,
    /// Phase of the arms θ0, degrees.
    #[serde(default)]
    pub arm_phase: f64,
    /// Total AB magnitude per band (or give `flux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mag: Option<BandValues>,
    /// Total flux per band, e⁻/s (or give `mag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flux: Option<BandValues>,
}

fn default_pitch() -> f64 {
    20.0
}

fn default_amplitude() -> f64 {
    0.5
}

impl DiscParams {
    /// Checks the shape fields; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        angular_size("scale_length", self.scale_length)?;
        if self.arms > MAX_ARMS {
            return Err((
                "arms",
                format!("{} is outside the allowed range [0, {MAX_ARMS}]", self.arms),
            ));
        }
        if !(0.0..=MAX_INCLINATION).contains(&self.inclination) {
            return Err((
                "inclination",
                format!(
                    "{} is outside the allowed range [0, {MAX_INCLINATION}] degrees",
                    crate::limits::show(self.inclination)
                ),
            ));
        }
        if !(self.pitch > 0.0 && self.pitch < 90.0) {
            return Err((
                "pitch",
                format!(
                    "{} is outside the allowed range (0, 90) degrees",
                    crate::limits::show(self.pitch)
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.arm_amplitude) {
            return Err((
                "arm_amplitude",
                format!(
                    "{} is outside the allowed range [0, 1]",
                    crate::limits::show(self.arm_amplitude)
                ),
            ));
        }
        orientation("phi", &[self.phi])?;
        orientation("arm_phase", &[self.arm_phase])?;
        check_finite("center", &self.center)
    }
}

/// A disc of unit flux, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Disc {
    frame: Frame,
    inv_h: f64,
    inv_cos_i: f64,
    arms: f64,
    inv_tan_pitch: f64,
    amplitude: f64,
    phase: f64,
    i0: f64,
}

impl Disc {
    /// This profile in the CUDA kernels' layout (`kernels/light.cu`), its fluxes at `flux` in
    /// the flux table.
    pub(crate) fn gpu(&self, flux: u32) -> crate::gpu_layout::GpuLight {
        let (x0, y0, cos_phi, sin_phi) = self.frame.gpu();
        crate::gpu_layout::GpuLight {
            kind: crate::gpu_layout::light_kind::DISC,
            flux,
            x0,
            y0,
            cos_phi,
            sin_phi,
            p: [
                self.inv_h as f32,
                self.inv_cos_i as f32,
                self.arms as f32,
                self.inv_tan_pitch as f32,
                self.amplitude as f32,
                self.phase as f32,
                self.i0 as f32,
                0.0,
            ],
        }
    }

    /// From validated parameters.
    pub fn new(p: &DiscParams) -> Self {
        let cos_i = p.inclination.to_radians().cos();
        Self {
            frame: Frame::new(p.center, p.phi),
            inv_h: 1.0 / p.scale_length,
            inv_cos_i: 1.0 / cos_i,
            arms: p.arms as f64,
            inv_tan_pitch: 1.0 / p.pitch.to_radians().tan(),
            amplitude: if p.arms == 0 { 0.0 } else { p.arm_amplitude },
            phase: p.arm_phase.to_radians(),
            i0: 1.0 / (2.0 * std::f64::consts::PI * p.scale_length * p.scale_length * cos_i),
        }
    }
}

impl LightProfile for Disc {
    #[inline]
    fn unit_brightness(&self, x: f64, y: f64) -> f64 {
        let (xl, yl) = self.frame.to_local(x, y);
        let yd = yl * self.inv_cos_i;
        let rd = xl.hypot(yd) * self.inv_h;
        let base = self.i0 * (-rd).exp();
        if self.amplitude == 0.0 || rd == 0.0 {
            return base;
        }
        let theta = yd.atan2(xl);
        let arm = (self.arms * (theta - rd.ln() * self.inv_tan_pitch - self.phase)).cos();
        base * (1.0 + self.amplitude * arm)
    }
    #[inline(always)]
    fn unit_brightness_lanes(&self, x: Lanes, y: Lanes) -> Lanes {
        let (xl, yl) = self.frame.to_local_lanes(x, y);
        let yd = yl * splat(self.inv_cos_i);
        let rd = (xl * xl + yd * yd).sqrt() * splat(self.inv_h);
        let base = splat(self.i0) * exp(-rd);
        if self.amplitude == 0.0 {
            return base;
        }
        let centre = rd.simd_eq(Lanes::ZERO);
        let theta = yd.atan2(xl);
        let lnr = centre.select(Lanes::ZERO, rd).ln();
        let arg = splat(self.arms) * (theta - lnr * splat(self.inv_tan_pitch) - splat(self.phase));
        let (_, cos) = arg.sin_cos();
        let arms = base * (Lanes::ONE + splat(self.amplitude) * cos);
        centre.select(base, arms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::light::test_util::integrate;

    fn params(inclination: f64, arms: u32) -> DiscParams {
        DiscParams {
            scale_length: 0.4,
            inclination,
            phi: 20.0,
            center: [0.0, 0.1],
            arms,
            pitch: 15.0,
            arm_amplitude: 0.8,
            arm_phase: 10.0,
            mag: None,
            flux: None,
        }
    }

    #[test]
    fn flux_is_one_with_and_without_arms() {
        // Conservation: the arm term averages to zero around each ring, so the total is 1.
        for &(inc, arms) in &[(0.0, 0), (60.0, 0), (30.0, 2), (50.0, 3)] {
            let d = Disc::new(&params(inc, arms));
            crate::light::test_util::check_lanes(&d, &format!("disc i = {inc}, m = {arms}"));
            let total = integrate(&d, [0.0, 0.1], 10.0);
            assert!((total - 1.0).abs() < 1e-3, "i = {inc}, m = {arms}: {total}");
        }
    }

    #[test]
    fn arms_follow_a_logarithmic_spiral() {
        // Along the arm crest θ = ln(R/h)/tan p + θ0 the modulation is at its maximum 1 + A.
        let p = params(0.0, 1);
        let d = Disc::new(&p);
        let plain = Disc::new(&DiscParams {
            arms: 0,
            ..p.clone()
        });
        for &r in &[0.2, 0.5, 1.3] {
            let t = (r / 0.4f64).ln() / 15f64.to_radians().tan()
                + 10f64.to_radians()
                + 20f64.to_radians();
            let (x, y) = (r * t.cos(), 0.1 + r * t.sin());
            let ratio = d.unit_brightness(x, y) / plain.unit_brightness(x, y);
            assert!((ratio - 1.8).abs() < 1e-9, "R = {r}: {ratio}");
        }
    }
}
