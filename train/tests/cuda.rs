//! Burn's CUDA backend against the CPU backend (built only with `--features cuda`): the same
//! weights, moved through a file, give the same logits on the same images. Where no GPU answers
//! the test says it was skipped.
#![cfg(feature = "cuda")]

use burn::backend::Cuda;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::{Distribution, Tensor};
use train::device::Cpu;
use train::model::two_branch::{Branches, LensFinder, VisChannels};

#[test]
fn cuda_logits_equal_cpu_logits() {
    if let Some(why) = train::device::cuda_unavailable() {
        eprintln!("skipped: no GPU ({why})");
        return;
    }
    let cpu = Default::default();
    let gpu = Default::default();
    // A small two-branch network (width and depth 0.5 of B0) at the native resolutions.
    let net =
        LensFinder::<Cpu>::scaled(0.5, 0.5, 0.01, Branches::Both, VisChannels::Repeated, &cpu);
    let dir = tempfile::tempdir().unwrap();
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    net.clone()
        .save_file(dir.path().join("net"), &recorder)
        .unwrap();
    let on_gpu =
        LensFinder::<Cuda>::scaled(0.5, 0.5, 0.01, Branches::Both, VisChannels::Repeated, &gpu)
            .load_file(dir.path().join("net"), &recorder, &gpu)
            .unwrap();

    let vis = Tensor::<Cpu, 4>::random([4, 1, 200, 200], Distribution::Uniform(0.0, 1.0), &cpu);
    let nir = Tensor::<Cpu, 4>::random([4, 3, 66, 66], Distribution::Uniform(0.0, 1.0), &cpu);
    let want: Vec<f32> = net
        .forward(Some(vis.clone()), Some(nir.clone()), false)
        .into_data()
        .to_vec()
        .unwrap();
    let to_gpu = |t: Tensor<Cpu, 4>| Tensor::<Cuda, 4>::from_data(t.into_data(), &gpu);
    let got: Vec<f32> = on_gpu
        .forward(Some(to_gpu(vis)), Some(to_gpu(nir)), false)
        .into_data()
        .to_vec()
        .unwrap();
    // f32 on both sides, different summation orders: agreement to 1e-3 of the logits' scale.
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-3 * scale, "CUDA {g} vs CPU {w}");
    }
    eprintln!("CUDA and CPU logits agree: {got:?} vs {want:?}");
}
