//! The `sim` subcommands, one module each (its arguments and the function that runs it),
//! and what several share.

pub mod bench_deflect;
pub mod bench_host;
pub mod generate;
pub mod info;
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

/// How `sim render` and `sim generate` observe: ray-shooting resolution, PSF and noise.
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
