//! Counter-based random numbers for the noise: Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011,
//! "Parallel random numbers: as easy as 1, 2, 3", SC '11), and the deviates the noise needs
//! drawn from it — a standard normal (Wichura's AS 241 quantile function) and a Poisson count
//! (inversion below a mean of 10, Hörmann's transformed rejection PTRS above).
//!
//! Philox maps a 128-bit counter and a 64-bit key to 128 random bits with nothing carried from
//! one call to the next, so pixel p of band b of system s is drawn from the counter (p, round,
//! s, b) under the run's seed without drawing any pixel before it: any thread, block or device
//! draws the same numbers. `kernels/noise.cu` holds the same arithmetic for the GPU (compiled
//! as C++ and compared with this in the `kernels_host` tests).
//!
//! Written here rather than taken from a crate: the counter layout and every deviate's
//! arithmetic must match the CUDA twin operation for operation, which no crate promises.

/// The multipliers and the key increments (Weyl sequence: the golden ratio and √3 − 1) of
/// Philox4x32, as Random123 defines them.
pub(super) const M0: u32 = 0xD251_1F53;
pub(super) const M1: u32 = 0xCD9E_8D57;
pub(super) const W0: u32 = 0x9E37_79B9;
pub(super) const W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds: the four words of `counter` under `key`.
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// A 32-bit word as a uniform deviate in (0, 1): (x + ½)/2³², never 0 or 1.
pub fn uniform(x: u32) -> f64 {
    (f64::from(x) + 0.5) * (1.0 / 4_294_967_296.0)
}

/// The words drawn for one pixel: round r of the counter (pixel, r, system, band) under the
/// seed, four words a round, in order.
#[derive(Clone, Debug)]
pub struct PixelStream {
    counter: [u32; 4],
    key: [u32; 2],
    words: [u32; 4],
    next: usize,
}

impl PixelStream {
    /// The stream of pixel `pixel` of band `band` of system `system` in a run of `seed`. The
    /// system's index takes the counter's last 56 bits less the band's 8: systems below 2⁵⁶ and
    /// bands below 256, far beyond any run.
    pub fn new(seed: u64, system: u64, band: u32, pixel: u32) -> Self {
        let (counter, key) = Self::counter_and_key(seed, system, band, pixel);
        Self::resume(counter, key, philox4x32(counter, key), 0)
    }

    /// The first round's counter and the key of a pixel's stream (see [`PixelStream::new`]).
    pub(super) fn counter_and_key(
        seed: u64,
        system: u64,
        band: u32,
        pixel: u32,
    ) -> ([u32; 4], [u32; 2]) {
        let counter = [
            pixel,
            0,
            system as u32,
            ((system >> 32) as u32 & 0x00FF_FFFF) | (band << 24),
        ];
        (counter, [seed as u32, (seed >> 32) as u32])
    }

    /// The stream whose first round under `counter` and `key` gave `words`, of which `used`
    /// are taken.
    pub(super) fn resume(counter: [u32; 4], key: [u32; 2], words: [u32; 4], used: usize) -> Self {
        Self {
            counter,
            key,
            words,
            next: used,
        }
    }

    /// The next 32-bit word.
    pub fn word(&mut self) -> u32 {
        if self.next == 4 {
            self.counter[1] = self.counter[1].wrapping_add(1);
            self.words = philox4x32(self.counter, self.key);
            self.next = 0;
        }
        self.next += 1;
        self.words[self.next - 1]
    }

    /// The next uniform deviate in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        uniform(self.word())
    }
}

/// AS 241's central rational (|p − ½| ≤ 0.425): numerator and denominator coefficients in r,
/// highest power first, written with the same digits as kernels/noise.cu, so that both parse
/// to the same doubles.
#[allow(clippy::excessive_precision)]
pub(super) const AS241_A: [f64; 8] = [
    2.5090809287301226727e3,
    3.3430575583588128105e4,
    6.7265770927008700853e4,
    4.5921953931549871457e4,
    1.3731693765509461125e4,
    1.9715909503065514427e3,
    1.3314166789178437745e2,
    3.3871328727963666080e0,
];
#[allow(clippy::excessive_precision)]
pub(super) const AS241_B: [f64; 8] = [
    5.2264952788528545610e3,
    2.8729085735721942674e4,
    3.9307895800092710610e4,
    2.1213794301586595867e4,
    5.3941960214247511077e3,
    6.8718700749205790830e2,
    4.2313330701600911252e1,
    1.0,
];

/// The standard normal quantile of `p` in [2⁻³³, 1 − 2⁻³³] (the range of [`uniform`]): Wichura's
/// AS 241 (Applied Statistics 37, 477, 1988), accurate to 1e-16, by its central and
/// intermediate rational approximations (its far-tail one starts beyond this range).
// The coefficients as Wichura printed them, though f64 holds fewer digits.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    const C: [f64; 8] = [
        7.74545014278341407640e-4,
        2.27238449892691845833e-2,
        2.41780725177450611770e-1,
        1.27045825245236838258e0,
        3.64784832476320460504e0,
        5.76949722146069140550e0,
        4.63033784615654529590e0,
        1.42343711074968357734e0,
    ];
    const D: [f64; 8] = [
        1.05075007164441684324e-9,
        5.47593808499534494600e-4,
        1.51986665636164571966e-2,
        1.48103976427480074590e-1,
        6.89767334985100004550e-1,
        1.67638483018380384940e0,
        2.05319162663775882187e0,
        1.0,
    ];
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(r, &AS241_A) / horner(r, &AS241_B);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt() - 1.6;
    let x = horner(r, &C) / horner(r, &D);
    if q < 0.0 {
        -x
    } else {
        x
    }
}

/// The polynomial with coefficients `c` (highest power first) at `x`, by Horner's rule.
fn horner(x: f64, c: &[f64]) -> f64 {
    c.iter().fold(0.0, |acc, &a| acc * x + a)
}

/// ln(2π)/2, as a literal (not computed, so that every compiler has the same double).
#[allow(clippy::excessive_precision)]
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// ln(k!) for k = 0 … 15, to double precision (mpmath at 40 digits, rounded).
const LOG_FACTORIALS: [f64; 16] = [
    0.0,
    0.0,
    std::f64::consts::LN_2,
    1.791_759_469_228_055,
    3.178_053_830_347_945_8,
    4.787_491_742_782_046,
    6.579_251_212_010_101,
    8.525_161_361_065_415,
    10.604_602_902_745_25,
    12.801_827_480_081_469,
    15.104_412_573_075_516,
    17.502_307_845_873_887,
    19.987_214_495_661_885,
    22.552_163_853_123_425,
    25.191_221_182_738_68,
    27.899_271_383_840_89,
];

/// ln(k!) for a whole k ≥ 0: a table below 16, else Stirling's series for ln Γ(k + 1) to its
/// x⁻¹⁹ term (error below 1e-17 relative there).
///
/// Below 2¹⁶ the series' values are taken from a table of them, made once (about 2 ms): PTRS's
/// exact test needs ln(k!) for a quarter of a stamp's pixels, with k near the pixels' means,
/// and the series cost it a logarithm and two divisions each time. The same doubles.
pub fn log_factorial(k: f64) -> f64 {
    if k < 16.0 {
        return LOG_FACTORIALS[k as usize];
    }
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    const TABULATED: usize = 1 << 16;
    if k < TABULATED as f64 {
        let table = TABLE.get_or_init(|| (0..TABULATED).map(|k| stirling(k as f64)).collect());
        return table[k as usize];
    }
    stirling(k)
}

/// [`log_factorial`] by Stirling's series, for k ≥ 16.
fn stirling(k: f64) -> f64 {
    // The series' coefficients B₂ₙ / (2n(2n − 1)), n = 1 … 10 (Bernoulli numbers).
    const C: [f64; 10] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
        43_867.0 / 244_188.0,
        -174_611.0 / 125_400.0,
    ];
    let x = k + 1.0;
    let x2 = 1.0 / (x * x);
    let mut series = C[9];
    for &c in C[..9].iter().rev() {
        series = series * x2 + c;
    }
    series / x + HALF_LN_2PI + (x - 0.5) * x.ln() - x
}

/// Below this mean a Poisson count is drawn by inversion, above by PTRS (valid from 10).
pub const PTRS_MIN_MEAN: f64 = 10.0;

/// A Poisson count of mean `mean` (≥ 0, finite) from `stream`: exact in distribution but for
/// the 2⁻³² resolution of the uniforms.
///
/// Below a mean of 10, inversion: the smallest k whose cumulative probability reaches one
/// uniform. From 10, the transformed rejection with squeeze of Hörmann (1993, "The transformed
/// rejection method for generating Poisson random variables", Insurance: Mathematics and
/// Economics 12, 39), two uniforms a try and about 1.1 tries.
pub fn poisson(mean: f64, stream: &mut PixelStream) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    if mean < PTRS_MIN_MEAN {
        let u = stream.uniform();
        let mut p = (-mean).exp();
        let (mut k, mut cumulative) = (0.0, p);
        // The cumulative sum reaches 1 − 1e-16 long before k = 200 for a mean below 10.
        while u > cumulative && k < 200.0 {
            k += 1.0;
            p *= mean / k;
            cumulative += p;
        }
        return k;
    }
    Ptrs::new(mean).draw(stream)
}

/// PTRS's constants for one mean (≥ 10).
pub(super) struct Ptrs {
    pub(super) mean: f64,
    pub(super) b: f64,
    pub(super) a: f64,
    pub(super) v_r: f64,
}

impl Ptrs {
    fn new(mean: f64) -> Self {
        let b = 0.931 + 2.53 * mean.sqrt();
        Self {
            mean,
            b,
            a: -0.059 + 0.02483 * b,
            v_r: 0.9277 - 3.6224 / (b - 2.0),
        }
    }

    /// Tries until one is accepted, two uniforms a try from `stream`.
    pub(super) fn draw(&self, stream: &mut PixelStream) -> f64 {
        loop {
            let u = stream.uniform() - 0.5;
            let v = stream.uniform();
            if let Some(k) = self.try_once(u, v) {
                return k;
            }
        }
    }

    /// The count of one try with the uniforms u − ½ and v, if it is accepted.
    pub(super) fn try_once(&self, u: f64, v: f64) -> Option<f64> {
        let Self { mean, b, a, v_r } = *self;
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + mean + 0.43).floor();
        if us >= 0.07 && v <= v_r {
            return Some(k);
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            return None;
        }
        // The exact test, reached by about a quarter of the tries: its logarithms only here,
        // ln(v) + ln(1/α) − ln(a/us² + b) taken as one.
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let lhs = (v * inv_alpha / (a / (us * us) + b)).ln();
        (lhs <= -mean + k * mean.ln() - log_factorial(k)).then_some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known-answer vectors for philox4x32-10 (kat_vectors), which randomgen's
    /// Philox(number=4, width=32) reproduces (sim/tests/fixtures/make-philox.py writes more).
    #[test]
    fn philox_gives_random123_s_known_answers() {
        assert_eq!(
            philox4x32([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    /// The quantile agrees with scipy 1.17.1's `special.ndtri` (Cephes: another algorithm) to
    /// 1e-15 relative (a few ulps) across its range, both sides of the switch at |p − ½| = 0.425.
    #[test]
    fn the_normal_quantile_matches_scipy() {
        for (p, want) in [
            (2.3e-10, -6.232176082280632),
            (1e-6, -4.753424308822899),
            (0.01, -2.3263478740408408),
            (0.0749, -1.4402382675279635),
            (0.075, -1.4395314709384563),
            (0.3, -0.5244005127080409),
            (0.5, 0.0),
            (0.7, 0.5244005127080407),
            (0.925, 1.4395314709384563),
            (0.99, 2.3263478740408408),
            (0.999999999, 5.997807019601637),
        ] {
            let got = normal_quantile(p);
            assert!(
                (got - want).abs() <= 1e-15 * want.abs(),
                "{p}: {got} vs {want}"
            );
        }
    }

    /// ln k! against statrs's ln Γ(k + 1) (Lanczos: another method) to 1e-13 relative, on
    /// both sides of the switch at 16.
    #[test]
    fn log_factorial_matches_ln_gamma() {
        for k in [
            0.0, 1.0, 2.0, 5.0, 15.0, 16.0, 17.0, 40.0, 1e3, 65535.0, 65536.0, 65537.0, 1e6, 1e9,
        ] {
            let want = statrs::function::gamma::ln_gamma(k + 1.0);
            let got = log_factorial(k);
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{k}: {got} vs {want}"
            );
        }
    }

    /// The table's values are the series' (bit for bit, as the CUDA kernel computes them), each
    /// at its own k: every k from 16 to past the table's end.
    #[test]
    fn tabulated_log_factorials_are_the_series() {
        for k in 16..70_000 {
            let k = k as f64;
            assert_eq!(log_factorial(k).to_bits(), stirling(k).to_bits(), "{k}");
        }
    }

    /// 32 random counters and keys against randomgen's Philox4x32-10
    /// (tests/fixtures/make-philox.py).
    #[test]
    fn philox_matches_randomgen() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/philox.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let words = |v: &serde_json::Value| -> Vec<u32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        };
        let cases = json["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 32);
        for c in cases {
            let (ctr, key) = (words(&c["counter"]), words(&c["key"]));
            let got = philox4x32([ctr[0], ctr[1], ctr[2], ctr[3]], [key[0], key[1]]);
            assert_eq!(got.to_vec(), words(&c["out"]), "{c}");
        }
    }

    /// Poisson counts follow the Poisson law, on both sides of the switch to PTRS: for means
    /// 0.3, 4, 9.9, 10, 35 and 1000, 200,000 counts each (distinct pixel streams), the χ² of
    /// the histogram against the pmf (statrs), over cells of ≥ 5 expected counts with the
    /// tails pooled, stays below the 0.9999 quantile of its χ² law (a wrong sampler — off by one
    /// in the inversion, a mean shifted by 1 % — exceeds it many times over); the mean and
    /// variance agree with the mean to 5 standard errors.
    #[test]
    fn poisson_counts_follow_the_poisson_law() {
        use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete, Poisson};
        let n = 200_000u32;
        for (i, &mean) in [0.3, 4.0, 9.9, 10.0, 35.0, 1000.0].iter().enumerate() {
            let counts: Vec<f64> = (0..n)
                .map(|p| poisson(mean, &mut PixelStream::new(7, i as u64, 0, p)))
                .collect();
            let m = counts.iter().sum::<f64>() / n as f64;
            let v = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / n as f64;
            let se = (mean / n as f64).sqrt();
            assert!((m - mean).abs() < 5.0 * se, "mean {mean}: {m}");
            assert!(
                (v - mean).abs() < 5.0 * mean * (2.0 / n as f64).sqrt() + 5.0 * se,
                "var {mean}: {v}"
            );
            let law = Poisson::new(mean).unwrap();
            let top = (mean + 12.0 * mean.sqrt() + 20.0) as u64;
            let mut observed = vec![0f64; top as usize + 1];
            for &c in &counts {
                observed[(c as u64).min(top) as usize] += 1.0;
            }
            // Expected counts, the last cell the whole upper tail; adjacent cells pooled from
            // the left until each expects ≥ 5, a remainder joining the last.
            let mut expected: Vec<f64> = (0..top).map(|k| n as f64 * law.pmf(k)).collect();
            expected.push(n as f64 - expected.iter().sum::<f64>());
            let mut cells: Vec<(f64, f64)> = Vec::new();
            let (mut o_acc, mut e_acc) = (0.0, 0.0);
            for (o, e) in observed.iter().zip(&expected) {
                o_acc += o;
                e_acc += e;
                if e_acc >= 5.0 {
                    cells.push((o_acc, e_acc));
                    (o_acc, e_acc) = (0.0, 0.0);
                }
            }
            let last = cells.last_mut().unwrap();
            last.0 += o_acc;
            last.1 += e_acc;
            let chi2: f64 = cells.iter().map(|(o, e)| (o - e).powi(2) / e).sum();
            let cells = cells.len() as u32;
            let limit = ChiSquared::new(f64::from(cells - 1))
                .unwrap()
                .inverse_cdf(0.9999);
            assert!(
                chi2 < limit,
                "mean {mean}: χ² {chi2} over {cells} cells (limit {limit})"
            );
        }
    }
}
