//! BatchNorm with an optional SiLU, fused, on the CPU: the channel moments, the forward pass
//! and the training-mode backward pass of NCHW float32 tensors.
//!
//! With x̂ = (x − μ)/√(σ² + ε), z = γ·x̂ + β and y = act(z), the backward pass of batch
//! normalisation in training (μ and σ² the batch's own, so that the gradient flows through them)
//! is, per channel over its M = N·H·W values (Ioffe & Szegedy 2015, §3):
//!   dz = dy · act′(z),  dβ = Σ dz,  dγ = Σ dz·x̂,  dx = γ/√(σ² + ε) · (dz − dβ/M − x̂·dγ/M).
//! Sums are taken per image plane (eight f32 lanes, flushed into f64 every 2048 values) in
//! parallel, and then per channel over the batch in order, so that the result does not depend on
//! the thread count. The per-plane loops are plain arithmetic that the compiler vectorises, built
//! for AVX-512 beside the x86-64-v3 (AVX2, FMA) build and chosen at run time (`multiversion`);
//! SiLU's exponential is therefore [`exp`] below, a polynomial that vectorises, rather than
//! libm's (or `wide`'s, whose lane width is fixed when the crate is compiled).

use rayon::prelude::*;

use super::pieces::par_pieces;
use super::Activation;

/// e^x in single precision, vectorisable: x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by the
/// degree-6 polynomial of Cephes' `expf` (S. L. Moshier, public domain), 2^k by building the
/// float's exponent. Relative error below 2e-7 over [−87, 88]; x is clamped to that range (SiLU
/// and σ only need it there: beyond it σ is 0 or 1 to f32 precision).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = x - k * 0.693_359_4 + k * 2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^k from k's bits: k + 1.5·2²³ holds the integer k in its low mantissa bits (a float-to-int
    // conversion, saturating in Rust, would not vectorise).
    let biased = (k + 12_582_912.0).to_bits().wrapping_sub(0x4B40_0000 - 127);
    e * f32::from_bits(biased << 23)
}

/// σ(z).
#[inline(always)]
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

/// act(z).
#[inline(always)]
fn act_value(z: f32, act: Activation) -> f32 {
    match act {
        Activation::Identity => z,
        Activation::Silu => z * sigmoid(z),
    }
}

/// act′(z): 1, or σ(z)·(1 + z·(1 − σ(z))).
#[inline(always)]
fn act_grad(z: f32, act: Activation) -> f32 {
    match act {
        Activation::Identity => 1.0,
        Activation::Silu => {
            let s = sigmoid(z);
            s * (1.0 + z * (1.0 - s))
        }
    }
}

/// Σ f(v) over a plane: eight f32 lanes, flushed into f64 every 2048 values, in a fixed order.
#[inline(always)]
fn plane_sum(v: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut total = 0f64;
    for block in v.chunks(2048) {
        let mut lanes = [0f32; 8];
        let whole = block.len() / 8 * 8;
        for c in block[..whole].chunks_exact(8) {
            for l in 0..8 {
                lanes[l] += f(c[l]);
            }
        }
        for (l, &x) in block[whole..].iter().enumerate() {
            lanes[l] += f(x);
        }
        total += lanes.iter().map(|&x| x as f64).sum::<f64>();
    }
    total
}

#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn sum_plane(v: &[f32]) -> f64 {
    plane_sum(v, |x| x)
}

#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn squared_deviation_plane(v: &[f32], mean: f32) -> f64 {
    plane_sum(v, |x| (x - mean) * (x - mean))
}

#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn forward_plane(v: &[f32], out: &mut [f32], scale: f32, shift: f32, act: Activation) {
    match act {
        Activation::Identity => {
            for (o, &x) in out.iter_mut().zip(v) {
                *o = x * scale + shift;
            }
        }
        Activation::Silu => {
            for (o, &x) in out.iter_mut().zip(v) {
                *o = act_value(x * scale + shift, Activation::Silu);
            }
        }
    }
}

/// dz = dy·act′(z) into `dz`, and (Σ dz, Σ dz·x̂) over the plane.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn backward_plane_sums(
    v: &[f32],
    g: &[f32],
    dz: &mut [f32],
    mean: f32,
    inv: f32,
    gamma: f32,
    beta: f32,
    act: Activation,
) -> (f64, f64) {
    match act {
        Activation::Identity => dz.copy_from_slice(g),
        Activation::Silu => {
            for ((d, &x), &gy) in dz.iter_mut().zip(v).zip(g) {
                let z = (x - mean) * inv * gamma + beta;
                *d = gy * act_grad(z, Activation::Silu);
            }
        }
    }
    let (mut sum_dz, mut sum_dzx) = (0f64, 0f64);
    for (vb, db) in v.chunks(2048).zip(dz.chunks(2048)) {
        let (mut a, mut b) = ([0f32; 8], [0f32; 8]);
        let whole = vb.len() / 8 * 8;
        for (xc, dc) in vb[..whole].chunks_exact(8).zip(db.chunks_exact(8)) {
            for l in 0..8 {
                a[l] += dc[l];
                b[l] += dc[l] * ((xc[l] - mean) * inv);
            }
        }
        for (l, (&x, &d)) in vb[whole..].iter().zip(&db[whole..]).enumerate() {
            a[l] += d;
            b[l] += d * ((x - mean) * inv);
        }
        sum_dz += a.iter().map(|&x| x as f64).sum::<f64>();
        sum_dzx += b.iter().map(|&x| x as f64).sum::<f64>();
    }
    (sum_dz, sum_dzx)
}

/// dx = k·(dz − mean_dz − x̂·mean_dzx), in place over dz.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn backward_plane_dx(
    v: &[f32],
    d: &mut [f32],
    mean: f32,
    inv: f32,
    k: f32,
    mean_dz: f32,
    mean_dzx: f32,
) {
    for (o, &x) in d.iter_mut().zip(v) {
        *o = k * (*o - mean_dz - (x - mean) * inv * mean_dzx);
    }
}

/// Per-plane values of `f`, then per-channel sums over the batch in order.
fn channel_sums(
    x: &[f32],
    channels: usize,
    plane: usize,
    f: impl Fn(usize, &[f32]) -> f64 + Sync,
) -> Vec<f64> {
    let planes: Vec<f64> = x
        .par_chunks(plane.max(1))
        .enumerate()
        .map(|(p, v)| f(p % channels, v))
        .collect();
    let mut sums = vec![0f64; channels];
    for (p, s) in planes.iter().enumerate() {
        sums[p % channels] += s;
    }
    sums
}

/// Mean and biased variance per channel of `x` [N, C, plane].
pub fn channel_moments(x: &[f32], channels: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let count = (x.len() / channels.max(1)).max(1) as f64;
    let mean: Vec<f32> = channel_sums(x, channels, plane, |_, v| sum_plane(v))
        .into_iter()
        .map(|s| (s / count) as f32)
        .collect();
    let var = channel_sums(x, channels, plane, |c, v| {
        squared_deviation_plane(v, mean[c])
    });
    (mean, var.into_iter().map(|s| (s / count) as f32).collect())
}

/// 1/√(σ² + ε) per channel.
fn inverse_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (v as f64 + epsilon).sqrt()) as f32)
        .collect()
}

/// act((x − mean)·inv_std·γ + β) for `x` [N, C, plane].
#[allow(clippy::too_many_arguments)]
pub fn forward(
    x: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    act: Activation,
    plane: usize,
) -> Vec<f32> {
    let channels = mean.len();
    let inv = inverse_std(var, epsilon);
    let (y, _) = par_pieces(
        x.len(),
        plane,
        || (),
        |_, p, out| {
            let c = p % channels;
            let scale = inv[c] * gamma[c];
            let v = &x[p * plane..(p + 1) * plane];
            forward_plane(v, out, scale, beta[c] - mean[c] * scale, act);
        },
    );
    y
}

/// The gradients (x, γ, β) of training-mode batch normalisation followed by `act`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    grad: &[f32],
    epsilon: f64,
    act: Activation,
    plane: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let channels = mean.len();
    let inv = inverse_std(var, epsilon);
    if x.is_empty() {
        return (Vec::new(), vec![0.0; channels], vec![0.0; channels]);
    }
    // Pass 1: dz into dx's buffer, and per plane Σ dz and Σ dz·x̂.
    let (mut dx, partial) = par_pieces(
        x.len(),
        plane,
        || (),
        |_, p, dz| {
            let c = p % channels;
            let (v, g) = (
                &x[p * plane..(p + 1) * plane],
                &grad[p * plane..(p + 1) * plane],
            );
            backward_plane_sums(v, g, dz, mean[c], inv[c], gamma[c], beta[c], act)
        },
    );
    let (mut dbeta, mut dgamma) = (vec![0f64; channels], vec![0f64; channels]);
    for (p, (dz, dzx)) in partial.iter().enumerate() {
        dbeta[p % channels] += dz;
        dgamma[p % channels] += dzx;
    }
    let count = (x.len() / channels) as f64;
    // Pass 2: dx = γ·inv·(dz − Σdz/M − x̂·Σdz·x̂/M), in place over dz.
    dx.par_chunks_mut(plane)
        .zip(x.par_chunks(plane))
        .enumerate()
        .for_each(|(p, (d, v))| {
            let c = p % channels;
            let (mean_dz, mean_dzx) = ((dbeta[c] / count) as f32, (dgamma[c] / count) as f32);
            backward_plane_dx(v, d, mean[c], inv[c], gamma[c] * inv[c], mean_dz, mean_dzx);
        });
    (
        dx,
        dgamma.iter().map(|&v| v as f32).collect(),
        dbeta.iter().map(|&v| v as f32).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| (i as f32 * 0.731 + seed).sin() * 2.0 + 0.5)
            .collect()
    }

    /// The loss L = Σ y·r for fixed r, in f64, by the definition.
    #[allow(clippy::too_many_arguments)]
    fn loss(
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        r: &[f32],
        c: usize,
        plane: usize,
        eps: f64,
        act: Activation,
    ) -> f64 {
        let m = (x.len() / c) as f64;
        let mut total = 0.0;
        for ch in 0..c {
            let vals: Vec<(usize, f64)> = x
                .iter()
                .enumerate()
                .filter(|(i, _)| (i / plane) % c == ch)
                .map(|(i, v)| (i, *v))
                .collect();
            let mean = vals.iter().map(|v| v.1).sum::<f64>() / m;
            let var = vals.iter().map(|v| (v.1 - mean).powi(2)).sum::<f64>() / m;
            for (i, v) in vals {
                let z = (v - mean) / (var + eps).sqrt() * gamma[ch] + beta[ch];
                let y = match act {
                    Activation::Identity => z,
                    Activation::Silu => z / (1.0 + (-z).exp()),
                };
                total += y * r[i] as f64;
            }
        }
        total
    }

    #[test]
    fn exp_is_libms_to_two_parts_in_ten_million() {
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            assert!(
                (got - want).abs() <= 2e-7 * want,
                "exp({x}) = {got}, libm {want}"
            );
        }
    }

    #[test]
    fn moments_and_forward_follow_the_definition() {
        let (n, c, plane) = (3, 4, 13);
        let x = values(n * c * plane, 0.2);
        let (mean, var) = channel_moments(&x, c, plane);
        for ch in 0..c {
            let v: Vec<f64> = (0..n)
                .flat_map(|b| x[(b * c + ch) * plane..][..plane].iter().map(|&v| v as f64))
                .collect();
            let mu = v.iter().sum::<f64>() / v.len() as f64;
            let s2 = v.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / v.len() as f64;
            assert!((mean[ch] as f64 - mu).abs() < 1e-6 && (var[ch] as f64 - s2).abs() < 1e-5);
        }
        let gamma = [1.5f32, 0.5, -1.0, 2.0];
        let beta = [0.1f32, -0.2, 0.3, 0.0];
        let y = forward(
            &x,
            &mean,
            &var,
            &gamma,
            &beta,
            1e-3,
            Activation::Silu,
            plane,
        );
        for (i, (&v, &got)) in x.iter().zip(&y).enumerate() {
            let ch = (i / plane) % c;
            let z = (v - mean[ch]) / (var[ch] + 1e-3).sqrt() * gamma[ch] + beta[ch];
            let want = z / (1.0 + (-z).exp());
            assert!(
                (got - want).abs() < 1e-5 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn backward_equals_central_differences_of_the_definition() {
        // dL/dθ by (L(θ + h) − L(θ − h))/2h in f64, for every input, γ and β.
        let (n, c, plane, eps, h) = (2, 3, 5, 1e-3, 1e-5);
        let x = values(n * c * plane, 0.4);
        let r = values(n * c * plane, 1.9);
        let gamma = [1.3f32, -0.7, 0.9];
        let beta = [0.2f32, 0.0, -0.4];
        for act in [Activation::Identity, Activation::Silu] {
            let (mean, var) = channel_moments(&x, c, plane);
            let (dx, dgamma, dbeta) = backward(&x, &mean, &var, &gamma, &beta, &r, eps, act, plane);
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let g64: Vec<f64> = gamma.iter().map(|&v| v as f64).collect();
            let b64: Vec<f64> = beta.iter().map(|&v| v as f64).collect();
            let check = |got: f32, plus: f64, minus: f64, what: &str| {
                let want = (plus - minus) / (2.0 * h);
                assert!(
                    (got as f64 - want).abs() < 2e-3 * want.abs().max(0.1),
                    "{act:?} {what}: {got} vs {want}"
                );
            };
            for i in 0..x.len() {
                let (mut p, mut m) = (x64.clone(), x64.clone());
                p[i] += h;
                m[i] -= h;
                check(
                    dx[i],
                    loss(&p, &g64, &b64, &r, c, plane, eps, act),
                    loss(&m, &g64, &b64, &r, c, plane, eps, act),
                    "dx",
                );
            }
            for ch in 0..c {
                let (mut p, mut m) = (g64.clone(), g64.clone());
                p[ch] += h;
                m[ch] -= h;
                check(
                    dgamma[ch],
                    loss(&x64, &p, &b64, &r, c, plane, eps, act),
                    loss(&x64, &m, &b64, &r, c, plane, eps, act),
                    "dγ",
                );
                let (mut p, mut m) = (b64.clone(), b64.clone());
                p[ch] += h;
                m[ch] -= h;
                check(
                    dbeta[ch],
                    loss(&x64, &g64, &p, &r, c, plane, eps, act),
                    loss(&x64, &g64, &m, &r, c, plane, eps, act),
                    "dβ",
                );
            }
        }
    }
}
