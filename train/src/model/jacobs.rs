//! A Jacobs-style lens-finding CNN (Jacobs et al. 2019, ApJS 243, 17, after Jacobs et al.
//! 2017): four convolutions with kernels 11, 5, 3 and 3 (96, 128, 256 and 256 filters, zero
//! padding that keeps the size; computed as matrix products, [`super::im2col`]), each followed by ReLU and 2 × 2 max pooling, then two dense
//! layers of 1024 units with ReLU and dropout; the lens finder's final dense layer turns their
//! 1024 features into a logit.
//!
//! After the last pooling the maps are averaged onto 5 × 5 cells (adaptive average pooling), so
//! that any stamp size feeds the same 6400-input dense layer (DES's 100-pixel stamps reach it
//! as 100 → 50 → 25 → 12 → 6 → 5; 80-pixel stamps exactly): 8.8 M parameters with three
//! bands, the size quoted for the Jacobs finder (about 9 M).

use burn::module::Module;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use super::im2col::Im2colConv;

/// Filters and kernel sides of the four convolutions.
pub const CONVOLUTIONS: [(usize, usize); 4] = [(96, 11), (128, 5), (256, 3), (256, 3)];
/// Units of each of the two hidden dense layers.
pub const DENSE: usize = 1024;
/// Side of the maps fed to the first dense layer.
pub const GRID: usize = 5;
/// Dropout after each hidden dense layer (training only).
pub const DENSE_DROPOUT: f64 = 0.5;

/// The convolutional and hidden dense layers; [`JacobsCnn::features`] values per image.
#[derive(Module, Debug)]
pub struct JacobsCnn<B: Backend> {
    convs: Vec<Im2colConv<B>>,
    pool: MaxPool2d,
    grid: AdaptiveAvgPool2d,
    dense: Vec<Linear<B>>,
    dropout: Dropout,
    relu: Relu,
}

impl<B: crate::ops::TrainOps> JacobsCnn<B> {
    /// A freshly initialised network for images of `bands` channels.
    pub fn new(bands: usize, device: &B::Device) -> Self {
        let mut convs = Vec::new();
        let mut channels = bands;
        for (filters, kernel) in CONVOLUTIONS {
            convs.push(Im2colConv::new(channels, filters, kernel, device));
            channels = filters;
        }
        Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            grid: AdaptiveAvgPool2dConfig::new([GRID, GRID]).init(),
            dense: vec![
                LinearConfig::new(channels * GRID * GRID, DENSE).init(device),
                LinearConfig::new(DENSE, DENSE).init(device),
            ],
            dropout: DropoutConfig::new(DENSE_DROPOUT).init(),
            relu: Relu::new(),
        }
    }

    /// Features per image.
    pub fn features(&self) -> usize {
        DENSE
    }

    /// Features [batch, 1024] of images [batch, bands, H, W] (H, W ≥ 16); `training` turns
    /// dropout on.
    pub fn forward(&self, x: Tensor<B, 4>, training: bool) -> Tensor<B, 2> {
        let mut x = x;
        for conv in &self.convs {
            x = self.pool.forward(self.relu.forward(conv.forward(x)));
        }
        let x: Tensor<B, 2> = self.grid.forward(x).flatten(1, 3);
        let mut x = x;
        for dense in &self.dense {
            x = self.relu.forward(dense.forward(x));
            if training {
                x = self.dropout.forward(x);
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;

    #[test]
    fn parameters_and_shapes() {
        let device = Default::default();
        let net = JacobsCnn::<Cpu>::new(3, &device);
        // Convolutions k²·c_in·c_out + c_out, then 6400 → 1024 → 1024, counted by hand:
        let convs = (121 * 3 * 96 + 96)
            + (25 * 96 * 128 + 128)
            + (9 * 128 * 256 + 256)
            + (9 * 256 * 256 + 256);
        let dense = (256 * 25 * 1024 + 1024) + (1024 * 1024 + 1024);
        assert_eq!(net.num_params(), convs + dense);
        assert_eq!(convs + dense, 8_831_744);
        // DES stamps and any other size give 1024 features.
        for side in [100, 45, 64] {
            let out = net.forward(Tensor::zeros([2, 3, side, side], &device), false);
            assert_eq!(out.dims(), [2, DENSE]);
        }
    }
}
