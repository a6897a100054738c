//! The `sim` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sim::observe::Survey;
use sim::render::{render_spec, RenderOptions};
use sim::spec::SystemSpec;

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
        /// The system spec, TOML or JSON (DESIGN.md, "A system spec"); the embedded example when absent.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// A survey preset (euclid) or a survey TOML file.
        #[arg(long, default_value = "euclid")]
        survey: String,
        /// Output HDF5 file (the dataset layout with one system).
        #[arg(long, default_value = "datasets/render.h5")]
        out: PathBuf,
        /// Also write a contact sheet (first band grey, next three as colour) to this PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Sub-pixels per pixel side.
        #[arg(long, default_value_t = 2)]
        supersample: usize,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: each cause that the message before it does not already say.
            let mut msg = String::new();
            for cause in e.chain().map(|c| c.to_string()) {
                if !msg.contains(&cause) {
                    if !msg.is_empty() {
                        msg.push_str(": ");
                    }
                    msg.push_str(&cause);
                }
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
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
            let (spec, label) = match &spec {
                Some(p) => (SystemSpec::from_file(p)?, p.clone()),
                None => (
                    SystemSpec::example(),
                    PathBuf::from("(embedded example spec)"),
                ),
            };
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let r = render_spec(&spec, &label, &survey, &opts, &out, png.as_deref())?;
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
