//! The CubeCL kernels of `train::ops` run through Burn's wgpu backend on whatever Vulkan driver
//! the machine has (in CI Mesa's lavapipe, which runs them on the CPU), against Burn's own
//! operations on the same device (`common/op_checks.rs`), and the whole lens finder against the
//! CPU backend. Built only with `--features wgpu`; where no Vulkan driver answers, each test says
//! it was skipped.
#![cfg(feature = "wgpu")]

#[path = "common/op_checks.rs"]
mod op_checks;

use burn::backend::{Autodiff, Wgpu};
use burn::tensor::Tensor;
use train::device::Precision;

type A = Autodiff<Wgpu>;

/// Whether a Vulkan driver answers: Burn's wgpu backend panics on first use without one.
fn vulkan() -> bool {
    let answered = std::panic::catch_unwind(|| {
        let device = Default::default();
        Tensor::<Wgpu, 1>::zeros([1], &device).into_data();
    })
    .is_ok();
    if !answered {
        eprintln!("skipped: no Vulkan driver answers (apt-get install mesa-vulkan-drivers)");
    }
    answered
}

#[test]
fn depthwise_kernels_equal_burns_grouped_convolution_on_vulkan() {
    if !vulkan() {
        return;
    }
    let device = Default::default();
    // f32 in another order on another device: 1e-5 of the scale, as on the CPU.
    let worst = op_checks::depthwise_against_burn::<A>(&device, 1e-5);
    eprintln!("depthwise on Vulkan: worst relative difference from Burn's {worst:e}");
}

#[test]
fn batch_norm_kernels_equal_burns_batch_norm_on_vulkan() {
    if !vulkan() {
        return;
    }
    let device = Default::default();
    let worst = op_checks::batch_norm_against_burn::<A>(&device, 1e-5);
    eprintln!("BatchNorm on Vulkan: worst relative difference from Burn's {worst:e}");
}

#[test]
fn matrix_product_equals_burns_on_vulkan_in_both_precisions() {
    if !vulkan() {
        return;
    }
    let device = Default::default();
    // Both settings compute in f32 on Vulkan: 1e-5 of the scale.
    for precision in [Precision::Tf32, Precision::Strict] {
        precision.apply();
        let worst = op_checks::matmul_against_burn::<A>(&device, 1e-5);
        eprintln!(
            "matmul on Vulkan, {precision:?}: worst relative difference from Burn's {worst:e}"
        );
    }
    Precision::Tf32.apply();
}

#[test]
fn vulkan_network_equals_the_cpu_stage_by_stage_in_both_precisions() {
    if !vulkan() {
        return;
    }
    // Strict f32 on both sides in both settings (lavapipe has no reduced-precision matrix units;
    // `strict` takes CubeCL's unit matrix kernel instead of Burn's), summed in other orders: 1e-5
    // of each stage's scale, 1e-5 of the size of the terms the logits sum (a logit near 0 by
    // chance is no smaller a computation: op_checks::stages_against_cpu).
    for precision in [Precision::Tf32, Precision::Strict] {
        precision.apply();
        eprintln!("precision {precision:?}");
        let (stages, logits) = op_checks::stages_against_cpu::<Wgpu>(&Default::default());
        assert!(
            stages <= 1e-5,
            "{precision:?}: a stage differs by {stages:e} of its scale"
        );
        assert!(
            logits <= 1e-5,
            "{precision:?}: the logits differ by {logits:e} of the terms they sum"
        );
    }
    Precision::Tf32.apply();
}

#[test]
fn vulkan_ops_equal_their_cpu_twins() {
    if !vulkan() {
        return;
    }
    // f32 on both sides, other summation orders: 1e-5 of each result's scale.
    let worst = op_checks::ops_against_cpu_twins::<A>(&Default::default());
    eprintln!("Vulkan ops against their CPU twins: worst {worst:.2e}");
    assert!(
        worst <= 1e-5,
        "an operation differs from its CPU twin by {worst:e}"
    );
}

#[test]
fn the_seed_recipes_kernel_cache_setting_is_one_cubecl_reads() {
    // datasets/recipes/seed-gpu.sh writes a cubecl.toml so that its processes share compiled
    // kernels. CubeCL panics on a file it cannot parse, so the text the recipe writes must
    // deserialise into CubeCL's own configuration with the cache where the recipe puts it.
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../datasets/recipes/seed-gpu.sh"
    ))
    .unwrap();
    let start = script.find("cat >\"$WORK/cubecl.toml\" <<EOF\n").unwrap();
    let body = &script[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("\nEOF\n").unwrap()];
    let text = body.replace("$WORK", "/tmp/work");
    let config: cubecl::config::CubeClRuntimeConfig = toml::from_str(&text).unwrap();
    match config.compilation.cache {
        Some(cubecl::config::cache::CacheConfig::File(path)) => {
            assert_eq!(path, std::path::Path::new("/tmp/work/kernel-cache"))
        }
        other => panic!("the recipe's cubecl.toml gives the cache {other:?}"),
    }
}
