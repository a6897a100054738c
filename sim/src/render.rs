//! `sim render`: one system spec rendered, observed and labelled in every band of a survey,
//! written as a one-system dataset.

use std::path::Path;

use ndarray::Array2;
use serde::Serialize;

use format::dataset::columns;

use crate::caustics::{
    count_images, critical_curves, polygon_area, AllCurves, CausticGrid, CriticalCurves,
};
use crate::dataset::hdf5::{single, write_dataset, Attributes, Column, LabelColumn};
use crate::error::{Error, Result};
use crate::labels::Labels;
use crate::light::flux_to_mag;
use crate::observe::convolve::PsfTaps;
use crate::observe::{ObserveOptions, ObservedBand, Observer, Survey};
use crate::raytrace::{
    effective_magnification, magnification_of, BandImage, BatchRenderer, System,
};
use crate::spec::SystemSpec;

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RenderOptions {
    /// Sub-pixels per pixel side (GLAMER used 2).
    pub supersample: usize,
    /// Grid step for the critical curves, arcsec.
    pub caustic_step: f64,
    /// Convolve with each band's PSF.
    pub psf: bool,
    /// Add each band's noise.
    pub noise: bool,
    /// Seed of the noise.
    pub seed: u64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            supersample: 2,
            caustic_step: CausticGrid::DEFAULT_STEP,
            psf: true,
            noise: true,
            seed: 0,
        }
    }
}

/// Most sub-pixels per pixel side (256 rays a pixel: beyond, ray shooting costs more than any
/// profile's sub-pixel structure repays).
pub const MAX_SUPERSAMPLE: usize = 16;

/// Grid step for counting the images of the source centre, arcsec.
pub const IMAGE_COUNT_STEP: f64 = 0.05;

impl RenderOptions {
    /// Checks the options; errors name the option and its range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidSpec {
            file: "(command line)".into(),
            field: field.into(),
            reason,
        };
        if !(1..=MAX_SUPERSAMPLE).contains(&self.supersample) {
            return Err(bad(
                "--supersample",
                format!(
                    "{} is outside the allowed range [1, {MAX_SUPERSAMPLE}]",
                    self.supersample
                ),
            ));
        }
        if !(self.caustic_step > 0.0 && self.caustic_step <= 0.5) {
            return Err(bad(
                "caustic_step",
                format!(
                    "{} is outside the allowed range (0, 0.5] arcsec",
                    self.caustic_step
                ),
            ));
        }
        Ok(())
    }
}

/// One rendered system and what is derived from it.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The images as the survey records them (PSF and noise as asked), survey band order.
    pub observed: Vec<ObservedBand>,
    /// Detectability labels.
    pub labels: Labels,
    /// Tangential critical curve and caustic, if the lens is supercritical in the field.
    pub curves: Option<CriticalCurves>,
    /// Images of the source centre (0 without a source).
    pub n_images: u32,
}

impl Rendered {
    /// Refuses a system with a pixel that is not finite in any band, before or after noise,
    /// naming `origin` (the spec file, or the population's system) and the band. Every value is
    /// range-checked before rendering, so this is the last guard: a combination of legal
    /// values (a very bright component in a band of very low zero point, say) that takes a
    /// pixel beyond single precision is refused rather than written, since noise would turn it
    /// into a silent zero.
    pub fn check_finite(&self, origin: &Path) -> Result<()> {
        for o in &self.observed {
            for (what, image) in [
                ("the lens light", &o.lens),
                ("the lensed source", &o.source),
                ("the observed image", &o.image),
            ] {
                let bad = image.iter().filter(|v| !v.is_finite()).count();
                if bad > 0 {
                    return Err(Error::InvalidSpec {
                        file: origin.into(),
                        field: format!("band {}", o.band),
                        reason: format!(
                            "{bad} pixels of {what} are not finite (NaN or beyond single \
                             precision): lower the fluxes or magnitudes, or check the survey's \
                             zero point, sky and exposure"
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The tangential critical curve and caustic of `system`'s lens over the survey's largest
/// stamp, at the options' step.
pub fn system_curves(
    system: &System,
    survey: &Survey,
    opts: &RenderOptions,
) -> Option<CriticalCurves> {
    critical_curves(
        &system.lens,
        CausticGrid {
            half_width: survey.max_half_width(),
            step: opts.caustic_step,
        },
    )
}

/// One system's images in every band (survey order) as they reach observation.
#[derive(Clone, Debug)]
pub enum SystemImages {
    /// Ideal: no PSF yet.
    Ideal(Vec<BandImage>),
    /// Convolved with each band's PSF by a device, with each band's ideal lensed-source flux
    /// (e⁻/s, [`crate::raytrace::image_flux`] of the source image before convolution).
    Convolved {
        /// The convolved images.
        images: Vec<BandImage>,
        /// The ideal source images' fluxes, e⁻/s.
        source_flux: Vec<f64>,
    },
}

/// What [`render_on_device`] hands on for a block of systems.
#[derive(Clone, Debug)]
pub struct DeviceRendered {
    /// Each system's images.
    pub images: Vec<SystemImages>,
    /// The device's count of the images of each system's source centre (None: left to the
    /// CPU).
    pub n_images: Vec<Option<u32>>,
}

/// Ray-traces `systems` with a batch renderer (the GPU): every system's images in every band
/// of `survey`, convolved there with `psfs` (survey band order) where they are given and the
/// renderer convolves, else ideal; and the image count of its source centre (`centres`,
/// arcsec; 0 without a source) where the renderer counts images, else None (counted by
/// [`observe_system`] on the CPU). A renderer that fails, or returns other than one image per
/// band and system, is an error.
pub fn render_on_device(
    renderer: &dyn BatchRenderer,
    systems: &[&System],
    centres: &[Option<[f64; 2]>],
    survey: &Survey,
    supersample: usize,
    psfs: Option<&[PsfTaps]>,
) -> Result<DeviceRendered> {
    let bands = survey.band_grids();
    let convolved =
        psfs.and_then(|p| renderer.render_convolved_batch(systems, &bands, supersample, p));
    let (images, source_flux) = match convolved {
        Some(batch) => {
            let batch = batch.map_err(Error::Gpu)?;
            (batch.images, Some(batch.source_flux))
        }
        None => (
            renderer
                .render_batch(systems, &bands, supersample)
                .map_err(Error::Gpu)?,
            None,
        ),
    };
    let short = |n: usize| n != survey.bands.len();
    if images.len() != systems.len()
        || images.iter().any(|im| short(im.len()))
        || source_flux
            .as_ref()
            .is_some_and(|f| f.len() != systems.len() || f.iter().any(|f| short(f.len())))
    {
        return Err(Error::Gpu(format!(
            "{} did not return one image per band of {} for each of {} systems",
            renderer.describe(),
            survey.name,
            systems.len()
        )));
    }
    let images: Vec<SystemImages> = match source_flux {
        None => images.into_iter().map(SystemImages::Ideal).collect(),
        Some(fluxes) => images
            .into_iter()
            .zip(fluxes)
            .map(|(images, source_flux)| SystemImages::Convolved {
                images,
                source_flux,
            })
            .collect(),
    };
    let sourced: Vec<usize> = (0..systems.len())
        .filter(|&k| centres[k].is_some())
        .collect();
    let with_source: Vec<&System> = sourced.iter().map(|&k| systems[k]).collect();
    let betas: Vec<[f64; 2]> = sourced.iter().filter_map(|&k| centres[k]).collect();
    let Some(counts) = renderer.count_images(
        &with_source,
        &betas,
        survey.max_half_width(),
        IMAGE_COUNT_STEP,
    ) else {
        return Ok(DeviceRendered {
            images,
            n_images: vec![None; systems.len()],
        });
    };
    let counts = counts.map_err(Error::Gpu)?;
    if counts.len() != betas.len() {
        return Err(Error::Gpu(format!(
            "{} image counts for {} systems",
            counts.len(),
            betas.len()
        )));
    }
    let mut n_images = vec![Some(0); systems.len()];
    for (&k, &c) in sourced.iter().zip(&counts) {
        n_images[k] = Some(c);
    }
    Ok(DeviceRendered { images, n_images })
}

/// Observes and labels system `index` of a run (its noise depends on the options' seed and this
/// index) from its `images` in every band of `survey` (rendered by the CPU or by a
/// [`crate::raytrace::BatchRenderer`], convolved there or not), its critical curves already
/// found ([`system_curves`]): PSF (unless the images have it), noise, labels and the image
/// count of the source centre (`n_images` where a renderer counted it, else counted here).
#[allow(clippy::too_many_arguments)]
pub fn observe_system(
    system: &System,
    images: SystemImages,
    source_center: Option<[f64; 2]>,
    n_images: Option<u32>,
    survey: &Survey,
    observer: &Observer,
    opts: &RenderOptions,
    index: u64,
    curves: Option<CriticalCurves>,
) -> Rendered {
    let o = ObserveOptions {
        psf: opts.psf,
        noise: opts.noise,
        seed: opts.seed,
        index,
    };
    let (mag_eff, observed) = match images {
        SystemImages::Ideal(images) => (
            effective_magnification(system, &images),
            observer.observe(&images, &o),
        ),
        SystemImages::Convolved {
            images,
            source_flux,
        } => (
            magnification_of(system, &source_flux),
            observer.observe_convolved(images, &o),
        ),
    };
    let labels = label_observed(&observed, &mag_eff, survey);
    let half_width = survey.max_half_width();
    let n_images = n_images.unwrap_or_else(|| {
        source_center.map_or(0, |c| {
            count_images(&system.lens, c, half_width, IMAGE_COUNT_STEP)
        })
    });
    Rendered {
        observed,
        labels,
        curves,
        n_images,
    }
}

/// The detectability labels of one observed system: each band's noise-free lensed source
/// against its background σ, with the bands' effective magnifications, under the survey's
/// criteria.
pub fn label_observed(observed: &[ObservedBand], mag_eff: &[f64], survey: &Survey) -> Labels {
    let sources: Vec<&Array2<f32>> = observed.iter().map(|o| &o.source).collect();
    let sigmas: Vec<f64> = observed.iter().map(|o| o.sigma).collect();
    Labels::measure(
        &sources,
        &sigmas,
        mag_eff,
        &survey.labels,
        survey.detection_band(),
    )
}

/// The catalogue row of one rendered system (columns of length 1), named as DESIGN.md's
/// dataset format names them. The last `neighbours` components of the lens light are
/// neighbouring galaxies, not the lens: they are left out of the lens's magnitudes and counted
/// by distance from the lens centre instead.
pub fn catalog(
    spec: &SystemSpec,
    system: &System,
    rendered: &Rendered,
    survey: &Survey,
    id: i64,
    neighbours: usize,
) -> Vec<(String, Column)> {
    let f = |name: &str, v: f64| (name.to_string(), Column::F64(vec![v]));
    let u = |name: &str, v: u32| (name.to_string(), Column::I64(vec![v as i64]));
    let curves = rendered.curves.as_ref();
    let src_center = spec
        .source
        .light
        .first()
        .map(|l| l.center())
        .unwrap_or([f64::NAN; 2]);
    let l = &rendered.labels;
    let d = l.detection_band;
    let critical_center = curves.map_or([f64::NAN; 2], |c| centroid(&c.tangential));
    let n_galaxy = system.lens_light.len().saturating_sub(neighbours);
    let neighbour_distances: Vec<f64> = spec.lens.light[n_galaxy.min(spec.lens.light.len())..]
        .iter()
        .map(|c| {
            let p = c.center();
            p[0].hypot(p[1])
        })
        .collect();
    let within = |r: f64| neighbour_distances.iter().filter(|&&d| d <= r).count() as u32;
    let detection = &rendered.observed[d];
    let (n_pix_lens, sb_contrast) =
        lens_pixels_and_contrast(&detection.lens, &detection.source, detection.sigma);
    let mut cols = vec![
        (columns::ID.to_string(), Column::I64(vec![id])),
        f(columns::Z_LENS, spec.z_lens),
        f(columns::Z_SOURCE, spec.z_source),
        f(columns::THETA_E, curves.map_or(0.0, |c| c.einstein_radius)),
        f(columns::CRITICAL_X, critical_center[0]),
        f(columns::CRITICAL_Y, critical_center[1]),
        f(
            columns::CAUSTIC_RADIUS,
            curves.map_or(0.0, |c| c.caustic_radius),
        ),
        f(
            columns::CAUSTIC_AREA,
            curves.map_or(0.0, |c| polygon_area(&c.caustic)),
        ),
        f(
            columns::CAUSTIC_X,
            curves.map_or(f64::NAN, |c| c.caustic_center[0]),
        ),
        f(
            columns::CAUSTIC_Y,
            curves.map_or(f64::NAN, |c| c.caustic_center[1]),
        ),
        (
            columns::HAS_SOURCE.to_string(),
            Column::U8(vec![u8::from(!system.source_light.is_empty())]),
        ),
        f(columns::SOURCE_X, src_center[0]),
        f(columns::SOURCE_Y, src_center[1]),
        u(columns::N_IMAGES, rendered.n_images),
        u(columns::N_PIX_SOURCE, l.n_pix_source[d]),
        u(columns::N_SOURCE_GROUPS, l.n_source_groups[d]),
        u(columns::N_PIX_LENS, n_pix_lens),
        f(columns::SB_CONTRAST, sb_contrast),
        u(columns::N_GAL_3, within(3.0)),
        u(columns::N_GAL_5, within(5.0)),
        u(columns::N_GAL_10, within(10.0)),
    ];
    for (b, band) in survey.bands.iter().enumerate() {
        let of = |stem: &str| columns::of_band(stem, &band.name);
        let lens_flux: f64 = system.lens_light[..n_galaxy]
            .iter()
            .map(|c| c.flux[b])
            .sum();
        let lensed_flux = crate::raytrace::image_flux(&rendered.observed[b].source);
        cols.push(f(&of(columns::band::MAG_EFF), l.mag_eff[b]));
        cols.push(u(&of(columns::band::N_PIX_SOURCE), l.n_pix_source[b]));
        cols.push(u(&of(columns::band::N_SOURCE_GROUPS), l.n_source_groups[b]));
        cols.push(f(&of(columns::band::BG_SIGMA), rendered.observed[b].sigma));
        cols.push(f(
            &of(columns::band::LENS_MAG),
            flux_to_mag(lens_flux, band.zero_point),
        ));
        cols.push(f(&of(columns::band::LENS_FLUX), lens_flux));
        cols.push(f(
            &of(columns::band::SOURCE_MAG),
            flux_to_mag(system.source_flux(b), band.zero_point),
        ));
        cols.push(f(&of(columns::band::LENSED_SOURCE_FLUX), lensed_flux));
    }
    cols
}

/// Mean of a ring's vertices, arcsec.
fn centroid(points: &[[f64; 2]]) -> [f64; 2] {
    let n = points.len().max(1) as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
    [sx / n, sy / n]
}

/// Pixels where the noise-free lens light exceeds `sigma`, and the surface-brightness contrast
/// of the lensed source: its flux over the lens light's flux in the pixels where the source
/// exceeds `sigma` (NaN where it exceeds it nowhere).
pub fn lens_pixels_and_contrast(
    lens: &Array2<f32>,
    source: &Array2<f32>,
    sigma: f64,
) -> (u32, f64) {
    let n_pix_lens = crate::labels::pixels_above(lens, sigma);
    let (mut s, mut l) = (0.0f64, 0.0f64);
    for (&sv, &lv) in source.iter().zip(lens.iter()) {
        if sv as f64 > sigma {
            s += sv as f64;
            l += lv as f64;
        }
    }
    let contrast = if s > 0.0 { s / l } else { f64::NAN };
    (n_pix_lens, contrast)
}

/// What `sim render` records as the configuration of its output.
#[derive(Serialize)]
struct RenderConfig<'a> {
    render: &'a RenderOptions,
    survey: &'a Survey,
    spec: &'a SystemSpec,
}

/// Where [`render_spec`] draws its contact sheet (first band grey, next three as colour), and
/// the critical curves and caustics it draws on the first band's panel, if any.
#[derive(Clone, Copy, Debug)]
pub struct ContactSheet<'a> {
    /// The PNG file.
    pub path: &'a Path,
    /// The curves, arcsec ([`crate::caustics::all_critical_curves`]).
    pub curves: Option<&'a AllCurves>,
}

/// Checks and renders `spec` (read from `spec_path`, which names it in errors) for `survey`,
/// writes the one-system dataset to `out` and, if asked, a contact sheet to `png`. The ray
/// tracing is done by `renderer` (the GPU) when one is given, else by the CPU's
/// [`crate::raytrace::CpuBatchRenderer`]; PSF, noise and labels are the CPU's either way. Nothing is written if the spec, the survey or the options
/// are wrong, or if the renderer fails.
pub fn render_spec(
    spec: &SystemSpec,
    spec_path: &Path,
    survey: &Survey,
    opts: &RenderOptions,
    out: &Path,
    png: Option<ContactSheet>,
    renderer: Option<&dyn BatchRenderer>,
) -> Result<Rendered> {
    opts.validate()?;
    crate::dataset::refuse_folder(out, "--out")?;
    if let Some(sheet) = &png {
        crate::dataset::refuse_folder(sheet.path, "--png")?;
    }
    let system = spec.build(survey, spec_path)?;
    let observer = Observer::new(survey)?;
    let source_center = spec.source.light.first().map(|l| l.center());
    let curves = system_curves(&system, survey, opts);
    let renderer = renderer.unwrap_or(&crate::raytrace::CpuBatchRenderer);
    let psfs = opts.psf.then(|| observer.psf_taps());
    let DeviceRendered {
        mut images,
        mut n_images,
    } = render_on_device(
        renderer,
        &[&system],
        &[source_center],
        survey,
        opts.supersample,
        psfs.as_deref(),
    )?;
    let rendered = observe_system(
        &system,
        images.remove(0),
        source_center,
        n_images.remove(0),
        survey,
        &observer,
        opts,
        0,
        curves,
    );
    rendered.check_finite(spec_path)?;
    let config = toml::to_string(&RenderConfig {
        render: opts,
        survey,
        spec,
    })
    .map_err(|e| Error::Parse {
        file: spec_path.into(),
        message: format!("cannot record the configuration: {e}"),
    })?;
    let images: Vec<(String, ndarray::Array3<f32>)> = rendered
        .observed
        .iter()
        .map(|o| (o.band.clone(), single(o.image.view())))
        .collect();
    let attrs = Attributes {
        survey: survey.name.clone(),
        seed: opts.seed,
        config,
        first_index: 0,
        n_total: 1,
    };
    let labels = LabelColumn {
        is_lens: vec![u8::from(rendered.labels.is_lens)],
        criteria: &survey.labels,
        detection_band: &survey.bands[rendered.labels.detection_band].name,
    };
    write_dataset(
        out,
        &attrs,
        &images,
        &catalog(spec, &system, &rendered, survey, 0, 0),
        &labels,
    )?;
    if let Some(sheet) = png {
        let shown: Vec<&Array2<f32>> = rendered.observed.iter().map(|o| &o.image).collect();
        let curves = sheet.curves.map(|c| (c, survey.bands[0].pixel_scale));
        crate::preview::write_contact_sheet(sheet.path, &shown, curves)?;
    }
    Ok(rendered)
}
