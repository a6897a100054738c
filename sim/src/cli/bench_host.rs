//! `sim bench-host`: the host's ceiling for `sim generate` on a GPU, stage by stage.

use sim::generate::{RunConfig, RunSettings};
use sim::observe::Survey;
use sim::population::PopulationConfig;
use std::path::PathBuf;

/// `sim bench-host`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A survey preset or file.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
    /// A population preset or file.
    #[arg(long, default_value = "sglc2")]
    pub population: String,
    /// Systems.
    #[arg(short = 'n', default_value_t = 2000, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=10_000_000))]
    pub n: u64,
    /// Systems per block.
    #[arg(long, default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub block: usize,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// The scratch file (removed afterwards).
    #[arg(long, default_value = "bench-host.h5")]
    pub out: PathBuf,
    /// Leave the PSF and the noise to the device too (as `--device cuda` does, at no host
    /// cost here): the host's ceiling without them.
    #[arg(long)]
    pub observe_on_device: bool,
}

/// Runs `sim bench-host`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        survey,
        population,
        n,
        block,
        threads,
        out,
        observe_on_device,
    } = args;
    let config = RunConfig {
        generate: RunSettings::new(n, 1),
        survey: Survey::load(&survey)?,
        population: PopulationConfig::load(&population)?,
        inject: None,
    };
    let r = sim::bench::host_ceiling(&config, &out, block, threads, observe_on_device)?;
    let threads = if threads == 0 {
        rayon::current_num_threads()
    } else {
        threads
    };
    println!(
        "{} systems in {:.1} s: {:.1} systems/s on {threads} threads, blocks of {block} \
         (prepared images: no ray shooting{})",
        r.systems,
        r.seconds,
        r.systems as f64 / r.seconds,
        if observe_on_device {
            "; PSF and noise left to the device"
        } else {
            ""
        }
    );
    super::print_stages(&r.stages, r.systems);
    Ok(())
}
