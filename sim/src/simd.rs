//! Eight lanes of single precision for the ray shooter's hot loop (`wide::f32x8`, which uses
//! AVX where the build enables it and two SSE halves otherwise).
//!
//! The scalar f64 functions of `mass` and `light` are the reference; every `…_x8` twin is
//! tested against them. f32 keeps deflections to ~1e-6 relative, far below a pixel.

pub use wide::f32x8 as F8;

/// `v` in every lane.
#[inline(always)]
pub fn splat(v: f64) -> F8 {
    F8::splat(v as f32)
}

/// atanh(z)/z for |z| < 1, continuous through z = 0 (series below |z| = 0.1: 1 + z²/3 + z⁴/5 + …).
#[inline(always)]
pub fn atanh_over(z: F8) -> F8 {
    let z2 = z * z;
    let series = F8::ONE
        + z2 * (splat(1.0 / 3.0)
            + z2 * (splat(0.2) + z2 * (splat(1.0 / 7.0) + z2 * splat(1.0 / 9.0))));
    let small = z2.simd_lt(splat(0.01));
    if small.all() {
        return series;
    }
    // atanh z = ½ ln(1 + 2z/(1 − z)), on |z| (atanh(z)/z is even), where 1 + 2z/(1 − z) ≥ 1
    // keeps its relative precision.
    let safe = small.select(F8::splat(0.5), z.abs());
    let direct = (safe + safe) / (F8::ONE - safe);
    let direct = F8::splat(0.5) * direct.ln_1p() / safe;
    small.select(series, direct)
}

/// atan(v)/v, continuous through v = 0 (series below |v| = 0.1: 1 − v²/3 + v⁴/5 − …).
#[inline(always)]
pub fn atan_over(v: F8) -> F8 {
    let v2 = v * v;
    let series = F8::ONE
        - v2 * (splat(1.0 / 3.0)
            - v2 * (splat(0.2) - v2 * (splat(1.0 / 7.0) - v2 * splat(1.0 / 9.0))));
    let small = v2.simd_lt(splat(0.01));
    if small.all() {
        return series;
    }
    let safe = small.select(F8::ONE, v);
    small.select(series, safe.atan() / safe)
}

/// The lanes as an array.
#[inline(always)]
pub fn lanes(v: F8) -> [f32; 8] {
    v.to_array()
}

/// Evaluates a scalar f64 function lane by lane: the fallback for profiles with no `…_x8` twin.
#[inline]
pub fn per_lane(x: F8, y: F8, f: impl Fn(f64, f64) -> f64) -> F8 {
    let (xa, ya) = (x.to_array(), y.to_array());
    F8::new(std::array::from_fn(|k| {
        f(xa[k] as f64, ya[k] as f64) as f32
    }))
}

/// Evaluates a scalar f64 vector function lane by lane.
#[inline]
pub fn per_lane2(x: F8, y: F8, f: impl Fn(f64, f64) -> (f64, f64)) -> (F8, F8) {
    let (xa, ya) = (x.to_array(), y.to_array());
    let mut a = [0f32; 8];
    let mut b = [0f32; 8];
    for k in 0..8 {
        let (u, v) = f(xa[k] as f64, ya[k] as f64);
        a[k] = u as f32;
        b[k] = v as f32;
    }
    (F8::new(a), F8::new(b))
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
            let got = lanes(atanh_over(splat(z)))[0] as f64;
            assert!(
                (got - want).abs() < 3e-7 * want.abs(),
                "atanh({z})/z: {got} vs {want}"
            );
            let v = (0.05 * k as f64) as f32 as f64;
            let want = if v == 0.0 { 1.0 } else { v.atan() / v };
            let got = lanes(atan_over(splat(v)))[0] as f64;
            assert!(
                (got - want).abs() < 3e-7 * want.abs(),
                "atan({v})/v: {got} vs {want}"
            );
        }
    }
}
