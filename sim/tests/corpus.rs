//! The malformed-input corpus of `sim` (issue #19): `tests/corpus/sim.toml`, run by
//! `tests/corpus/runner.rs`. Every case must be refused cleanly; every extreme but legal input
//! must succeed with finite pixels, or be refused as the corpus says.

#[path = "../../tests/corpus/runner.rs"]
mod runner;

use std::path::Path;
use std::sync::OnceLock;

use sim::generate::{generate, GenerateOptions, RunConfig, RunSettings};
use sim::observe::Survey;
use sim::population::PopulationConfig;

fn config(n: u64) -> RunConfig {
    RunConfig {
        generate: RunSettings::new(n, 3),
        survey: Survey::load("euclid").unwrap(),
        population: PopulationConfig::load("sglc2").unwrap(),
        inject: None,
    }
}

/// `@dataset`: a complete dataset of 8 systems; `@partial`: the partial file of a 64-system
/// run stopped (as Ctrl-C stops it) once its first block of 8 was written: it holds 8 to 24
/// systems, as many as were computing when the flag was raised (the channel to the writer holds
/// one block, so the run cannot get further ahead).
fn artefact(name: &str) -> Vec<u8> {
    static MADE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (dataset, partial) = MADE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("d.h5");
        generate(&config(8), &whole, &GenerateOptions::default(), &|_| {}).unwrap();
        let out = dir.path().join("p.h5");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let opts = GenerateOptions {
            block: 8,
            threads: 1,
            stop: Some(stop.clone()),
            ..GenerateOptions::default()
        };
        let flag = stop.clone();
        let e = generate(&config(64), &out, &opts, &move |k| {
            if k >= 8 {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        assert!(matches!(
            e,
            Err(sim::Error::Interrupted { done: 8..=24, .. })
        ));
        (
            std::fs::read(&whole).unwrap(),
            std::fs::read(dir.path().join(".p.h5.partial")).unwrap(),
        )
    });
    match name {
        "dataset" => dataset.clone(),
        "partial" => partial.clone(),
        "foreign" => runner::foreign_hdf5(),
        _ => panic!("no artefact `@{name}`"),
    }
}

fn corpus() -> runner::Corpus {
    runner::load(&runner::repo_root().join("tests/corpus/sim.toml"))
}

#[test]
fn every_malformed_input_is_refused_cleanly() {
    let corpus = corpus();
    assert!(corpus.case.len() >= 60, "{} cases", corpus.case.len());
    runner::check_refusals(Path::new(env!("CARGO_BIN_EXE_sim")), &corpus, &artefact);
}

#[test]
fn extreme_legal_inputs_render_finite_pixels_or_are_refused() {
    runner::check_legal(
        Path::new(env!("CARGO_BIN_EXE_sim")),
        &corpus(),
        &artefact,
        &|ran| {
            let mut wrong = Vec::new();
            let out = &ran.stdout;
            if !(out.contains("rendered 1 system") || out.contains("generated 4 systems")) {
                wrong.push(format!("no summary: {out}"));
            }
            // Every pixel of every band, read back by hdf5-pure (independent of our writer).
            let file = hdf5_pure::File::open(ran.dir.path().join("o.h5")).unwrap();
            for band in ["VIS", "Y", "J", "H"] {
                let pixels = file
                    .dataset(&format!("images/{band}"))
                    .unwrap()
                    .read_f32()
                    .unwrap();
                let bad = pixels.iter().filter(|v| !v.is_finite()).count();
                if bad > 0 {
                    wrong.push(format!("{bad} non-finite pixels in {band}"));
                }
            }
            wrong
        },
    );
}
