//! The physical ranges of the values a spec, a survey or a population gives (issue #19).
//!
//! Every value a user writes is checked against a range before anything is computed, so that no
//! accepted input can overflow single-precision pixels, produce NaN in a profile or stall a
//! computation. The ranges are wide enough for every lens an imaging survey finds, from galaxy
//! scale to cluster scale, and say so beside each bound. This module imports nothing of the
//! pipeline: every stage may use it.

/// A failed check: (field name, what is wrong with the allowed range).
pub type Check = Result<(), (&'static str, String)>;

/// Smallest angular size (θ_E, r_eff, scale lengths, knot σ, r_s), arcsec: 0.1 mas, far below
/// any survey's pixel. Smaller sizes overflow the profiles' 1/size² terms.
pub const MIN_ANGLE: f64 = 1e-4;

/// Largest angular size (θ_E, r_eff, scale lengths, knot σ and offsets), arcsec, and the
/// farthest a component's centre may lie beyond the edge of the survey's largest field. The
/// largest Einstein radii known are about 50" (cluster lenses); 100" spans them. A component
/// centred farther out adds nothing to the stamps: the value is almost surely in other units.
pub const MAX_ANGLE: f64 = 100.0;

/// Largest NFW scale radius r_s, arcsec: a massive cluster's r_s (≈ 300 kpc) seen at z = 0.05.
pub const MAX_SCALE_RADIUS: f64 = 1000.0;

/// Brightest total magnitude of one light component, AB. Lens galaxies of imaging surveys are
/// fainter than 15; 10 leaves room for bright neighbours while their pixels stay well inside
/// single precision with noise.
pub const MIN_MAG: f64 = 10.0;

/// Faintest total magnitude, AB: beyond 50 a component gives less than 1e-9 e⁻/s in any survey
/// here (catalogues' 99 means "not measured": write `flux = 0` for a component absent from a
/// band).
pub const MAX_MAG: f64 = 50.0;

/// Thinnest axis ratio q = b/a: 1:100, thinner than any edge-on galaxy disc (q ≳ 0.1).
pub const MIN_Q: f64 = 0.01;

/// Largest magnitude of an orientation angle (position angle, arm phase), degrees.
pub const MAX_DEGREES: f64 = 360.0;

/// Most spiral arms of a disc: observed spirals have 1–4 (Hart et al. 2016, MNRAS 461, 3663).
pub const MAX_ARMS: u32 = 16;

/// NFW virial mass M200, M☉: from a dwarf galaxy's halo to above the most massive cluster's
/// (≈ 3 × 10¹⁵ M☉).
pub const M200_RANGE: (f64, f64) = (1e6, 1e17);

/// NFW concentration c = r200/r_s: simulations give 2–20 (Duffy et al. 2008); the range is wide.
pub const CONCENTRATION_RANGE: (f64, f64) = (0.1, 100.0);

/// Hubble constant, km/s/Mpc: every measurement lies in 60–80.
pub const H0_RANGE: (f64, f64) = (20.0, 200.0);

/// A value as a message shows it: plainly between 1e-4 and 1e7, else in exponent form (so that
/// 1e300 does not print as 301 digits).
pub fn show(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e7).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// `v` in [lo, hi] (finite), with `unit` in the message ("" for none).
pub fn in_range(name: &'static str, v: f64, lo: f64, hi: f64, unit: &str) -> Check {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        Err((
            name,
            format!(
                "{} is outside the allowed range [{}, {}]{unit}",
                show(v),
                show(lo),
                show(hi)
            ),
        ))
    }
}

/// Longest name of a survey, band or population, characters.
pub const MAX_NAME: usize = 32;

/// A survey's, band's or population's name: 1 to [`MAX_NAME`] of the characters A–Z, a–z,
/// 0–9, `_`, `-`, `+` and `.`, not starting with `.` or `-`. Names become HDF5 groups,
/// catalogue columns (`mag_eff_<band>`), challenge folders (`EUC_<band>`) and default file
/// names, where a `/`, a space or an empty name would break them.
pub fn name(field: &'static str, value: &str) -> Check {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-+.".contains(c);
    let fine = (1..=MAX_NAME).contains(&value.chars().count())
        && value.chars().all(allowed)
        && !value.starts_with(['.', '-']);
    match fine {
        true => Ok(()),
        false => Err((
            field,
            format!(
                "`{value}` is not a name: 1 to {MAX_NAME} of A–Z, a–z, 0–9, `_`, `-`, `+` and \
                 `.`, not starting with `.` or `-`"
            ),
        )),
    }
}

/// An angular size in [[`MIN_ANGLE`], [`MAX_ANGLE`]] arcsec.
pub fn angular_size(name: &'static str, v: f64) -> Check {
    in_range(name, v, MIN_ANGLE, MAX_ANGLE, "arcsec")
}

/// An axis ratio in [[`MIN_Q`], 1].
pub fn axis_ratio(name: &'static str, q: f64) -> Check {
    in_range(name, q, MIN_Q, 1.0, "")
}

/// Orientation angles, each in [−[`MAX_DEGREES`], [`MAX_DEGREES`]] degrees.
pub fn orientation(name: &'static str, angles: &[f64]) -> Check {
    angles
        .iter()
        .try_for_each(|&a| in_range(name, a, -MAX_DEGREES, MAX_DEGREES, "degrees"))
}

/// An offset (x, y) whose coordinates are finite and at most `max` arcsec from zero.
pub fn offset(name: &'static str, xy: [f64; 2], max: f64) -> Check {
    if xy.iter().all(|v| v.is_finite() && v.abs() <= max) {
        Ok(())
    } else {
        Err((
            name,
            format!(
                "[{}, {}] lies outside the allowed range: each coordinate within ±{max} arcsec",
                show(xy[0]),
                show(xy[1])
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_closed_and_refuse_non_finite_values() {
        assert!(in_range("x", 1.0, 1.0, 2.0, "").is_ok());
        assert!(in_range("x", 2.0, 1.0, 2.0, "").is_ok());
        for bad in [0.999, 2.001, f64::NAN, f64::INFINITY, -f64::INFINITY] {
            let (field, reason) = in_range("x", bad, 1.0, 2.0, "s").unwrap_err();
            assert_eq!(field, "x");
            assert!(reason.contains("[1, 2] s"), "{reason}");
        }
        assert!(offset("center", [MAX_ANGLE, -MAX_ANGLE], MAX_ANGLE).is_ok());
        assert!(offset("center", [0.0, f64::NAN], MAX_ANGLE).is_err());
        assert!(orientation("phi", &[30.0, -360.0]).is_ok());
        assert!(orientation("phi", &[30.0, 1e300]).is_err());
        assert_eq!(show(1e300), "1e300");
        assert_eq!(show(2.5e-7), "2.5e-7");
        assert_eq!(show(0.3), "0.3");
    }
}
