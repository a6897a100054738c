//! The `sim` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sim::observe::{depth, Observer, Survey};
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
    /// Render one system spec in every band of a survey: PSF, noise and detectability labels.
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
        /// Do not convolve with the PSF.
        #[arg(long)]
        no_psf: bool,
        /// Do not add noise.
        #[arg(long)]
        no_noise: bool,
        /// Seed of the noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Print a survey's bands: background noise, sky and background-limited depths.
    Survey {
        /// A survey preset (euclid) or a survey TOML file.
        #[arg(long, default_value = "euclid")]
        survey: String,
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
            no_psf,
            no_noise,
            seed,
        } => {
            let start = Instant::now();
            let survey = Survey::load(&survey)?;
            let opts = RenderOptions {
                supersample,
                psf: !no_psf,
                noise: !no_noise,
                seed,
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
            let l = &r.labels;
            let per_band: Vec<String> = survey
                .bands
                .iter()
                .enumerate()
                .map(|(b, band)| {
                    format!(
                        "{} μ_eff {:.2} n_pix {}",
                        band.name, l.mag_eff[b], l.n_pix_source[b]
                    )
                })
                .collect();
            println!(
                "rendered 1 system into {} in {:.3} s: θ_E {te:.3}\", {} image(s) of the source centre, {} group(s) in {}; {}; label: {}",
                out.display(),
                start.elapsed().as_secs_f64(),
                r.n_images,
                l.n_source_groups[l.detection_band],
                survey.bands[l.detection_band].name,
                per_band.join(", "),
                if l.is_lens { "lens" } else { "not a lens" }
            );
        }
        Command::Survey { survey } => {
            let survey = Survey::load(&survey)?;
            let observer = Observer::new(&survey)?;
            println!(
                "survey {}: background-limited depths (AB) of its stacked images",
                survey.name
            );
            println!("band  px\"    T[s]     sky[e/s/px]  σ[e/s/px]   5σ point (PSF-weighted)  10σ in 1.3\" aperture");
            for (b, band) in survey.bands.iter().enumerate() {
                let d = depth(band, observer.kernel(b));
                println!(
                    "{:<5} {:<5} {:>7.1}  {:>11.4}  {:>10.5}  {:>23.2}  {:>20.2}",
                    band.name,
                    band.pixel_scale,
                    band.exposure_time * band.n_exposures as f64,
                    band.sky_per_pixel(),
                    d.sigma,
                    d.point_5sigma,
                    d.aperture_10sigma
                );
            }
        }
    }
    Ok(())
}
