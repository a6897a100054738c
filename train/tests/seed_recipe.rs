//! datasets/recipes/seed-gpu.sh at a tiny size on this machine's CPU, so that the recipe a GPU
//! call runs cannot rot between GPU slots: the study (generate, train, sweep-npix, summary) with
//! its sizes given, the Table 1 grid with the number of systems chosen from the budget, and a
//! budget too small to train anything refused. It needs the `sim` binary beside `train` (as
//! `cargo test --workspace` builds it) and bash, awk and python3; without them it says it was
//! skipped.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/binaries.rs"]
mod binaries;

/// The folder of the binaries, if `sim` is there too and so are the recipe's tools.
fn binaries() -> Option<PathBuf> {
    let dir = binaries::with_sim()?;
    for tool in ["bash", "awk", "python3"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("skipped: no {tool}");
            return None;
        }
    }
    Some(dir)
}

/// Runs the recipe in `mode` with the tiny sizes and `extra` settings, writing into `out`.
fn recipe(bin: &Path, mode: &str, out: &Path, extra: &[(&str, &str)]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/recipes/seed-gpu.sh");
    let mut c = Command::new("bash");
    c.arg(script).arg(mode).env("BIN", bin).env("OUT", out);
    for (k, v) in [
        ("DEVICE", "cpu"),
        ("VARIANT", "b0"),
        ("WIDTH", "0.25"),
        ("DEPTH", "0.3"),
        ("VIS_STAMP", "64"),
        ("NIR_STAMP", "32"),
        ("BATCH", "16"),
        ("FOLDS", "2"),
        ("PROBE", "60"),
    ]
    .iter()
    .chain(extra)
    {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
    eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_study_runs_end_to_end_and_reports() {
    let Some(bin) = binaries() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let o = recipe(
        &bin,
        "study",
        &out,
        &[("N", "160"), ("EPOCHS", "1"), ("BUDGET", "300")],
    );
    assert!(o.status.success());
    // The sizes it was given, the training set's size as train run counted it, metrics that are
    // probabilities, one sweep bin per 10 pixels from 10 to 150, and the files to copy off.
    let s = json(&out.join("summary.json"));
    assert_eq!(s["chosen"]["systems"], 160);
    assert_eq!(s["chosen"]["epochs"], 1);
    assert_eq!(s["result"]["systems"], 160);
    assert_eq!(s["result"]["test_systems"], 32, "a test fraction of 0.2");
    for m in ["roc_auc", "pr_auc", "f_beta"] {
        let v = s["result"][m]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{m} = {v}");
    }
    assert_eq!(s["sweep_npix"].as_array().unwrap().len(), 15);
    assert!(s["measured"]["train_images_per_s"].as_f64().unwrap() > 0.0);
    for f in [
        "log.txt",
        "summary.md",
        "report.json",
        "sweep-npix.json",
        "roc.png",
        "sweep-npix.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| HJY+VIS | sglc2 | repeated |"), "{md}");
    // Nothing of the work folder (datasets, models) is left in the output.
    assert!(!out.join("euclid.h5").exists());
}

#[test]
fn the_table_1_grid_is_sized_to_the_budget() {
    let Some(bin) = binaries() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table1");
    let o = recipe(
        &bin,
        "table1",
        &out,
        &[
            ("TARGET_EPOCHS", "1"),
            ("BUDGET", "300"),
            ("RESERVE", "2"),
            ("MIN_N", "100"),
            ("MAX_N", "150"),
        ],
    );
    assert!(o.status.success());
    let t = json(&out.join("table1.json"));
    // N was sized: within [MIN_N, MAX_N], here the cap, since the budget is generous.
    assert_eq!(t["chosen"]["systems"], 150);
    assert_eq!(t["chosen"]["epochs"], 1);
    assert!(t["chosen"]["why"].as_str().unwrap().contains("MAX_N"));
    // The seed's grid: 3 inputs × 3 clippings (VIS and HJY+VIS with both channel modes), and
    // Y+VIS with zeros: 16 configurations, each with its own figures.
    let rows = t["table1"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let key = |r: &Value| {
        format!(
            "{} {} {}",
            r["input"].as_str().unwrap(),
            r["clipping"].as_str().unwrap(),
            r["vis_channels"].as_str().unwrap()
        )
    };
    let mut keys: Vec<String> = rows.iter().map(key).collect();
    assert!(keys.contains(&"Y+VIS sglc2 zeros".to_string()));
    assert!(keys.contains(&"HJY none -".to_string()));
    assert!(keys.contains(&"VIS alternative zeros".to_string()));
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 16, "every configuration once");
    for r in rows {
        assert_eq!(r["systems"], 150);
        let v = r["roc_auc"]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v));
    }
    assert!(out.join("table1.md").is_file() && out.join("log.txt").is_file());
}

#[test]
fn a_budget_too_small_is_refused_and_leaves_no_work_behind() {
    let Some(bin) = binaries() else { return };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let o = recipe(
        &bin,
        "study",
        &dir.path().join("out"),
        &[
            ("BUDGET", "1"),
            ("MIN_N", "100"),
            ("WORK", work.to_str().unwrap()),
        ],
    );
    assert!(!o.status.success());
    // The recipe logs its output and errors together (log.txt), so the message is in either.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(said.contains("raise BUDGET"), "{said}");
    assert!(!work.exists(), "the work folder is removed");
}
