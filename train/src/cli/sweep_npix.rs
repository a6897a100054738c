//! `train sweep-npix`: the detection limit by lensed-source pixels.

use super::print_report;
use std::path::PathBuf;

/// `train sweep-npix`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The finished `train run` folder.
    #[arg(long)]
    pub run: PathBuf,
    #[command(flatten)]
    pub settings: train::evaluate::sweep::SweepSettings,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train sweep-npix`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        run,
        settings,
        json,
    } = args;
    let r = train::evaluate::sweep::sweep_run(&run, &settings)?;
    let then = format!(
        "{} folds; report and figure in {}",
        r.folds,
        run.join("sweep-npix.{json,png}").display()
    );
    print_report(json, &r, train::evaluate::sweep::table, &then)
}
