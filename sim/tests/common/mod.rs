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

/// Three systems of the sglc2 population on Euclid (Sersic bulges with spiral discs, clumpy
/// sources, NFW + TESIS + shear) and one with every light kind: a Sersic and a two-armed disc as
/// lens light, a clumpy source.
pub fn render_systems() -> Vec<sim::raytrace::System> {
    use sim::light::{Clumpy, ClumpyParams, Disc, DiscParams, Knot, Light, Sersic, SersicParams};
    use sim::raytrace::{LightComponent, System};
    let survey = sim::observe::Survey::load("euclid").unwrap();
    let population = sim::population::Population::new(
        sim::population::PopulationConfig::load("sglc2").unwrap(),
        &survey,
    )
    .unwrap();
    let mut systems: Vec<System> = (0..3u64)
        .map(|k| {
            let spec = population.sample(5, k).spec;
            spec.build(&survey, std::path::Path::new("population"))
                .unwrap()
        })
        .collect();
    // Every light kind: a Sersic and a two-armed disc as lens light, a clumpy source.
    let light = |profile: Light, flux: f64| LightComponent {
        profile,
        flux: vec![flux, 0.5 * flux, 0.25 * flux, 0.1 * flux],
    };
    systems.push(System {
        lens: lenses()[8].clone(),
        lens_light: vec![
            light(
                Light::Sersic(Sersic::new(&SersicParams {
                    r_eff: 0.6,
                    n: 4.0,
                    q: 0.7,
                    phi: 20.0,
                    center: [0.05, 0.1],
                    mag: None,
                    flux: None,
                })),
                300.0,
            ),
            light(
                Light::Disc(Disc::new(&DiscParams {
                    scale_length: 0.5,
                    inclination: 50.0,
                    phi: -30.0,
                    center: [0.05, 0.1],
                    arms: 2,
                    pitch: 15.0,
                    arm_amplitude: 0.6,
                    arm_phase: 40.0,
                    mag: None,
                    flux: None,
                })),
                120.0,
            ),
        ],
        source_light: vec![light(
            Light::Clumpy(Clumpy::new(&ClumpyParams {
                r_eff: 0.15,
                n: 1.0,
                q: 0.8,
                phi: 10.0,
                center: [0.3, -0.1],
                knots: vec![
                    Knot {
                        offset: [0.1, 0.05],
                        sigma: 0.03,
                        frac: 0.1,
                    },
                    Knot {
                        offset: [-0.08, 0.02],
                        sigma: 0.05,
                        frac: 0.15,
                    },
                ],
                mag: None,
                flux: None,
            })),
            40.0,
        )],
    });
    systems
}

/// Checks a kernel's images `lens` and `source` (index ((system · bands + band) · size + row) ·
/// size + column) of `systems` in `bands` on `grid` against the CPU's f64 renderer (and names
/// the CPU's f32 renderer's value in a failure): 10⁻⁴ of each image's peak per pixel, 10⁻⁵
/// relative in each image's total. Returns the worst of each.
pub fn check_render(
    systems: &[sim::raytrace::System],
    bands: &[usize],
    grid: &sim::raytrace::Grid,
    lens: &[f32],
    source: &[f32],
) -> (f64, f64) {
    use sim::raytrace::cpu::{render_grid, render_grid_f64};
    let pixels = grid.size * grid.size;
    assert_eq!(lens.len(), systems.len() * bands.len() * pixels);
    let (mut worst_pixel, mut worst_total) = (0.0f64, 0.0f64);
    for (s, system) in systems.iter().enumerate() {
        let fast = render_grid(system, grid, bands);
        let exact = render_grid_f64(system, grid, bands);
        for b in 0..bands.len() {
            let at = (s * bands.len() + b) * pixels;
            for (kernel, (cpu32, cpu64), what) in [
                (&lens, (&fast[b].0, &exact[b].0), "lens"),
                (&source, (&fast[b].1, &exact[b].1), "source"),
            ] {
                let got = &kernel[at..at + pixels];
                // An image with no light (a source without flux in a band) must stay dark.
                let peak =
                    (cpu64.iter().fold(0.0f32, |m, &v| m.max(v)) as f64).max(f64::MIN_POSITIVE);
                let (mut t_got, mut t_want) = (0.0f64, 0.0f64);
                for ((&g, &w), &f) in got.iter().zip(cpu64.iter()).zip(cpu32.iter()) {
                    let d = (g as f64 - w as f64).abs() / peak;
                    worst_pixel = worst_pixel.max(d);
                    assert!(
                        d < 1e-4,
                        "system {s} band {b} {what}: kernel {g}, CPU f64 {w}, CPU f32 {f}, peak {peak}"
                    );
                    t_got += g as f64;
                    t_want += w as f64;
                }
                let rel = (t_got - t_want).abs() / t_want.max(f64::MIN_POSITIVE);
                worst_total = worst_total.max(rel);
                assert!(
                    rel < 1e-5,
                    "system {s} band {b} {what}: total {t_got} vs {t_want}"
                );
            }
        }
    }
    (worst_pixel, worst_total)
}

/// The labels of a population (sglc2 on Euclid, `n` systems) ray-traced by `renderer` against
/// the CPU's, through `sim generate` in `dir` (same draws, same PSF, same noise realisation; only
/// the ray tracing differs: the f32 kernels against the CPU's f32 lane-parallel renderer). The
/// images differ by ~10⁻⁶ of their peak, so a criterion can change only where its quantity sits
/// at its threshold. Panics unless every n_pix_source is within 1 % (at least ±2 pixels) and
/// every μ_eff within 10⁻⁴ relative of the CPU's, and every differing label has such a quantity
/// across its threshold; returns the agreement in words and the number of systems whose image
/// count (`n_images`, counted by the renderer where it counts) differs from the CPU's.
pub fn check_labels(
    dir: &std::path::Path,
    renderer: std::sync::Arc<dyn sim::raytrace::BatchRenderer>,
    n: u64,
) -> (String, usize) {
    use sim::caustics::CausticGrid;
    use sim::generate::{generate, GenerateOptions, RunConfig, RunSettings};

    let cfg = RunConfig {
        generate: RunSettings {
            n,
            seed: 31,
            supersample: 2,
            caustic_step: CausticGrid::DEFAULT_STEP,
            psf: true,
            noise: true,
        },
        survey: sim::observe::Survey::load("euclid").unwrap(),
        population: sim::population::PopulationConfig::load("sglc2").unwrap(),
        inject: None,
    };
    let (cpu, kernel) = (dir.join("cpu.h5"), dir.join("kernel.h5"));
    generate(&cfg, &cpu, &GenerateOptions::default(), &|_| {}).unwrap();
    let opts = GenerateOptions {
        block: 60,
        renderer: Some(renderer),
        ..GenerateOptions::default()
    };
    generate(&cfg, &kernel, &opts, &|_| {}).unwrap();

    let (a, b) = (
        hdf5_pure::File::open_streaming(&cpu).unwrap(),
        hdf5_pure::File::open_streaming(&kernel).unwrap(),
    );
    let f64s = |f: &hdf5_pure::File, name: &str| -> Vec<f64> {
        f.dataset(&format!("catalog/{name}"))
            .unwrap()
            .read_f64()
            .unwrap()
    };
    let i64s = |f: &hdf5_pure::File, name: &str| -> Vec<i64> {
        f.dataset(&format!("catalog/{name}"))
            .unwrap()
            .read_i64()
            .unwrap()
    };
    let labels = |f: &hdf5_pure::File| -> Vec<u8> {
        f.dataset("labels/is_lens").unwrap().read_u8().unwrap()
    };
    let criteria = &cfg.survey.labels;
    let (la, lb) = (labels(&a), labels(&b));
    let mut near_threshold = vec![false; n as usize];
    let (mut pix_differ, mut worst_pix, mut worst_mu) = (0usize, 0i64, 0.0f64);
    for band in ["VIS", "Y", "J", "H"] {
        let (pa, pb) = (
            i64s(&a, &format!("n_pix_source_{band}")),
            i64s(&b, &format!("n_pix_source_{band}")),
        );
        let (ma, mb) = (
            f64s(&a, &format!("mag_eff_{band}")),
            f64s(&b, &format!("mag_eff_{band}")),
        );
        for k in 0..n as usize {
            let dp = (pa[k] - pb[k]).abs();
            pix_differ += usize::from(dp > 0);
            worst_pix = worst_pix.max(dp);
            assert!(
                dp <= 2.max(pa[k] / 100),
                "system {k}, {band}: n_pix_source {} on the CPU, {} by the kernel",
                pa[k],
                pb[k]
            );
            let dm = if ma[k].is_nan() && mb[k].is_nan() {
                0.0
            } else {
                (ma[k] - mb[k]).abs() / ma[k].abs()
            };
            worst_mu = worst_mu.max(dm);
            assert!(
                dm <= 1e-4,
                "system {k}, {band}: μ_eff {} on the CPU, {} by the kernel",
                ma[k],
                mb[k]
            );
            let t = criteria.min_n_pix as i64;
            let crosses_pix = (pa[k] > t) != (pb[k] > t);
            let crosses_mu = (ma[k] > criteria.min_mag_eff) != (mb[k] > criteria.min_mag_eff);
            near_threshold[k] |= crosses_pix || crosses_mu;
        }
        let (ga, gb) = (
            i64s(&a, &format!("n_source_groups_{band}")),
            i64s(&b, &format!("n_source_groups_{band}")),
        );
        for k in 0..n as usize {
            let t = criteria.min_groups as i64;
            near_threshold[k] |= (ga[k] >= t) != (gb[k] >= t);
        }
    }
    let differ: Vec<usize> = (0..n as usize).filter(|&k| la[k] != lb[k]).collect();
    let (ia, ib) = (i64s(&a, "n_images"), i64s(&b, "n_images"));
    let images_differ = (0..n as usize).filter(|&k| ia[k] != ib[k]).count();
    let lenses = la.iter().filter(|&&l| l == 1).count();
    let summary = format!(
        "labels: {} of {n} agree ({lenses} lenses on the CPU); n_pix_source differs in {pix_differ} of {} (system, band) pairs, by at most {worst_pix}; μ_eff by at most {worst_mu:e} relative; n_images differs in {images_differ} of {n} systems",
        n as usize - differ.len(),
        4 * n
    );
    for &k in &differ {
        assert!(
            near_threshold[k],
            "system {k}: label {} on the CPU, {} by the kernel, with no criterion at its threshold",
            la[k], lb[k]
        );
    }
    (summary, images_differ)
}

/// The noise the noise-kernel tests draw: a faint sky (2 e⁻ a pixel over 100 s) so that pixel
/// means span the Poisson sampler's inversion (below 10 e⁻) and PTRS, with read noise.
#[allow(dead_code)]
pub fn test_noise_model() -> sim::observe::noise::NoiseModel {
    sim::observe::noise::NoiseModel {
        total_time: 100.0,
        n_exposures: 2,
        sky: 0.02,
        read_noise: 3.0,
        dark_current: 0.001,
    }
}
