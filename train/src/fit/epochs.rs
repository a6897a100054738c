//! The training loop of one fold: binary cross-entropy on the logits, Rectified Adam, a
//! validation pass after every epoch, and the model of the epoch with the lowest validation
//! loss kept as the fold's result.

use burn::module::AutodiffModule;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor};

use super::radam::RAdamConfig;
use crate::model::two_branch::LensFinder;
use crate::ops::{TrainAutodiff, TrainOps};

/// One batch of systems: the branches' images and the labels (1 = lens).
#[derive(Clone, Debug)]
pub struct Batch<B: Backend> {
    /// VIS images [n, 1, H, W], if the network has a VIS branch.
    pub vis: Option<Tensor<B, 4>>,
    /// Near-infrared images [n, 3, h, w], if it has a NIR branch.
    pub nir: Option<Tensor<B, 4>>,
    /// Labels [n, 1].
    pub labels: Tensor<B, 2, Int>,
}

/// What one epoch did.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochLog {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean binary cross-entropy over the training batches.
    pub train_loss: f64,
    /// Mean binary cross-entropy over the validation batches.
    pub val_loss: f64,
}

/// Trains `model` for `epochs` epochs at learning rate `lr`; returns the model of the epoch with
/// the lowest validation loss (for inference, on the inner backend) and the per-epoch log.
pub fn fit<B: TrainAutodiff>(
    mut model: LensFinder<B>,
    train: &[Batch<B>],
    val: &[Batch<B::InnerBackend>],
    epochs: usize,
    lr: f64,
    mut on_epoch: impl FnMut(&EpochLog),
) -> (LensFinder<B::InnerBackend>, Vec<EpochLog>) {
    let mut optim = RAdamConfig::new().init::<B, LensFinder<B>>();
    let mut log = Vec::with_capacity(epochs);
    let mut best: Option<(f64, LensFinder<B::InnerBackend>)> = None;
    for epoch in 1..=epochs {
        let mut train_loss = 0.0;
        for b in train {
            let (next, loss) = train_step(model, &mut optim, b.clone(), lr);
            model = next;
            train_loss += loss;
        }
        let inference = model.valid();
        let val_loss = validation_loss(&inference, val);
        let entry = EpochLog {
            epoch,
            train_loss: train_loss / train.len().max(1) as f64,
            val_loss,
        };
        on_epoch(&entry);
        log.push(entry);
        if best.as_ref().is_none_or(|(l, _)| val_loss < *l) {
            best = Some((val_loss, inference));
        }
    }
    let model = best.map(|(_, m)| m).unwrap_or_else(|| model.valid());
    (model, log)
}

/// One optimisation step of `model` on `batch` at learning rate `lr` (training mode: dropout
/// and drop-connect on, BatchNorm on batch statistics); the updated model and the batch's mean
/// binary cross-entropy.
pub fn train_step<B: TrainAutodiff, O: Optimizer<LensFinder<B>, B>>(
    model: LensFinder<B>,
    optim: &mut O,
    batch: Batch<B>,
    lr: f64,
) -> (LensFinder<B>, f64) {
    let logits = model.forward(batch.vis, batch.nir, true);
    let loss = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&logits.device())
        .forward(logits, batch.labels);
    let value = loss.clone().into_scalar().elem::<f64>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), value)
}

/// Mean binary cross-entropy of `model` (inference mode) on one batch.
pub fn batch_loss<B: TrainOps>(model: &LensFinder<B>, batch: &Batch<B>) -> f64 {
    let logits = model.forward(batch.vis.clone(), batch.nir.clone(), false);
    BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&logits.device())
        .forward(logits, batch.labels.clone())
        .into_scalar()
        .elem::<f64>()
}

/// Lens probabilities (sigmoid of the logits) of `model` on one batch, in order.
pub fn batch_scores<B: TrainOps>(model: &LensFinder<B>, batch: &Batch<B>) -> Vec<f64> {
    let p = burn::tensor::activation::sigmoid(model.forward(
        batch.vis.clone(),
        batch.nir.clone(),
        false,
    ));
    let v: Vec<f32> = p.into_data().to_vec().expect("f32 probabilities");
    v.into_iter().map(f64::from).collect()
}

/// Mean over `batches` of each batch's mean binary cross-entropy.
pub fn validation_loss<B: TrainOps>(model: &LensFinder<B>, batches: &[Batch<B>]) -> f64 {
    batches.iter().map(|b| batch_loss(model, b)).sum::<f64>() / batches.len().max(1) as f64
}

/// Lens probabilities, one per system of `batches`, in order.
pub fn predict<B: TrainOps>(model: &LensFinder<B>, batches: &[Batch<B>]) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| batch_scores(model, b))
        .collect()
}
