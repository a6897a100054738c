//! The `sim` subcommands, one module each (its arguments and the function that runs it),
//! and what several share.

pub mod bench_deflect;
pub mod bench_host;
pub mod generate;
pub mod info;
pub mod inject;
pub mod merge;
pub mod preview;
pub mod render;
pub mod survey;

use anyhow::Context;
use std::path::PathBuf;

/// The renderer `--device` asks for (None: system by system on the CPU threads) and the line
/// that says which ray-traces.
#[allow(clippy::type_complexity)]
pub fn batch_renderer(
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

/// Creates the parent directory of `path` if it has one.
/// The folders a command created above its output: removed again (if still empty) when the
/// command fails, so that a refused run leaves no empty `datasets/` behind.
pub struct NewFolders(Vec<PathBuf>);

impl NewFolders {
    /// Creates the missing folders above `path`.
    pub fn above(path: &std::path::Path) -> anyhow::Result<Self> {
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
    pub fn keep(mut self) {
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

/// How a run that writes a dataset is split and carried out (`sim generate`, `sim inject`).
#[derive(clap::Args)]
pub struct Streaming {
    /// Generate only shard i of n (0-based), e.g. 0/4; join shards with `sim merge`.
    #[arg(long, default_value = "0/1", value_parser = sim::generate::Shard::parse)]
    pub shard: sim::generate::Shard,
    /// Worker threads [default: one per core].
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Continue an interrupted run with the same configuration from its last written block.
    #[arg(long)]
    pub resume: bool,
    /// Systems computed and written per block.
    #[arg(long, default_value_t = 64)]
    pub block: usize,
}

impl Streaming {
    /// The run's options: these, writing `format`, ray-traced by `renderer` (None: the CPU
    /// threads), stopped by Ctrl-C after the block in hand.
    pub fn options(
        &self,
        format: sim::generate::OutputFormat,
        renderer: Option<std::sync::Arc<dyn sim::raytrace::BatchRenderer>>,
    ) -> anyhow::Result<sim::generate::GenerateOptions> {
        let stop = format::progress::stop_on_ctrl_c(
            "stopping after the block in hand",
            "rerun the same command with --resume to go on from the last block written",
        )
        .context("cannot install the Ctrl-C handler")?;
        Ok(sim::generate::GenerateOptions {
            shard: self.shard,
            threads: self.threads,
            block: self.block,
            resume: self.resume,
            format,
            renderer,
            stop: Some(stop),
            timing: None,
        })
    }
}

/// How `sim render`, `sim generate` and `sim inject` observe: ray-shooting resolution, PSF and
/// noise.
#[derive(clap::Args)]
pub struct Observation {
    /// Sub-pixels per pixel side.
    #[arg(long, default_value_t = 2)]
    pub supersample: usize,
    /// Do not convolve with the PSF.
    #[arg(long)]
    pub no_psf: bool,
    /// Do not add noise.
    #[arg(long)]
    pub no_noise: bool,
}

impl Observation {
    /// Whether to convolve with the PSF.
    pub fn psf(&self) -> bool {
        !self.no_psf
    }

    /// Whether to add noise.
    pub fn noise(&self) -> bool {
        !self.no_noise
    }
}

/// Prints what a run did: `verb` (generated, injected) systems and lenses into the file, the
/// rate, where a resumed run started, and why `--resume` started afresh if it did.
pub fn report_run(verb: &str, s: &sim::generate::Summary, secs: f64) {
    let resumed = if s.resumed_at > 0 {
        format!(" (resumed at system {})", s.resumed_at)
    } else {
        String::new()
    };
    if let Some(why) = &s.restarted {
        eprintln!("note: --resume: {why}");
    }
    println!(
        "{verb} {} systems, {} lenses ({:.1} %), into {} in {secs:.1} s: {:.1} systems/s{resumed}",
        s.systems,
        s.lenses,
        100.0 * s.lenses as f64 / s.systems.max(1) as f64,
        s.path.display(),
        s.generated as f64 / secs,
    );
}

/// Prints where a run's time went, stage by stage: seconds summed over the threads that ran
/// the stage (a device's calls as the host waited for them, under render), and per system.
pub fn print_stages(stages: &sim::generate::StageTimes, systems: u64) {
    println!(
        "{:<42} {:>9} {:>12}",
        "stage (thread-seconds)", "seconds", "ms/system"
    );
    for (stage, secs) in stages.seconds() {
        println!(
            "{stage:<42} {secs:>9.2} {:>12.3}",
            1e3 * secs / systems.max(1) as f64
        );
    }
}

/// What a run calls with the systems in its file after every block: the first call (the
/// systems a resumed file already holds) starts `progress` there, the others move it on.
pub fn progress_of(progress: &format::progress::Progress) -> impl Fn(u64) + Sync + '_ {
    let started = std::sync::atomic::AtomicBool::new(false);
    move |k| match started.swap(true, std::sync::atomic::Ordering::Relaxed) {
        false => progress.start_at(k),
        true => progress.set_position(k),
    }
}
