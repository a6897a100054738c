//! BatchNorm over the channels of NCHW images, with the activation that follows it fused in,
//! computed by lensforge's own operations ([`crate::ops::TrainOps::batch_norm`]).
//!
//! It behaves as Burn's `BatchNorm`: on an autodiff backend it normalises by the batch's
//! statistics and moves the running ones by `momentum` (running = (1 − m)·running + m·batch,
//! with the biased batch variance); elsewhere it normalises by the running statistics. Its
//! fields are Burn's (`gamma`, `beta`, `running_mean`, `running_var`), so weight files and
//! parameter paths are unchanged.

use burn::module::{Initializer, Module, Param, RunningState};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorPrimitive};

use crate::ops::{Activation, Normalisation, TrainOps};

/// BatchNorm with a fused activation.
#[derive(Module, Debug)]
pub struct BatchNorm<B: Backend> {
    /// Scale γ [channels].
    pub gamma: Param<Tensor<B, 1>>,
    /// Shift β [channels].
    pub beta: Param<Tensor<B, 1>>,
    /// Running mean [channels].
    pub running_mean: RunningState<Tensor<B, 1>>,
    /// Running (biased) variance [channels].
    pub running_var: RunningState<Tensor<B, 1>>,
    /// Weight of a batch in the running statistics (Burn's convention: Keras's 1 − momentum).
    pub momentum: f64,
    /// ε added to the variance.
    pub epsilon: f64,
}

impl<B: Backend> BatchNorm<B> {
    /// γ = 1, β = 0, running mean 0 and variance 1, as Burn's `BatchNormConfig::init`.
    pub fn new(channels: usize, epsilon: f64, momentum: f64, device: &B::Device) -> Self {
        Self {
            gamma: Initializer::Ones.init([channels], device),
            beta: Initializer::Zeros.init([channels], device),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            momentum,
            epsilon,
        }
    }
}

fn float<B: Backend, const D: usize>(t: Tensor<B, D>) -> burn::tensor::ops::FloatTensor<B> {
    t.into_primitive().tensor()
}

impl<B: TrainOps> BatchNorm<B> {
    /// act(BatchNorm(x)) on [batch, channels, H, W].
    pub fn forward(&self, x: Tensor<B, 4>, act: Activation) -> Tensor<B, 4> {
        let device = x.device();
        let (mean, var) = if B::ad_enabled(&device) {
            let (mean, var) = B::channel_moments(float(x.clone()));
            let mean = Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(mean));
            let var = Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(var));
            let m = self.momentum;
            let running_mean = self.running_mean.value_sync().to_device(&device);
            let running_var = self.running_var.value_sync().to_device(&device);
            self.running_mean.update(
                running_mean
                    .mul_scalar(1.0 - m)
                    .add(mean.clone().mul_scalar(m))
                    .detach(),
            );
            self.running_var.update(
                running_var
                    .mul_scalar(1.0 - m)
                    .add(var.clone().mul_scalar(m))
                    .detach(),
            );
            (mean, var)
        } else {
            (
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
            )
        };
        Tensor::from_primitive(TensorPrimitive::Float(B::batch_norm(Normalisation {
            x: float(x),
            mean: float(mean),
            var: float(var),
            gamma: float(self.gamma.val()),
            beta: float(self.beta.val()),
            epsilon: self.epsilon,
            act,
        })))
    }
}
