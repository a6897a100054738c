//! A k × k convolution (stride 1, zero padding that keeps the size) computed as one matrix
//! product over the image's k²-shifted copies (im2col).
//!
//! Burn's ndarray backend convolves directly, one pass over the output plane per input
//! channel and kernel element; for the Jacobs CNN's wide kernels (11 × 11 over 100² stamps)
//! that made a training step of 8 stamps take a minute on this machine. The shifted copies
//! cost k² times the input's memory and turn the work into one matrix multiplication, forward
//! and backward. The parameters are those of Burn's `Conv2d` of the same shape (`weight`
//! [out, in, k, k], `bias` [out]), initialised the same way.

use burn::module::{Initializer, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::ops::{matmul, TrainOps};

/// A k × k convolution with odd k, stride 1, padding (k − 1)/2, no groups.
#[derive(Module, Debug)]
pub struct Im2colConv<B: Backend> {
    /// Kernel [out, in, k, k].
    pub weight: Param<Tensor<B, 4>>,
    /// Bias [out].
    pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Im2colConv<B> {
    /// `cin` → `cout` channels with an odd `k` × `k` kernel, initialised as Burn's
    /// `Conv2dConfig` does (Kaiming uniform, gain 1/√3, fan-in cin·k²).
    pub fn new(cin: usize, cout: usize, k: usize, device: &B::Device) -> Self {
        assert!(k % 2 == 1, "the kernel side is odd");
        let init = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        };
        let (fan_in, fan_out) = (cin * k * k, cout * k * k);
        Self {
            weight: init.init_with([cout, cin, k, k], Some(fan_in), Some(fan_out), device),
            bias: init.init_with([cout], Some(fan_in), Some(fan_out), device),
        }
    }
}

impl<B: TrainOps> Im2colConv<B> {
    /// [batch, in, height, width] → [batch, out, height, width].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, cin, h, w] = x.dims();
        let [cout, _, k, _] = self.weight.dims();
        let p = k / 2;
        let device = x.device();
        // Zero border of p pixels on every side.
        let rows = Tensor::<B, 4>::zeros([n, cin, p, w], &device);
        let x = Tensor::cat(vec![rows.clone(), x, rows], 2);
        let cols = Tensor::<B, 4>::zeros([n, cin, h + 2 * p, p], &device);
        let x = Tensor::cat(vec![cols.clone(), x, cols], 3);
        // Shifted copies in the kernel's (row, column) order: [n, in, k², h·w].
        let shifted: Vec<Tensor<B, 4>> = (0..k * k)
            .map(|s| {
                let (di, dj) = (s / k, s % k);
                x.clone()
                    .slice([0..n, 0..cin, di..di + h, dj..dj + w])
                    .reshape([n, cin, 1, h * w])
            })
            .collect();
        let columns = Tensor::cat(shifted, 2).reshape([n, cin * k * k, h * w]);
        let kernel: Tensor<B, 3> = self.weight.val().reshape([1, cout, cin * k * k]);
        let y = matmul(kernel, columns) + self.bias.val().reshape([1, cout, 1]);
        y.reshape([n, cout, h, w])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::PaddingConfig2d;
    use burn::tensor::Distribution;

    #[test]
    fn equals_burns_convolution() {
        // The reference: Burn's own Conv2d with the same weights, bias and padding.
        let device = Default::default();
        for k in [1, 3, 5, 11] {
            let c = Im2colConv::<Cpu>::new(4, 6, k, &device);
            let p = k / 2;
            let mut conv = Conv2dConfig::new([4, 6], [k, k])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init::<Cpu>(&device);
            // Parameters initialise lazily: touch them before cloning.
            let _ = (c.weight.val(), c.bias.val());
            conv.weight = c.weight.clone();
            conv.bias = Some(c.bias.clone());
            let x = Tensor::<Cpu, 4>::random([2, 4, 13, 9], Distribution::Default, &device);
            let a: Vec<f32> = c.forward(x.clone()).into_data().to_vec().unwrap();
            let b: Vec<f32> = conv.forward(x).into_data().to_vec().unwrap();
            assert_eq!(a.len(), 2 * 6 * 13 * 9);
            for (u, v) in a.iter().zip(&b) {
                assert!((u - v).abs() < 1e-4, "k {k}: {u} vs {v}");
            }
        }
    }
}
