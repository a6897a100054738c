//! One system from its index: drawn from the population, rendered, observed, catalogued and
//! labelled, each block's systems in parallel and then stacked for the writer.

use std::path::Path;
use std::sync::atomic::Ordering;

use ndarray::{Array3, Axis};
use rayon::prelude::*;

use crate::dataset::chunks::{filter_image, Chunk};
use crate::dataset::hdf5::Column;
use crate::error::{Error, Result};
use crate::observe::{Observer, Survey};
use crate::population::{Population, Sampled};
use crate::render::{
    catalog, observe_system, render_on_device, DeviceRendered, RenderOptions, SystemImages,
};

use super::timing::timed;
use super::StageTimes;

/// One system's images (survey band order), catalogue row and label.
pub struct SystemRecord {
    /// Observed images, e⁻/s per pixel (empty when they were compressed into `chunks`).
    pub images: Vec<ndarray::Array2<f32>>,
    /// The observed images as the HDF5 file's filtered chunks, one per band (when the run
    /// writes HDF5: compressed on the worker thread that made them).
    pub chunks: Vec<Chunk>,
    /// Catalogue columns of length 1.
    pub catalog: Vec<(String, Column)>,
    /// 1 for a lens.
    pub is_lens: u8,
}

/// System `index` of the run drawn from the population and built, before ray tracing.
pub(super) struct Drawn {
    index: u64,
    spec: crate::spec::SystemSpec,
    truth: crate::population::Truth,
    curves: Option<crate::caustics::CriticalCurves>,
    system: crate::raytrace::System,
    /// What errors about this system name: the population and the system's index.
    origin: String,
}

pub(super) fn draw(
    population: &Population,
    survey: &Survey,
    opts: &RenderOptions,
    index: u64,
    timing: Option<&StageTimes>,
) -> Result<Drawn> {
    timed(
        timing,
        |t| &t.draw,
        || draw_untimed(population, survey, opts, index),
    )
}

pub(super) fn draw_untimed(
    population: &Population,
    survey: &Survey,
    opts: &RenderOptions,
    index: u64,
) -> Result<Drawn> {
    let Sampled {
        spec,
        truth,
        curves,
    } = population.sample(opts.seed, index);
    let origin = format!("population `{}`, system {index}", population.config.name);
    let system = spec.build(survey, Path::new(&origin))?;
    Ok(Drawn {
        index,
        spec,
        truth,
        curves,
        system,
        origin,
    })
}

/// Observes, labels and catalogues a drawn system, ray-traced here on the CPU or, when
/// `images` are given, from those (a batch renderer's, PSF-convolved there or not).
pub(super) fn record(
    drawn: Drawn,
    images: Option<SystemImages>,
    n_images: Option<u32>,
    ctx: &Context,
) -> Result<SystemRecord> {
    let Context {
        survey,
        observer,
        opts,
        compress,
        timing,
        ..
    } = *ctx;
    // With the noise left to the block (a device's), observed here without it and compressed
    // after it.
    let observed_opts = RenderOptions {
        noise: opts.noise && !ctx.defer_noise,
        ..*opts
    };
    let (opts, compress) = (&observed_opts, compress && !ctx.defer_noise);
    let Drawn {
        index,
        spec,
        truth,
        curves,
        system,
        origin,
    } = drawn;
    let source_center = spec.source.light.first().map(|l| l.center());
    let images = images.unwrap_or_else(|| {
        SystemImages::Ideal(timed(
            timing,
            |t| &t.render,
            || crate::raytrace::render(&system, &survey.band_grids(), opts.supersample),
        ))
    });
    let rendered = timed(
        timing,
        |t| &t.observe,
        || {
            observe_system(
                &system,
                images,
                source_center,
                n_images,
                survey,
                observer,
                opts,
                index,
                curves,
            )
        },
    );
    let catalog_start = timing.map(|_| std::time::Instant::now());
    rendered.check_finite(Path::new(&origin))?;
    let mut cols = catalog(
        &spec,
        &system,
        &rendered,
        survey,
        index as i64,
        truth.n_neighbours as usize,
    );
    cols.extend(truth_columns(&truth));
    if let (Some(t), Some(start)) = (timing, catalog_start) {
        t.catalog
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
    let mut images: Vec<ndarray::Array2<f32>> =
        rendered.observed.into_iter().map(|o| o.image).collect();
    let chunks = match compress {
        true => timed(
            timing,
            |t| &t.compress,
            || {
                std::mem::take(&mut images)
                    .iter()
                    .map(|im| filter_image(im.view()))
                    .collect()
            },
        ),
        false => Vec::new(),
    };
    Ok(SystemRecord {
        images,
        chunks,
        catalog: cols,
        is_lens: u8::from(rendered.labels.is_lens),
    })
}

/// The catalogue columns (length 1) of what the population drew beside the spec: the lens's
/// velocity dispersion, halo and stellar masses, the half-light radii, the source's reference
/// magnitude and the number of neighbours.
pub fn truth_columns(truth: &crate::population::Truth) -> Vec<(String, Column)> {
    let f = |name: &str, v: f64| (name.to_string(), Column::F64(vec![v]));
    use format::dataset::columns;
    vec![
        f(columns::SIGMA_V, truth.sigma_v),
        f(columns::HALO_MASS, truth.halo_mass),
        f(columns::CONCENTRATION, truth.concentration),
        f(columns::STELLAR_MASS, truth.stellar_mass),
        f(columns::LENS_R_EFF, truth.lens_r_eff),
        f(columns::SOURCE_R_EFF, truth.source_r_eff),
        f(columns::SOURCE_MAG_REF, truth.source_mag_ref),
        (
            columns::N_NEIGHBOURS.to_string(),
            Column::I64(vec![truth.n_neighbours as i64]),
        ),
    ]
}

/// Simulates system `index` of the run: sample, ray-shoot, observe, label.
pub fn simulate(
    population: &Population,
    survey: &Survey,
    observer: &Observer,
    opts: &RenderOptions,
    index: u64,
) -> Result<SystemRecord> {
    let ctx = Context {
        population,
        survey,
        observer,
        opts,
        compress: false,
        timing: None,
        defer_noise: false,
    };
    simulate_in(&ctx, index)
}

/// What every system of a run is made with.
#[derive(Clone, Copy)]
pub(super) struct Context<'a> {
    pub(super) population: &'a Population,
    pub(super) survey: &'a Survey,
    pub(super) observer: &'a Observer,
    pub(super) opts: &'a RenderOptions,
    /// Compress each system's stamps into the file's chunks (HDF5 runs).
    pub(super) compress: bool,
    pub(super) timing: Option<&'a StageTimes>,
    /// Leave the noise out of each system's observation, to be added for the whole block
    /// ([`add_block_noise`]) and the stamps compressed after it.
    pub(super) defer_noise: bool,
}

pub(super) fn simulate_in(ctx: &Context, index: u64) -> Result<SystemRecord> {
    let drawn = draw(ctx.population, ctx.survey, ctx.opts, index, ctx.timing)?;
    record(drawn, None, None, ctx)
}

/// Systems `range` of the run, ray-traced one by one on the pool's CPU threads, or, with a
/// batch renderer, drawn on the threads, ray-traced together by the renderer and observed on
/// the threads again.
pub(super) fn simulate_block(
    ctx: &Context,
    range: std::ops::Range<u64>,
    renderer: Option<&dyn crate::raytrace::BatchRenderer>,
) -> Result<Vec<SystemRecord>> {
    let Some(renderer) = renderer else {
        return range.into_par_iter().map(|k| simulate_in(ctx, k)).collect();
    };
    let (survey, opts, timing) = (ctx.survey, ctx.opts, ctx.timing);
    let first = range.start;
    let drawn: Vec<Drawn> = range
        .into_par_iter()
        .map(|k| draw(ctx.population, survey, opts, k, timing))
        .collect::<Result<_>>()?;
    let systems: Vec<&crate::raytrace::System> = drawn.iter().map(|d| &d.system).collect();
    let centres: Vec<Option<[f64; 2]>> = drawn
        .iter()
        .map(|d| d.spec.source.light.first().map(|l| l.center()))
        .collect();
    // The PSF goes to the renderer where it convolves (the same floats as the CPU's).
    let psfs = opts.psf.then(|| ctx.observer.psf_taps());
    let DeviceRendered { images, n_images } = timed(
        timing,
        |t| &t.render,
        || {
            render_on_device(
                renderer,
                &systems,
                &centres,
                survey,
                opts.supersample,
                psfs.as_deref(),
            )
        },
    )?;
    // The block's noise is added band by band after every system is observed: by the
    // renderer's device where it draws noise, else on the CPU, the same numbers either way.
    let deferred = Context {
        defer_noise: opts.noise,
        ..*ctx
    };
    let mut records: Vec<SystemRecord> = drawn
        .into_par_iter()
        .zip(images)
        .zip(n_images)
        .map(|((d, im), n)| record(d, Some(im), n, &deferred))
        .collect::<Result<_>>()?;
    if deferred.defer_noise {
        add_block_noise(&mut records, first, ctx, renderer)?;
        if ctx.compress {
            // Timed system by system, as `record` times its compression.
            records.par_iter_mut().for_each(|r| {
                timed(
                    timing,
                    |t| &t.compress,
                    || {
                        r.chunks = r.images.iter().map(|im| filter_image(im.view())).collect();
                        r.images.clear();
                    },
                )
            });
        }
    }
    Ok(records)
}

/// Adds every band's noise to the observed images of `records`, systems `first` … of the run,
/// on `renderer`'s device where it draws noise (one call a band for the block), else on the CPU
/// image by image: what each system's observation would have added.
fn add_block_noise(
    records: &mut [SystemRecord],
    first: u64,
    ctx: &Context,
    renderer: &dyn crate::raytrace::BatchRenderer,
) -> Result<()> {
    let systems: Vec<u64> = (first..first + records.len() as u64).collect();
    let seed = ctx.opts.seed;
    for b in 0..ctx.survey.bands.len() {
        let model = ctx.observer.noise(b);
        let key = |system: u64| crate::observe::noise::NoiseKey {
            seed,
            system,
            band: b as u32,
        };
        let pixels = records.first().map_or(0, |r| r.images[b].len());
        let mut on_device = crate::observe::noise::NoiseBlock {
            images: records
                .iter_mut()
                .map(|r| r.images[b].as_slice_mut().expect("a standard-layout image"))
                .collect(),
            pixels,
            systems: &systems,
            seed,
            band: b as u32,
            model,
        };
        // Timed as `record` times the rest of the observation: the device's call as the host
        // waits for it, the CPU's image by image.
        let timing = ctx.timing;
        let drawn = timed(
            timing,
            |t| &t.observe,
            || renderer.add_noise(&mut on_device),
        );
        match drawn {
            None => records.par_iter_mut().zip(&systems).for_each(|(r, &s)| {
                timed(
                    timing,
                    |t| &t.observe,
                    || model.add_noise(&mut r.images[b], key(s)),
                )
            }),
            Some(Err(e)) => return Err(Error::Gpu(e)),
            Some(Ok(())) => {}
        }
    }
    Ok(())
}

/// A block of consecutive systems, ready to append: the images as arrays (for the challenge
/// layout) or, for HDF5, as the file's compressed chunks.
pub(super) struct Block {
    pub(super) images: Vec<Array3<f32>>,
    pub(super) chunks: Vec<Vec<Chunk>>,
    pub(super) catalog: Vec<(String, Column)>,
    pub(super) is_lens: Vec<u8>,
}

/// The block of `records`: their stamps stacked per band, or, when they were compressed, their
/// chunks gathered per band (moved, not copied).
pub(super) fn stack(mut records: Vec<SystemRecord>) -> Block {
    let n_bands = records.first().map_or(0, |r| r.images.len());
    let images = (0..n_bands)
        .map(|b| {
            let views: Vec<_> = records.iter().map(|r| r.images[b].view()).collect();
            ndarray::stack(Axis(0), &views).expect("every system has the band's stamp size")
        })
        .collect();
    let n_chunked = records.first().map_or(0, |r| r.chunks.len());
    let mut chunks: Vec<Vec<Chunk>> = (0..n_chunked)
        .map(|_| Vec::with_capacity(records.len()))
        .collect();
    for r in &mut records {
        for (band, c) in chunks.iter_mut().zip(r.chunks.drain(..)) {
            band.push(c);
        }
    }
    let mut catalog: Vec<(String, Column)> = Vec::new();
    let mut is_lens = Vec::with_capacity(records.len());
    for r in records {
        if catalog.is_empty() {
            catalog = r.catalog;
        } else {
            for ((_, acc), (_, c)) in catalog.iter_mut().zip(&r.catalog) {
                acc.extend(c);
            }
        }
        is_lens.push(r.is_lens);
    }
    Block {
        images,
        chunks,
        catalog,
        is_lens,
    }
}
