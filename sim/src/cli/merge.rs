//! `sim merge`: shards of one run joined into one file.

use super::NewFolders;
use sim::dataset::merge;
use std::path::PathBuf;
use std::time::Instant;

/// `sim merge`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The merged file.
    #[arg(long)]
    pub out: PathBuf,
    /// The shard files, in any order.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Runs `sim merge`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { out, inputs } = args;
    let start = Instant::now();
    let folders = NewFolders::above(&out)?;
    let n = merge::merge(&inputs, &out)?;
    folders.keep();
    println!(
        "merged {} shards, {n} systems, into {} in {:.1} s",
        inputs.len(),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
