//! Helpers shared by the training tests.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// One system on an n×n grid of `scale` arcsec: a Gaussian galaxy, a 1" ring if `lens`, noise.
pub fn stamp(rng: &mut ChaCha8Rng, n: usize, scale: f64, lens: bool) -> Vec<f32> {
    let c = (n as f64 - 1.0) / 2.0;
    let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    (0..n * n)
        .map(|k| {
            let (x, y) = (((k % n) as f64 - c) * scale, ((k / n) as f64 - c) * scale);
            let r = x.hypot(y);
            let mut v = (-(r * r) / (2.0 * 0.3f64.powi(2))).exp();
            if lens {
                // an arc over most of the ring, brightest at a random angle
                let arc = 0.6 + 0.4 * (y.atan2(x) - phase).cos();
                v += arc * (-((r - 1.0) / 0.12).powi(2) / 2.0).exp();
            }
            (v + 0.1 * (rng.random::<f64>() - 0.5)) as f32
        })
        .collect()
}
