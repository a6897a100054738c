//! End-to-end tests of the `sim` binary on small inputs.

use std::path::Path;
use std::process::Command;

const SIS_SPEC: &str = r#"
z_lens = 0.4
z_source = 1.8
[[lens.mass]]
type = "sis"
theta_e = 1.3
[[lens.light]]
type = "sersic"
r_eff = 0.8
n = 4.0
mag = { VIS = 20.0, Y = 19.5, J = 19.3, H = 19.2 }
[[source.light]]
type = "sersic"
r_eff = 0.1
n = 1.0
center = [0.0, 0.0]
mag = { VIS = 24.0, Y = 24.0, J = 24.0, H = 24.0 }
"#;

fn sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("sim runs")
}

fn str_attr(file: &hdf5_pure::File, name: &str) -> String {
    file.root().attrs().unwrap()[name]
        .as_str()
        .unwrap()
        .to_string()
}

fn col(file: &hdf5_pure::File, name: &str) -> f64 {
    file.dataset(&format!("catalog/{name}"))
        .unwrap()
        .read_f64()
        .unwrap()[0]
}

fn col_i(file: &hdf5_pure::File, name: &str) -> i64 {
    file.dataset(&format!("catalog/{name}"))
        .unwrap()
        .read_i64()
        .unwrap()[0]
}

fn vis(out: &Path) -> Vec<f32> {
    hdf5_pure::File::open(out)
        .unwrap()
        .dataset("images/VIS")
        .unwrap()
        .read_f32()
        .unwrap()
}

#[test]
fn render_writes_the_dataset_layout_and_a_contact_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("sis.toml");
    std::fs::write(&spec, SIS_SPEC).unwrap();
    let (out, png) = (dir.path().join("sis.h5"), dir.path().join("sis.png"));
    let o = sim(&[
        "render",
        "--spec",
        spec.to_str().unwrap(),
        "--survey",
        "euclid",
        "--out",
        out.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let f = hdf5_pure::File::open(&out).unwrap();
    assert_eq!(str_attr(&f, "format"), "lensforge-dataset");
    assert_eq!(
        f.root().attrs().unwrap()["format_version"].as_u64(),
        Some(1)
    );
    assert_eq!(str_attr(&f, "survey"), "euclid");
    let config: toml::Value =
        toml::from_str(&str_attr(&f, "config")).expect("config attribute is TOML");
    assert_eq!(
        config["spec"]["lens"]["mass"][0]["theta_e"].as_float(),
        Some(1.3)
    );
    assert_eq!(
        f.dataset("images/VIS").unwrap().shape().unwrap(),
        vec![1, 200, 200]
    );
    for band in ["Y", "J", "H"] {
        assert_eq!(
            f.dataset(&format!("images/{band}"))
                .unwrap()
                .shape()
                .unwrap(),
            vec![1, 66, 66]
        );
    }
    // An SIS's tangential critical curve is the circle of radius θ_E (analytic), and a source
    // at its centre is magnified far beyond 1.6.
    assert!(
        (col(&f, "theta_e") - 1.3).abs() < 0.01,
        "θ_E = {}",
        col(&f, "theta_e")
    );
    assert!(col(&f, "caustic_radius") < 0.01);
    assert!(col(&f, "mag_eff_VIS") > 5.0 && col(&f, "mag_eff_H") > 5.0);
    // The lens light's total magnitude round-trips through the zero point.
    assert!((col(&f, "lens_mag_VIS") - 20.0).abs() < 1e-9);
    // The label and the thresholds it was made with.
    let is_lens = f.dataset("labels/is_lens").unwrap();
    assert_eq!(is_lens.read_u8().unwrap(), vec![1]);
    let la = is_lens.attrs().unwrap();
    assert_eq!(la["min_n_pix"].as_u64(), Some(20));
    assert_eq!(la["min_mag_eff"].as_f64(), Some(1.6));
    assert!(col(&f, "bg_sigma_VIS") > 0.0 && col_i(&f, "n_pix_source") > 20);
    let head = std::fs::read(&png).unwrap();
    assert_eq!(&head[..8], b"\x89PNG\r\n\x1a\n");
}

/// The Euclid survey preset's TOML, for tests that write variants of it.
fn euclid_survey_text() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../configs/surveys/euclid.toml"
    );
    std::fs::read_to_string(path).unwrap()
}

/// The RGB pixels and width of a PNG.
fn png_rgb(path: &Path) -> (Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (buf, info.width as usize)
}

#[test]
fn render_writes_every_critical_curve_and_draws_them_on_the_sheet() {
    // The embedded example (SIE + NFW + shear): an NFW cusp gives a radial critical curve
    // inside the tangential one.
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (out, png, curves) = (p("one.h5"), p("one.png"), p("more/curves.json"));
    let o = sim(&[
        "render",
        "--out",
        out.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
        "--curves",
        curves.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&curves).unwrap()).unwrap();
    assert_eq!(json["units"], "arcsec");
    let rings = |kind: &str, which: &str| -> Vec<Vec<[f64; 2]>> {
        serde_json::from_value(serde_json::Value::Array(
            json[kind]
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| pair[which].clone())
                .collect(),
        ))
        .unwrap()
    };
    let (tangential, radial) = (rings("tangential", "critical"), rings("radial", "critical"));
    assert!(!tangential.is_empty() && !radial.is_empty());
    for ring in tangential.iter().chain(&radial) {
        assert_eq!(ring.first(), ring.last(), "a closed ring");
    }
    // The largest tangential curve is the one the catalogue's θ_E = sqrt(area/π) measures
    // (traced there at the same step over a box around it).
    let f = hdf5_pure::File::open(&out).unwrap();
    let area = sim::caustics::polygon_area(&tangential[0]);
    let theta_e = (area / std::f64::consts::PI).sqrt();
    assert!(
        (theta_e - col(&f, "theta_e")).abs() < 1e-3 * theta_e,
        "{theta_e} against {}",
        col(&f, "theta_e")
    );
    // The radial curve lies inside the tangential one.
    let radial_area = sim::caustics::polygon_area(&radial[0]);
    assert!(radial_area < area, "{radial_area} ≥ {area}");
    // The curves are drawn on the first panel only: the sheet differs from one without them
    // there and nowhere else.
    let plain = p("plain.png");
    let o = sim(&[
        "render",
        "--out",
        p("plain.h5").to_str().unwrap(),
        "--png",
        plain.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ((drawn, width), (bare, _)) = (png_rgb(&png), png_rgb(&plain));
    let changed: Vec<usize> = (0..drawn.len() / 3)
        .filter(|k| drawn[3 * k..3 * k + 3] != bare[3 * k..3 * k + 3])
        .collect();
    assert!(changed.len() > 100, "{} pixels drawn", changed.len());
    assert!(changed.iter().all(|k| k % width < sim::preview::PANEL));
}

#[test]
fn curves_over_a_wide_stamp_are_traced_at_a_coarser_step_and_still_found() {
    // A VIS stamp of 600 pixels at 1"/px: 600" at the 0.02" caustic step would be 30,000²
    // Hessians; the curves are traced at 600"/2048 instead, and the SIS's Einstein circle
    // (θ_E = 1.3", about nine such steps across) is traced again finely.
    let dir = tempfile::tempdir().unwrap();
    let euclid = euclid_survey_text();
    let wide = euclid
        .replacen("pixel_scale = 0.1", "pixel_scale = 1.0", 1)
        .replacen("size = 200", "size = 600", 1);
    assert_ne!(wide, euclid);
    let (survey, spec) = (dir.path().join("wide.toml"), dir.path().join("sis.toml"));
    std::fs::write(&survey, wide).unwrap();
    std::fs::write(&spec, SIS_SPEC).unwrap();
    let curves = dir.path().join("curves.json");
    let o = sim(&[
        "render",
        "--spec",
        spec.to_str().unwrap(),
        "--survey",
        survey.to_str().unwrap(),
        "--supersample",
        "1",
        "--out",
        dir.path().join("one.h5").to_str().unwrap(),
        "--curves",
        curves.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&curves).unwrap()).unwrap();
    assert_eq!(json["half_width"].as_f64(), Some(300.0));
    assert_eq!(json["step"].as_f64(), Some(600.0 / 2048.0));
    let ring: Vec<[f64; 2]> =
        serde_json::from_value(json["tangential"][0]["critical"].clone()).unwrap();
    assert!(ring.len() >= 64, "{} vertices", ring.len());
    let theta_e = (sim::caustics::polygon_area(&ring) / std::f64::consts::PI).sqrt();
    assert!((theta_e - 1.3).abs() < 0.01, "θ_E {theta_e}");
}

#[test]
fn curves_into_a_folder_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one.h5");
    let o = sim(&[
        "render",
        "--out",
        out.to_str().unwrap(),
        "--curves",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--curves"), "{err}");
    assert!(!out.exists());
}

#[test]
fn json_and_toml_specs_render_the_same_images() {
    let dir = tempfile::tempdir().unwrap();
    let value: toml::Value = toml::from_str(SIS_SPEC).unwrap();
    let (t, j) = (dir.path().join("s.toml"), dir.path().join("s.json"));
    std::fs::write(&t, SIS_SPEC).unwrap();
    std::fs::write(&j, serde_json::to_string(&value).unwrap()).unwrap();
    let read = |spec: &Path, name: &str| {
        let out = dir.path().join(name);
        let o = sim(&[
            "render",
            "--spec",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--supersample",
            "1",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        hdf5_pure::File::open(&out)
            .unwrap()
            .dataset("images/VIS")
            .unwrap()
            .read_f32()
            .unwrap()
    };
    assert_eq!(read(&t, "t.h5"), read(&j, "j.h5"));
}

#[test]
fn a_wrong_spec_names_file_field_and_range_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            SIS_SPEC.replace(
                "type = \"sis\"\ntheta_e = 1.3",
                "type = \"sie\"\ntheta_e = 1.3\nq = 1.5",
            ),
            "lens.mass[0].q",
            "[0.01, 1]",
        ),
        (
            SIS_SPEC.replace("z_source = 1.8", "z_source = 0.2"),
            "z_source",
            "z_lens",
        ),
        (
            SIS_SPEC.replace("H = 19.2", "K = 19.2"),
            "lens.light[0].mag",
            "`K`",
        ),
        (
            SIS_SPEC.replace("n = 4.0", "n = 40.0"),
            "lens.light[0].n",
            "[0.2, 10]",
        ),
        (
            SIS_SPEC.replace("\"sis\"", "\"sis_typo\""),
            "sis_typo",
            "sie",
        ),
    ];
    for (k, (text, field, range)) in cases.iter().enumerate() {
        let spec = dir.path().join(format!("bad{k}.toml"));
        std::fs::write(&spec, text).unwrap();
        let out = dir.path().join(format!("bad{k}.h5"));
        let png = dir.path().join(format!("bad{k}.png"));
        let o = sim(&[
            "render",
            "--spec",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            err.contains(&format!("bad{k}.toml")) && err.contains(field) && err.contains(range),
            "case {k}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists() && !png.exists());
    }
    // Nothing half-written either.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter().all(|n| n.to_string_lossy().ends_with(".toml")),
        "{left:?}"
    );
}

#[test]
fn render_with_no_arguments_uses_the_embedded_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("example.h5");
    let o = sim(&["render", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("rendered 1 system"));
    assert!(out.exists());
}

#[test]
fn render_says_which_device_ray_traces_and_refuses_one_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cpu.h5");
    let o = sim(&["render", "--device", "cpu", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("device: CPU (asked for)"));
    assert!(out.exists());

    let out = dir.path().join("gpu.h5");
    let o = sim(&["render", "--device", "gpu", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--device gpu: the devices are auto, cpu and cuda"),
        "{err}"
    );
    assert!(!out.exists());

    // `cuda` without a usable GPU (no `cuda` feature, no driver, or no device) is an error
    // that names the flag and says why, and writes nothing; with one, it renders.
    let out = dir.path().join("cuda.h5");
    let o = sim(&["render", "--device", "cuda", "--out", out.to_str().unwrap()]);
    if o.status.success() {
        assert!(out.exists());
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--device cuda: "), "{err}");
        assert!(!out.exists());
    }
}

#[test]
fn noise_follows_the_seed_and_the_flags_turn_effects_off() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("sis.toml");
    std::fs::write(&spec, SIS_SPEC).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "render",
            "--spec",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = sim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        vis(&out)
    };
    let a = run("a.h5", &["--seed", "5"]);
    assert_eq!(a, run("b.h5", &["--seed", "5"]));
    assert_ne!(a, run("c.h5", &["--seed", "6"]));
    // Without PSF and noise the image is the ideal one: the flux of lens + source in e⁻/s,
    // 20 and 24 AB at zero point 25.72 (the source magnified), and no negative pixel.
    let ideal = run("d.h5", &["--no-psf", "--no-noise"]);
    assert!(ideal.iter().all(|&v| v >= 0.0));
    // With the PSF but no noise the total flux is unchanged (the PSF has unit sum); the
    // stamp clips a little of the lens's de Vaucouleurs wings either way.
    let psf_only = run("e.h5", &["--no-noise"]);
    let (si, sp) = (
        ideal.iter().map(|&v| v as f64).sum::<f64>(),
        psf_only.iter().map(|&v| v as f64).sum::<f64>(),
    );
    assert!((si - sp).abs() / si < 2e-3, "{si} vs {sp}");
    assert_ne!(ideal, psf_only);
}

#[test]
fn sis_magnification_survives_psf_and_matches_the_point_source_value() {
    // Analytic: a point source at β < θ_E behind an SIS has total magnification 2θ_E/β
    // (= 6.5 here); a 0.03" source, PSF-convolved, measured in the stamp of every band,
    // agrees to 2 % (its finite size changes ⟨1/β⟩ by ~(r/β)²/4 ≈ 0.1 %).
    let text = SIS_SPEC.replace(
        "r_eff = 0.1\nn = 1.0\ncenter = [0.0, 0.0]",
        "r_eff = 0.03\nn = 1.0\ncenter = [0.4, 0.0]",
    );
    assert_ne!(text, SIS_SPEC);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("mu.toml");
    std::fs::write(&spec, &text).unwrap();
    let out = dir.path().join("mu.h5");
    let o = sim(&[
        "render",
        "--spec",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--supersample",
        "10",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hdf5_pure::File::open(&out).unwrap();
    for band in ["VIS", "Y", "J", "H"] {
        let mu = col(&f, &format!("mag_eff_{band}"));
        assert!(
            (mu - 2.0 * 1.3 / 0.4).abs() / 6.5 < 0.02,
            "{band}: μ_eff = {mu}"
        );
    }
    // and the lens equation has two images of the source centre
    assert_eq!(col_i(&f, "n_images"), 2);
}

#[test]
fn a_survey_file_with_an_impossible_value_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = euclid_survey_text();
    let cases = [
        (
            good.replacen("exposure_time = 566.0", "exposure_time = -566.0", 1),
            "bands[0].exposure_time",
        ),
        (
            good.replacen("pixel_scale = 0.3", "pixel_scale = 0.0", 1),
            "bands[1].pixel_scale",
        ),
        (
            good.replacen(
                "psf = { type = \"gaussian\", fwhm = 0.16 }",
                "psf = { type = \"pixelated\", file = \"missing.fits\" }",
                1,
            ),
            "missing.fits",
        ),
        (good.replacen("read_noise = 4.2", "", 1), "read_noise"),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        assert_ne!(text, &good, "case {k} changed nothing");
        let survey = dir.path().join(format!("survey{k}.toml"));
        std::fs::write(&survey, text).unwrap();
        let out = dir.path().join(format!("o{k}.h5"));
        let o = sim(&[
            "render",
            "--survey",
            survey.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(needle) && err.contains(&format!("survey{k}.toml")),
            "case {k}: {err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn bench_deflect_reports_rays_per_second_and_refuses_bad_devices() {
    let out = sim(&[
        "bench-deflect",
        "--device",
        "cpu",
        "--systems",
        "3",
        "--repeats",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // "CPU (T threads): R rays/s — 3 lenses of sglc2 on euclid's VIS grid (200×200 px …)"
    let line = text
        .lines()
        .find(|l| l.starts_with("CPU"))
        .expect("a CPU line");
    let rate: f64 = line
        .split("): ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|r| r.parse().ok())
        .expect("a rate");
    assert!(rate > 0.0 && rate.is_finite(), "{line}");
    assert!(
        line.contains("3 lenses") && line.contains("200×200"),
        "{line}"
    );
    let generate = ["generate", "-n", "1", "--out", "/nonexistent/x.h5"];
    for args in [&["bench-deflect"][..], &generate[..]] {
        let bad = sim(&[args, &["--device", "tpu"]].concat());
        assert!(!bad.status.success());
        let e = String::from_utf8_lossy(&bad.stderr);
        assert!(e.contains("--device tpu"), "{args:?}: {e}");
    }
    #[cfg(not(feature = "cuda"))]
    {
        let no_gpu = sim(&["bench-deflect", "--device", "cuda", "--systems", "1"]);
        assert!(!no_gpu.status.success());
        assert!(String::from_utf8_lossy(&no_gpu.stderr).contains("--features cuda"));
    }
}
