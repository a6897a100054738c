//! Tests of [`super`].

use super::*;

/// The definition, term by term, in f64.
fn direct(x: &[f32], w: &[f32], n: usize, c: usize, g: &DepthwiseGeometry) -> Vec<f64> {
    let (k, s) = (g.kernel, g.stride);
    let ([h, wd], [ho, wo]) = (g.input, g.output);
    let mut y = vec![0f64; n * c * ho * wo];
    for p in 0..n * c {
        for i in 0..ho {
            for j in 0..wo {
                let mut sum = 0f64;
                for a in 0..k {
                    for b in 0..k {
                        let r = (i * s + a) as isize - g.pad_top as isize;
                        let q = (j * s + b) as isize - g.pad_left as isize;
                        if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < wd {
                            sum += w[(p % c) * k * k + a * k + b] as f64
                                * x[p * h * wd + r as usize * wd + q as usize] as f64;
                        }
                    }
                }
                y[p * ho * wo + i * wo + j] = sum;
            }
        }
    }
    y
}

fn values(len: usize, seed: f32) -> Vec<f32> {
    (0..len).map(|i| (i as f32 * 0.731 + seed).sin()).collect()
}

#[test]
fn same_padding_is_tensorflows() {
    // TensorFlow: out = ⌈in/s⌉, pad_total = max((out − 1)·s + k − in, 0), top = total/2.
    let g = DepthwiseGeometry::same([100, 100], 3, 2);
    assert_eq!((g.output, g.pad_top, g.pad_left), ([50, 50], 0, 0));
    let g = DepthwiseGeometry::same([33, 33], 5, 2);
    assert_eq!((g.output, g.pad_top), ([17, 17], 2));
    let g = DepthwiseGeometry::same([50, 50], 5, 2);
    assert_eq!((g.output, g.pad_top), ([25, 25], 1));
    let g = DepthwiseGeometry::same([7, 9], 3, 1);
    assert_eq!((g.output, g.pad_top, g.pad_left), ([7, 9], 1, 1));
    assert_eq!(g.pad_after(), [1, 1]);
    // EfficientNet's stem (3 × 3, stride 2) on the Euclid stamps and small ones.
    let g = DepthwiseGeometry::same([200, 66], 3, 2);
    assert_eq!((g.output, g.pad_top, g.pad_left), ([100, 33], 0, 0));
    assert_eq!(g.pad_after(), [1, 1]);
    let g = DepthwiseGeometry::same([7, 1], 3, 2);
    assert_eq!((g.output, g.pad_top, g.pad_left), ([4, 1], 1, 1));
    assert_eq!(g.pad_after(), [1, 1]);
}

/// (kernel, stride, height, width): kernels 3 and 5, strides 1 to 3, odd and even sizes,
/// inputs smaller than a kernel.
const CASES: [(usize, usize, usize, usize); 7] = [
    (3, 1, 7, 9),
    (5, 2, 11, 8),
    (3, 2, 10, 10),
    (5, 1, 4, 3),
    (3, 2, 1, 2),
    (5, 2, 13, 17),
    (3, 3, 8, 7),
];

#[test]
fn forward_equals_the_definition() {
    for (k, s, h, w) in CASES {
        let g = DepthwiseGeometry::same([h, w], k, s);
        let (n, c) = (2, 3);
        let x = values(n * c * h * w, 0.3);
        let wt = values(c * k * k, 1.1);
        let want = direct(&x, &wt, n, c, &g);
        let got = forward(&x, &wt, c, &g);
        for (a, b) in got.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-5, "k {k} s {s}: {a} vs {b}");
        }
    }
}

/// The gradients by the definition, term by term, in f64: (dx, dw).
fn direct_grads(
    x: &[f32],
    w: &[f32],
    gy: &[f32],
    n: usize,
    c: usize,
    g: &DepthwiseGeometry,
) -> (Vec<f64>, Vec<f64>) {
    let (k, s) = (g.kernel, g.stride);
    let ([h, wd], [ho, wo]) = (g.input, g.output);
    let (mut dx, mut dw) = (vec![0f64; x.len()], vec![0f64; w.len()]);
    for p in 0..n * c {
        for i in 0..ho {
            for j in 0..wo {
                let gv = gy[p * ho * wo + i * wo + j] as f64;
                for a in 0..k {
                    for b in 0..k {
                        let r = (i * s + a) as isize - g.pad_top as isize;
                        let q = (j * s + b) as isize - g.pad_left as isize;
                        if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < wd {
                            let xi = p * h * wd + r as usize * wd + q as usize;
                            let wi = (p % c) * k * k + a * k + b;
                            dx[xi] += w[wi] as f64 * gv;
                            dw[wi] += x[xi] as f64 * gv;
                        }
                    }
                }
            }
        }
    }
    (dx, dw)
}

#[test]
fn gradients_equal_the_definition() {
    for (k, s, h, w) in CASES {
        let g = DepthwiseGeometry::same([h, w], k, s);
        let (n, c) = (2, 3);
        let x = values(n * c * h * w, 0.3);
        let wt = values(c * k * k, 1.1);
        let gy = values(n * c * g.output[0] * g.output[1], 2.7);
        let (want_dx, want_dw) = direct_grads(&x, &wt, &gy, n, c, &g);
        let dx = backward_x(&wt, &gy, c, &g);
        let dw = backward_weight(&x, &gy, c, &g);
        for (a, b) in dx.iter().zip(&want_dx) {
            assert!(
                (*a as f64 - b).abs() < 1e-5,
                "dx, k {k} s {s} {h}×{w}: {a} vs {b}"
            );
        }
        for (a, b) in dw.iter().zip(&want_dw) {
            assert!(
                (*a as f64 - b).abs() < 1e-4,
                "dw, k {k} s {s} {h}×{w}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn gradients_are_the_adjoints_of_the_forward_pass() {
    // ⟨conv(x; w), g⟩ is linear in x and in w, so ⟨x, ∂/∂x⟩ = ⟨w, ∂/∂w⟩ = ⟨conv(x; w), g⟩.
    for (k, s, h, w) in [(3, 1, 7, 9), (5, 2, 11, 8), (3, 2, 10, 10), (5, 1, 4, 3)] {
        let g = DepthwiseGeometry::same([h, w], k, s);
        let (n, c) = (3, 2);
        let x = values(n * c * h * w, 0.3);
        let wt = values(c * k * k, 1.1);
        let gy = values(n * c * g.output[0] * g.output[1], 2.7);
        let y = direct(&x, &wt, n, c, &g);
        let inner: f64 = y.iter().zip(&gy).map(|(a, b)| a * *b as f64).sum();
        let dx = backward_x(&wt, &gy, c, &g);
        let dw = backward_weight(&x, &gy, c, &g);
        let via_x: f64 = dx.iter().zip(&x).map(|(a, b)| *a as f64 * *b as f64).sum();
        let via_w: f64 = dw.iter().zip(&wt).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert!(
            (via_x - inner).abs() < 1e-4 * inner.abs().max(1.0),
            "k {k} s {s}"
        );
        assert!(
            (via_w - inner).abs() < 1e-4 * inner.abs().max(1.0),
            "k {k} s {s}"
        );
    }
}
