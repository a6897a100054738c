//! `train compare`: how far several lens finders agree on the same objects.

use super::{print_report, TableArgs};
use std::path::PathBuf;

/// `train compare`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub tables: TableArgs,
    #[command(flatten)]
    pub settings: train::combine::compare::CompareSettings,
    /// Output folder.
    #[arg(long, default_value = "compare")]
    pub out: PathBuf,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train compare`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        tables,
        settings,
        out,
        json,
    } = args;
    let joined = tables.join()?;
    let r = train::combine::compare::compare_to_folder(&joined, &settings, &out)?;
    let then = format!("report and rank histograms in {}", out.display());
    print_report(json, &r, train::combine::compare::table, &then)
}
