//! `train run` end to end on a small dataset file whose answer is obvious (a galaxy with a
//! bright ring versus the galaxy alone, in noise, written in DESIGN.md's HDF5 layout): the
//! k-fold run learns it (held-out ROC AUC well above chance), the report, models and plots are
//! written, the same seed gives the same scores, and a run stopped after an epoch and resumed
//! gives exactly what the uninterrupted run gives.
//!
//! One test function: the CPU backend's random generator is process-wide, so the runs must not
//! interleave.

use std::path::Path;

use burn::backend::Autodiff;
use train::config::TrainConfig;
use train::device::Cpu;
use train::fit::kfold::{run, Event, RunError, RunReport};

mod common;

type A = Autodiff<Cpu>;

fn write_dataset(path: &Path, n: usize) {
    let bands = [
        ("VIS", 32, 0.1),
        ("H", 11, 0.3),
        ("J", 11, 0.3),
        ("Y", 11, 0.3),
    ];
    common::write_dataset(path, n, &bands, 5);
}

fn config(file: &Path) -> TrainConfig {
    let mut c = TrainConfig::default_config();
    c.data.file = file.into();
    c.data.test_fraction = 0.25;
    c.model.width = 0.25;
    c.model.depth = 0.3;
    // The BatchNorm running statistics start at (0, 1) and must reach the layers' true
    // (much smaller) variances within this test's 24 steps: Keras's momentum 0.01 needs
    // hundreds, and with too few the inference-mode network is blind to its input.
    c.model.bn_momentum = 0.5;
    c.fit.epochs = 4;
    c.fit.batch = 16;
    c.fit.learning_rate = 3e-3;
    c.fit.folds = 3;
    c.fit.folds_to_train = 2;
    c.fit.seed = 3;
    c
}

fn train(
    c: &TrainConfig,
    out: &Path,
    resume: bool,
    stop_after: Option<(usize, usize)>,
) -> Result<RunReport, RunError> {
    let device = Default::default();
    run::<A>(c, out, resume, &device, &mut |e| match e {
        Event::Epoch(fold, log, _) => stop_after != Some((fold, log.epoch)),
        _ => true,
    })
}

#[test]
fn train_run_learns_obvious_arcs_writes_its_report_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("arcs.h5");
    write_dataset(&data, 128);
    let c = config(&data);

    let out = dir.path().join("run");
    let report = train(&c, &out, false, None).unwrap();
    assert_eq!(report.folds.len(), 2);
    assert_eq!(report.test_indices.len(), 32);
    let auc = report.roc_auc.unwrap();
    assert!(auc.mean > 0.9, "test ROC AUC {auc:?}");
    for f in &report.folds {
        // The kept epoch is the one with the lowest validation loss.
        let best = f
            .log
            .iter()
            .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))
            .unwrap();
        assert_eq!(f.best_epoch, best.epoch);
        assert!(out.join(format!("fold{}/model.mpk", f.fold)).exists());
        assert!(out.join(format!("fold{}/scalings.json", f.fold)).exists());
        assert!(!out.join(format!("fold{}/checkpoint.json", f.fold)).exists());
    }
    train::fit::plots::write_plots(&report, &out).unwrap();
    for f in [
        "report.json",
        "config.toml",
        "roc.png",
        "pr.png",
        "loss.png",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // `train explain` on the run: the loaded fold model, with its stored scalings, gives the
    // unperturbed system the very score the run gave it; a PNG per system and a JSON appear.
    let settings = train::explain::LimeSettings {
        samples: 60,
        slic: train::explain::superpixels::SlicSettings {
            n_segments: 9,
            compactness: 0.1,
            iterations: 5,
            sigma: 1.0,
        },
        ..Default::default()
    };
    let explained = train::explain::explain_run::<Cpu>(
        &out,
        0,
        &train::explain::Selection::PerClass(1),
        &settings,
        &out.join("explain"),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(explained.len(), 2);
    assert!(explained[0].is_lens && !explained[1].is_lens);
    for e in &explained {
        let k = report
            .test_indices
            .iter()
            .position(|&i| i == e.index)
            .unwrap();
        let stored = report.folds[0].test_scores[k];
        assert!(
            (e.explanation.score - stored).abs() < 1e-5,
            "system {}: {} vs {stored}",
            e.index,
            e.explanation.score
        );
        assert!(out.join("explain").join(&e.png).exists());
        assert_eq!(e.explanation.weights.len(), e.explanation.n_segments);
    }
    assert!(out.join("explain/explain.json").exists());

    // `train predict` on the run's own dataset: on the test systems, the mean of the folds'
    // stored scores (the report's ensemble scores).
    let p =
        train::evaluate::predict::predict::<Cpu>(&out, &Default::default(), 7, &Default::default())
            .unwrap();
    assert_eq!(p.scores.len(), 128);
    for (k, &i) in report.test_indices.iter().enumerate() {
        assert!(
            (p.scores[i] - report.ensemble_scores[k]).abs() < 1e-5,
            "system {i}: {} vs {}",
            p.scores[i],
            report.ensemble_scores[k]
        );
        assert_eq!(p.labels.as_ref().unwrap()[i], report.test_labels[k]);
        assert_eq!(p.ids[i], i.to_string());
    }

    // An existing run folder is not overwritten without --resume.
    let e = train(&c, &out, false, None).unwrap_err().to_string();
    assert!(e.contains("--resume"), "{e}");

    // Stopped after epoch 2 of fold 1, then resumed: the same scores as the whole run.
    let out2 = dir.path().join("stopped");
    let e = train(&c, &out2, false, Some((1, 2))).unwrap_err();
    assert!(matches!(e, RunError::Stopped { fold: 1, epoch: 2 }), "{e}");
    assert!(out2.join("fold0/result.json").exists());
    assert!(out2.join("fold1/checkpoint.json").exists());
    let resumed = train(&c, &out2, true, None).unwrap();
    for (a, b) in report.folds.iter().zip(&resumed.folds) {
        assert_eq!(a.test_scores, b.test_scores, "fold {}", a.fold);
        assert_eq!(a.log, b.log, "fold {}", a.fold);
    }
    // Resuming with another configuration is refused.
    let mut other = c.clone();
    other.fit.learning_rate = 1e-3;
    let e = train(&other, &out2, true, None).unwrap_err().to_string();
    assert!(e.contains("another configuration"), "{e}");
}
