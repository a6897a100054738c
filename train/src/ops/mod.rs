//! The network's own backend operations: a depthwise convolution and a fused BatchNorm (with an
//! optional SiLU), each with its backward pass, added to Burn's backends as a backend extension
//! (a trait of our own over `Backend`, implemented for the CPU backend, for CubeCL's GPU
//! backends and for `Autodiff` over any of them).
//!
//! Why: Burn 0.21 computes a grouped convolution's weight gradient with one kernel launch per
//! group (burn-cubecl `kernel/conv/backward_weight/fallback.rs`), so per channel for a depthwise
//! convolution, which made a two-branch EfficientNet-B2 step on an H200 take 7 s; and its
//! ndarray backend convolves per input channel and kernel element and builds BatchNorm from a
//! dozen whole-tensor passes (two of them transposing copies). EfficientNet spends nearly all its
//! time in these two layers.
//!
//! The CPU arithmetic ([`depthwise`], [`batch_norm`]) works on contiguous slices, in parallel
//! over image planes or channels (rayon), in a fixed order whatever the thread count. The GPU
//! kernels (`cube`, with the `cuda` or `wgpu` feature) compute the same sums, one launch per pass
//! over the whole tensor. Both are tested against Burn's own `conv2d` (groups = channels) and
//! `BatchNorm`, forward and backward.

pub mod autodiff;
pub mod batch_norm;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub mod cube;
pub mod depthwise;
pub mod flex;
pub mod pieces;
pub mod precision;
pub mod radam;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

pub use depthwise::DepthwiseGeometry;
pub use radam::RAdamStep;

/// The activation applied after a BatchNorm, inside the same operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// None: the normalised, scaled and shifted value.
    Identity,
    /// SiLU (swish), z·σ(z).
    Silu,
}

/// A BatchNorm's operands (float32), with the activation that follows inside the same
/// operation.
pub struct Normalisation<B: Backend> {
    /// The input [N, C, H, W].
    pub x: FloatTensor<B>,
    /// Per-channel mean [C].
    pub mean: FloatTensor<B>,
    /// Per-channel biased variance [C].
    pub var: FloatTensor<B>,
    /// Scale γ [C].
    pub gamma: FloatTensor<B>,
    /// Shift β [C].
    pub beta: FloatTensor<B>,
    /// Added to the variance, ε.
    pub epsilon: f64,
    /// Applied to the normalised, scaled and shifted value.
    pub act: Activation,
}

impl<B: Backend> Normalisation<B> {
    /// ([x, mean, var, γ, β], ε, activation).
    pub fn into_parts(self) -> ([FloatTensor<B>; 5], f64, Activation) {
        let t = [self.x, self.mean, self.var, self.gamma, self.beta];
        (t, self.epsilon, self.act)
    }
}

/// A parameter and its two Rectified Adam moments (float32, one shape).
pub struct AdamState<B: Backend> {
    /// The parameter θ.
    pub param: FloatTensor<B>,
    /// The first moment m.
    pub m: FloatTensor<B>,
    /// The second moment v.
    pub v: FloatTensor<B>,
}

/// A Burn backend with lensforge's own operations. Tensors are NCHW, float32.
pub trait TrainOps: Backend {
    /// Depthwise convolution of `x` [N, C, H, W] with `weight` [C, 1, k, k] (Burn's grouped
    /// layout), no bias, under geometry `g`: [N, C, H_out, W_out].
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self>;

    /// The gradient with respect to the input, [N, C, H, W], of the loss whose gradient with
    /// respect to the output is `grad` [N, C, H_out, W_out].
    fn depthwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self>;

    /// The gradient with respect to the weight, [C, 1, k, k].
    fn depthwise_conv2d_weight_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self>;

    /// Per-channel mean and biased variance of `x` [N, C, H, W] over N, H and W: two [C]
    /// tensors. Not differentiated (the gradient through the statistics is part of
    /// [`TrainOps::batch_norm`]'s).
    fn channel_moments(x: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// act((x − mean)/√(var + ε)·γ + β) per channel ([`Normalisation`]).
    ///
    /// On an autodiff backend the gradient is batch normalisation's in training: `mean` and
    /// `var` must be `x`'s own [`TrainOps::channel_moments`], and the gradient flows through
    /// them. Evaluation with running statistics calls it on a backend without autodiff.
    fn batch_norm(n: Normalisation<Self>) -> FloatTensor<Self>;

    /// The float32 matrix product of `lhs` [.., m, k] and `rhs` [.., k, n] (batch dimensions
    /// broadcast as Burn's `matmul` does), in the precision of [`precision::Precision`]:
    /// Burn's own product, or on a GPU under `strict` one that keeps every factor in f32.
    fn matmul_f32(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self>;

    /// The gradients (x [N, C, H, W], γ [C], β [C]) of training-mode batch normalisation with
    /// batch statistics `n.mean` and `n.var`, given the output's gradient `grad`.
    fn batch_norm_backward(
        n: Normalisation<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// One Rectified Adam step on a parameter and its moments given its gradient `grad` (all of
    /// one shape), in one pass ([`radam`]). Not differentiated.
    fn radam_update(
        state: AdamState<Self>,
        grad: FloatTensor<Self>,
        step: RAdamStep,
    ) -> AdamState<Self>;
}

/// `lhs`·`rhs` through [`TrainOps::matmul_f32`] (the precision of [`precision::Precision`]).
pub fn matmul<B: TrainOps, const D: usize>(lhs: Tensor<B, D>, rhs: Tensor<B, D>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(B::matmul_f32(
        lhs.into_primitive().tensor(),
        rhs.into_primitive().tensor(),
    )))
}

/// An autodiff backend whose inner backend (the one validation and inference run on) has the
/// same operations.
pub trait TrainAutodiff: AutodiffBackend<InnerBackend: TrainOps> + TrainOps {}

impl<B: AutodiffBackend<InnerBackend: TrainOps> + TrainOps> TrainAutodiff for B {}
