//! A depthwise convolution layer (one k × k kernel per channel, no bias, TensorFlow 'same'
//! padding) computed by lensforge's own operation ([`crate::ops::TrainOps::depthwise_conv2d`]).
//!
//! Its parameter is that of Burn's `Conv2d` with groups = channels (`weight` [C, 1, k, k]),
//! initialised the same way (Kaiming uniform, gain 1/√3, fan-in k²), so weight files and
//! parameter paths are unchanged.

use burn::module::{Initializer, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorPrimitive};

use crate::ops::{DepthwiseGeometry, TrainOps};

/// A depthwise convolution with 'same' padding.
#[derive(Module, Debug)]
pub struct DepthwiseConv<B: Backend> {
    /// Kernels [channels, 1, k, k].
    pub weight: Param<Tensor<B, 4>>,
    /// Stride (pixels), the same along rows and columns.
    pub stride: usize,
}

impl<B: Backend> DepthwiseConv<B> {
    /// `channels` kernels of side `kernel`, moving by `stride`.
    pub fn new(channels: usize, kernel: usize, stride: usize, device: &B::Device) -> Self {
        let init = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        };
        let fan = kernel * kernel;
        Self {
            weight: init.init_with([channels, 1, kernel, kernel], Some(fan), Some(fan), device),
            stride,
        }
    }
}

impl<B: TrainOps> DepthwiseConv<B> {
    /// [batch, channels, H, W] → [batch, channels, ⌈H/s⌉, ⌈W/s⌉].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [_, _, h, w] = x.dims();
        let [_, _, k, _] = self.weight.dims();
        let g = DepthwiseGeometry::same([h, w], k, self.stride);
        Tensor::from_primitive(TensorPrimitive::Float(B::depthwise_conv2d(
            x.into_primitive().tensor(),
            self.weight.val().into_primitive().tensor(),
            g,
        )))
    }
}
