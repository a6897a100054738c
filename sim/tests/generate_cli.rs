//! `sim generate`, `sim info` and `sim preview` as a user runs them: the default population's
//! lens fraction, the reports, and refused arguments.

use std::path::PathBuf;
use std::process::Command;

fn sim_bin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("sim runs")
}

#[test]
fn the_default_population_labels_about_half_as_lenses() {
    // Issue #4: 2,000 Euclid systems of the default population give a lens fraction between
    // 35 % and 65 % (the II SGLC had 49 %) and lenses whose n_pix_source has a median in the
    // tens (the challenge's was about 50).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.h5");
    let o = sim_bin(&[
        "generate",
        "--survey",
        "euclid",
        "-n",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("generated 2000 systems"), "{text}");
    let f = hdf5_pure::File::open_streaming(&out).unwrap();
    let labels: Vec<u8> = f.dataset("labels/is_lens").unwrap().read_u8().unwrap();
    let npix: Vec<i64> = f
        .dataset("catalog/n_pix_source")
        .unwrap()
        .read_i64()
        .unwrap();
    let lenses = labels.iter().filter(|&&l| l == 1).count();
    let frac = lenses as f64 / 2000.0;
    assert!((0.35..=0.65).contains(&frac), "lens fraction {frac}");
    let mut lens_pix: Vec<i64> = npix
        .iter()
        .zip(&labels)
        .filter(|(_, &l)| l == 1)
        .map(|(&n, _)| n)
        .collect();
    lens_pix.sort();
    let median = lens_pix[lens_pix.len() / 2];
    assert!((10..100).contains(&median), "median n_pix_source {median}");

    // `sim info` reports the same counts; `sim preview` draws lenses and non-lenses.
    let o = sim_bin(&["info", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("lenses {lenses} (")), "{text}");
    assert!(
        text.contains("systems 2000") && text.contains("VIS 200×200"),
        "{text}"
    );
    let png = dir.path().join("m.png");
    let preview = |per_class: &str| {
        sim_bin(&[
            "preview",
            out.to_str().unwrap(),
            "--out",
            png.to_str().unwrap(),
            "--per-class",
            per_class,
        ])
    };
    // Issue #19: a preview of no system a class is refused, and writes nothing.
    let o = preview("0");
    assert!(!o.status.success() && !png.exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--per-class"));
    let o = preview("4");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    // Four tiles of 160 px with 5 px frames, 6 px gaps: 4·170 + 3·6 wide, 2·170 + 6 high.
    assert_eq!((info.width, info.height), (4 * 170 + 18, 2 * 170 + 6));
}

#[test]
fn bad_arguments_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("x.h5");
    let o = sim_bin(&["generate", "--shard", "3/2", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("3/2"));
    let o = sim_bin(&[
        "generate",
        "--population",
        "nonesuch",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("sglc2"));
    let o = sim_bin(&[
        "generate",
        "-n",
        "4",
        "--supersample",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--supersample"));
    // Issue #19: an output that is a directory is refused before any work, naming it, and so
    // is an absurd thread count.
    let o = sim_bin(&["generate", "-n", "4", "--out", dir.path().to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--out") && err.contains("is a folder"),
        "{err}"
    );
    let o = sim_bin(&[
        "generate",
        "-n",
        "4",
        "--threads",
        "100000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 1024"));
    // Issue #19: a negative seed is named as a bad value of --seed (not an unknown flag), and
    // `generate --help` lists every embedded survey preset.
    let o = sim_bin(&["generate", "--seed", "-1", "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("'-1'") && err.contains("--seed"),
        "{err}"
    );
    let help = String::from_utf8_lossy(&sim_bin(&["generate", "--help"]).stdout).into_owned();
    for (name, _) in sim::observe::survey::PRESETS {
        assert!(
            help.contains(name),
            "generate --help omits the {name} preset"
        );
    }
    // Issue #19: a run of nothing is refused.
    let o = sim_bin(&["generate", "-n", "0", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("-n ≥ 1"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let o = sim_bin(&["info", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.h5"));
}

/// A small lensforge-like file with one thing wrong, written with format::h5 (issue #19, 11).
fn bad_dataset(path: &std::path::Path, version: u32, labels: bool, short_column: bool) {
    use format::h5::{AttrValue, Dtype, Writer};
    let mut f = Writer::create(path).unwrap();
    let root = f.root();
    let attrs = [
        ("format", AttrValue::Str(format::dataset::FORMAT.into())),
        ("format_version", AttrValue::U32(version)),
        ("survey", AttrValue::Str("euclid".into())),
        ("seed", AttrValue::U64(1)),
        ("config", AttrValue::Str(String::new())),
        ("first_index", AttrValue::U64(0)),
        ("n_total", AttrValue::U64(4)),
        ("systems_written", AttrValue::U64(4)),
    ];
    for (name, value) in attrs {
        f.set_attr(root, name, value).unwrap();
    }
    let images = f.create_group(root, "images").unwrap();
    let vis = f.create_images(images, "VIS", [4, 3, 3], 1).unwrap();
    for _ in 0..4 {
        let c = format::h5::filters::filter_image(&[1.0; 9]);
        f.write_chunk(vis, &c.bytes, c.filter_mask).unwrap();
    }
    let catalog = f.create_group(root, "catalog").unwrap();
    let len = if short_column { 3 } else { 4 };
    f.create_column(catalog, "n_pix_source", Dtype::I64, len)
        .unwrap();
    if labels {
        let g = f.create_group(root, "labels").unwrap();
        f.create_column(g, "is_lens", Dtype::U8, 4).unwrap();
    }
    f.finish().unwrap();
}

#[test]
fn info_names_what_is_wrong_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("v99.h5", 99, true, false, "format_version 99"),
        ("nolabels.h5", 1, false, false, "/labels/is_lens"),
        (
            "short.h5",
            1,
            true,
            true,
            "/catalog/n_pix_source has shape [3]",
        ),
    ];
    for (name, version, labels, short, want) in cases {
        let path = dir.path().join(name);
        bad_dataset(&path, version, labels, short);
        let o = sim_bin(&["info", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: {err}");
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
}

#[test]
fn ctrl_c_stops_between_blocks_and_says_how_to_resume_and_logs_show_progress() {
    // Issue #19 (8, 9): with stderr not a terminal, progress comes as plain lines (every
    // LENSFORGE_PROGRESS_SECONDS, here every block); SIGINT stops the run after the block in
    // hand with exit status 130 and a hint to rerun with --resume, which then finishes the run.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let partial = dir.path().join(".x.h5.partial");
    let args = [
        "generate",
        "-n",
        "200",
        "--threads",
        "1",
        "--block",
        "4",
        "--out",
        out.to_str().unwrap(),
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .env("LENSFORGE_PROGRESS_SECONDS", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the partial file exists the handler is installed (it is set before generating).
    let start = std::time::Instant::now();
    while !partial.exists() && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted after")
            && err.contains(".x.h5.partial")
            && err.contains("--resume"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("/200 systems, ") && l.ends_with(" left")),
        "plain progress lines: {err}"
    );
    assert!(partial.exists() && !out.exists());
    let mut resumed = args.to_vec();
    resumed.push("--resume");
    let o = sim_bin(&resumed);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("generated 200 systems") && text.contains("resumed at system"),
        "{text}"
    );
    assert!(out.exists() && !partial.exists());
}

/// `sim generate --timings` prints every stage's seconds and milliseconds a system after the
/// summary, the time of the stages that run for every system above zero, and writes what a run
/// without it writes, byte for byte.
#[test]
fn timings_split_the_run_by_stage_and_change_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["generate", "-n", "12", "--seed", "4", "--threads", "2"];
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        let o = sim_bin(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).to_string(),
            std::fs::read(out).unwrap(),
        )
    };
    let (plain_text, plain) = run("plain.h5", &[]);
    let (text, timed) = run("timed.h5", &["--timings"]);
    assert!(plain == timed, "the timed run wrote other bytes");
    assert!(!plain_text.contains("thread-seconds"), "{plain_text}");
    for stage in [
        "draw",
        "render",
        "observe",
        "catalogue",
        "compress",
        "write",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(stage))
            .unwrap_or_else(|| panic!("no {stage} line in\n{text}"));
        let numbers: Vec<f64> = line
            .split_whitespace()
            .rev()
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        assert!(numbers[0] > 0.0, "{stage}: {line}");
    }
}
