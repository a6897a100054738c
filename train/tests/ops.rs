//! lensforge's own operations on the CPU backend against Burn's own operations on the same
//! backend (see `common/op_checks.rs`): the depthwise convolution against `conv2d` with
//! groups = channels, the fused BatchNorm against `burn::nn::BatchNorm` and SiLU, the
//! precision-aware matrix product against Burn's `matmul`, forward and backward. Both compute in f32 in different orders: agreement to 1e-5 of the scale.

#[path = "common/op_checks.rs"]
mod op_checks;

use burn::backend::Autodiff;
use train::device::Cpu;

type A = Autodiff<Cpu>;

#[test]
fn depthwise_convolution_equals_burns_grouped_convolution() {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, 11);
    let worst = op_checks::depthwise_against_burn::<A>(&device, 1e-5);
    eprintln!("depthwise: worst relative difference from Burn's {worst:e}");
}

#[test]
fn batch_norm_equals_burns_batch_norm_and_silu() {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, 12);
    let worst = op_checks::batch_norm_against_burn::<A>(&device, 1e-5);
    eprintln!("BatchNorm: worst relative difference from Burn's {worst:e}");
}

#[test]
fn matrix_product_equals_burns_with_its_gradients() {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, 13);
    let worst = op_checks::matmul_against_burn::<A>(&device, 1e-5);
    eprintln!("matmul: worst relative difference from Burn's {worst:e}");
}
