//! Burn's CUDA backend and lensforge's own CUDA kernels (`train::ops`) against the CPU (built
//! only with `--features cuda`; where no GPU answers each test says it was skipped):
//! - every own operation, forward and backward, against its CPU twin on the same inputs
//!   (strict f32 on both sides, other summation orders: 1e-5 of each result's scale);
//! - the depthwise convolution and BatchNorm against Burn's own CUDA operations (1e-3: Burn's
//!   CUDA convolution backward may multiply through TensorFloat-32 tensor cores);
//! - a two-branch lens finder stage by stage (every block's worst relative difference is
//!   printed) and its logits, in both precisions of `--precision`:
//!   - `strict`: every product in f32, so 1e-5 of each stage's scale and of the logits';
//!   - `tf32` (the default): the 1×1 convolutions' and the dense layer's factors rounded to
//!     TensorFloat-32 (11 significant bits, relative error ≤ 2⁻¹¹ ≈ 4.9e-4 each); about twenty
//!     such products in series, each renormalised by BatchNorm, bound the drift by
//!     20 · 4.9e-4 ≈ 1e-2 of the scale, the tolerance here.
#![cfg(feature = "cuda")]

#[path = "common/op_checks.rs"]
mod op_checks;

use burn::backend::{Autodiff, Cuda};
use train::device::Precision;

type A = Autodiff<Cuda>;

fn gpu() -> bool {
    match train::device::cuda_unavailable() {
        Some(why) => {
            eprintln!("skipped: no GPU ({why})");
            false
        }
        None => true,
    }
}

#[test]
fn cuda_ops_equal_their_cpu_twins() {
    if !gpu() {
        return;
    }
    Precision::Strict.apply();
    let worst = op_checks::ops_against_cpu_twins::<A>(&Default::default());
    Precision::Tf32.apply();
    eprintln!("CUDA ops against their CPU twins: worst {worst:.2e}");
    assert!(
        worst <= 1e-5,
        "an operation differs from its CPU twin by {worst:e}"
    );
}

#[test]
fn cuda_ops_equal_burns_cuda_ops() {
    if !gpu() {
        return;
    }
    let device = Default::default();
    let dw = op_checks::depthwise_against_burn::<A>(&device, 1e-3);
    let bn = op_checks::batch_norm_against_burn::<A>(&device, 1e-3);
    eprintln!("against Burn's CUDA ops: depthwise {dw:.2e}, BatchNorm {bn:.2e}");
}

#[test]
fn cuda_network_equals_the_cpu_stage_by_stage_in_both_precisions() {
    if !gpu() {
        return;
    }
    for (precision, tol) in [(Precision::Strict, 1e-5), (Precision::Tf32, 1e-2)] {
        precision.apply();
        eprintln!("precision {precision:?}");
        let (stages, logits) = op_checks::stages_against_cpu::<Cuda>(&Default::default());
        assert!(
            stages <= tol,
            "{precision:?}: a stage differs by {stages:e} of its scale"
        );
        assert!(
            logits <= tol,
            "{precision:?}: the logits differ by {logits:e} of the terms they sum"
        );
    }
    Precision::Tf32.apply();
}
