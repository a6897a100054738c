//! `sim generate --format sglc`: the challenge layouts read back (FITS with `fitsio-pure`, the
//! catalogue with `csv`) and checked against the HDF5 dataset of the same run, system by system.

use std::path::Path;

use fitsio_pure::hdu::parse_fits;
use fitsio_pure::header::Card;
use fitsio_pure::value::Value;
use sim::caustics::CausticGrid;
use sim::dataset::read::DatasetFile;
use sim::dataset::sglc::SglcOptions;
use sim::generate::{generate, GenerateOptions, OutputFormat, RunConfig, RunSettings};
use sim::observe::Survey;
use sim::population::PopulationConfig;

fn config(survey: &str, n: u64, seed: u64) -> RunConfig {
    RunConfig {
        generate: RunSettings {
            n,
            seed,
            supersample: 2,
            caustic_step: CausticGrid::DEFAULT_STEP,
            psf: true,
            noise: true,
        },
        survey: Survey::load(survey).unwrap(),
        population: PopulationConfig::load("sglc2").unwrap(),
        inject: None,
    }
}

fn run(cfg: &RunConfig, out: &Path, format: OutputFormat) -> sim::error::Result<()> {
    let opts = GenerateOptions {
        block: 5,
        format,
        ..GenerateOptions::default()
    };
    generate(cfg, out, &opts, &|_| {}).map(|_| ())
}

fn sglc(first_id: u64, blind: bool) -> OutputFormat {
    OutputFormat::Sglc(SglcOptions {
        first_id,
        blind,
        truth: None,
    })
}

/// The primary HDU's cards and pixels (row-major, as the file stores them).
fn read_fits(path: &Path) -> (Vec<Card>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(bytes.len() % 2880, 0, "{path:?}: not whole FITS blocks");
    let fits = parse_fits(&bytes).unwrap();
    let hdu = &fits.hdus[0];
    let mut pixels = vec![0.0; hdu.data_len / 4];
    fitsio_pure::image::read_image_data_into_f64(&bytes, hdu, &mut pixels).unwrap();
    (hdu.cards.clone(), pixels)
}

fn card<'a>(cards: &'a [Card], key: &str) -> &'a Value {
    cards
        .iter()
        .find(|c| c.keyword_str() == key)
        .and_then(|c| c.value.as_ref())
        .unwrap_or_else(|| panic!("no {key}"))
}

/// The catalogue's comment lines and its records (header first).
fn read_catalog(path: &Path) -> (usize, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let comments = text.lines().take_while(|l| l.starts_with('#')).count();
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .has_headers(false)
        .from_path(path)
        .unwrap();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (comments, rows)
}

fn f64_column(file: &DatasetFile, name: &str, n: usize) -> Vec<f64> {
    let c = file.column(name, 0, n).unwrap();
    (0..n).map(|k| c.f64_at(k)).collect()
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[test]
fn the_second_challenge_layout_matches_the_hdf5_of_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("euclid", 12, 7);
    let h5 = dir.path().join("set.h5");
    let out = dir.path().join("set");
    run(&cfg, &h5, OutputFormat::Hdf5).unwrap();
    run(&cfg, &out, sglc(100000, false)).unwrap();
    let file = DatasetFile::open(&h5).unwrap();
    let n = 12;

    // Every band's stamp of every system: header and pixels equal to the HDF5 image.
    for band in &cfg.survey.bands {
        let images = file.images(&band.name, 0, n).unwrap();
        for k in 0..n {
            let id = 100000 + k as u64;
            let path = out.join(format!(
                "Public/EUC_{b}/imageEUC_{b}-{id}.fits",
                b = band.name
            ));
            let (cards, pixels) = read_fits(&path);
            let s = band.size as i64;
            assert_eq!(card(&cards, "BITPIX"), &Value::Integer(-32));
            assert_eq!(card(&cards, "NAXIS1"), &Value::Integer(s));
            assert_eq!(card(&cards, "NAXIS2"), &Value::Integer(s));
            assert_eq!(card(&cards, "PIXSCALE"), &Value::Float(band.pixel_scale));
            assert_eq!(card(&cards, "CTYPE1"), &Value::String("RA---TAN".into()));
            assert_eq!(card(&cards, "CTYPE2"), &Value::String("DEC--TAN".into()));
            // FITS pixels count from 1: the centre of an N-pixel axis is (N + 1)/2.
            assert_eq!(
                card(&cards, "CRPIX1"),
                &Value::Float((band.size as f64 + 1.0) / 2.0)
            );
            assert_eq!(
                card(&cards, "CDELT2"),
                &Value::Float(band.pixel_scale / 3600.0)
            );
            assert_eq!(card(&cards, "FILTER"), &Value::String(band.name.clone()));
            assert_eq!(card(&cards, "OBJECT"), &Value::String(id.to_string()));
            let want = images.index_axis(ndarray::Axis(0), k);
            assert_eq!(pixels.len(), want.len());
            for (p, w) in pixels.iter().zip(want.iter()) {
                assert_eq!(*p, *w as f64, "{path:?}");
            }
        }
    }

    // The catalogue: 28 comment lines, the challenge's 27 columns in its order, one row per
    // system, and the loaders' label line gives the HDF5 labels.
    let (comments, rows) = read_catalog(&out.join("image_catalog2.0train.csv"));
    assert_eq!(comments, 28);
    let header: Vec<&str> = vec![
        "",
        "ID",
        "x_crit",
        "y_crit",
        "source_ID",
        "z_source",
        "z_lens",
        "mag_source",
        "ein_area",
        "n_crit",
        "r_source",
        "crit_area",
        "n_pix_source",
        "source_flux",
        "n_pix_lens",
        "lens_flux",
        "n_source_im",
        "mag_eff",
        "sb_contrast",
        "color_diff",
        "n_gal_3",
        "n_gal_5",
        "n_gal_10",
        "halo_mass",
        "star_mass",
        "mag_lens",
        "n_sources",
    ];
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), n + 1);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let num = |row: &[String], name: &str| -> f64 { row[col(name)].parse().unwrap() };
    let labels = file.labels(0, n).unwrap();
    let theta_e = f64_column(&file, "theta_e", n);
    let z_lens = f64_column(&file, "z_lens", n);
    let n_pix = f64_column(&file, "n_pix_source", n);
    let halo = f64_column(&file, "halo_mass", n);
    let vis_lensed = f64_column(&file, "lensed_source_flux_VIS", n);
    for (k, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], k.to_string());
        assert_eq!(num(row, "ID"), (100000 + k) as f64);
        let loader_label = num(row, "n_source_im") > 0.0
            && num(row, "mag_eff") > 1.6
            && num(row, "n_pix_source") > 20.0;
        assert_eq!(loader_label, labels[k] == 1, "row {k}");
        assert!(same(
            num(row, "ein_area"),
            std::f64::consts::PI * theta_e[k] * theta_e[k]
        ));
        assert_eq!(num(row, "n_crit"), f64::from(u8::from(theta_e[k] > 0.0)));
        assert!(same(num(row, "z_lens"), z_lens[k]));
        assert_eq!(num(row, "n_pix_source"), n_pix[k]);
        assert!(same(num(row, "halo_mass"), halo[k]));
        assert!(same(num(row, "source_flux"), vis_lensed[k]));
        let gals = [
            num(row, "n_gal_3"),
            num(row, "n_gal_5"),
            num(row, "n_gal_10"),
        ];
        assert!(
            gals[0] <= gals[1] && gals[1] <= gals[2],
            "row {k}: {gals:?}"
        );
    }
    // The configuration travels with the set, and nothing else is left beside it.
    let back = std::fs::read_to_string(out.join("lensforge-config.toml")).unwrap();
    assert_eq!(RunConfig::from_toml(&back, &out).unwrap(), cfg);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["set", "set.h5"]);
}

#[test]
fn the_first_challenge_layout_holds_kids_stamps_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("kids", 8, 3);
    let h5 = dir.path().join("kids.h5");
    let out = dir.path().join("kids");
    run(&cfg, &h5, OutputFormat::Hdf5).unwrap();
    run(&cfg, &out, sglc(100000, false)).unwrap();
    let file = DatasetFile::open(&h5).unwrap();
    // I SGLC: Band1 R, Band2 I, Band3 G, Band4 U; 101×101 at 0.2".
    for (k_band, (name, letter)) in [("r", "R"), ("i", "I"), ("g", "G"), ("u", "U")]
        .iter()
        .enumerate()
    {
        let images = file.images(name, 0, 8).unwrap();
        for k in 0..8 {
            let path = out.join(format!(
                "Public/Band{}/imageSDSS_{letter}-{}.fits",
                k_band + 1,
                100000 + k
            ));
            let (cards, pixels) = read_fits(&path);
            assert_eq!(card(&cards, "NAXIS1"), &Value::Integer(101));
            assert_eq!(card(&cards, "PIXSCALE"), &Value::Float(0.2));
            let want = images.index_axis(ndarray::Axis(0), k);
            assert!(pixels.iter().zip(want.iter()).all(|(p, w)| *p == *w as f64));
        }
    }
    let (comments, rows) = read_catalog(&out.join("classifications.csv"));
    assert_eq!(
        comments, 0,
        "I SGLC loaders parse every row after the header"
    );
    assert_eq!(
        rows[0],
        [
            "ID",
            "is_lens",
            "Einstein_area",
            "numb_pix_lensed_image",
            "flux_lensed_image_in_sigma"
        ]
    );
    let labels = file.labels(0, 8).unwrap();
    let n_pix = f64_column(&file, "n_pix_source", 8);
    let lensed_r = f64_column(&file, "lensed_source_flux_r", 8);
    let sigma_r = f64_column(&file, "bg_sigma_r", 8);
    for (k, row) in rows[1..].iter().enumerate() {
        let v: Vec<f64> = row.iter().map(|x| x.parse().unwrap()).collect();
        assert_eq!(v[0], (100000 + k) as f64);
        assert_eq!(v[1], f64::from(labels[k]));
        assert_eq!(v[3], n_pix[k]);
        assert!(same(v[4], lensed_r[k] / sigma_r[k]));
    }
}

#[test]
fn a_blind_set_keeps_its_truth_apart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("euclid", 6, 11);
    let out = dir.path().join("blind");
    run(&cfg, &out, sglc(200000, true)).unwrap();
    // The folder holds the images and a README, no catalogue and no configuration (its seed
    // would regenerate the truth).
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Public", "README.txt"]);
    assert!(out
        .join("Public/EUC_VIS/imageEUC_VIS-200005.fits")
        .is_file());
    let (_, rows) = read_catalog(&dir.path().join("blind.truth.csv"));
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[1][1], "200000");
    assert!(dir.path().join("blind.truth.toml").is_file());
}

#[test]
fn bad_requests_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let list = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    // A survey with neither challenge's bands.
    let e = run(
        &config("des", 3, 0),
        &dir.path().join("des"),
        sglc(1, false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("g, r, i, z"), "{e}");
    assert!(list().is_empty());
    // An existing folder is not overwritten.
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let e = run(
        &config("euclid", 3, 0),
        &dir.path().join("taken"),
        sglc(1, false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(list(), ["taken"]);
    // Shards and resumes are for HDF5.
    let opts = GenerateOptions {
        resume: true,
        format: sglc(1, false),
        ..GenerateOptions::default()
    };
    let e = generate(
        &config("euclid", 3, 0),
        &dir.path().join("r"),
        &opts,
        &|_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("--resume"), "{e}");
    assert_eq!(list(), ["taken"]);
}
