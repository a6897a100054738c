//! The CUDA kernels on a GPU (built only with `--features cuda`) against the CPU: every mass
//! profile's deflection at scattered points and on the ray shooter's supersampled grid, to 10⁻⁵
//! relative (of the sum of the components' magnitudes) away from the singular centres; and the
//! renderer's images (lens light, lensed source, two bands) to 10⁻⁴ of the peak per pixel and
//! 10⁻⁵ in total flux. Where no GPU answers the test says it was skipped.
#![cfg(feature = "cuda")]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::raytrace::cuda::{cuda_unavailable, GpuDeflector};
use sim::raytrace::gpu::MassBatch;
use sim::raytrace::Grid;

mod common;
use common::{
    check, check_labels, check_points, check_render, lenses, near_centre, render_systems,
};

#[test]
fn gpu_deflections_equal_cpu_deflections() {
    if let Some(why) = cuda_unavailable() {
        eprintln!("skipped: no GPU ({why})");
        return;
    }
    let gpu = GpuDeflector::new().unwrap();
    let lenses = lenses();
    let batch = MassBatch::new(&lenses);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut pts: Vec<(f32, f32)> = (0..2000)
        .map(|_| (rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)))
        .collect();
    pts.retain(|&(x, y)| !near_centre(x as f64, y as f64, 0.01));
    let x: Vec<f32> = pts.iter().map(|p| p.0).collect();
    let y: Vec<f32> = pts.iter().map(|p| p.1).collect();
    let (ax, ay) = gpu.deflect_points(&batch, &x, &y).unwrap();
    let worst = check_points(&lenses, &pts, &ax, &ay);
    eprintln!("points: worst relative difference {worst:e}");

    let grid = Grid {
        size: 200,
        pixel_scale: 0.1,
        supersample: 2,
    };
    let (ax, ay) = gpu.deflect_grid(&batch, &grid).unwrap();
    let offsets = grid.subpixel_offsets();
    let (f, side) = (grid.supersample, grid.size * grid.supersample);
    let mut worst = 0.0f64;
    for (s, lens) in lenses.iter().enumerate() {
        for row in (0..side).step_by(7) {
            for col in (0..side).step_by(5) {
                let x = grid.pixel_center(col / f) + offsets[col % f];
                let y = grid.pixel_center(row / f) + offsets[row % f];
                if near_centre(x, y, 0.01) {
                    continue;
                }
                let k = s * grid.rays() + row * side + col;
                let e = check(
                    lens,
                    x,
                    y,
                    (ax[k], ay[k]),
                    &format!("system {s} ray ({row}, {col})"),
                );
                worst = worst.max(e);
            }
        }
    }
    eprintln!("grid: worst relative difference {worst:e}");

    let systems = render_systems();
    let bands = [0usize, 2];
    let batch = sim::raytrace::gpu::RenderBatch::new(&systems, &bands).unwrap();
    let grid = Grid {
        size: 200,
        pixel_scale: 0.1,
        supersample: 2,
    };
    let (lens, source) = gpu.render(&batch, &grid).unwrap();
    let (pixel, total) = check_render(&systems, &bands, &grid, &lens, &source);
    eprintln!("render: worst pixel difference {pixel:e} of the peak, worst total {total:e}");
}

/// `sim generate --device cuda`'s labels against the CPU's on a population
/// (`common::check_labels`): equal, or each difference at a threshold and bounded.
#[test]
fn gpu_labels_agree_with_the_cpu_on_a_population() {
    if let Some(why) = cuda_unavailable() {
        eprintln!("skipped: no GPU ({why})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let gpu = std::sync::Arc::new(GpuDeflector::new().unwrap());
    let (summary, n_images_differ) = check_labels(dir.path(), gpu, 2000);
    eprintln!("{summary}");
    // The image counts are the CPU's up to a mapped triangle's edge passing within float
    // rounding of the source centre: at most 1 % of the systems.
    assert!(n_images_differ <= 20, "{summary}");
}

/// The noise kernel on the GPU draws the CPU's noise: the same Philox words and arithmetic
/// (fused multiply-adds off), so every pixel is the CPU's bit for bit but where the GPU's
/// double `log`/`exp` (within 2 ulp, not correctly rounded as glibc's) tip a Poisson test or
/// the read noise's last bit: at most 1 pixel in 10⁴ may differ, each by at most one count
/// over T or 1e-6 of its value. Means span inversion and PTRS (10⁻² to 10⁶ electrons).
#[test]
fn gpu_noise_is_the_cpu_noise() {
    use sim::observe::cuda::GpuNoise;
    use sim::observe::noise::NoiseKey;
    if let Some(why) = cuda_unavailable() {
        eprintln!("skipped: no GPU ({why})");
        return;
    }
    let gpu = GpuNoise::new().unwrap();
    let model = common::test_noise_model();
    let (seed, band, pixels) = (0xDEAD_BEEF_1234u64, 1u32, 200 * 200);
    let systems: Vec<u64> = (0..16).map(|k| k * 1_000_003).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let clean: Vec<f32> = (0..pixels * systems.len())
        .map(|_| 10f32.powf(rng.random_range(-4.0..4.0)))
        .collect();
    for photon_only in [false, true] {
        let mut on_gpu = clean.clone();
        let mut block = sim::observe::noise::NoiseBlock {
            images: on_gpu.chunks_exact_mut(pixels).collect(),
            pixels,
            systems: &systems,
            seed,
            band,
            model: &model,
        };
        gpu.add_noise(&mut block, photon_only).unwrap();
        let mut differ = 0usize;
        for (s, &system) in systems.iter().enumerate() {
            let range = s * pixels..(s + 1) * pixels;
            let mut cpu =
                ndarray::Array2::from_shape_vec((200, 200), clean[range.clone()].to_vec()).unwrap();
            let key = NoiseKey { seed, system, band };
            match photon_only {
                false => model.add_noise(&mut cpu, key),
                true => model.add_source_photon_noise(&mut cpu, key),
            }
            for (&g, &c) in on_gpu[range].iter().zip(cpu.iter()) {
                if g.to_bits() != c.to_bits() {
                    differ += 1;
                    let bound = 1.0 / model.total_time as f32 + 1e-6 * c.abs();
                    assert!(
                        (g - c).abs() <= bound * 1.0001,
                        "system {system}: {g} vs {c}"
                    );
                }
            }
        }
        eprintln!(
            "photon only {photon_only}: {differ} of {} pixels differ",
            clean.len()
        );
        assert!(differ * 10_000 <= clean.len(), "{differ} pixels differ");
    }
}

/// The PSF on the GPU (`kernels/psf.cu`, fused multiply-adds off) convolves the GPU's own
/// rendered images as its CPU twin `PsfTaps::convolve` does, bit for bit: Euclid's Gaussians as
/// two passes (the twin is itself the CPU convolver's floats bit for bit, by the unit tests)
/// and a Moffat kernel, which is not separable, summed whole. Each ideal source image's flux is
/// the CPU's f64 sum of the same image, bit for bit.
#[test]
fn gpu_psf_convolves_as_the_cpu_does() {
    use sim::observe::convolve::PsfTaps;
    use sim::raytrace::BatchRenderer;
    if let Some(why) = cuda_unavailable() {
        eprintln!("skipped: no GPU ({why})");
        return;
    }
    let gpu = GpuDeflector::new().unwrap();
    let survey = sim::observe::Survey::load("euclid").unwrap();
    let bands = survey.band_grids();
    let systems = render_systems();
    let systems: Vec<&sim::raytrace::System> = systems.iter().collect();
    let gaussians = sim::observe::Observer::new(&survey).unwrap().psf_taps();
    assert!(gaussians
        .iter()
        .all(|t| matches!(t, PsfTaps::Separable { .. })));
    let moffat = survey
        .bands
        .iter()
        .map(|b| {
            let spec = sim::observe::psf::PsfSpec::Moffat {
                fwhm: 0.5,
                beta: 3.0,
            };
            PsfTaps::Full(spec.kernel(b.pixel_scale, b.size).unwrap())
        })
        .collect::<Vec<_>>();
    let ideal = gpu.render_batch(&systems, &bands, 2).unwrap();
    for (what, psfs) in [("Gaussian", gaussians), ("Moffat", moffat)] {
        let convolved = gpu
            .render_convolved_batch(&systems, &bands, 2, &psfs)
            .expect("the GPU convolves")
            .unwrap();
        let mut differ = 0usize;
        for (s, (ideal, got)) in ideal.iter().zip(&convolved.images).enumerate() {
            for (b, (ideal, got)) in ideal.iter().zip(got).enumerate() {
                let flux = sim::raytrace::image_flux(&ideal.source);
                assert_eq!(convolved.source_flux[s][b].to_bits(), flux.to_bits());
                for (image, got) in [(&ideal.lens, &got.lens), (&ideal.source, &got.source)] {
                    let want = psfs[b].convolve(image);
                    differ += want
                        .iter()
                        .zip(got)
                        .filter(|(w, g)| w.to_bits() != g.to_bits())
                        .count();
                }
            }
        }
        eprintln!("{what}: {differ} pixels differ from the CPU twin's");
        assert_eq!(differ, 0, "{what}");
    }
}
