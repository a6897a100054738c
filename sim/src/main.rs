//! The `sim` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use format::progress::Progress;
use sim::caustics::CausticGrid;
use sim::dataset::sglc::SglcOptions;
use sim::dataset::{info, merge};
use sim::generate::{generate, GenerateOptions, OutputFormat, RunConfig, RunSettings, Shard};
use sim::observe::{depth, Observer, Survey};
use sim::population::PopulationConfig;
use sim::render::{render_spec, RenderOptions};
use sim::spec::SystemSpec;

/// lensforge's simulator of strong gravitational lenses as surveys see them.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What `sim generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One HDF5 file (DESIGN.md).
    Hdf5,
    /// A challenge-style folder: FITS stamps per band and a CSV catalogue.
    Sglc,
}

#[derive(Subcommand)]
enum Command {
    /// Render one system spec in every band of a survey: PSF, noise and detectability labels.
    Render {
        /// The system spec, TOML or JSON (DESIGN.md, "A system spec"); the embedded example when absent.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
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
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        seed: u64,
        /// What ray-traces: `auto` (the GPU when the binary has CUDA and a GPU answers, else
        /// the CPU), `cpu`, or `cuda` (the CUDA kernels); PSF, noise and labels are the CPU's.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// Generate a labelled training set: a population's systems ray-traced, observed and
    /// labelled, written as an HDF5 dataset (DESIGN.md).
    Generate {
        /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
        #[arg(long, default_value = "euclid")]
        survey: String,
        /// Systems in the whole run.
        #[arg(short = 'n', long = "n", default_value_t = 500)]
        n: u64,
        /// A population preset (sglc2, des-search) or a population TOML file.
        #[arg(long, default_value = "sglc2")]
        population: String,
        /// Seed of the population and the noise: system k depends only on (seed, k).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        seed: u64,
        /// Output HDF5 file [default: datasets/<survey>-<population>-n<N>-s<seed>[-<i>of<n>].h5].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Generate only shard i of n (0-based), e.g. 0/4; join shards with `sim merge`.
        #[arg(long, default_value = "0/1", value_parser = Shard::parse)]
        shard: Shard,
        /// Worker threads [default: one per core].
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Sub-pixels per pixel side.
        #[arg(long, default_value_t = 2)]
        supersample: usize,
        /// Do not convolve with the PSF.
        #[arg(long)]
        no_psf: bool,
        /// Do not add noise.
        #[arg(long)]
        no_noise: bool,
        /// Continue an interrupted run with the same configuration from its last written block.
        #[arg(long)]
        resume: bool,
        /// Systems computed and written per block.
        #[arg(long, default_value_t = 64)]
        block: usize,
        /// What to write: `hdf5` (DESIGN.md) or `sglc`, a folder in the layout of a Strong
        /// Gravitational Lensing Challenge (FITS stamps and a CSV catalogue: II SGLC for VIS, Y,
        /// J, H surveys, I SGLC for u, g, r, i).
        #[arg(long, value_enum, default_value_t = Format::Hdf5)]
        format: Format,
        /// With --format sglc: ID of system 0 (system k is ID + k), as the challenges numbered.
        #[arg(long, default_value_t = 100000)]
        first_id: u64,
        /// With --format sglc: a blind test set, images only; the catalogue goes to --truth.
        #[arg(long)]
        blind: bool,
        /// Where a blind set's catalogue goes [default: <out>.truth.csv beside the folder].
        #[arg(long)]
        truth: Option<PathBuf>,
        /// What ray-traces: `auto` (the GPU when the binary has CUDA and a GPU answers, else
        /// the CPU), `cpu`, or `cuda` (the CUDA kernels, each block in one launch per band
        /// grid; use a large --block, e.g. 4096).
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// Join the shards of one run into one file, equal to what the whole run writes.
    Merge {
        /// The merged file.
        #[arg(long)]
        out: PathBuf,
        /// The shard files, in any order.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Print what a dataset holds: counts, lens fraction, bands, configuration.
    Info {
        /// The dataset.
        file: PathBuf,
        /// Also print the full configuration it was made with.
        #[arg(long)]
        config: bool,
    },
    /// Draw lenses and non-lenses of a dataset as a mosaic PNG, framed by their labels.
    Preview {
        /// The dataset.
        file: PathBuf,
        /// The PNG to write.
        #[arg(long, default_value = "datasets/preview.png")]
        out: PathBuf,
        /// The band to draw [default: the detection band].
        #[arg(long)]
        band: Option<String>,
        /// Lenses, and non-lenses, to draw (at least 1).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
        per_class: u32,
        /// Show only the central N×N pixels of each stamp (0: the whole stamp).
        #[arg(long, default_value_t = 0)]
        crop: usize,
    },
    /// Time the deflection alone (the ray shooter's hot loop): rays per second on the CPU and,
    /// in a binary built with `--features cuda` where a GPU answers, on the GPU.
    BenchDeflect {
        /// A survey preset or file: its first band's stamp is the grid.
        #[arg(long, default_value = "euclid")]
        survey: String,
        /// A population preset or file: its first systems' lenses are timed.
        #[arg(long, default_value = "sglc2")]
        population: String,
        /// Systems per pass (one GPU launch).
        #[arg(long, default_value_t = 256)]
        systems: usize,
        /// Sub-pixels per pixel side.
        #[arg(long, default_value_t = 2)]
        supersample: usize,
        /// Timed passes (the best is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// `auto` (both where a GPU answers, else the CPU), `cpu` or `cuda`.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// The host's ceiling for `sim generate` on a GPU: a run whose ray shooting costs nothing
    /// (every system gets one prepared set of ideal images and image count), with the time of
    /// each stage: sampling, rendering, observing, cataloguing, stacking, compressing, writing.
    BenchHost {
        /// A survey preset or file.
        #[arg(long, default_value = "euclid")]
        survey: String,
        /// A population preset or file.
        #[arg(long, default_value = "sglc2")]
        population: String,
        /// Systems.
        #[arg(short = 'n', default_value_t = 2000, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=10_000_000))]
        n: u64,
        /// Systems per block.
        #[arg(long, default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        block: usize,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// The scratch file (removed afterwards).
        #[arg(long, default_value = "bench-host.h5")]
        out: PathBuf,
    },
    /// Print a survey's bands: background noise, sky and background-limited depths.
    Survey {
        /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
        #[arg(long, default_value = "euclid")]
        survey: String,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if matches!(e.downcast_ref(), Some(sim::Error::Interrupted { .. })) => {
            eprintln!("{e}");
            ExitCode::from(format::progress::EXIT_INTERRUPTED)
        }
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

/// The renderer `--device` asks for (None: system by system on the CPU threads) and the line
/// that says which ray-traces.
#[allow(clippy::type_complexity)]
fn batch_renderer(
    device: &str,
) -> anyhow::Result<(
    Option<std::sync::Arc<dyn sim::raytrace::BatchRenderer>>,
    String,
)> {
    let cpu = |why: &str| (None, format!("device: CPU ({why})"));
    match device {
        "cpu" => Ok(cpu("asked for")),
        "auto" | "cuda" => {
            #[cfg(feature = "cuda")]
            {
                use sim::raytrace::cuda::{cuda_unavailable, GpuDeflector};
                let gpu = match cuda_unavailable() {
                    Some(why) => Err(why),
                    None => GpuDeflector::new().map_err(|e| e.to_string()),
                };
                match (gpu, device) {
                    (Ok(g), _) => {
                        use sim::raytrace::BatchRenderer;
                        let line = format!(
                            "device: {}, one launch per block and band grid",
                            g.describe()
                        );
                        Ok((Some(std::sync::Arc::new(g) as _), line))
                    }
                    (Err(why), "auto") => Ok(cpu(&format!("no GPU: {why}"))),
                    (Err(why), _) => anyhow::bail!("--device cuda: {why}"),
                }
            }
            #[cfg(not(feature = "cuda"))]
            {
                let why = "this binary was built without the `cuda` feature (cargo build --release -p sim -p train --features cuda)";
                match device {
                    "auto" => Ok(cpu(&format!("no GPU: {why}"))),
                    _ => anyhow::bail!("--device cuda: {why}"),
                }
            }
        }
        other => anyhow::bail!("--device {other}: the devices are auto, cpu and cuda"),
    }
}

/// `sim bench-deflect`: rays per second of the deflection on the CPU and the GPU.
fn bench_deflect(
    survey: &str,
    population: &str,
    systems: usize,
    supersample: usize,
    repeats: usize,
    device: &str,
) -> anyhow::Result<()> {
    if !["auto", "cpu", "cuda"].contains(&device) {
        anyhow::bail!("--device {device}: the devices are auto, cpu and cuda");
    }
    if !(1..=100_000).contains(&systems)
        || !(1..=sim::render::MAX_SUPERSAMPLE).contains(&supersample)
        || !(1..=1000).contains(&repeats)
    {
        anyhow::bail!(
            "--systems must be in [1, 100000], --supersample in [1, {}], --repeats in [1, 1000]",
            sim::render::MAX_SUPERSAMPLE
        );
    }
    let survey = Survey::load(survey)?;
    let population =
        sim::population::Population::new(PopulationConfig::load(population)?, &survey)?;
    let band = &survey.bands[0];
    let grid = sim::raytrace::Grid {
        size: band.size,
        pixel_scale: band.pixel_scale,
        supersample,
    };
    let lenses = sim::bench::sample_lenses(&population, &survey, systems, 0)?;
    let rays = (systems * grid.rays()) as f64;
    let what = format!(
        "{systems} lenses of {} on {}'s {} grid ({}×{} px of {}\", {supersample}² sub-pixels)",
        population.config.name, survey.name, band.name, grid.size, grid.size, band.pixel_scale
    );
    if device != "cuda" {
        let (t, _) = sim::bench::cpu_pass(&lenses, &grid, repeats);
        println!(
            "CPU ({} threads): {:.3e} rays/s — {what}, best of {repeats}",
            rayon::current_num_threads(),
            rays / t
        );
    }
    if device != "cpu" {
        gpu_bench(&lenses, &grid, repeats, rays, &what, device == "cuda")?;
    }
    Ok(())
}

#[cfg(feature = "cuda")]
fn gpu_bench(
    lenses: &[sim::mass::Lens],
    grid: &sim::raytrace::Grid,
    repeats: usize,
    rays: f64,
    what: &str,
    required: bool,
) -> anyhow::Result<()> {
    use sim::raytrace::cuda::{cuda_unavailable, GpuDeflector};
    if let Some(why) = cuda_unavailable() {
        if required {
            anyhow::bail!("--device cuda: {why}");
        }
        println!("GPU: none ({why})");
        return Ok(());
    }
    let gpu = GpuDeflector::new()?;
    let batch = sim::raytrace::gpu::MassBatch::new(lenses);
    let t = gpu.time_grid(&batch, grid, repeats)?;
    println!(
        "GPU 0: {:.3e} rays/s — {what}, the kernel alone, best of {repeats}",
        rays / t
    );
    Ok(())
}

#[cfg(not(feature = "cuda"))]
fn gpu_bench(
    _: &[sim::mass::Lens],
    _: &sim::raytrace::Grid,
    _: usize,
    _: f64,
    _: &str,
    required: bool,
) -> anyhow::Result<()> {
    let why =
        "this binary was built without the `cuda` feature (cargo build --release -p sim -p train --features cuda)";
    if required {
        anyhow::bail!("--device cuda: {why}");
    }
    println!("GPU: none ({why})");
    Ok(())
}

/// Creates the parent directory of `path` if it has one.
/// The folders a command created above its output: removed again (if still empty) when the
/// command fails, so that a refused run leaves no empty `datasets/` behind.
struct NewFolders(Vec<PathBuf>);

impl NewFolders {
    /// Creates the missing folders above `path`.
    fn above(path: &std::path::Path) -> anyhow::Result<Self> {
        let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            return Ok(Self(Vec::new()));
        };
        // Deepest first, so that Drop removes children before parents.
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(PathBuf::from)
            .collect();
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(missing))
    }

    /// The command succeeded: keep them.
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for NewFolders {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate {
            survey,
            n,
            population,
            seed,
            out,
            shard,
            threads,
            supersample,
            no_psf,
            no_noise,
            resume,
            block,
            format,
            first_id,
            blind,
            truth,
            device,
        } => {
            let start = Instant::now();
            if format == Format::Hdf5 && (blind || truth.is_some()) {
                bail!("--blind and --truth need --format sglc");
            }
            let survey = Survey::load(&survey)?;
            let population = PopulationConfig::load(&population)?;
            let out = out.unwrap_or_else(|| {
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
                    supersample,
                    caustic_step: CausticGrid::DEFAULT_STEP,
                    psf: !no_psf,
                    noise: !no_noise,
                },
                survey,
                population,
            };
            let (renderer, line) = batch_renderer(&device)?;
            println!("{line}");
            let (a, b) = shard.range(n);
            let progress = Progress::new(b - a, "systems");
            let started = AtomicBool::new(false);
            let stop = format::progress::stop_on_ctrl_c(
                "stopping after the block in hand",
                "rerun the same command with --resume to go on from the last block written",
            )
            .context("cannot install the Ctrl-C handler")?;
            let opts = GenerateOptions {
                shard,
                threads,
                block,
                resume,
                format: match format {
                    Format::Hdf5 => OutputFormat::Hdf5,
                    Format::Sglc => OutputFormat::Sglc(SglcOptions {
                        first_id,
                        blind,
                        truth,
                    }),
                },
                renderer,
                stop: Some(stop),
                timing: None,
            };
            let summary = generate(&config, &out, &opts, &|k| {
                // The first call gives the systems a resumed file already holds.
                match started.swap(true, Ordering::Relaxed) {
                    false => progress.start_at(k),
                    true => progress.set_position(k),
                }
            });
            progress.finish();
            let s = summary?;
            let secs = start.elapsed().as_secs_f64();
            let resumed = if s.resumed_at > 0 {
                format!(" (resumed at system {})", s.resumed_at)
            } else {
                String::new()
            };
            if let Some(why) = &s.restarted {
                eprintln!("note: --resume: {why}");
            }
            println!(
                "generated {} systems, {} lenses ({:.1} %), into {} in {secs:.1} s: {:.1} systems/s{resumed}",
                s.systems,
                s.lenses,
                100.0 * s.lenses as f64 / s.systems.max(1) as f64,
                s.path.display(),
                s.generated as f64 / secs,
            );
            folders.keep();
        }
        Command::Merge { out, inputs } => {
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
        }
        Command::Info { file, config } => {
            println!("{}", file.display());
            println!("{}", info::describe(&file)?);
            if config {
                let f = sim::dataset::read::DatasetFile::open(&file)?;
                println!("configuration:\n{}", f.attrs.config);
            }
        }
        Command::Preview {
            file,
            out,
            band,
            per_class,
            crop,
        } => {
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
        }
        Command::Render {
            spec,
            survey,
            out,
            png,
            supersample,
            no_psf,
            no_noise,
            seed,
            device,
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
        }
        Command::BenchHost {
            survey,
            population,
            n,
            block,
            threads,
            out,
        } => {
            let config = RunConfig {
                generate: RunSettings::new(n, 1),
                survey: Survey::load(&survey)?,
                population: PopulationConfig::load(&population)?,
            };
            let r = sim::bench::host_ceiling(&config, &out, block, threads)?;
            let threads = if threads == 0 {
                rayon::current_num_threads()
            } else {
                threads
            };
            println!(
                "{} systems in {:.1} s: {:.1} systems/s on {threads} threads, blocks of {block} \
                 (prepared images: no ray shooting)",
                r.systems,
                r.seconds,
                r.systems as f64 / r.seconds
            );
            println!("{:<42} {:>9} {:>12}", "stage", "seconds", "ms/system");
            for (stage, secs) in r.stages.seconds() {
                println!(
                    "{stage:<42} {secs:>9.2} {:>12.3}",
                    1e3 * secs / r.systems.max(1) as f64
                );
            }
        }
        Command::BenchDeflect {
            survey,
            population,
            systems,
            supersample,
            repeats,
            device,
        } => bench_deflect(&survey, &population, systems, supersample, repeats, &device)?,
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
