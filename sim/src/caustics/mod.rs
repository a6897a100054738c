//! Critical curves and caustics from the lensing Jacobian on a grid.
//!
//! The tangential eigenvalue λ_t = 1 − κ − |γ| is sampled on a square grid; its zero contour
//! (marching squares with linear interpolation, the `contour` crate) is the tangential critical
//! curve, taken as the ring of largest area. The system's Einstein radius is the radius of the
//! circle of that area; the caustic is the curve mapped through β = θ − α(θ), and its
//! circumscribing radius is the largest distance of a caustic point from the caustic's centroid.

mod all;

pub use all::{all_critical_curves, AllCurves, CurvePair};

use contour::ContourBuilder;
use rayon::prelude::*;

use crate::geometry::HessianLanes;
use crate::mass::MassProfile;
use crate::simd::{in_lanes, Lanes, LANES};

/// Where and how finely λ_t is sampled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CausticGrid {
    /// Half the side of the sampled square, arcsec, centred on the origin.
    pub half_width: f64,
    /// Grid step, arcsec.
    pub step: f64,
}

impl CausticGrid {
    /// Default step of the fine pass, arcsec: Einstein radii to better than 0.1 % (tested).
    pub const DEFAULT_STEP: f64 = 0.02;
}

/// The tangential critical curve of a lens and its caustic.
#[derive(Clone, Debug, PartialEq)]
pub struct CriticalCurves {
    /// Vertices of the tangential critical curve, arcsec (closed ring).
    pub tangential: Vec<[f64; 2]>,
    /// Its image in the source plane: the tangential caustic, arcsec.
    pub caustic: Vec<[f64; 2]>,
    /// sqrt(area inside the tangential critical curve / π), arcsec.
    pub einstein_radius: f64,
    /// Centroid of the caustic's vertices, arcsec.
    pub caustic_center: [f64; 2],
    /// Largest distance of a caustic vertex from `caustic_center`, arcsec.
    pub caustic_radius: f64,
}

/// Area enclosed by a closed polygon (shoelace formula), arcsec², positive.
pub fn polygon_area(points: &[[f64; 2]]) -> f64 {
    let n = points.len();
    let mut s = 0.0;
    for k in 0..n {
        let (a, b) = (points[k], points[(k + 1) % n]);
        s += a[0] * b[1] - b[0] * a[1];
    }
    0.5 * s.abs()
}

/// Step of the first, coarse pass that finds where the tangential critical curve lies, arcsec.
const COARSE_STEP: f64 = 0.2;

/// The tangential critical curve and caustic of `lens` on `grid`, or `None` if the lens is
/// subcritical there (no tangential critical curve).
///
/// A coarse pass (0.2" steps over the whole square) finds the nodes inside the curve
/// (λ_t < 0); the fine pass samples only their bounding box, widened by two coarse steps,
/// at `grid.step`. Where no coarse node is inside, the fine pass looks at ±4 coarse steps
/// around the origin, so curves smaller than the coarse grid are still found.
pub fn critical_curves(
    lens: &(impl MassProfile + Sync),
    grid: CausticGrid,
) -> Option<CriticalCurves> {
    let hw = grid.half_width;
    let coarse = sample_lambda(
        lens,
        [-hw, -hw],
        COARSE_STEP,
        square_nodes(2.0 * hw, COARSE_STEP),
    );
    let (lo, hi) = match coarse.inside_bounds() {
        Some((lo, hi)) => (
            [
                (lo[0] - 2.0 * COARSE_STEP).max(-hw),
                (lo[1] - 2.0 * COARSE_STEP).max(-hw),
            ],
            [
                (hi[0] + 2.0 * COARSE_STEP).min(hw),
                (hi[1] + 2.0 * COARSE_STEP).min(hw),
            ],
        ),
        None => ([-4.0 * COARSE_STEP; 2], [4.0 * COARSE_STEP; 2]),
    };
    let side = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let fine = sample_lambda(lens, lo, grid.step, square_nodes(side, grid.step));
    let tangential = fine.largest_ring()?;
    let einstein_radius = (polygon_area(&tangential) / std::f64::consts::PI).sqrt();
    let caustic = to_source_plane(lens, &tangential);
    let m = caustic.len() as f64;
    let caustic_center = [
        caustic.iter().map(|p| p[0]).sum::<f64>() / m,
        caustic.iter().map(|p| p[1]).sum::<f64>() / m,
    ];
    let caustic_radius = caustic
        .iter()
        .map(|p| (p[0] - caustic_center[0]).hypot(p[1] - caustic_center[1]))
        .fold(0.0, f64::max);
    Some(CriticalCurves {
        tangential,
        caustic,
        einstein_radius,
        caustic_center,
        caustic_radius,
    })
}

/// `points` (arcsec) through the lens equation β = θ − α(θ): a critical curve's caustic.
pub(super) fn to_source_plane(lens: &impl MassProfile, points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    points
        .iter()
        .map(|&[x, y]| {
            let (ax, ay) = lens.deflection(x, y);
            [x - ax, y - ay]
        })
        .collect()
}

/// Nodes per side of a square of side `side` sampled every `step` (even, so that a square
/// centred on the origin has no node on it, where singular profiles have no Jacobian).
pub(super) fn square_nodes(side: f64, step: f64) -> usize {
    (((side / step).ceil() as usize).max(4) + 1) & !1
}

/// −λ (an eigenvalue of the lensing Jacobian) sampled on an n×n grid of nodes at
/// origin + (k + ½)·step.
pub(super) struct LambdaGrid {
    origin: [f64; 2],
    step: f64,
    n: usize,
    values: Vec<f64>,
}

/// −λ_t (λ_t = 1 − κ − |γ|) on the grid: ≥ 0 inside the tangential critical curve.
fn sample_lambda(
    lens: &(impl MassProfile + Sync),
    origin: [f64; 2],
    step: f64,
    n: usize,
) -> LambdaGrid {
    sample_eigenvalue(lens, origin, step, n, HessianLanes::lambda_tangential)
}

/// −λ of one eigenvalue of the lensing Jacobian (`lambda`, λ_t or λ_r) on an n×n grid of
/// nodes at origin + (k + ½)·step.
pub(super) fn sample_eigenvalue(
    lens: &(impl MassProfile + Sync),
    origin: [f64; 2],
    step: f64,
    n: usize,
    lambda: impl Fn(&HessianLanes) -> Lanes + Sync,
) -> LambdaGrid {
    let node = |o: f64, k: usize| o + (k as f64 + 0.5) * step;
    let mut values = vec![0f64; n * n];
    values.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        // `LANES` nodes at a time in single precision: λ_t to ~1e-6, which moves the interpolated
        // curve by ~1e-6/|∇λ_t| arcsec, far below the step.
        let y = Lanes::splat(node(origin[1], i) as f32);
        for (c, chunk) in row.chunks_mut(LANES).enumerate() {
            let x = Lanes::new(std::array::from_fn(|k| {
                node(origin[0], LANES * c + k) as f32
            }));
            let l = lambda(&lens.hessian_lanes(x, y)).to_array();
            for (v, &l) in chunk.iter_mut().zip(&l) {
                // −λ ≥ 0 inside the critical curve; NaN (a singular centre) counts as inside.
                *v = if l.is_nan() { 1.0 } else { -l as f64 };
            }
        }
    });
    LambdaGrid {
        origin,
        step,
        n,
        values,
    }
}

impl LambdaGrid {
    /// The lower-left and upper-right nodes inside the curve (−λ_t ≥ 0), if any.
    fn inside_bounds(&self) -> Option<([f64; 2], [f64; 2])> {
        let mut b: Option<([f64; 2], [f64; 2])> = None;
        for (k, &v) in self.values.iter().enumerate() {
            if v >= 0.0 {
                let p = [
                    self.origin[0] + ((k % self.n) as f64 + 0.5) * self.step,
                    self.origin[1] + ((k / self.n) as f64 + 0.5) * self.step,
                ];
                b = Some(match b {
                    None => (p, p),
                    Some((lo, hi)) => (
                        [lo[0].min(p[0]), lo[1].min(p[1])],
                        [hi[0].max(p[0]), hi[1].max(p[1])],
                    ),
                });
            }
        }
        b
    }

    /// The ring of largest area of the zero contour.
    fn largest_ring(&self) -> Option<Vec<[f64; 2]>> {
        self.rings()
            .into_iter()
            .max_by(|a, b| polygon_area(a).total_cmp(&polygon_area(b)))
    }

    /// The zero contour's rings of three vertices or more (marching squares, linear
    /// interpolation), arcsec.
    pub(super) fn rings(&self) -> Vec<Vec<[f64; 2]>> {
        // `contour` places value k at coordinate k + ½ (d3-contour's convention), so the grid's
        // origin and step map its coordinates onto the nodes.
        let Ok(lines) = ContourBuilder::new(self.n, self.n, true)
            .x_origin(self.origin[0])
            .y_origin(self.origin[1])
            .x_step(self.step)
            .y_step(self.step)
            .lines(&self.values, &[0.0])
        else {
            return Vec::new();
        };
        let Some(zero) = lines.first() else {
            return Vec::new();
        };
        zero.geometry()
            .0
            .iter()
            .map(|ring| ring.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>())
            .filter(|ring| ring.len() >= 3)
            .collect()
    }
}

/// Nodes a side of the grid [`count_images`] lays over the square of half-side `half_width` at
/// `step` (arcsec): an even number, at least 4.
pub fn image_grid_nodes(half_width: f64, step: f64) -> usize {
    square_nodes(2.0 * half_width, step)
}

/// Number of images of the source-plane point `beta` (arcsec) inside the square of half-side
/// `half_width` centred on the origin: the cells of a grid of step `step` are split into two
/// triangles each, mapped through β = θ − α(θ), and every mapped triangle that contains
/// `beta` holds one image (either parity). Images closer together than a cell, next to a
/// critical curve, count once; images demagnified below |μ| = 0.01 are not counted.
pub fn count_images(
    lens: &(impl MassProfile + Sync),
    beta: [f64; 2],
    half_width: f64,
    step: f64,
) -> u32 {
    let n = image_grid_nodes(half_width, step);
    let node = |k: usize| -half_width + (k as f64 + 0.5) * 2.0 * half_width / n as f64;
    // Source-plane position of every node, relative to beta, row by row in chunks of `LANES`
    // (each mass component along the whole row at once).
    let xs = in_lanes(&(0..n).map(|k| node(k) as f32).collect::<Vec<_>>());
    let mut mapped = vec![[0f64; 2]; n * n];
    mapped.par_chunks_mut(n).enumerate().for_each_init(
        || (vec![Lanes::ZERO; xs.len()], vec![Lanes::ZERO; xs.len()]),
        |(ax, ay), (i, row)| {
            let y = Lanes::splat(node(i) as f32);
            ax.fill(Lanes::ZERO);
            ay.fill(Lanes::ZERO);
            lens.add_deflections_lanes(&xs, y, ax, ay);
            for (c, out) in row.chunks_mut(LANES).enumerate() {
                let (bx, by) = ((xs[c] - ax[c]).to_array(), (y - ay[c]).to_array());
                for (l, o) in out.iter_mut().enumerate() {
                    *o = [bx[l] as f64 - beta[0], by[l] as f64 - beta[1]];
                }
            }
        },
    );
    // A triangle mapped to more than 100 times its area is an image demagnified below
    // |μ| = 0.01 (the central image of a singular or cuspy profile, which a singular centre
    // turns into a spurious wrap-around): not counted.
    let cell = (2.0 * half_width / n as f64).powi(2) / 2.0;
    let max_area = 100.0 * cell;
    let area = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs()
    };
    // The origin (beta) is inside triangle abc when the three edge cross products share a sign.
    let contains = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        let cross = |p: [f64; 2], q: [f64; 2]| p[0] * q[1] - p[1] * q[0];
        let (d1, d2, d3) = (cross(a, b), cross(b, c), cross(c, a));
        (d1 >= 0.0 && d2 >= 0.0 && d3 >= 0.0) || (d1 <= 0.0 && d2 <= 0.0 && d3 <= 0.0)
    };
    (0..n - 1)
        .into_par_iter()
        .map(|i| {
            let mut k = 0u32;
            for j in 0..n - 1 {
                let (p00, p01, p10, p11) = (
                    mapped[i * n + j],
                    mapped[i * n + j + 1],
                    mapped[(i + 1) * n + j],
                    mapped[(i + 1) * n + j + 1],
                );
                for (a, b, c) in [(p00, p01, p11), (p00, p11, p10)] {
                    k += u32::from(contains(a, b, c) && area(a, b, c) < max_area);
                }
            }
            k
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mass::{Lens, Mass, PointMass, PointMassParams, Shear, Sie, SieParams};

    pub(super) fn grid() -> CausticGrid {
        CausticGrid {
            half_width: 4.0,
            step: CausticGrid::DEFAULT_STEP,
        }
    }

    #[test]
    fn sis_critical_curve_is_the_einstein_circle_and_its_caustic_a_point() {
        // Analytic: an SIS has λ_t = 1 − θ_E/r, a critical circle of radius θ_E and a
        // point caustic at its centre.
        let sis = Sie::new(&SieParams {
            theta_e: 1.3,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
        });
        let c = critical_curves(&sis, grid()).unwrap();
        assert!(
            (c.einstein_radius - 1.3).abs() < 2e-4,
            "{}",
            c.einstein_radius
        );
        for p in &c.tangential {
            assert!((p[0].hypot(p[1]) - 1.3).abs() < 2e-3);
        }
        assert!(c.caustic_radius < 2e-3, "{}", c.caustic_radius);
    }

    #[test]
    fn point_mass_ring_is_at_theta_e() {
        // Analytic: λ_t = 1 − θ_E²/r², zero at r = θ_E.
        let pm = PointMass::new(&PointMassParams {
            theta_e: 0.8,
            center: [0.0, 0.0],
        });
        let c = critical_curves(&pm, grid()).unwrap();
        assert!(
            (c.einstein_radius - 0.8).abs() < 2e-4,
            "{}",
            c.einstein_radius
        );
    }

    #[test]
    fn sie_with_shear_has_an_astroid_caustic_of_the_analytic_size() {
        // An SIS plus external shear γ has a tangential caustic that is an astroid with
        // cusps at distance 2γθ_E/(1 − γ) (along the shear's axes) from the centre
        // (e.g. Kormann, Schneider & Bartelmann 1994; Schneider, Ehlers & Falco §8.3): the
        // circumscribing radius is that cusp distance.
        let (te, g) = (1.0, 0.1);
        let lens = Lens::new(vec![
            Mass::Sie(Sie::new(&SieParams {
                theta_e: te,
                q: 1.0,
                phi: 0.0,
                center: [0.0, 0.0],
            })),
            Mass::Shear(Shear::from_components(g, 0.0)),
        ]);
        let c = critical_curves(&lens, grid()).unwrap();
        let cusp = 2.0 * g * te / (1.0 - g);
        assert!(
            (c.caustic_radius - cusp).abs() / cusp < 1e-2,
            "{} vs {cusp}",
            c.caustic_radius
        );
        assert!(c.caustic_center[0].abs() < 1e-3 && c.caustic_center[1].abs() < 1e-3);
    }

    #[test]
    fn a_critical_curve_smaller_than_the_coarse_step_is_found() {
        // θ_E = 0.12" lies between the coarse pass's nodes; the fallback box finds it.
        let sis = Sie::new(&SieParams {
            theta_e: 0.12,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
        });
        let c = critical_curves(
            &sis,
            CausticGrid {
                half_width: 4.0,
                step: 0.005,
            },
        )
        .unwrap();
        assert!(
            (c.einstein_radius - 0.12).abs() < 1e-3,
            "{}",
            c.einstein_radius
        );
    }

    #[test]
    fn an_off_centre_lens_is_found_by_the_coarse_pass() {
        let sis = Sie::new(&SieParams {
            theta_e: 0.8,
            q: 0.6,
            phi: 10.0,
            center: [2.5, -1.5],
        });
        let c = critical_curves(&sis, grid()).unwrap();
        // An SIE's tangential critical curve encloses the area π θ_E² only approximately for
        // q < 1 (the curve is the κ = ½ ellipse only for q = 1), so check the centre.
        let m = c.tangential.len() as f64;
        let cx = c.tangential.iter().map(|p| p[0]).sum::<f64>() / m;
        let cy = c.tangential.iter().map(|p| p[1]).sum::<f64>() / m;
        assert!(
            (cx - 2.5).abs() < 0.02 && (cy + 1.5).abs() < 0.02,
            "({cx}, {cy})"
        );
    }

    #[test]
    fn image_counts_of_an_sie_with_shear() {
        // Analytic facts: a source outside the caustic of an SIS has one image, inside it two;
        // an SIE with shear images a source near its centre four times (inside the astroid
        // caustic) and one outside both caustics once.
        let sis = Sie::new(&SieParams {
            theta_e: 1.0,
            q: 1.0,
            phi: 0.0,
            center: [0.0, 0.0],
        });
        assert_eq!(count_images(&sis, [0.4, 0.1], 4.0, 0.02), 2);
        assert_eq!(count_images(&sis, [1.5, 0.3], 4.0, 0.02), 1);
        let quad = Lens::new(vec![
            Mass::Sie(Sie::new(&SieParams {
                theta_e: 1.0,
                q: 0.7,
                phi: 0.0,
                center: [0.0, 0.0],
            })),
            Mass::Shear(Shear::from_components(0.05, 0.0)),
        ]);
        assert_eq!(count_images(&quad, [0.02, 0.01], 4.0, 0.02), 4);
        assert_eq!(count_images(&quad, [2.0, 1.5], 4.0, 0.02), 1);
    }

    #[test]
    fn subcritical_lens_has_no_critical_curve() {
        let pm = Lens::new(vec![Mass::Shear(Shear::from_components(0.1, 0.0))]);
        assert!(critical_curves(&pm, grid()).is_none());
    }
}
