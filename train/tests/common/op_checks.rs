//! lensforge's own operations (`train::ops`) against Burn's own operations on the same backend,
//! forward and backward: the depthwise convolution against `conv2d` with groups = channels on an
//! explicitly zero-padded input (TensorFlow's 'same' padding, asymmetric at stride 2), and the
//! fused BatchNorm against `burn::nn::BatchNorm` followed by Burn's SiLU; and a whole lens finder
//! on a GPU backend against the same weights on the CPU, stage by stage. Shared by the CPU tests
//! (`ops.rs`), the Vulkan tests (`wgpu.rs`) and the GPU tests (`cuda.rs`).
#![allow(dead_code)]

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module, Param};
use burn::nn::BatchNormConfig;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::activation::silu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor, TensorData, TensorPrimitive};
use train::device::Cpu;
use train::fit::radam::RAdamConfig;
use train::model::batch_norm::BatchNorm;
use train::model::depthwise::DepthwiseConv;
use train::model::two_branch::{Branches, LensFinder, VisChannels};
use train::ops::{Activation, AdamState, DepthwiseGeometry, TrainAutodiff, TrainOps};

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

/// The precision-aware matrix product (`train::ops::matmul`) against Burn's `matmul`, forward
/// and both gradients, with a broadcast batch dimension as the 1×1 convolutions use it:
/// the worst relative difference, which must stay below `tol`.
pub fn matmul_against_burn<B: TrainAutodiff>(device: &B::Device, tol: f32) -> f32 {
    let lhs = Tensor::<B, 3>::random([1, 24, 40], Distribution::Normal(0.0, 1.0), device);
    let rhs = Tensor::<B, 3>::random([3, 40, 37], Distribution::Normal(0.0, 1.0), device);
    let r = Tensor::<B, 3>::random([3, 24, 37], Distribution::Normal(0.0, 1.0), device);
    let (la, ra) = (lhs.clone().require_grad(), rhs.clone().require_grad());
    let y = train::ops::matmul(la.clone(), ra.clone());
    let grads = (y.clone() * r.clone()).sum().backward();
    let (lb, rb) = (lhs.require_grad(), rhs.require_grad());
    let yb = lb.clone().matmul(rb.clone());
    let grads_b = (yb.clone() * r).sum().backward();
    let mut worst = 0f32;
    for (what, d) in [
        ("forward", relative(y.inner(), yb.inner())),
        (
            "left gradient",
            relative(la.grad(&grads).unwrap(), lb.grad(&grads_b).unwrap()),
        ),
        (
            "right gradient",
            relative(ra.grad(&grads).unwrap(), rb.grad(&grads_b).unwrap()),
        ),
    ] {
        assert!(d <= tol, "matmul, {what}: {d:e} of the scale from Burn's");
        worst = worst.max(d);
    }
    worst
}

/// Deterministic values of `shape` (a phase `seed` apart), as tensor data.
fn data(shape: &[usize], seed: f32) -> TensorData {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|i| (i as f32 * 0.731 + seed).sin() * 1.7 + 0.2 * (i as f32 * 0.013).cos())
        .collect();
    TensorData::new(v, shape.to_vec())
}

fn values<B: burn::tensor::backend::Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

/// Every output and gradient of lensforge's operations on backend `B` for fixed inputs: the
/// depthwise convolution at kernels 3 and 5, strides 1 and 2, odd and even sizes (output, input
/// and weight gradients), BatchNorm with and without SiLU (output, x, γ, β gradients, running
/// statistics), the matrix product (output, both gradients) and a Rectified Adam step
/// (parameter and moments, with and without rectification).
pub fn op_results<B: TrainAutodiff>(device: &B::Device) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    for (k, s, h, w) in [
        (3, 1, 12, 12),
        (5, 1, 11, 9),
        (3, 2, 12, 12),
        (5, 2, 15, 17),
    ] {
        let (n, c) = (3, 5);
        let g = DepthwiseGeometry::same([h, w], k, s);
        let x = Tensor::<B, 4>::from_data(data(&[n, c, h, w], 0.1), device).require_grad();
        let r = Tensor::<B, 4>::from_data(data(&[n, c, g.output[0], g.output[1]], 0.7), device);
        let mut conv = DepthwiseConv::<B>::new(c, k, s, device);
        conv.weight = Param::from_tensor(Tensor::from_data(data(&[c, 1, k, k], 0.3), device));
        let y = conv.forward(x.clone());
        let grads = (y.clone() * r).sum().backward();
        let what = format!("depthwise k {k} s {s} {h}×{w}");
        out.push((format!("{what} output"), values(y)));
        out.push((
            format!("{what} input gradient"),
            values(x.grad(&grads).unwrap()),
        ));
        out.push((
            format!("{what} weight gradient"),
            values(conv.weight.val().grad(&grads).unwrap()),
        ));
    }
    for act in [Activation::Silu, Activation::Identity] {
        let (n, c, h, w) = (4, 6, 9, 7);
        let x = Tensor::<B, 4>::from_data(data(&[n, c, h, w], 0.2), device).require_grad();
        let r = Tensor::<B, 4>::from_data(data(&[n, c, h, w], 0.9), device);
        let mut bn = BatchNorm::<B>::new(c, 1e-3, 0.1, device);
        bn.gamma = Param::from_tensor(Tensor::from_data(data(&[c], 0.4), device));
        bn.beta = Param::from_tensor(Tensor::from_data(data(&[c], 0.5), device));
        let y = bn.forward(x.clone(), act);
        let grads = (y.clone() * r).sum().backward();
        let what = format!("BatchNorm {act:?}");
        out.push((format!("{what} output"), values(y)));
        out.push((
            format!("{what} x gradient"),
            values(x.grad(&grads).unwrap()),
        ));
        out.push((
            format!("{what} γ gradient"),
            values(bn.gamma.val().grad(&grads).unwrap()),
        ));
        out.push((
            format!("{what} β gradient"),
            values(bn.beta.val().grad(&grads).unwrap()),
        ));
        out.push((
            format!("{what} running mean"),
            values(bn.running_mean.value()),
        ));
        out.push((
            format!("{what} running variance"),
            values(bn.running_var.value()),
        ));
    }
    // One Rectified Adam step, un-rectified (step 1) and rectified (step 10).
    for (time, lr) in [(1, 1e-3), (10, 3e-4)] {
        let step = RAdamConfig::new().build().step_at(time, lr);
        let float = |seed: f32| {
            Tensor::<B, 2>::from_data(data(&[7, 13], seed), device)
                .into_primitive()
                .tensor()
        };
        let v = Tensor::<B, 2>::from_data(data(&[7, 13], 1.9), device).abs();
        let state = AdamState {
            param: float(0.3),
            m: float(1.4),
            v: v.into_primitive().tensor(),
        };
        let AdamState { param: p, m, v } = B::radam_update(state, float(0.8), step);
        for (what, t) in [("parameter", p), ("first moment", m), ("second moment", v)] {
            let t = Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(t));
            out.push((format!("RAdam step {time} {what}"), values(t)));
        }
    }
    let lhs = Tensor::<B, 3>::from_data(data(&[1, 24, 40], 0.6), device).require_grad();
    let rhs = Tensor::<B, 3>::from_data(data(&[3, 40, 37], 0.8), device).require_grad();
    let r = Tensor::<B, 3>::from_data(data(&[3, 24, 37], 1.1), device);
    let y = train::ops::matmul(lhs.clone(), rhs.clone());
    let grads = (y.clone() * r).sum().backward();
    out.push(("matmul output".into(), values(y)));
    out.push((
        "matmul left gradient".into(),
        values(lhs.grad(&grads).unwrap()),
    ));
    out.push((
        "matmul right gradient".into(),
        values(rhs.grad(&grads).unwrap()),
    ));
    out
}

/// [`op_results`] on backend `G` against the CPU twins: prints the worst difference relative to
/// each result's scale and returns the worst of all.
pub fn ops_against_cpu_twins<G: TrainAutodiff>(device: &G::Device) -> f32 {
    let want = op_results::<Autodiff<Cpu>>(&Default::default());
    let got = op_results::<G>(device);
    let mut worst = 0f32;
    for ((name, w), (_, g)) in want.iter().zip(&got) {
        let scale = w.iter().fold(1e-30f32, |m, v| m.max(v.abs()));
        let d = g.iter().zip(w).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
        eprintln!("{name}: {d:.2e} of the scale from the CPU's");
        worst = worst.max(d);
    }
    worst
}

/// Deterministic, RNG-free images [batch, channels, size, size] (a phase `shift` apart).
pub fn images<B: burn::tensor::backend::Backend>(
    batch: usize,
    channels: usize,
    size: usize,
    shift: f32,
    device: &Device<B>,
) -> Tensor<B, 4> {
    let mut v = Vec::with_capacity(batch * channels * size * size);
    for n in 0..batch {
        for c in 0..channels {
            for i in 0..size {
                for j in 0..size {
                    let t = 0.37 * i as f32 + 0.23 * j as f32 + 1.3 * c as f32 + 2.1 * n as f32;
                    v.push((t + shift).sin() + 0.5 * (0.05 * (i * j) as f32).cos());
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(v, [batch, channels, size, size]), device)
}

/// A small two-branch lens finder (width and depth 0.5 of B0; VIS 64², NIR 24²) on the CPU and
/// the same weights on backend `G`, both read from one file. Its BatchNorm running statistics
/// are first moved to the images' own by two batch-statistics passes (momentum 0.9), so that
/// evaluation normalises as in a trained network rather than shrinking every signal to nothing.
/// (Both sides load the file: a freshly made network initialises its parameters lazily, so a
/// clone saved before first use holds other values than the original.)
pub fn same_weights<G: TrainOps>(gpu: &Device<G>) -> (LensFinder<Cpu>, LensFinder<G>) {
    let cpu = Default::default();
    let make = || (0.5, 0.5, 0.9, Branches::Both, VisChannels::Repeated);
    let (w, d, m, b, v) = make();
    let net = LensFinder::<Autodiff<Cpu>>::scaled(w, d, m, b, v, 3, &cpu);
    for pass in 0..2 {
        let shift = 0.1 * pass as f32;
        let _ = net.forward(
            Some(images(4, 1, 64, shift, &cpu)),
            Some(images(4, 3, 24, shift, &cpu)),
            false,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net");
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    net.valid().save_file(&path, &recorder).unwrap();
    let on_cpu = LensFinder::<Cpu>::scaled(w, d, m, b, v, 3, &cpu)
        .load_file(&path, &recorder, &cpu)
        .unwrap();
    let on_gpu = LensFinder::<G>::scaled(w, d, m, b, v, 3, gpu)
        .load_file(&path, &recorder, gpu)
        .unwrap();
    (on_cpu, on_gpu)
}

/// Runs [`same_weights`]'s network on both backends and prints, stage by stage (stem, every
/// block, top, pooled features) for each branch, the worst difference relative to the stage's
/// scale; then the logits. Returns (the worst stage difference, the worst logit difference
/// relative to the size of the terms the logit sums, the largest over the images of
/// Σ|w_i x_i| + |bias| (x the pooled features), or the largest logit if larger: a logit near 0
/// by chance is a sum of larger terms, which set the rounding).
pub fn stages_against_cpu<G: TrainOps>(gpu: &Device<G>) -> (f32, f32) {
    let cpu = Default::default();
    let (net, on_gpu) = same_weights::<G>(gpu);
    let (vis, nir) = (images(3, 1, 64, 0.05, &cpu), images(3, 3, 24, 0.05, &cpu));
    let to_gpu = |t: &Tensor<Cpu, 4>| Tensor::<G, 4>::from_data(t.clone().into_data(), gpu);
    let back = |t: Tensor<G, 4>| Tensor::<Cpu, 4>::from_data(t.into_data(), &cpu);
    let mut worst = 0f32;
    let mut pooled: Vec<Tensor<Cpu, 2>> = Vec::new();
    let vis3 = Tensor::cat(vec![vis.clone(), vis.clone(), vis.clone()], 1);
    for (branch, x, on_cpu, there) in [
        ("VIS", &vis3, net.vis_branch(), on_gpu.vis_branch()),
        ("NIR", &nir, net.nir_branch(), on_gpu.nir_branch()),
    ] {
        let want = on_cpu.unwrap().forward_stages(x.clone(), false);
        let got = there.unwrap().forward_stages(to_gpu(x), false);
        for ((name, w), (_, g)) in want.into_iter().zip(got) {
            if name == "pooled" {
                let [n, c, _, _] = w.dims();
                pooled.push(w.clone().reshape([n, c]));
            }
            let d = relative(back(g), w);
            eprintln!("{branch} {name}: worst difference {d:.2e} of the stage's scale");
            worst = worst.max(d);
        }
    }
    let want: Vec<f32> = net
        .forward(Some(vis.clone()), Some(nir.clone()), false)
        .into_data()
        .to_vec()
        .unwrap();
    let got: Vec<f32> = on_gpu
        .forward(Some(to_gpu(&vis)), Some(to_gpu(&nir)), false)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap();
    // Per image, Σ|w_i x_i| + |b| over the head's inputs (the pooled features, VIS first).
    let head = net.head();
    let bias = head
        .bias
        .as_ref()
        .map_or(0.0, |b| b.val().abs().sum().into_scalar());
    let features = Tensor::cat(pooled, 1).abs();
    let terms = features.matmul(head.weight.val().abs()).max().into_scalar() + bias;
    let scale = want.iter().fold(terms.max(1e-30), |m, v| m.max(v.abs()));
    let logits = got
        .iter()
        .zip(&want)
        .fold(0f32, |m, (g, w)| m.max((g - w).abs()))
        / scale;
    eprintln!(
        "logits: {got:?} against the CPU's {want:?}, worst difference {logits:.2e} of their terms' size {scale:.3}"
    );
    (worst, logits)
}
