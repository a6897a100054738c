//! Numerical checks shared by the profiles' tests.
use super::*;

/// Points on a spiral that avoid the exact centre, arcsec.
pub fn sample_points() -> Vec<(f64, f64)> {
    (0..40)
        .map(|k| {
            let r = 0.07 + 0.11 * k as f64;
            let t = 0.7 + 2.39996 * k as f64;
            (r * t.cos() + 0.013, r * t.sin() - 0.021)
        })
        .collect()
}

/// Central finite differences of the deflection: (∂αx/∂x, ∂αx/∂y, ∂αy/∂x, ∂αy/∂y).
pub fn fd_jacobian(p: &impl MassProfile, x: f64, y: f64, h: f64) -> [f64; 4] {
    let (axp, ayp) = p.deflection(x + h, y);
    let (axm, aym) = p.deflection(x - h, y);
    let (bxp, byp) = p.deflection(x, y + h);
    let (bxm, bym) = p.deflection(x, y - h);
    [
        (axp - axm) / (2.0 * h),
        (bxp - bxm) / (2.0 * h),
        (ayp - aym) / (2.0 * h),
        (byp - bym) / (2.0 * h),
    ]
}

/// Up to `LANES` points as f32 lanes (x, y), zero-padded.
fn f32_lanes(points: &[(f64, f64)]) -> ([f32; crate::simd::LANES], [f32; crate::simd::LANES]) {
    let mut xs = [0f32; crate::simd::LANES];
    let mut ys = [0f32; crate::simd::LANES];
    for (k, &(x, y)) in points.iter().enumerate() {
        xs[k] = x as f32;
        ys[k] = y as f32;
    }
    (xs, ys)
}

/// Asserts that the single-precision deflection in lanes matches the f64 one at every
/// sample point, to `rel` of |α| + 1e-6 arcsec.
pub fn check_lanes(p: &impl MassProfile, name: &str, rel: f64) {
    let pts = sample_points();
    for chunk in pts.chunks(crate::simd::LANES) {
        let (xs, ys) = f32_lanes(chunk);
        let (ax, ay) = p.deflection_lanes(Lanes::new(xs), Lanes::new(ys));
        let (ax, ay) = (ax.to_array(), ay.to_array());
        for k in 0..chunk.len() {
            let (wx, wy) = p.deflection(xs[k] as f64, ys[k] as f64);
            let tol = rel * wx.hypot(wy) + 1e-6;
            assert!(
                (ax[k] as f64 - wx).abs() < tol && (ay[k] as f64 - wy).abs() < tol,
                "{name}: lanes ({}, {}) vs f64 ({wx}, {wy}) at ({}, {})",
                ax[k],
                ay[k],
                xs[k],
                ys[k]
            );
        }
    }
}

/// Asserts that the single-precision Hessian in lanes and its λ_t match the f64 ones at
/// `points` (rounded to f32 first), to 4e-6 of 1 + |ψ_xx| + |ψ_xy| + |ψ_yy| (f32 rounding of
/// a few dozen operations).
pub fn check_hessian_lanes_at(p: &impl MassProfile, name: &str, points: &[(f64, f64)]) {
    for chunk in points.chunks(crate::simd::LANES) {
        let (xs, ys) = f32_lanes(chunk);
        let h8 = p.hessian_lanes(Lanes::new(xs), Lanes::new(ys));
        let got = [
            h8.xx,
            h8.xy,
            h8.yy,
            h8.lambda_tangential(),
            h8.lambda_radial(),
        ]
        .map(|v| v.to_array());
        for k in 0..chunk.len() {
            let h = p.hessian(xs[k] as f64, ys[k] as f64);
            let want = [h.xx, h.xy, h.yy, h.lambda_tangential(), h.lambda_radial()];
            let tol = 4e-6 * (1.0 + h.xx.abs() + h.xy.abs() + h.yy.abs());
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g[k] as f64 - w).abs() < tol,
                    "{name}: lanes {} vs f64 {w} at ({}, {}) [xx, xy, yy, λ_t]",
                    g[k],
                    xs[k],
                    ys[k]
                );
            }
        }
    }
}

/// [`check_hessian_lanes_at`] at the sample points.
pub fn check_hessian_lanes(p: &impl MassProfile, name: &str) {
    check_hessian_lanes_at(p, name, &sample_points());
}

/// Asserts, at every sample point: κ = ½∇·α (finite differences), the Hessian equals the
/// finite-difference Jacobian of α (which must be symmetric), and α = ∇ψ where ψ exists.
pub fn check_consistency(p: &impl MassProfile, name: &str) {
    let h = 1e-5;
    for (x, y) in sample_points() {
        let j = fd_jacobian(p, x, y, h);
        let hess = p.hessian(x, y);
        let scale = 1.0 + hess.xx.abs() + hess.yy.abs() + hess.xy.abs();
        let tol = 1e-6 * scale;
        let kappa_fd = 0.5 * (j[0] + j[3]);
        assert!(
            (p.convergence(x, y) - kappa_fd).abs() < tol,
            "{name}: κ {} vs ½∇·α {kappa_fd} at ({x}, {y})",
            p.convergence(x, y)
        );
        assert!(
            (hess.xx - j[0]).abs() < tol,
            "{name}: ψxx {} vs {} at ({x},{y})",
            hess.xx,
            j[0]
        );
        assert!(
            (hess.yy - j[3]).abs() < tol,
            "{name}: ψyy {} vs {} at ({x},{y})",
            hess.yy,
            j[3]
        );
        assert!(
            (hess.xy - j[1]).abs() < tol,
            "{name}: ψxy {} vs ∂αx/∂y {} at ({x},{y})",
            hess.xy,
            j[1]
        );
        assert!(
            (hess.xy - j[2]).abs() < tol,
            "{name}: ψxy {} vs ∂αy/∂x {} at ({x},{y})",
            hess.xy,
            j[2]
        );
        if let Some(psi) = p.potential(x, y) {
            let _ = psi;
            let gx = (p.potential(x + h, y).unwrap() - p.potential(x - h, y).unwrap()) / (2.0 * h);
            let gy = (p.potential(x, y + h).unwrap() - p.potential(x, y - h).unwrap()) / (2.0 * h);
            let (ax, ay) = p.deflection(x, y);
            let at = 1e-6 * (1.0 + ax.abs() + ay.abs());
            assert!(
                (gx - ax).abs() < at,
                "{name}: ∂ψ/∂x {gx} vs αx {ax} at ({x},{y})"
            );
            assert!(
                (gy - ay).abs() < at,
                "{name}: ∂ψ/∂y {gy} vs αy {ay} at ({x},{y})"
            );
        }
    }
}
