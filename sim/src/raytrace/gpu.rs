//! What the GPU ray shooter shares with its CUDA kernels (`kernels/mass.cu`, `kernels/light.cu`):
//! the kernel source and the mass and light components in the layout the kernels read. Nothing here needs a GPU; the
//! launches live behind the `cuda` feature.
//!
//! Every component becomes one [`GpuMass`] in single precision, with its frame's trigonometry
//! precomputed as on the CPU; a batch of systems is the concatenation of their components with
//! `first[s]..first[s + 1]` the components of system s ([`MassBatch`]).

pub use crate::gpu_layout::{kind, light_kind, GpuLight, GpuMass};
use crate::light::Light;
use crate::mass::{Lens, Mass};
use crate::raytrace::{band_groups, BandGrid, BandImage, Grid, System};

/// The CUDA C source of the deflection kernels (`deflect_points`, `deflect_grid`), compiled at
/// run time by NVRTC.
pub const MASS_KERNELS: &str = include_str!("../../../kernels/mass.cu");

/// The CUDA C source of the light profiles and the renderer (`render_grid`); it uses
/// [`MASS_KERNELS`] and is compiled after it, as one source.
pub const LIGHT_KERNELS: &str = include_str!("../../../kernels/light.cu");

impl GpuLight {
    /// The elementary profiles of `light`, their fluxes at `flux`.
    pub fn of(light: &Light, flux: u32) -> Vec<Self> {
        match light {
            Light::Sersic(p) => vec![p.gpu(flux, 1.0)],
            Light::Disc(p) => vec![p.gpu(flux)],
            Light::Clumpy(p) => p.gpu(flux),
        }
    }
}

/// The most bands one render launch takes (`MAX_BANDS` in `kernels/light.cu`).
pub const MAX_BANDS: usize = 8;

/// Cells of a row that one thread of `count_images` (`kernels/mass.cu`) walks along: 2 + 2·8
/// deflections for 8 cells instead of 4 a cell, and still 50 threads a row of the catalogue's
/// 400 × 400 node grid (tens of millions in a launch of thousands of systems).
pub const IMAGE_COUNT_STRIP: u32 = 8;

/// Threads of one system's `count_images` launch on an n × n node grid with `strip` cells a
/// thread: one per (row of cells, strip of the row).
pub fn image_count_threads(n: usize, strip: u32) -> usize {
    if n < 2 || strip == 0 {
        return 0;
    }
    (n - 1) * (n - 1).div_ceil(strip as usize)
}

/// Many systems ready for one `render_grid` launch in some bands of their survey.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderBatch {
    /// Their mass.
    pub mass: MassBatch,
    /// Every system's lens-light profiles, one system after another.
    pub lens_lights: Vec<GpuLight>,
    /// System s owns `lens_lights[lens_first[s]..lens_first[s + 1]]`.
    pub lens_first: Vec<u32>,
    /// Every system's source profiles.
    pub source_lights: Vec<GpuLight>,
    /// System s owns `source_lights[source_first[s]..source_first[s + 1]]`.
    pub source_first: Vec<u32>,
    /// Fluxes, e⁻/s: a light component's bands, in the order asked, from its `flux` index.
    pub fluxes: Vec<f32>,
    /// Bands rendered.
    pub bands: usize,
}

impl RenderBatch {
    /// The batch of `systems` in the survey bands `bands` (indices into each component's
    /// fluxes; at most [`MAX_BANDS`], else None).
    pub fn new<'a>(systems: impl IntoIterator<Item = &'a System>, bands: &[usize]) -> Option<Self> {
        if bands.is_empty() || bands.len() > MAX_BANDS {
            return None;
        }
        let systems: Vec<&System> = systems.into_iter().collect();
        let mut b = Self {
            mass: MassBatch::new(systems.iter().map(|s| &s.lens)),
            lens_first: vec![0],
            source_first: vec![0],
            bands: bands.len(),
            ..Default::default()
        };
        for s in systems {
            for (comps, out, first) in [
                (&s.lens_light, &mut b.lens_lights, &mut b.lens_first),
                (&s.source_light, &mut b.source_lights, &mut b.source_first),
            ] {
                for c in comps {
                    let at = b.fluxes.len() as u32;
                    b.fluxes.extend(bands.iter().map(|&k| c.flux[k] as f32));
                    out.extend(GpuLight::of(&c.profile, at));
                }
                first.push(out.len() as u32);
            }
        }
        Some(b)
    }

    /// Systems in the batch.
    pub fn systems(&self) -> usize {
        self.mass.systems()
    }
}

/// Every system's images in every band of `bands`, in the order and layout of
/// [`crate::raytrace::render`], made by `render_grid` launches: one per band grid and
/// [`MAX_BANDS`] bands. `launch` runs one on a batch, a grid and the batch's bands (their
/// indices in `bands`) and returns the lens and source images, every f32 in (system, band, row,
/// column) order; its error is passed on. The GPU's
/// [`crate::raytrace::BatchRenderer`] launches on the device; the tests launch the same kernel
/// compiled as C++.
pub fn render_in_launches(
    systems: &[&System],
    bands: &[BandGrid],
    supersample: usize,
    mut launch: impl FnMut(&RenderBatch, &Grid, &[usize]) -> Result<(Vec<f32>, Vec<f32>), String>,
) -> Result<Vec<Vec<BandImage>>, String> {
    let mut out: Vec<Vec<Option<BandImage>>> = vec![vec![None; bands.len()]; systems.len()];
    for (grid, group) in band_groups(bands, supersample) {
        for chunk in group.chunks(MAX_BANDS) {
            let batch = RenderBatch::new(systems.iter().copied(), chunk)
                .ok_or("a band group of no bands")?;
            let (lens, source) = launch(&batch, &grid, chunk)?;
            let n = grid.size;
            let expected = systems.len() * chunk.len() * n * n;
            if lens.len() != expected || source.len() != expected {
                return Err(format!(
                    "a launch returned {} and {} pixels for {expected}",
                    lens.len(),
                    source.len()
                ));
            }
            let image = |v: &[f32], s: usize, b: usize| {
                let at = (s * chunk.len() + b) * n * n;
                ndarray::Array2::from_shape_vec((n, n), v[at..at + n * n].to_vec())
                    .expect("n × n pixels")
            };
            for (s, row) in out.iter_mut().enumerate() {
                for (b, &k) in chunk.iter().enumerate() {
                    row[k] = Some(BandImage {
                        band: bands[k].name.clone(),
                        lens: image(&lens, s, b),
                        source: image(&source, s, b),
                    });
                }
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|row| row.into_iter().flatten().collect())
        .collect())
}

impl GpuMass {
    /// The component `m` in the kernels' layout.
    pub fn of(m: &Mass) -> Self {
        match m {
            Mass::Sie(p) => p.gpu(),
            Mass::Nfw(p) => p.gpu(),
            Mass::Shear(p) => p.gpu(),
            Mass::Tesis(p) => p.gpu(),
            Mass::PointMass(p) => p.gpu(),
        }
    }
}

/// Many systems' mass components for one launch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MassBatch {
    /// Every system's components, one after another.
    pub components: Vec<GpuMass>,
    /// System s owns `components[first[s]..first[s + 1]]`; `first.len()` = systems + 1.
    pub first: Vec<u32>,
}

impl MassBatch {
    /// The batch of `lenses`, in order.
    pub fn new<'a>(lenses: impl IntoIterator<Item = &'a Lens>) -> Self {
        let mut b = Self {
            components: Vec::new(),
            first: vec![0],
        };
        for lens in lenses {
            b.components.extend(lens.components.iter().map(GpuMass::of));
            b.first.push(b.components.len() as u32);
        }
        b
    }

    /// Systems in the batch.
    pub fn systems(&self) -> usize {
        self.first.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_the_kernels() {
        // kernels/mass.cu: struct MassComponent { unsigned int kind; float x0, y0, cos_phi,
        // sin_phi; float p0, p1, p2, p3; } — 9 four-byte fields, no padding.
        assert_eq!(std::mem::size_of::<GpuMass>(), 36);
        assert_eq!(std::mem::align_of::<GpuMass>(), 4);
        let m = GpuMass {
            kind: 2,
            x0: 1.5,
            p: [0.0, 0.0, 0.0, -2.0],
            ..Default::default()
        };
        let b = m.to_bytes();
        assert_eq!(&b[..4], &2u32.to_le_bytes());
        assert_eq!(&b[4..8], &1.5f32.to_le_bytes());
        assert_eq!(&b[32..], &(-2.0f32).to_le_bytes());
    }

    #[test]
    fn light_layout_is_the_kernels() {
        // kernels/light.cu: struct LightComponent { unsigned int kind, flux; float x0, y0,
        // cos_phi, sin_phi; float p[8]; } — 14 four-byte fields, no padding.
        assert_eq!(std::mem::size_of::<GpuLight>(), 56);
        let l = GpuLight {
            kind: 1,
            flux: 7,
            x0: 0.25,
            p: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
            ..Default::default()
        };
        let b = l.to_bytes();
        assert_eq!(&b[4..8], &7u32.to_le_bytes());
        assert_eq!(&b[8..12], &0.25f32.to_le_bytes());
        assert_eq!(&b[52..], &3.0f32.to_le_bytes());
    }

    #[test]
    fn render_batches_lay_out_lights_and_fluxes() {
        use crate::light::{Clumpy, ClumpyParams, Knot, Sersic, SersicParams};
        use crate::raytrace::LightComponent;
        let sersic = SersicParams {
            r_eff: 0.5,
            n: 2.0,
            q: 0.9,
            phi: 0.0,
            center: [0.0, 0.0],
            mag: None,
            flux: None,
        };
        let knot = Knot {
            offset: [0.1, 0.0],
            sigma: 0.05,
            frac: 0.2,
        };
        let clumpy = ClumpyParams {
            r_eff: 0.2,
            n: 1.0,
            q: 1.0,
            phi: 0.0,
            center: [0.3, 0.0],
            knots: vec![knot.clone(), knot],
            mag: None,
            flux: None,
        };
        let system = System {
            lens: Lens::default(),
            lens_light: vec![LightComponent {
                profile: Light::Sersic(Sersic::new(&sersic)),
                flux: vec![10.0, 20.0, 30.0],
            }],
            source_light: vec![LightComponent {
                profile: Light::Clumpy(Clumpy::new(&clumpy)),
                flux: vec![1.0, 2.0, 3.0],
            }],
        };
        let b = RenderBatch::new([&system, &system], &[2, 0]).unwrap();
        // Per system: one lens profile; a body and two knots for the source, one flux entry.
        assert_eq!(
            (b.lens_first.clone(), b.source_first.clone()),
            (vec![0, 1, 2], vec![0, 3, 6])
        );
        assert_eq!(b.fluxes, vec![30.0, 10.0, 3.0, 1.0, 30.0, 10.0, 3.0, 1.0]);
        assert!(b.source_lights[..3].iter().all(|l| l.flux == 2));
        assert_eq!(b.source_lights[1].kind, light_kind::GAUSSIAN);
        // The body carries the flux the knots leave: 1 − 0.2 − 0.2.
        let whole = Sersic::new(&clumpy.body()).gpu(0, 1.0).p[4];
        assert!((b.source_lights[0].p[4] / whole - 0.6).abs() < 1e-6);
        assert!(RenderBatch::new([&system], &[]).is_none());
        assert!(RenderBatch::new([&system], &[0; 9]).is_none());
    }

    #[test]
    fn batches_index_their_systems() {
        use crate::mass::{Shear, Sie, SieParams};
        let sie = Mass::Sie(Sie::new(&SieParams {
            theta_e: 1.0,
            q: 0.8,
            phi: 30.0,
            center: [0.0, 0.0],
        }));
        let shear = Mass::Shear(Shear::from_components(0.05, -0.02));
        let a = Lens::new(vec![sie.clone(), shear]);
        let b = Lens::new(vec![sie]);
        let batch = MassBatch::new([&a, &b, &Lens::default()]);
        assert_eq!(batch.first, vec![0, 2, 3, 3]);
        assert_eq!(batch.systems(), 3);
        assert_eq!(batch.components[1].kind, kind::SHEAR);
        assert_eq!(batch.components[0], batch.components[2]);
    }
}
