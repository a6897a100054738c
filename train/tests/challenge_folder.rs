//! Issue #21: a challenge folder of FITS stamps is a data source. The same systems written as
//! an HDF5 dataset, as a labelled II SGLC folder and as a blind one (`sim generate --format
//! sglc [--blind]`) give `train predict` the same scores to float precision (the stamps hold
//! the same float32 pixels), the folders' IDs from their file names, the labelled folder the
//! dataset's labels (from its catalogue, by the same rule), the blind one no labels; a list of
//! cutouts naming the same stamps scores the same and carries RA and Dec; and `train score`
//! scores the blind prediction against the blind set's truth end to end.

#[path = "common/binaries.rs"]
mod binaries;

use std::path::Path;
use std::process::Command;

fn ok(bin: &Path, name: &str, args: &[&str]) -> String {
    let o = Command::new(bin.join(name)).args(args).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{name} {args:?}: {said}");
    said
}

/// (header, rows) of a CSV written by `train predict`.
fn table(path: &Path) -> (String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn a_challenge_folder_scores_as_its_dataset_does() {
    let Some(bin) = binaries::with_sim() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // Euclid with small stamps, 40 systems, three ways.
    let survey = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../configs/surveys/euclid.toml"
    ))
    .unwrap()
    .replace("\nsize = 200\n", "\nsize = 48\n")
    .replace("\nsize = 66\n", "\nsize = 16\n");
    std::fs::write(d("euclid.toml"), survey).unwrap();
    let common = [
        "generate",
        "--survey",
        &d("euclid.toml"),
        "-n",
        "40",
        "--seed",
        "4",
    ];
    ok(
        &bin,
        "sim",
        &[&common[..], &["--out", &d("set.h5")]].concat(),
    );
    ok(
        &bin,
        "sim",
        &[
            &common[..],
            &["--format", "sglc", "--first-id", "500", "--out", &d("open")],
        ]
        .concat(),
    );
    ok(
        &bin,
        "sim",
        &[
            &common[..],
            &[
                "--format",
                "sglc",
                "--blind",
                "--first-id",
                "900",
                "--out",
                &d("blind"),
            ],
            &["--truth", &d("truth.csv")],
        ]
        .concat(),
    );
    // A tiny finder trained on the dataset, then each source scored by it.
    let run_args: Vec<String> = [
        "run",
        "--data",
        &d("set.h5"),
        "--device",
        "cpu",
        "--variant",
        "b0",
        "--width",
        "0.25",
        "--depth",
        "0.3",
        "--bn-momentum",
        "0.5",
        "--epochs",
        "4",
        "--folds",
        "2",
        "--folds-to-train",
        "1",
        "--batch",
        "8",
        "--test-fraction",
        "0.25",
        "--out",
        &d("run"),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    ok(
        &bin,
        "train",
        &run_args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let predict = |data: &str, out: &str| {
        let args = [
            "predict",
            "--run",
            &d("run"),
            "--data",
            &d(data),
            "--device",
            "cpu",
        ];
        ok(&bin, "train", &[&args[..], &["--out", &d(out)]].concat())
    };
    for (data, out) in [("set.h5", "a.csv"), ("open", "b.csv"), ("blind", "c.csv")] {
        predict(data, out);
    }
    let (ha, a) = table(Path::new(&d("a.csv")));
    let (hb, b) = table(Path::new(&d("b.csv")));
    let (hc, c) = table(Path::new(&d("c.csv")));
    // The folders' stamps carry a TAN WCS (sim puts every stamp at RA = Dec = 0), so their
    // tables give each stamp's centre; a dataset file gives no positions.
    assert_eq!(
        (ha.as_str(), hb.as_str()),
        ("id,score,is_lens", "id,score,is_lens,ra,dec")
    );
    assert_eq!(hc, "id,score,ra,dec", "a blind set has no labels");
    for row in b.iter().chain(&c) {
        let (ra, dec): (f64, f64) = (
            row[row.len() - 2].parse().unwrap(),
            row[row.len() - 1].parse().unwrap(),
        );
        assert!(
            (ra.min(360.0 - ra)).abs() < 1e-9 && dec.abs() < 1e-9,
            "{row:?}"
        );
    }
    assert_eq!((a.len(), b.len(), c.len()), (40, 40, 40));
    // Scores that differ from system to system (4 epochs give that here; 1 gives one constant
    // score), so that equal scores mean equal images.
    let mut distinct: Vec<&str> = a.iter().map(|r| r[1].as_str()).collect();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 30, "{} distinct scores", distinct.len());
    for k in 0..40 {
        // System k is ID 500 + k in the labelled folder, 900 + k in the blind one.
        assert_eq!(b[k][0], (500 + k).to_string());
        assert_eq!(c[k][0], (900 + k).to_string());
        let s: Vec<f64> = [&a[k], &b[k], &c[k]]
            .iter()
            .map(|r| r[1].parse().unwrap())
            .collect();
        assert!(
            (s[0] - s[1]).abs() <= 1e-6 && (s[0] - s[2]).abs() <= 1e-6,
            "system {k}: {s:?}"
        );
        assert_eq!(a[k][2], b[k][2], "system {k}'s label");
    }
    // Issue #21: the same stamps as a list of cutouts (IDs of any text, paths relative to the
    // list, positions, labels) score the same, and the table carries the positions.
    let mut list = String::from("id,VIS,Y,J,H,ra,dec,is_lens\n");
    for (k, row) in a.iter().enumerate() {
        let stamp = |b: &str| format!("open/Public/EUC_{b}/imageEUC_{b}-{}.fits", 500 + k);
        list += &format!(
            "obj-{k},{},{},{},{},{},-5.25,{}\n",
            stamp("VIS"),
            stamp("Y"),
            stamp("J"),
            stamp("H"),
            150.0 + k as f64 * 0.001,
            row[2]
        );
    }
    std::fs::write(d("list.csv"), list).unwrap();
    predict("list.csv", "d.csv");
    let (hd, rows) = table(Path::new(&d("d.csv")));
    assert_eq!(hd, "id,score,is_lens,ra,dec");
    for k in 0..40 {
        assert_eq!(rows[k][0], format!("obj-{k}"));
        assert_eq!(rows[k][1], a[k][1], "system {k}'s score");
        assert_eq!(rows[k][2], a[k][2]);
        let ra: f64 = rows[k][3].parse().unwrap();
        assert!((ra - (150.0 + k as f64 * 0.001)).abs() < 1e-12 && rows[k][4] == "-5.25");
    }
    // A list naming a stamp that is not there is refused with that path and the list's line.
    std::fs::write(
        d("bad.csv"),
        "id,VIS,Y,J,H\nx,open/Public/EUC_VIS/imageEUC_VIS-500.fits,nope.fits,\
         open/Public/EUC_J/imageEUC_J-500.fits,open/Public/EUC_H/imageEUC_H-500.fits\n",
    )
    .unwrap();
    let o = Command::new(bin.join("train"))
        .args([
            "predict",
            "--run",
            &d("run"),
            "--data",
            &d("bad.csv"),
            "--device",
            "cpu",
        ])
        .args(["--out", &d("e.csv")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("nope.fits") && err.contains("line 2"),
        "{err}"
    );
    assert!(!Path::new(&d("e.csv")).exists());

    // The blind prediction is a submission `train score` reads against the truth.
    let said = ok(
        &bin,
        "train",
        &[
            "score",
            "--truth",
            &d("truth.csv"),
            "--submission",
            &d("c.csv"),
        ],
    );
    assert!(said.contains("ROC AUC"), "{said}");

    survey_cutouts(&bin, &d("run"), dir.path());

    // Issue #21: train run, explain and finetune read FITS too. The same run on the labelled
    // folder as on the dataset (same pixels, labels and seed) gives the same test scores; its
    // report records each band's grid from the stamps' headers; explain reads the folder's
    // stamps; finetune moves the dataset's network to the folder.
    let mut folder_run = run_args.clone();
    folder_run[2] = d("open");
    *folder_run.last_mut().unwrap() = d("run-folder");
    ok(
        &bin,
        "train",
        &folder_run.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let report = |run: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(Path::new(&d(run)).join("report.json")).unwrap(),
        )
        .unwrap()
    };
    let (from_file, from_folder) = (report("run"), report("run-folder"));
    assert_eq!(from_file["test_indices"], from_folder["test_indices"]);
    let scores = |r: &serde_json::Value| -> Vec<f64> {
        r["ensemble_scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    for (x, y) in scores(&from_file).iter().zip(scores(&from_folder)) {
        assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
    }
    for r in [&from_file, &from_folder] {
        let grids = r["grids"].as_array().unwrap();
        assert_eq!(grids[0][0], "VIS");
        assert_eq!(grids[0][1]["side"], 48);
        assert!((grids[0][1]["pixel_scale"].as_f64().unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(grids[1][1]["side"], 16);
    }
    let said = ok(
        &bin,
        "train",
        &[
            "explain",
            "--run",
            &d("run-folder"),
            "--device",
            "cpu",
            "--per-class",
            "1",
        ]
        .iter()
        .chain(&[
            "--samples",
            "20",
            "--segments",
            "4",
            "--out",
            &d("explained"),
        ])
        .copied()
        .collect::<Vec<_>>(),
    );
    assert!(
        Path::new(&d("explained")).read_dir().unwrap().count() > 0,
        "{said}"
    );
    let said = ok(
        &bin,
        "train",
        &[
            "finetune",
            "--run",
            &d("run"),
            "--data",
            &d("open"),
            "--vis-band",
            "VIS",
            "--nir-bands",
            "H,J,Y",
            "--n-img",
            "8",
            "--groups",
            "2",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--out",
            &d("tuned"),
        ],
    );
    assert!(Path::new(&d("tuned/finetune.json")).is_file(), "{said}");
}

/// Issue #21 on the FITS fixtures that stand in for a survey's cutouts
/// (format/tests/fixtures/make-cutouts.py), scored by the run in `run`, whose network read VIS
/// 48² at 0.1" and NIR 16² at 0.3": the fixtures' 40² and 14² stamps at the same pixel scales
/// are brought onto that grid. The same cutouts as a folder of per-band files, a folder of
/// multi-extension files, a list of per-band paths and a list of multi-extension files score
/// the same, and the folders give their WCS positions; a list with bad cutouts is refused
/// naming the first and counting the rest, or with --bad-cutouts skip scores the good ones and
/// says which were left out; --radec makes a cutout without a WCS a bad one.
fn survey_cutouts(bin: &Path, run: &str, dir: &Path) {
    let survey =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../format/tests/fixtures/cutouts/survey");
    let source = |name: &str| survey.join(name).to_str().unwrap().to_string();
    let predict = |data: &str, out: &str, more: &[&str]| {
        let out = dir.join(out);
        let o = Command::new(bin.join("train"))
            .args(["predict", "--run", run, "--device", "cpu", "--data", data])
            .args(["--out", out.to_str().unwrap()])
            .args(more)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&o.stderr).to_string();
        let table = o.status.success().then(|| table(&out));
        assert_eq!(table.is_some(), out.exists(), "{said}");
        (table, said)
    };
    let mut scores = Vec::new();
    for (k, data) in ["per-band", "mef", "list.csv", "mef-list.csv"]
        .iter()
        .enumerate()
    {
        let (t, said) = predict(&source(data), &format!("s{k}.csv"), &[]);
        let (header, rows) = t.unwrap_or_else(|| panic!("{data}: {said}"));
        let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["g101", "g102", "g103", "g104"], "{data}");
        match *data {
            "per-band" | "mef" => assert_eq!(header, "id,score,ra,dec", "{data}"),
            "list.csv" => assert_eq!(header, "id,score,is_lens,ra,dec"),
            _ => assert_eq!(header, "id,score,is_lens,ra,dec", "positions from the WCS"),
        }
        // Every table puts g103 where the list does (the stamps are centred there).
        let ra_dec: Vec<f64> = rows[2][rows[2].len() - 2..]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        assert!(
            (ra_dec[0] - 150.0).abs() < 1e-9 && (ra_dec[1] - 2.3).abs() < 1e-9,
            "{data}: {ra_dec:?}"
        );
        scores.push(rows.iter().map(|r| r[1].clone()).collect::<Vec<_>>());
    }
    assert!(scores.iter().all(|s| *s == scores[0]), "{scores:?}");

    // Four bad cutouts of nine: refused, naming the first (all NaN in VIS) and counting.
    let bad = source("bad-list.csv");
    let (t, said) = predict(&bad, "refused.csv", &[]);
    assert!(t.is_none(), "{said}");
    assert!(
        said.contains("b1-nan_VIS.fits") && said.contains("3 more bad cutouts"),
        "{said}"
    );
    assert!(said.contains("--bad-cutouts skip"), "{said}");
    // Skipped: five scored, and each of the four named with what is wrong.
    let (t, said) = predict(&bad, "skip.csv", &["--bad-cutouts", "skip"]);
    let (header, rows) = t.unwrap_or_else(|| panic!("{said}"));
    assert!(said.contains("skipped 4 bad cutouts of 9"), "{said}");
    for (file, why) in [
        ("b1-nan_VIS.fits", "no finite pixel"),
        ("b2-shape_J.fits", "pixel scale cannot be read"),
        ("b3-garbage_Y.fits", "not a FITS file"),
        ("b4-missing_H.fits", "no such file"),
    ] {
        assert!(
            said.lines().any(|l| l.contains(file) && l.contains(why)),
            "{file}: {said}"
        );
    }
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["g101", "g102", "g103", "g104", "b5-nowcs"]);
    assert_eq!(
        header, "id,score",
        "b5-nowcs has no WCS, so no table of positions"
    );
    assert_eq!(
        rows[..4].iter().map(|r| r[1].clone()).collect::<Vec<_>>(),
        scores[0],
        "the good cutouts score as they do alone"
    );
    // --radec: the cutout without a WCS is a bad one too.
    let (t, said) = predict(&bad, "radec.csv", &["--bad-cutouts", "skip", "--radec"]);
    let (header, rows) = t.unwrap_or_else(|| panic!("{said}"));
    assert!(
        said.contains("skipped 5 bad cutouts of 9") && said.contains("b5-nowcs_VIS.fits"),
        "{said}"
    );
    assert_eq!((header.as_str(), rows.len()), ("id,score,ra,dec", 4));
}

#[test]
fn a_broken_folder_is_named_by_path() {
    let Some(bin) = binaries::with_sim() else {
        return;
    };
    // A folder that is neither a dataset nor a challenge folder, and one whose J stamp of an
    // object is missing: each refused with the path at fault, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("set");
    for band in ["VIS", "Y", "J", "H"] {
        let d = root.join("Public").join(format!("EUC_{band}"));
        std::fs::create_dir_all(&d).unwrap();
        if band != "J" {
            std::fs::write(d.join(format!("imageEUC_{band}-3.fits")), b"").unwrap();
        }
    }
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let out = dir.path().join("p.csv");
    let o = Command::new(bin.join("train"))
        .args(["run", "--data", root.to_str().unwrap(), "--device", "cpu"])
        .args(["--epochs", "1", "--out", run.join("r").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("imageEUC_J-3.fits"),
        "{err}"
    );
    assert!(!run.join("r").exists() && !out.exists());
}
