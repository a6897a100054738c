//! The training-step benchmark behind `train bench`: forward, backward and a Rectified Adam
//! step of the lens finder on random images, timed after one warm-up step, the device
//! synchronised before the clock is read at either end; and the same step's EfficientNet
//! branches taken apart (`--by-part`): each part's forward and backward timed alone.

use std::time::Instant;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Distribution, Int, Tensor};

use crate::fit::radam::RAdamConfig;
use crate::model::efficientnet::{Variant, KERAS_BN_MOMENTUM};
use crate::model::two_branch::{Branches, LensFinder, VisChannels};
use crate::model::vit::VitShape;
use crate::ops::TrainAutodiff;

/// The network timed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BenchNet {
    /// EfficientNet branches of this size.
    EfficientNet(Variant),
    /// The Jacobs-style CNN on the three-band image.
    Jacobs,
    /// A Vision Transformer of this shape on the three-band image.
    Vit(VitShape),
}

impl std::str::FromStr for BenchNet {
    type Err = String;

    /// `b0`, `b1`, `b2`, `jacobs` or `vit` (ViT-B/16).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jacobs" => Ok(Self::Jacobs),
            "vit" => Ok(Self::Vit(VitShape::default())),
            _ => serde_json::from_value(serde_json::Value::String(s.into()))
                .map(Self::EfficientNet)
                .map_err(|_| format!("--variant {s}: expected b0, b1, b2, jacobs or vit")),
        }
    }
}

/// What the benchmark measured.
#[derive(Clone, Copy, Debug)]
pub struct StepTiming {
    /// Mean wall time of one step, s.
    pub seconds_per_step: f64,
    /// Systems per second.
    pub images_per_second: f64,
    /// Where asked, the mean wall time of a step's phases, s: the forward pass with the loss,
    /// the backward pass, and the optimiser's step, from further steps with the device
    /// synchronised between phases (so their sum can exceed a step's time on a device that
    /// overlaps them).
    pub phases: Option<[f64; 3]>,
}

/// Times `steps` training steps of network `net` with `branches` (the NIR input alone for the
/// Jacobs CNN and the transformer) at batch `batch` on VIS and NIR stamps of sides `sizes`
/// (pixels); with `phases`, then as many steps again timed phase by phase.
pub fn training_steps<B: TrainAutodiff>(
    net: BenchNet,
    branches: Branches,
    batch: usize,
    steps: usize,
    sizes: (usize, usize),
    phases: bool,
    device: &B::Device,
) -> Result<StepTiming, String> {
    B::seed(device, 1);
    let (mut model, branches) = match net {
        BenchNet::EfficientNet(variant) => {
            let (w, d) = variant.coefficients();
            let m = LensFinder::<B>::scaled(
                w,
                d,
                KERAS_BN_MOMENTUM,
                branches,
                VisChannels::Repeated,
                3,
                device,
            );
            (m, branches)
        }
        BenchNet::Jacobs => (LensFinder::<B>::jacobs(3, device), Branches::Nir),
        BenchNet::Vit(shape) => (LensFinder::<B>::vit(3, shape, device), Branches::Nir),
    };
    let mut optim = RAdamConfig::new().init::<B, LensFinder<B>>();
    let bce = burn::nn::loss::BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
    let vis = (branches != Branches::Nir).then(|| {
        Tensor::<B, 4>::random([batch, 1, sizes.0, sizes.0], Distribution::Default, device)
    });
    let nir = (branches != Branches::Vis).then(|| {
        Tensor::<B, 4>::random([batch, 3, sizes.1, sizes.1], Distribution::Default, device)
    });
    let labels = Tensor::<B, 2, Int>::random([batch, 1], Distribution::Uniform(0.0, 2.0), device);
    // A GPU backend queues its work and returns: wait for the device before each reading of the
    // clock, so that the time is that of the steps and not of queuing them.
    let sync = || B::sync(device).map_err(|e| format!("the device failed while training: {e:?}"));
    // One step; with `phases`, the device is waited for after each phase and its time added.
    let mut step = |phases: Option<&mut [f64; 3]>| -> Result<(), String> {
        let mut clock = phases.map(|p| (p, Instant::now()));
        let mut lap = |k: usize| -> Result<(), String> {
            if let Some((p, t)) = clock.as_mut() {
                sync()?;
                p[k] += t.elapsed().as_secs_f64();
                *t = Instant::now();
            }
            Ok(())
        };
        let logits = model.forward(vis.clone(), nir.clone(), true);
        let loss = bce.forward(logits, labels.clone());
        lap(0)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        lap(1)?;
        model = optim.step(1e-3, model.clone(), grads);
        lap(2)
    };
    step(None)?;
    sync()?;
    let start = Instant::now();
    for _ in 0..steps {
        step(None)?;
    }
    sync()?;
    let seconds_per_step = start.elapsed().as_secs_f64() / steps as f64;
    let phases = match phases {
        false => None,
        true => {
            let mut sums = [0.0; 3];
            for _ in 0..steps {
                step(Some(&mut sums))?;
            }
            Some(sums.map(|p| p / steps as f64))
        }
    };
    Ok(StepTiming {
        seconds_per_step,
        images_per_second: batch as f64 / seconds_per_step,
        phases,
    })
}

/// One part of an EfficientNet branch, its forward and backward passes timed alone.
#[derive(Clone, Debug, PartialEq)]
pub struct PartTiming {
    /// The branch (`VIS` or `NIR`).
    pub branch: &'static str,
    /// The part (`stem`, `block i`, `top`).
    pub part: String,
    /// Its input, [batch, channels, height, width].
    pub input: [usize; 4],
    /// Mean wall time of its forward and backward passes, s.
    pub seconds: f64,
}

/// Times the parts of the EfficientNet `variant` branches of a step at batch `batch` on VIS
/// and NIR stamps of sides `sizes` (`branches` says which; VIS with its one channel, NIR with
/// three): each part's forward pass on a random input of the shape it receives, the sum of its
/// output and the backward pass to its parameters and input, `steps` times after a warm-up,
/// the device synchronised before each reading of the clock. What a whole step takes beyond
/// the parts' sum is the loss, the dense head, the optimiser and the graph between them.
pub fn efficientnet_parts<B: TrainAutodiff>(
    variant: Variant,
    branches: Branches,
    batch: usize,
    steps: usize,
    sizes: (usize, usize),
    device: &B::Device,
) -> Result<Vec<PartTiming>, String> {
    use crate::model::efficientnet::EfficientNet;
    B::seed(device, 1);
    let sync = || B::sync(device).map_err(|e| format!("the device failed while training: {e:?}"));
    let mut out = Vec::new();
    for (branch, channels, side, used) in [
        ("VIS", 1, sizes.0, branches != Branches::Nir),
        ("NIR", 3, sizes.1, branches != Branches::Vis),
    ] {
        if !used {
            continue;
        }
        let net = EfficientNet::<B>::new(variant, channels, 0.2, device);
        let mut x =
            Tensor::<B, 4>::random([batch, channels, side, side], Distribution::Default, device);
        for i in 0..net.parts() {
            let input = x.clone().detach().require_grad();
            let pass = || {
                let y = net.forward_part(i, input.clone(), true);
                let _ = y.clone().sum().backward();
                y
            };
            let y = pass();
            sync()?;
            let start = Instant::now();
            for _ in 0..steps {
                pass();
            }
            sync()?;
            out.push(PartTiming {
                branch,
                part: net.part_name(i),
                input: x.dims(),
                seconds: start.elapsed().as_secs_f64() / steps as f64,
            });
            x = y.detach();
        }
    }
    Ok(out)
}

/// `parts` as a table: each part's input, milliseconds and share of a step of `step_seconds`,
/// then their sum and what the step takes beyond it.
pub fn parts_table(parts: &[PartTiming], step_seconds: f64) -> String {
    let mut t = format!(
        "{:<6} {:<10} {:>22} {:>11} {:>8}\n",
        "branch", "part", "input", "ms fwd+bwd", "of step"
    );
    for p in parts {
        let [n, c, h, w] = p.input;
        t += &format!(
            "{:<6} {:<10} {:>22} {:>11.3} {:>7.1}%\n",
            p.branch,
            p.part,
            format!("{n}×{c}×{h}×{w}"),
            1e3 * p.seconds,
            100.0 * p.seconds / step_seconds
        );
    }
    let sum: f64 = parts.iter().map(|p| p.seconds).sum();
    t += &format!(
        "parts together {:.3} ms ({:.1}% of the step); the rest (head, loss, optimiser, graph) \
         {:.3} ms\n",
        1e3 * sum,
        100.0 * sum / step_seconds,
        1e3 * (step_seconds - sum)
    );
    t
}
