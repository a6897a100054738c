//! What the kernel tests share: a lens of every mass profile, the CPU reference and the
//! tolerance.

use sim::mass::{
    Lens, Mass, MassProfile, Nfw, PointMass, PointMassParams, Shear, Sie, SieParams, Tesis,
    TesisParams,
};

/// The tolerance for single-precision deflections: 10⁻⁵ relative.
pub const TOLERANCE: f64 = 1e-5;

/// The CPU's deflection of `lens` at (x, y) and the sum of its components' magnitudes there.
pub fn reference(lens: &Lens, x: f64, y: f64) -> ((f64, f64), f64) {
    let scale = lens
        .components
        .iter()
        .map(|c| {
            let (ax, ay) = c.deflection(x, y);
            ax.hypot(ay)
        })
        .sum();
    (lens.deflection(x, y), scale)
}

pub fn sie(theta_e: f64, q: f64, phi: f64, center: [f64; 2]) -> Mass {
    Mass::Sie(Sie::new(&SieParams {
        theta_e,
        q,
        phi,
        center,
    }))
}

/// One system of every kind, and the population's usual mixture.
pub fn lenses() -> Vec<Lens> {
    let nfw = |q: f64| Mass::Nfw(Nfw::from_angles(3.0, 0.6, q, 70.0, [0.05, 0.1]));
    let tesis = Mass::Tesis(Tesis::new(&TesisParams {
        theta_e: 1.1,
        r_trunc: 2.5,
        q: 0.65,
        phi: -40.0,
        center: [0.2, -0.1],
    }));
    let point = Mass::PointMass(PointMass::new(&PointMassParams {
        theta_e: 0.8,
        center: [0.0123, -0.0371],
    }));
    let shear = Mass::Shear(Shear::from_components(0.04, -0.03));
    vec![
        Lens::new(vec![sie(1.2, 0.7, 30.0, [0.1, -0.2])]),
        Lens::new(vec![sie(0.9, 1.0, 0.0, [0.0, 0.0])]),
        // Nearly round: the kernels' round branch (q ≥ 0.999).
        Lens::new(vec![sie(1.0, 0.9995, 10.0, [0.0, 0.0])]),
        Lens::new(vec![tesis.clone()]),
        Lens::new(vec![nfw(0.8)]),
        Lens::new(vec![nfw(1.0)]),
        Lens::new(vec![shear.clone()]),
        Lens::new(vec![point]),
        Lens::new(vec![tesis, nfw(0.85), shear]),
    ]
}

/// Whether (x, y) is within `r` of a component's centre (where the kernels are not judged).
pub fn near_centre(x: f64, y: f64, r: f64) -> bool {
    let centres = [
        [0.1, -0.2],
        [0.0, 0.0],
        [0.2, -0.1],
        [0.05, 0.1],
        [0.0123, -0.0371],
    ];
    centres.iter().any(|c| (x - c[0]).hypot(y - c[1]) < r)
}

/// The relative difference of a kernel's deflection (ax, ay) at (x, y) from the CPU's, judged
/// against the sum of the components' magnitudes there; panics beyond [`TOLERANCE`], naming
/// `what`.
pub fn check(lens: &Lens, x: f64, y: f64, (ax, ay): (f32, f32), what: &str) -> f64 {
    let ((rx, ry), scale) = reference(lens, x, y);
    let e = (ax as f64 - rx).hypot(ay as f64 - ry) / scale;
    assert!(
        e < TOLERANCE,
        "{what} at ({x}, {y}): kernel ({ax}, {ay}), CPU ({rx}, {ry}), relative {e:e}"
    );
    e
}

/// [`check`] for every system of `lenses` at every point of `pts`, the outputs indexed
/// s·points + p; the worst relative difference.
pub fn check_points(lenses: &[Lens], pts: &[(f32, f32)], ax: &[f32], ay: &[f32]) -> f64 {
    let mut worst = 0.0f64;
    for (s, lens) in lenses.iter().enumerate() {
        for (p, &(x, y)) in pts.iter().enumerate() {
            let k = s * pts.len() + p;
            let what = format!("system {s}");
            worst = worst.max(check(lens, x as f64, y as f64, (ax[k], ay[k]), &what));
        }
    }
    worst
}
