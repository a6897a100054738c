//! Ray shooting + rendering of one Euclid system on one CPU core (workload W1 of
//! ../shared/bench: SIE + NFW + shear, Sérsic lens light, Sérsic source, supersampling 2,
//! VIS 200×200 at 0.1" and Y/J/H 66×66 at 0.3"), then its observation (PSF and noise) and its
//! critical curves, each timed on its own.
//!
//! `cargo bench --bench render` prints time per system and rays/s (criterion's elem/s);
//! systems/s per core is 1 / (time per system).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim::caustics::{critical_curves, CausticGrid};
use sim::observe::{ObserveOptions, Observer, Survey};
use sim::raytrace::render;
use sim::spec::SystemSpec;

const W1: &str = r#"
z_lens = 0.5
z_source = 2.0
[[lens.mass]]
type = "sie"
theta_e = 1.2
q = 0.75
phi = 20.0
[[lens.mass]]
type = "nfw"
rs = 10.0
alpha_rs = 0.3
[[lens.mass]]
type = "shear"
gamma = 0.03
phi = 10.0
[[lens.light]]
type = "sersic"
r_eff = 1.0
n = 4.0
q = 0.8
mag = { VIS = 19.5, Y = 18.9, J = 18.7, H = 18.6 }
[[source.light]]
type = "sersic"
r_eff = 0.2
n = 1.0
q = 0.8
phi = 22.5
center = [0.1, -0.1]
mag = { VIS = 23.0, Y = 23.0, J = 23.0, H = 23.0 }
"#;

fn bench(c: &mut Criterion) {
    let survey = Survey::load("euclid").unwrap();
    let system = SystemSpec::from_toml(W1, Path::new("W1"))
        .unwrap()
        .build(&survey, Path::new("W1"))
        .unwrap();
    // Rays per system: every sub-pixel of each distinct pixel grid (Y, J, H share one).
    let rays = 200 * 200 * 4 + 66 * 66 * 4;
    let grids = survey.band_grids();
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();

    let mut g = c.benchmark_group("euclid_w1_one_core");
    g.throughput(Throughput::Elements(rays));
    g.bench_function("render_4_bands_ss2", |b| {
        b.iter(|| one_core.install(|| black_box(render(&system, &grids, 2))))
    });
    // The VIS band alone: the same work as ../shared/bench/caustics_w1.py.
    let vis = Survey {
        name: "euclid-vis".into(),
        bands: survey.bands[..1].to_vec(),
        labels: Default::default(),
    };
    g.throughput(Throughput::Elements(200 * 200 * 4));
    g.bench_function("render_vis_ss2", |b| {
        b.iter(|| one_core.install(|| black_box(render(&system, &vis.band_grids(), 2))))
    });
    g.finish();

    // Observation of the rendered images: PSF (FFT) and noise in the four bands.
    let observer = Observer::new(&survey).unwrap();
    let images = render(&system, &grids, 2);
    let opts = ObserveOptions {
        psf: true,
        noise: true,
        seed: 1,
        index: 0,
    };
    let mut g = c.benchmark_group("euclid_w1_one_core_observe");
    g.bench_function("psf_and_noise_4_bands", |b| {
        b.iter(|| black_box(observer.observe(&images, &opts)))
    });
    let psf_only = ObserveOptions {
        noise: false,
        ..opts
    };
    g.bench_function("psf_4_bands", |b| {
        b.iter(|| black_box(observer.observe(&images, &psf_only)))
    });
    g.finish();

    let mut g = c.benchmark_group("euclid_w1_one_core_caustics");
    let grid = CausticGrid {
        half_width: survey.max_half_width(),
        step: CausticGrid::DEFAULT_STEP,
    };
    g.bench_function("critical_curves_0.02", |b| {
        b.iter(|| one_core.install(|| black_box(critical_curves(&system.lens, grid))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
