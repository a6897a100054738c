//! The same training steps give the same numbers on any number of threads (DESIGN.md's
//! determinism): two Rectified Adam steps of a small two-branch lens finder, then its logits,
//! in rayon pools of 1, 2 and 3 threads, compared bit for bit.

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Int, Tensor, TensorData};
use train::device::Cpu;
use train::fit::radam::RAdamConfig;
use train::model::two_branch::{Branches, LensFinder, VisChannels};

type A = burn::backend::Autodiff<Cpu>;

fn images(batch: usize, channels: usize, size: usize, shift: f32) -> Tensor<A, 4> {
    let n = batch * channels * size * size;
    let v: Vec<f32> = (0..n)
        .map(|i| (i as f32 * 0.0137 + shift).sin() + 0.3 * (i as f32 * 0.0071).cos())
        .collect();
    Tensor::from_data(
        TensorData::new(v, [batch, channels, size, size]),
        &Default::default(),
    )
}

fn logits_after_two_steps() -> Vec<f32> {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, 5);
    let mut model = LensFinder::<A>::scaled(
        0.25,
        0.25,
        0.1,
        Branches::Both,
        VisChannels::Repeated,
        3,
        &device,
    );
    let mut optim = RAdamConfig::new().init::<A, LensFinder<A>>();
    let bce = burn::nn::loss::BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&device);
    let labels =
        Tensor::<A, 2, Int>::from_data(TensorData::new(vec![1i64, 0, 1, 0], [4, 1]), &device);
    for step in 0..2 {
        let shift = step as f32;
        // `training` off: no dropout or drop-connect draws, the same arithmetic otherwise.
        let logits = model.forward(
            Some(images(4, 1, 48, shift)),
            Some(images(4, 3, 24, shift)),
            false,
        );
        let grads =
            GradientsParams::from_grads(bce.forward(logits, labels.clone()).backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    let valid = model.valid();
    let x = |t: Tensor<A, 4>| Tensor::<Cpu, 4>::from_data(t.into_data(), &Default::default());
    valid
        .forward(
            Some(x(images(4, 1, 48, 0.5))),
            Some(x(images(4, 3, 24, 0.5))),
            false,
        )
        .into_data()
        .to_vec()
        .unwrap()
}

#[test]
fn training_is_the_same_on_any_number_of_threads() {
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(logits_after_two_steps)
    };
    let one = on(1);
    for threads in [2, 3] {
        assert_eq!(on(threads), one, "{threads} threads against 1");
    }
}
