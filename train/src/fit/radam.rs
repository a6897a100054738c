//! Rectified Adam (Liu et al. 2020, "On the variance of the adaptive learning rate and beyond",
//! Algorithm 2), which the II SGLC winners trained with and Burn lacks.
//!
//! With m, v Adam's moments, m̂ = m/(1 − β1ᵗ), ρ∞ = 2/(1 − β2) − 1 and
//! ρ_t = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ): when ρ_t ≥ `threshold` the step is
//! lr·r_t·m̂/(sqrt(v/(1 − β2ᵗ)) + ε) with r_t = sqrt((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)),
//! otherwise the un-adapted lr·m̂. Defaults are those of TensorFlow Addons' RectifiedAdam.

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{LearningRate, SimpleOptimizer};
use burn::record::Record;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

/// RAdam's hyper-parameters.
#[derive(Config, Debug)]
pub struct RAdamConfig {
    /// Decay of the first moment.
    #[config(default = 0.9)]
    pub beta_1: f64,
    /// Decay of the second moment.
    #[config(default = 0.999)]
    pub beta_2: f64,
    /// Added to the root of the second moment.
    #[config(default = 1e-7)]
    pub epsilon: f64,
    /// ρ_t from which the adaptive, rectified step is taken (Liu et al. use 4–5; 5 in TF Addons).
    #[config(default = 5.0)]
    pub threshold: f64,
}

/// The optimiser.
#[derive(Clone, Debug)]
pub struct RAdam {
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    threshold: f64,
}

/// Per-tensor state: the step count and the two moments.
#[derive(Record, Clone)]
pub struct RAdamState<B: Backend, const D: usize> {
    /// Steps taken.
    pub time: usize,
    /// First moment m.
    pub moment_1: Tensor<B, D>,
    /// Second moment v.
    pub moment_2: Tensor<B, D>,
}

impl RAdamConfig {
    /// The optimiser itself.
    pub fn build(&self) -> RAdam {
        RAdam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            threshold: self.threshold,
        }
    }

    /// The optimiser for a module trained on an autodiff backend.
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(&self) -> OptimizerAdaptor<RAdam, M, B> {
        OptimizerAdaptor::from(self.build())
    }
}

impl<B: Backend> SimpleOptimizer<B> for RAdam {
    type State<const D: usize> = RAdamState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let (b1, b2) = (self.beta_1, self.beta_2);
        let (time, m, v) = match state {
            Some(s) => (
                s.time + 1,
                s.moment_1
                    .mul_scalar(b1)
                    .add(grad.clone().mul_scalar(1.0 - b1)),
                s.moment_2
                    .mul_scalar(b2)
                    .add(grad.square().mul_scalar(1.0 - b2)),
            ),
            None => (
                1,
                grad.clone().mul_scalar(1.0 - b1),
                grad.square().mul_scalar(1.0 - b2),
            ),
        };
        let t = time as f64;
        let (c1, c2) = (1.0 - b1.powf(t), 1.0 - b2.powf(t));
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / c2;
        let m_hat = m.clone().div_scalar(c1);
        let update = if rho_t >= self.threshold {
            let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            m_hat
                .div(v.clone().div_scalar(c2).sqrt().add_scalar(self.epsilon))
                .mul_scalar(r)
        } else {
            m_hat
        };
        (
            tensor - update.mul_scalar(lr),
            Some(RAdamState {
                time,
                moment_1: m,
                moment_2: v,
            }),
        )
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        RAdamState {
            time: state.time,
            moment_1: state.moment_1.to_device(device),
            moment_2: state.moment_2.to_device(device),
        }
    }
}
