//! The CUDA deflection kernels (`kernels/mass.cu`) compiled as plain C++ (`kernels/host/`, with
//! CUDA's launch vocabulary emulated one thread at a time) and run on this CPU, against the
//! simulator's double-precision CPU path (`MassProfile::deflection`), which the physics tests
//! check against lenstronomy. This checks the kernels' formulas, their single-precision forms,
//! the component layout (`GpuMass`, 36 bytes, asserted by the C++ too), the batching of
//! systems and the grid's ray positions, without a GPU; the same comparison on a GPU is in the
//! `cuda` tests.
//!
//! Tolerance: the 10⁻⁵ relative in f32, relative to the sum of the components'
//! deflection magnitudes at the point (so that a point where a halo's and the shear's
//! deflections cancel is judged by the size of what cancels), away from the singular centres.

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::raytrace::gpu::{image_count_threads, MassBatch, IMAGE_COUNT_STRIP};
use sim::raytrace::Grid;

mod common;
use common::{
    check, check_labels, check_points, check_render, lenses, near_centre, render_systems,
};

/// Builds `kernels/host/<name>.cpp` with the system's C++ compiler ($CXX, else c++).
fn build_harness(dir: &Path, name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let exe = dir.join(name);
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let out = Command::new(&cxx)
        .args(["-O2", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(root.join(format!("kernels/host/{name}.cpp")))
        .output()
        .unwrap_or_else(|e| panic!("{cxx}: {e} (a C++ compiler is needed to test the kernels)"));
    assert!(
        out.status.success(),
        "{cxx} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs the harness `exe` on `input` (written to a file in `dir`) and returns what it wrote.
fn run_harness(exe: &Path, dir: &Path, input: &[u8]) -> Vec<u8> {
    let (i, o) = (dir.join("in.bin"), dir.join("out.bin"));
    std::fs::write(&i, input).unwrap();
    let status = Command::new(exe).arg(&i).arg(&o).status().unwrap();
    assert!(status.success(), "{}: {status}", exe.display());
    std::fs::read(&o).unwrap()
}

fn header(batch: &MassBatch, mode: u32) -> Vec<u8> {
    let mut b = mode.to_le_bytes().to_vec();
    b.extend(mass_bytes(batch));
    b
}

/// The components and `first` of `batch`, as the harnesses read them.
fn mass_bytes(batch: &MassBatch) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend((batch.components.len() as u32).to_le_bytes());
    for c in &batch.components {
        b.extend(c.to_bytes());
    }
    b.extend((batch.systems() as u32).to_le_bytes());
    for f in &batch.first {
        b.extend(f.to_le_bytes());
    }
    b
}

/// The render harness's input for one launch of `batch` on `grid` (kernels/host/render_main.cpp).
fn render_input(batch: &sim::raytrace::gpu::RenderBatch, grid: &Grid) -> Vec<u8> {
    let mut input = mass_bytes(&batch.mass);
    for (lights, first) in [
        (&batch.lens_lights, &batch.lens_first),
        (&batch.source_lights, &batch.source_first),
    ] {
        input.extend((lights.len() as u32).to_le_bytes());
        for l in lights {
            input.extend(l.to_bytes());
        }
        for f in first {
            input.extend(f.to_le_bytes());
        }
    }
    input.extend((batch.fluxes.len() as u32).to_le_bytes());
    for f in &batch.fluxes {
        input.extend(f.to_le_bytes());
    }
    for v in [batch.bands as u32, grid.size as u32] {
        input.extend(v.to_le_bytes());
    }
    input.extend((grid.pixel_scale as f32).to_le_bytes());
    input.extend((grid.supersample as u32).to_le_bytes());
    input
}

/// The render kernel compiled as C++ behind the batch-renderer interface, launched as the GPU's
/// renderer launches it (`gpu::render_in_launches`), and the image-counting kernel: what
/// `sim generate --device cuda` does, with this CPU in the GPU's place.
#[derive(Debug)]
struct HostKernel {
    render: PathBuf,
    mass: PathBuf,
    dir: PathBuf,
}

impl sim::raytrace::BatchRenderer for HostKernel {
    fn describe(&self) -> String {
        "kernels/light.cu compiled as C++".into()
    }

    fn render_batch(
        &self,
        systems: &[&sim::raytrace::System],
        bands: &[sim::raytrace::BandGrid],
        supersample: usize,
    ) -> Result<Vec<Vec<sim::raytrace::BandImage>>, String> {
        sim::raytrace::gpu::render_in_launches(systems, bands, supersample, |batch, grid, _| {
            Ok(run(&self.render, &self.dir, &render_input(batch, grid)))
        })
    }

    fn count_images(
        &self,
        systems: &[&sim::raytrace::System],
        betas: &[[f64; 2]],
        half_width: f64,
        step: f64,
    ) -> Option<Result<Vec<u32>, String>> {
        let batch = MassBatch::new(systems.iter().map(|s| &s.lens));
        let n = sim::caustics::image_grid_nodes(half_width, step);
        Some(Ok(count(
            &self.mass,
            &self.dir,
            &batch,
            betas,
            n,
            half_width,
            IMAGE_COUNT_STRIP,
        )))
    }
}

/// Runs `count_images` (kernels/mass.cu) through the mass harness: the image count of
/// `betas[s]` behind system s of `batch` on an n × n node grid of half-side `half_width`, with
/// `strip` cells a thread and as many threads as the CUDA launcher starts.
fn count(
    exe: &Path,
    dir: &Path,
    batch: &MassBatch,
    betas: &[[f64; 2]],
    n: usize,
    half_width: f64,
    strip: u32,
) -> Vec<u32> {
    let mut input = header(batch, 2);
    for b in betas.iter().flatten() {
        input.extend(b.to_le_bytes());
    }
    input.extend((n as u32).to_le_bytes());
    input.extend(half_width.to_le_bytes());
    input.extend(strip.to_le_bytes());
    input.extend(((betas.len() * image_count_threads(n, strip)) as u64).to_le_bytes());
    let (i, o) = (dir.join("count-in.bin"), dir.join("count-out.bin"));
    std::fs::write(&i, input).unwrap();
    let status = Command::new(exe).arg(&i).arg(&o).status().unwrap();
    assert!(status.success());
    std::fs::read(&o)
        .unwrap()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// The image-counting kernel against the CPU's `caustics::count_images` on the same grid (the
/// catalogue's: 10" half-width at 0.05", 400 × 400 nodes), for every mass profile and source
/// positions inside and outside the caustics: the counts are equal, whether a thread walks 3
/// cells (399 = 133 strips of 3), the launcher's 8 (the last strip of a row holds 7) or a
/// whole row. The CPU's own count is checked against analytic image numbers in the caustics
/// tests.
#[test]
fn image_count_kernel_matches_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build_harness(dir.path(), "mass_main");
    let betas = [[0.03, 0.02], [0.25, -0.1], [1.5, 0.8]];
    let lenses = lenses();
    // and, for each lens, the source whose image lies at (10.0, 0.013): just outside the last
    // column of nodes (at 9.975"), where no cell may count it
    let edge = |l: &sim::mass::Lens| {
        use sim::mass::MassProfile;
        let (ax, ay) = l.deflection(10.0, 0.013);
        [10.0 - ax, 0.013 - ay]
    };
    let pairs: Vec<(&sim::mass::Lens, [f64; 2])> = lenses
        .iter()
        .flat_map(|l| betas.into_iter().chain([edge(l)]).map(move |b| (l, b)))
        .collect();
    let batch = MassBatch::new(pairs.iter().map(|p| p.0));
    let bs: Vec<[f64; 2]> = pairs.iter().map(|p| p.1).collect();
    let (half_width, step) = (10.0, sim::render::IMAGE_COUNT_STEP);
    let n = sim::caustics::image_grid_nodes(half_width, step);
    let want: Vec<u32> = pairs
        .iter()
        .map(|(l, b)| sim::caustics::count_images(*l, *b, half_width, step))
        .collect();
    for strip in [3, IMAGE_COUNT_STRIP, 1000] {
        let got = count(&exe, dir.path(), &batch, &bs, n, half_width, strip);
        assert_eq!(got, want, "{strip} cells a thread");
    }
    // Not all the same: the cases span one, two, three and more images.
    let mut kinds = want.clone();
    kinds.sort();
    kinds.dedup();
    assert!(kinds.len() >= 3, "{want:?}");
    println!("image counts, kernel = CPU: {want:?}");
}

/// Runs the harness on `input`; returns (α_x, α_y) of every output.
fn run(exe: &Path, dir: &Path, input: &[u8]) -> (Vec<f32>, Vec<f32>) {
    let (i, o) = (dir.join("in.bin"), dir.join("out.bin"));
    std::fs::write(&i, input).unwrap();
    let status = Command::new(exe).arg(&i).arg(&o).status().unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&o).unwrap();
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let half = v.len() / 2;
    (v[..half].to_vec(), v[half..].to_vec())
}

#[test]
fn kernels_match_the_cpu_deflections_at_points_and_on_grids() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build_harness(dir.path(), "mass_main");
    let lenses = lenses();
    let batch = MassBatch::new(&lenses);

    // Points: random in [-4, 4]², and along a ray through NFW's r_s (x = 1) and its small-x
    // branch boundary (x = 0.9).
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut pts: Vec<(f32, f32)> = (0..400)
        .map(|_| (rng.random_range(-4.0..4.0), rng.random_range(-4.0..4.0)))
        .collect();
    pts.extend((1..200).map(|k| (0.05 + 0.03 * k as f32, 0.1 + 0.011 * k as f32)));
    pts.retain(|&(x, y)| !near_centre(x as f64, y as f64, 0.01));
    let mut input = header(&batch, 0);
    input.extend((pts.len() as u32).to_le_bytes());
    for &(x, _) in &pts {
        input.extend(x.to_le_bytes());
    }
    for &(_, y) in &pts {
        input.extend(y.to_le_bytes());
    }
    let (ax, ay) = run(&exe, dir.path(), &input);
    assert_eq!(ax.len(), lenses.len() * pts.len());
    let worst = check_points(&lenses, &pts, &ax, &ay);
    println!("points: worst relative difference {worst:e}");

    // Grids: the mixed system and the SIE, 24 × 24 pixels of 0.1", 3 × 3 sub-pixels.
    let grid = Grid {
        size: 24,
        pixel_scale: 0.1,
        supersample: 3,
    };
    let pair = [lenses[8].clone(), lenses[0].clone()];
    let batch = MassBatch::new(&pair);
    let mut input = header(&batch, 1);
    input.extend((grid.size as u32).to_le_bytes());
    input.extend((grid.pixel_scale as f32).to_le_bytes());
    input.extend((grid.supersample as u32).to_le_bytes());
    let (ax, ay) = run(&exe, dir.path(), &input);
    assert_eq!(ax.len(), 2 * grid.rays());
    let offsets = grid.subpixel_offsets();
    let (f, side) = (grid.supersample, grid.size * grid.supersample);
    let mut judged = 0;
    for (s, lens) in pair.iter().enumerate() {
        for row in 0..side {
            for col in 0..side {
                let x = grid.pixel_center(col / f) + offsets[col % f];
                let y = grid.pixel_center(row / f) + offsets[row % f];
                let k = s * grid.rays() + row * side + col;
                assert!(
                    ax[k].is_finite() && ay[k].is_finite(),
                    "ray {k} not written"
                );
                if near_centre(x, y, 0.01) {
                    continue;
                }
                check(
                    lens,
                    x,
                    y,
                    (ax[k], ay[k]),
                    &format!("system {s} ray ({row}, {col})"),
                );
                judged += 1;
            }
        }
    }
    assert!(judged > 2 * grid.rays() * 9 / 10);
}

/// A population's systems and one with every light kind (`common::render_systems`) rendered by
/// the kernel and by the CPU (`common::check_render`): 10⁻⁴ of each image's peak per pixel and
/// 10⁻⁵ relative in each image's total flux (f32 sums of f32 brightness over 40,000 pixels,
/// against f64).
#[test]
fn render_kernel_matches_the_cpu_renderer() {
    use sim::raytrace::gpu::RenderBatch;

    let dir = tempfile::tempdir().unwrap();
    let exe = build_harness(dir.path(), "render_main");
    let systems = render_systems();
    let bands = [0usize, 2];
    let grid = Grid {
        size: 200,
        pixel_scale: 0.1,
        supersample: 2,
    };
    let batch = RenderBatch::new(&systems, &bands).unwrap();
    let (lens, source) = run(&exe, dir.path(), &render_input(&batch, &grid));
    let (worst_pixel, worst_total) = check_render(&systems, &bands, &grid, &lens, &source);
    println!(
        "render: worst pixel difference {worst_pixel:e} of the peak, worst total {worst_total:e}"
    );
}

/// The labels of a population rendered by the kernel against the CPU's, through `sim generate`
/// (`common::check_labels`).
#[test]
fn kernel_labels_agree_with_the_cpu_on_a_population() {
    let dir = tempfile::tempdir().unwrap();
    let renderer = std::sync::Arc::new(HostKernel {
        render: build_harness(dir.path(), "render_main"),
        mass: build_harness(dir.path(), "mass_main"),
        dir: dir.path().into(),
    });
    let (summary, n_images_differ) = check_labels(dir.path(), renderer, 240);
    println!("{summary}");
    assert_eq!(n_images_differ, 0);
}

/// The noise kernel (`kernels/noise.cu`) compiled as C++ draws, bit for bit, the noise the CPU
/// draws (`NoiseModel::add_noise` and `add_source_photon_noise`): the same Philox words, read
/// noise and Poisson counts, on both sides of the switch from inversion to PTRS (means from 0
/// to 10⁶ electrons), for systems whose index needs the counter's upper word, a seed above 2³²,
/// and flux that is 0, negative or NaN (counted as 0).
#[test]
fn noise_kernel_draws_the_cpu_s_noise_bit_for_bit() {
    use sim::observe::noise::NoiseKey;
    let dir = tempfile::tempdir().unwrap();
    let exe = build_harness(dir.path(), "noise_main");
    let model = common::test_noise_model();
    let (seed, band, side) = (0xDEAD_BEEF_1234u64, 2u32, 66usize);
    let systems = [0u64, 7, (1 << 33) + 5];
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let clean: Vec<ndarray::Array2<f32>> = systems
        .iter()
        .map(|_| {
            ndarray::Array2::from_shape_fn((side, side), |(r, c)| match (r + c) % 17 {
                0 => 0.0,
                1 => -0.5,
                2 => f32::NAN,
                _ => 10f32.powf(rng.random_range(-4.0..4.0)),
            })
        })
        .collect();
    for photon_only in [false, true] {
        let read_sigma = if photon_only {
            -1.0
        } else {
            model.read_noise * f64::from(model.n_exposures).sqrt()
        };
        let mut input = seed.to_le_bytes().to_vec();
        input.extend(band.to_le_bytes());
        input.extend(((side * side) as u32).to_le_bytes());
        input.extend((systems.len() as u32).to_le_bytes());
        for s in systems {
            input.extend(s.to_le_bytes());
        }
        let background = (model.sky + model.dark_current) * model.total_time;
        for v in [model.total_time, background, read_sigma] {
            input.extend(v.to_le_bytes());
        }
        for img in &clean {
            input.extend(img.iter().flat_map(|v| v.to_le_bytes()));
        }
        let got: Vec<u32> = run_harness(&exe, dir.path(), &input)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut want = Vec::new();
        for (img, &system) in clean.iter().zip(&systems) {
            let mut noisy = img.clone();
            let key = NoiseKey { seed, system, band };
            match photon_only {
                false => model.add_noise(&mut noisy, key),
                true => model.add_source_photon_noise(&mut noisy, key),
            }
            want.extend(noisy.iter().map(|v| v.to_bits()));
        }
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "photon only {photon_only}: {differ} of {} pixels",
            want.len()
        );
    }
}

/// The PSF kernels (`kernels/psf.cu`) compiled as C++ convolve as the CPU does: a separable
/// kernel (every Gaussian) gives `Convolver::convolve`'s floats bit for bit (the same factors,
/// sums and order); a kernel that is not (Moffat, Airy), summed directly where the CPU takes
/// an FFT, gives them to the rounding of the float result: within 2 ulps, or 1e-12 of the
/// image's peak where the sum nearly cancels (the FFT's own rounding, ~1e-16 of the peak per
/// term). The other band of each system is left as it was, and each image's sum before
/// convolution is the CPU's f64 sum, bit for bit. Stamps of odd and even sides.
#[test]
fn psf_kernels_convolve_as_the_cpu_does() {
    use sim::observe::convolve::{Convolver, PsfTaps};
    use sim::observe::psf::PsfSpec;
    let dir = tempfile::tempdir().unwrap();
    let exe = build_harness(dir.path(), "psf_main");
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (systems, bands, band) = (3usize, 2usize, 1usize);
    // Lopsided kernels (a tilted outer product, and random taps) too, so that a kernel applied
    // flipped or transposed would show.
    let column = [0.1, 0.5, 0.2, 0.15, 0.05];
    let row = [0.3, 0.4, 0.1, 0.05, 0.1, 0.03, 0.02];
    let tilted = ndarray::Array2::from_shape_fn((5, 7), |(a, b)| column[a] * row[b]);
    let random = ndarray::Array2::from_shape_fn((7, 5), |_| rng.random_range(0.0..1.0));
    let random = &random / random.sum();
    let cases = [
        (
            "Gaussian VIS",
            PsfSpec::Gaussian { fwhm: 0.16 }.kernel(0.1, 41).unwrap(),
            41,
            true,
        ),
        (
            "Gaussian NIR",
            PsfSpec::Gaussian { fwhm: 0.48 }.kernel(0.3, 40).unwrap(),
            40,
            true,
        ),
        ("tilted", tilted, 30, true),
        (
            "Moffat",
            PsfSpec::Moffat {
                fwhm: 0.5,
                beta: 3.0,
            }
            .kernel(0.2, 33)
            .unwrap(),
            33,
            false,
        ),
        (
            "Airy",
            PsfSpec::Airy {
                lambda_over_d: 0.1,
                obscuration: 0.3,
            }
            .kernel(0.05, 36)
            .unwrap(),
            36,
            false,
        ),
        ("random", random, 31, false),
    ];
    for (spec, kernel, size, separable) in cases {
        let convolver = Convolver::new(&kernel, size, size);
        assert_eq!(convolver.is_separable(), separable, "{spec}");
        let images: Vec<ndarray::Array2<f32>> = (0..systems * bands)
            .map(|_| {
                ndarray::Array2::from_shape_fn((size, size), |(r, c)| match (r * 7 + c) % 11 {
                    0 => 0.0,
                    1 => 300.0,
                    _ => 10f32.powf(rng.random_range(-3.0..1.0)),
                })
            })
            .collect();
        let mut input = Vec::new();
        for v in [systems, bands, band, size, usize::from(separable)] {
            input.extend((v as u32).to_le_bytes());
        }
        let doubles = |v: &[f64]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
        match convolver.taps(&kernel) {
            PsfTaps::Separable { column, row } => {
                for taps in [&column, &row] {
                    input.extend((taps.len() as u32).to_le_bytes());
                    input.extend(doubles(taps));
                }
            }
            PsfTaps::Full(k) => {
                input.extend((k.nrows() as u32).to_le_bytes());
                input.extend((k.ncols() as u32).to_le_bytes());
                input.extend(doubles(k.as_slice().unwrap()));
            }
        }
        for img in &images {
            input.extend(img.iter().flat_map(|v| v.to_le_bytes()));
        }
        let out = run_harness(&exe, dir.path(), &input);
        let (sums, pixels) = out.split_at(8 * systems * bands);
        for (img, sum) in images.iter().zip(sums.chunks_exact(8)) {
            let want: f64 = img.iter().map(|&v| v as f64).sum();
            assert_eq!(
                f64::from_le_bytes(sum.try_into().unwrap()).to_bits(),
                want.to_bits()
            );
        }
        let got: Vec<f32> = pixels
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let (mut worst_ulps, mut differ) = (0u32, 0usize);
        for (k, (img, got)) in images.iter().zip(got.chunks_exact(size * size)).enumerate() {
            if k % bands != band {
                assert!(img.iter().zip(got).all(|(a, b)| a.to_bits() == b.to_bits()));
                continue;
            }
            let want = convolver.convolve(img);
            let peak = img.iter().fold(0f32, |m, &v| m.max(v.abs()));
            for (w, g) in want.iter().zip(got) {
                if separable {
                    assert_eq!(w.to_bits(), g.to_bits(), "{spec}: {g} vs {w}");
                } else {
                    let ulps = w.to_bits().abs_diff(g.to_bits());
                    let near = (w - g).abs() <= 1e-12 * peak;
                    assert!(ulps <= 2 || near, "{spec}: {g} vs {w}");
                    worst_ulps = worst_ulps.max(if near { 0 } else { ulps });
                    differ += usize::from(ulps > 0);
                }
            }
        }
        println!("{spec}: {differ} pixels differ from the CPU's, by at most {worst_ulps} ulps where not near 0");
    }
}
