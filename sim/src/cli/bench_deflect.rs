//! `sim bench-deflect`: rays per second of the deflection alone, on the CPU and the GPU.

use sim::observe::Survey;
use sim::population::PopulationConfig;

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

/// `sim bench-deflect`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A survey preset or file: its first band's stamp is the grid.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
    /// A population preset or file: its first systems' lenses are timed.
    #[arg(long, default_value = "sglc2")]
    pub population: String,
    /// Systems per pass (one GPU launch).
    #[arg(long, default_value_t = 256)]
    pub systems: usize,
    /// Sub-pixels per pixel side.
    #[arg(long, default_value_t = 2)]
    pub supersample: usize,
    /// Timed passes (the best is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// `auto` (both where a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

/// Runs `sim bench-deflect`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        survey,
        population,
        systems,
        supersample,
        repeats,
        device,
    } = args;
    bench_deflect(&survey, &population, systems, supersample, repeats, &device)?;
    Ok(())
}
