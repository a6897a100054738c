//! Sixteen lanes of single precision for the ray shooter's hot loop (`wide::f32x16`: one
//! AVX-512 register where the build enables it, else two AVX halves, each operation on both).
//!
//! Sixteen lanes rather than eight because the profiles are chains of dependent operations
//! (a rotation, then a logarithm, an exponential, another exponential …): two independent
//! eight-lane halves issued together keep the vector units busy while one waits, and the
//! constants are loaded once for both. `cargo bench --bench render` on one core of the
//! development machine's AVX2 build: the VIS render 2.25 → 1.71 ms a system (same floats).
//!
//! The scalar f64 functions of `mass` and `light` are the reference; every `…_lanes` twin is
//! tested against them. f32 keeps deflections to ~1e-6 relative, far below a pixel.

pub use wide::f32x16 as Lanes;
/// The number of lanes in a [`Lanes`].
pub const LANES: usize = 16;

/// `v` in every lane.
#[inline(always)]
pub fn splat(v: f64) -> Lanes {
    Lanes::splat(v as f32)
}

/// atanh(z)/z for |z| < 1, continuous through z = 0 (series below |z| = 0.1: 1 + z²/3 + z⁴/5 + …).
#[inline(always)]
pub fn atanh_over(z: Lanes) -> Lanes {
    let z2 = z * z;
    let series = Lanes::ONE
        + z2 * (splat(1.0 / 3.0)
            + z2 * (splat(0.2) + z2 * (splat(1.0 / 7.0) + z2 * splat(1.0 / 9.0))));
    let small = z2.simd_lt(splat(0.01));
    if small.all() {
        return series;
    }
    // atanh z = ½ ln(1 + 2z/(1 − z)), on |z| (atanh(z)/z is even), where 1 + 2z/(1 − z) ≥ 1
    // keeps its relative precision.
    let safe = small.select(Lanes::splat(0.5), z.abs());
    let direct = (safe + safe) / (Lanes::ONE - safe);
    let direct = Lanes::splat(0.5) * direct.ln_1p() / safe;
    small.select(series, direct)
}

/// atan(v)/v, continuous through v = 0 (series below |v| = 0.1: 1 − v²/3 + v⁴/5 − …).
#[inline(always)]
pub fn atan_over(v: Lanes) -> Lanes {
    let v2 = v * v;
    let series = Lanes::ONE
        - v2 * (splat(1.0 / 3.0)
            - v2 * (splat(0.2) - v2 * (splat(1.0 / 7.0) - v2 * splat(1.0 / 9.0))));
    let small = v2.simd_lt(splat(0.01));
    if small.all() {
        return series;
    }
    let safe = small.select(Lanes::ONE, v);
    small.select(series, safe.atan() / safe)
}

/// The lanes as an array.
#[inline(always)]
pub fn to_lanes_array(v: Lanes) -> [f32; crate::simd::LANES] {
    v.to_array()
}

/// Evaluates a scalar f64 function lane by lane: the fallback for profiles with no `…_lanes` twin.
#[inline]
pub fn per_lane(x: Lanes, y: Lanes, f: impl Fn(f64, f64) -> f64) -> Lanes {
    let (xa, ya) = (x.to_array(), y.to_array());
    Lanes::new(std::array::from_fn(|k| {
        f(xa[k] as f64, ya[k] as f64) as f32
    }))
}

/// Evaluates a scalar f64 vector function lane by lane.
#[inline]
pub fn per_lane2(x: Lanes, y: Lanes, f: impl Fn(f64, f64) -> (f64, f64)) -> (Lanes, Lanes) {
    let (xa, ya) = (x.to_array(), y.to_array());
    let mut a = [0f32; crate::simd::LANES];
    let mut b = [0f32; crate::simd::LANES];
    for k in 0..crate::simd::LANES {
        let (u, v) = f(xa[k] as f64, ya[k] as f64);
        a[k] = u as f32;
        b[k] = v as f32;
    }
    (Lanes::new(a), Lanes::new(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_and_direct_forms_agree_with_libm() {
        for k in 0..200 {
            // Compare at the single-precision argument, where atanh's slope near |z| = 1 would
            // otherwise count the rounding of z itself.
            let z = (-0.99 + 0.00995 * k as f64) as f32 as f64;
            let want = if z == 0.0 { 1.0 } else { z.atanh() / z };
            let got = to_lanes_array(atanh_over(splat(z)))[0] as f64;
            assert!(
                (got - want).abs() < 3e-7 * want.abs(),
                "atanh({z})/z: {got} vs {want}"
            );
            let v = (0.05 * k as f64) as f32 as f64;
            let want = if v == 0.0 { 1.0 } else { v.atan() / v };
            let got = to_lanes_array(atan_over(splat(v)))[0] as f64;
            assert!(
                (got - want).abs() < 3e-7 * want.abs(),
                "atan({v})/v: {got} vs {want}"
            );
        }
    }
}
