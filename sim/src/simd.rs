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

/// `values` in groups of [`LANES`], the last group padded with the last value (a row of
/// points whose padding's results are dropped).
pub fn in_lanes(values: &[f32]) -> Vec<Lanes> {
    values
        .chunks(LANES)
        .map(|c| Lanes::new(std::array::from_fn(|l| c[l.min(c.len() - 1)])))
        .collect()
}

/// `v` in every lane.
#[inline(always)]
pub fn splat(v: f64) -> Lanes {
    Lanes::splat(v as f32)
}

/// e^x lane by lane, bit for bit `wide`'s `f32x16::exp`: its arithmetic for arguments in
/// [−87, 88] (normal results), inlined into the caller, and `wide` itself for a group with any
/// lane beyond (underflow, overflow, infinities and NaN are its special cases). `wide`'s
/// function is too large for the compiler to inline, and the checks of those cases took about
/// half its operations; the Sérsic profile takes two a ray.
#[inline(always)]
#[allow(clippy::excessive_precision)] // `wide`'s literals as it writes them: the same floats.
pub fn exp(x: Lanes) -> Lanes {
    let in_range = x.simd_ge(Lanes::splat(-87.0)) & x.simd_le(Lanes::splat(88.0));
    if !in_range.all() {
        return x.exp();
    }
    // Cody–Waite reduction by ln 2 in two parts, the degree-5 polynomial of e^y − 1 − y over
    // y², and 2^r built in the exponent field: `wide`'s constants and operations in its order.
    let r = (x * Lanes::LOG2_E).round_ties_even();
    let y = r.mul_neg_add(Lanes::splat(0.693359375), x);
    let y = r.mul_neg_add(Lanes::splat(-2.12194440e-4), y);
    let c = |v: f32| Lanes::splat(v);
    let y2 = y * y;
    let y4 = y2 * y2;
    let z = c(1.0 / 120.0).mul_add(y, c(1.0 / 24.0)).mul_add(
        y2,
        c(1.0 / 5040.0)
            .mul_add(y, c(1.0 / 720.0))
            .mul_add(y4, c(1.0 / 6.0).mul_add(y, c(0.5))),
    );
    let z = z.mul_add(y2, y);
    let two_to_r = Lanes::from_bits((r + Lanes::splat(127.0 + 8_388_608.0)).to_bits() << 23);
    (z + Lanes::ONE) * two_to_r
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

    /// [`exp`] is `wide`'s exp bit for bit: every 61st single-precision bit pattern (70
    /// million, every sign and exponent), and every pattern near the range's ends.
    #[test]
    fn exp_is_wide_s_exp_bit_for_bit() {
        let check = |bits: &[u32; LANES]| {
            let x = Lanes::new(bits.map(f32::from_bits));
            let (got, want) = (exp(x).to_array(), x.exp().to_array());
            for ((g, w), b) in got.iter().zip(want).zip(bits) {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "exp({}) = {g}, wide's {w}",
                    f32::from_bits(*b)
                );
            }
        };
        let mut group = [0u32; LANES];
        for (i, bits) in (0..=u32::MAX).step_by(61).enumerate() {
            group[i % LANES] = bits;
            if i % LANES == LANES - 1 {
                check(&group);
            }
        }
        for end in [-87.0f32, 88.0, -103.63, 88.723] {
            for d in -4096i32..4096 {
                let b = (end.to_bits() as i32 + d) as u32;
                check(&[b; LANES]);
                // A group in range but for one lane.
                let mut mixed = [1.0f32.to_bits(); LANES];
                mixed[(d as usize) % LANES] = b;
                check(&mixed);
            }
        }
    }

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
