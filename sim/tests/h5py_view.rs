//! The files reach the user as they did when libhdf5 wrote them: `sim generate` of a small run
//! seen through h5py (scripts/h5py-view.py: every dataset, attribute, dtype, chunk shape, filter,
//! fill value and a SHA-256 of every dataset's values) equals fixtures/h5py-view-libhdf5.json,
//! the view of the same run written by lensforge 48e5af3 through libhdf5 1.10:
//!
//!     sim generate --survey sim/tests/fixtures/tiny-euclid.toml -n 5 --seed 11 --threads 1
//!
//! It needs a Python with h5py and numpy: `LENSFORGE_PYTHON` (default `python3`); where that has
//! no h5py the test says it was skipped (`.ci/run` installs h5py in a virtual environment).

use std::path::PathBuf;
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_generated_file_looks_to_h5py_as_the_libhdf5_one_did() {
    let python = std::env::var("LENSFORGE_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_h5py = Command::new(&python)
        .args(["-c", "import h5py, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_h5py {
        println!("skipped: `{python}` has no h5py (set LENSFORGE_PYTHON to a Python that has)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.h5");
    let survey = manifest().join("tests/fixtures/tiny-euclid.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["generate", "--survey"])
        .arg(&survey)
        .args(["-n", "5", "--seed", "11", "--threads", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
