//! `train ensemble`: several lens finders' scores combined six ways.

use super::{print_report, TableArgs};
use std::path::PathBuf;

/// `train ensemble`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub tables: TableArgs,
    #[command(flatten)]
    pub settings: train::combine::ensemble::EnsembleSettings,
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
        settings,
        out,
        json,
    } = args;
    if tables.truth.is_none() {
        anyhow::bail!("--truth is needed: the ensembles are fitted to labels");
    }
    let joined = tables.join()?;
    let r = train::combine::ensemble::run_to_folder(&joined, &settings, &out)?;
    let then = format!("report, bar chart and scores in {}", out.display());
    print_report(json, &r, train::combine::ensemble::table, &then)
}
