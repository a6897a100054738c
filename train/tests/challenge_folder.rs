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
    ok(
        &bin,
        "train",
        &[
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
        ],
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
    assert_eq!(
        (ha.as_str(), hb.as_str()),
        ("id,score,is_lens", "id,score,is_lens")
    );
    assert_eq!(hc, "id,score", "a blind set has no labels");
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
        "id,VIS,Y,J,H\nx,open/Public/EUC_VIS/imageEUC_VIS-500.fits,nope.fits,a,b\n",
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
