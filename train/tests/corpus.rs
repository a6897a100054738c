//! The malformed-input corpus of `train` (issue #19): `tests/corpus/train.toml`, run by
//! `tests/corpus/runner.rs`. Every case must be refused cleanly.

#[path = "../../tests/corpus/runner.rs"]
mod runner;

mod common;

use std::path::Path;
use std::sync::OnceLock;

/// Euclid's bands at small stamps.
const BANDS: [(&str, usize, f64); 4] = [
    ("VIS", 32, 0.1),
    ("H", 11, 0.3),
    ("J", 11, 0.3),
    ("Y", 11, 0.3),
];

/// The default configuration edited to train on `d.h5` in seconds (a small EfficientNet, one
/// fold of one epoch); the corpus's replacements edit these values.
fn config() -> String {
    let mut text =
        std::fs::read_to_string(runner::repo_root().join("configs/train/default.toml")).unwrap();
    for (from, to) in [
        (
            "file = \"datasets/euclid-sglc2-n500-s0.h5\"",
            "file = \"d.h5\"",
        ),
        ("test_fraction = 0.1", "test_fraction = 0.25"),
        ("variant = \"b2\"", "variant = \"b0\""),
        ("width = 0.0", "width = 0.25"),
        ("depth = 0.0", "depth = 0.3"),
        ("bn_momentum = 0.01", "bn_momentum = 0.5"),
        ("epochs = 50", "epochs = 1"),
        ("batch = 64", "batch = 8"),
        ("folds = 10", "folds = 3"),
        ("folds_to_train = 0", "folds_to_train = 1"),
    ] {
        assert!(
            text.contains(from),
            "the default configuration lacks `{from}`"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// `@dataset`, `@partial` and `@config` (see the corpus's header).
fn artefact(name: &str) -> Vec<u8> {
    static MADE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (dataset, partial) = MADE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (d, p) = (dir.path().join("d.h5"), dir.path().join("p.h5"));
        common::write_dataset(&d, 40, &BANDS, 1);
        common::write_dataset_holding(&p, 40, &BANDS, 1, Some(20));
        (std::fs::read(d).unwrap(), std::fs::read(p).unwrap())
    });
    match name {
        "dataset" => dataset.clone(),
        "partial" => partial.clone(),
        "config" => config().into_bytes(),
        "foreign" => runner::foreign_hdf5(),
        _ => panic!("no artefact `@{name}`"),
    }
}

#[test]
fn every_malformed_input_is_refused_cleanly() {
    let corpus = runner::load(&runner::repo_root().join("tests/corpus/train.toml"));
    assert!(corpus.case.len() >= 60, "{} cases", corpus.case.len());
    runner::check_refusals(Path::new(env!("CARGO_BIN_EXE_train")), &corpus, &artefact);
}

#[test]
fn the_corpus_base_trains_and_logs_its_progress() {
    // The control: `@config` on `@dataset` trains, so that each case is refused for what it
    // edits and not for its base. Its stderr is not a terminal, so progress comes as plain
    // lines (issue #19, item 8), here after every batch (LENSFORGE_PROGRESS_SECONDS = 0).
    let case = runner::Case {
        name: "base".into(),
        args: ["run", "--device", "cpu", "--config", "c.toml", "--out", "r"]
            .map(String::from)
            .to_vec(),
        files: ["c.toml", "d.h5"]
            .iter()
            .zip(["@config", "@dataset"])
            .map(|(path, base)| runner::FileSpec {
                path: path.to_string(),
                text: None,
                hex: None,
                base: Some(base.into()),
                replace: Vec::new(),
                append: None,
                truncate: None,
            })
            .collect(),
        expect: Vec::new(),
        env: [("LENSFORGE_PROGRESS_SECONDS".to_string(), "0".to_string())].into(),
        why: String::new(),
    };
    let ran = runner::run_case(Path::new(env!("CARGO_BIN_EXE_train")), &case, &artefact);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.dir.path().join("r/report.json").is_file());
    assert!(
        ran.stderr.lines().any(|l| l.starts_with("fold 0 epoch 1: ")
            && l.contains(" batches, ")
            && l.ends_with(" left")),
        "plain progress lines: {}",
        ran.stderr
    );
}

#[test]
fn extreme_legal_inputs_succeed_with_finite_figures_or_are_refused() {
    let corpus = runner::load(&runner::repo_root().join("tests/corpus/train.toml"));
    runner::check_legal(
        Path::new(env!("CARGO_BIN_EXE_train")),
        &corpus,
        &artefact,
        &|ran| {
            let out = &ran.stdout;
            match out.contains("NaN") || out.contains("inf") {
                true => vec![format!("a non-finite figure: {out}")],
                false => Vec::new(),
            }
        },
    );
}
