//! The distributions the population sampler draws from, each by inverting its cumulative
//! distribution, so that one uniform deviate gives one value and a system's draws depend only
//! on its random stream.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Gamma};

use crate::cosmology::Cosmology;

/// A uniform deviate in [lo, hi).
pub fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// A standard normal deviate (Box–Muller on two uniforms: reproducible across rand versions).
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A normal deviate of mean `mean` and deviation `sd`, redrawn until it lies in [lo, hi]
/// (at most 64 tries, then clamped).
pub fn truncated_normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
    for _ in 0..64 {
        let v = mean + sd * standard_normal(rng);
        if (lo..=hi).contains(&v) {
            return v;
        }
    }
    mean.clamp(lo, hi)
}

/// `median` × 10^(scatter·N(0,1)), clamped to [lo, hi].
pub fn log_normal(rng: &mut ChaCha8Rng, median: f64, scatter_dex: f64, lo: f64, hi: f64) -> f64 {
    (median * 10f64.powf(scatter_dex * standard_normal(rng))).clamp(lo, hi)
}

/// A Poisson count of mean `mean` (inversion of the cumulative sum; means up to a few tens).
pub fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let u: f64 = rng.random::<f64>();
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut k = 0u32;
    while u > cdf && k < 1000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

/// A magnitude from counts rising as dN/dm ∝ 10^(slope·m) between `lo` and `hi`.
pub fn power_law_magnitude(rng: &mut ChaCha8Rng, slope: f64, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random::<f64>();
    let a = 10f64.powf(slope * lo);
    let b = 10f64.powf(slope * hi);
    (a + u * (b - a)).log10() / slope
}

/// A value x from a Gamma(shape, 1) variable, restricted to [lo, hi], by inverting its CDF.
fn gamma_between(rng: &mut ChaCha8Rng, shape: f64, lo: f64, hi: f64) -> f64 {
    // Shape > 0 is checked when the population is validated.
    let g = Gamma::new(shape, 1.0).expect("validated shape > 0");
    let (flo, fhi) = (g.cdf(lo), g.cdf(hi));
    let u = flo + rng.random::<f64>() * (fhi - flo);
    g.inverse_cdf(u).clamp(lo, hi)
}

/// A velocity dispersion (km/s) from the Choi et al. (2007) function
/// φ(σ) ∝ (σ/σ*)^α exp[−(σ/σ*)^β] / σ, restricted to [lo, hi]: x = (σ/σ*)^β is Gamma(α/β, 1).
pub fn velocity_dispersion(
    rng: &mut ChaCha8Rng,
    alpha: f64,
    beta: f64,
    sigma_star: f64,
    lo: f64,
    hi: f64,
) -> f64 {
    let x = gamma_between(
        rng,
        alpha / beta,
        (lo / sigma_star).powf(beta),
        (hi / sigma_star).powf(beta),
    );
    sigma_star * x.powf(1.0 / beta)
}

/// A redshift from the Smail et al. (1994) form n(z) ∝ z^α exp[−(z/z0)^β], restricted to
/// [lo, hi]: t = (z/z0)^β is Gamma((α+1)/β, 1).
pub fn smail_redshift(
    rng: &mut ChaCha8Rng,
    alpha: f64,
    beta: f64,
    z0: f64,
    lo: f64,
    hi: f64,
) -> f64 {
    let t = gamma_between(
        rng,
        (alpha + 1.0) / beta,
        (lo / z0).powf(beta),
        (hi / z0).powf(beta),
    );
    z0 * t.powf(1.0 / beta)
}

/// The z0 of the Smail form whose median is `median`.
pub fn smail_z0(alpha: f64, beta: f64, median: f64) -> f64 {
    let g = Gamma::new((alpha + 1.0) / beta, 1.0).expect("validated shape > 0");
    median / g.inverse_cdf(0.5).powf(1.0 / beta)
}

/// Redshifts distributed as the comoving volume, dV_c/dz ∝ D_c(z)² / E(z), between two limits:
/// the cumulative distribution tabulated once and inverted by linear interpolation.
#[derive(Clone, Debug)]
pub struct ComovingVolume {
    z: Vec<f64>,
    cdf: Vec<f64>,
}

impl ComovingVolume {
    /// Table points: the CDF is smooth, 512 nodes interpolate it to better than 1e-5.
    const NODES: usize = 512;

    /// The distribution on [z_min, z_max] for `cosmo`.
    pub fn new(cosmo: &Cosmology, z_min: f64, z_max: f64) -> Self {
        let n = Self::NODES;
        let z: Vec<f64> = (0..n)
            .map(|k| z_min + (z_max - z_min) * k as f64 / (n - 1) as f64)
            .collect();
        let density: Vec<f64> = z
            .iter()
            .map(|&z| cosmo.comoving_distance(z).powi(2) / cosmo.efunc(z))
            .collect();
        let mut cdf = vec![0.0; n];
        for k in 1..n {
            cdf[k] = cdf[k - 1] + 0.5 * (density[k] + density[k - 1]) * (z[k] - z[k - 1]);
        }
        let total = cdf[n - 1];
        cdf.iter_mut().for_each(|c| *c /= total);
        Self { z, cdf }
    }

    /// One redshift.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        self.quantile(rng.random::<f64>())
    }

    /// The redshift below which a fraction `u` of the distribution lies.
    pub fn quantile(&self, u: f64) -> f64 {
        let k = self
            .cdf
            .partition_point(|&c| c < u)
            .clamp(1, self.z.len() - 1);
        let (c0, c1) = (self.cdf[k - 1], self.cdf[k]);
        let t = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.0 };
        self.z[k - 1] + t * (self.z[k] - self.z[k - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(11)
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn smail_median_is_the_configured_one() {
        // z0 from the median, then the sample median over the full range must match it.
        let z0 = smail_z0(2.0, 1.5, 1.5);
        // The closed form for α = 2, β = 1.5: median = 1.412 z0 (Smail et al. 1994).
        assert!((1.5 / z0 - 1.412).abs() < 2e-3, "{}", 1.5 / z0);
        let mut r = rng();
        let mut z: Vec<f64> = (0..20000)
            .map(|_| smail_redshift(&mut r, 2.0, 1.5, z0, 0.0, 50.0))
            .collect();
        z.sort_by(f64::total_cmp);
        assert!((z[10000] - 1.5).abs() < 0.03, "{}", z[10000]);
    }

    #[test]
    fn velocity_dispersions_follow_the_choi_function() {
        // The mean of σ over [200, 400] from the density by quadrature must equal the sample mean.
        let (a, b, s) = (2.32, 2.67, 161.0);
        let pdf = |x: f64| (x / s).powf(a) * (-(x / s).powf(b)).exp() / x;
        let (mut num, mut den) = (0.0, 0.0);
        for k in 0..20000 {
            let x = 200.0 + (k as f64 + 0.5) * 0.01;
            num += x * pdf(x);
            den += pdf(x);
        }
        let mut r = rng();
        let v: Vec<f64> = (0..20000)
            .map(|_| velocity_dispersion(&mut r, a, b, s, 200.0, 400.0))
            .collect();
        assert!(v.iter().all(|&x| (200.0..=400.0).contains(&x)));
        assert!(
            (mean(&v) - num / den).abs() < 0.6,
            "{} {}",
            mean(&v),
            num / den
        );
    }

    #[test]
    fn comoving_volume_quantiles_invert_the_cdf() {
        let c = Cosmology::default();
        let d = ComovingVolume::new(&c, 0.2, 1.0);
        assert!((d.quantile(0.0) - 0.2).abs() < 1e-9 && (d.quantile(1.0) - 1.0).abs() < 1e-9);
        // Median by direct quadrature of D_c²/E: ∫_0.2^m = ½ ∫_0.2^1.
        let f = |z: f64| c.comoving_distance(z).powi(2) / c.efunc(z);
        let integral = |lo: f64, hi: f64| {
            let n = 2000;
            let h = (hi - lo) / n as f64;
            (0..n)
                .map(|k| f(lo + (k as f64 + 0.5) * h) * h)
                .sum::<f64>()
        };
        let m = d.quantile(0.5);
        assert!((integral(0.2, m) / integral(0.2, 1.0) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn poisson_and_power_law_moments() {
        let mut r = rng();
        let k: Vec<f64> = (0..20000).map(|_| poisson(&mut r, 3.3) as f64).collect();
        assert!((mean(&k) - 3.3).abs() < 0.05, "{}", mean(&k));
        // dN/dm ∝ 10^(0.3 m) on [20, 25]: mean = 25 − 1/(0.3 ln10) + 5/(10^1.5 − 1) (analytic).
        let m: Vec<f64> = (0..20000)
            .map(|_| power_law_magnitude(&mut r, 0.3, 20.0, 25.0))
            .collect();
        let k10 = 0.3 * std::f64::consts::LN_10;
        let expect = 25.0 - 1.0 / k10 + 5.0 / (10f64.powf(1.5) - 1.0);
        assert!((mean(&m) - expect).abs() < 0.02, "{} {expect}", mean(&m));
        let n: Vec<f64> = (0..20000).map(|_| standard_normal(&mut r)).collect();
        let var = n.iter().map(|x| x * x).sum::<f64>() / n.len() as f64;
        assert!(mean(&n).abs() < 0.02 && (var - 1.0).abs() < 0.03);
    }
}
