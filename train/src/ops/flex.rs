//! [`TrainOps`] for Burn's Flex backend, the trainer's CPU backend: the CPU arithmetic of
//! [`super::depthwise`] and [`super::batch_norm`] on the tensors' own memory (no copy when it is
//! already contiguous).

use burn::backend::flex::FlexTensor;
use burn::backend::Flex;
use burn::tensor::ops::{FloatTensor, FloatTensorOps};
use burn::tensor::{TensorData, TensorMetadata};
use std::borrow::Cow;

use super::{
    batch_norm, depthwise, radam, AdamState, DepthwiseGeometry, Normalisation, RAdamStep, TrainOps,
};

/// A float32 tensor's values in row-major order, borrowed where they already are.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .unwrap_or_else(|| {
                    panic!(
                        "lensforge's operations take float32 tensors, not {:?}",
                        t.dtype()
                    )
                })
                .to_vec(),
        ),
    }
}

fn dims(t: &FlexTensor) -> Vec<usize> {
    t.shape().to_vec()
}

/// A contiguous tensor of `shape` owning `v`.
fn tensor(v: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape.to_vec()))
}

impl TrainOps for Flex {
    fn matmul_f32(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        // Flex multiplies in f32 (`gemm`) whatever the precision setting.
        Self::float_matmul(lhs, rhs)
    }

    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&x);
        let y = depthwise::forward(&values(&x), &values(&weight), d[1], &g);
        tensor(y, &[d[0], d[1], g.output[0], g.output[1]])
    }
    fn depthwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&grad);
        let dx = depthwise::backward_x(&values(&weight), &values(&grad), d[1], &g);
        tensor(dx, &[d[0], d[1], g.input[0], g.input[1]])
    }
    fn depthwise_conv2d_weight_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&x);
        let dw = depthwise::backward_weight(&values(&x), &values(&grad), d[1], &g);
        tensor(dw, &[d[1], 1, g.kernel, g.kernel])
    }
    fn channel_moments(x: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let (m, v) = batch_norm::channel_moments(&values(&x), d[1], plane);
        (tensor(m, &[d[1]]), tensor(v, &[d[1]]))
    }
    fn batch_norm(n: Normalisation<Self>) -> FloatTensor<Self> {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let y = batch_norm::forward(
            &values(&x),
            &values(&mean),
            &values(&var),
            &values(&gamma),
            &values(&beta),
            epsilon,
            act,
            plane,
        );
        tensor(y, &d)
    }
    fn batch_norm_backward(
        n: Normalisation<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let (dx, dg, db) = batch_norm::backward(
            &values(&x),
            &values(&mean),
            &values(&var),
            &values(&gamma),
            &values(&beta),
            &values(&grad),
            epsilon,
            act,
            plane,
        );
        (tensor(dx, &d), tensor(dg, &[d[1]]), tensor(db, &[d[1]]))
    }

    fn radam_update(
        state: AdamState<Self>,
        grad: FloatTensor<Self>,
        step: RAdamStep,
    ) -> AdamState<Self> {
        let AdamState { param, m, v } = state;
        let d = dims(&param);
        let (p, m, v) = radam::update(
            &values(&param),
            &values(&grad),
            &values(&m),
            &values(&v),
            &step,
        );
        AdamState {
            param: tensor(p, &d),
            m: tensor(m, &d),
            v: tensor(v, &d),
        }
    }
}
