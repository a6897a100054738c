//! Every critical curve of a lens, tangential and radial, with its caustic: the zero contours
//! of both eigenvalues of the lensing Jacobian over a whole square, for `sim render --curves`
//! (generation needs only the tangential curve's size: [`super::critical_curves`]).

use super::{polygon_area, sample_eigenvalue, square_nodes, to_source_plane, CausticGrid};
use crate::geometry::HessianLanes;
use crate::mass::MassProfile;
use crate::simd::Lanes;

/// A critical curve and its image in the source plane.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CurvePair {
    /// Vertices of the critical curve, arcsec: a closed ring (its last vertex repeats the
    /// first).
    pub critical: Vec<[f64; 2]>,
    /// The same vertices through the lens equation β = θ − α(θ): the caustic, arcsec.
    pub caustic: Vec<[f64; 2]>,
}

/// Every critical curve of a lens in a square, with its caustic.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AllCurves {
    /// Where λ_t = 1 − κ − |γ| = 0, largest first: tangential arcs form along them.
    pub tangential: Vec<CurvePair>,
    /// Where λ_r = 1 − κ + |γ| = 0, largest first: radial arcs form along them. None for a
    /// singular isothermal profile (λ_r = 1), one inside the tangential curve for an NFW halo.
    pub radial: Vec<CurvePair>,
}

/// Every tangential and radial critical curve of `lens` in the square of `grid` (sampled whole
/// at `grid.step`, with no coarse pass) and their caustics. A ring around a single node (area
/// below one grid cell: a singular centre, sampled as inside) is not a curve the grid resolves
/// and is left out. Cost: (2·half_width/step)² Hessians per kind of curve.
pub fn all_critical_curves(lens: &(impl MassProfile + Sync), grid: CausticGrid) -> AllCurves {
    let hw = grid.half_width;
    let n = square_nodes(2.0 * hw, grid.step);
    let curves = |lambda: fn(&HessianLanes) -> Lanes| {
        let values = sample_eigenvalue(lens, [-hw, -hw], grid.step, n, lambda);
        let mut rings: Vec<(f64, Vec<[f64; 2]>)> = values
            .rings()
            .into_iter()
            .filter(|ring| polygon_area(ring) >= grid.step * grid.step)
            .map(|ring| match ring.len() < MIN_VERTICES {
                true => refine(lens, &ring, grid.step, lambda).unwrap_or(ring),
                false => ring,
            })
            .map(|ring| (polygon_area(&ring), ring))
            .collect();
        rings.sort_by(|a, b| b.0.total_cmp(&a.0));
        rings
            .into_iter()
            .map(|(_, critical)| CurvePair {
                caustic: to_source_plane(lens, &critical),
                critical,
            })
            .collect()
    };
    AllCurves {
        tangential: curves(HessianLanes::lambda_tangential),
        radial: curves(HessianLanes::lambda_radial),
    }
}

/// Fewer vertices than this and [`all_critical_curves`] traces a ring again on a finer grid.
const MIN_VERTICES: usize = 64;

/// `ring` (a zero contour of `lambda` traced at `step`) traced again over its bounding box,
/// widened by two steps, [`MIN_VERTICES`] nodes a side: of the rings there whose centroid lies
/// inside the coarse ring's bounding box, the one of area nearest the coarse ring's (another
/// curve reaching into the box is closed along its edge, and is not the one refined), if any.
/// A critical curve a few grid cells across, such as an NFW cusp's radial curve inside a
/// galaxy's, would otherwise be a polygon of a few vertices, and its caustic too.
fn refine(
    lens: &(impl MassProfile + Sync),
    ring: &[[f64; 2]],
    step: f64,
    lambda: fn(&HessianLanes) -> Lanes,
) -> Option<Vec<[f64; 2]>> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in ring {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let origin = [lo[0] - 2.0 * step, lo[1] - 2.0 * step];
    let side = (hi[0] - lo[0]).max(hi[1] - lo[1]) + 4.0 * step;
    // MIN_VERTICES nodes along the box's side: a ring across a third of it (the smallest,
    // a few steps across, with its four steps of margin) crosses about π/3 as many cell edges.
    let fine = side / MIN_VERTICES as f64;
    let values = sample_eigenvalue(lens, origin, fine, square_nodes(side, fine), lambda);
    let area = polygon_area(ring);
    let inside = |c: [f64; 2]| (0..2).all(|a| (lo[a]..=hi[a]).contains(&c[a]));
    values
        .rings()
        .into_iter()
        .filter(|r| inside(centroid(r)))
        .min_by(|a, b| {
            let misfit = |r: &[[f64; 2]]| (polygon_area(r) / area).ln().abs();
            misfit(a).total_cmp(&misfit(b))
        })
}

/// The mean of a ring's vertices (its first, repeated last, counted once), arcsec.
fn centroid(ring: &[[f64; 2]]) -> [f64; 2] {
    let open = &ring[..ring.len() - 1];
    let n = open.len() as f64;
    [0, 1].map(|a| open.iter().map(|p| p[a]).sum::<f64>() / n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caustics::critical_curves;
    use crate::caustics::tests::grid;
    use crate::mass::{Lens, Mass, Nfw, PointMass, PointMassParams, Shear, Sie, SieParams};

    /// The root of `f` in [lo, hi] (f(lo), f(hi) of opposite signs), by bisection.
    fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
        assert!(f(lo) * f(hi) < 0.0, "no sign change in [{lo}, {hi}]");
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if f(lo) * f(mid) <= 0.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn an_nfw_halo_has_a_tangential_and_a_radial_critical_circle() {
        // A circular NFW halo: the tangential critical circle is where α(r) = r, the radial one
        // where dα/dr = 1, and their caustics are circles of radius |r − α(r)| (0 for the
        // tangential one). Expected radii from the scalar f64 deflection (a central difference
        // for dα/dr) by bisection, independently of the single-precision Hessians the curves
        // are traced on.
        let nfw = Nfw::from_angles(3.0, 2.5, 1.0, 0.0, [0.0, 0.0]);
        let alpha = |r: f64| nfw.deflection(r, 0.0).0;
        let r_t = bisect(|r| alpha(r) - r, 0.1, 3.9);
        let d_alpha = |r: f64| (alpha(r + 1e-5) - alpha(r - 1e-5)) / 2e-5;
        let r_r = bisect(|r| d_alpha(r) - 1.0, 0.01, r_t);
        assert!(r_r > 0.2, "radial radius {r_r}\" too small for the grid");
        let curves = all_critical_curves(&nfw, grid());
        let radius = |p: &[f64; 2]| p[0].hypot(p[1]);
        let (t, r) = (&curves.tangential, &curves.radial);
        assert_eq!(
            (t.len(), r.len()),
            (1, 1),
            "{} tangential, {} radial",
            t.len(),
            r.len()
        );
        for p in &t[0].critical {
            assert!(
                (radius(p) - r_t).abs() < 2e-3,
                "{} against {r_t}",
                radius(p)
            );
        }
        for p in &t[0].caustic {
            assert!(
                radius(p) < 2e-3,
                "tangential caustic point at {}",
                radius(p)
            );
        }
        for p in &r[0].critical {
            assert!(
                (radius(p) - r_r).abs() < 2e-3,
                "{} against {r_r}",
                radius(p)
            );
        }
        let beta_r = (r_r - alpha(r_r)).abs();
        for p in &r[0].caustic {
            assert!(
                (radius(p) - beta_r).abs() < 2e-3,
                "{} against {beta_r}",
                radius(p)
            );
        }
        // Closed rings.
        for c in [&t[0].critical, &r[0].critical] {
            assert_eq!(c.first(), c.last());
        }
    }

    #[test]
    fn a_radial_curve_a_few_steps_across_is_traced_again_finely() {
        // A weaker halo: its radial critical circle (radius 0.047", from the scalar deflection
        // as above) spans under five grid steps, a polygon of a few vertices at that step; traced
        // again on a finer grid it has MIN_VERTICES or more, on the circle.
        let nfw = Nfw::from_angles(3.0, 0.55, 1.0, 0.0, [0.0, 0.0]);
        let alpha = |r: f64| nfw.deflection(r, 0.0).0;
        let d_alpha = |r: f64| (alpha(r + 1e-6) - alpha(r - 1e-6)) / 2e-6;
        let r_r = bisect(|r| d_alpha(r) - 1.0, 0.005, 1.0);
        assert!(2.0 * r_r < 5.0 * grid().step, "radial radius {r_r}\"");
        let curves = all_critical_curves(&nfw, grid());
        assert_eq!(curves.radial.len(), 1);
        let radial = &curves.radial[0];
        assert!(
            radial.critical.len() >= MIN_VERTICES,
            "{}",
            radial.critical.len()
        );
        for p in &radial.critical {
            let r = p[0].hypot(p[1]);
            assert!((r - r_r).abs() < 1e-3, "{r} against {r_r}");
        }
        let beta_r = (r_r - alpha(r_r)).abs();
        for p in &radial.caustic {
            let b = p[0].hypot(p[1]);
            assert!((b - beta_r).abs() < 2e-3, "{b} against {beta_r}");
        }
    }

    #[test]
    fn an_isothermal_lens_has_no_radial_critical_curve() {
        // λ_r = 1 − κ + |γ| = 1 everywhere for an SIE (κ = |γ|) and 1 ± the external shear with
        // it: no radial curve, only the tangential one, which is the one `critical_curves` finds.
        let quad = Lens::new(vec![
            Mass::Sie(Sie::new(&SieParams {
                theta_e: 1.0,
                q: 0.7,
                phi: 30.0,
                center: [0.2, 0.1],
            })),
            Mass::Shear(Shear::from_components(0.05, 0.02)),
        ]);
        let curves = all_critical_curves(&quad, grid());
        assert!(curves.radial.is_empty(), "{} radial", curves.radial.len());
        assert_eq!(curves.tangential.len(), 1);
        let one = critical_curves(&quad, grid()).unwrap();
        let area = polygon_area(&curves.tangential[0].critical);
        let one_area = polygon_area(&one.tangential);
        assert!(
            (area - one_area).abs() < 1e-3 * one_area,
            "{area} against {one_area}"
        );
    }

    #[test]
    fn two_lenses_far_apart_have_two_tangential_curves_largest_first() {
        // Two point masses 6" apart, θ_E 1" and 0.5": each has its own critical ring (their
        // rings join only when the separation is comparable with the radii).
        let pair = Lens::new(vec![
            Mass::PointMass(PointMass::new(&PointMassParams {
                theta_e: 0.5,
                center: [2.5, 0.0],
            })),
            Mass::PointMass(PointMass::new(&PointMassParams {
                theta_e: 1.0,
                center: [-2.5, 0.0],
            })),
        ]);
        let curves = all_critical_curves(&pair, grid());
        let t = &curves.tangential;
        assert_eq!(t.len(), 2);
        let area = |c: &CurvePair| polygon_area(&c.critical);
        assert!(area(&t[0]) > area(&t[1]));
        let centre_x =
            |c: &CurvePair| c.critical.iter().map(|p| p[0]).sum::<f64>() / c.critical.len() as f64;
        assert!((centre_x(&t[0]) + 2.5).abs() < 0.05 && (centre_x(&t[1]) - 2.5).abs() < 0.05);
    }
}
