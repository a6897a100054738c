//! `sim generate`, `sim merge`, `sim info` and `sim preview` on real files: the dataset layout
//! of DESIGN.md read back through hdf5-pure (an HDF5 reader independent of the writer),
//! determinism across threads, shards and resumes. (The command-line tests are in
//! `generate_cli.rs`.)

use std::path::Path;

use hdf5_pure::DType;
use ndarray::Array3;
use sim::dataset::hdf5::{Column, DatasetWriter};
use sim::dataset::merge::merge;
use sim::generate::{generate, simulate, GenerateOptions, RunConfig, RunSettings, Shard};
use sim::observe::{Observer, Survey};
use sim::population::{Population, PopulationConfig};

fn config(n: u64, seed: u64) -> RunConfig {
    RunConfig {
        generate: RunSettings::new(n, seed),
        survey: Survey::load("euclid").unwrap(),
        population: PopulationConfig::load("sglc2").unwrap(),
        inject: None,
    }
}

fn run(cfg: &RunConfig, out: &Path, shard: Shard, threads: usize) {
    let opts = GenerateOptions {
        shard,
        threads,
        block: 8,
        ..GenerateOptions::default()
    };
    generate(cfg, out, &opts, &|_| {}).unwrap();
}

/// Everything a file holds except HDF5's own bookkeeping: images, catalogue, labels and the
/// root attributes, as bytes.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    let f = hdf5_pure::File::open(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let attrs = f.root().attrs().unwrap();
    let mut out = Vec::new();
    for name in ["survey", "config", "generator", "format"] {
        let v = attrs[name].as_str().unwrap();
        out.push((format!("@{name}"), v.as_bytes().to_vec()));
    }
    for name in ["seed", "first_index", "n_total"] {
        let v = attrs[name].as_u64().unwrap();
        out.push((format!("@{name}"), v.to_le_bytes().to_vec()));
    }
    for group in ["images", "catalog", "labels"] {
        let g = f.group(group).unwrap();
        let mut names = g.datasets().unwrap();
        names.sort();
        for n in names {
            let d = g.dataset(&n).unwrap();
            let bytes: Vec<u8> = match d.dtype().unwrap() {
                DType::F32 => d
                    .read_f32()
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                DType::F64 => d
                    .read_f64()
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                DType::I64 => d
                    .read_i64()
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                DType::U8 => d.read_u8().unwrap(),
                t => panic!("{group}/{n}: unexpected type {t:?}"),
            };
            out.push((format!("{group}/{n}"), bytes));
        }
    }
    out
}

fn assert_same(a: &Path, b: &Path) {
    let (ca, cb) = (contents(a), contents(b));
    assert_eq!(
        ca.iter().map(|c| &c.0).collect::<Vec<_>>(),
        cb.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in ca.iter().zip(&cb) {
        assert!(x == y, "{name} differs between {a:?} and {b:?}");
    }
}

#[test]
fn the_file_has_the_layout_of_design_md() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set.h5");
    let cfg = config(12, 5);
    run(&cfg, &out, Shard::WHOLE, 0);
    // Nothing but the finished file is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["set.h5".to_string()]);

    let f = hdf5_pure::File::open(&out).unwrap();
    let attrs = f.root().attrs().unwrap();
    let s = |name: &str| -> String { attrs[name].as_str().unwrap().to_string() };
    assert_eq!(s("format"), "lensforge-dataset");
    assert_eq!(attrs["format_version"].as_u64(), Some(1));
    assert_eq!(s("survey"), "euclid");
    assert!(s("generator").starts_with("lensforge-sim "));
    assert_eq!(attrs["seed"].as_u64(), Some(5));
    // The configuration attribute is the full TOML and reads back as the run's configuration.
    let back = RunConfig::from_toml(&s("config"), &out).unwrap();
    assert_eq!(back, cfg);

    // Images: float32 (N, H, W), chunked one system per chunk, shuffle (2) + gzip (1).
    for (band, side) in [("VIS", 200), ("Y", 66), ("J", 66), ("H", 66)] {
        let d = f.dataset(&format!("images/{band}")).unwrap();
        assert_eq!(d.shape().unwrap(), vec![12, side, side], "{band}");
        assert_eq!(d.dtype().unwrap(), DType::F32);
        assert_eq!(
            d.chunk_shape().unwrap(),
            Some(vec![1, side, side]),
            "{band}"
        );
        assert_eq!(d.filters(), vec![2, 1], "{band}");
    }
    // Catalogue: 1-D columns of length N with at least DESIGN.md's list.
    let mut required = vec![
        "id",
        "z_lens",
        "z_source",
        "theta_e",
        "has_source",
        "n_source_groups",
        "n_pix_source",
        "source_x",
        "source_y",
    ];
    let per_band: Vec<String> = ["VIS", "Y", "J", "H"]
        .iter()
        .flat_map(|b| {
            [
                format!("mag_eff_{b}"),
                format!("lens_mag_{b}"),
                format!("source_mag_{b}"),
            ]
        })
        .collect();
    required.extend(per_band.iter().map(String::as_str));
    for c in &required {
        let d = f
            .dataset(&format!("catalog/{c}"))
            .unwrap_or_else(|_| panic!("missing catalog/{c}"));
        assert_eq!(d.shape().unwrap(), vec![12], "{c}");
    }
    let ids: Vec<i64> = f.dataset("catalog/id").unwrap().read_i64().unwrap();
    assert_eq!(ids, (0..12).collect::<Vec<i64>>());
    // Labels: uint8 (N) with the thresholds as attributes, and equal to the rule applied to
    // the catalogue.
    let d = f.dataset("labels/is_lens").unwrap();
    assert_eq!(d.dtype().unwrap(), DType::U8);
    let la = d.attrs().unwrap();
    assert_eq!(la["min_n_pix"].as_u64(), Some(20));
    assert_eq!(la["min_groups"].as_u64(), Some(1));
    assert_eq!(la["min_mag_eff"].as_f64(), Some(1.6));
    let labels: Vec<u8> = d.read_u8().unwrap();
    let col = |n: &str| -> Vec<f64> {
        f.dataset(&format!("catalog/{n}"))
            .unwrap()
            .read_f64()
            .unwrap()
    };
    let coli = |n: &str| -> Vec<i64> {
        f.dataset(&format!("catalog/{n}"))
            .unwrap()
            .read_i64()
            .unwrap()
    };
    let (npix, groups) = (coli("n_pix_source"), coli("n_source_groups"));
    let mags: Vec<Vec<f64>> = ["VIS", "Y", "J", "H"]
        .iter()
        .map(|b| col(&format!("mag_eff_{b}")))
        .collect();
    for i in 0..12 {
        let rule = groups[i] >= 1 && npix[i] > 20 && mags.iter().all(|m| m[i] > 1.6);
        assert_eq!(labels[i] == 1, rule, "system {i}");
    }
}

#[test]
fn threads_and_shards_give_the_same_systems() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(20, 9);
    let one = dir.path().join("one.h5");
    let two = dir.path().join("two.h5");
    run(&cfg, &one, Shard::WHOLE, 1);
    run(&cfg, &two, Shard::WHOLE, 2);
    assert_same(&one, &two);

    let s0 = dir.path().join("s0.h5");
    let s1 = dir.path().join("s1.h5");
    run(&cfg, &s0, Shard { index: 0, count: 2 }, 2);
    run(&cfg, &s1, Shard { index: 1, count: 2 }, 1);
    let merged = dir.path().join("merged.h5");
    // Any order of the inputs.
    assert_eq!(merge(&[s1.clone(), s0.clone()], &merged).unwrap(), 20);
    assert_same(&one, &merged);

    // Issue #19: a run of fewer systems than shards has empty shards, which merge too.
    let small = config(3, 9);
    let whole = dir.path().join("small.h5");
    run(&small, &whole, Shard::WHOLE, 1);
    let quarters: Vec<_> = (0..4)
        .map(|index| {
            let q = dir.path().join(format!("q{index}.h5"));
            run(&small, &q, Shard { index, count: 4 }, 1);
            q
        })
        .collect();
    let joined = dir.path().join("joined.h5");
    assert_eq!(merge(&quarters, &joined).unwrap(), 3);
    assert_same(&whole, &joined);

    // A missing shard, a repeated one, and one from another run are refused, naming the file.
    let out = dir.path().join("bad.h5");
    let e = merge(std::slice::from_ref(&s1), &out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("s1.h5") && e.contains("gap"), "{e}");
    let e = merge(&[s0.clone(), s0.clone(), s1.clone()], &out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("overlap"), "{e}");
    let other = dir.path().join("other.h5");
    run(&config(20, 10), &other, Shard { index: 1, count: 2 }, 0);
    let e = merge(&[s0.clone(), other.clone()], &out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("other.h5") && e.contains("different run"), "{e}");
    assert!(!out.exists());
    assert!(!dir.path().join(".bad.h5.partial").exists());
}

#[test]
fn an_interrupted_run_resumes_to_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(20, 4);
    let whole = dir.path().join("whole.h5");
    run(&cfg, &whole, Shard::WHOLE, 0);

    // A run stopped after its first block of 8: what a killed process leaves behind.
    let out = dir.path().join("resumed.h5");
    {
        let survey = &cfg.survey;
        let population = Population::new(cfg.population.clone(), survey)
            .unwrap()
            .with_caustic_step(cfg.generate.caustic_step);
        let observer = Observer::new(survey).unwrap();
        let mut w =
            DatasetWriter::create(&out, &cfg.attributes(0).unwrap(), cfg.layout(20)).unwrap();
        let recs: Vec<_> = (0..8)
            .map(|k| simulate(&population, survey, &observer, &cfg.render_options(), k).unwrap())
            .collect();
        let images: Vec<Array3<f32>> = (0..4)
            .map(|b| {
                let v: Vec<_> = recs.iter().map(|r| r.images[b].view()).collect();
                ndarray::stack(ndarray::Axis(0), &v).unwrap()
            })
            .collect();
        let mut cat: Vec<(String, Column)> = recs[0].catalog.clone();
        for r in &recs[1..] {
            for ((_, a), (_, c)) in cat.iter_mut().zip(&r.catalog) {
                assert!(a.extend(c));
            }
        }
        let labels: Vec<u8> = recs.iter().map(|r| r.is_lens).collect();
        w.append(&images, &cat, &labels).unwrap();
        // Dropped without finish: no file at the destination.
    }
    assert!(!out.exists());
    let partial = dir.path().join(".resumed.h5.partial");
    assert!(partial.exists());
    // Issue #19: every reader refuses the partial file, saying how much it holds and how to
    // finish it; an HDF5 reader sees the 8 systems written and zeros after them.
    let e = sim::dataset::read::DatasetFile::open(&partial)
        .err()
        .expect("a partial file is refused")
        .to_string();
    assert!(
        e.contains(".resumed.h5.partial")
            && e.contains("holds 8 of its 20 systems")
            && e.contains("--resume"),
        "{e}"
    );
    let partial_copy = dir.path().join("partial-copy.h5");
    std::fs::copy(&partial, &partial_copy).unwrap();
    let f = hdf5_pure::File::open(&partial).unwrap();
    let vis = f.dataset("images/VIS").unwrap().read_f32().unwrap();
    let (done, rest) = vis.split_at(8 * 200 * 200);
    assert!(done.iter().any(|&v| v != 0.0) && rest.iter().all(|&v| v == 0.0));
    let opts = GenerateOptions {
        block: 8,
        resume: true,
        ..GenerateOptions::default()
    };
    let s = generate(&cfg, &out, &opts, &|_| {}).unwrap();
    assert_eq!((s.resumed_at, s.generated, s.systems), (8, 12, 20));
    assert_same(&whole, &out);

    assert_eq!(s.restarted, None);

    // Issue #19: a partial file of another configuration is not resumed: the run starts afresh
    // and says why.
    std::fs::copy(&partial_copy, &partial).unwrap();
    let other = config(20, 5);
    let s = generate(&other, &out, &opts, &|_| {}).unwrap();
    assert_eq!(s.resumed_at, 0);
    let why = s.restarted.expect("a reason");
    assert!(
        why.contains(".resumed.h5.partial") && why.contains("another run"),
        "{why}"
    );
    // And so does a partial file a crash cut short.
    let bytes = std::fs::read(&partial_copy).unwrap();
    std::fs::write(&partial, &bytes[..bytes.len() / 3]).unwrap();
    let s = generate(&cfg, &out, &opts, &|_| {}).unwrap();
    assert_eq!(s.resumed_at, 0);
    let why = s.restarted.expect("a reason");
    assert!(
        why.contains("cannot be read") || why.contains("could not be carried over"),
        "{why}"
    );
    assert_same(&whole, &out);
}

/// The batch renderer's path through the generator (systems drawn on the threads, ray-traced
/// together, observed on the threads, the block's noise added band by band): with a batch
/// renderer that renders each system as the CPU path does, one that also draws the noise as
/// the CPU does, and one that also convolves with the PSF as the GPU does, the file is the CPU
/// path's, byte for byte. This checks the block plumbing a GPU renderer uses; the GPU's own
/// images, PSF and noise are checked against the CPU in the `cuda` tests.
#[test]
fn a_batch_renderer_fills_the_same_file() {
    /// Renders each system as the CPU path does, counting its launches; with `noise` it also
    /// draws each block's noise as the CPU does (a CPU twin of the GPU's noise kernel), and
    /// with `psf` it convolves as the GPU does (`PsfTaps::convolve`, the twin of
    /// kernels/psf.cu), counting those calls.
    #[derive(Debug, Default)]
    struct OneByOne {
        launches: std::sync::atomic::AtomicUsize,
        noise: Option<std::sync::atomic::AtomicUsize>,
        psf: Option<std::sync::atomic::AtomicUsize>,
    }
    impl sim::raytrace::BatchRenderer for OneByOne {
        fn describe(&self) -> String {
            "the CPU, a block at a time".into()
        }
        fn render_batch(
            &self,
            systems: &[&sim::raytrace::System],
            bands: &[sim::raytrace::BandGrid],
            supersample: usize,
        ) -> Result<Vec<Vec<sim::raytrace::BandImage>>, String> {
            self.launches
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(systems
                .iter()
                .map(|s| sim::raytrace::render(s, bands, supersample))
                .collect())
        }
        fn add_noise(
            &self,
            block: &mut sim::observe::noise::NoiseBlock,
        ) -> Option<Result<(), String>> {
            self.noise
                .as_ref()?
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (pixels, seed, band) = (block.pixels, block.seed, block.band);
            let side = (pixels as f64).sqrt() as usize;
            for (image, &system) in block.images.iter_mut().zip(block.systems) {
                let mut a = ndarray::Array2::from_shape_vec((side, side), image.to_vec()).unwrap();
                let key = sim::observe::noise::NoiseKey { seed, system, band };
                block.model.add_noise(&mut a, key);
                image.copy_from_slice(a.as_slice().unwrap());
            }
            Some(Ok(()))
        }
        fn render_convolved_batch(
            &self,
            systems: &[&sim::raytrace::System],
            bands: &[sim::raytrace::BandGrid],
            supersample: usize,
            psfs: &[sim::observe::convolve::PsfTaps],
        ) -> Option<Result<sim::raytrace::ConvolvedBatch, String>> {
            self.psf
                .as_ref()?
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut batch = sim::raytrace::ConvolvedBatch::default();
            for ideal in self.render_batch(systems, bands, supersample).ok()? {
                let fluxes = ideal
                    .iter()
                    .map(|b| sim::raytrace::image_flux(&b.source))
                    .collect();
                let convolved = ideal
                    .into_iter()
                    .zip(psfs)
                    .map(|(b, taps)| sim::raytrace::BandImage {
                        lens: taps.convolve(&b.lens),
                        source: taps.convolve(&b.source),
                        band: b.band,
                    })
                    .collect();
                batch.images.push(convolved);
                batch.source_flux.push(fluxes);
            }
            Some(Ok(batch))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(20, 4);
    let whole = dir.path().join("cpu.h5");
    run(&cfg, &whole, Shard::WHOLE, 2);
    let batched = dir.path().join("batched.h5");
    let renderer = std::sync::Arc::new(OneByOne::default());
    let opts = GenerateOptions {
        block: 8,
        renderer: Some(renderer.clone()),
        ..GenerateOptions::default()
    };
    generate(&cfg, &batched, &opts, &|_| {}).unwrap();
    // 20 systems in blocks of 8: three launches.
    let launches = renderer.launches.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(launches, 3);
    assert_same(&whole, &batched);

    // A renderer that draws the noise of a block on its device: called once per band and
    // block, the file is again the CPU path's.
    let noisy = dir.path().join("noisy.h5");
    let renderer = std::sync::Arc::new(OneByOne {
        noise: Some(Default::default()),
        ..OneByOne::default()
    });
    let opts = GenerateOptions {
        block: 8,
        renderer: Some(renderer.clone()),
        ..GenerateOptions::default()
    };
    generate(&cfg, &noisy, &opts, &|_| {}).unwrap();
    // Three blocks of four bands.
    let calls = renderer.noise.as_ref().unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 12);
    assert_same(&whole, &noisy);

    // A renderer that also convolves each block on its device, as the GPU does: the PSF is
    // not applied twice, the magnification comes from the ideal fluxes, and the file is again
    // the CPU path's.
    let observed = dir.path().join("observed.h5");
    let renderer = std::sync::Arc::new(OneByOne {
        noise: Some(Default::default()),
        psf: Some(Default::default()),
        ..OneByOne::default()
    });
    let opts = GenerateOptions {
        block: 8,
        renderer: Some(renderer.clone()),
        ..GenerateOptions::default()
    };
    generate(&cfg, &observed, &opts, &|_| {}).unwrap();
    let calls = renderer.psf.as_ref().unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 3);
    assert_same(&whole, &observed);

    // A renderer that fails stops the run with its reason, leaving no file.
    #[derive(Debug)]
    struct Broken;
    impl sim::raytrace::BatchRenderer for Broken {
        fn describe(&self) -> String {
            "nothing".into()
        }
        fn render_batch(
            &self,
            _: &[&sim::raytrace::System],
            _: &[sim::raytrace::BandGrid],
            _: usize,
        ) -> Result<Vec<Vec<sim::raytrace::BandImage>>, String> {
            Err("out of memory".into())
        }
    }
    let failed = dir.path().join("failed.h5");
    let opts = GenerateOptions {
        renderer: Some(std::sync::Arc::new(Broken)),
        ..GenerateOptions::default()
    };
    let e = generate(&cfg, &failed, &opts, &|_| {}).unwrap_err();
    assert!(e.to_string().contains("GPU: out of memory"), "{e}");
    assert!(!failed.exists());
}

#[test]
fn a_stopped_run_keeps_its_blocks_and_resumes_to_the_same_bytes() {
    // Issue #19 (9): Ctrl-C sets `stop`; the run ends after the block in hand with an error that
    // says how many systems the partial file keeps and to rerun with --resume, and the resumed
    // run writes the same bytes as an uninterrupted one.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(40, 11);
    let whole = dir.path().join("whole.h5");
    run(&cfg, &whole, Shard::WHOLE, 2);
    let out = dir.path().join("stopped.h5");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = GenerateOptions {
        block: 8,
        stop: Some(stop.clone()),
        ..GenerateOptions::default()
    };
    // The flag is raised once the first block is in the file, as a Ctrl-C would be. The run
    // cannot be more than two blocks ahead of its writer (the channel holds one), so it stops
    // with 8 to 32 of its 40 systems written.
    let e = generate(&cfg, &out, &opts, &|k| {
        if k >= 8 {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            sim::Error::Interrupted {
                done: 8..=32,
                total: 40,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains(".stopped.h5.partial") && msg.contains("--resume"),
        "{msg}"
    );
    assert!(!out.exists() && dir.path().join(".stopped.h5.partial").exists());
    let opts = GenerateOptions {
        block: 8,
        resume: true,
        ..GenerateOptions::default()
    };
    let s = generate(&cfg, &out, &opts, &|_| {}).unwrap();
    assert!(s.resumed_at >= 8 && s.restarted.is_none(), "{s:?}");
    assert_same(&whole, &out);
}

#[test]
fn a_population_driven_out_of_range_stops_the_run_and_leaves_nothing() {
    // Issue #19 (3): a population whose legal values sample a system beyond a spec range (here
    // neighbours of AB 10–10.2 at the reference wavelength, red enough to be brighter than AB 10
    // in H) is refused naming the population, the system and the field, and the partial file is
    // deleted (a resume would stop at the same system).
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(8, 1);
    let n = &mut cfg.population.neighbours;
    (n.mag_min, n.mag_max, n.density) = (10.0, 10.2, 3000.0);
    let out = dir.path().join("bright.h5");
    let e = generate(&cfg, &out, &GenerateOptions::default(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("population `sglc2`, system") && e.contains("].mag") && e.contains("[10, 50]"),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn timing_a_run_changes_nothing_it_writes_and_times_every_stage() {
    // `sim bench-host` times a run's stages: the file must be the one an untimed run writes,
    // and every stage that ran must have taken time (a stage never timed would read 0).
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(12, 5);
    let (plain, timed) = (dir.path().join("plain.h5"), dir.path().join("timed.h5"));
    run(&cfg, &plain, Shard::WHOLE, 2);
    let stages = std::sync::Arc::new(sim::generate::StageTimes::default());
    let opts = GenerateOptions {
        threads: 2,
        block: 8,
        timing: Some(stages.clone()),
        ..GenerateOptions::default()
    };
    generate(&cfg, &timed, &opts, &|_| {}).unwrap();
    assert_eq!(contents(&plain), contents(&timed));
    for (stage, seconds) in stages.seconds() {
        if !stage.starts_with("waiting") {
            assert!(seconds > 0.0, "{stage}: no time recorded");
        }
    }

    // The host-ceiling run: every system observed from system 0's prepared ideal images.
    for observe_on_device in [false, true] {
        let out = dir.path().join("ceiling.h5");
        let r = sim::bench::host_ceiling(&cfg, &out, 8, 2, observe_on_device).unwrap();
        assert_eq!(r.systems, 12);
        assert!(!out.exists(), "its scratch file is removed");
    }
}

/// Issue #22: datasets/recipes/slurm-generate.sh, its array tasks run as plain processes (as
/// Slurm would, each with its own SLURM_ARRAY_TASK_ID, in any order) and then its merge, writes
/// what one whole run of the same seed writes.
#[test]
fn the_slurm_recipe_s_tasks_and_merge_give_the_whole_run() {
    let has_bash = std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_bash {
        eprintln!("skipped: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let recipe =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/recipes/slurm-generate.sh");
    let out = dir.path().join("set");
    let env = [
        ("SIM", env!("CARGO_BIN_EXE_sim")),
        ("SURVEY", "euclid"),
        ("N", "14"),
        ("SEED", "11"),
        ("TASKS", "3"),
        ("DEVICE", "cpu"),
        ("OUT", out.to_str().unwrap()),
    ];
    let step = |what: &str, task: Option<usize>| {
        let mut c = std::process::Command::new("bash");
        c.arg(&recipe).arg(what).envs(env);
        if let Some(i) = task {
            c.env("SLURM_ARRAY_TASK_ID", i.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", "3");
        }
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{what} {task:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    for i in [2, 0, 1] {
        step("task", Some(i));
    }
    step("merge", None);
    let whole = dir.path().join("whole.h5");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
        .args([
            "generate", "--survey", "euclid", "-n", "14", "--seed", "11", "--device", "cpu",
        ])
        .arg("--out")
        .arg(&whole)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&whole, &dir.path().join("set.h5"));
}
