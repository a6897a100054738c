//! `train bench`: training steps per second of the lens finders on this machine.

use super::{announce_device, parse_enum};
use train::device::{run_on, Choice, OnBackend};
use train::ops::TrainAutodiff;

/// `train bench`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// EfficientNet size b0, b1 or b2, or `jacobs` or `vit` (ViT-B/16) on the NIR-sized
    /// three-band image.
    #[arg(long, default_value = "b2")]
    pub variant: String,
    /// both, vis or nir.
    #[arg(long, default_value = "both")]
    pub branches: String,
    /// Systems per step.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Timed steps (after one warm-up step).
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub steps: usize,
    /// VIS stamp side, pixels (NIR: about a third, as Euclid's 200 and 66).
    #[arg(long, default_value_t = 200)]
    pub vis_size: usize,
    /// NIR stamp side, pixels.
    #[arg(long, default_value_t = 66)]
    pub nir_size: usize,
    /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Then time each part of the EfficientNet branches alone (the stem, every MBConv block,
    /// the top: forward and backward), as shares of the step.
    #[arg(long)]
    pub by_part: bool,
}

/// Runs `train bench`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        variant,
        branches,
        batch,
        steps,
        vis_size,
        nir_size,
        device,
        by_part,
    } = args;
    let choice = announce_device(&device)?;
    use train::config::{MAX_BATCH, MAX_STAMP_SIDE};
    let sides = 32..=MAX_STAMP_SIDE;
    if !(1..=MAX_BATCH).contains(&batch)
        || steps == 0
        || !sides.contains(&vis_size)
        || !sides.contains(&nir_size)
    {
        anyhow::bail!(
            "--batch must be in [1, {MAX_BATCH}], --steps ≥ 1, --vis-size and --nir-size \
             in [32, {MAX_STAMP_SIDE}] pixels"
        );
    }
    let variant: train::bench::BenchNet =
        variant.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let branches: train::model::two_branch::Branches = parse_enum("branches", &branches)?;
    let sizes = (vis_size, nir_size);
    use train::model::two_branch::Branches;
    let by_part = match (by_part, variant) {
        (false, _) => None,
        (true, train::bench::BenchNet::EfficientNet(v)) => Some(v),
        (true, net) => anyhow::bail!("--by-part times EfficientNet branches, not {net:?}"),
    };
    struct Job(
        train::bench::BenchNet,
        Branches,
        usize,
        usize,
        (usize, usize),
        Option<train::model::efficientnet::Variant>,
    );
    type Timings = (train::bench::StepTiming, Vec<train::bench::PartTiming>);
    impl OnBackend for Job {
        type Output = Result<Timings, String>;
        fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
            use train::bench::{efficientnet_parts, training_steps};
            let Job(net, branches, batch, steps, sizes, by_part) = self;
            let phases = by_part.is_some();
            let step = training_steps::<B>(net, branches, batch, steps, sizes, phases, device)?;
            let parts = match by_part {
                Some(v) => efficientnet_parts::<B>(v, branches, batch, steps, sizes, device)?,
                None => Vec::new(),
            };
            Ok((step, parts))
        }
    }
    let on = match choice {
        Choice::Cpu => "the CPU (Burn Flex)",
        Choice::Cuda => "CUDA GPU 0 (Burn CUDA)",
    };
    let job = Job(variant, branches, batch, steps, sizes, by_part);
    let (r, parts) = run_on(choice, job).map_err(|e| anyhow::anyhow!(e))?;
    let what = match variant {
        train::bench::BenchNet::EfficientNet(v) => {
            format!("{v:?} {branches:?}, VIS {vis_size}² + NIR 3×{nir_size}²")
        }
        net => format!("{net:?} on 3×{nir_size}²"),
    };
    println!(
        "{what} on {on}{}, batch {batch}: {:.3} s per step, {:.2} images/s (mean of {steps} steps after a warm-up)",
        match choice {
            Choice::Cuda => format!(", {:?} products", train::device::Precision::current()),
            Choice::Cpu => String::new(),
        },
        r.seconds_per_step,
        r.images_per_second
    );
    if let Some([forward, backward, optimiser]) = r.phases {
        println!(
            "phase by phase (the device waited for between them): forward and loss {:.3} ms, \
             backward {:.3} ms, optimiser {:.3} ms",
            1e3 * forward,
            1e3 * backward,
            1e3 * optimiser
        );
    }
    if !parts.is_empty() {
        print!("{}", train::bench::parts_table(&parts, r.seconds_per_step));
    }
    Ok(())
}
