//! The training-step benchmark behind `train bench`: forward, backward and a Rectified Adam
//! step of the lens finder on random images, timed after one warm-up step.

use std::time::Instant;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Int, Tensor};

use crate::fit::radam::RAdamConfig;
use crate::model::efficientnet::{Variant, KERAS_BN_MOMENTUM};
use crate::model::two_branch::{Branches, LensFinder, VisChannels};

/// What the benchmark measured.
#[derive(Clone, Copy, Debug)]
pub struct StepTiming {
    /// Mean wall time of one step, s.
    pub seconds_per_step: f64,
    /// Systems per second.
    pub images_per_second: f64,
}

/// Times `steps` training steps of a `variant` network with `branches` at batch `batch` on
/// VIS and NIR stamps of sides `sizes` (pixels).
pub fn training_steps<B: AutodiffBackend>(
    variant: Variant,
    branches: Branches,
    batch: usize,
    steps: usize,
    sizes: (usize, usize),
    device: &B::Device,
) -> StepTiming {
    B::seed(device, 1);
    let (w, d) = variant.coefficients();
    let mut model = LensFinder::<B>::scaled(
        w,
        d,
        KERAS_BN_MOMENTUM,
        branches,
        VisChannels::Repeated,
        device,
    );
    let mut optim = RAdamConfig::new().init::<B, LensFinder<B>>();
    let bce = burn::nn::loss::BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
    let vis = (branches != Branches::Nir).then(|| {
        Tensor::<B, 4>::random([batch, 1, sizes.0, sizes.0], Distribution::Default, device)
    });
    let nir = (branches != Branches::Vis).then(|| {
        Tensor::<B, 4>::random([batch, 3, sizes.1, sizes.1], Distribution::Default, device)
    });
    let labels = Tensor::<B, 2, Int>::random([batch, 1], Distribution::Uniform(0.0, 2.0), device);
    let mut step = || {
        let logits = model.forward(vis.clone(), nir.clone(), true);
        let loss = bce.forward(logits, labels.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model.clone(), grads);
    };
    step();
    let start = Instant::now();
    for _ in 0..steps {
        step();
    }
    let seconds_per_step = start.elapsed().as_secs_f64() / steps as f64;
    StepTiming {
        seconds_per_step,
        images_per_second: batch as f64 / seconds_per_step,
    }
}
