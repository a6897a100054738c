//! Convolution of a band's images with its PSF kernel, planned once per band and reused.
//!
//! A kernel that is the outer product of a column and a row (every Gaussian PSF, the presets'
//! kind) is applied as two 1-D passes, kh + kw multiply-adds per pixel; any other kernel
//! (Moffat, Airy, pixelated) by FFT, padded to sizes whose only prime factors are 2, 3 and 5.
//! Both compute the same sum, out(i, j) = Σ_ab k(a, b)·img(i + kh/2 − a, j + kw/2 − b) with
//! zeros outside the image, in f64, so they agree to rounding (tested).

use std::sync::Arc;

use ndarray::Array2;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

/// Largest kh + kw applied as two 1-D passes. An FFT of a padded stamp costs of order
/// 2 × 5·log₂(N) ≈ 150 flops per pixel at the stamp sizes of the surveys (N ≈ 200²), the two
/// passes 2·(kh + kw): beyond ~64 taps the FFT is as cheap.
const MAX_SEPARABLE_TAPS: usize = 64;

/// Largest deviation of a kernel from the outer product of its factors, relative to its peak,
/// still treated as separable: rounding of exp(−r²/2σ²) against exp(−x²/2σ²)·exp(−y²/2σ²).
const SEPARABLE_TOLERANCE: f64 = 1e-12;

/// Convolution of `height`×`width` images with one kernel ("same" mode: output pixel (i, j) is
/// centred on input pixel (i, j)).
pub struct Convolver {
    height: usize,
    width: usize,
    kh: usize,
    kw: usize,
    method: Method,
}

/// A band's PSF kernel as a device convolves with it (`kernels/psf.cu`): odd sides, unit sum.
#[derive(Clone, Debug, PartialEq)]
pub enum PsfTaps {
    /// k(a, b) = column[a]·row[b], applied along rows, then along columns.
    Separable {
        /// The taps along i (image rows), top first.
        column: Vec<f64>,
        /// The taps along j (image columns), left first.
        row: Vec<f64>,
    },
    /// The whole kernel, summed directly.
    Full(Array2<f64>),
}

impl PsfTaps {
    /// `image` convolved as `kernels/psf.cu` convolves it on a device, on the CPU (its twin,
    /// for renderers that stand in for a device): a separable kernel along rows into doubles,
    /// then along columns; a whole kernel summed directly; each sum from 0 in the kernel's
    /// order, rounded to f32 once.
    pub fn convolve(&self, image: &Array2<f32>) -> Array2<f32> {
        let (h, w) = image.dim();
        let inside = |i: usize, half: usize, a: usize, n: usize| {
            (i + half).checked_sub(a).filter(|&r| r < n)
        };
        match self {
            PsfTaps::Separable { column, row } => {
                let along_rows = Array2::from_shape_fn((h, w), |(i, j)| {
                    row.iter().enumerate().fold(0.0, |acc, (b, &k)| {
                        match inside(j, row.len() / 2, b, w) {
                            Some(c) => acc + k * image[[i, c]] as f64,
                            None => acc,
                        }
                    })
                });
                Array2::from_shape_fn((h, w), |(i, j)| {
                    let sum = column.iter().enumerate().fold(0.0, |acc, (a, &k)| {
                        match inside(i, column.len() / 2, a, h) {
                            Some(r) => acc + k * along_rows[[r, j]],
                            None => acc,
                        }
                    });
                    sum as f32
                })
            }
            PsfTaps::Full(kernel) => {
                let (kh, kw) = kernel.dim();
                Array2::from_shape_fn((h, w), |(i, j)| {
                    let mut acc = 0.0;
                    for a in 0..kh {
                        let Some(r) = inside(i, kh / 2, a, h) else {
                            continue;
                        };
                        for b in 0..kw {
                            if let Some(c) = inside(j, kw / 2, b, w) {
                                acc += kernel[[a, b]] * image[[r, c]] as f64;
                            }
                        }
                    }
                    acc as f32
                })
            }
        }
    }
}

enum Method {
    /// k(a, b) = column[a]·row[b].
    Separable {
        column: Vec<f64>,
        row: Vec<f64>,
    },
    Fft(Box<FftPlan>),
}

impl std::fmt::Debug for Convolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Convolver({}×{} image, {}×{} kernel, {})",
            self.height,
            self.width,
            self.kh,
            self.kw,
            if self.is_separable() {
                "separable"
            } else {
                "FFT"
            }
        )
    }
}

impl Convolver {
    /// Plans the convolution of `height`×`width` images with `kernel` (odd sides, unit sum),
    /// as two 1-D passes where the kernel is separable and small, else by FFT.
    pub fn new(kernel: &Array2<f64>, height: usize, width: usize) -> Self {
        Self::plan(kernel, height, width, true)
    }

    /// The same, choosing the FFT whatever the kernel (`allow_separable` false), for tests.
    fn plan(kernel: &Array2<f64>, height: usize, width: usize, allow_separable: bool) -> Self {
        let (kh, kw) = kernel.dim();
        let factors = (allow_separable && kh + kw <= MAX_SEPARABLE_TAPS)
            .then(|| separable_factors(kernel))
            .flatten();
        let method = match factors {
            Some((column, row)) => Method::Separable { column, row },
            None => Method::Fft(Box::new(FftPlan::new(kernel, height, width))),
        };
        Self {
            height,
            width,
            kh,
            kw,
            method,
        }
    }

    /// The kernel as a device applies it to get this convolution: the two 1-D passes' factors
    /// where it is applied so here (the same sums in the same order), else `kernel`, which
    /// the FFT applies (summed directly it gives the same floats to their rounding).
    pub fn taps(&self, kernel: &Array2<f64>) -> PsfTaps {
        match &self.method {
            Method::Separable { column, row } => PsfTaps::Separable {
                column: column.clone(),
                row: row.clone(),
            },
            Method::Fft(_) => PsfTaps::Full(kernel.clone()),
        }
    }

    /// Whether the kernel is applied as two 1-D passes.
    pub fn is_separable(&self) -> bool {
        matches!(self.method, Method::Separable { .. })
    }

    /// The image convolved with the kernel, the same size as the image.
    pub fn convolve(&self, image: &Array2<f32>) -> Array2<f32> {
        assert_eq!(
            image.dim(),
            (self.height, self.width),
            "image size differs from the planned one"
        );
        let image = image.as_standard_layout();
        let pixels = image.as_slice().expect("standard layout is contiguous");
        let out = match &self.method {
            Method::Separable { column, row } => self.separable(pixels, column, row),
            Method::Fft(plan) => plan.convolve(pixels),
        };
        Array2::from_shape_vec((self.height, self.width), out).expect("sizes match")
    }

    /// Rows with `row` (taps along j), then columns with `column` (taps along i).
    fn separable(&self, pixels: &[f32], column: &[f64], row: &[f64]) -> Vec<f32> {
        let (h, w) = (self.height, self.width);
        let (ci, cj) = ((self.kh / 2) as isize, (self.kw / 2) as isize);
        SEPARABLE_SCRATCH.with_borrow_mut(|(along_rows, src)| {
            along_rows.clear();
            along_rows.resize(h * w, 0.0);
            for (pixels, out) in pixels.chunks(w).zip(along_rows.chunks_mut(w)) {
                // The row in f64 once (exactly), rather than at every tap.
                src.clear();
                src.extend(pixels.iter().map(|&x| x as f64));
                for (b, &k) in row.iter().enumerate() {
                    // out[j] += k·src[j + s] where 0 ≤ j + s < w
                    let s = cj - b as isize;
                    let lo = (-s).max(0) as usize;
                    let hi = (w as isize - s).min(w as isize).max(0) as usize;
                    if lo >= hi {
                        continue;
                    }
                    let shifted = &src[(lo as isize + s) as usize..(hi as isize + s) as usize];
                    for (o, &x) in out[lo..hi].iter_mut().zip(shifted) {
                        *o += k * x;
                    }
                }
            }
            let mut out = vec![0f32; h * w];
            let acc = src;
            for (i, out_row) in out.chunks_mut(w).enumerate() {
                acc.clear();
                acc.resize(w, 0.0);
                for (a, &k) in column.iter().enumerate() {
                    let r = i as isize + ci - a as isize;
                    if !(0..h as isize).contains(&r) {
                        continue;
                    }
                    let src = &along_rows[r as usize * w..(r as usize + 1) * w];
                    for (o, &x) in acc.iter_mut().zip(src) {
                        *o += k * x;
                    }
                }
                for (o, &x) in out_row.iter_mut().zip(acc.iter()) {
                    *o = x as f32;
                }
            }
            out
        })
    }
}

thread_local! {
    /// One thread's working buffers for [`Convolver::separable`], kept between calls: the row
    /// pass's output (a VIS stamp's is 320 kB, which the allocator would otherwise map and
    /// zero again at every call) and one row of f64 (an image row in the row pass, the sums of
    /// an output row in the column pass).
    static SEPARABLE_SCRATCH: std::cell::RefCell<(Vec<f64>, Vec<f64>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The column and row whose outer product is `kernel`, if it is one to `SEPARABLE_TOLERANCE`
/// of its peak: the column through the peak, and the row through it divided by the peak.
fn separable_factors(kernel: &Array2<f64>) -> Option<(Vec<f64>, Vec<f64>)> {
    let ((p, q), &peak) = kernel
        .indexed_iter()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    if peak == 0.0 {
        return None;
    }
    let column: Vec<f64> = kernel.column(q).to_vec();
    let row: Vec<f64> = kernel.row(p).iter().map(|v| v / peak).collect();
    let tolerance = SEPARABLE_TOLERANCE * peak.abs();
    kernel
        .indexed_iter()
        .all(|((a, b), &v)| (v - column[a] * row[b]).abs() <= tolerance)
        .then_some((column, row))
}

/// The smallest even n' ≥ n whose only prime factors are 2, 3 and 5 (fast FFT lengths; a
/// padded side of 74 = 2·37 would need Rader's algorithm for the prime 37).
fn smooth_even_size(n: usize) -> usize {
    let mut m = n.max(2).next_multiple_of(2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 2;
    }
}

/// FFT convolution: the kernel's spectrum and the 2-D real FFT plans of one padded size.
struct FftPlan {
    kernel_fft: Vec<Complex<f64>>,
    height: usize,
    width: usize,
    pad_h: usize,
    pad_w: usize,
    kh: usize,
    kw: usize,
    row_fwd: Arc<dyn RealToComplex<f64>>,
    row_inv: Arc<dyn ComplexToReal<f64>>,
    col_fwd: Arc<dyn Fft<f64>>,
    col_inv: Arc<dyn Fft<f64>>,
}

impl FftPlan {
    fn new(kernel: &Array2<f64>, height: usize, width: usize) -> Self {
        let (kh, kw) = kernel.dim();
        // Linear (not circular) convolution: pad to at least image + kernel − 1.
        let pad_h = smooth_even_size(height + kh - 1);
        let pad_w = smooth_even_size(width + kw - 1);
        let mut rp = RealFftPlanner::<f64>::new();
        let mut cp = FftPlanner::<f64>::new();
        let mut c = Self {
            kernel_fft: Vec::new(),
            height,
            width,
            pad_h,
            pad_w,
            kh,
            kw,
            row_fwd: rp.plan_fft_forward(pad_w),
            row_inv: rp.plan_fft_inverse(pad_w),
            col_fwd: cp.plan_fft_forward(pad_h),
            col_inv: cp.plan_fft_inverse(pad_h),
        };
        let mut padded = vec![0f64; pad_h * pad_w];
        for ((i, j), &v) in kernel.indexed_iter() {
            padded[i * pad_w + j] = v;
        }
        c.kernel_fft = c.forward(&mut padded);
        c
    }

    /// 2-D real FFT of a padded row-major buffer: rows real-to-complex, then columns.
    fn forward(&self, padded: &mut [f64]) -> Vec<Complex<f64>> {
        let nc = self.pad_w / 2 + 1;
        let mut spec = vec![Complex::default(); self.pad_h * nc];
        for (row, out) in padded.chunks_mut(self.pad_w).zip(spec.chunks_mut(nc)) {
            self.row_fwd
                .process(row, out)
                .expect("buffer sizes match the plan");
        }
        self.transform_columns(&mut spec, self.col_fwd.as_ref());
        spec
    }

    /// Applies a column FFT in place to every column of a pad_h × (pad_w/2 + 1) spectrum.
    fn transform_columns(&self, spec: &mut [Complex<f64>], fft: &dyn Fft<f64>) {
        let nc = self.pad_w / 2 + 1;
        let mut col = vec![Complex::default(); self.pad_h];
        for j in 0..nc {
            for i in 0..self.pad_h {
                col[i] = spec[i * nc + j];
            }
            fft.process(&mut col);
            for i in 0..self.pad_h {
                spec[i * nc + j] = col[i];
            }
        }
    }

    /// `pixels` (row-major, height × width) convolved, the same size.
    fn convolve(&self, pixels: &[f32]) -> Vec<f32> {
        let mut padded = vec![0f64; self.pad_h * self.pad_w];
        for (src, dst) in pixels.chunks(self.width).zip(padded.chunks_mut(self.pad_w)) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s as f64;
            }
        }
        let mut spec = self.forward(&mut padded);
        let nc = self.pad_w / 2 + 1;
        for (s, k) in spec.iter_mut().zip(&self.kernel_fft) {
            *s *= k;
        }
        self.transform_columns(&mut spec, self.col_inv.as_ref());
        let mut out = vec![0f64; self.pad_h * self.pad_w];
        for (row_spec, row) in spec.chunks_mut(nc).zip(out.chunks_mut(self.pad_w)) {
            // The imaginary parts of the DC and Nyquist terms are rounding noise: zero them.
            row_spec[0].im = 0.0;
            row_spec[nc - 1].im = 0.0;
            self.row_inv
                .process(row_spec, row)
                .expect("buffer sizes match the plan");
        }
        let scale = 1.0 / (self.pad_h * self.pad_w) as f64;
        let (oi, oj) = (self.kh / 2, self.kw / 2);
        let mut result = Vec::with_capacity(self.height * self.width);
        for i in 0..self.height {
            let row = &out[(i + oi) * self.pad_w + oj..][..self.width];
            result.extend(row.iter().map(|&v| (v * scale) as f32));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::psf::PsfSpec;
    use rand::{RngExt, SeedableRng};

    /// out(i, j) = Σ_ab k(a, b)·img(i + kh/2 − a, j + kw/2 − b), summed term by term.
    fn direct(kernel: &Array2<f64>, image: &Array2<f32>) -> Array2<f64> {
        let (kh, kw) = kernel.dim();
        let (h, w) = image.dim();
        Array2::from_shape_fn((h, w), |(i, j)| {
            let mut s = 0.0;
            for ((a, b), &k) in kernel.indexed_iter() {
                let (r, c) = (
                    i as isize + (kh / 2) as isize - a as isize,
                    j as isize + (kw / 2) as isize - b as isize,
                );
                if (0..h as isize).contains(&r) && (0..w as isize).contains(&c) {
                    s += k * image[[r as usize, c as usize]] as f64;
                }
            }
            s
        })
    }

    fn random_image(h: usize, w: usize, seed: u64) -> Array2<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((h, w), |_| rng.random_range(0.0..10.0f32))
    }

    #[test]
    fn a_point_source_convolved_returns_the_kernel() {
        // Asymmetric 5×3 kernels, one not separable, one an outer product, and a Gaussian: a
        // point of flux 3 comes back as 3·k centred on it, flipped as a convolution flips,
        // zero elsewhere.
        let asymmetric = Array2::from_shape_fn((5, 3), |(i, j)| 1.0 + i as f64 + 10.0 * j as f64);
        let product = Array2::from_shape_fn((5, 3), |(i, j)| (1 + i) as f64 * [1.0, 5.0, 2.0][j]);
        let gaussian = PsfSpec::Gaussian { fwhm: 0.5 }.kernel(0.2, 15).unwrap();
        for (k, separable) in [
            (&asymmetric / asymmetric.sum(), false),
            (&product / product.sum(), true),
            (gaussian, true),
        ] {
            let conv = Convolver::new(&k, 40, 30);
            assert_eq!(conv.is_separable(), separable);
            let mut img = Array2::<f32>::zeros((40, 30));
            img[[20, 12]] = 3.0;
            let out = conv.convolve(&img);
            let (kh, kw) = k.dim();
            for ((i, j), &v) in out.indexed_iter() {
                let (di, dj) = (
                    i as isize - 20 + (kh / 2) as isize,
                    j as isize - 12 + (kw / 2) as isize,
                );
                let want = if (0..kh as isize).contains(&di) && (0..kw as isize).contains(&dj) {
                    3.0 * k[[di as usize, dj as usize]]
                } else {
                    0.0
                };
                assert!(
                    (v as f64 - want).abs() < 1e-6,
                    "{conv:?} ({i}, {j}): {v} vs {want}"
                );
            }
            assert!((out.sum() - 3.0).abs() < 1e-5);
        }
    }

    #[test]
    fn gaussian_kernels_are_separable_and_both_methods_give_the_direct_sum() {
        // The Euclid VIS and NISP kernels (FWHM 1.6 px) and a KiDS one: separable; a Moffat and
        // an Airy pattern: not. Every kernel, by either method, gives the direct sum (float32
        // output: 1e-6 of the image's peak), on a non-square image with flux up to its edges.
        let gaussian = [(0.16, 0.1), (0.48, 0.3), (1.0, 0.2)]
            .map(|(fwhm, scale)| PsfSpec::Gaussian { fwhm }.kernel(scale, 101).unwrap());
        let moffat = PsfSpec::Moffat {
            fwhm: 0.7,
            beta: 3.5,
        }
        .kernel(0.2, 25)
        .unwrap();
        let airy = PsfSpec::Airy {
            lambda_over_d: 0.3,
            obscuration: 0.3,
        }
        .kernel(0.1, 21)
        .unwrap();
        let image = random_image(37, 50, 4);
        for (k, separable) in gaussian
            .iter()
            .map(|k| (k, true))
            .chain([(&moffat, false), (&airy, false)])
        {
            let want = direct(k, &image);
            for conv in [Convolver::new(k, 37, 50), Convolver::plan(k, 37, 50, false)] {
                let got = conv.convolve(&image);
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(&g, &w)| (g as f64 - w).abs())
                    .fold(0.0, f64::max);
                assert!(worst < 1e-5, "{conv:?}: off by {worst} (peak 10)");
            }
            assert_eq!(Convolver::new(k, 37, 50).is_separable(), separable);
        }
    }

    /// The device's convolution from its taps (the CPU twin of `kernels/psf.cu`) gives the
    /// convolver's floats: bit for bit for separable kernels (a Gaussian and a lopsided outer
    /// product: the same factors, sums and order), and to the float's rounding (1 ulp, or
    /// 1e-12 of the peak near 0) for a kernel the convolver takes by FFT.
    #[test]
    fn the_device_s_taps_convolve_as_the_convolver_does() {
        let product = Array2::from_shape_fn((5, 3), |(i, j)| (1 + i) as f64 * [1.0, 5.0, 2.0][j]);
        let asymmetric = Array2::from_shape_fn((5, 3), |(i, j)| 1.0 + i as f64 + 10.0 * j as f64);
        let image = random_image(37, 50, 9);
        for k in [
            PsfSpec::Gaussian { fwhm: 0.48 }.kernel(0.3, 37).unwrap(),
            &product / product.sum(),
            &asymmetric / asymmetric.sum(),
        ] {
            let conv = Convolver::new(&k, 37, 50);
            let taps = conv.taps(&k);
            assert_eq!(
                matches!(taps, PsfTaps::Separable { .. }),
                conv.is_separable()
            );
            let (want, got) = (conv.convolve(&image), taps.convolve(&image));
            for (w, g) in want.iter().zip(&got) {
                match conv.is_separable() {
                    true => assert_eq!(w.to_bits(), g.to_bits(), "{conv:?}"),
                    false => assert!(
                        w.to_bits().abs_diff(g.to_bits()) <= 1 || (w - g).abs() < 1e-11,
                        "{conv:?}: {g} vs {w}"
                    ),
                }
            }
        }
    }

    #[test]
    fn fft_sizes_are_even_and_5_smooth() {
        // 74 = 2·37 → 80 = 2⁴·5; 208 = 2⁴·13 → 216 = 2³·3³; 210 = 2·3·5·7 → 216; 2 and 150 stay.
        for (n, want) in [(74, 80), (208, 216), (210, 216), (2, 2), (150, 150), (1, 2)] {
            assert_eq!(smooth_even_size(n), want, "{n}");
        }
    }
}
