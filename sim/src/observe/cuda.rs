//! PSF and noise on a GPU, compiled by NVRTC with fused multiply-adds off so that they compute
//! what the CPU computes: `kernels/psf.cu` convolves as [`super::convolve::Convolver`] does (the
//! same floats for a separable kernel), and `kernels/noise.cu`'s `add_noise` draws what
//! [`super::noise::NoiseModel`] draws (the same counter-based streams and arithmetic). The
//! `kernels_host` tests compare both with the CPU as C++, the `cuda` tests on a GPU.

use std::sync::Arc;

use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, PushKernelArg};
use cudarc::nvrtc::CompileOptions;

use super::convolve::PsfTaps;
use super::noise::NoiseBlock;
use crate::raytrace::cuda::{config, cuda_unavailable, err, GpuError};

/// The PSF kernels' source.
pub const PSF_KERNELS: &str = include_str!("../../../kernels/psf.cu");

/// `source` compiled for the GPU of `stream` with fused multiply-adds off (every product
/// rounded, as on the CPU), and loaded there; `name` says which file, in errors.
fn load_strict(
    stream: &Arc<CudaStream>,
    source: &str,
    name: &str,
) -> Result<Arc<cudarc::driver::CudaModule>, GpuError> {
    let options = CompileOptions {
        fmad: Some(false),
        ..CompileOptions::default()
    };
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(source, options)
        .map_err(|e| err(&format!("NVRTC, {name}"), e))?;
    stream
        .context()
        .load_module(ptx)
        .map_err(|e| err(&format!("loading {name}"), e))
}

/// The PSF kernels loaded on a GPU, launched on one stream.
pub struct GpuPsf {
    stream: Arc<CudaStream>,
    sums: CudaFunction,
    rows: CudaFunction,
    columns: CudaFunction,
    full: CudaFunction,
}

impl GpuPsf {
    /// Compiles `kernels/psf.cu` for the GPU of `stream` and loads it; an error says why not.
    pub fn new(stream: Arc<CudaStream>) -> Result<Self, GpuError> {
        let module = load_strict(&stream, PSF_KERNELS, "kernels/psf.cu")?;
        let load = |name: &str| module.load_function(name).map_err(|e| err(name, e));
        Ok(Self {
            sums: load("image_sums")?,
            rows: load("convolve_rows")?,
            columns: load("convolve_columns")?,
            full: load("convolve_full")?,
            stream,
        })
    }

    /// The flux of each of the `n_images` images of `pixels` floats one after another in
    /// `images` (e⁻/s: the sum of its pixels in double, in order, as
    /// [`crate::raytrace::image_flux`]).
    pub fn image_sums(
        &self,
        images: &CudaSlice<f32>,
        n_images: usize,
        pixels: usize,
    ) -> Result<CudaSlice<f64>, GpuError> {
        let s = &self.stream;
        let mut sums = s
            .alloc_zeros::<f64>(n_images.max(1))
            .map_err(|e| err("allocating the sums", e))?;
        let (n, p) = (count(n_images)?, count(pixels)?);
        let mut l = s.launch_builder(&self.sums);
        l.arg(images).arg(&n).arg(&p).arg(&mut sums);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/psf.cu,
        // image_sums); images holds n_images × pixels floats and sums n_images doubles.
        unsafe { l.launch(config(n_images)?) }.map_err(|e| err("image_sums", e))?;
        Ok(sums)
    }

    /// Convolves band `band` of every system's images in `images` (`systems` × `bands` images
    /// of `size` × `size`, (system, band, row, column)) with `taps`, in place, through
    /// `scratch` (at least `systems` × `size`² doubles).
    #[allow(clippy::too_many_arguments)]
    pub fn convolve_band(
        &self,
        images: &mut CudaSlice<f32>,
        systems: usize,
        bands: usize,
        band: usize,
        size: usize,
        taps: &PsfTaps,
        scratch: &mut CudaSlice<f64>,
    ) -> Result<(), GpuError> {
        let s = &self.stream;
        let n = systems * size * size;
        if images.len() < n * bands || scratch.len() < n || band >= bands {
            return Err(GpuError(format!(
                "{} floats and {} doubles for band {band} of {systems} systems of {bands} bands \
                 of {size}²",
                images.len(),
                scratch.len()
            )));
        }
        let upload = |v: &[f64]| {
            s.clone_htod(v)
                .map_err(|e| err("copying the PSF's taps", e))
        };
        let (sy, bs, b, sz) = (count(systems)?, count(bands)?, count(band)?, count(size)?);
        let one = [1.0];
        let (first_taps, column) = match taps {
            PsfTaps::Separable { column, row } => {
                let d_row = upload(row)?;
                let n_row = count(row.len())?;
                let mut l = s.launch_builder(&self.rows);
                l.arg(&*images)
                    .arg(&sy)
                    .arg(&bs)
                    .arg(&b)
                    .arg(&sz)
                    .arg(&d_row)
                    .arg(&n_row)
                    .arg(&mut *scratch);
                // SAFETY: the arguments are, in order, the kernel's parameters
                // (kernels/psf.cu, convolve_rows); the sizes are checked above.
                unsafe { l.launch(config(n)?) }.map_err(|e| err("convolve_rows", e))?;
                (d_row, column.as_slice())
            }
            PsfTaps::Full(kernel) => {
                let kernel = kernel.as_standard_layout();
                let d_kernel = upload(kernel.as_slice().expect("standard layout"))?;
                let (kh, kw) = (count(kernel.nrows())?, count(kernel.ncols())?);
                let mut l = s.launch_builder(&self.full);
                l.arg(&*images)
                    .arg(&sy)
                    .arg(&bs)
                    .arg(&b)
                    .arg(&sz)
                    .arg(&d_kernel)
                    .arg(&kh)
                    .arg(&kw)
                    .arg(&mut *scratch);
                // SAFETY: the arguments are, in order, the kernel's parameters
                // (kernels/psf.cu, convolve_full); the sizes are checked above.
                unsafe { l.launch(config(n)?) }.map_err(|e| err("convolve_full", e))?;
                (d_kernel, one.as_slice())
            }
        };
        let d_column = upload(column)?;
        let n_column = count(column.len())?;
        let mut l = s.launch_builder(&self.columns);
        l.arg(&*scratch)
            .arg(&sy)
            .arg(&bs)
            .arg(&b)
            .arg(&sz)
            .arg(&d_column)
            .arg(&n_column)
            .arg(images);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/psf.cu,
        // convolve_columns); the sizes are checked above.
        unsafe { l.launch(config(n)?) }.map_err(|e| err("convolve_columns", e))?;
        // The taps are freed after the launches that read them (cudarc frees in stream order).
        drop(first_taps);
        Ok(())
    }
}

/// `n` as a kernel's unsigned int, or an error saying it is too large for one launch.
fn count(n: usize) -> Result<u32, GpuError> {
    u32::try_from(n).map_err(|_| GpuError(format!("{n} is more than one launch can hold")))
}

/// The noise kernel's source.
pub const NOISE_KERNELS: &str = include_str!("../../../kernels/noise.cu");

/// GPU 0 with the noise kernel loaded.
pub struct GpuNoise {
    stream: Arc<CudaStream>,
    kernel: CudaFunction,
}

impl GpuNoise {
    /// Compiles the kernel for GPU 0 and loads it; an error says why not.
    pub fn new() -> Result<Self, GpuError> {
        if let Some(why) = cuda_unavailable() {
            return Err(GpuError(why));
        }
        let ctx = cudarc::driver::CudaContext::new(0).map_err(|e| err("opening GPU 0", e))?;
        Self::on(ctx.default_stream())
    }

    /// The noise kernel compiled for the GPU of `stream` and loaded there, launched on it.
    pub fn on(stream: Arc<CudaStream>) -> Result<Self, GpuError> {
        let module = load_strict(&stream, NOISE_KERNELS, "kernels/noise.cu")?;
        Ok(Self {
            kernel: module
                .load_function("add_noise")
                .map_err(|e| err("add_noise", e))?,
            stream,
        })
    }

    /// Adds the noise of `block` on the GPU, in place, as
    /// [`super::noise::NoiseModel::add_noise`] does each image on the CPU; with `photon_only`,
    /// as [`super::noise::NoiseModel::add_source_photon_noise`] does.
    pub fn add_noise(&self, block: &mut NoiseBlock, photon_only: bool) -> Result<(), GpuError> {
        let NoiseBlock {
            images,
            pixels,
            systems,
            seed,
            band,
            model,
        } = block;
        let (pixels, seed, band) = (*pixels, *seed, *band);
        let n = pixels * systems.len();
        if images.len() != systems.len()
            || images.iter().any(|image| image.len() != pixels)
            || u32::try_from(pixels).is_err()
        {
            return Err(GpuError(format!(
                "{} images for {} systems, of {pixels} pixels each",
                images.len(),
                systems.len()
            )));
        }
        // The images side by side, as the kernel takes them.
        let gathered: Vec<f32> = images
            .iter()
            .flat_map(|image| image.iter().copied())
            .collect();
        let s = &self.stream;
        let mut d_images = s
            .clone_htod(&gathered)
            .map_err(|e| err("copying images", e))?;
        let d_systems = s
            .clone_htod(*systems)
            .map_err(|e| err("copying systems", e))?;
        let t = model.total_time;
        let background = (model.sky + model.dark_current) * t;
        let read_sigma = match photon_only {
            true => -1.0,
            false => model.read_noise * f64::from(model.n_exposures).sqrt(),
        };
        let (pixels, count) = (pixels as u32, systems.len() as u32);
        let mut l = s.launch_builder(&self.kernel);
        l.arg(&mut d_images)
            .arg(&pixels)
            .arg(&count)
            .arg(&d_systems)
            .arg(&band)
            .arg(&seed)
            .arg(&t)
            .arg(&background)
            .arg(&read_sigma);
        // SAFETY: the arguments are, in order, the kernel's parameters (kernels/noise.cu,
        // add_noise), and the images hold pixels × systems floats.
        unsafe { l.launch(config(n)?) }.map_err(|e| err("add_noise", e))?;
        let back = s
            .clone_dtoh(&d_images)
            .map_err(|e| err("copying images back", e))?;
        for (image, noisy) in images
            .iter_mut()
            .zip(back.chunks_exact((pixels as usize).max(1)))
        {
            image.copy_from_slice(noisy);
        }
        Ok(())
    }
}
