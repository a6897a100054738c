//! Depthwise convolution on the CPU: each channel of an NCHW tensor convolved with its own
//! k × k kernel (Burn's grouped weight layout [C, 1, k, k]), no bias, with TensorFlow/Keras
//! 'same' padding (asymmetric at stride 2, as the seed's Keras EfficientNet pads).
//!
//! y[n, c, i, j] = Σ_{a, b} w[c, a, b] · x[n, c, i·s + a − p_top, j·s + b − p_left], terms outside
//! the image being zero.
//!
//! Each image plane is first copied into a zero-padded buffer split into its stride phases
//! (phase φ holds the padded columns φ, φ + s, φ + 2s, …), so that every kernel tap reads a
//! contiguous run and no bounds are tested in the inner loops. Outputs are then computed eight
//! columns at a time with all k² taps accumulated in registers. The input gradient is the same
//! computation transposed: each stride phase of the input gradient is a stride-1 correlation of
//! the (padded) output gradient with the kernel taps of that phase. The weight gradient runs over
//! channels in parallel and sums every sample of a channel in a fixed order (eight f32 lanes per
//! plane, added into f64), so that no per-sample copy is made. Planes run in parallel (rayon);
//! nothing depends on the thread count. The plane kernels are built for AVX-512 beside the
//! x86-64-v3 (AVX2, FMA) build and chosen at run time (`multiversion`).

use rayon::prelude::*;

use super::pieces::par_pieces;

/// Where a depthwise convolution's kernel lies on its input: kernel side, stride, the padding
/// before the first row and column, and the input and output sizes (rows, columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DepthwiseGeometry {
    /// Kernel side k (pixels).
    pub kernel: usize,
    /// Stride s (pixels), the same along rows and columns.
    pub stride: usize,
    /// Zero rows above the image.
    pub pad_top: usize,
    /// Zero columns left of the image.
    pub pad_left: usize,
    /// Input [H, W].
    pub input: [usize; 2],
    /// Output [H_out, W_out].
    pub output: [usize; 2],
}

/// TensorFlow's 'same' padding along one axis of `size` pixels: the output has ⌈size/s⌉
/// pixels, and of the padding that needs, the smaller half goes before (Burn's
/// `PaddingConfig2d::Same` computes the same).
fn same_axis(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out.max(1) - 1) * stride + kernel).saturating_sub(size);
    (out, total / 2)
}

impl DepthwiseGeometry {
    /// 'same' padding for an input of `input` [H, W] pixels (TensorFlow's rule).
    pub fn same(input: [usize; 2], kernel: usize, stride: usize) -> Self {
        assert!(
            kernel >= 1 && stride >= 1,
            "kernel and stride are at least 1"
        );
        let (h_out, pad_top) = same_axis(input[0], kernel, stride);
        let (w_out, pad_left) = same_axis(input[1], kernel, stride);
        Self {
            kernel,
            stride,
            pad_top,
            pad_left,
            input,
            output: [h_out, w_out],
        }
    }

    /// Zero rows below and columns right of the image (the larger half of TensorFlow's
    /// padding, so at stride 2 the extra one).
    pub fn pad_after(&self) -> [usize; 2] {
        let after = |axis: usize, before: usize| {
            ((self.output[axis].max(1) - 1) * self.stride + self.kernel)
                .saturating_sub(self.input[axis] + before)
        };
        [after(0, self.pad_top), after(1, self.pad_left)]
    }

    fn in_plane(&self) -> usize {
        self.input[0] * self.input[1]
    }

    fn out_plane(&self) -> usize {
        self.output[0] * self.output[1]
    }
}

/// Output columns computed together.
const LANES: usize = 8;

/// A plane copied with zero borders and split into stride phases: element (φ, r, m) is the
/// source's (r − `top`, m·s + φ − `left`), zero outside it.
#[derive(Clone, Copy, Debug)]
struct PadSplit {
    stride: usize,
    top: isize,
    left: isize,
    rows: usize,
    width: usize,
}

impl PadSplit {
    fn len(&self) -> usize {
        self.stride * self.rows * self.width
    }

    /// Offset of row `r` of phase `phase`.
    #[inline(always)]
    fn row(&self, phase: usize, r: usize) -> usize {
        (phase * self.rows + r) * self.width
    }

    /// For each kernel tap (a, b) of a convolution at this stride, the offset of the run that
    /// output row 0 reads: row a of phase b mod s, from column ⌊b/s⌋. Output row i adds
    /// i·s·width.
    fn tap_offsets(&self, kernel: usize) -> Vec<usize> {
        let s = self.stride;
        (0..kernel * kernel)
            .map(|t| self.row((t % kernel) % s, t / kernel) + (t % kernel) / s)
            .collect()
    }

    /// Fills `buf` from `src` (`size` = [rows, columns], row-major).
    #[inline(always)]
    fn fill(&self, src: &[f32], size: [usize; 2], buf: &mut Vec<f32>) {
        buf.clear();
        buf.resize(self.len(), 0.0);
        let s = self.stride as isize;
        for phase in 0..self.stride {
            for r in 0..self.rows {
                let sr = r as isize - self.top;
                if sr < 0 || sr >= size[0] as isize {
                    continue;
                }
                let src_row = &src[sr as usize * size[1]..(sr as usize + 1) * size[1]];
                let dst = &mut buf[self.row(phase, r)..][..self.width];
                // Columns m with 0 ≤ m·s + phase − left < size[1].
                let shift = phase as isize - self.left;
                let lo = ((-shift).max(0) + s - 1) / s;
                let hi = ((size[1] as isize - shift + s - 1) / s).min(self.width as isize);
                if hi <= lo {
                    continue;
                }
                let (lo, hi) = (lo as usize, hi as usize);
                let first = (lo as isize * s + shift) as usize;
                if self.stride == 1 {
                    dst[lo..hi].copy_from_slice(&src_row[first..first + hi - lo]);
                } else {
                    for (d, v) in dst[lo..hi]
                        .iter_mut()
                        .zip(src_row[first..].iter().step_by(self.stride))
                    {
                        *d = *v;
                    }
                }
            }
        }
    }
}

/// The padded, phase-split input of the forward pass and the weight gradient: rows i·s + a and
/// columns j + ⌊b/s⌋ of phase b mod s for every output (i, j) (j rounded up to whole lanes).
fn input_split(g: &DepthwiseGeometry) -> PadSplit {
    let (k, s) = (g.kernel, g.stride);
    PadSplit {
        stride: s,
        top: g.pad_top as isize,
        left: g.pad_left as isize,
        rows: (g.output[0].max(1) - 1) * s + k,
        width: g.output[1].div_ceil(LANES) * LANES + (k - 1) / s,
    }
}

/// One stride phase (ρ, φ) of the input gradient: the input rows p = P·s + ρ and columns
/// q = Q·s + φ, and the taps that reach them with the output-gradient offsets they read:
/// dx[P·s + ρ, Q·s + φ] = Σ w[a, b] · dy[P + da, Q + db] over taps with (ρ + p_top − a) and
/// (φ + p_left − b) divisible by s, da = (ρ + p_top − a)/s, db = (φ + p_left − b)/s.
#[derive(Clone, Debug)]
struct GradPhase {
    rho: usize,
    phi: usize,
    rows: usize,
    cols: usize,
    /// (kernel index a·k + b, offset in the padded output gradient of what (P, Q) = (0, 0)
    /// reads).
    taps: Vec<(usize, usize)>,
}

/// A [`GradPhase`] before the padding is known: taps as (index, da, db).
struct PhaseTaps {
    rho: usize,
    phi: usize,
    rows: usize,
    cols: usize,
    taps_at: Vec<(usize, isize, isize)>,
}

/// The input gradient's phases and the padded output gradient they read (a single phase).
fn grad_phases(g: &DepthwiseGeometry) -> (Vec<GradPhase>, PadSplit) {
    let (k, s) = (g.kernel, g.stride as isize);
    let offsets = |phase: usize, pad: usize| -> Vec<(usize, isize)> {
        (0..k)
            .filter_map(|a| {
                let t = phase as isize + pad as isize - a as isize;
                (t.rem_euclid(s) == 0).then_some((a, t.div_euclid(s)))
            })
            .collect()
    };
    let mut phases = Vec::new();
    let (mut lo_r, mut hi_r, mut lo_c, mut hi_c) = (0isize, 0isize, 0isize, 0isize);
    for rho in 0..g.stride {
        for phi in 0..g.stride {
            let rows = (g.input[0] + g.stride - 1 - rho.min(g.input[0])) / g.stride;
            let cols = (g.input[1] + g.stride - 1 - phi.min(g.input[1])) / g.stride;
            let mut taps = Vec::new();
            for &(a, da) in &offsets(rho, g.pad_top) {
                for &(b, db) in &offsets(phi, g.pad_left) {
                    taps.push((a * k + b, da, db));
                    lo_r = lo_r.min(da);
                    lo_c = lo_c.min(db);
                    hi_r = hi_r.max(rows as isize - 1 + da);
                    hi_c = hi_c.max((cols.div_ceil(LANES) * LANES) as isize - 1 + db);
                }
            }
            phases.push(PhaseTaps {
                rho,
                phi,
                rows,
                cols,
                taps_at: taps,
            });
        }
    }
    let padded = PadSplit {
        stride: 1,
        top: -lo_r,
        left: -lo_c,
        rows: (hi_r - lo_r + 1).max(0) as usize,
        width: (hi_c - lo_c + 1).max(0) as usize,
    };
    let phases = phases
        .into_iter()
        .map(|ph| GradPhase {
            taps: ph
                .taps_at
                .iter()
                .map(|&(t, da, db)| {
                    let off = (da - lo_r) * padded.width as isize + (db - lo_c);
                    (t, off as usize)
                })
                .collect(),
            rho: ph.rho,
            phi: ph.phi,
            rows: ph.rows,
            cols: ph.cols,
        })
        .collect();
    (phases, padded)
}

/// One output plane of the forward pass.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn forward_plane(
    xin: &[f32],
    wk: &[f32],
    out: &mut [f32],
    g: &DepthwiseGeometry,
    split: &PadSplit,
    taps: &[usize],
    buf: &mut Vec<f32>,
) {
    let [h_out, w_out] = g.output;
    split.fill(xin, g.input, buf);
    let x: &[f32] = buf;
    let row_step = g.stride * split.width;
    for i in 0..h_out {
        for j0 in (0..w_out).step_by(LANES) {
            let mut acc = [0f32; LANES];
            for (&off, &w) in taps.iter().zip(wk) {
                let at = off + i * row_step + j0;
                let run: &[f32; LANES] = x[at..at + LANES].try_into().expect("a whole run");
                for l in 0..LANES {
                    acc[l] += w * run[l];
                }
            }
            let n = LANES.min(w_out - j0);
            out[i * w_out + j0..][..n].copy_from_slice(&acc[..n]);
        }
    }
}

/// One input-gradient plane.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn backward_x_plane(
    gy: &[f32],
    wk: &[f32],
    dplane: &mut [f32],
    g: &DepthwiseGeometry,
    phases: &[GradPhase],
    padded: &PadSplit,
    buf: &mut Vec<f32>,
) {
    let (s, w_in) = (g.stride, g.input[1]);
    padded.fill(gy, g.output, buf);
    let dy: &[f32] = buf;
    for ph in phases {
        for pr in 0..ph.rows {
            let p = pr * s + ph.rho;
            for q0 in (0..ph.cols).step_by(LANES) {
                let mut acc = [0f32; LANES];
                for &(t, off) in &ph.taps {
                    let at = off + pr * padded.width + q0;
                    let run: &[f32; LANES] = dy[at..at + LANES].try_into().expect("a whole run");
                    let w = wk[t];
                    for l in 0..LANES {
                        acc[l] += w * run[l];
                    }
                }
                let n = LANES.min(ph.cols - q0);
                let row = &mut dplane[p * w_in..(p + 1) * w_in];
                for (l, v) in acc[..n].iter().enumerate() {
                    row[(q0 + l) * s + ph.phi] = *v;
                }
            }
        }
    }
}

/// One sample's contribution to a channel's weight gradient, added to `acc` [k²].
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn backward_weight_plane(
    xin: &[f32],
    gy: &[f32],
    acc: &mut [f64],
    g: &DepthwiseGeometry,
    split: &PadSplit,
    taps: &[usize],
    buf: &mut Vec<f32>,
    gbuf: &mut Vec<f32>,
    lanes: &mut Vec<[f32; LANES]>,
) {
    let k = g.kernel;
    let [h_out, w_out] = g.output;
    let w_pad = w_out.div_ceil(LANES) * LANES;
    let row_step = g.stride * split.width;
    split.fill(xin, g.input, buf);
    // The output gradient with its rows padded by zeros to whole lanes.
    gbuf.clear();
    gbuf.resize(h_out * w_pad, 0.0);
    for i in 0..h_out {
        gbuf[i * w_pad..i * w_pad + w_out].copy_from_slice(&gy[i * w_out..(i + 1) * w_out]);
    }
    let x: &[f32] = buf;
    lanes.clear();
    lanes.resize(k * k, [0.0; LANES]);
    for i in 0..h_out {
        let g_row = &gbuf[i * w_pad..(i + 1) * w_pad];
        for (&off, l8) in taps.iter().zip(lanes.iter_mut()) {
            let at = off + i * row_step;
            let x_row = &x[at..at + w_pad];
            let mut v = *l8;
            for (gc, xc) in g_row.chunks_exact(LANES).zip(x_row.chunks_exact(LANES)) {
                for l in 0..LANES {
                    v[l] += gc[l] * xc[l];
                }
            }
            *l8 = v;
        }
    }
    for (a, l8) in acc.iter_mut().zip(lanes.iter()) {
        *a += (((l8[0] + l8[4]) + (l8[1] + l8[5])) + ((l8[2] + l8[6]) + (l8[3] + l8[7]))) as f64;
    }
}

/// The forward pass: `x` [N, C, H, W] and `weight` [C, k, k] (row-major) → [N, C, H_out, W_out].
pub fn forward(x: &[f32], weight: &[f32], channels: usize, g: &DepthwiseGeometry) -> Vec<f32> {
    let k2 = g.kernel * g.kernel;
    let planes = x.len() / g.in_plane().max(1);
    if planes * g.out_plane() == 0 {
        return vec![0.0; planes * g.out_plane()];
    }
    let split = input_split(g);
    let taps = split.tap_offsets(g.kernel);
    let (y, _) = par_pieces(
        planes * g.out_plane(),
        g.out_plane(),
        Vec::new,
        |buf, p, out| {
            let c = p % channels;
            let xin = &x[p * g.in_plane()..(p + 1) * g.in_plane()];
            forward_plane(
                xin,
                &weight[c * k2..(c + 1) * k2],
                out,
                g,
                &split,
                &taps,
                buf,
            );
        },
    );
    y
}

/// The input gradient: `weight` [C, k, k] and the output gradient `grad` [N, C, H_out, W_out] →
/// [N, C, H, W].
pub fn backward_x(
    weight: &[f32],
    grad: &[f32],
    channels: usize,
    g: &DepthwiseGeometry,
) -> Vec<f32> {
    let k2 = g.kernel * g.kernel;
    let planes = grad.len() / g.out_plane().max(1);
    if planes * g.in_plane() == 0 || g.out_plane() == 0 {
        return vec![0.0; planes * g.in_plane()];
    }
    let (phases, padded) = grad_phases(g);
    let (dx, _) = par_pieces(
        planes * g.in_plane(),
        g.in_plane(),
        Vec::new,
        |buf, p, dplane| {
            let c = p % channels;
            let gy = &grad[p * g.out_plane()..(p + 1) * g.out_plane()];
            backward_x_plane(
                gy,
                &weight[c * k2..(c + 1) * k2],
                dplane,
                g,
                &phases,
                &padded,
                buf,
            );
        },
    );
    dx
}

/// The weight gradient: `x` [N, C, H, W] and `grad` [N, C, H_out, W_out] → [C, k, k].
pub fn backward_weight(
    x: &[f32],
    grad: &[f32],
    channels: usize,
    g: &DepthwiseGeometry,
) -> Vec<f32> {
    let k2 = g.kernel * g.kernel;
    let batch = x.len() / (channels * g.in_plane()).max(1);
    let mut dw = vec![0f32; channels * k2];
    if g.out_plane() == 0 {
        return dw;
    }
    let split = input_split(g);
    let taps = split.tap_offsets(g.kernel);
    dw.par_chunks_mut(k2).enumerate().for_each_init(
        || (Vec::new(), Vec::new(), Vec::new()),
        |(buf, gbuf, lanes), (c, dwc)| {
            let mut acc = vec![0f64; k2];
            for n in 0..batch {
                let p = n * channels + c;
                let xin = &x[p * g.in_plane()..(p + 1) * g.in_plane()];
                let gy = &grad[p * g.out_plane()..(p + 1) * g.out_plane()];
                backward_weight_plane(xin, gy, &mut acc, g, &split, &taps, buf, gbuf, lanes);
            }
            for (d, a) in dwc.iter_mut().zip(&acc) {
                *d = *a as f32;
            }
        },
    );
    dw
}

#[cfg(test)]
mod tests;
