//! `train score`: a submission to a blind challenge-style set, scored.

use super::print_report;
use std::path::PathBuf;

/// `train score`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The set's truth catalogue (the blind run's `--truth` file).
    #[arg(long)]
    pub truth: PathBuf,
    /// The submission: CSV of two columns, ID and score in [0, 1], one row per object.
    #[arg(long)]
    pub submission: PathBuf,
    /// Bins per quantity (quantiles of the lenses).
    #[arg(long, default_value_t = 5, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
    pub bins: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train score`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        truth,
        submission,
        bins,
        json,
    } = args;
    if bins == 0 {
        anyhow::bail!("--bins 0: at least one bin is needed");
    }
    let t = train::evaluate::challenge::read_truth(&truth)?;
    let scores = train::evaluate::challenge::read_submission(&submission, &t)?;
    let r = train::evaluate::challenge::score(&t, &scores, bins)?;
    print_report(json, &r, train::evaluate::challenge::table, "")
}
