//! The `sim` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sim::observe::Survey;
use sim::render::{render_spec_file, RenderOptions};

/// lensforge's simulator of strong gravitational lenses as surveys see them.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render one system spec as ideal images (no PSF, no noise) in every band of a survey.
    Render {
        /// The system spec, TOML or JSON (see DESIGN.md, "A system spec").
        #[arg(long)]
        spec: PathBuf,
        /// A survey preset (euclid) or a survey TOML file.
        #[arg(long, default_value = "euclid")]
        survey: String,
        /// Output HDF5 file (the dataset layout with one system).
        #[arg(long)]
        out: PathBuf,
        /// Also write a contact sheet (first band grey, next three as colour) to this PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Sub-pixels per pixel side.
        #[arg(long, default_value_t = 2)]
        supersample: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Render {
            spec,
            survey,
            out,
            png,
            supersample,
        } => {
            let start = Instant::now();
            let (survey, _) = Survey::load(&survey)?;
            let opts = RenderOptions {
                supersample,
                ..RenderOptions::default()
            };
            let r = render_spec_file(&spec, &survey, &opts, &out, png.as_deref())
                .with_context(|| format!("sim render --spec {}", spec.display()))?;
            let te = r.curves.as_ref().map_or(0.0, |c| c.einstein_radius);
            let mags: Vec<String> = r
                .images
                .iter()
                .zip(&r.mag_eff)
                .map(|(im, m)| format!("{} {m:.2}", im.band))
                .collect();
            println!(
                "rendered 1 system into {}: θ_E {te:.3}\", μ_eff {}, {:.3} s",
                out.display(),
                mags.join(", "),
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
