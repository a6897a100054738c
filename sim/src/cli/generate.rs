//! `sim generate`: a population's systems into an HDF5 training set or a challenge-style folder.

use super::{batch_renderer, progress_of, report_run, NewFolders, Observation, Streaming};
use anyhow::bail;
use format::progress::Progress;
use sim::caustics::CausticGrid;
use sim::dataset::sglc::SglcOptions;
use sim::generate::{generate, OutputFormat, RunConfig, RunSettings};
use sim::observe::Survey;
use sim::population::PopulationConfig;
use std::path::PathBuf;
use std::time::Instant;

/// What `sim generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One HDF5 file (DESIGN.md).
    Hdf5,
    /// A challenge-style folder: FITS stamps per band and a CSV catalogue.
    Sglc,
}

/// `sim generate`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
    /// Systems in the whole run.
    #[arg(short = 'n', long = "n", default_value_t = 500)]
    pub n: u64,
    /// A population preset (sglc2, des-search) or a population TOML file.
    #[arg(long, default_value = "sglc2")]
    pub population: String,
    /// Seed of the population and the noise: system k depends only on (seed, k).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub seed: u64,
    /// Output HDF5 file [default: datasets/<survey>-<population>-n<N>-s<seed>[-<i>of<n>].h5].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub observation: Observation,
    #[command(flatten)]
    pub streaming: Streaming,
    /// What to write: `hdf5` (DESIGN.md) or `sglc`, a folder in the layout of a Strong
    /// Gravitational Lensing Challenge (FITS stamps and a CSV catalogue: II SGLC for VIS, Y,
    /// J, H surveys, I SGLC for u, g, r, i).
    #[arg(long, value_enum, default_value_t = Format::Hdf5)]
    pub format: Format,
    /// With --format sglc: ID of system 0 (system k is ID + k), as the challenges numbered.
    #[arg(long, default_value_t = 100000)]
    pub first_id: u64,
    /// With --format sglc: a blind test set, images only; the catalogue goes to --truth.
    #[arg(long)]
    pub blind: bool,
    /// Where a blind set's catalogue goes [default: <out>.truth.csv beside the folder].
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// What ray-traces: `auto` (the GPU when the binary has CUDA and a GPU answers, else
    /// the CPU), `cpu`, or `cuda` (the CUDA kernels, each block in one launch per band
    /// grid; use a large --block, e.g. 4096).
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// After the run, print where the time went, stage by stage (drawing, rendering with
    /// the device's calls, observing, cataloguing, compressing, writing).
    #[arg(long)]
    pub timings: bool,
}

/// Runs `sim generate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        survey,
        n,
        population,
        seed,
        out,
        observation,
        streaming,
        format,
        first_id,
        blind,
        truth,
        device,
        timings,
    } = args;
    let start = Instant::now();
    if format == Format::Hdf5 && (blind || truth.is_some()) {
        bail!("--blind and --truth need --format sglc");
    }
    let survey = Survey::load(&survey)?;
    let population = PopulationConfig::load(&population)?;
    let out = out.unwrap_or_else(|| {
        let shard = streaming.shard;
        let part = if shard.count > 1 {
            format!("-{}of{}", shard.index, shard.count)
        } else {
            String::new()
        };
        let ext = match format {
            Format::Hdf5 => ".h5",
            Format::Sglc if blind => "-blind",
            Format::Sglc => "",
        };
        PathBuf::from(format!(
            "datasets/{}-{}-n{n}-s{seed}{part}{ext}",
            survey.name, population.name
        ))
    });
    let folders = NewFolders::above(&out)?;
    let config = RunConfig {
        generate: RunSettings {
            n,
            seed,
            supersample: observation.supersample,
            caustic_step: CausticGrid::DEFAULT_STEP,
            psf: observation.psf(),
            noise: observation.noise(),
        },
        survey,
        population,
        inject: None,
    };
    let (renderer, line) = batch_renderer(&device)?;
    println!("{line}");
    let (a, b) = streaming.shard.range(n);
    let progress = Progress::new(b - a, "systems");
    let format = match format {
        Format::Hdf5 => OutputFormat::Hdf5,
        Format::Sglc => OutputFormat::Sglc(SglcOptions {
            first_id,
            blind,
            truth,
        }),
    };
    let mut opts = streaming.options(format, renderer)?;
    let stages = timings.then(|| std::sync::Arc::new(sim::generate::StageTimes::default()));
    opts.timing = stages.clone();
    let summary = generate(&config, &out, &opts, &progress_of(&progress));
    progress.finish();
    let s = summary?;
    report_run("generated", &s, start.elapsed().as_secs_f64());
    if let Some(stages) = stages {
        super::print_stages(&stages, s.generated);
    }
    folders.keep();
    Ok(())
}
