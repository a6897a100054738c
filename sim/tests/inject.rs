//! `sim inject`: sources painted into cutouts whose "real" galaxy is one of our own simulated
//! lens galaxies, so that what the injection must give is known from `sim`'s own rendering.

use std::collections::BTreeMap;
use std::path::Path;

use format::checked::BadCutouts;
use ndarray::Array2;
use sim::dataset::fits::{write_stamp, StampHeader};
use sim::dataset::hdf5::Column;
use sim::dataset::read::DatasetFile;
use sim::generate::{simulate, GenerateOptions, Shard};
use sim::inject::{inject, open_cutouts, survey_on_cutouts, InjectRequest};
use sim::observe::{ObserveOptions, ObservedBand, Observer, Survey};
use sim::population::{Population, PopulationConfig};
use sim::render::RenderOptions;

const SEED: u64 = 5;

/// The lens light (galaxy and neighbours) of population draw `k`, observed with PSF and noise
/// (another seed than the run's): the "real" galaxy.
fn galaxy(population: &Population, survey: &Survey, k: u64) -> Vec<ObservedBand> {
    let mut spec = population.sample(SEED, k).spec;
    spec.source.light.clear();
    let system = spec.build(survey, Path::new("galaxy")).unwrap();
    let ideal = sim::raytrace::render(&system, &survey.band_grids(), 2);
    Observer::new(survey).unwrap().observe(
        &ideal,
        &ObserveOptions {
            psf: true,
            noise: true,
            seed: 99,
            index: 0,
        },
    )
}

/// Writes `bands` as the cutout `<id>_<band>.fits` in `dir`, with the survey's pixel scales and,
/// when `zero_points`, its zero points as MAGZERO (so that the pixels are e⁻/s).
fn write_cutout(dir: &Path, id: u64, bands: &[ObservedBand], survey: &Survey, zero_points: bool) {
    for (o, band) in bands.iter().zip(&survey.bands) {
        let header = StampHeader {
            id,
            survey: survey.name.clone(),
            band: band.name.clone(),
            pixel_scale: band.pixel_scale,
            zero_point: band.zero_point,
        };
        let path = dir.join(format!("g{id}_{}.fits", band.name));
        write_stamp(&path, o.image.view(), &header).unwrap();
        if !zero_points {
            // The same stamp with its MAGZERO card renamed to a keyword no reader knows.
            let mut bytes = std::fs::read(&path).unwrap();
            let at = bytes
                .windows(8)
                .position(|w| w == b"MAGZERO ")
                .expect("a MAGZERO card");
            bytes[at..at + 8].copy_from_slice(b"NOTAZP  ");
            std::fs::write(&path, bytes).unwrap();
        }
    }
}

fn euclid_sglc2() -> (Survey, PopulationConfig, Population) {
    let survey = Survey::load("euclid").unwrap();
    let config = PopulationConfig::load("sglc2").unwrap();
    let population = Population::new(config.clone(), &survey).unwrap();
    (survey, config, population)
}

/// A temporary folder and the empty folder `cutouts` in it.
fn cutout_folder() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cutouts = dir.path().join("cutouts");
    std::fs::create_dir(&cutouts).unwrap();
    (dir, cutouts)
}

fn request(survey: Survey, population: PopulationConfig, per_cutout: u64) -> InjectRequest {
    InjectRequest {
        survey,
        population,
        per_cutout,
        render: RenderOptions {
            seed: SEED,
            ..RenderOptions::default()
        },
        zero_points: BTreeMap::new(),
        unlensed: false,
    }
}

fn run(
    request: &InjectRequest,
    cutouts: &Path,
    out: &Path,
    opts: &GenerateOptions,
) -> sim::Result<sim::generate::Summary> {
    let stamps = open_cutouts(cutouts, &request.survey, BadCutouts::Refuse)?;
    let (survey, assumed) = survey_on_cutouts(&request.survey, &stamps);
    assert!(assumed.is_empty(), "every stamp records its pixel scale");
    let request = InjectRequest {
        survey,
        ..request.clone()
    };
    inject(&request, &stamps, cutouts, out, opts, &|_| {})
}

fn f64_column(file: &DatasetFile, name: &str) -> Vec<f64> {
    match file.column(name, 0, file.n).unwrap() {
        Column::F64(v) => v,
        Column::I64(v) => v.into_iter().map(|x| x as f64).collect(),
        Column::U8(v) => v.into_iter().map(f64::from).collect(),
        other => panic!("{name}: {other:?}"),
    }
}

fn catalog_value(catalog: &[(String, Column)], name: &str) -> f64 {
    match &catalog.iter().find(|(n, _)| n == name).unwrap().1 {
        Column::F64(v) => v[0],
        Column::I64(v) => v[0] as f64,
        Column::U8(v) => v[0] as f64,
        other => panic!("{name}: {other:?}"),
    }
}

/// The lens of seed 5 with the most source pixels among its first 100 systems (as `sim
/// generate` labels them) is painted into its
/// own lens galaxy, observed with noise and written as FITS cutouts with MAGZERO = the survey's
/// zero point (so the cutout's units are e⁻/s). Then, where the source adds flux S (e⁻/s, PSF-
/// convolved, as `sim`'s renderer gives it), the injected image minus the cutout is S with its
/// photon noise alone: mean S and variance S/T (T the band's exposure time), so over the pixels
/// of ≥ 1 electron in all bands the z-scores (Poisson: mean 0, variance 1 exactly; ~1400 of
/// them, so a sampling error of 0.03) have a mean within 0.1 and a σ within 10 % of 1; where S
/// is 0 the cutout is untouched. The total added flux is the source's within 4σ of its Poisson noise.
/// The lens model is the population's draw, so θ_E and every band's μ_eff equal `sim
/// generate`'s for the same index; n_pix_source, counted against the cutout's measured σ
/// instead of the survey's, agrees within 5 % (573 against 576 here), and the label is the same.
#[test]
fn injecting_into_our_own_lens_galaxy_gives_what_render_gives() {
    let (survey, config, population) = euclid_sglc2();
    let observer = Observer::new(&survey).unwrap();
    let opts = RenderOptions {
        seed: SEED,
        ..RenderOptions::default()
    };
    let (k, generated) = (0..100)
        .map(|k| {
            (
                k,
                simulate(&population, &survey, &observer, &opts, k).unwrap(),
            )
        })
        .filter(|(_, r)| r.is_lens == 1)
        .max_by_key(|(_, r)| catalog_value(&r.catalog, "n_pix_source") as u64)
        .expect("a lens among 100 systems of sglc2");
    let (dir, cutouts) = cutout_folder();
    let real = galaxy(&population, &survey, k);
    write_cutout(&cutouts, 1, &real, &survey, true);
    // System k is painted into cutout ⌊k / (k + 1)⌋ = 0.
    let out = dir.path().join("injected.h5");
    run(
        &request(survey.clone(), config, k + 1),
        &cutouts,
        &out,
        &GenerateOptions::default(),
    )
    .unwrap();
    let file = DatasetFile::open(&out).unwrap();
    assert_eq!(file.n as u64, k + 1);

    // The source alone as sim renders it, PSF-convolved, e⁻/s.
    let spec = population.sample(SEED, k).spec;
    let system = spec.build(&survey, Path::new("system")).unwrap();
    let ideal = sim::raytrace::render(&system, &survey.band_grids(), 2);
    let mut zs = Vec::new();
    for (b, band) in survey.bands.iter().enumerate() {
        let source = observer.convolve(b, &ideal[b].source);
        let injected = file.image(&band.name, k as usize).unwrap();
        let added: Array2<f32> = &injected - &real[b].image;
        let t = observer.noise(b).total_time;
        let mut untouched = true;
        for (&a, &s) in added.iter().zip(source.iter()) {
            let s = s as f64;
            if s * t >= 1.0 {
                zs.push((a as f64 - s) / (s / t).sqrt());
            } else if s <= 0.0 {
                untouched &= a == 0.0;
            }
        }
        assert!(untouched, "{}: a pixel without source changed", band.name);
        let total: f64 = source.iter().map(|&v| v.max(0.0) as f64).sum();
        let got: f64 = added.iter().map(|&v| v as f64).sum();
        assert!(
            (got - total).abs() < 4.0 * (total / t).sqrt(),
            "{}: {got} vs {total}",
            band.name
        );
        let mu = f64_column(&file, &format!("mag_eff_{}", band.name))[k as usize];
        let want = catalog_value(&generated.catalog, &format!("mag_eff_{}", band.name));
        assert!(
            (mu - want).abs() <= 1e-9 * want,
            "{}: μ {mu} vs {want}",
            band.name
        );
    }
    // Every band's bright pixels together (the NIR stamps hold a hundred or so each).
    assert!(zs.len() > 1000, "{} pixels of ≥ 1 electron", zs.len());
    let n = zs.len() as f64;
    let mean = zs.iter().sum::<f64>() / n;
    let sd = (zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(
        mean.abs() < 0.1 && (sd - 1.0).abs() < 0.1,
        "z {mean} ± {sd}"
    );
    let theta_e = f64_column(&file, "theta_e")[k as usize];
    assert_eq!(theta_e, catalog_value(&generated.catalog, "theta_e"));
    let n_pix = f64_column(&file, "n_pix_source")[k as usize];
    let want = catalog_value(&generated.catalog, "n_pix_source");
    assert!(
        (n_pix - want).abs() <= 0.05 * want,
        "n_pix_source {n_pix} vs {want}"
    );
    assert_eq!(file.labels(k as usize, k as usize + 1).unwrap(), vec![1]);
    // The catalogue names the cutout, its stamps and its zero points.
    match file.column("cutout_id", 0, 1).unwrap() {
        Column::Str { values, .. } => assert_eq!(values, vec!["g1".to_string()]),
        other => panic!("cutout_id: {other:?}"),
    }
    match file.column("cutout_path_VIS", 0, 1).unwrap() {
        Column::Str { values, .. } => assert!(values[0].ends_with("g1_VIS.fits"), "{values:?}"),
        other => panic!("cutout_path_VIS: {other:?}"),
    }
    assert_eq!(
        f64_column(&file, "zero_point_VIS")[0],
        survey.bands[0].zero_point
    );
}

/// A population that draws no source leaves every cutout as it is (bit for bit) and labels
/// none a lens; the same run on 1 and 2 threads writes the same bytes, and the run stopped
/// after a block and resumed, and its two shards merged, hold the same images, catalogue
/// (strings included) and labels as the whole run.
#[test]
fn non_lenses_are_the_untouched_cutouts_and_runs_are_deterministic() {
    let (survey, config, population) = euclid_sglc2();
    let (dir, cutouts) = cutout_folder();
    let reals: Vec<Vec<ObservedBand>> = (0..3).map(|k| galaxy(&population, &survey, k)).collect();
    for (id, real) in reals.iter().enumerate() {
        write_cutout(&cutouts, id as u64, real, &survey, true);
    }
    let empty = PopulationConfig {
        no_source_fraction: 1.0,
        ..config.clone()
    };
    let out = dir.path().join("none.h5");
    run(
        &request(survey.clone(), empty, 2),
        &cutouts,
        &out,
        &GenerateOptions::default(),
    )
    .unwrap();
    let file = DatasetFile::open(&out).unwrap();
    assert_eq!(file.n, 6);
    for k in 0..6 {
        for (b, band) in survey.bands.iter().enumerate() {
            assert_eq!(file.image(&band.name, k).unwrap(), reals[k / 2][b].image);
        }
    }
    assert_eq!(file.labels(0, 6).unwrap(), vec![0; 6]);

    let with = |threads: usize, shard: Shard, name: &str| {
        let out = dir.path().join(name);
        let opts = GenerateOptions {
            threads,
            shard,
            block: 2,
            ..GenerateOptions::default()
        };
        run(
            &request(survey.clone(), config.clone(), 2),
            &cutouts,
            &out,
            &opts,
        )
        .unwrap();
        out
    };
    let one = with(1, Shard::WHOLE, "one.h5");
    let two = with(2, Shard::WHOLE, "two.h5");
    assert!(std::fs::read(&one).unwrap() == std::fs::read(&two).unwrap());
    let shards = [
        with(2, Shard { index: 0, count: 2 }, "s0.h5"),
        with(2, Shard { index: 1, count: 2 }, "s1.h5"),
    ];
    // Stopped after its first block (as Ctrl-C stops it), then resumed: the same bytes.
    let stopped = dir.path().join("stopped.h5");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = GenerateOptions {
        block: 1,
        stop: Some(stop.clone()),
        ..GenerateOptions::default()
    };
    let stamps = open_cutouts(&cutouts, &survey, BadCutouts::Refuse).unwrap();
    let on_grid = InjectRequest {
        survey: survey_on_cutouts(&survey, &stamps).0,
        ..request(survey.clone(), config.clone(), 2)
    };
    let e = inject(&on_grid, &stamps, &cutouts, &stopped, &opts, &|k| {
        stop.store(k >= 1, std::sync::atomic::Ordering::Relaxed)
    })
    .unwrap_err();
    // Blocks of one system, the stop asked for once the first is written: the pool may have
    // made another while it was written, never all five (each is a ray-traced system).
    let sim::Error::Interrupted { done, .. } = e else {
        panic!("{e}")
    };
    assert!((1..6).contains(&done), "{done}");
    assert!(!stopped.exists());
    let resumed = GenerateOptions {
        resume: true,
        ..GenerateOptions::default()
    };
    let summary = run(
        &request(survey.clone(), config.clone(), 2),
        &cutouts,
        &stopped,
        &resumed,
    );
    assert_eq!(summary.unwrap().resumed_at, done);
    same_content(&one, &stopped, &survey);
    let merged = dir.path().join("merged.h5");
    sim::dataset::merge::merge(&shards, &merged).unwrap();
    same_content(&one, &merged, &survey);
}

/// Asserts that two datasets hold the same images, catalogue and labels.
fn same_content(a: &Path, b: &Path, survey: &Survey) {
    let (a, b) = (DatasetFile::open(a).unwrap(), DatasetFile::open(b).unwrap());
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.n, b.n);
    for c in &a.columns {
        // Debug text, so that NaN (no critical curve, no source) equals NaN.
        let text = |f: &DatasetFile| format!("{:?}", f.column(c, 0, f.n).unwrap());
        assert!(text(&a) == text(&b), "column {c} differs");
    }
    for band in &survey.bands {
        let images = |f: &DatasetFile| f.images(&band.name, 0, f.n).unwrap();
        assert!(images(&a) == images(&b), "band {} differs", band.name);
    }
    assert_eq!(a.labels(0, a.n).unwrap(), b.labels(0, b.n).unwrap());
}

/// A cutout whose header has no zero point is refused naming its file and the option that
/// gives one, and nothing is left behind; the option then makes the run; a zero point for a
/// band the survey lacks, and 0 systems a cutout, are refused before any work.
#[test]
fn a_cutout_without_a_zero_point_is_named_and_the_option_supplies_one() {
    let (survey, config, population) = euclid_sglc2();
    let (dir, cutouts) = cutout_folder();
    write_cutout(
        &cutouts,
        7,
        &galaxy(&population, &survey, 0),
        &survey,
        false,
    );
    let out = dir.path().join("out.h5");
    let opts = GenerateOptions::default();
    let e = run(
        &request(survey.clone(), config.clone(), 1),
        &cutouts,
        &out,
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("g7_VIS.fits") && e.contains("--zero-point VIS="),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the cutouts' folder: {left:?}");
    let mut given = request(survey.clone(), config.clone(), 1);
    given.zero_points = survey
        .bands
        .iter()
        .map(|b| (b.name.clone(), b.zero_point))
        .collect();
    run(&given, &cutouts, &out, &opts).unwrap();
    assert_eq!(DatasetFile::open(&out).unwrap().n, 1);
    given.zero_points.insert("K".into(), 25.0);
    let e = run(&given, &cutouts, &dir.path().join("k.h5"), &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--zero-point") && e.contains("`K`"), "{e}");
    let e = run(
        &request(survey, config, 0),
        &cutouts,
        &dir.path().join("z.h5"),
        &opts,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--per-cutout"), "{e}");
}

/// Writes the list `name` of cutout `g0` (written by [`write_cutout`]) in `dir`, with a
/// `psf_<band>` column naming `psfs[b]` where given.
fn write_list(
    dir: &Path,
    name: &str,
    survey: &Survey,
    psfs: &[Option<&str>],
) -> std::path::PathBuf {
    let bands: Vec<&str> = survey.bands.iter().map(|b| b.name.as_str()).collect();
    let mut header = vec!["id".to_string()];
    let mut row = vec!["g0".to_string()];
    for b in &bands {
        header.push(b.to_string());
        row.push(format!("cutouts/g0_{b}.fits"));
    }
    for (b, psf) in bands.iter().zip(psfs) {
        if let Some(p) = psf {
            header.push(format!("psf_{b}"));
            row.push(p.to_string());
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n{}\n", header.join(","), row.join(","))).unwrap();
    path
}

/// Writes `kernel` as the PSF image `name` in `dir` at the band's pixel scale.
fn write_psf(dir: &Path, name: &str, kernel: &Array2<f64>, band: &sim::observe::Band) {
    let header = StampHeader {
        id: 0,
        survey: "psf".into(),
        band: band.name.clone(),
        pixel_scale: band.pixel_scale,
        zero_point: band.zero_point,
    };
    write_stamp(&dir.join(name), kernel.mapv(|v| v as f32).view(), &header).unwrap();
}

fn images(path: &Path, survey: &Survey) -> Vec<ndarray::Array3<f32>> {
    let file = DatasetFile::open(path).unwrap();
    survey
        .bands
        .iter()
        .map(|b| file.images(&b.name, 0, file.n).unwrap())
        .collect()
}

/// A cutout's own PSF (a `psf_<band>` column of the list) replaces the survey's: the survey's
/// kernels written as PSF images give the images of a run without them, noise off, to 1e-5 of
/// each band's peak (the kernels stored as float32); a one-pixel PSF (a delta) gives the images
/// of a run without PSF convolution bit for bit, noise on (the same draws of the same fluxes);
/// the catalogue names the PSF images; one of even side is refused naming its file.
#[test]
fn a_cutout_s_own_psf_replaces_the_survey_s() {
    let (survey, config, population) = euclid_sglc2();
    let (dir, cutouts) = cutout_folder();
    write_cutout(&cutouts, 0, &galaxy(&population, &survey, 0), &survey, true);
    let observer = Observer::new(&survey).unwrap();
    let delta = Array2::from_elem((1, 1), 1.0);
    for (b, band) in survey.bands.iter().enumerate() {
        write_psf(
            dir.path(),
            &format!("psf_{}.fits", band.name),
            observer.kernel(b),
            band,
        );
        write_psf(
            dir.path(),
            &format!("delta_{}.fits", band.name),
            &delta,
            band,
        );
    }
    write_psf(
        dir.path(),
        "even.fits",
        &Array2::from_elem((4, 4), 1.0),
        &survey.bands[0],
    );
    let names = |prefix: &str| -> Vec<String> {
        survey
            .bands
            .iter()
            .map(|b| format!("{prefix}_{}.fits", b.name))
            .collect()
    };
    let (own, deltas) = (names("psf"), names("delta"));
    let plain = write_list(dir.path(), "plain.csv", &survey, &[None; 4]);
    let as_given: Vec<Option<&str>> = own.iter().map(|s| Some(s.as_str())).collect();
    let with_own = write_list(dir.path(), "own.csv", &survey, &as_given);
    let as_delta: Vec<Option<&str>> = deltas.iter().map(|s| Some(s.as_str())).collect();
    let with_delta = write_list(dir.path(), "delta.csv", &survey, &as_delta);
    let opts = GenerateOptions::default();
    // Source-rich draws: 8 systems into the one cutout.
    let mut quiet = request(survey.clone(), config.clone(), 8);
    quiet.render.noise = false;
    let out = |name: &str| dir.path().join(name);
    run(&quiet, &plain, &out("a.h5"), &opts).unwrap();
    run(&quiet, &with_own, &out("b.h5"), &opts).unwrap();
    for (a, b) in images(&out("a.h5"), &survey)
        .iter()
        .zip(images(&out("b.h5"), &survey))
    {
        let peak = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst <= 1e-5 * peak, "{worst} of a peak {peak}");
    }
    let mut unblurred = request(survey.clone(), config.clone(), 8);
    unblurred.render.psf = false;
    run(&unblurred, &plain, &out("c.h5"), &opts).unwrap();
    run(
        &request(survey.clone(), config, 8),
        &with_delta,
        &out("d.h5"),
        &opts,
    )
    .unwrap();
    assert_eq!(images(&out("c.h5"), &survey), images(&out("d.h5"), &survey));
    let file = DatasetFile::open(&out("d.h5")).unwrap();
    match file.column("cutout_psf_J", 0, 1).unwrap() {
        Column::Str { values, .. } => assert!(values[0].ends_with("delta_J.fits"), "{values:?}"),
        other => panic!("cutout_psf_J: {other:?}"),
    }
    let even = write_list(
        dir.path(),
        "even.csv",
        &survey,
        &[Some("even.fits"), None, None, None],
    );
    let e = run(&quiet, &even, &out("e.h5"), &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("even.fits") && e.contains("odd side"), "{e}");
}

/// With `unlensed`, a population that draws no source gives every cutout the source that
/// draw would have had, seen through no mass: with noise off, the injected image minus the
/// cutout is that source rendered unlensed (ray-traced through a shear of 0) and convolved
/// with the PSF, to float32 rounding of the cutout's values (1e-6 of its peak); μ_eff is that
/// unlensed rendering's (1 in VIS to the 3 % of its sub-pixel integration), θ_E 0, and no system
/// is a lens.
#[test]
fn unlensed_sources_make_blended_non_lenses() {
    let (survey, config, population) = euclid_sglc2();
    let (dir, cutouts) = cutout_folder();
    let real = galaxy(&population, &survey, 0);
    write_cutout(&cutouts, 0, &real, &survey, true);
    let empty = PopulationConfig {
        no_source_fraction: 1.0,
        ..config.clone()
    };
    let mut asked = request(survey.clone(), empty, 4);
    asked.unlensed = true;
    asked.render.noise = false;
    let out = dir.path().join("unlensed.h5");
    run(&asked, &cutouts, &out, &GenerateOptions::default()).unwrap();
    let file = DatasetFile::open(&out).unwrap();
    assert_eq!(file.labels(0, 4).unwrap(), vec![0; 4]);
    assert_eq!(f64_column(&file, "unlensed"), vec![1.0; 4]);
    assert_eq!(f64_column(&file, "theta_e"), vec![0.0; 4]);
    let observer = Observer::new(&survey).unwrap();
    let always = PopulationConfig {
        no_source_fraction: 0.0,
        ..config
    };
    let always = Population::new(always, &survey).unwrap();
    for k in 0..4u64 {
        let mut spec = always.sample(SEED, k).spec;
        spec.lens.light.clear();
        spec.lens.mass = vec![sim::mass::MassSpec::Shear(sim::mass::shear::ShearParams {
            gamma: 0.0,
            phi: 0.0,
        })];
        let system = spec.build(&survey, Path::new("unlensed")).unwrap();
        let ideal = sim::raytrace::render(&system, &survey.band_grids(), 2);
        let mag_eff = sim::raytrace::effective_magnification(&system, &ideal);
        // Unlensed: the rendered over the analytic flux, 1 but for the sub-pixel integration
        // of cuspy profiles by 2×2 sub-pixels: 1.5 % here in VIS at 0.1", more on 0.3" pixels).
        assert!((mag_eff[0] - 1.0).abs() < 0.03, "VIS μ {}", mag_eff[0]);
        for (b, band) in survey.bands.iter().enumerate() {
            let want = observer.convolve(b, &ideal[b].source);
            let got = &file.image(&band.name, k as usize).unwrap() - &real[b].image;
            let peak = real[b].image.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = got
                .iter()
                .zip(&want)
                .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(worst <= 1e-6 * peak, "{} system {k}: {worst}", band.name);
            let mu = f64_column(&file, &format!("mag_eff_{}", band.name))[k as usize];
            assert_eq!(mu, mag_eff[b], "{}", band.name);
        }
    }
}
