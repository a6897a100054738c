//! The deflection kernels (`kernels/mass.cu`) on a GPU: compiled at run time by NVRTC and
//! launched through cudarc, which loads libcuda and NVRTC when first used, so this builds (and
//! its callers run on the CPU) where there is no GPU and no CUDA toolkit.

use std::sync::Arc;

use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};

use super::gpu::{
    image_count_threads, GpuLight, GpuMass, MassBatch, RenderBatch, IMAGE_COUNT_STRIP,
    LIGHT_KERNELS, MASS_KERNELS,
};
use super::Grid;
use crate::observe::convolve::PsfTaps;

/// Why the GPU path cannot run, or a launch failed.
#[derive(Debug, thiserror::Error)]
#[error("GPU: {0}")]
pub struct GpuError(pub String);

pub(crate) fn err(what: &str, e: impl std::fmt::Debug) -> GpuError {
    GpuError(format!("{what}: {e:?}"))
}

/// Why no GPU can run the kernels here, or `None` when one answers: the driver library is
/// missing, does not initialise, or sees no device.
pub fn cuda_unavailable() -> Option<String> {
    // cudarc panics on first use where libcuda is missing: ask before anything touches it.
    // SAFETY: only tries to open the driver library by its usual names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Some("no CUDA driver library (libcuda) on this machine".into());
    }
    if let Err(e) = cudarc::driver::result::init() {
        return Some(format!("the CUDA driver does not initialise: {e:?}"));
    }
    match cudarc::driver::result::device::get_count() {
        Ok(n) if n > 0 => None,
        Ok(_) => Some("the CUDA driver sees no GPU".into()),
        Err(e) => Some(format!("the CUDA driver cannot count its GPUs: {e:?}")),
    }
}

/// The lens and source images of a launch (as [`GpuDeflector::render`] orders them) and the
/// flux of each ideal source image (system · bands + band).
pub type ConvolvedImages = (Vec<f32>, Vec<f32>, Vec<f64>);

/// Threads per block of every launch.
const THREADS: u32 = 256;

pub(crate) fn config(n: usize) -> Result<LaunchConfig, GpuError> {
    let blocks = n.div_ceil(THREADS as usize);
    let blocks = u32::try_from(blocks)
        .map_err(|_| GpuError(format!("{n} outputs are more than one launch can hold")))?;
    Ok(LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    })
}

/// GPU 0 with the deflection, rendering and noise kernels loaded.
pub struct GpuDeflector {
    stream: Arc<CudaStream>,
    points: CudaFunction,
    grid: CudaFunction,
    render: CudaFunction,
    count: CudaFunction,
    /// The noise kernel (`kernels/noise.cu`), compiled apart.
    noise: crate::observe::cuda::GpuNoise,
    /// The PSF kernels (`kernels/psf.cu`), compiled apart, on the same stream.
    psf: crate::observe::cuda::GpuPsf,
}

impl GpuDeflector {
    /// Compiles the kernels for GPU 0 and loads them; an error says why (no GPU, no NVRTC, a
    /// compile error with its log).
    pub fn new() -> Result<Self, GpuError> {
        if let Some(why) = cuda_unavailable() {
            return Err(GpuError(why));
        }
        let ctx = cudarc::driver::CudaContext::new(0).map_err(|e| err("opening GPU 0", e))?;
        // light.cu uses mass.cu's deflection: one source, in that order.
        let source = format!("{MASS_KERNELS}\n{LIGHT_KERNELS}");
        let ptx = cudarc::nvrtc::compile_ptx(source)
            .map_err(|e| err("NVRTC, kernels/mass.cu + kernels/light.cu", e))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| err("loading kernels/mass.cu", e))?;
        let load = |name: &str| module.load_function(name).map_err(|e| err(name, e));
        let stream = ctx.default_stream();
        Ok(Self {
            points: load("deflect_points")?,
            grid: load("deflect_grid")?,
            render: load("render_grid")?,
            count: load("count_images")?,
            noise: crate::observe::cuda::GpuNoise::on(stream.clone())?,
            psf: crate::observe::cuda::GpuPsf::new(stream.clone())?,
            stream,
        })
    }

    /// Deflections (α_x, α_y), arcsec, of every system of `batch` at the points (x, y), arcsec:
    /// index s·n + p.
    pub fn deflect_points(
        &self,
        batch: &MassBatch,
        x: &[f32],
        y: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        if x.len() != y.len() {
            return Err(GpuError(format!("{} x but {} y", x.len(), y.len())));
        }
        let s = &self.stream;
        let n = batch.systems() * x.len();
        let (comps, first) = self.upload(batch)?;
        let dx = s.clone_htod(x).map_err(|e| err("copying x", e))?;
        let dy = s.clone_htod(y).map_err(|e| err("copying y", e))?;
        let (mut ax, mut ay) = self.outputs(n)?;
        let (systems, points) = (batch.systems() as u32, x.len() as u32);
        let mut l = s.launch_builder(&self.points);
        l.arg(&comps)
            .arg(&first)
            .arg(&systems)
            .arg(&dx)
            .arg(&dy)
            .arg(&points)
            .arg(&mut ax)
            .arg(&mut ay);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/mass.cu,
        // deflect_points), and the outputs hold systems × points floats.
        unsafe { l.launch(config(n)?) }.map_err(|e| err("deflect_points", e))?;
        self.download(&ax, &ay)
    }

    /// The images of `betas[s]` (arcsec) behind every system s of `batch`, counted on an n × n
    /// node grid over the square of half-side `half_width` (arcsec) by `count_images`
    /// (`kernels/mass.cu`), as [`crate::caustics::count_images`] counts them.
    pub fn count_images(
        &self,
        batch: &MassBatch,
        betas: &[[f64; 2]],
        n: usize,
        half_width: f64,
    ) -> Result<Vec<u32>, GpuError> {
        if betas.len() != batch.systems() {
            return Err(GpuError(format!(
                "{} source positions for {} systems",
                betas.len(),
                batch.systems()
            )));
        }
        if betas.is_empty() || n < 2 {
            return Ok(vec![0; betas.len()]);
        }
        let s = &self.stream;
        let (comps, first) = self.upload(batch)?;
        let flat: Vec<f64> = betas.iter().flatten().copied().collect();
        let beta = s
            .clone_htod(&flat)
            .map_err(|e| err("copying the source positions", e))?;
        let mut counts = s
            .alloc_zeros::<u32>(betas.len())
            .map_err(|e| err("allocating the counts", e))?;
        let threads = betas.len() * image_count_threads(n, IMAGE_COUNT_STRIP);
        let (systems, nodes) = (betas.len() as u32, n as u32);
        let mut l = s.launch_builder(&self.count);
        l.arg(&comps)
            .arg(&first)
            .arg(&systems)
            .arg(&beta)
            .arg(&nodes)
            .arg(&half_width)
            .arg(&IMAGE_COUNT_STRIP)
            .arg(&mut counts);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/mass.cu,
        // count_images); beta holds 2 doubles and counts one zeroed u32 per system.
        unsafe { l.launch(config(threads)?) }.map_err(|e| err("count_images", e))?;
        s.clone_dtoh(&counts)
            .map_err(|e| err("copying the counts back", e))
    }

    /// Deflections (α_x, α_y), arcsec, of every system of `batch` on `grid`'s sub-pixels, in
    /// the order of `kernels/mass.cu`'s `deflect_grid` (system, sub-row, sub-column).
    pub fn deflect_grid(
        &self,
        batch: &MassBatch,
        grid: &Grid,
    ) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        let n = batch.systems() * grid.rays();
        let (comps, first) = self.upload(batch)?;
        let (mut ax, mut ay) = self.outputs(n)?;
        self.launch_grid(&comps, &first, batch.systems(), grid, n, &mut ax, &mut ay)?;
        self.download(&ax, &ay)
    }

    /// The ideal images (lens light, lensed source), e⁻/s per pixel, of every system of `batch`
    /// in its bands on `grid`, index ((system · bands + band) · size + row) · size + column.
    pub fn render(
        &self,
        batch: &RenderBatch,
        grid: &Grid,
    ) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        let (lens, source) = self.render_on_gpu(batch, grid)?;
        self.download(&lens, &source)
    }

    /// [`GpuDeflector::render`]'s images, each band b then convolved on the GPU with
    /// `psfs[b]` (the batch's bands in order), with the flux of each ideal source image, index
    /// system · bands + band ([`crate::raytrace::image_flux`], taken before convolution).
    pub fn render_convolved(
        &self,
        batch: &RenderBatch,
        grid: &Grid,
        psfs: &[&PsfTaps],
    ) -> Result<ConvolvedImages, GpuError> {
        if psfs.len() != batch.bands {
            return Err(GpuError(format!(
                "{} PSFs for {} bands",
                psfs.len(),
                batch.bands
            )));
        }
        let (mut lens, mut source) = self.render_on_gpu(batch, grid)?;
        let (systems, size) = (batch.systems(), grid.size);
        let sums = self
            .psf
            .image_sums(&source, systems * batch.bands, size * size)?;
        let mut scratch = self
            .stream
            .alloc_zeros::<f64>((systems * size * size).max(1))
            .map_err(|e| err("allocating the PSF's scratch", e))?;
        for (band, taps) in psfs.iter().enumerate() {
            for images in [&mut lens, &mut source] {
                self.psf.convolve_band(
                    images,
                    systems,
                    batch.bands,
                    band,
                    size,
                    taps,
                    &mut scratch,
                )?;
            }
        }
        let (lens, source) = self.download(&lens, &source)?;
        let sums = self
            .stream
            .clone_dtoh(&sums)
            .map_err(|e| err("copying the fluxes back", e))?;
        Ok((lens, source, sums[..systems * batch.bands].to_vec()))
    }

    /// Launches `render_grid` for `batch` on `grid`, leaving the images on the GPU.
    fn render_on_gpu(
        &self,
        batch: &RenderBatch,
        grid: &Grid,
    ) -> Result<(CudaSlice<f32>, CudaSlice<f32>), GpuError> {
        let s = &self.stream;
        let n = batch.systems() * batch.bands * grid.size * grid.size;
        let (comps, first) = self.upload(&batch.mass)?;
        let lights = |v: &[GpuLight]| {
            // An empty list still needs a valid pointer.
            let v = if v.is_empty() {
                vec![GpuLight::default()]
            } else {
                v.to_vec()
            };
            s.clone_htod(&v).map_err(|e| err("copying the lights", e))
        };
        let copy = |v: &[u32]| s.clone_htod(v).map_err(|e| err("copying the lights", e));
        let (lens_lights, lens_first) = (lights(&batch.lens_lights)?, copy(&batch.lens_first)?);
        let (source_lights, source_first) =
            (lights(&batch.source_lights)?, copy(&batch.source_first)?);
        let mut fluxes = batch.fluxes.clone();
        fluxes.push(0.0);
        let fluxes = s
            .clone_htod(&fluxes)
            .map_err(|e| err("copying the fluxes", e))?;
        let (mut lens, mut source) = self.outputs(n)?;
        let (systems, bands) = (batch.systems() as u32, batch.bands as u32);
        let (size, scale, f) = (
            grid.size as u32,
            grid.pixel_scale as f32,
            grid.supersample as u32,
        );
        let mut l = s.launch_builder(&self.render);
        l.arg(&comps)
            .arg(&first)
            .arg(&lens_lights)
            .arg(&lens_first)
            .arg(&source_lights)
            .arg(&source_first)
            .arg(&fluxes)
            .arg(&systems)
            .arg(&bands)
            .arg(&size)
            .arg(&scale)
            .arg(&f)
            .arg(&mut lens)
            .arg(&mut source);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/light.cu,
        // render_grid); one thread per (system, pixel); the outputs hold systems × bands ×
        // pixels floats; RenderBatch holds at most MAX_BANDS bands, as the kernel's arrays.
        unsafe { l.launch(config(batch.systems() * grid.size * grid.size)?) }
            .map_err(|e| err("render_grid", e))?;
        Ok((lens, source))
    }

    /// Seconds per launch of `deflect_grid` on `batch` and `grid`, the best of `repeats`
    /// launches after one warm-up, each timed from its launch to the GPU's completion; the
    /// deflections stay on the GPU (the kernel alone, no copies).
    pub fn time_grid(
        &self,
        batch: &MassBatch,
        grid: &Grid,
        repeats: usize,
    ) -> Result<f64, GpuError> {
        let n = batch.systems() * grid.rays();
        let (comps, first) = self.upload(batch)?;
        let (mut ax, mut ay) = self.outputs(n)?;
        let mut best = f64::INFINITY;
        for k in 0..=repeats.max(1) {
            let start = std::time::Instant::now();
            self.launch_grid(&comps, &first, batch.systems(), grid, n, &mut ax, &mut ay)?;
            self.synchronize()?;
            if k > 0 {
                best = best.min(start.elapsed().as_secs_f64());
            }
        }
        Ok(best)
    }

    /// Waits for the GPU to finish what was launched.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        self.stream
            .synchronize()
            .map_err(|e| err("synchronising", e))
    }

    /// Launches `deflect_grid` for `systems` systems on `grid` into (ax, ay), n floats each.
    #[allow(clippy::too_many_arguments)]
    fn launch_grid(
        &self,
        comps: &CudaSlice<GpuMass>,
        first: &CudaSlice<u32>,
        systems: usize,
        grid: &Grid,
        n: usize,
        ax: &mut CudaSlice<f32>,
        ay: &mut CudaSlice<f32>,
    ) -> Result<(), GpuError> {
        let systems = systems as u32;
        let (size, scale, f) = (
            grid.size as u32,
            grid.pixel_scale as f32,
            grid.supersample as u32,
        );
        let mut l = self.stream.launch_builder(&self.grid);
        l.arg(comps)
            .arg(first)
            .arg(&systems)
            .arg(&size)
            .arg(&scale)
            .arg(&f)
            .arg(ax)
            .arg(ay);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/mass.cu,
        // deflect_grid), and the outputs hold systems × rays = n floats.
        unsafe { l.launch(config(n)?) }.map_err(|e| err("deflect_grid", e))?;
        Ok(())
    }

    /// Two zeroed device arrays of n floats, for α_x and α_y.
    fn outputs(&self, n: usize) -> Result<(CudaSlice<f32>, CudaSlice<f32>), GpuError> {
        let alloc = || {
            self.stream
                .alloc_zeros::<f32>(n)
                .map_err(|e| err("allocating α", e))
        };
        Ok((alloc()?, alloc()?))
    }

    fn upload(&self, batch: &MassBatch) -> Result<(CudaSlice<GpuMass>, CudaSlice<u32>), GpuError> {
        let s = &self.stream;
        // A batch without components still needs a valid pointer.
        let mut comps = batch.components.clone();
        if comps.is_empty() {
            comps.push(GpuMass::default());
        }
        Ok((
            s.clone_htod(&comps)
                .map_err(|e| err("copying the components", e))?,
            s.clone_htod(&batch.first)
                .map_err(|e| err("copying the components", e))?,
        ))
    }

    fn download(
        &self,
        ax: &CudaSlice<f32>,
        ay: &CudaSlice<f32>,
    ) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        let s = &self.stream;
        Ok((
            s.clone_dtoh(ax).map_err(|e| err("copying α back", e))?,
            s.clone_dtoh(ay).map_err(|e| err("copying α back", e))?,
        ))
    }
}

impl std::fmt::Debug for GpuDeflector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GpuDeflector(GPU 0)")
    }
}

impl super::BatchRenderer for GpuDeflector {
    fn describe(&self) -> String {
        "GPU 0 (CUDA kernels)".into()
    }

    fn render_batch(
        &self,
        systems: &[&super::System],
        bands: &[super::BandGrid],
        supersample: usize,
    ) -> Result<Vec<Vec<super::BandImage>>, String> {
        super::gpu::render_in_launches(systems, bands, supersample, |batch, grid, _| {
            self.render(batch, grid).map_err(|e| e.to_string())
        })
    }

    fn render_convolved_batch(
        &self,
        systems: &[&super::System],
        bands: &[super::BandGrid],
        supersample: usize,
        psfs: &[PsfTaps],
    ) -> Option<Result<super::ConvolvedBatch, String>> {
        if psfs.len() != bands.len() {
            return Some(Err(format!(
                "{} PSFs for {} bands",
                psfs.len(),
                bands.len()
            )));
        }
        let mut source_flux = vec![vec![0.0; bands.len()]; systems.len()];
        let images =
            super::gpu::render_in_launches(systems, bands, supersample, |batch, grid, chunk| {
                let taps: Vec<&PsfTaps> = chunk.iter().map(|&k| &psfs[k]).collect();
                let (lens, source, sums) = self
                    .render_convolved(batch, grid, &taps)
                    .map_err(|e| e.to_string())?;
                for (s, fluxes) in source_flux.iter_mut().enumerate() {
                    for (b, &k) in chunk.iter().enumerate() {
                        fluxes[k] = sums[s * chunk.len() + b];
                    }
                }
                Ok((lens, source))
            });
        Some(images.map(|images| super::ConvolvedBatch {
            images,
            source_flux,
        }))
    }

    fn count_images(
        &self,
        systems: &[&super::System],
        betas: &[[f64; 2]],
        half_width: f64,
        step: f64,
    ) -> Option<Result<Vec<u32>, String>> {
        let batch = MassBatch::new(systems.iter().map(|s| &s.lens));
        let n = crate::caustics::image_grid_nodes(half_width, step);
        Some(
            GpuDeflector::count_images(self, &batch, betas, n, half_width)
                .map_err(|e| e.to_string()),
        )
    }

    fn add_noise(
        &self,
        block: &mut crate::observe::noise::NoiseBlock,
    ) -> Option<Result<(), String>> {
        Some(
            self.noise
                .add_noise(block, false)
                .map_err(|e| e.to_string()),
        )
    }
}
