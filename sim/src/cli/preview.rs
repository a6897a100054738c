//! `sim preview`: a mosaic PNG of a dataset's lenses and non-lenses, framed by their labels.

use super::NewFolders;
use sim::dataset::info;
use std::path::PathBuf;

/// `sim preview`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset.
    pub file: PathBuf,
    /// The PNG to write.
    #[arg(long, default_value = "datasets/preview.png")]
    pub out: PathBuf,
    /// The band to draw [default: the detection band].
    #[arg(long)]
    pub band: Option<String>,
    /// Lenses, and non-lenses, to draw (at least 1).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub per_class: u32,
    /// Show only the central N×N pixels of each stamp (0: the whole stamp).
    #[arg(long, default_value_t = 0)]
    pub crop: usize,
}

/// Runs `sim preview`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        file,
        out,
        band,
        per_class,
        crop,
    } = args;
    let folders = NewFolders::above(&out)?;
    let drawn = info::preview(&file, &out, band.as_deref(), per_class as usize, crop)?;
    folders.keep();
    println!(
        "drew {} systems of {} into {} (lenses framed green, non-lenses red): indices {:?}",
        drawn.len(),
        file.display(),
        out.display(),
        drawn
    );
    Ok(())
}
