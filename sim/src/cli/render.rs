//! `sim render`: one system spec rendered in every band of a survey, with its labels.

use super::{batch_renderer, NewFolders, Observation};
use sim::observe::Survey;
use sim::render::{render_spec, RenderOptions};
use sim::spec::SystemSpec;
use std::path::PathBuf;
use std::time::Instant;

/// `sim render`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The system spec, TOML or JSON (DESIGN.md, "A system spec"); the embedded example when absent.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
    /// Output HDF5 file (the dataset layout with one system).
    #[arg(long, default_value = "datasets/render.h5")]
    pub out: PathBuf,
    /// Also write a contact sheet (first band grey, next three as colour) to this PNG.
    #[arg(long)]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub observation: Observation,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub seed: u64,
    /// What ray-traces: `auto` (the GPU when the binary has CUDA and a GPU answers, else
    /// the CPU), `cpu`, or `cuda` (the CUDA kernels); PSF, noise and labels are the CPU's.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

/// Runs `sim render`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        spec,
        survey,
        out,
        png,
        observation,
        seed,
        device,
    } = args;
    let start = Instant::now();
    let survey = Survey::load(&survey)?;
    let opts = RenderOptions {
        supersample: observation.supersample,
        psf: observation.psf(),
        noise: observation.noise(),
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
    let folders = NewFolders::above(&out)?;
    let png_folders = png.as_deref().map(NewFolders::above).transpose()?;
    let (renderer, line) = batch_renderer(&device)?;
    println!("{line}");
    let r = render_spec(
        &spec,
        &label,
        &survey,
        &opts,
        &out,
        png.as_deref(),
        renderer.as_deref(),
    )?;
    folders.keep();
    if let Some(f) = png_folders {
        f.keep();
    }
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
    Ok(())
}
