//! `sim inject`: the population's lensed sources painted into a survey's own galaxy cutouts.

use super::{progress_of, report_run, NewFolders, Observation, Streaming};
use format::checked::BadCutouts;
use format::progress::Progress;
use sim::caustics::CausticGrid;
use sim::generate::OutputFormat;
use sim::inject::{inject, open_cutouts, survey_on_cutouts, InjectRequest};
use sim::observe::Survey;
use sim::population::PopulationConfig;
use sim::render::RenderOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// `sim inject`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The cutouts to paint into: a CSV list (`id`, a path per band or a multi-extension
    /// `file`, optional `ra`, `dec`) or a folder (`<id>_<band>.fits` or `<id>.fits`
    /// multi-extension), each centred on the galaxy that is to be the lens.
    #[arg(long)]
    pub cutouts: PathBuf,
    /// The survey the cutouts come from (its PSFs, zero points, exposure times and label
    /// criteria; its bands' grids become the cutouts'): a preset or a survey TOML file.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
    /// The population of lenses and sources: a preset (sglc2, des-search) or a TOML file.
    #[arg(long, default_value = "sglc2")]
    pub population: String,
    /// Seed of the population and the noise: system k depends only on (seed, k).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output HDF5 file.
    #[arg(long)]
    pub out: PathBuf,
    /// Systems made from each cutout, each with its own lens and source.
    #[arg(long, default_value_t = 1)]
    pub per_cutout: u64,
    /// A band's zero point, BAND=ZP (the AB magnitude of one pixel unit), for stamps whose
    /// headers have no MAGZERO (or to override it); repeat for each band.
    #[arg(long = "zero-point", value_parser = parse_zero_point)]
    pub zero_points: Vec<(String, f64)>,
    /// Give the systems the population draws without a source that source unlensed (added
    /// through no mass): non-lenses that are the galaxy blended with a background galaxy,
    /// rather than the untouched cutout.
    #[arg(long)]
    pub unlensed: bool,
    /// What to do with a cutout that cannot be used: `refuse` the run naming it, or `skip` it.
    #[arg(long, value_enum, default_value_t = BadCutouts::Refuse)]
    pub bad_cutouts: BadCutouts,
    #[command(flatten)]
    pub observation: Observation,
    #[command(flatten)]
    pub streaming: Streaming,
}

/// `BAND=ZP`, the error naming what is wrong.
fn parse_zero_point(text: &str) -> Result<(String, f64), String> {
    let (band, zp) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not BAND=ZP (e.g. VIS=24.4)"))?;
    let zp: f64 = zp
        .trim()
        .parse()
        .map_err(|_| format!("`{zp}` in `{text}` is not a number"))?;
    Ok((band.trim().to_string(), zp))
}

/// Runs `sim inject`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let survey = Survey::load(&args.survey)?;
    let population = PopulationConfig::load(&args.population)?;
    let mut zero_points = BTreeMap::new();
    for (band, zp) in &args.zero_points {
        if zero_points.insert(band.clone(), *zp).is_some() {
            anyhow::bail!("--zero-point: band {band} is given twice");
        }
    }
    let stamps = open_cutouts(&args.cutouts, &survey, args.bad_cutouts)?;
    if let Some(report) = stamps.skipped_report() {
        eprintln!("{report}");
    }
    let (survey, assumed) = survey_on_cutouts(&survey, &stamps);
    if !assumed.is_empty() {
        eprintln!(
            "note: the stamps of {} record no pixel scale: the survey's is assumed",
            assumed.join(", ")
        );
    }
    let grids: Vec<String> = survey
        .bands
        .iter()
        .map(|b| format!("{} {}² at {}\"", b.name, b.size, b.pixel_scale))
        .collect();
    println!(
        "{} cutouts ({}), {} systems per cutout",
        stamps.len(),
        grids.join(", "),
        args.per_cutout
    );
    let folders = NewFolders::above(&args.out)?;
    let request = InjectRequest {
        survey,
        population,
        per_cutout: args.per_cutout,
        render: RenderOptions {
            supersample: args.observation.supersample,
            caustic_step: CausticGrid::DEFAULT_STEP,
            psf: args.observation.psf(),
            noise: args.observation.noise(),
            seed: args.seed,
        },
        zero_points,
        unlensed: args.unlensed,
    };
    let (a, b) = args
        .streaming
        .shard
        .range(stamps.len() as u64 * args.per_cutout.max(1));
    let progress = Progress::new(b - a, "systems");
    let opts = args.streaming.options(OutputFormat::Hdf5, None)?;
    let summary = inject(
        &request,
        &stamps,
        &args.cutouts,
        &args.out,
        &opts,
        &progress_of(&progress),
    );
    progress.finish();
    let s = summary?;
    report_run("injected", &s, start.elapsed().as_secs_f64());
    folders.keep();
    Ok(())
}
