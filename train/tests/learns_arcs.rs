//! A small two-branch network learns a synthetic task whose answer is obvious: a lens galaxy
//! with a bright arc around it versus the galaxy alone, in noise. The branches are the
//! EfficientNet architecture scaled down (width 0.25, depth 0.3) so that training takes seconds
//! on the CPU backend (the full B0 takes ~11 s per batch of 16 there), with BatchNorm momentum
//! 0.1 so that its running statistics settle within the test's few dozen steps (Keras's 0.01
//! needs hundreds).

use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use train::device::Cpu;
use train::fit::epochs::{fit, predict, Batch};

mod common;
use common::stamp;
use train::evaluate::metrics::roc_auc;
use train::model::two_branch::{Branches, LensFinder, VisChannels};

type A = Autodiff<Cpu>;
type I = Cpu;

fn batches<B: Backend>(
    seed: u64,
    count: usize,
    per_batch: usize,
    device: &B::Device,
) -> (Vec<Batch<B>>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut truth = Vec::new();
    for _ in 0..count {
        let labels: Vec<bool> = (0..per_batch).map(|_| rng.random_bool(0.5)).collect();
        let mut vis = Vec::new();
        let mut nir = Vec::new();
        for &l in &labels {
            vis.extend(stamp(&mut rng, 32, 0.1, l));
            for _ in 0..3 {
                nir.extend(stamp(&mut rng, 11, 0.3, l));
            }
        }
        let ints: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
        out.push(Batch {
            vis: Some(Tensor::from_data(
                TensorData::new(vis, [per_batch, 1, 32, 32]),
                device,
            )),
            nir: Some(Tensor::from_data(
                TensorData::new(nir, [per_batch, 3, 11, 11]),
                device,
            )),
            labels: Tensor::<B, 2, Int>::from_data(TensorData::new(ints, [per_batch, 1]), device),
        });
        truth.extend(labels);
    }
    (out, truth)
}

fn run(seed: u64) -> (f64, Vec<f64>) {
    let device = Default::default();
    A::seed(&device, seed);
    let model = LensFinder::<A>::scaled(
        0.25,
        0.3,
        0.1,
        Branches::Both,
        VisChannels::Repeated,
        3,
        &device,
    );
    let (train, _) = batches::<A>(seed, 8, 16, &device);
    let (val, truth) = batches::<I>(seed + 1000, 4, 16, &device);
    let (best, log) = fit(model, &train, &val, 4, 3e-3, |_| {});
    let scores = predict(&best, &val);
    (
        roc_auc(&truth, &scores).unwrap(),
        log.iter().map(|e| e.val_loss).collect(),
    )
}

#[test]
fn a_two_branch_network_learns_obvious_arcs_and_the_seed_fixes_the_result() {
    let (auc, losses) = run(11);
    assert!(
        auc > 0.9,
        "held-out ROC AUC {auc}, validation losses {losses:?}"
    );
    let (auc2, losses2) = run(11);
    assert_eq!((auc, losses), (auc2, losses2));
}
