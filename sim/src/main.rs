//! The `sim` command line: parses arguments and calls the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

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
    Render(cli::render::Args),
    /// Generate a labelled training set: a population's systems ray-traced, observed and
    /// labelled, written as an HDF5 dataset (DESIGN.md).
    Generate(cli::generate::Args),
    /// Build a training set from a survey's own galaxies: the population's lensed sources
    /// painted into real cutouts, each cutout's central galaxy the lens, labelled against the
    /// cutout's measured background and written as an HDF5 dataset.
    Inject(cli::inject::Args),
    /// Join the shards of one run into one file, equal to what the whole run writes.
    Merge(cli::merge::Args),
    /// Print what a dataset holds: counts, lens fraction, bands, configuration.
    Info(cli::info::Args),
    /// Draw lenses and non-lenses of a dataset as a mosaic PNG, framed by their labels.
    Preview(cli::preview::Args),
    /// Time the deflection alone (the ray shooter's hot loop): rays per second on the CPU and,
    /// in a binary built with `--features cuda` where a GPU answers, on the GPU.
    BenchDeflect(cli::bench_deflect::Args),
    /// The host's ceiling for `sim generate` on a GPU: a run whose ray shooting costs nothing
    /// (every system gets one prepared set of ideal images and image count), with the time of
    /// each stage: sampling, rendering, observing, cataloguing, stacking, compressing, writing.
    BenchHost(cli::bench_host::Args),
    /// Print a survey's bands: background noise, sky and background-limited depths.
    Survey(cli::survey::Args),
}

fn main() -> ExitCode {
    match run(format::command_line::parse()) {
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Render(args) => cli::render::run(args)?,
        Command::Generate(args) => cli::generate::run(args)?,
        Command::Inject(args) => cli::inject::run(args)?,
        Command::Merge(args) => cli::merge::run(args)?,
        Command::Info(args) => cli::info::run(args)?,
        Command::Preview(args) => cli::preview::run(args)?,
        Command::BenchDeflect(args) => cli::bench_deflect::run(args)?,
        Command::BenchHost(args) => cli::bench_host::run(args)?,
        Command::Survey(args) => cli::survey::run(args)?,
    }
    Ok(())
}
