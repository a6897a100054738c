//! `train finetune` end to end: a network trained on one "survey" (H, J, Y at 32 pixels) moved to
//! another (u, g, i at 20 pixels, resized to 32), and an EfficientNet with both branches moved
//! to r → VIS and u, g, i → NIR.
//!
//! What is checked, and why it must hold:
//! - the test groups partition the dataset, and every draw lies outside its group, training and
//!   validation disjoint, of N_img systems each;
//! - the untrained source scores are the source fold's model applied to the target stamps
//!   resized to its size (computed here independently with `load_fold` and the batch reader);
//! - a fine-tuning whose learning rate is 10⁻¹² leaves the Jacobs network (it has no BatchNorm
//!   statistics that move without gradients) where it started, so its test scores equal the
//!   untrained source scores: the fine-tuned network starts from the source weights; the
//!   network trained from scratch, from other weights, does not give them;
//! - with a real learning rate the fine-tuned weights move (its scores differ from the source's);
//! - the two-branch network takes r into its VIS branch and u, g, i into its NIR branch, each
//!   resized to the source's stamp size;
//! - resuming a finished study reads it back unchanged; refusals name what is wrong and write
//!   nothing.
//!
//! One test function: the CPU backend's random generator is process-wide.

use std::path::Path;

use burn::backend::Autodiff;
use train::config::TrainConfig;
use train::device::Cpu;
use train::fit::finetune::{finetune, FinetuneReport, FinetuneSettings};
use train::fit::kfold::{run, RunError};

mod common;
use common::write_dataset;

type A = Autodiff<Cpu>;

fn study(
    run_dir: &Path,
    data: &Path,
    s: &FinetuneSettings,
    out: &Path,
    resume: bool,
) -> Result<FinetuneReport, RunError> {
    finetune::<A>(
        run_dir,
        data,
        s,
        out,
        resume,
        &Default::default(),
        &mut |_, _| true,
    )
}

fn source_run(dir: &Path, c: &TrainConfig) {
    run::<A>(c, dir, false, &Default::default(), &mut |_| true).unwrap();
}

#[test]
fn finetune_starts_from_the_source_network_and_reports_every_group() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();

    // The source: a Jacobs CNN on H, J, Y stamps of 32 pixels.
    let src_data = p.join("source.h5");
    write_dataset(
        &src_data,
        64,
        &[("H", 32, 0.1), ("J", 32, 0.1), ("Y", 32, 0.1)],
        1,
    );
    let mut c = TrainConfig::default_config();
    c.data.file = src_data.clone();
    c.data.test_fraction = 0.25;
    c.model.architecture = train::model::two_branch::Architecture::Jacobs;
    c.model.branches = train::model::two_branch::Branches::Nir;
    c.fit.epochs = 1;
    c.fit.batch = 16;
    c.fit.folds = 2;
    c.fit.folds_to_train = 1;
    let src = p.join("jacobs-run");
    source_run(&src, &c);

    // The target: u, g, i at 20 pixels of 0.16".
    let target = p.join("target.h5");
    let bands = [("u", 20, 0.16), ("g", 20, 0.16), ("i", 20, 0.16)];
    write_dataset(&target, 60, &bands, 2);
    let frozen = FinetuneSettings {
        n_img: vec![4, 8],
        groups: 3,
        epochs: Some(1),
        batch: Some(8),
        learning_rate: Some(1e-12),
        ..FinetuneSettings::default()
    };
    let out = p.join("frozen");
    let r = study(&src, &target, &frozen, &out, false).unwrap();
    assert_eq!((r.config.data.nir_size, r.config.data.vis_size), (32, 0));

    // The groups partition the dataset; every draw is outside its group and as asked.
    let mut all: Vec<usize> = r.test_groups.concat();
    all.sort_unstable();
    assert_eq!(all, (0..60).collect::<Vec<_>>());
    for s in &r.sizes {
        for g in &s.groups {
            let group = &r.test_groups[g.group];
            for set in [&g.draw.training, &g.draw.validation] {
                assert_eq!(set.len(), s.n_img);
                assert!(set.iter().all(|i| !group.contains(i)));
            }
            assert!(g
                .draw
                .training
                .iter()
                .all(|i| !g.draw.validation.contains(i)));
        }
    }

    // The untrained source scores: the source fold model on the resized target stamps.
    {
        use train::data::batches::{BatchReader, Scalings};
        let device = Default::default();
        let (model, _) = train::fit::kfold::load_fold::<Cpu>(&c, &src, 0, &device).unwrap();
        let (data, labels) = train::fit::kfold::open_labelled(&r.config).unwrap();
        let reader = BatchReader::new(&data, &r.config, &labels);
        let text = std::fs::read_to_string(out.join("g1/n8/scalings.json")).unwrap();
        let scalings: Scalings = serde_json::from_str(&text).unwrap();
        let test = &r.test_groups[1];
        let batch = reader.batch::<Cpu>(test, &scalings, None, &device).unwrap();
        assert_eq!(batch.nir.as_ref().unwrap().dims(), [test.len(), 3, 32, 32]);
        let scores = train::fit::epochs::batch_scores(&model, &batch);
        let stored = &r.sizes[1].groups[1].source_scores;
        for (a, b) in scores.iter().zip(stored) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    // With no effective learning, the fine-tuned network is the source network.
    let mut scratch_differs = false;
    let mut frozen_change = 0.0f64;
    for s in &r.sizes {
        for g in &s.groups {
            for (a, b) in g.finetuned.test_scores.iter().zip(&g.source_scores) {
                assert!((a - b).abs() < 1e-5, "fine-tuned {a} vs source {b}");
                frozen_change = frozen_change.max((a - b).abs());
            }
            scratch_differs |= g
                .scratch
                .test_scores
                .iter()
                .zip(&g.source_scores)
                .any(|(a, b)| (a - b).abs() > 1e-3);
        }
    }
    assert!(
        scratch_differs,
        "the scratch network gave the source's scores"
    );
    assert!(out.join("finetune.json").exists());
    train::fit::plots::plot_finetune(&r, &out.join("finetune.png")).unwrap();
    assert!(out.join("finetune.png").exists());
    assert!(!out.join("g0/n4/finetuned/checkpoint.json").exists());

    // Resuming the finished study reads it back; starting again over it is refused.
    let again = study(&src, &target, &frozen, &out, true).unwrap();
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&r).unwrap()
    );
    let e = study(&src, &target, &frozen, &out, false).unwrap_err();
    assert!(e.to_string().contains("--resume"), "{e}");

    // Refusals name what is wrong and leave nothing behind.
    let nowhere = p.join("refused");
    let too_many = FinetuneSettings {
        n_img: vec![4, 30],
        ..frozen.clone()
    };
    let e = study(&src, &target, &too_many, &nowhere, false).unwrap_err();
    assert!(e.to_string().contains("N_img = 30"), "{e}");
    let two_bands = FinetuneSettings {
        nir_bands: vec!["u".into(), "g".into()],
        ..frozen.clone()
    };
    let e = study(&src, &target, &two_bands, &nowhere, false).unwrap_err();
    assert!(e.to_string().contains("--nir-bands u,g"), "{e}");
    let missing = FinetuneSettings {
        nir_bands: vec!["u".into(), "g".into(), "z".into()],
        ..frozen.clone()
    };
    let e = study(&src, &target, &missing, &nowhere, false).unwrap_err();
    assert!(e.to_string().contains("band `z`"), "{e}");
    assert!(!nowhere.exists());

    // With a real learning rate the fine-tuned weights move (the Jacobs network has no
    // BatchNorm statistics, so only the weights can change its scores).
    let moving = FinetuneSettings {
        n_img: vec![16],
        epochs: Some(2),
        batch: Some(4),
        learning_rate: Some(1e-3),
        ..frozen.clone()
    };
    let r = study(&src, &target, &moving, &p.join("moving"), false).unwrap();
    let g = &r.sizes[0].groups[0];
    let change = g
        .finetuned
        .test_scores
        .iter()
        .zip(&g.source_scores)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    assert!(
        change > 100.0 * frozen_change.max(1e-7),
        "scores moved by {change:e} at learning rate 1e-3, {frozen_change:e} at 1e-12"
    );

    // An EfficientNet with both branches: r into VIS (resized to 32), u, g, i into NIR (to 11);
    // with a real learning rate the fine-tuned weights move away from the source's.
    let src_data = p.join("two-branch.h5");
    write_dataset(
        &src_data,
        48,
        &[
            ("VIS", 32, 0.1),
            ("H", 11, 0.3),
            ("J", 11, 0.3),
            ("Y", 11, 0.3),
        ],
        3,
    );
    let mut c = TrainConfig::default_config();
    c.data.file = src_data;
    c.data.test_fraction = 0.25;
    c.model.width = 0.25;
    c.model.depth = 0.3;
    c.model.bn_momentum = 0.5;
    c.fit.epochs = 1;
    c.fit.batch = 12;
    c.fit.folds = 2;
    c.fit.folds_to_train = 1;
    let src = p.join("effnet-run");
    source_run(&src, &c);
    let target = p.join("kids-like.h5");
    write_dataset(
        &target,
        40,
        &[
            ("u", 20, 0.16),
            ("g", 20, 0.16),
            ("r", 20, 0.16),
            ("i", 20, 0.16),
        ],
        4,
    );
    let both = FinetuneSettings {
        n_img: vec![8],
        groups: 2,
        epochs: Some(1),
        batch: Some(8),
        ..FinetuneSettings::default()
    };
    let r = study(&src, &target, &both, &p.join("both"), false).unwrap();
    assert_eq!((r.config.data.vis_size, r.config.data.nir_size), (32, 11));
    assert_eq!(r.config.data.vis_band, "r");
    let g = &r.sizes[0].groups[0];
    for s in [
        &g.finetuned.test_scores,
        &g.scratch.test_scores,
        &g.source_scores,
    ] {
        assert_eq!(s.len(), r.test_groups[0].len());
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
