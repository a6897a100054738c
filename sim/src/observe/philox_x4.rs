//! The noise's deviates four pixels at a time: what [`super::philox`] draws pixel by pixel, the
//! same doubles, with its branch-free arithmetic in four lanes.
//!
//! A pixel's deviates are chains of dependent operations (Philox's ten rounds, AS 241's two
//! Horner series, PTRS's constants and first try), each waiting for the one before; four pixels
//! in the lanes of one AVX register run four chains at once. Every lane performs the scalar
//! code's IEEE operations in its order, with no fused multiply-add, so each rounds to the same
//! double. What branches or needs a logarithm (AS 241's tails, PTRS's exact test and later
//! tries, inversion below a mean of 10) goes on lane by lane in the scalar code, from a
//! [`PixelStream`] resumed where the lanes left it. The tests compare the two bit for bit.

use wide::f64x4 as F4;

use super::philox::{
    normal_quantile, poisson, uniform, PixelStream, Ptrs, AS241_A, AS241_B, PTRS_MIN_MEAN,
};

/// `v` in every lane.
#[inline(always)]
fn splat(v: f64) -> F4 {
    F4::splat(v)
}

/// The first round of the streams of four consecutive pixels of one image.
pub struct Quad {
    /// Lane l's first counter (pixel `first + l`) and the key.
    counters: [[u32; 4]; 4],
    key: [u32; 2],
    /// words[w][l]: word w of lane l's first round.
    words: [[u32; 4]; 4],
}

impl Quad {
    /// The streams of pixels `first` … `first + 3` of band `band` of system `system` in a run
    /// of `seed`, as [`PixelStream::new`] makes each.
    #[inline]
    pub fn new(seed: u64, system: u64, band: u32, first: u32) -> Self {
        let mut key = [0; 2];
        let counters = std::array::from_fn(|l| {
            let (c, k) = PixelStream::counter_and_key(seed, system, band, first + l as u32);
            key = k;
            c
        });
        Self {
            counters,
            key,
            words: philox4x32_x4(counters, key),
        }
    }

    /// Word `w` (< 4) of every lane as a uniform deviate, as [`uniform`] maps it.
    #[inline(always)]
    fn uniform(&self, w: usize) -> F4 {
        F4::from(self.words[w].map(uniform))
    }

    /// Lane `l`'s stream with its first `used` words taken.
    fn stream(&self, l: usize, used: usize) -> PixelStream {
        let words = std::array::from_fn(|w| self.words[w][l]);
        PixelStream::resume(self.counters[l], self.key, words, used)
    }
}

/// [`super::philox::philox4x32`] of four counters under one key, lane by lane in one pass
/// (four independent chains of products, which the compiler puts in vector lanes).
#[inline(always)]
fn philox4x32_x4(counters: [[u32; 4]; 4], key: [u32; 2]) -> [[u32; 4]; 4] {
    use super::philox::{M0, M1, W0, W1};
    // c[w][l]: word w of lane l.
    let mut c: [[u32; 4]; 4] = std::array::from_fn(|w| counters.map(|x| x[w]));
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = c[0].map(|x| u64::from(M0) * u64::from(x));
        let p1 = c[2].map(|x| u64::from(M1) * u64::from(x));
        c = [
            std::array::from_fn(|l| (p1[l] >> 32) as u32 ^ c[1][l] ^ k[0]),
            p1.map(|p| p as u32),
            std::array::from_fn(|l| (p0[l] >> 32) as u32 ^ c[3][l] ^ k[1]),
            p0.map(|p| p as u32),
        ];
    }
    c
}

/// The polynomial with coefficients `c` (highest power first) at `x`, by Horner's rule from
/// 0, as `philox::horner` (a product, then a sum: no fused multiply-add).
#[inline(always)]
fn horner(x: F4, c: &[f64; 8]) -> F4 {
    c.iter().fold(F4::ZERO, |acc, &a| acc * x + splat(a))
}

/// [`normal_quantile`] of the lanes' first words' uniforms: the central rational in four
/// lanes, a lane in a tail (|p − ½| > 0.425) by the scalar function.
#[inline]
pub fn read_normals_x4(quad: &Quad) -> [f64; 4] {
    let p = quad.uniform(0);
    let q = p - splat(0.5);
    let r = splat(0.180625) - q * q;
    let central = (q * horner(r, &AS241_A) / horner(r, &AS241_B)).to_array();
    let (q, p) = (q.to_array(), p.to_array());
    std::array::from_fn(|l| match q[l].abs() <= 0.425 {
        true => central[l],
        false => normal_quantile(p[l]),
    })
}

/// [`poisson`] counts of four means, lane l's drawn from its stream after `used` words (1 or
/// 0): the same counts. Where every mean takes PTRS, its constants and the first try (words
/// `used` and `used + 1`) run in four lanes; a lane whose first try is not accepted at once
/// goes on by the scalar code from that try.
#[inline]
pub fn poisson_x4(means: [f64; 4], quad: &Quad, used: usize) -> [f64; 4] {
    debug_assert!(used <= 1);
    // A NaN mean goes to the scalar code too.
    if means.iter().any(|&m| m.is_nan() || m < PTRS_MIN_MEAN) {
        return std::array::from_fn(|l| poisson(means[l], &mut quad.stream(l, used)));
    }
    let mean = F4::from(means);
    // Ptrs::new, lane by lane.
    let b = splat(0.931) + splat(2.53) * mean.sqrt();
    let a = splat(-0.059) + splat(0.02483) * b;
    let v_r = splat(0.9277) - splat(3.6224) / (b - splat(2.0));
    // The first try's two uniforms, as `Ptrs::draw` takes them, and its quick acceptance
    // (`Ptrs::try_once`).
    let (u, v) = (quad.uniform(used) - splat(0.5), quad.uniform(used + 1));
    let us = splat(0.5) - u.abs();
    let k = ((splat(2.0) * a / us + b) * u + mean + splat(0.43)).floor();
    let accepted = (us.simd_ge(splat(0.07)) & v.simd_le(v_r)).to_bitmask();
    if accepted == 0b1111 {
        return k.to_array();
    }
    let [k, b, a, v_r, u, v] = [k, b, a, v_r, u, v].map(F4::to_array);
    std::array::from_fn(|l| {
        if accepted & (1 << l) != 0 {
            return k[l];
        }
        let ptrs = Ptrs {
            mean: means[l],
            b: b[l],
            a: a[l],
            v_r: v_r[l],
        };
        ptrs.try_once(u[l], v[l])
            .unwrap_or_else(|| ptrs.draw(&mut quad.stream(l, used + 2)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four lanes' first words are the four pixels' streams' (Random123's words, which
    /// `philox4x32` is tested to give), and a lane's resumed stream goes on as the pixel's.
    #[test]
    fn a_quad_holds_its_four_pixels_streams() {
        for (seed, system, band, first) in [(0, 0, 0, 0), (u64::MAX, 1 << 40, 7, 99_996)] {
            let quad = Quad::new(seed, system, band, first);
            for l in 0..4 {
                let mut one = PixelStream::new(seed, system, band, first + l as u32);
                let mut resumed = quad.stream(l, 0);
                for _ in 0..11 {
                    assert_eq!(resumed.word(), one.word());
                }
            }
        }
    }

    /// Every lane equals the scalar function bit for bit: uniforms across (0, 1), both tails
    /// and the switch at |p − ½| = 0.425 among them (40,000 pixels).
    #[test]
    fn four_lane_normal_quantiles_are_the_scalar_ones() {
        let mut tails = 0;
        for first in (0..40_000).step_by(4) {
            let quad = Quad::new(11, 3, 1, first);
            let got = read_normals_x4(&quad);
            for (l, z) in got.iter().enumerate() {
                let want = normal_quantile(quad.stream(l, 0).uniform());
                assert_eq!(z.to_bits(), want.to_bits());
                tails += usize::from(want.abs() > 1.44);
            }
        }
        assert!(tails > 5000, "{tails} deviates in the tails");
    }

    /// Every lane's count and the words its stream has left equal the scalar draw's, for
    /// means on both sides of PTRS's 10 (mixed in one call too), zero, tiny and huge means.
    #[test]
    fn four_lane_poisson_counts_are_the_scalar_ones() {
        let means = [
            [10.0, 11.5, 250.0, 1e6],
            [9.99, 40.0, 0.0, 500.0],
            [1e12, 12.0, 13.0, 14.0],
            [30.0, 30.0, 30.0, 1e-300],
            [3.5e3, 3.5e3, 3.5e3, 3.5e3],
        ];
        for (system, m) in means.iter().enumerate() {
            for used in [0, 1] {
                for first in (0..20_000).step_by(4) {
                    let quad = Quad::new(5, system as u64, 2, first);
                    let got = poisson_x4(*m, &quad, used);
                    for l in 0..4 {
                        let mut one = quad.stream(l, used);
                        let want = poisson(m[l], &mut one);
                        assert_eq!(got[l].to_bits(), want.to_bits(), "mean {}", m[l]);
                    }
                }
            }
        }
    }
}
