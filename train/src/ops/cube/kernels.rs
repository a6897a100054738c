//! The CubeCL kernels behind [`super`]: written once, compiled for every CubeCL runtime (CUDA
//! through NVRTC on a GPU; SPIR-V for Vulkan, which Mesa's lavapipe runs on a CPU in CI).
//!
//! Tensors are contiguous float32 NCHW arrays; indices are u32 (a tensor of the trainer holds
//! far fewer than 2³² values). Elementwise passes take one unit per output value. Per-channel
//! sums (the weight gradient, BatchNorm's moments and backward sums) take one cube of
//! [`BLOCK`] units per (channel, chunk of the channel's values): each unit sums its strided share
//! of the chunk, the cube adds its units' sums by a tree in shared memory (no plane operations,
//! which lavapipe lacks), and a second pass adds the chunks of each channel in order, so that
//! the result does not depend on scheduling.

// The launch types CubeCL derives for each kernel and argument struct carry no documentation.
#![allow(missing_docs)]

use cubecl::prelude::*;

use crate::ops::radam::RAdamFactors;

/// Units per cube of the reductions (a power of two).
pub const BLOCK: u32 = 256;

/// Adds `value` of every unit of the cube; unit 0 gets the total. The order of the additions is
/// fixed (a binary tree over unit indices).
#[cube]
fn cube_sum(value: f32, shared: &mut SharedMemory<f32>, #[comptime] block: u32) -> f32 {
    let tid = UNIT_POS as usize;
    shared[tid] = value;
    sync_cube();
    #[unroll]
    for level in 1..comptime![block.trailing_zeros() + 1] {
        let s = comptime![(block >> level) as usize];
        if tid < s {
            let other = shared[tid + s];
            shared[tid] += other;
        }
        sync_cube();
    }
    let total = shared[0];
    sync_cube();
    total
}

/// Sizes of a depthwise convolution: channels, input rows and columns, output rows and
/// columns, stride, padding above and left.
#[derive(CubeLaunch, CubeType, Clone, Copy)]
pub struct DwShape {
    /// Channels C.
    pub channels: u32,
    /// Input rows H.
    pub h: u32,
    /// Input columns W.
    pub w: u32,
    /// Output rows.
    pub ho: u32,
    /// Output columns.
    pub wo: u32,
    /// Stride s.
    pub stride: u32,
    /// Zero rows above the input.
    pub pad_top: u32,
    /// Zero columns left of the input.
    pub pad_left: u32,
}

/// y[n, c, i, j] = Σ_{a, b} w[c, a, b]·x[n, c, i·s + a − p_top, j·s + b − p_left].
#[cube(launch_unchecked)]
pub fn depthwise_forward(
    x: &Array<f32>,
    weight: &Array<f32>,
    y: &mut Array<f32>,
    d: DwShape,
    #[comptime] k: u32,
) {
    let idx = ABSOLUTE_POS;
    if idx >= y.len() {
        terminate!();
    }
    let id = idx as u32;
    let j = id % d.wo;
    let i = (id / d.wo) % d.ho;
    let p = id / (d.wo * d.ho);
    let c = p % d.channels;
    let mut sum = 0.0f32;
    #[unroll]
    for a in 0..k {
        let r = (i * d.stride + a) as i32 - d.pad_top as i32;
        if r >= 0 && r < d.h as i32 {
            #[unroll]
            for b in 0..k {
                let q = (j * d.stride + b) as i32 - d.pad_left as i32;
                if q >= 0 && q < d.w as i32 {
                    let xv = x[((p * d.h + r as u32) * d.w + q as u32) as usize];
                    sum += weight[(c * k * k + a * k + b) as usize] * xv;
                }
            }
        }
    }
    y[idx] = sum;
}

/// dx[n, c, r, q] = Σ w[c, a, b]·dy[n, c, i, j] over the taps with i·s + a − p_top = r and
/// j·s + b − p_left = q (a gather: one unit per input value, no atomics).
#[cube(launch_unchecked)]
pub fn depthwise_backward_x(
    weight: &Array<f32>,
    dy: &Array<f32>,
    dx: &mut Array<f32>,
    d: DwShape,
    #[comptime] k: u32,
) {
    let idx = ABSOLUTE_POS;
    if idx >= dx.len() {
        terminate!();
    }
    let id = idx as u32;
    let q = id % d.w;
    let r = (id / d.w) % d.h;
    let p = id / (d.w * d.h);
    let c = p % d.channels;
    let s = d.stride as i32;
    let mut sum = 0.0f32;
    #[unroll]
    for a in 0..k {
        let t = (r + d.pad_top) as i32 - a as i32;
        if t >= 0 && t % s == 0 && t / s < d.ho as i32 {
            let i = (t / s) as u32;
            #[unroll]
            for b in 0..k {
                let u = (q + d.pad_left) as i32 - b as i32;
                if u >= 0 && u % s == 0 && u / s < d.wo as i32 {
                    let j = (u / s) as u32;
                    let g = dy[((p * d.ho + i) * d.wo + j) as usize];
                    sum += weight[(c * k * k + a * k + b) as usize] * g;
                }
            }
        }
    }
    dx[idx] = sum;
}

/// Per (channel, chunk) cube: partial[c, chunk, a·k + b] = Σ dy[n, c, i, j]·x[n, c, i·s + a −
/// p_top, j·s + b − p_left] over the chunk's output positions (n, i, j).
#[cube(launch_unchecked)]
pub fn depthwise_weight_partial(
    x: &Array<f32>,
    dy: &Array<f32>,
    partial: &mut Array<f32>,
    d: DwShape,
    positions: u32,
    per_cube: u32,
    #[comptime] k: u32,
    #[comptime] block: u32,
) {
    let c = CUBE_POS_X;
    let chunk = CUBE_POS_Y;
    let chunks = CUBE_COUNT_Y;
    let mut acc = Array::<f32>::new(comptime![(k * k) as usize]);
    #[unroll]
    for t in 0..k * k {
        acc[t as usize] = 0.0;
    }
    let start = chunk * per_cube;
    let mut end = start + per_cube;
    if end > positions {
        end = positions;
    }
    let mut pos = start + UNIT_POS;
    while pos < end {
        let plane = d.ho * d.wo;
        let n = pos / plane;
        let i = (pos % plane) / d.wo;
        let j = pos % d.wo;
        let pc = n * d.channels + c;
        let g = dy[(pc * plane + i * d.wo + j) as usize];
        #[unroll]
        for a in 0..k {
            let r = (i * d.stride + a) as i32 - d.pad_top as i32;
            if r >= 0 && r < d.h as i32 {
                #[unroll]
                for b in 0..k {
                    let q = (j * d.stride + b) as i32 - d.pad_left as i32;
                    if q >= 0 && q < d.w as i32 {
                        let xv = x[((pc * d.h + r as u32) * d.w + q as u32) as usize];
                        acc[(a * k + b) as usize] += g * xv;
                    }
                }
            }
        }
        pos += block;
    }
    let mut shared = SharedMemory::<f32>::new(comptime![block as usize]);
    #[unroll]
    for t in 0..k * k {
        let total = cube_sum(acc[t as usize], &mut shared, block);
        if UNIT_POS == 0 {
            partial[((c * chunks + chunk) * k * k + t) as usize] = total;
        }
    }
}

/// out[c, t] = Σ_chunk partial[c, chunk, t], chunks in order; one unit per (c, t), `width`
/// values t per channel, divided by `divisor`.
#[cube(launch_unchecked)]
pub fn sum_chunks(
    partial: &Array<f32>,
    out: &mut Array<f32>,
    chunks: u32,
    width: u32,
    divisor: f32,
) {
    let idx = ABSOLUTE_POS;
    if idx >= out.len() {
        terminate!();
    }
    let id = idx as u32;
    let c = id / width;
    let t = id % width;
    let mut sum = 0.0f32;
    for chunk in 0..chunks {
        sum += partial[((c * chunks + chunk) * width + t) as usize];
    }
    out[idx] = sum / divisor;
}

/// Per (channel, chunk) cube over the channel's values of `x` [N, C, plane]: Σ x when `centre`
/// is false, Σ (x − mean[c])² when it is true; into partial[c, chunk].
#[cube(launch_unchecked)]
pub fn moment_partial(
    x: &Array<f32>,
    mean: &Array<f32>,
    partial: &mut Array<f32>,
    channels: u32,
    plane: u32,
    count: u32,
    per_cube: u32,
    #[comptime] centre: bool,
    #[comptime] block: u32,
) {
    let c = CUBE_POS_X;
    let chunk = CUBE_POS_Y;
    let chunks = CUBE_COUNT_Y;
    let m = mean[c as usize];
    let start = chunk * per_cube;
    let mut end = start + per_cube;
    if end > count {
        end = count;
    }
    let mut acc = 0.0f32;
    let mut pos = start + UNIT_POS;
    while pos < end {
        let n = pos / plane;
        let e = pos % plane;
        let v = x[((n * channels + c) * plane + e) as usize];
        if comptime![centre] {
            acc += (v - m) * (v - m);
        } else {
            acc += v;
        }
        pos += block;
    }
    let mut shared = SharedMemory::<f32>::new(comptime![block as usize]);
    let total = cube_sum(acc, &mut shared, block);
    if UNIT_POS == 0 {
        partial[(c * chunks + chunk) as usize] = total;
    }
}

/// σ(z).
#[cube]
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + f32::exp(-z))
}

/// act((x − mean)/√(var + ε)·γ + β), act SiLU when `silu`.
#[cube(launch_unchecked)]
pub fn batch_norm_forward(
    x: &Array<f32>,
    mean: &Array<f32>,
    var: &Array<f32>,
    gamma: &Array<f32>,
    beta: &Array<f32>,
    y: &mut Array<f32>,
    channels: u32,
    plane: u32,
    epsilon: f32,
    #[comptime] silu: bool,
) {
    let idx = ABSOLUTE_POS;
    if idx >= y.len() {
        terminate!();
    }
    let c = ((idx as u32 / plane) % channels) as usize;
    let inv = 1.0 / f32::sqrt(var[c] + epsilon);
    let z = (x[idx] - mean[c]) * inv * gamma[c] + beta[c];
    if comptime![silu] {
        y[idx] = z * sigmoid(z);
    } else {
        y[idx] = z;
    }
}

/// dz = dy·act′(z) at one value.
#[cube]
fn dz_at(x: f32, g: f32, m: f32, inv: f32, gamma: f32, beta: f32, #[comptime] silu: bool) -> f32 {
    let mut dz = g;
    if comptime![silu] {
        let z = (x - m) * inv * gamma + beta;
        let s = sigmoid(z);
        dz = g * s * (1.0 + z * (1.0 - s));
    }
    dz
}

/// Per (channel, chunk) cube: partial[0, c, chunk] = Σ dz, partial[1, c, chunk] = Σ dz·x̂.
#[cube(launch_unchecked)]
pub fn batch_norm_backward_partial(
    x: &Array<f32>,
    dy: &Array<f32>,
    mean: &Array<f32>,
    var: &Array<f32>,
    gamma: &Array<f32>,
    beta: &Array<f32>,
    partial: &mut Array<f32>,
    channels: u32,
    plane: u32,
    count: u32,
    per_cube: u32,
    epsilon: f32,
    #[comptime] silu: bool,
    #[comptime] block: u32,
) {
    let c = CUBE_POS_X;
    let chunk = CUBE_POS_Y;
    let chunks = CUBE_COUNT_Y;
    let cu = c as usize;
    let (m, gm, bt) = (mean[cu], gamma[cu], beta[cu]);
    let inv = 1.0 / f32::sqrt(var[cu] + epsilon);
    let start = chunk * per_cube;
    let mut end = start + per_cube;
    if end > count {
        end = count;
    }
    let mut sum_dz = 0.0f32;
    let mut sum_dzx = 0.0f32;
    let mut pos = start + UNIT_POS;
    while pos < end {
        let n = pos / plane;
        let e = pos % plane;
        let at = ((n * channels + c) * plane + e) as usize;
        let v = x[at];
        let dz = dz_at(v, dy[at], m, inv, gm, bt, silu);
        sum_dz += dz;
        sum_dzx += dz * (v - m) * inv;
        pos += block;
    }
    let mut shared = SharedMemory::<f32>::new(comptime![block as usize]);
    let total_dz = cube_sum(sum_dz, &mut shared, block);
    let total_dzx = cube_sum(sum_dzx, &mut shared, block);
    if UNIT_POS == 0 {
        partial[(c * chunks + chunk) as usize] = total_dz;
        partial[((channels + c) * chunks + chunk) as usize] = total_dzx;
    }
}

/// dx = γ/√(var + ε)·(dz − Σdz/M − x̂·Σdz·x̂/M), with `means` [2, C] = (Σdz/M, Σdz·x̂/M).
#[cube(launch_unchecked)]
pub fn batch_norm_backward_x(
    x: &Array<f32>,
    dy: &Array<f32>,
    mean: &Array<f32>,
    var: &Array<f32>,
    gamma: &Array<f32>,
    beta: &Array<f32>,
    means: &Array<f32>,
    dx: &mut Array<f32>,
    channels: u32,
    plane: u32,
    epsilon: f32,
    #[comptime] silu: bool,
) {
    let idx = ABSOLUTE_POS;
    if idx >= dx.len() {
        terminate!();
    }
    let c = ((idx as u32 / plane) % channels) as usize;
    let (m, gm) = (mean[c], gamma[c]);
    let inv = 1.0 / f32::sqrt(var[c] + epsilon);
    let v = x[idx];
    let dz = dz_at(v, dy[idx], m, inv, gm, beta[c], silu);
    dx[idx] = gm * inv * (dz - means[c] - (v - m) * inv * means[c + channels as usize]);
}

/// One Rectified Adam step per value, the operations of `crate::ops::radam` in their order.
#[cube(launch_unchecked)]
pub fn radam_update(
    param: &Array<f32>,
    grad: &Array<f32>,
    m: &Array<f32>,
    v: &Array<f32>,
    param_out: &mut Array<f32>,
    m_out: &mut Array<f32>,
    v_out: &mut Array<f32>,
    f: RAdamFactors,
    #[comptime] rectified: bool,
) {
    let idx = ABSOLUTE_POS;
    if idx >= param_out.len() {
        terminate!();
    }
    let g = grad[idx];
    let mm = m[idx] * f.beta_1 + g * f.keep_1;
    let vv = v[idx] * f.beta_2 + (g * g) * f.keep_2;
    let m_hat = mm / f.bias_1;
    let mut update = m_hat;
    if comptime![rectified] {
        update = (m_hat / (f32::sqrt(vv / f.bias_2) + f.epsilon)) * f.rectifier;
    }
    param_out[idx] = param[idx] - update * f.learning_rate;
    m_out[idx] = mm;
    v_out[idx] = vv;
}
