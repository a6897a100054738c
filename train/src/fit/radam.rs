//! Rectified Adam (Liu et al. 2020, "On the variance of the adaptive learning rate and beyond",
//! Algorithm 2), which the II SGLC winners trained with and Burn lacks.
//!
//! With m, v Adam's moments, m̂ = m/(1 − β1ᵗ), ρ∞ = 2/(1 − β2) − 1 and
//! ρ_t = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ): when ρ_t ≥ `threshold` the step is
//! lr·r_t·m̂/(sqrt(v/(1 − β2ᵗ)) + ε) with r_t = sqrt((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)),
//! otherwise the un-adapted lr·m̂. Defaults are those of TensorFlow Addons' RectifiedAdam. Each
//! parameter's step is one pass of [`TrainOps::radam_update`].

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{LearningRate, SimpleOptimizer};
use burn::record::Record;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorPrimitive};

use crate::ops::{AdamState, RAdamStep, TrainAutodiff, TrainOps};

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
    pub fn init<B: TrainAutodiff, M: AutodiffModule<B>>(&self) -> OptimizerAdaptor<RAdam, M, B> {
        OptimizerAdaptor::from(self.build())
    }
}

impl RAdam {
    /// The scalars of step number `time` (from 1) at learning rate `lr`.
    pub fn step_at(&self, time: usize, lr: LearningRate) -> RAdamStep {
        let (b1, b2) = (self.beta_1, self.beta_2);
        let t = time as f64;
        let (c1, c2) = (1.0 - b1.powf(t), 1.0 - b2.powf(t));
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / c2;
        let rectifier = (rho_t >= self.threshold).then(|| {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt()
        });
        RAdamStep {
            beta_1: b1,
            beta_2: b2,
            bias_1: c1,
            bias_2: c2,
            epsilon: self.epsilon,
            rectifier,
            learning_rate: lr,
        }
    }
}

impl<B: TrainOps> SimpleOptimizer<B> for RAdam {
    type State<const D: usize> = RAdamState<B, D>;

    /// One fused pass per parameter ([`TrainOps::radam_update`]); the moments start at zero.
    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let (time, m, v) = match state {
            Some(s) => (s.time + 1, s.moment_1, s.moment_2),
            None => (1, grad.zeros_like(), grad.zeros_like()),
        };
        let float = |t: Tensor<B, D>| t.into_primitive().tensor();
        let state = AdamState {
            param: float(tensor),
            m: float(m),
            v: float(v),
        };
        let AdamState { param, m, v } = B::radam_update(state, float(grad), self.step_at(time, lr));
        let tensor = |t| Tensor::from_primitive(TensorPrimitive::Float(t));
        (
            tensor(param),
            Some(RAdamState {
                time,
                moment_1: tensor(m),
                moment_2: tensor(v),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;
    use burn::tensor::TensorData;

    /// The step written with Burn's tensor operations, one whole-tensor pass each (the optimiser
    /// as it was before the fused operation): the reference.
    fn step_op_by_op(
        opt: &RAdam,
        lr: f64,
        tensor: Tensor<Cpu, 2>,
        grad: Tensor<Cpu, 2>,
        state: Option<(usize, Tensor<Cpu, 2>, Tensor<Cpu, 2>)>,
    ) -> (Tensor<Cpu, 2>, (usize, Tensor<Cpu, 2>, Tensor<Cpu, 2>)) {
        let (b1, b2) = (opt.beta_1, opt.beta_2);
        let (time, m, v) = match state {
            Some((t, m, v)) => (
                t + 1,
                m.mul_scalar(b1).add(grad.clone().mul_scalar(1.0 - b1)),
                v.mul_scalar(b2).add(grad.square().mul_scalar(1.0 - b2)),
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
        let update = if rho_t >= opt.threshold {
            let r = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            m_hat
                .div(v.clone().div_scalar(c2).sqrt().add_scalar(opt.epsilon))
                .mul_scalar(r)
        } else {
            m_hat
        };
        (tensor - update.mul_scalar(lr), (time, m, v))
    }

    fn bits(t: Tensor<Cpu, 2>) -> Vec<u32> {
        let v: Vec<f32> = t.into_data().to_vec().unwrap();
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn the_fused_step_gives_the_op_by_op_steps_bits() {
        // Twelve steps (un-rectified while ρ_t < 5, the first five; rectified after), gradients
        // that change sign and size, some exactly zero: the parameter and both moments must equal
        // the op-by-op composition bit for bit, so that training on the CPU is unchanged. A small
        // tensor takes the one-pass path, a large one (90,300 values) the path in pieces on
        // rayon's threads.
        for (rows, cols) in [(5, 11), (300, 301)] {
            fused_steps_equal_op_by_op(rows, cols);
        }
    }

    fn fused_steps_equal_op_by_op(rows: usize, cols: usize) {
        let device = Default::default();
        let opt = RAdamConfig::new().build();
        let grad_at = |step: usize| {
            let v: Vec<f32> = (0..rows * cols)
                .map(|i| {
                    if i % 7 == 3 {
                        0.0
                    } else {
                        ((i * 31 + step * 17) as f32 * 0.37).sin() * 10f32.powi((i % 5) as i32 - 3)
                    }
                })
                .collect();
            Tensor::<Cpu, 2>::from_data(TensorData::new(v, [rows, cols]), &device)
        };
        let start: Vec<f32> = (0..rows * cols).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut reference =
            Tensor::<Cpu, 2>::from_data(TensorData::new(start, [rows, cols]), &device);
        let mut fused = reference.clone();
        let (mut ref_state, mut state) = (None, None);
        let mut rectified = 0;
        for step in 0..12 {
            let lr = 1e-3 / (1.0 + step as f64);
            rectified += opt.step_at(step + 1, lr).rectifier.is_some() as usize;
            let (p, s) = step_op_by_op(&opt, lr, reference, grad_at(step), ref_state);
            let (q, t) = SimpleOptimizer::<Cpu>::step(&opt, lr, fused, grad_at(step), state);
            let t = t.unwrap();
            assert_eq!(
                bits(p.clone()),
                bits(q.clone()),
                "parameter at step {}",
                step + 1
            );
            assert_eq!(
                bits(s.1.clone()),
                bits(t.moment_1.clone()),
                "m at step {}",
                step + 1
            );
            assert_eq!(
                bits(s.2.clone()),
                bits(t.moment_2.clone()),
                "v at step {}",
                step + 1
            );
            assert_eq!(s.0, t.time);
            (reference, fused, ref_state, state) = (p, q, Some(s), Some(t));
        }
        assert_eq!(
            rectified, 7,
            "steps 6 to 12 are rectified (ρ_t ≥ 5 from t = 6)"
        );
    }
}
