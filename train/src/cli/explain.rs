//! `train explain`: what the network looks at (LIME on SLIC superpixels).

use super::announce_device;
use std::path::PathBuf;
use train::device::{run_on, OnBackend};
use train::ops::TrainAutodiff;

/// `train explain`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The finished `train run` folder.
    #[arg(long)]
    pub run: PathBuf,
    /// Whose model: the fold.
    #[arg(long, default_value_t = 0)]
    pub fold: usize,
    /// Dataset indices to explain, comma-separated [default: lenses and non-lenses of the
    /// test split, --per-class of each].
    #[arg(long, value_delimiter = ',')]
    pub systems: Vec<usize>,
    /// Lenses, and non-lenses, from the test split when --systems is not given.
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub per_class: usize,
    #[command(flatten)]
    pub lime: train::explain::LimeSettings,
    /// Output folder [default: <run>/explain].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

/// Runs `train explain`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        run,
        fold,
        systems,
        per_class,
        mut lime,
        out,
        device,
    } = args;
    let compactness = lime.slic.compactness;
    if !(compactness > 0.0 && compactness.is_finite()) {
        anyhow::bail!("--compactness {compactness}: must be a finite number > 0");
    }
    if !lime.slic.sigma.is_finite() {
        anyhow::bail!(
            "--sigma {}: must be a finite number of pixels",
            lime.slic.sigma
        );
    }
    lime.slic.sigma = lime.slic.sigma.max(0.0);
    let selection = if systems.is_empty() {
        train::explain::Selection::PerClass(per_class)
    } else {
        train::explain::Selection::Systems(systems)
    };
    let out = out.unwrap_or_else(|| run.join("explain"));
    let choice = announce_device(&device)?;
    struct Job<'a>(
        &'a std::path::Path,
        usize,
        &'a train::explain::Selection,
        &'a train::explain::LimeSettings,
        &'a std::path::Path,
    );
    impl OnBackend for Job<'_> {
        type Output = Result<Vec<train::explain::ExplainedSystem>, train::explain::ExplainError>;
        fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
            let Job(run, fold, selection, settings, out) = self;
            train::explain::explain_run::<B::InnerBackend>(
                run, fold, selection, settings, out, device,
            )
        }
    }
    let done = run_on(choice, Job(&run, fold, &selection, &lime, &out))?;
    for e in &done {
        println!(
            "system {:>6} ({}): score {:.3}; for a lens superpixels {:?}, for a non-lens {:?} → {}",
            e.index,
            if e.is_lens { "lens" } else { "non-lens" },
            e.explanation.score,
            e.explanation.lens_segments,
            e.explanation.non_lens_segments,
            out.join(&e.png).display()
        );
    }
    Ok(())
}
