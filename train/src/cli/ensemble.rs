//! `train ensemble`: several lens finders' scores combined six ways.

use super::{print_report, TableArgs};
use std::path::PathBuf;

/// `train ensemble`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub tables: TableArgs,
    /// Fraction of the labelled objects (of each class) held out for judging.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the split, the cross-validation folds, the forests and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples of the test part.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub bootstraps: usize,
    /// Completeness at which precision is reported and the threshold carried to the
    /// unlabelled objects.
    #[arg(long, default_value_t = 0.9)]
    pub completeness: f64,
    /// Output folder.
    #[arg(long, default_value = "ensemble")]
    pub out: PathBuf,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train ensemble`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        tables,
        test_fraction,
        seed,
        bootstraps,
        completeness,
        out,
        json,
    } = args;
    if tables.truth.is_none() {
        anyhow::bail!("--truth is needed: the ensembles are fitted to labels");
    }
    let joined = tables.join()?;
    let settings = train::combine::ensemble::EnsembleSettings {
        test_fraction,
        seed,
        bootstraps,
        completeness,
    };
    let r = train::combine::ensemble::run_to_folder(&joined, &settings, &out)?;
    let then = format!("report, bar chart and scores in {}", out.display());
    print_report(json, &r, train::combine::ensemble::table, &then)
}
