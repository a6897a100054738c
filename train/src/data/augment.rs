//! Augmentation: a random rotation (any angle), mirroring in either axis and a zoom between 0.8
//! and 1.2, drawn per sample and applied alike to every band of a system, whatever its pixel
//! grid: the transform acts on sky coordinates relative to the stamp centre, so the VIS and NIR
//! stamps of one system stay aligned. Pixels are resampled bilinearly; outside the stamp the
//! edge pixel is repeated.

use ndarray::Array2;
use rand::RngExt;

/// One geometric transform of the sky.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    /// Rotation, radians counter-clockwise.
    pub angle: f64,
    /// Mirror x (columns) before rotating.
    pub flip_x: bool,
    /// Mirror y (rows) before rotating.
    pub flip_y: bool,
    /// Magnification (> 1 enlarges).
    pub zoom: f64,
}

impl Transform {
    /// The identity.
    pub const IDENTITY: Self = Self {
        angle: 0.0,
        flip_x: false,
        flip_y: false,
        zoom: 1.0,
    };

    /// A random transform: angle uniform in [0, 2π), each mirror with probability ½, zoom
    /// uniform in [0.8, 1.2].
    pub fn random(rng: &mut impl rand::Rng) -> Self {
        Self {
            angle: rng.random_range(0.0..std::f64::consts::TAU),
            flip_x: rng.random_bool(0.5),
            flip_y: rng.random_bool(0.5),
            zoom: rng.random_range(0.8..=1.2),
        }
    }

    /// The transformed image: output pixel (i, j) takes the input at the inverse-mapped point.
    pub fn apply(&self, image: &Array2<f32>) -> Array2<f32> {
        let (h, w) = image.dim();
        let (ci, cj) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let (s, c) = self.angle.sin_cos();
        Array2::from_shape_fn((h, w), |(i, j)| {
            // Output offset (x right, y up the rows), un-zoomed and rotated back, then un-mirrored.
            let (x, y) = ((j as f64 - cj) / self.zoom, (i as f64 - ci) / self.zoom);
            let (mut xs, mut ys) = (c * x + s * y, -s * x + c * y);
            if self.flip_x {
                xs = -xs;
            }
            if self.flip_y {
                ys = -ys;
            }
            bilinear(image, ci + ys, cj + xs)
        })
    }
}

/// Bilinear interpolation at fractional (row, column), repeating the edge outside.
fn bilinear(image: &Array2<f32>, r: f64, c: f64) -> f32 {
    let (h, w) = image.dim();
    let r = r.clamp(0.0, (h - 1) as f64);
    let c = c.clamp(0.0, (w - 1) as f64);
    let (r0, c0) = (r.floor() as usize, c.floor() as usize);
    let (r1, c1) = ((r0 + 1).min(h - 1), (c0 + 1).min(w - 1));
    let (fr, fc) = ((r - r0 as f64) as f32, (c - c0 as f64) as f32);
    let top = image[[r0, c0]] * (1.0 - fc) + image[[r0, c1]] * fc;
    let bottom = image[[r1, c0]] * (1.0 - fc) + image[[r1, c1]] * fc;
    top * (1.0 - fr) + bottom * fr
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ramp(h: usize, w: usize) -> Array2<f32> {
        Array2::from_shape_fn((h, w), |(i, j)| (i * 31 + j * 7 % 13) as f32)
    }

    #[test]
    fn identity_and_exact_quarter_turns() {
        let a = ramp(9, 9);
        assert_eq!(Transform::IDENTITY.apply(&a), a);
        // A quarter turn counter-clockwise lands every pixel on a pixel: out[i, j] = in[j', i']
        // with (x, y) → (−y, x) about the centre.
        let q = Transform {
            angle: std::f64::consts::FRAC_PI_2,
            ..Transform::IDENTITY
        }
        .apply(&a);
        for i in 0..9 {
            for j in 0..9 {
                assert!((q[[i, j]] - a[[8 - j, i]]).abs() < 1e-4, "({i}, {j})");
            }
        }
        // Mirroring twice is the identity.
        let m = Transform {
            flip_x: true,
            ..Transform::IDENTITY
        };
        assert_eq!(m.apply(&m.apply(&a)), a);
    }

    #[test]
    fn both_branches_move_together() {
        // A point 1.2" right and 0.6" up of the centre, on a 0.1"/px and a 0.3"/px grid: after
        // the same random transform its brightest pixel sits at the same sky offset in both.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..10 {
            let t = Transform::random(&mut rng);
            assert!((0.8..=1.2).contains(&t.zoom));
            let blob = |n: usize, scale: f64| {
                let c = (n as f64 - 1.0) / 2.0;
                Array2::from_shape_fn((n, n), |(i, j)| {
                    let (x, y) = ((j as f64 - c) * scale - 1.2, (i as f64 - c) * scale - 0.6);
                    (-(x * x + y * y) / (2.0 * 0.35f64.powi(2))).exp() as f32
                })
            };
            let peak = |a: &Array2<f32>, scale: f64| {
                let (n, _) = a.dim();
                let c = (n as f64 - 1.0) / 2.0;
                let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
                for ((i, j), &v) in a.indexed_iter() {
                    let v = (v as f64).powi(8); // sharpen: the centroid of the peak region
                    sw += v;
                    sx += v * (j as f64 - c) * scale;
                    sy += v * (i as f64 - c) * scale;
                }
                (sx / sw, sy / sw)
            };
            let (vx, vy) = peak(&t.apply(&blob(200, 0.1)), 0.1);
            let (nx, ny) = peak(&t.apply(&blob(66, 0.3)), 0.3);
            assert!(
                (vx - nx).abs() < 0.05 && (vy - ny).abs() < 0.05,
                "{t:?}: ({vx}, {vy}) vs ({nx}, {ny})"
            );
            // and the offset is the transformed one
            let (mut x, mut y) = (1.2, 0.6);
            if t.flip_x {
                x = -x;
            }
            if t.flip_y {
                y = -y;
            }
            let (s, c) = t.angle.sin_cos();
            let (ex, ey) = (t.zoom * (c * x - s * y), t.zoom * (s * x + c * y));
            assert!(
                (vx - ex).abs() < 0.05 && (vy - ey).abs() < 0.05,
                "{t:?}: ({vx}, {vy}) vs ({ex}, {ey})"
            );
        }
    }
}
