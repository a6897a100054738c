//! lensforge's own operations (`train::ops`) against Burn's own operations on the same backend,
//! forward and backward: the depthwise convolution against `conv2d` with groups = channels on an
//! explicitly zero-padded input (TensorFlow's 'same' padding, asymmetric at stride 2), and the
//! fused BatchNorm against `burn::nn::BatchNorm` followed by Burn's SiLU. Shared by the CPU tests
//! (`ops.rs`), the Vulkan tests (`wgpu.rs`) and the GPU tests (`cuda.rs`).

use burn::module::Param;
use burn::nn::BatchNormConfig;
use burn::tensor::activation::silu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use train::model::batch_norm::BatchNorm;
use train::model::depthwise::DepthwiseConv;
use train::ops::{Activation, DepthwiseGeometry, TrainAutodiff};

/// Largest |a − b| over the largest |b| (the reference's scale).
pub fn relative<B: burn::tensor::backend::Backend, const D: usize>(
    got: Tensor<B, D>,
    want: Tensor<B, D>,
) -> f32 {
    let got: Vec<f32> = got.into_data().convert::<f32>().to_vec().unwrap();
    let want: Vec<f32> = want.into_data().convert::<f32>().to_vec().unwrap();
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(1e-30f32, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(&want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    worst / scale
}

/// The depthwise convolution, forward and both gradients, for kernels 3 and 5, strides 1 and 2,
/// odd and even sizes: the worst relative difference from Burn's, which must stay below `tol`.
pub fn depthwise_against_burn<B: TrainAutodiff>(device: &B::Device, tol: f32) -> f32 {
    let mut worst = 0f32;
    for (k, s, h, w) in [
        (3, 1, 12, 12),
        (3, 1, 9, 14),
        (5, 1, 11, 11),
        (3, 2, 12, 12),
        (3, 2, 13, 9),
        (5, 2, 16, 16),
        (5, 2, 15, 17),
    ] {
        let (n, c) = (3, 5);
        let g = DepthwiseGeometry::same([h, w], k, s);
        let x = Tensor::<B, 4>::random([n, c, h, w], Distribution::Normal(0.0, 1.0), device);
        let r = Tensor::<B, 4>::random(
            [n, c, g.output[0], g.output[1]],
            Distribution::Normal(0.0, 1.0),
            device,
        );
        let mut ours = DepthwiseConv::<B>::new(c, k, s, device);
        let weight = Tensor::<B, 4>::random([c, 1, k, k], Distribution::Normal(0.0, 1.0), device);
        ours.weight = Param::from_tensor(weight.clone());

        // Ours.
        let xa = x.clone().require_grad();
        let y = ours.forward(xa.clone());
        let grads = (y.clone() * r.clone()).sum().backward();
        let dx = xa.grad(&grads).unwrap();
        let dw = ours.weight.val().grad(&grads).unwrap();

        // Burn's: the same zero padding written out, then conv2d with groups = channels.
        let xb = x.require_grad();
        let wb = weight.require_grad();
        let (bottom, right) = (
            (g.output[0] - 1) * s + k - h - g.pad_top,
            (g.output[1] - 1) * s + k - w - g.pad_left,
        );
        let padded = xb.clone().pad(
            (g.pad_left, right, g.pad_top, bottom),
            burn::tensor::ops::PadMode::Constant(0.0),
        );
        let yb = conv2d(
            padded,
            wb.clone(),
            None,
            ConvOptions::new([s, s], [0, 0], [1, 1], c),
        );
        let grads_b = (yb.clone() * r).sum().backward();
        let dxb = xb.grad(&grads_b).unwrap();
        let dwb = wb.grad(&grads_b).unwrap();

        for (what, d) in [
            ("forward", relative(y.inner(), yb.inner())),
            ("input gradient", relative(dx, dxb)),
            ("weight gradient", relative(dw, dwb)),
        ] {
            assert!(
                d <= tol,
                "depthwise k {k} s {s} {h}×{w}, {what}: {d:e} of the scale from Burn's"
            );
            worst = worst.max(d);
        }
    }
    worst
}

/// BatchNorm (ε 1e-3, momentum 0.1) with and without SiLU in training mode, forward, the
/// gradients of x, γ and β, and the running statistics after one step: the worst relative
/// difference from Burn's `BatchNorm` (then Burn's SiLU), which must stay below `tol`.
pub fn batch_norm_against_burn<B: TrainAutodiff>(device: &B::Device, tol: f32) -> f32 {
    let mut worst = 0f32;
    for (act, (n, c, h, w)) in [
        (Activation::Silu, (4, 6, 9, 7)),
        (Activation::Identity, (3, 5, 8, 8)),
        (Activation::Silu, (6, 3, 1, 1)),
    ] {
        let x = Tensor::<B, 4>::random([n, c, h, w], Distribution::Normal(0.7, 2.0), device);
        let r = Tensor::<B, 4>::random([n, c, h, w], Distribution::Normal(0.0, 1.0), device);
        let gamma = Tensor::<B, 1>::random([c], Distribution::Uniform(0.5, 1.5), device);
        let beta = Tensor::<B, 1>::random([c], Distribution::Uniform(-0.5, 0.5), device);

        let mut ours = BatchNorm::<B>::new(c, 1e-3, 0.1, device);
        ours.gamma = Param::from_tensor(gamma.clone());
        ours.beta = Param::from_tensor(beta.clone());
        let xa = x.clone().require_grad();
        let y = ours.forward(xa.clone(), act);
        let grads = (y.clone() * r.clone()).sum().backward();

        let mut burns = BatchNormConfig::new(c)
            .with_epsilon(1e-3)
            .with_momentum(0.1)
            .init::<B>(device);
        burns.gamma = Param::from_tensor(gamma);
        burns.beta = Param::from_tensor(beta);
        let xb = x.require_grad();
        let z = burns.forward(xb.clone());
        let yb = match act {
            Activation::Silu => silu(z),
            Activation::Identity => z,
        };
        let grads_b = (yb.clone() * r).sum().backward();

        let checks = [
            ("forward", relative(y.inner(), yb.inner())),
            (
                "input gradient",
                relative(xa.grad(&grads).unwrap(), xb.grad(&grads_b).unwrap()),
            ),
            (
                "γ gradient",
                relative(
                    ours.gamma.val().grad(&grads).unwrap(),
                    burns.gamma.val().grad(&grads_b).unwrap(),
                ),
            ),
            (
                "β gradient",
                relative(
                    ours.beta.val().grad(&grads).unwrap(),
                    burns.beta.val().grad(&grads_b).unwrap(),
                ),
            ),
            (
                "running mean",
                relative(ours.running_mean.value(), burns.running_mean.value()),
            ),
            (
                "running variance",
                relative(ours.running_var.value(), burns.running_var.value()),
            ),
        ];
        for (what, d) in checks {
            assert!(
                d <= tol,
                "BatchNorm {act:?} {n}×{c}×{h}×{w}, {what}: {d:e} of the scale from Burn's"
            );
            worst = worst.max(d);
        }
    }
    worst
}
