//! End-to-end generation: `sim generate`'s work for the default population on the Euclid
//! preset (sampling, critical curves, ray shooting, PSF, noise, labels, HDF5 with gzip), on all
//! cores, and its stages for one system on one core.
//!
//! `cargo bench --bench generate` prints time per block of 64 systems written to HDF5 (criterion's
//! elem/s is systems/s), the time of each stage per system, the HDF5 writer's share:
//! compressing the chunks (on the pool) and writing them (the writer thread), and reading a
//! training batch back as `train run` does.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim::dataset::chunks::filter_block;
use sim::dataset::hdf5::{Column, DatasetWriter};
use sim::generate::{generate, simulate, GenerateOptions, RunConfig, RunSettings};
use sim::observe::{Observer, Survey};
use sim::population::{Population, PopulationConfig};

const BLOCK: u64 = 64;

fn config(n: u64) -> RunConfig {
    RunConfig {
        generate: RunSettings::new(n, 1),
        survey: Survey::load("euclid").expect("embedded preset"),
        population: PopulationConfig::load("sglc2").expect("embedded population"),
        inject: None,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("bench.h5");
    let cfg = config(BLOCK);
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BLOCK));
    g.bench_function("euclid_sglc2_64_systems_to_hdf5_all_cores", |b| {
        b.iter(|| {
            generate(&cfg, &out, &GenerateOptions::default(), &|_| {}).expect("generates");
        })
    });
    g.finish();

    // Stages of one system on one core, over the first 32 systems of the run.
    let survey = &cfg.survey;
    let population = Population::new(cfg.population.clone(), survey)
        .expect("population")
        .with_caustic_step(cfg.generate.caustic_step);
    let observer = Observer::new(survey).expect("observer");
    let opts = cfg.render_options();
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    let mut g = c.benchmark_group("generate_one_core");
    g.sample_size(10);
    g.throughput(Throughput::Elements(32));
    g.bench_function("sample_32_systems", |b| {
        b.iter(|| {
            one_core.install(|| {
                for k in 0..32 {
                    black_box(population.sample(1, k));
                }
            })
        })
    });
    g.bench_function("simulate_32_systems", |b| {
        b.iter(|| {
            one_core.install(|| {
                for k in 0..32 {
                    black_box(simulate(&population, survey, &observer, &opts, k).expect("ok"));
                }
            })
        })
    });
    g.finish();

    // The HDF5 writer's share, for 32 simulated systems: compressing their chunks on one core
    // (done on the pool's threads), and what the writer thread does with them.
    let records: Vec<_> = (0..32)
        .map(|k| simulate(&population, survey, &observer, &opts, k).expect("ok"))
        .collect();
    let images: Vec<ndarray::Array3<f32>> = (0..survey.bands.len())
        .map(|b| {
            let views: Vec<_> = records.iter().map(|r| r.images[b].view()).collect();
            ndarray::stack(ndarray::Axis(0), &views).expect("one stamp size per band")
        })
        .collect();
    let chunks = one_core.install(|| filter_block(&images));
    let stored: usize = chunks.iter().flatten().map(|c| c.bytes.len()).sum();
    let raw: usize = images.iter().map(|stack| 4 * stack.len()).sum();
    println!(
        "write_one_core: the 32 systems' stamps compress to {:.1} % of their {raw} bytes",
        100.0 * stored as f64 / raw as f64
    );
    let mut g = c.benchmark_group("write_one_core");
    g.sample_size(10);
    g.throughput(Throughput::Elements(32));
    g.bench_function("compress_32_systems", |b| {
        b.iter(|| one_core.install(|| black_box(filter_block(&images))))
    });
    g.bench_function("write_32_compressed_systems", |b| {
        b.iter(|| {
            let attrs = cfg.attributes(0).expect("attributes");
            let mut w = DatasetWriter::create(&out, &attrs, cfg.layout(32)).expect("a file");
            let catalog: Vec<(String, Column)> = Vec::new();
            w.append_filtered(&chunks, &catalog, &[0; 32])
                .expect("written");
            w.finish().expect("finished");
        })
    });
    g.finish();

    // A training batch read back: 32 of 64 systems, every band, through
    // train::data::Dataset::read_images (chunks located once, decoded on the pool), on all
    // cores and on one.
    let set = dir.path().join("read.h5");
    generate(&config(64), &set, &GenerateOptions::default(), &|_| {}).expect("generates");
    let data = train::data::Dataset::open(&set).expect("the dataset");
    let picks: Vec<usize> = (0..32).map(|i| (i * 37 + 5) % 64).collect();
    let read_batch = || {
        for band in data.bands() {
            black_box(data.read_images(band, &picks).expect("read"));
        }
    };
    let mut g = c.benchmark_group("read");
    g.sample_size(20);
    g.throughput(Throughput::Elements(32));
    g.bench_function("batch_of_32_systems_all_bands_all_cores", |b| {
        b.iter(read_batch)
    });
    g.bench_function("batch_of_32_systems_all_bands_one_core", |b| {
        b.iter(|| one_core.install(read_batch))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
