//! The noise on a GPU: `kernels/noise.cu`'s `add_noise`, compiled by NVRTC with fused
//! multiply-adds off, draws what [`super::noise::NoiseModel`] draws on the CPU (the same
//! counter-based streams and arithmetic; the `kernels_host` tests compare the two bit for bit as
//! C++, the `cuda` tests on a GPU).

use std::sync::Arc;

use cudarc::driver::{CudaFunction, CudaStream, PushKernelArg};
use cudarc::nvrtc::CompileOptions;

use super::noise::NoiseBlock;
use crate::raytrace::cuda::{config, cuda_unavailable, err, GpuError};

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
        let options = CompileOptions {
            fmad: Some(false),
            ..CompileOptions::default()
        };
        let ptx = cudarc::nvrtc::compile_ptx_with_opts(NOISE_KERNELS, options)
            .map_err(|e| err("NVRTC, kernels/noise.cu", e))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| err("loading kernels/noise.cu", e))?;
        Ok(Self {
            kernel: module
                .load_function("add_noise")
                .map_err(|e| err("add_noise", e))?,
            stream: ctx.default_stream(),
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
        if images.len() != n || u32::try_from(pixels).is_err() {
            return Err(GpuError(format!(
                "{} values for {} images of {pixels} pixels",
                images.len(),
                systems.len()
            )));
        }
        let s = &self.stream;
        let mut d_images = s
            .clone_htod(&**images)
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
        images.copy_from_slice(&back);
        Ok(())
    }
}
