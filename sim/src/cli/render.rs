//! `sim render`: one system spec rendered in every band of a survey, with its labels.

use super::{batch_renderer, NewFolders, Observation};
use sim::caustics::{all_critical_curves, AllCurves, CausticGrid};
use sim::observe::Survey;
use sim::render::{render_spec, ContactSheet, RenderOptions};
use sim::spec::SystemSpec;
use std::path::{Path, PathBuf};
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
    /// Also write every critical curve of the lens, tangential and radial, with its caustic
    /// (arcsec from the stamp's centre, traced over the widest stamp every 0.02", or every
    /// 1/2048 of its side if wider) to this JSON file; with --png they are drawn on the first
    /// band's panel.
    #[arg(long)]
    pub curves: Option<PathBuf>,
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

/// What `--curves` writes: the lens's critical curves and caustics and how they were traced.
#[derive(serde::Serialize)]
struct TracedCurves {
    /// The unit of every coordinate.
    units: &'static str,
    /// Half the side of the traced square, centred on the stamp's centre, arcsec.
    half_width: f64,
    /// The grid step the curves were traced at, arcsec.
    step: f64,
    #[serde(flatten)]
    curves: AllCurves,
}

/// Most grid nodes a side `--curves` samples: 2048² Hessians (32 MB of eigenvalues); a stamp
/// wider than this many caustic steps is traced at a coarser step, which the file records.
const MAX_NODES_A_SIDE: f64 = 2048.0;

/// Every critical curve of `spec`'s lens over `survey`'s widest stamp, at `opts`' caustic step
/// (or coarser: [`MAX_NODES_A_SIDE`]).
fn trace_curves(
    spec: &SystemSpec,
    label: &Path,
    survey: &Survey,
    opts: &RenderOptions,
) -> anyhow::Result<TracedCurves> {
    opts.validate()?;
    let system = spec.build(survey, label)?;
    let half_width = survey.max_half_width();
    let grid = CausticGrid {
        half_width,
        step: opts.caustic_step.max(2.0 * half_width / MAX_NODES_A_SIDE),
    };
    Ok(TracedCurves {
        units: "arcsec",
        half_width: grid.half_width,
        step: grid.step,
        curves: all_critical_curves(&system.lens, grid),
    })
}

/// Runs `sim render`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        spec,
        survey,
        out,
        png,
        curves,
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
    if let Some(p) = &curves {
        sim::dataset::refuse_folder(p, "--curves")?;
    }
    let folders = NewFolders::above(&out)?;
    let png_folders = png.as_deref().map(NewFolders::above).transpose()?;
    let curves_folders = curves.as_deref().map(NewFolders::above).transpose()?;
    let (renderer, line) = batch_renderer(&device)?;
    println!("{line}");
    let traced = curves
        .as_ref()
        .map(|_| trace_curves(&spec, &label, &survey, &opts))
        .transpose()?;
    let sheet = png.as_deref().map(|path| ContactSheet {
        path,
        curves: traced.as_ref().map(|t| &t.curves),
    });
    let r = render_spec(
        &spec,
        &label,
        &survey,
        &opts,
        &out,
        sheet,
        renderer.as_deref(),
    )?;
    if let (Some(path), Some(traced)) = (&curves, &traced) {
        let mut json = serde_json::to_vec_pretty(traced)?;
        json.push(b'\n');
        if let Err(e) = format::atomic::write_bytes(path, &json) {
            // The dataset and sheet are whole, but the command did not do all it was asked.
            let _ = std::fs::remove_file(&out);
            if let Some(p) = &png {
                let _ = std::fs::remove_file(p);
            }
            anyhow::bail!("{}: {e}", path.display());
        }
        println!(
            "{} tangential and {} radial critical curve(s), with their caustics, in {}",
            traced.curves.tangential.len(),
            traced.curves.radial.len(),
            path.display()
        );
    }
    folders.keep();
    if let Some(f) = png_folders {
        f.keep();
    }
    if let Some(f) = curves_folders {
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
