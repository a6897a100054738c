//! `train compare`: how far several lens finders agree on the same objects.

use super::{print_report, TableArgs};
use std::path::PathBuf;

/// `train compare`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub tables: TableArgs,
    /// Size of the top-k and bottom-k sets.
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000_000))]
    pub k: usize,
    /// Normalised rank at or above which an object counts as found.
    #[arg(long, default_value_t = 0.8)]
    pub rank_threshold: f64,
    /// Bins per axis of the rank histograms.
    #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub bins: usize,
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
        k,
        rank_threshold,
        bins,
        out,
        json,
    } = args;
    let joined = tables.join()?;
    let settings = train::combine::compare::CompareSettings {
        k,
        rank_threshold,
        bins,
    };
    let r = train::combine::compare::compare_to_folder(&joined, &settings, &out)?;
    let then = format!("report and rank histograms in {}", out.display());
    print_report(json, &r, train::combine::compare::table, &then)
}
