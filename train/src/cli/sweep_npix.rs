//! `train sweep-npix`: the detection limit by lensed-source pixels.

use super::print_report;
use std::path::PathBuf;

/// `train sweep-npix`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The finished `train run` folder.
    #[arg(long)]
    pub run: PathBuf,
    /// First lower bound N.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
    pub first: u32,
    /// Last lower bound N.
    #[arg(long, default_value_t = 150, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
    pub last: u32,
    /// Bin width in pixels.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=1_000_000))]
    pub step: u32,
    /// Fewest lenses a bin needs for figures.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub min_lenses: usize,
    /// Seed of the draw of the non-lenses.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// β² of F_β.
    #[arg(long, default_value_t = 0.001)]
    pub beta2: f64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train sweep-npix`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        run,
        first,
        last,
        step,
        min_lenses,
        seed,
        beta2,
        json,
    } = args;
    let settings = train::evaluate::sweep::SweepSettings {
        first,
        last,
        step,
        min_lenses,
        seed,
        beta2,
    };
    let r = train::evaluate::sweep::sweep_run(&run, &settings)?;
    let then = format!(
        "{} folds; report and figure in {}",
        r.folds,
        run.join("sweep-npix.{json,png}").display()
    );
    print_report(json, &r, train::evaluate::sweep::table, &then)
}
