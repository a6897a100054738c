//! `sim info`: what a dataset holds.

use sim::dataset::info;
use std::path::PathBuf;

/// `sim info`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset.
    pub file: PathBuf,
    /// Also print the full configuration it was made with.
    #[arg(long)]
    pub config: bool,
}

/// Runs `sim info`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { file, config } = args;
    println!("{}", file.display());
    println!("{}", info::describe(&file)?);
    if config {
        let f = sim::dataset::read::DatasetFile::open(&file)?;
        println!("configuration:\n{}", f.attrs.config);
    }
    Ok(())
}
