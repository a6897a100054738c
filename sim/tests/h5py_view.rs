//! The files reach the user as they did when libhdf5 wrote them: `sim generate` of a small run
//! seen through h5py (scripts/h5py-view.py: every dataset, attribute, dtype, chunk shape, filter,
//! fill value and a SHA-256 of every dataset's values) equals fixtures/h5py-view-libhdf5.json,
//! the view of the same run written by lensforge 48e5af3 through libhdf5 1.10:
//!
//!     sim generate --survey sim/tests/fixtures/tiny-euclid.toml -n 5 --seed 11 --threads 1
//!
//! Two changes since, each only in values: the SHA-256 of the four `/images/<band>` datasets
//! are those of the counter-based noise (1dd5235; the file 39d52dd writes still gives the
//! libhdf5 view exactly), and those of `/catalog/lensed_source_flux_VIS` and the four
//! `/catalog/mag_eff_<band>` are those of a Sérsic profile that is zero beyond e⁻³⁰ of its peak
//! in every lane (the sixteen-lane ray shooter; before, a lane there kept its ~1e-13 of the
//! peak when another lane of its group of eight was inside: sums changed by ~1e-11
//! relative). Every other entry is as libhdf5 wrote it.
//!
//! It needs a Python with h5py and numpy: `LENSFORGE_PYTHON` (default `python3`); where that has
//! no h5py the test says it was skipped (`.ci/run` installs h5py in a virtual environment).

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `LENSFORGE_PYTHON` (default `python3`) when it has h5py and numpy; else None, having said
/// that the test is skipped.
fn python_with_h5py() -> Option<String> {
    let python = std::env::var("LENSFORGE_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_h5py = Command::new(&python)
        .args(["-c", "import h5py, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_h5py {
        println!("skipped: `{python}` has no h5py (set LENSFORGE_PYTHON to a Python that has)");
        return None;
    }
    Some(python)
}

/// Runs `sim` with `args` (the words of a plain argument, split at spaces), asserting success.
fn sim(args: &[&std::ffi::OsStr]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sim"));
    for a in args {
        match a.to_str() {
            Some(text) if !Path::new(text).is_absolute() => command.args(text.split(' ')),
            _ => command.arg(a),
        };
    }
    let o = command.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_generated_file_looks_to_h5py_as_the_libhdf5_one_did() {
    let Some(python) = python_with_h5py() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.h5");
    let survey = manifest().join("tests/fixtures/tiny-euclid.toml");
    sim(&[
        "generate".as_ref(),
        "--survey".as_ref(),
        survey.as_os_str(),
        "-n 5 --seed 11 --threads 1 --out".as_ref(),
        out.as_os_str(),
    ]);
    let view = Command::new(&python)
        .arg(manifest().join("../scripts/h5py-view.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest().join("tests/fixtures/h5py-view-libhdf5.json")).unwrap(),
    )
    .unwrap();
    let (got, want) = (got.as_object().unwrap(), want.as_object().unwrap());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the objects differ"
    );
    for (name, w) in want {
        assert_eq!(&got[name], w, "{name} looks different to h5py");
    }
}

/// `sim inject` on the cutout fixtures (format/tests/fixtures/cutouts, made by astropy in
/// make-cutouts.py) writes a file that h5py reads as the README shows: the catalogue's string
/// columns as bytes that decode to the cutouts' IDs and stamp paths, the positions the list's,
/// one stamp per system on the cutouts' grid.
#[test]
fn an_injected_file_reads_in_h5py_with_its_cutouts_named() {
    let Some(python) = python_with_h5py() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("injected.h5");
    let cutouts = manifest().join("../format/tests/fixtures/cutouts/survey/list.csv");
    sim(&[
        "inject --cutouts".as_ref(),
        cutouts.as_os_str(),
        "--per-cutout 2 --seed 3 --threads 1 --zero-point VIS=24.4 --zero-point Y=25.0".as_ref(),
        "--zero-point J=25.0 --zero-point H=25.0 --out".as_ref(),
        out.as_os_str(),
    ]);
    let script = r#"
import sys, json, h5py
f = h5py.File(sys.argv[1], "r")
c = f["catalog"]
print(json.dumps({
    "ids": [v.decode() for v in c["cutout_id"][:]],
    "paths": [v.decode() for v in c["cutout_path_VIS"][:]],
    "ra": c["ra"][:].tolist(), "dec": c["dec"][:].tolist(),
    "shapes": [list(f["images"][b].shape) for b in ("VIS", "Y", "J", "H")],
}))
"#;
    let view = Command::new(&python)
        .args(["-c", script])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
    let list = std::fs::read_to_string(&cutouts).unwrap();
    let rows: Vec<Vec<&str>> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::trim).collect())
        .collect();
    let ids: Vec<&str> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // Two systems a cutout, in the list's order.
    let want: Vec<&str> = rows.iter().flat_map(|r| [r[0], r[0]]).collect();
    assert_eq!(ids, want);
    for p in got["paths"].as_array().unwrap() {
        assert!(p.as_str().unwrap().ends_with("_VIS.fits"), "{p}");
    }
    let n = want.len() as u64;
    assert_eq!(
        got["shapes"],
        serde_json::json!([[n, 40, 40], [n, 14, 14], [n, 14, 14], [n, 14, 14]])
    );
    let ra: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r[5], r[5]])
        .map(|v| v.parse().unwrap())
        .collect();
    let dec: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r[6], r[6]])
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(got["ra"], serde_json::json!(ra));
    assert_eq!(got["dec"], serde_json::json!(dec));
}
