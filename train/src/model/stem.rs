//! EfficientNet's stem: a dense 3 × 3 convolution at stride 2 with TensorFlow's 'same' padding
//! (asymmetric: the extra zero row and column go below and right), no bias, computed as one
//! matrix product over the image's nine stride-2 samplings (im2col).
//!
//! Why: Burn 0.21's CUDA backend computes this convolution with its direct kernel, about 20 ms a
//! launch for a batch of 64 VIS stamps on an H200, four launches a step: 16 % of a two-branch
//! B2 step. The nine samplings are cheap copies and the product is one batched matrix product.
//! The parameter is that of Burn's `Conv2d` without bias (`weight` [out, in, 3, 3]), initialised
//! the same way, so saved networks load unchanged.

use burn::module::{Initializer, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::ops::PadMode;
use burn::tensor::{Slice, Tensor};

use crate::ops::{matmul, DepthwiseGeometry, TrainOps};

/// Kernel side.
const K: usize = 3;
/// Stride.
const STRIDE: usize = 2;

/// The stem convolution.
#[derive(Module, Debug)]
pub struct StemConv<B: Backend> {
    /// Kernel [out, in, 3, 3].
    pub weight: Param<Tensor<B, 4>>,
}

impl<B: Backend> StemConv<B> {
    /// `cin` → `cout` channels, initialised as Burn's `Conv2dConfig` does (Kaiming uniform, gain
    /// 1/√3, fan-in cin·9).
    pub fn new(cin: usize, cout: usize, device: &B::Device) -> Self {
        let init = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        };
        Self {
            weight: init.init_with(
                [cout, cin, K, K],
                Some(cin * K * K),
                Some(cout * K * K),
                device,
            ),
        }
    }
}

impl<B: TrainOps> StemConv<B> {
    /// [batch, in, height, width] → [batch, out, ⌈height/2⌉, ⌈width/2⌉].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, cin, h, w] = x.dims();
        let [cout, _, _, _] = self.weight.dims();
        let g = DepthwiseGeometry::same([h, w], K, STRIDE);
        let ([ho, wo], [bottom, right]) = (g.output, g.pad_after());
        let x = x.pad(
            (g.pad_left, right, g.pad_top, bottom),
            PadMode::Constant(0.0),
        );
        // Sampling (a, b) holds x[2i + a, 2j + b] of the padded image, in the kernel's order.
        let taps: Vec<Tensor<B, 4>> = (0..K * K)
            .map(|s| {
                let (a, b) = ((s / K) as isize, (s % K) as isize);
                let rows = Slice::new(a, Some(a + (STRIDE * (ho - 1)) as isize + 1), 2);
                let cols = Slice::new(b, Some(b + (STRIDE * (wo - 1)) as isize + 1), 2);
                x.clone()
                    .slice([Slice::full(), Slice::full(), rows, cols])
                    .reshape([n, cin, 1, ho * wo])
            })
            .collect();
        let columns = Tensor::cat(taps, 2).reshape([n, cin * K * K, ho * wo]);
        let kernel: Tensor<B, 3> = self.weight.val().reshape([1, cout, cin * K * K]);
        matmul(kernel, columns).reshape([n, cout, ho, wo])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;
    use burn::backend::Autodiff;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::PaddingConfig2d;
    use burn::tensor::Distribution;

    #[test]
    fn equals_burns_convolution_forward_and_backward() {
        // The reference: Burn's own Conv2d (stride 2, 'same' padding, which Burn computes as
        // TensorFlow does) with the same weight, on even and odd sizes; forward and the weight
        // and input gradients of Σ y·r.
        type A = Autodiff<Cpu>;
        let device = Default::default();
        for (h, w) in [(12usize, 12usize), (13, 9), (8, 11)] {
            let ours = StemConv::<A>::new(3, 5, &device);
            let mut burns = Conv2dConfig::new([3, 5], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Same)
                .with_bias(false)
                .init::<A>(&device);
            burns.weight = Param::from_tensor(ours.weight.val().detach());
            let x = Tensor::<A, 4>::random([2, 3, h, w], Distribution::Default, &device);
            let (xa, xb) = (x.clone().require_grad(), x.require_grad());
            let (ya, yb) = (ours.forward(xa.clone()), burns.forward(xb.clone()));
            assert_eq!(ya.dims(), [2, 5, h.div_ceil(2), w.div_ceil(2)]);
            let r = Tensor::<A, 4>::random(ya.dims(), Distribution::Default, &device);
            let ga = (ya.clone() * r.clone()).sum().backward();
            let gb = (yb.clone() * r).sum().backward();
            let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
                assert_eq!(a.len(), b.len());
                for (u, v) in a.iter().zip(&b) {
                    assert!((u - v).abs() < 1e-4, "{h}×{w} {what}: {u} vs {v}");
                }
            };
            let v = |t: Tensor<Cpu, 4>| t.into_data().to_vec::<f32>().unwrap();
            close(v(ya.inner()), v(yb.inner()), "output");
            close(
                v(ours.weight.val().grad(&ga).unwrap()),
                v(burns.weight.val().grad(&gb).unwrap()),
                "weight gradient",
            );
            close(
                v(xa.grad(&ga).unwrap()),
                v(xb.grad(&gb).unwrap()),
                "input gradient",
            );
        }
    }
}
